/* control: the multiplexer's forwarding (see ctl_mux.h): client -> venue with ID ownership
 * checks and local rejects, venue -> user by routing key with RefSeqNum rewritten into the
 * user's numbering, and the durable queue of messages for users that are offline.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_mux_pvt.h"

/* A body is appended to as "tag=value<SOH>" pieces; n tracks its length, and an overflow
 * leaves n at cap + 1 so the caller sees it. */
struct body {
	char *p;
	size_t n, cap;
};

static void put(struct body *b, uint32_t tag, const char *v, size_t len)
{
	char t[16];
	int tl = snprintf(t, sizeof(t), "%u=", tag);
	if (b->n + (size_t)tl + len + 1 > b->cap) {
		b->n = b->cap + 1;
		return;
	}
	memcpy(b->p + b->n, t, (size_t)tl);
	memcpy(b->p + b->n + tl, v, len);
	b->n += (size_t)tl + len;
	b->p[b->n++] = FIX_SOH;
}

static void put_s(struct body *b, uint32_t tag, const char *v)
{
	put(b, tag, v, strlen(v));
}

static void put_field(struct body *b, const struct fix_msg *m, uint32_t tag)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	if (f)
		put(b, tag, f->val, f->len);
}

static void put_u(struct body *b, uint32_t tag, uint64_t v)
{
	char s[24];
	int n = snprintf(s, sizeof(s), "%llu", (unsigned long long)v);
	put(b, tag, s, (size_t)n);
}

static const char *body_of(const struct fix_msg *m, size_t *len)
{
	*len = m->hdr.trailer_off - m->hdr.body_off;
	return m->buf + m->hdr.body_off;
}

/* True when msg is the message of the segment being handled (ctl_mux_*_segment), still where
 * it was received: from that connection or venue session, parsed from that very buffer (not
 * a copy the session queued while a gap filled, not a pending message). */
static bool zc_is(const struct ctl_mux *m, bool from_venue, uint32_t id,
		  const struct fix_msg *msg)
{
	return m->zc.buf != NULL && m->zc.from_venue == from_venue && m->zc.id == id &&
	       msg->buf == m->zc.buf && msg->len == m->zc.len;
}

/* ------------------------------------------------------------------------------------------
 * Client -> venue
 * ---------------------------------------------------------------------------------------- */

static int pend_push(struct mux_user *u, const char *type, const char *body, size_t len,
		     bool journal);

/* The answer a user gets when its message cannot go to the venue: the message-specific reject
 * where FIX has one, BusinessMessageReject otherwise. */
static void local_reject(struct mux_user *u, int64_t now, const struct fix_msg *msg,
			 const struct fix_field *id, const char *text)
{
	struct ctl_mux *m = u->mux;
	struct body b = {m->scratch, 0, sizeof(m->scratch)};
	const char *t = msg->hdr.msg_type;
	enum fix_version ver = m->cfg->users[u->user].ver;
	const char *type;
	if (!strcmp(t, "D")) {
		type = "8";
		char exec[64];
		/* Unique across restarts: the start time, then a counter. */
		snprintf(exec, sizeof(exec), "FIXMUX-REJ-%llx-%llu",
			 (unsigned long long)m->start_ns, (unsigned long long)++m->exec_seq);
		put_s(&b, 37, "NONE");
		if (id)
			put(&b, 11, id->val, id->len);
		put_s(&b, 17, exec);
		if (ver == FIX_VER_42)
			put_s(&b, 20, "0");
		put_s(&b, 150, "8");
		put_s(&b, 39, "8");
		put_field(&b, msg, 55);
		put_field(&b, msg, 54);
		if (ver != FIX_VER_42)
			put_s(&b, 151, "0");
		put_s(&b, 14, "0");
		put_s(&b, 6, "0");
		put_s(&b, 58, text);
	} else if (!strcmp(t, "F") || !strcmp(t, "G")) {
		type = "9";
		put_s(&b, 37, "NONE");
		if (id)
			put(&b, 11, id->val, id->len);
		put_field(&b, msg, 41);
		put_s(&b, 39, "8");
		put_s(&b, 434, t[0] == 'F' ? "1" : "2");
		put_s(&b, 58, text);
	} else if (!strcmp(t, "V")) {
		type = "Y";
		if (id)
			put(&b, 262, id->val, id->len);
		put_s(&b, 281, "1"); /* duplicate MDReqID */
		put_s(&b, 58, text);
	} else {
		type = "j";
		put_u(&b, 45, msg->hdr.seq);
		put(&b, 372, t, strlen(t));
		if (id)
			put(&b, 379, id->val, id->len);
		put_s(&b, 380, "0");
		put_s(&b, 58, text);
	}
	if (b.n > b.cap)
		return;
	if (ctl_session_send_app(u->s, now, type, NULL, 0, b.p, b.n) != 0)
		return;
	/* The user's session is logging out (its venue just failed) but took the message in:
	 * the answer waits for the user's next Logon, like any message for an offline user, so
	 * that every message taken from a user is either forwarded or answered. */
	if (pend_push(u, type, b.p, b.n, true) == 0)
		m->counters[CTL_MUX_PENDING_STORED]++;
	else
		mux_log(m, "user %s: pending queue full or journal error: reject of %s lost",
			m->cfg->users[u->user].name, t);
}

void mux_client_to_venue(struct mux_user *u, int64_t now, const struct fix_msg *msg)
{
	struct ctl_mux *m = u->mux;
	struct mux_venue *v = &m->venues[u->vs];
	m->counters[CTL_MUX_CLIENT_MSGS_IN]++;
	enum ctl_key_kind kind;
	const struct fix_field *id = NULL;
	bool has_key = ctl_route_client_key(msg, &kind, &id);
	if (v->st != CTL_VS_UP) {
		/* Users are only logged on while their venue is up; this is the venue going down
		 * between the two. Never forwarded later: the user is told now. */
		local_reject(u, now, msg, id, "venue session not available");
		return;
	}
	/* Back-pressure from the venue connection: refuse now rather than queue without bound
	 * (a venue that stops reading must not make fixmux drop the session for everyone). */
	if (m->io.venue_busy && m->io.venue_busy(m->io.arg, v->idx)) {
		m->counters[CTL_MUX_VENUE_BUSY]++;
		local_reject(u, now, msg, id, "venue session busy: not sent, try again");
		return;
	}
	/* Protect the shared venue session: the user's rate, the session's rate, then the rules.
	 * Whatever is refused here never reaches the venue and is answered to the sender. */
	if (!ctl_bucket_take(&u->bucket, now)) {
		m->counters[CTL_MUX_RATE_LIMITED]++;
		local_reject(u, now, msg, id, "rate limit exceeded for this user");
		return;
	}
	if (!ctl_bucket_take(&v->bucket, now)) {
		ctl_bucket_refund(&u->bucket);
		m->counters[CTL_MUX_RATE_LIMITED]++;
		local_reject(u, now, msg, id, "rate limit exceeded for this venue session");
		return;
	}
	/* Both scopes are scanned before deciding: alerts count only for forwarded messages. */
	const struct fix_filter *scopes[2] = {u->filter, v->filter};
	struct fix_filter_result fr[2];
	for (int k = 0; k < 2; k++) {
		fr[k].deny = -1;
		fr[k].n_alerts = 0;
		if (scopes[k] && fix_filter_scan(scopes[k], m->scratch_hs, msg, &fr[k]) != FIX_OK)
			fr[k].deny = -1, fr[k].n_alerts = 0;
		if (fr[k].deny >= 0) {
			char text[MUX_TEXT];
			snprintf(text, sizeof(text), "denied by filter rule %s",
				 fix_filter_rule_name(scopes[k], (uint32_t)fr[k].deny));
			m->counters[CTL_MUX_FILTER_DENIED]++;
			local_reject(u, now, msg, id, text);
			return;
		}
	}
	for (int k = 0; k < 2; k++) {
		for (uint32_t a = 0; a < fr[k].n_alerts && a < FIX_FILTER_MAX_ALERTS; a++) {
			m->counters[CTL_MUX_FILTER_ALERTS]++;
			mux_log(m, "user %s: %s seq %llu matched alert rule %s",
				m->cfg->users[u->user].name, msg->hdr.msg_type,
				(unsigned long long)msg->hdr.seq,
				fix_filter_rule_name(scopes[k], fr[k].alerts[a]));
		}
	}
	if (has_key) {
		uint16_t owner;
		enum ctl_claim c = ctl_route_claim(v->route, kind, id->val, id->len, (uint16_t)u->user,
						   &owner);
		if (c == CTL_CLAIM_OTHER || c == CTL_CLAIM_TOO_LONG) {
			m->counters[CTL_MUX_ID_CONFLICTS]++;
			local_reject(u, now, msg, id,
				     c == CTL_CLAIM_OTHER ? "ID in use by another user of this venue "
							    "session" :
							    "ID longer than fixmux keeps");
			return;
		}
		/* A PossResend(97=Y) of an ID this user already sent is a resend of a message the
		 * venue already has: forwarding it again would be forwarding a client message
		 * twice. Dropped, as FIX's PossResend rules leave it to the receiver. */
		const struct fix_field *pr = fix_find(msg, 97, 0);
		if (c == CTL_CLAIM_OWN && pr && pr->len == 1 && pr->val[0] == 'Y') {
			m->counters[CTL_MUX_POSSRESEND_DROPPED]++;
			mux_log(m, "user %s: PossResend %s seq %llu already forwarded: dropped",
				m->cfg->users[u->user].name, msg->hdr.msg_type,
				(unsigned long long)msg->hdr.seq);
			return;
		}
		if (c == CTL_CLAIM_NEW) {
			char rec[CTL_ROUTE_REC_MAX];
			size_t n = ctl_route_rec_claim(rec, kind, id->val, id->len, (uint16_t)u->user);
			mux_route_journal(v, rec, n);
		}
		/* A cancel or replace may only name the user's own order. */
		const struct fix_field *orig = kind == CTL_KEY_CLORDID ? fix_find(msg, 41, 0) : NULL;
		if (orig) {
			uint16_t o = ctl_route_lookup(v->route, CTL_KEY_CLORDID, orig->val, orig->len);
			if (o != CTL_ROUTE_NO_USER && o != u->user) {
				m->counters[CTL_MUX_ID_CONFLICTS]++;
				local_reject(u, now, msg, id, "OrigClOrdID belongs to another user");
				return;
			}
		}
	}
	/* An unsubscribe ends the MDReqID's ownership once the venue has it. */
	const struct fix_field *sub = has_key && kind == CTL_KEY_MDREQID ? fix_find(msg, 263, 0)
									  : NULL;
	bool unsubscribe = sub && sub->len == 1 && sub->val[0] == '2';
	/* In place when this is the segment's message; the venue session refuses (returns 0,
	 * bytes untouched) whenever the copy below might fail, so a failure is always seen on the
	 * copy path, where the header the local reject quotes is still intact. */
	char *out;
	size_t out_len;
	uint64_t vseq = 0;
	if (m->io.venue_send_inplace && u->conn >= 0 && zc_is(m, false, (uint32_t)u->conn, msg))
		vseq = ctl_session_forward_inplace(v->s, now, msg, NULL, 0, m->zc.headroom, &out,
						   &out_len);
	if (vseq != 0) {
		m->zc.buf = NULL; /* its header is gone: nothing may treat it as received bytes */
		m->counters[CTL_MUX_FORWARDED_INPLACE]++;
		m->io.venue_send_inplace(m->io.arg, v->idx, out, out_len);
	} else {
		size_t len;
		const char *body = body_of(msg, &len);
		vseq = ctl_session_send_app(v->s, now, msg->hdr.msg_type, NULL, 0, body, len);
		if (vseq == 0) {
			local_reject(u, now, msg, id, "venue session could not take the message");
			return;
		}
		m->counters[CTL_MUX_FORWARDED_COPIED]++;
	}
	m->counters[CTL_MUX_FORWARDED_TO_VENUE]++;
	ctl_route_note_sent(v->route, vseq, (uint16_t)u->user, msg->hdr.seq);
	char rec[CTL_ROUTE_REC_MAX];
	size_t n = ctl_route_rec_sent(rec, vseq, (uint16_t)u->user, msg->hdr.seq);
	mux_route_journal(v, rec, n);
	if (unsubscribe) {
		ctl_route_release(v->route, kind, id->val, id->len);
		n = ctl_route_rec_release(rec, kind, id->val, id->len);
		mux_route_journal(v, rec, n);
	}
}

static int snapshot_rec(void *arg, const char *rec, size_t len)
{
	struct mux_venue *v = arg;
	v->snap_records++;
	return ctl_journal_append_app(v->j, MUX_REC_ROUTE, rec, len);
}

/* Every routing change is a record; the stream is compacted into a snapshot of the table
 * (checkpoint, snapshot, drop the older segments) once it holds many more records than the
 * table has entries. A crash in between replays the old records and then the snapshot, which
 * starts with a CLEAR: the result is the same table. */
void mux_route_journal(struct mux_venue *v, const char *rec, size_t len)
{
	struct ctl_mux *m = v->mux;
	if (ctl_journal_append_app(v->j, MUX_REC_ROUTE, rec, len) != 0) {
		m->counters[CTL_MUX_JOURNAL_ERRORS]++;
		mux_log(m, "venue %s: journal: %s", m->cfg->sessions[v->idx].name,
			ctl_journal_error(v->j));
	}
	/* Amortised: a snapshot is written only after more records than it holds. */
	if (++v->route_records < m->route_compact_every + v->snap_records)
		return;
	uint64_t segno;
	v->snap_records = 0;
	if (ctl_journal_app_checkpoint(v->j, &segno) != 0 ||
	    ctl_route_snapshot(v->route, snapshot_rec, v) != 0 ||
	    ctl_journal_app_drop_before(v->j, segno) != 0) {
		m->counters[CTL_MUX_JOURNAL_ERRORS]++;
		mux_log(m, "venue %s: routing snapshot failed: %s", m->cfg->sessions[v->idx].name,
			ctl_journal_error(v->j));
	} else {
		m->counters[CTL_MUX_ROUTE_SNAPSHOTS]++;
	}
	v->route_records = 0;
}

/* ------------------------------------------------------------------------------------------
 * Venue -> user, and the pending queue
 * ---------------------------------------------------------------------------------------- */

static struct mux_user *link_of(struct mux_venue *v, uint16_t user)
{
	for (uint32_t i = 0; i < v->n_users; i++)
		if (v->users[i]->user == user)
			return v->users[i];
	return NULL;
}

/* Keeps a message for an offline user, durably (its journal's application stream). */
static int pend_push(struct mux_user *u, const char *type, const char *body, size_t len,
		     bool journal)
{
	if (u->pend_n == CTL_MUX_MAX_PENDING)
		return -1;
	if (journal) {
		char *rec = u->mux->scratch;
		size_t tl = strlen(type) + 1;
		if (tl + len > sizeof(u->mux->scratch))
			return -1;
		/* The body may already live in scratch (a rewritten one): move it first. */
		memmove(rec + tl, body, len);
		memcpy(rec, type, tl);
		if (ctl_journal_append_app(u->j, MUX_REC_PENDING, rec, tl + len) != 0)
			return -1;
		body = rec + tl;
	}
	if (!u->pend) {
		u->pend = calloc(CTL_MUX_MAX_PENDING, sizeof(*u->pend));
		if (!u->pend)
			return -1;
	}
	struct pending_msg *p = &u->pend[(u->pend_head + u->pend_n) % CTL_MUX_MAX_PENDING];
	p->body = malloc(len ? len : 1);
	if (!p->body)
		return -1;
	memcpy(p->body, body, len);
	p->len = len;
	snprintf(p->type, sizeof(p->type), "%s", type);
	u->pend_n++;
	return 0;
}

static void pend_pop(struct mux_user *u)
{
	struct pending_msg *p = &u->pend[u->pend_head];
	free(p->body);
	p->body = NULL;
	u->pend_head = (u->pend_head + 1) % CTL_MUX_MAX_PENDING;
	u->pend_n--;
	u->pend_base++;
}

void mux_free_pending(struct mux_user *u)
{
	while (u->pend && u->pend_n)
		pend_pop(u);
	free(u->pend);
	u->pend = NULL;
}

static void put_le64(char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
}

static uint64_t get_le64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return v;
}

static int append_clear(struct mux_user *u)
{
	return ctl_journal_append_app(u->j, MUX_REC_CLEAR, "", 0);
}

void mux_deliver_pending(struct mux_user *u, int64_t now)
{
	while (u->pend_n > 0 && ctl_session_logged_on(u->s)) {
		struct pending_msg *p = &u->pend[u->pend_head];
		/* Record "pending #k goes out as user seq s" before sending: after a crash, #k was
		 * delivered exactly when the user journal holds s (the session journals before it
		 * sends), so it is neither lost nor sent twice. */
		char rec[16];
		put_le64(rec, u->pend_base);
		put_le64(rec + 8, ctl_session_next_out(u->s));
		if (ctl_journal_append_app(u->j, MUX_REC_DELIVER, rec, sizeof(rec)) != 0) {
			/* Without the record a crash could repeat the message: keep it queued. */
			u->mux->counters[CTL_MUX_JOURNAL_ERRORS]++;
			mux_log(u->mux, "user %s: journal: %s", u->mux->cfg->users[u->user].name,
				ctl_journal_error(u->j));
			return;
		}
		if (ctl_session_send_app(u->s, now, p->type, NULL, 0, p->body, p->len) == 0)
			return;
		u->mux->counters[CTL_MUX_PENDING_DELIVERED]++;
		pend_pop(u);
	}
	if (u->pend_n == 0) {
		/* Everything delivered: start a fresh application segment so the stream does not
		 * grow with every offline period. */
		uint64_t segno;
		if (u->pend_base > 0 && ctl_journal_app_checkpoint(u->j, &segno) == 0) {
			/* Numbering restarts with the new segment; the CLEAR record makes a replay
			 * that still sees the old segments (a crash before the drop) right too. */
			if (append_clear(u) == 0)
				ctl_journal_app_drop_before(u->j, segno);
			u->pend_base = 0;
		}
	}
}

void mux_venue_to_user(struct mux_venue *v, int64_t now, const struct fix_msg *msg)
{
	struct ctl_mux *m = v->mux;
	m->counters[CTL_MUX_VENUE_MSGS_IN]++;
	struct ctl_route_verdict rv;
	ctl_route_venue_msg(v->route, msg, v->dropcopy_user, &rv);
	const struct ctl_vsession_cfg *c = &m->cfg->sessions[v->idx];
	if (rv.user == CTL_ROUTE_NO_USER) {
		if (c->unroutable == CTL_UNROUTABLE_USER) {
			rv.user = (uint16_t)c->unroutable_user;
			m->counters[CTL_MUX_UNROUTABLE_TO_OWNER]++;
		} else {
			m->counters[CTL_MUX_UNROUTABLE_DROPPED]++;
			mux_log(m, "venue %s: unroutable %s (seq %llu) dropped", c->name,
				msg->hdr.msg_type, (unsigned long long)msg->hdr.seq);
			return;
		}
	}
	struct mux_user *u = link_of(v, rv.user);
	if (!u)
		return;
	size_t len;
	const char *body = body_of(msg, &len);
	if (rv.rewrite_refseq) {
		/* Same body with RefSeqNum(45) in the user's numbering. */
		struct body b = {m->scratch, 0, sizeof(m->scratch)};
		for (uint32_t i = (uint32_t)msg->hdr.n_header; i < msg->nfields; i++) {
			const struct fix_field *f = &msg->fields[i];
			if (f->tag == 10 || f->tag == 93 || f->tag == 89)
				break;
			if (f->tag == 45)
				put_u(&b, 45, rv.ref_user_seq);
			else
				put(&b, f->tag, f->val, f->len);
		}
		if (b.n > b.cap)
			return;
		body = b.p;
		len = b.n;
	}
	if (u->st == US_ONLINE && u->pend_n == 0 && ctl_session_logged_on(u->s)) {
		/* In place only with the body as received and a connection to send it on (the
		 * copy path's send goes nowhere without one, but still numbers and keeps it). */
		char *out;
		size_t out_len;
		if (!rv.rewrite_refseq && m->io.client_send_inplace && u->conn >= 0 &&
		    zc_is(m, true, v->idx, msg) &&
		    ctl_session_forward_inplace(u->s, now, msg, NULL, 0, m->zc.headroom, &out,
						&out_len) != 0) {
			m->zc.buf = NULL;
			m->counters[CTL_MUX_FORWARDED_TO_USER]++;
			m->counters[CTL_MUX_FORWARDED_INPLACE]++;
			m->io.client_send_inplace(m->io.arg, (uint32_t)u->conn, out, out_len);
			return;
		}
		if (ctl_session_send_app(u->s, now, msg->hdr.msg_type, NULL, 0, body, len) != 0) {
			m->counters[CTL_MUX_FORWARDED_TO_USER]++;
			m->counters[CTL_MUX_FORWARDED_COPIED]++;
			return;
		}
	}
	if (pend_push(u, msg->hdr.msg_type, body, len, true) == 0)
		m->counters[CTL_MUX_PENDING_STORED]++;
	else
		mux_log(m, "user %s: pending queue full or journal error: %s lost",
			m->cfg->users[u->user].name, msg->hdr.msg_type);
}

/* ------------------------------------------------------------------------------------------
 * Recovery
 * ---------------------------------------------------------------------------------------- */

struct recover_ctx {
	struct mux_user *u;
	uint64_t next_out;
	uint64_t n_records;         /* PENDING records seen */
	uint64_t delivered_upto;    /* PENDING records [0, delivered_upto) were delivered */
	int err;
};

static int recover_user_rec(void *arg, uint32_t type, const void *data, size_t len)
{
	struct recover_ctx *c = arg;
	const char *p = data;
	if (type == MUX_REC_PENDING) {
		const char *nul = memchr(p, '\0', len < 4 ? len : 4);
		if (!nul) {
			c->err = -1;
			return 1;
		}
		size_t tl = (size_t)(nul - p) + 1;
		if (pend_push(c->u, p, p + tl, len - tl, false) != 0) {
			c->err = -1;
			return 1;
		}
		c->n_records++;
	} else if (type == MUX_REC_CLEAR) {
		while (c->u->pend_n > 0)
			pend_pop(c->u);
		c->u->pend_base = 0;
		c->n_records = 0;
		c->delivered_upto = 0;
	} else if (type == MUX_REC_DELIVER && len == 16) {
		uint64_t k = get_le64(p), seq = get_le64(p + 8);
		/* The session journals a message before sending it: seq < next_out means sent. */
		if (seq < c->next_out && k + 1 > c->delivered_upto)
			c->delivered_upto = k + 1;
	}
	return 0;
}

int mux_recover_user(struct mux_user *u)
{
	uint64_t next_in;
	struct recover_ctx c = {.u = u};
	ctl_journal_get_seqs(u->j, &next_in, &c.next_out);
	ctl_journal_for_each_app(u->j, recover_user_rec, &c);
	if (c.err)
		return -1;
	/* Records are numbered from the last compaction: what was delivered goes. */
	u->pend_base = 0;
	while (u->pend_n > 0 && u->pend_base < c.delivered_upto)
		pend_pop(u);
	return 0;
}

static int recover_venue_rec(void *arg, uint32_t type, const void *data, size_t len)
{
	struct mux_venue *v = arg;
	if (type == MUX_REC_ROUTE && ctl_route_replay(v->route, data, len) != 0)
		return 1;
	return 0;
}

int mux_recover_venue(struct mux_venue *v)
{
	return ctl_journal_for_each_app(v->j, recover_venue_rec, v) == 0 ? 0 : -1;
}
