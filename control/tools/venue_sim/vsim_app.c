/* fixmux-venue-sim: the application layer. Delivered (in-sequence, validated) application
 * messages go to the echo or to the exchange; the exchange's executions are encoded for the
 * FIX version of each session that receives them (the owner, the drop copies). Everything is
 * sent through ctl_session_send_app, so it is journaled and resendable. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vsim_app.h"

const char *const vsim_counter_names[VSIM_C__COUNT] = {
	[VSIM_C_ORDERS] = "orders",
	[VSIM_C_FILLS] = "fills",
	[VSIM_C_CANCELS] = "cancels",
	[VSIM_C_REPLACES] = "replaces",
	[VSIM_C_REJECTS] = "rejects",
	[VSIM_C_CXL_REJECTS] = "cancel_rejects",
	[VSIM_C_MD_SNAPSHOTS] = "md_snapshots",
	[VSIM_C_MD_UPDATES] = "md_updates",
	[VSIM_C_MD_REJECTS] = "md_rejects",
	[VSIM_C_QUOTES] = "quotes",
	[VSIM_C_ECHOES] = "echoes",
	[VSIM_C_DROP_COPIES] = "drop_copies",
	[VSIM_C_RESENDS_SERVED] = "resend_requests_served",
	[VSIM_C_RESENT_MESSAGES] = "resent_messages",
	[VSIM_C_DISCONNECT_CANCELS] = "disconnect_cancels",
	[VSIM_C_LOGONS] = "logons",
	[VSIM_C_CONNECTIONS] = "connections",
	[VSIM_C_REFUSED_CONNECTIONS] = "refused_connections",
};

size_t vsim_fmt_time(int64_t ns, char *out, size_t cap)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;
	gmtime_r(&t, &tm);
	size_t n = strftime(out, cap, "%Y%m%d-%H:%M:%S", &tm);
	n += (size_t)snprintf(out + n, cap - n, ".%03d", (int)(ns / 1000000 % 1000));
	return n;
}

static void send_app(struct vsim_sim *sim, struct vsim_sess *ss, const char *type,
		     const struct vsim_body *b)
{
	if (b->overflow) {
		sim->log(sim, "%s: %s message too big, not sent", ss->cfg.theirs, type);
		return;
	}
	if (ctl_session_send_app(ss->s, sim->now, type, NULL, 0, b->b, b->n) == 0)
		sim->log(sim, "%s: %s not sent (not logged on)", ss->cfg.theirs, type);
}

/* ---------------------------------------------------------------------------------------------
 * Executions.
 * ------------------------------------------------------------------------------------------- */

static char exec_type(enum fix_version v, const struct vsim_exec *e)
{
	switch (e->type) {
	case VSIM_EX_NEW: return '0';
	case VSIM_EX_FILL:
		if (v == FIX_VER_42)
			return e->ord_status == '2' ? '2' : '1';
		return 'F';
	case VSIM_EX_CANCELED: return '4';
	case VSIM_EX_REPLACED: return '5';
	case VSIM_EX_REJECTED: return '8';
	}
	return '0';
}

static void encode_exec(struct vsim_sim *sim, enum fix_version v, const struct vsim_exec *e,
			struct vsim_body *b)
{
	const struct vsim_order *o = e->o;
	bool closed = e->type == VSIM_EX_CANCELED || e->type == VSIM_EX_REJECTED;
	int64_t cum = o != NULL ? o->cum : 0;
	int64_t qty = o != NULL ? o->qty : e->qty;
	int64_t leaves = closed || o == NULL ? 0 : qty - cum;
	char oid[48] = "NONE", t[40];
	if (o != NULL)
		vsim_order_id(o, oid, sizeof(oid));
	vsim_b_scaled(b, 6, o != NULL ? o->avg : 0);
	vsim_b_cstr(b, 11, e->clordid != NULL && e->clordid[0] != '\0' ? e->clordid : "NONE");
	vsim_b_scaled(b, 14, cum);
	vsim_b_cstr(b, 17, e->exec_id);
	if (v == FIX_VER_42)
		vsim_b_char(b, 20, '0');
	if (e->type == VSIM_EX_FILL) {
		vsim_b_scaled(b, 31, e->last_px);
		vsim_b_scaled(b, 32, e->last_qty);
	}
	vsim_b_cstr(b, 37, oid);
	if (qty > 0)
		vsim_b_scaled(b, 38, qty);
	vsim_b_char(b, 39, e->ord_status);
	if (o != NULL)
		vsim_b_char(b, 40, o->ord_type);
	if (e->orig_clordid != NULL)
		vsim_b_cstr(b, 41, e->orig_clordid);
	if (o != NULL && o->ord_type == '2')
		vsim_b_scaled(b, 44, o->price);
	vsim_b_char(b, 54, e->side);
	vsim_b_cstr(b, 55, e->symbol);
	if (e->text != NULL)
		vsim_b_cstr(b, 58, e->text);
	vsim_fmt_time(sim->now, t, sizeof(t));
	vsim_b_cstr(b, 60, t);
	vsim_b_char(b, 150, exec_type(v, e));
	vsim_b_scaled(b, 151, leaves);
}

static void backlog_push(struct vsim_sess *ds, const struct vsim_body *b)
{
	if (ds->backlog == NULL)
		ds->backlog = calloc(VSIM_BACKLOG, sizeof(*ds->backlog));
	if (ds->backlog == NULL || b->n > sizeof(ds->backlog[0].body)) {
		ds->bl_lost++;
		return;
	}
	if (ds->bl_n == VSIM_BACKLOG) {
		ds->bl_head = (ds->bl_head + 1) % VSIM_BACKLOG;
		ds->bl_n--;
		ds->bl_lost++;
	}
	struct vsim_backlog_msg *m = &ds->backlog[(ds->bl_head + ds->bl_n) % VSIM_BACKLOG];
	memcpy(m->body, b->b, b->n);
	m->len = (uint32_t)b->n;
	ds->bl_n++;
}

static void on_exec(void *arg, const struct vsim_exec *e)
{
	struct vsim_sim *sim = arg;
	if (sim->loading)
		return;
	struct vsim_sess *owner = &sim->sess[e->sess];
	if (e->route != VSIM_TO_COPIES) {
		struct vsim_body b = {.n = 0};
		encode_exec(sim, owner->cfg.ver, e, &b);
		send_app(sim, owner, "8", &b);
	}
	if (e->route == VSIM_TO_OWNER)
		return;
	for (int i = 0; i < sim->nsess; i++) {
		struct vsim_sess *ds = &sim->sess[i];
		if (!ds->cfg.drop_copy || i == e->sess)
			continue;
		struct vsim_body b = {.n = 0};
		encode_exec(sim, ds->cfg.ver, e, &b);
		sim->c[VSIM_C_DROP_COPIES]++;
		if (ctl_session_logged_on(ds->s) && ds->bl_n == 0)
			send_app(sim, ds, "8", &b);
		else
			backlog_push(ds, &b);
	}
}

static void on_cxl_reject(void *arg, int sess, const struct vsim_req *r, bool replace,
			  const struct vsim_order *o, const char *text)
{
	struct vsim_sim *sim = arg;
	struct vsim_sess *ss = &sim->sess[sess];
	struct vsim_body b = {.n = 0};
	char oid[48] = "NONE";
	if (o != NULL)
		vsim_order_id(o, oid, sizeof(oid));
	vsim_b_str(&b, 11, r->clordid, r->clordid_len);
	vsim_b_cstr(&b, 37, oid);
	/* OrdStatus of the order concerned; 8 (Rejected) when the venue does not know it. */
	vsim_b_char(&b, 39, o == NULL ? '8' : o->cum > 0 ? '1' : '0');
	vsim_b_str(&b, 41, r->orig, r->orig_len);
	vsim_b_cstr(&b, 58, text);
	vsim_b_char(&b, 102, o == NULL ? '1' : '2'); /* Unknown order / Broker-Exchange option */
	vsim_b_char(&b, 434, replace ? '2' : '1');
	send_app(sim, ss, "9", &b);
}

static int compact(struct vsim_sim *sim, struct vsim_sess *ss, char *err, size_t cap);

/* Persistence: the order's latest state goes to its session's journal. */
static void on_change(void *arg, const struct vsim_order *o)
{
	struct vsim_sim *sim = arg;
	if (sim->loading)
		return;
	struct vsim_sess *ss = &sim->sess[o->sess];
	if (ctl_journal_append_app(ss->j, VSIM_REC_ORDER, o, sizeof(*o)) != 0)
		sim->log(sim, "%s: journal: cannot record order: %s", ss->cfg.theirs,
			 ctl_journal_error(ss->j));
	/* The application stream is bounded (max_app_segments): a long run under load compacts
	 * it now and then, at a cost proportional to the orders still open. */
	char err[256];
	if (++ss->app_records >= VSIM_COMPACT_RECORDS && compact(sim, ss, err, sizeof(err)) != 0)
		sim->log(sim, "%s", err);
}

static int64_t on_mid(void *arg, const char *sym)
{
	struct vsim_sim *sim = arg;
	return vsim_feed_mid(&sim->feed, sym);
}

int vsim_app_init(struct vsim_sim *sim, int64_t now)
{
	sim->now = now;
	if (vsim_book_init(&sim->book, sim->cfg.seed, sim->cfg.fill_permille,
			   (uint64_t)(now / 1000000)) != 0)
		return -1;
	sim->book.on_exec = on_exec;
	sim->book.on_cxl_reject = on_cxl_reject;
	sim->book.on_change = on_change;
	sim->book.mid = on_mid;
	sim->book.arg = sim;
	vsim_feed_init(&sim->feed, sim->cfg.seed, sim->cfg.md_interval_ms, sim->cfg.md_rate);
	return 0;
}

void vsim_app_free(struct vsim_sim *sim)
{
	vsim_book_free(&sim->book);
	for (int i = 0; i < sim->nsess; i++) {
		free(sim->sess[i].seen);
		free(sim->sess[i].backlog);
		sim->sess[i].seen = NULL;
		sim->sess[i].backlog = NULL;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Persistence of open orders (application records of the session's journal).
 * ------------------------------------------------------------------------------------------- */

struct load_ctx {
	struct vsim_sim *sim;
	struct vsim_sess *ss;
};

static int load_rec(void *arg, uint32_t type, const void *data, size_t len)
{
	struct load_ctx *c = arg;
	struct vsim_book *bk = &c->sim->book;
	if (type == VSIM_REC_CLEAR) {
		vsim_book_clear_session(bk, c->ss->idx);
		return 0;
	}
	if (type != VSIM_REC_ORDER || len != sizeof(struct vsim_order))
		return 0; /* not ours (a newer format would be refused here) */
	struct vsim_order o;
	memcpy(&o, data, sizeof(o));
	o.sess = c->ss->idx; /* the index may differ from the run that wrote it */
	o.clordid[VSIM_ID_MAX - 1] = '\0';
	o.symbol[VSIM_SYM_MAX - 1] = '\0';
	if (vsim_book_restore(bk, &o) != 0)
		return -1;
	return 0;
}

/* Compaction: a new application segment holding only the session's live orders, then the
 * older segments go (a crash in between replays the old records, then the snapshot). */
static int compact(struct vsim_sim *sim, struct vsim_sess *ss, char *err, size_t cap)
{
	uint64_t segno;
	if (ctl_journal_app_checkpoint(ss->j, &segno) != 0 ||
	    ctl_journal_append_app(ss->j, VSIM_REC_CLEAR, "", 0) != 0) {
		snprintf(err, cap, "%s: journal checkpoint: %s", ss->cfg.theirs,
			 ctl_journal_error(ss->j));
		return -1;
	}
	struct vsim_book *bk = &sim->book;
	for (uint32_t i = 0; i < bk->n_used; i++) {
		const struct vsim_order *o = &bk->orders[i];
		if (o->state != VSIM_OS_FREE && o->sess == ss->idx &&
		    ctl_journal_append_app(ss->j, VSIM_REC_ORDER, o, sizeof(*o)) != 0) {
			snprintf(err, cap, "%s: journal snapshot: %s", ss->cfg.theirs,
				 ctl_journal_error(ss->j));
			return -1;
		}
	}
	if (ctl_journal_app_drop_before(ss->j, segno) != 0) {
		snprintf(err, cap, "%s: journal compaction: %s", ss->cfg.theirs,
			 ctl_journal_error(ss->j));
		return -1;
	}
	ss->app_records = 0;
	return 0;
}

int vsim_app_load(struct vsim_sim *sim, struct vsim_sess *ss, char *err, size_t cap)
{
	struct load_ctx c = {.sim = sim, .ss = ss};
	sim->loading = true;
	int rc = ctl_journal_for_each_app(ss->j, load_rec, &c);
	sim->loading = false;
	if (rc != 0) {
		snprintf(err, cap, "%s: replaying open orders failed", ss->cfg.theirs);
		return -1;
	}
	return compact(sim, ss, err, cap);
}

void vsim_app_after_load(struct vsim_sim *sim)
{
	vsim_book_reindex(&sim->book);
	for (int i = 0; i < sim->nsess; i++) {
		uint32_t n = vsim_book_cancel_session(&sim->book, i);
		sim->c[VSIM_C_DISCONNECT_CANCELS] += n;
		if (n > 0)
			sim->log(sim, "%s: %u orders left open by the previous run cancelled",
				 sim->sess[i].cfg.theirs, n);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Echo mode.
 * ------------------------------------------------------------------------------------------- */

static void echo(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m)
{
	const char *t = m->hdr.msg_type;
	if (strcmp(t, "D") != 0 && strcmp(t, "d") != 0) {
		ctl_session_business_reject(ss->s, sim->now, m, 3, "Unsupported Message Type");
		return;
	}
	const struct fix_field *id = fix_find(m, 11, 0);
	if (id != NULL && id->len < VSIM_ID_MAX) {
		bool seen = false;
		for (uint32_t i = 0; i < ss->nseen && !seen; i++)
			seen = strlen(ss->seen[i]) == id->len &&
			       memcmp(ss->seen[i], id->val, id->len) == 0;
		/* QuickFIX's acceptance application drops an order sent again with PossResend
		 * when it has processed its ClOrdID already (scenario 19a). */
		if (seen && m->hdr.poss_resend)
			return;
		if (!seen) {
			if (ss->seen == NULL)
				ss->seen = calloc(VSIM_ECHO_SEEN, VSIM_ID_MAX);
			if (ss->seen != NULL) {
				uint32_t k = ss->nseen < VSIM_ECHO_SEEN ? ss->nseen++
									: ss->nseen % VSIM_ECHO_SEEN;
				memcpy(ss->seen[k], id->val, id->len);
				ss->seen[k][id->len] = '\0';
			}
		}
	}
	struct fix_field extra[16];
	size_t ne = 16;
	static struct vsim_body b;
	b.n = 0;
	b.overflow = false;
	vsim_echo_body(m, fix_dict_get(ss->cfg.ver), &b, extra, &ne);
	if (b.overflow) {
		sim->log(sim, "%s: echo too big, not sent", ss->cfg.theirs);
		return;
	}
	if (ctl_session_send_app(ss->s, sim->now, t, extra, ne, b.b, b.n) != 0)
		sim->c[VSIM_C_ECHOES]++;
}

/* ---------------------------------------------------------------------------------------------
 * Exchange mode.
 * ------------------------------------------------------------------------------------------- */

static void req_from(const struct fix_msg *m, struct vsim_req *r)
{
	memset(r, 0, sizeof(*r));
	const struct fix_field *f;
	if ((f = fix_find(m, 11, 0)) != NULL) {
		r->clordid = f->val;
		r->clordid_len = f->len;
	}
	if ((f = fix_find(m, 41, 0)) != NULL) {
		r->orig = f->val;
		r->orig_len = f->len;
	}
	if ((f = fix_find(m, 55, 0)) != NULL) {
		r->symbol = f->val;
		r->symbol_len = f->len;
	}
	if ((f = fix_find(m, 54, 0)) != NULL && f->len == 1)
		r->side = f->val[0];
	if ((f = fix_find(m, 40, 0)) != NULL && f->len == 1)
		r->ord_type = f->val[0];
	if ((f = fix_find(m, 38, 0)) != NULL) {
		r->has_qty = true;
		r->bad_number |= vsim_parse_scaled(f->val, f->len, &r->qty) != 0;
	}
	if ((f = fix_find(m, 44, 0)) != NULL) {
		r->has_price = true;
		r->bad_number |= vsim_parse_scaled(f->val, f->len, &r->price) != 0;
	}
}

/* stamp: MDEntryTime(273) of a stamped increment (NULL: none). A user-defined tag would be
 * refused by a receiver validating against the standard dictionary (fixmux's venue session
 * does); MDEntryTime is in every version's MDIncGrp and UTCTimeOnly takes 9 decimals. */
static void md_entries_x(struct vsim_sim *sim, struct vsim_body *b, const char *sym,
			 const char *stamp)
{
	int64_t mid = vsim_feed_step(&sim->feed, sym), h = vsim_feed_half_spread(mid);
	for (int side = 0; side < 2; side++) {
		vsim_b_char(b, 279, '1');
		vsim_b_char(b, 269, side == 0 ? '0' : '1');
		vsim_b_cstr(b, 55, sym);
		vsim_b_scaled(b, 270, side == 0 ? mid - h : mid + h);
		vsim_b_uint(b, 271, 1000000);
		if (stamp != NULL)
			vsim_b_cstr(b, 273, stamp);
	}
}

static void md_snapshot(struct vsim_sim *sim, struct vsim_sess *ss, const char *id, size_t idlen,
			const char *sym)
{
	struct vsim_body b = {.n = 0};
	int64_t mid = vsim_feed_mid(&sim->feed, sym), h = vsim_feed_half_spread(mid);
	vsim_b_cstr(&b, 55, sym);
	vsim_b_str(&b, 262, id, idlen);
	if (ss->cfg.ver == FIX_VER_T11) { /* FIX 5.0 SP2 requires LastUpdateTime here */
		char t[40];
		vsim_fmt_time(sim->now, t, sizeof(t));
		vsim_b_cstr(&b, 779, t);
	}
	vsim_b_uint(&b, 268, 2);
	for (int side = 0; side < 2; side++) {
		vsim_b_char(&b, 269, side == 0 ? '0' : '1');
		vsim_b_scaled(&b, 270, side == 0 ? mid - h : mid + h);
		vsim_b_uint(&b, 271, 1000000);
	}
	send_app(sim, ss, "W", &b);
	sim->c[VSIM_C_MD_SNAPSHOTS]++;
}

static void md_reject(struct vsim_sim *sim, struct vsim_sess *ss, const char *id, size_t idlen,
		      char reason, const char *text)
{
	struct vsim_body b = {.n = 0};
	vsim_b_str(&b, 262, id, idlen);
	if (reason != 0)
		vsim_b_char(&b, 281, reason);
	vsim_b_cstr(&b, 58, text);
	send_app(sim, ss, "Y", &b);
	sim->c[VSIM_C_MD_REJECTS]++;
}

static void market_data_request(struct vsim_sim *sim, struct vsim_sess *ss,
				const struct fix_msg *m)
{
	const struct fix_field *id = fix_find(m, 262, 0);
	const struct fix_field *srt = fix_find(m, 263, 0);
	if (id == NULL || srt == NULL || srt->len != 1)
		return; /* the session's validation requires both */
	struct vsim_sub *sub = vsim_feed_find_sub(&sim->feed, ss->idx, id->val, id->len);
	char kind = srt->val[0];
	if (kind == '2') {
		if (sub == NULL) {
			md_reject(sim, ss, id->val, id->len, 0, "unknown MDReqID");
			return;
		}
		sub->used = false;
		return;
	}
	if (sub != NULL) {
		md_reject(sim, ss, id->val, id->len, '1', "duplicate MDReqID");
		return;
	}
	const char *syms[VSIM_MAX_SUB_SYMS];
	size_t lens[VSIM_MAX_SUB_SYMS];
	int nsym = 0;
	for (const struct fix_field *f = fix_find(m, 55, 0); f != NULL && nsym < VSIM_MAX_SUB_SYMS;
	     f = fix_find(m, 55, (uint32_t)(f - m->fields) + 1)) {
		if (f->len == 0 || f->len >= VSIM_SYM_MAX) {
			md_reject(sim, ss, id->val, id->len, '0', "unknown symbol");
			return;
		}
		syms[nsym] = f->val;
		lens[nsym++] = f->len;
	}
	if (kind == '1') {
		sub = vsim_feed_add_sub(&sim->feed, ss->idx, id->val, id->len, sim->now);
		if (sub == NULL) {
			md_reject(sim, ss, id->val, id->len, '2', "too many subscriptions");
			return;
		}
	}
	for (int i = 0; i < nsym; i++) {
		char sym[VSIM_SYM_MAX];
		memcpy(sym, syms[i], lens[i]);
		sym[lens[i]] = '\0';
		if (sub != NULL)
			memcpy(sub->sym[sub->nsym++], sym, lens[i] + 1);
		md_snapshot(sim, ss, id->val, id->len, sym);
	}
}

static void send_quote(struct vsim_sim *sim, struct vsim_sess *ss, struct vsim_qstream *q)
{
	int64_t mid = vsim_feed_step(&sim->feed, q->sym), h = vsim_feed_half_spread(mid);
	snprintf(q->last_quote_id, sizeof(q->last_quote_id), "Q%llu",
		 (unsigned long long)++sim->feed.quote_seq);
	struct vsim_body b = {.n = 0};
	if (q->qty > 0 && ss->cfg.ver != FIX_VER_42) /* FIX.4.2's Quote has no OrderQty */
		vsim_b_scaled(&b, 38, q->qty);
	vsim_b_cstr(&b, 55, q->sym);
	vsim_b_cstr(&b, 117, q->last_quote_id);
	vsim_b_cstr(&b, 131, q->req_id);
	vsim_b_scaled(&b, 132, mid - h);
	vsim_b_scaled(&b, 133, mid + h);
	vsim_b_scaled(&b, 134, q->qty > 0 ? q->qty : VSIM_SCALE);
	vsim_b_scaled(&b, 135, q->qty > 0 ? q->qty : VSIM_SCALE);
	send_app(sim, ss, "S", &b);
	q->n++;
	sim->c[VSIM_C_QUOTES]++;
}

static void quote_request(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m)
{
	const struct fix_field *id = fix_find(m, 131, 0);
	const struct fix_field *sym = fix_find(m, 55, 0);
	if (id == NULL || sym == NULL)
		return;
	if (vsim_feed_find_quote(&sim->feed, ss->idx, id->val, id->len, NULL, 0) != NULL) {
		ctl_session_business_reject(ss->s, sim->now, m, 0, "duplicate QuoteReqID");
		return;
	}
	if (sym->len == 0 || sym->len >= VSIM_SYM_MAX) {
		ctl_session_business_reject(ss->s, sim->now, m, 2, "unknown symbol");
		return;
	}
	struct vsim_qstream *q = vsim_feed_add_quote(&sim->feed, ss->idx, id->val, id->len,
						     sim->now);
	if (q == NULL) {
		ctl_session_business_reject(ss->s, sim->now, m, 0, "too many quote streams");
		return;
	}
	memcpy(q->sym, sym->val, sym->len);
	q->sym[sym->len] = '\0';
	const struct fix_field *f = fix_find(m, 38, 0);
	if (f == NULL || vsim_parse_scaled(f->val, f->len, &q->qty) != 0 || q->qty < 0)
		q->qty = 0;
	int64_t exp;
	f = fix_find(m, 126, 0);
	if (f != NULL && fix_get_utc_timestamp(f->val, f->len, &exp) == FIX_OK)
		q->expire_ns = exp;
	send_quote(sim, ss, q);
	q->next_ns = sim->now + sim->feed.interval_ns;
}

static void quote_cancel(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m)
{
	const struct fix_field *rq = fix_find(m, 131, 0);
	const struct fix_field *qi = fix_find(m, 117, 0);
	struct vsim_qstream *q = vsim_feed_find_quote(
		&sim->feed, ss->idx, rq != NULL ? rq->val : NULL, rq != NULL ? rq->len : 0,
		qi != NULL ? qi->val : NULL, qi != NULL ? qi->len : 0);
	if (q == NULL) {
		ctl_session_business_reject(ss->s, sim->now, m, 0, "unknown quote");
		return;
	}
	q->used = false;
}

static void exchange(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m)
{
	const char *t = m->hdr.msg_type;
	struct vsim_req r;
	if (ss->cfg.drop_copy) {
		ctl_session_business_reject(ss->s, sim->now, m, 3, "drop copy session: receive only");
		return;
	}
	if (strcmp(t, "D") == 0) {
		req_from(m, &r);
		vsim_book_new_order(&sim->book, ss->idx, &r);
	} else if (strcmp(t, "F") == 0) {
		req_from(m, &r);
		vsim_book_cancel(&sim->book, ss->idx, &r);
	} else if (strcmp(t, "G") == 0) {
		req_from(m, &r);
		vsim_book_replace(&sim->book, ss->idx, &r);
	} else if (strcmp(t, "V") == 0) {
		market_data_request(sim, ss, m);
	} else if (strcmp(t, "R") == 0) {
		quote_request(sim, ss, m);
	} else if (strcmp(t, "Z") == 0) {
		quote_cancel(sim, ss, m);
	} else {
		ctl_session_business_reject(ss->s, sim->now, m, 3, "Unsupported Message Type");
	}
}

void vsim_app_deliver(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m)
{
	if (sim->cfg.mode == VSIM_ECHO)
		echo(sim, ss, m);
	else
		exchange(sim, ss, m);
}

void vsim_app_logged_on(struct vsim_sim *sim, struct vsim_sess *ss)
{
	sim->c[VSIM_C_LOGONS]++;
	ss->nseen = 0;
	if (sim->cfg.mode != VSIM_EXCHANGE)
		return;
	uint32_t n = vsim_book_report_pending(&sim->book, ss->idx);
	if (n > 0)
		sim->log(sim, "%s: %u cancel-on-disconnect reports sent", ss->cfg.theirs, n);
	while (ss->bl_n > 0 && ctl_session_logged_on(ss->s)) {
		struct vsim_backlog_msg *bm = &ss->backlog[ss->bl_head];
		if (ctl_session_send_app(ss->s, sim->now, "8", NULL, 0, bm->body, bm->len) == 0)
			break;
		ss->bl_head = (ss->bl_head + 1) % VSIM_BACKLOG;
		ss->bl_n--;
	}
}

void vsim_app_logged_out(struct vsim_sim *sim, struct vsim_sess *ss)
{
	vsim_feed_drop_session(&sim->feed, ss->idx);
	if (sim->cfg.mode != VSIM_EXCHANGE)
		return;
	/* FX venues cancel every open order of a session whose connection is gone. */
	uint32_t n = vsim_book_cancel_session(&sim->book, ss->idx);
	sim->c[VSIM_C_DISCONNECT_CANCELS] += n;
	if (n > 0)
		sim->log(sim, "%s: %u open orders cancelled on disconnect", ss->cfg.theirs, n);
}

void vsim_app_tick(struct vsim_sim *sim)
{
	struct vsim_feed *f = &sim->feed;
	for (int i = 0; i < VSIM_MAX_SUBS; i++) {
		struct vsim_sub *s = &f->subs[i];
		if (!s->used || s->next_ns > sim->now)
			continue;
		struct vsim_sess *ss = &sim->sess[s->sess];
		int64_t due;
		/* A late stamped schedule catches up 64 increments per pass at most, so the
		 * sockets are served in between. */
		uint32_t n = vsim_feed_due(f, s, sim->now, 64, &due);
		for (uint32_t k = 0; k < n && s->nsym > 0; k++, due += f->interval_ns) {
			char stamp[32];
			if (f->stamped)
				vsim_fmt_time_of_day_ns(due, stamp, sizeof(stamp));
			struct vsim_body b = {.n = 0};
			vsim_b_cstr(&b, 262, s->id);
			vsim_b_uint(&b, 268, 2 * (uint64_t)s->nsym);
			for (int j = 0; j < s->nsym; j++)
				md_entries_x(sim, &b, s->sym[j], f->stamped ? stamp : NULL);
			send_app(sim, ss, "X", &b);
			sim->c[VSIM_C_MD_UPDATES]++;
		}
	}
	for (int i = 0; i < VSIM_MAX_QUOTES; i++) {
		struct vsim_qstream *q = &f->quotes[i];
		if (!q->used)
			continue;
		if (q->expire_ns <= sim->now) {
			q->used = false;
			continue;
		}
		if (q->next_ns > sim->now)
			continue;
		send_quote(sim, &sim->sess[q->sess], q);
		q->next_ns = sim->now + f->interval_ns;
	}
}

int64_t vsim_app_next_due(const struct vsim_sim *sim)
{
	int64_t due = INT64_MAX;
	for (int i = 0; i < VSIM_MAX_SUBS; i++)
		if (sim->feed.subs[i].used && sim->feed.subs[i].next_ns < due)
			due = sim->feed.subs[i].next_ns;
	for (int i = 0; i < VSIM_MAX_QUOTES; i++)
		if (sim->feed.quotes[i].used && sim->feed.quotes[i].next_ns < due)
			due = sim->feed.quotes[i].next_ns;
	return due;
}

void vsim_app_counters(struct vsim_sim *sim)
{
	const struct vsim_book *bk = &sim->book;
	sim->c[VSIM_C_ORDERS] = bk->n_orders;
	sim->c[VSIM_C_FILLS] = bk->n_fills;
	sim->c[VSIM_C_CANCELS] = bk->n_cancels;
	sim->c[VSIM_C_REPLACES] = bk->n_replaces;
	sim->c[VSIM_C_REJECTS] = bk->n_rejects;
	sim->c[VSIM_C_CXL_REJECTS] = bk->n_cxl_rejects;
}
