/* control: the FIX session state machine: connection events, inbound messages and timers.
 * The states and the rules, with the acceptance scenario that covers each, are in
 * docs/session.md. The order of the checks on an inbound message follows QuickFIX's (whose
 * acceptance scenarios are the conformance suite): framing, header presence, BeginString,
 * dictionary validation, then per MsgType the SendingTime, CompID and sequence checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_session_pvt.h"

#define NO_REF INT64_MIN

static void process(struct ctl_session *s, int64_t now, const struct fix_msg *m, int perr,
		    bool queued);

/* Dictionary validation of an inbound message whose parse errors have already been answered
 * (so as FIX_OK), with the session's options. */
static void validate(const struct ctl_session *s, const struct fix_msg *m, struct fix_verdict *v)
{
	const struct fix_validate_opts o = {.allow_user_tags = s->cfg.allow_user_defined};
	fix_validate_parsed(s->dict, m, FIX_OK, &o, v);
}

void ctl_session_cfg_init(struct ctl_session_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->role = CTL_ROLE_ACCEPTOR;
	cfg->ver = FIX_VER_44;
	cfg->heartbeat_s = 30;
	cfg->test_request_pct = 120;
	cfg->timeout_pct = 240;
	cfg->sending_time_tolerance_s = 120;
	cfg->logon_timeout_s = 10;
	cfg->logout_timeout_s = 2;
	cfg->default_appl_ver_id = "9";
	cfg->resend_batch = 256;
	cfg->max_queue = 64;
	cfg->max_msg = 8192;
	cfg->max_fields = 512;
}

static int copy_str(char *dst, size_t cap, const char *src, bool required)
{
	size_t n = src != NULL ? strlen(src) : 0;
	if ((required && n == 0) || n >= cap)
		return -1;
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
	return 0;
}

struct ctl_session *ctl_session_create(const struct ctl_session_cfg *cfg,
				       const struct ctl_session_io *io, struct ctl_store store,
				       char *err, size_t err_cap)
{
	const char *why = NULL;
	if (fix_version_str(cfg->ver) == NULL)
		why = "unknown FIX version";
	else if (io == NULL || io->send == NULL || io->disconnect == NULL || io->deliver == NULL)
		why = "send, deliver and disconnect callbacks are required";
	else if (store.ops == NULL)
		why = "a store is required";
	else if (cfg->max_msg < 256 || cfg->max_fields < 16 || cfg->resend_batch == 0)
		why = "max_msg, max_fields or resend_batch too small";
	if (why != NULL) {
		snprintf(err, err_cap, "session: %s", why);
		return NULL;
	}
	struct ctl_session *s = calloc(1, sizeof(*s));
	if (s == NULL) {
		snprintf(err, err_cap, "session: out of memory");
		return NULL;
	}
	s->cfg = *cfg;
	s->io = *io;
	s->store = store;
	if (copy_str(s->sender, sizeof(s->sender), cfg->sender_comp_id, true) != 0 ||
	    copy_str(s->target, sizeof(s->target), cfg->target_comp_id, true) != 0 ||
	    copy_str(s->appl_ver, sizeof(s->appl_ver), cfg->default_appl_ver_id,
		     cfg->ver == FIX_VER_T11) != 0 ||
	    copy_str(s->user, sizeof(s->user), cfg->username, false) != 0 ||
	    copy_str(s->pass, sizeof(s->pass), cfg->password, false) != 0) {
		snprintf(err, err_cap, "session: CompIDs missing or a string too long");
		free(s);
		return NULL;
	}
	/* The no-resend list is kept as ",A,B," so a lookup is one strstr of ",X,". */
	const char *nr = cfg->no_resend_types != NULL ? cfg->no_resend_types : "";
	if (strlen(nr) + 3 > sizeof(s->no_resend)) {
		snprintf(err, err_cap, "session: no_resend_types too long");
		free(s);
		return NULL;
	}
	if (nr[0] != '\0')
		snprintf(s->no_resend, sizeof(s->no_resend), ",%s,", nr);
	s->cfg.sender_comp_id = s->sender;
	s->cfg.target_comp_id = s->target;
	s->cfg.default_appl_ver_id = s->appl_ver;
	s->cfg.username = s->user;
	s->cfg.password = s->pass;
	s->cfg.no_resend_types = NULL;
	s->dict = cfg->no_validate ? NULL : fix_dict_get(cfg->ver);
	if (!cfg->no_validate && s->dict == NULL) {
		snprintf(err, err_cap, "session: no data dictionary for %s", fix_version_str(cfg->ver));
		free(s);
		return NULL;
	}
	s->out_cap = (size_t)cfg->max_msg + FIX_MAX_REWRITE_HEADER;
	s->out = malloc(s->out_cap);
	s->fields_in = calloc(cfg->max_fields, sizeof(struct fix_field));
	s->fields_q = calloc(cfg->max_fields, sizeof(struct fix_field));
	s->fields_rs = calloc(cfg->max_fields, sizeof(struct fix_field));
	s->queue = calloc(cfg->max_queue > 0 ? cfg->max_queue : 1, sizeof(struct ctl_qslot));
	bool ok = s->out && s->fields_in && s->fields_q && s->fields_rs && s->queue;
	for (uint32_t i = 0; ok && i < cfg->max_queue; i++)
		ok = (s->queue[i].bytes = malloc(cfg->max_msg)) != NULL;
	if (!ok) {
		ctl_session_destroy(s);
		snprintf(err, err_cap, "session: out of memory");
		return NULL;
	}
	s->nqueue = cfg->max_queue;
	s->sender_len = (uint32_t)strlen(s->sender);
	s->target_len = (uint32_t)strlen(s->target);
	/* What fix_enc_begin leaves before 35= (8=<ver>|9=<room for the largest body length>|),
	 * fixed for the session: the in-place path checks against it per message. */
	char d[24];
	s->enc_gap = 2 + strlen(fix_version_str(s->cfg.ver)) + 1 + 2 +
		     (size_t)ctl_dec(d, s->out_cap) + 1;
	fix_time_cache_init(&s->tc);
	s->hbi_s = cfg->heartbeat_s;
	if (store.ops->get_seqs(store.ctx, &s->next_in, &s->next_out) != 0) {
		ctl_session_destroy(s);
		snprintf(err, err_cap, "session: the store cannot give the sequence numbers");
		return NULL;
	}
	return s;
}

void ctl_session_set_parsed_hook(struct ctl_session *s,
				 void (*fn)(void *arg, const struct fix_msg *m))
{
	s->parsed = fn;
}

void ctl_session_destroy(struct ctl_session *s)
{
	if (s == NULL)
		return;
	if (s->queue != NULL)
		for (uint32_t i = 0; i < s->cfg.max_queue; i++)
			free(s->queue[i].bytes);
	free(s->queue);
	free(s->out);
	free(s->fields_in);
	free(s->fields_q);
	free(s->fields_rs);
	free(s);
}

enum ctl_state ctl_session_state(const struct ctl_session *s) { return s->state; }
bool ctl_session_logged_on(const struct ctl_session *s) { return s->state == CTL_ST_ACTIVE; }
uint64_t ctl_session_next_in(const struct ctl_session *s) { return s->next_in; }
uint64_t ctl_session_next_out(const struct ctl_session *s) { return s->next_out; }
uint32_t ctl_session_heartbeat_s(const struct ctl_session *s) { return s->hbi_s; }

void ctl_emit(struct ctl_session *s, enum ctl_event ev, const char *text)
{
	if (s->io.event != NULL)
		s->io.event(s->io.arg, ev, text);
}

void ctl_set_next_in(struct ctl_session *s, uint64_t v)
{
	s->next_in = v;
	s->store.ops->set_next_in(s->store.ctx, v);
}

static void clear_queue(struct ctl_session *s)
{
	for (uint32_t i = 0; i < s->nqueue; i++)
		s->queue[i].used = false;
	s->nqueued = 0;
}

static void enter(struct ctl_session *s, enum ctl_state st, int64_t now)
{
	s->state = st;
	s->t_state = now;
}

/* Closes the connection from our side. */
static void drop(struct ctl_session *s, int64_t now, const char *why)
{
	enum ctl_state was = s->state;
	enter(s, CTL_ST_DISCONNECTED, now);
	clear_queue(s);
	s->rr_active = false;
	s->rs_active = false;
	s->io.disconnect(s->io.arg, why);
	if (was == CTL_ST_ACTIVE || was == CTL_ST_LOGOUT_SENT)
		ctl_emit(s, CTL_EV_LOGGED_OUT, why);
}

static void start_logout(struct ctl_session *s, int64_t now, const char *text)
{
	ctl_send_logout(s, now, text);
	enter(s, CTL_ST_LOGOUT_SENT, now);
}

static void reset_seqs(struct ctl_session *s)
{
	s->store.ops->reset(s->store.ctx);
	s->next_in = 1;
	s->next_out = 1;
	s->rr_active = false;
	s->rs_active = false;
	clear_queue(s);
	ctl_emit(s, CTL_EV_RESET, "sequence numbers reset to 1");
}

int ctl_session_connect(struct ctl_session *s, int64_t now)
{
	if (s->state != CTL_ST_DISCONNECTED)
		return -1;
	enter(s, CTL_ST_LOGON_WAIT, now);
	s->t_last_recv = s->t_last_sent = now;
	s->test_req_out = false;
	s->rr_active = s->rs_active = false;
	s->sent_reset = false;
	clear_queue(s);
	s->store.ops->get_seqs(s->store.ctx, &s->next_in, &s->next_out);
	if (s->cfg.role == CTL_ROLE_INITIATOR) {
		s->hbi_s = s->cfg.heartbeat_s;
		if (s->cfg.reset_on_logon) {
			reset_seqs(s);
			s->sent_reset = true;
		}
		ctl_send_logon(s, now, s->sent_reset, true);
	}
	return 0;
}

void ctl_session_disconnected(struct ctl_session *s, int64_t now)
{
	enum ctl_state was = s->state;
	if (was == CTL_ST_DISCONNECTED)
		return;
	enter(s, CTL_ST_DISCONNECTED, now);
	clear_queue(s);
	s->rr_active = s->rs_active = false;
	if (was == CTL_ST_ACTIVE || was == CTL_ST_LOGOUT_SENT)
		ctl_emit(s, CTL_EV_LOGGED_OUT, "connection lost");
	else if (was == CTL_ST_LOGON_WAIT && s->cfg.role == CTL_ROLE_INITIATOR)
		ctl_emit(s, CTL_EV_LOGON_REFUSED, "connection lost during Logon");
}

int ctl_session_set_seqs(struct ctl_session *s, uint64_t next_in, uint64_t next_out)
{
	if (s->state != CTL_ST_DISCONNECTED || next_in == 0 || next_out == 0)
		return -1;
	ctl_set_next_in(s, next_in);
	s->next_out = next_out;
	return s->store.ops->set_next_out(s->store.ctx, next_out);
}

void ctl_session_on_garbled(struct ctl_session *s, int64_t now)
{
	if (s->state == CTL_ST_LOGON_WAIT) {
		drop(s, now, "garbled message before Logon");
		return;
	}
	if (s->state != CTL_ST_DISCONNECTED)
		ctl_emit(s, CTL_EV_PROTOCOL, "garbled message ignored");
}

/* ---------------------------------------------------------------------------------------------
 * The inbound queue of too-high messages.
 * ------------------------------------------------------------------------------------------- */

static void queue_put(struct ctl_session *s, const struct fix_msg *m, bool consumed)
{
	struct ctl_qslot *free_slot = NULL;
	for (uint32_t i = 0; i < s->nqueue; i++) {
		struct ctl_qslot *q = &s->queue[i];
		if (q->used && q->seq == m->hdr.seq)
			return; /* a copy is already kept */
		if (!q->used && free_slot == NULL)
			free_slot = q;
	}
	if (free_slot == NULL || (!consumed && m->len > s->cfg.max_msg)) {
		/* The peer resends it: our ResendRequest runs to the end of its sequence. */
		ctl_emit(s, CTL_EV_PROTOCOL, "inbound queue full: message left to the resend");
		return;
	}
	free_slot->used = true;
	s->nqueued++;
	free_slot->consumed = consumed;
	free_slot->seq = m->hdr.seq;
	free_slot->len = consumed ? 0 : m->len;
	if (!consumed)
		memcpy(free_slot->bytes, m->buf, m->len);
}

/* The slot may have been freed already (clear_queue from the message it held, a reset). */
static void queue_free(struct ctl_session *s, struct ctl_qslot *q)
{
	if (q->used) {
		q->used = false;
		s->nqueued--;
	}
}

static struct ctl_qslot *queue_lowest(struct ctl_session *s)
{
	struct ctl_qslot *best = NULL;
	if (s->nqueued == 0)
		return NULL; /* the usual case: every message in sequence, nothing to scan */
	for (uint32_t i = 0; i < s->nqueue; i++) {
		struct ctl_qslot *q = &s->queue[i];
		if (q->used && (best == NULL || q->seq < best->seq))
			best = q;
	}
	return best;
}

/* Asks for what we miss before seq (the first too-high number seen). */
static void request_gap(struct ctl_session *s, int64_t now, uint64_t seq)
{
	uint64_t begin = s->next_in;
	uint64_t end = seq - 1;
	uint64_t end_field = 0; /* 0: everything up to the peer's last */
	uint32_t chunk = s->cfg.resend_request_chunk;
	if (chunk != 0 && end - begin >= chunk) {
		end = begin + chunk - 1;
		end_field = end;
	} else if (chunk != 0) {
		end_field = end;
	}
	ctl_send_resend_request(s, now, begin, end_field);
	s->rr_active = true;
	s->rr_begin = begin;
	s->rr_end = end;
	s->t_rr = now;
	ctl_emit(s, CTL_EV_GAP, "inbound gap: ResendRequest sent");
}

static void too_high(struct ctl_session *s, int64_t now, const struct fix_msg *m, bool consumed)
{
	queue_put(s, m, consumed);
	if (s->rr_active && m->hdr.seq >= s->rr_begin) {
		/* The outstanding request already covers (or leads up to) this one. */
		return;
	}
	request_gap(s, now, m->hdr.seq);
}

/* Replays queued messages whose turn has come; afterwards asks for what is still missing. */
static void drain(struct ctl_session *s, int64_t now)
{
	if (s->draining)
		return;
	s->draining = true;
	for (;;) {
		if (s->state != CTL_ST_ACTIVE && s->state != CTL_ST_LOGOUT_SENT)
			break;
		struct ctl_qslot *q = queue_lowest(s);
		if (q == NULL || q->seq > s->next_in)
			break;
		if (q->seq < s->next_in || q->consumed) {
			if (q->seq == s->next_in)
				ctl_set_next_in(s, s->next_in + 1);
			queue_free(s, q);
			continue;
		}
		struct fix_msg m = {.fields = s->fields_q, .cap = s->cfg.max_fields};
		/* The slot stays taken while m points into it. */
		if (fix_parse(&m, q->bytes, q->len) == FIX_OK)
			process(s, now, &m, FIX_OK, true);
		else
			ctl_set_next_in(s, s->next_in + 1);
		queue_free(s, q);
	}
	s->draining = false;
	if (s->rr_active && s->next_in > s->rr_end)
		s->rr_active = false; /* filled (a GapFill may jump past its end) */
	if (s->state == CTL_ST_ACTIVE && !s->rr_active) {
		struct ctl_qslot *q = queue_lowest(s);
		if (q != NULL && q->seq > s->next_in)
			request_gap(s, now, q->seq);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Checks shared by the message types.
 * ------------------------------------------------------------------------------------------- */

static bool is_type(const struct fix_msg *m, const char *t)
{
	return strcmp(m->hdr.msg_type, t) == 0;
}

/* Reject(3), and the rejected message still counts when it carried the expected number
 * (a Logon or a SequenceReset never does: their number is handled by their own rules). */
static void reject(struct ctl_session *s, int64_t now, const struct fix_msg *m, int reason,
		   int64_t ref, const char *text)
{
	ctl_send_reject(s, now, m, reason, ref, text);
	if (!is_type(m, "A") && !is_type(m, "4") && m->hdr.seq_err == FIX_OK &&
	    m->hdr.seq == s->next_in)
		ctl_set_next_in(s, s->next_in + 1);
	ctl_emit(s, CTL_EV_PROTOCOL, text != NULL ? text : ctl_reason_text(reason));
}

static bool get_time(const struct fix_msg *m, int16_t i, int64_t *ns)
{
	const struct fix_field *f = ctl_hf(m, i);
	return f != NULL && fix_get_utc_timestamp(f->val, f->len, ns) == FIX_OK;
}

/* SendingTime as nanoseconds. The messages of a burst carry the same text (millisecond
 * precision), so the last one read is kept: the same bytes give the same value without
 * parsing them again. Only valid timestamps are kept. */
static bool sending_time(struct ctl_session *s, const struct fix_msg *m, int64_t *ns)
{
	const struct fix_field *f = ctl_hf(m, m->hdr.i_sending_time);
	if (f == NULL)
		return false;
	if (f->len == s->st_len && memcmp(f->val, s->st_text, f->len) == 0) {
		*ns = s->st_ns;
		return true;
	}
	if (fix_get_utc_timestamp(f->val, f->len, ns) != FIX_OK)
		return false;
	if (f->len <= sizeof(s->st_text)) {
		memcpy(s->st_text, f->val, f->len);
		s->st_len = f->len;
		s->st_ns = *ns;
	}
	return true;
}

static bool time_ok(struct ctl_session *s, const struct fix_msg *m, int64_t now)
{
	if (s->cfg.sending_time_tolerance_s == CTL_NO_TIME_CHECK)
		return true;
	int64_t t;
	if (!sending_time(s, m, &t))
		return false;
	int64_t d = t > now ? t - now : now - t;
	return d <= (int64_t)s->cfg.sending_time_tolerance_s * CTL_NS;
}

static bool compids_ok(const struct ctl_session *s, const struct fix_msg *m)
{
	return ctl_eqn(ctl_hf(m, m->hdr.i_sender), s->target, s->target_len) &&
	       ctl_eqn(ctl_hf(m, m->hdr.i_target), s->sender, s->sender_len);
}

/* PossDupFlag=Y needs an OrigSendingTime not later than SendingTime. Returns false when the
 * message was answered (Reject, and Logout for the time problem). */
static bool poss_dup_ok(struct ctl_session *s, int64_t now, const struct fix_msg *m)
{
	if (!m->hdr.poss_dup || is_type(m, "4"))
		return true;
	int64_t orig, sent;
	if (m->hdr.i_orig_sending_time < 0) {
		reject(s, now, m, FIX_RJ_REQUIRED_TAG_MISSING, 122, NULL);
		return false;
	}
	if (get_time(m, m->hdr.i_orig_sending_time, &orig) &&
	    get_time(m, m->hdr.i_sending_time, &sent) && orig > sent) {
		reject(s, now, m, FIX_RJ_SENDING_TIME_ACCURACY, NO_REF, NULL);
		start_logout(s, now, NULL);
		return false;
	}
	return true;
}

/* The checks every message after Logon passes (QuickFIX's verify()). Returns true when the
 * message is in sequence (or sequence checks were not asked for) and may be acted on. */
static bool verify(struct ctl_session *s, int64_t now, const struct fix_msg *m, bool check_high,
		   bool check_low, bool queued)
{
	if (!queued) {
		if (!time_ok(s, m, now)) {
			reject(s, now, m, FIX_RJ_SENDING_TIME_ACCURACY, NO_REF, NULL);
			start_logout(s, now, NULL);
			return false;
		}
		if (!compids_ok(s, m)) {
			reject(s, now, m, FIX_RJ_COMPID_PROBLEM, NO_REF, NULL);
			start_logout(s, now, NULL);
			return false;
		}
	}
	uint64_t seq = m->hdr.seq;
	if (check_high && seq > s->next_in) {
		too_high(s, now, m, false);
		return false;
	}
	if (check_low && seq < s->next_in) {
		if (!m->hdr.poss_dup) {
			char text[CTL_TEXT_MAX];
			snprintf(text, sizeof(text), "MsgSeqNum too low, expecting %llu but received %llu",
				 (unsigned long long)s->next_in, (unsigned long long)seq);
			ctl_send_logout(s, now, text);
			drop(s, now, text);
		} else if (poss_dup_ok(s, now, m)) {
			/* Already received: a duplicate, ignored. */
		}
		return false;
	}
	if ((check_high || check_low) && s->rr_active && seq >= s->rr_end)
		s->rr_active = false; /* drain() asks for the next chunk if one is missing */
	if ((check_high || check_low) && !queued && !poss_dup_ok(s, now, m))
		return false;
	return true;
}

/* ---------------------------------------------------------------------------------------------
 * Logon.
 * ------------------------------------------------------------------------------------------- */

static bool flag_y(const struct fix_msg *m, uint32_t tag)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	return f != NULL && f->len == 1 && f->val[0] == 'Y';
}

/* After the Logon exchange: honour the peer's NextExpectedMsgSeqNum(789) and count the peer's
 * Logon (or ask for what precedes it). */
static void logged_on(struct ctl_session *s, int64_t now, const struct fix_msg *m,
		      uint64_t out_before)
{
	enter(s, CTL_ST_ACTIVE, now);
	ctl_emit(s, CTL_EV_LOGGED_ON, "logged on");
	uint64_t seq = m->hdr.seq;
	if (seq == s->next_in)
		ctl_set_next_in(s, seq + 1);
	else
		too_high(s, now, m, true); /* the Logon itself is consumed; what precedes it is not */
	uint64_t nexp;
	if (s->cfg.next_expected_seq && s->cfg.ver != FIX_VER_42 &&
	    fix_msg_get_uint(m, 789, &nexp) == FIX_OK) {
		if (nexp > out_before) {
			char text[CTL_TEXT_MAX];
			snprintf(text, sizeof(text),
				 "NextExpectedMsgSeqNum %llu higher than the next sent %llu",
				 (unsigned long long)nexp, (unsigned long long)out_before);
			start_logout(s, now, text);
			return;
		}
		if (nexp >= 1 && nexp < out_before) {
			ctl_resend_start(s, now, nexp, out_before - 1);
			while (ctl_resend_work(s, now) != 0)
				;
		}
	}
}

static void logon_refuse(struct ctl_session *s, int64_t now, const char *why, bool send_logout)
{
	ctl_emit(s, CTL_EV_LOGON_REFUSED, why);
	if (send_logout)
		ctl_send_logout(s, now, why);
	drop(s, now, why);
}

static void on_logon_wait(struct ctl_session *s, int64_t now, const struct fix_msg *m, int perr)
{
	const bool acc = s->cfg.role == CTL_ROLE_ACCEPTOR;
	if (perr != FIX_OK) {
		logon_refuse(s, now, "invalid message during Logon", false);
		return;
	}
	if (!acc && is_type(m, "5")) {
		const struct fix_field *t = fix_find(m, 58, 0);
		char text[CTL_TEXT_MAX] = "venue refused the Logon";
		if (t != NULL && t->len > 0)
			snprintf(text, sizeof(text), "%.*s", (int)t->len, t->val);
		logon_refuse(s, now, text, false);
		return;
	}
	if (!is_type(m, "A")) {
		logon_refuse(s, now, "first message is not a Logon", false);
		return;
	}
	if (m->hdr.ver != s->cfg.ver) {
		logon_refuse(s, now, "Logon with a wrong BeginString", false);
		return;
	}
	if (!compids_ok(s, m)) {
		logon_refuse(s, now, "Logon with wrong CompIDs", false);
		return;
	}
	if (s->dict != NULL) {
		struct fix_verdict v;
		validate(s, m, &v);
		if (!v.ok) {
			logon_refuse(s, now, "invalid Logon", false);
			return;
		}
	}
	if (!time_ok(s, m, now)) {
		logon_refuse(s, now, "Logon SendingTime accuracy problem", false);
		return;
	}
	if (s->cfg.ver == FIX_VER_T11 && fix_find(m, 1137, 0) == NULL) {
		logon_refuse(s, now, "Logon without DefaultApplVerID", false);
		return;
	}
	uint64_t hbi;
	if (fix_msg_get_uint(m, 108, &hbi) != FIX_OK || hbi > 3600) {
		logon_refuse(s, now, "Logon without a valid HeartBtInt", false);
		return;
	}
	bool reset = flag_y(m, 141);
	if (acc) {
		if (s->cfg.auth != NULL) {
			const struct fix_field *u = fix_find(m, 553, 0);
			const struct fix_field *p = fix_find(m, 554, 0);
			char text[CTL_TEXT_MAX] = "Logon refused";
			if (s->cfg.auth(s->cfg.auth_arg, m, u ? u->val : NULL, u ? u->len : 0,
					p ? p->val : NULL, p ? p->len : 0, text, sizeof(text)) != 0) {
				text[sizeof(text) - 1] = '\0';
				logon_refuse(s, now, text, true);
				return;
			}
		}
		s->hbi_s = (uint32_t)hbi;
		if (reset || s->cfg.reset_on_logon)
			reset_seqs(s);
	} else if (reset && !s->sent_reset) {
		/* The venue resets on its own initiative: its numbering restarts at 1. */
		ctl_set_next_in(s, 1);
	}
	if (m->hdr.seq < s->next_in) {
		char text[CTL_TEXT_MAX];
		snprintf(text, sizeof(text), "MsgSeqNum too low, expecting %llu but received %llu",
			 (unsigned long long)s->next_in, (unsigned long long)m->hdr.seq);
		logon_refuse(s, now, text, true);
		return;
	}
	uint64_t out_before = s->next_out;
	if (acc) {
		/* The reply's 789 counts the Logon being answered when it is in sequence. */
		uint64_t in = s->next_in;
		if (m->hdr.seq == in)
			s->next_in = in + 1;
		ctl_send_logon(s, now, reset, true);
		s->next_in = in;
		out_before = s->next_out - 1;
	}
	logged_on(s, now, m, out_before);
}

/* A Logon while logged on: with 141=Y, the in-session sequence reset. */
static void on_logon_active(struct ctl_session *s, int64_t now, const struct fix_msg *m)
{
	if (!flag_y(m, 141)) {
		start_logout(s, now, "unexpected Logon while logged on");
		return;
	}
	if (!time_ok(s, m, now) || !compids_ok(s, m)) {
		start_logout(s, now, "invalid Logon while logged on");
		return;
	}
	reset_seqs(s);
	if (s->cfg.role == CTL_ROLE_ACCEPTOR) {
		ctl_send_logon(s, now, true, false);
	} else if (!s->sent_reset) {
		ctl_send_logon(s, now, true, false);
	}
	s->sent_reset = false;
	if (m->hdr.seq == 1)
		ctl_set_next_in(s, 2);
	else if (m->hdr.seq > 1)
		too_high(s, now, m, true);
}

/* ---------------------------------------------------------------------------------------------
 * Inbound messages.
 * ------------------------------------------------------------------------------------------- */

static void on_sequence_reset(struct ctl_session *s, int64_t now, const struct fix_msg *m,
			      bool queued)
{
	bool gap_fill = flag_y(m, 123);
	if (!verify(s, now, m, gap_fill, gap_fill, queued))
		return;
	uint64_t new_seq;
	if (fix_msg_get_uint(m, 36, &new_seq) != FIX_OK) {
		reject(s, now, m, FIX_RJ_REQUIRED_TAG_MISSING, 36, NULL);
		return;
	}
	if (new_seq > s->next_in) {
		ctl_set_next_in(s, new_seq);
	} else if (new_seq < s->next_in) {
		/* Sequence numbers never go back: only a Logon with 141=Y may do that. */
		reject(s, now, m, FIX_RJ_VALUE_OUT_OF_RANGE, NO_REF, NULL);
	}
}

static void on_logout(struct ctl_session *s, int64_t now, const struct fix_msg *m)
{
	if (!verify(s, now, m, false, false, false))
		return;
	if (m->hdr.seq == s->next_in)
		ctl_set_next_in(s, s->next_in + 1);
	const struct fix_field *t = fix_find(m, 58, 0);
	char why[CTL_TEXT_MAX];
	if (s->state == CTL_ST_LOGOUT_SENT) {
		drop(s, now, "logged out");
		return;
	}
	snprintf(why, sizeof(why), "peer logged out%s%.*s", t != NULL ? ": " : "",
		 t != NULL ? (int)t->len : 0, t != NULL ? t->val : "");
	ctl_send_logout(s, now, NULL);
	drop(s, now, why);
}

static void on_resend_request(struct ctl_session *s, int64_t now, const struct fix_msg *m)
{
	/* Serviced whatever its own number (QuickFIX does the same): a peer that detected a gap
	 * while we detect one in its stream must not wait for us. */
	if (!verify(s, now, m, false, false, false))
		return;
	uint64_t begin, end;
	if (fix_msg_get_uint(m, 7, &begin) != FIX_OK) {
		reject(s, now, m, FIX_RJ_REQUIRED_TAG_MISSING, 7, NULL);
		return;
	}
	if (fix_msg_get_uint(m, 16, &end) != FIX_OK) {
		reject(s, now, m, FIX_RJ_REQUIRED_TAG_MISSING, 16, NULL);
		return;
	}
	/* FIX.4.2 peers may say "to the end" with 999999. */
	if (s->cfg.ver == FIX_VER_42 && end == 999999)
		end = 0;
	uint64_t seq = m->hdr.seq;
	if (seq == s->next_in)
		ctl_set_next_in(s, seq + 1);
	else if (seq > s->next_in)
		too_high(s, now, m, true);
	ctl_resend_start(s, now, begin, end);
	ctl_resend_work(s, now);
}

static void process(struct ctl_session *s, int64_t now, const struct fix_msg *m, int perr,
		    bool queued)
{
	if (!queued) {
		if (perr == FIX_E_BAD_TAG || perr == FIX_E_NO_EQUALS) {
			reject(s, now, m, FIX_RJ_INVALID_TAG, (int32_t)m->err_tag, NULL);
			return;
		}
		if (perr == FIX_E_NO_VALUE) {
			reject(s, now, m, FIX_RJ_TAG_WITHOUT_VALUE, m->err_tag, NULL);
			return;
		}
		if (m->hdr.i_sender < 0 || m->hdr.i_target < 0) {
			reject(s, now, m, FIX_RJ_REQUIRED_TAG_MISSING, m->hdr.i_sender < 0 ? 49 : 56,
			       NULL);
			return;
		}
		if (m->hdr.ver != s->cfg.ver) {
			if (is_type(m, "5")) {
				on_logout(s, now, m);
			} else {
				if (m->hdr.seq_err == FIX_OK && m->hdr.seq == s->next_in)
					ctl_set_next_in(s, s->next_in + 1);
				start_logout(s, now, "Incorrect BeginString");
			}
			return;
		}
		if (s->dict != NULL) {
			struct fix_verdict v;
			validate(s, m, &v);
			/* QuickFIX writes DefaultApplVerID(1137) in the body of a FIXT.1.1
			 * BusinessMessageReject (so does ctl_session_business_reject): accept it. */
			if (!v.ok && s->cfg.ver == FIX_VER_T11 && is_type(m, "j") &&
			    v.reason == FIX_RJ_TAG_NOT_DEFINED_FOR_MSGTYPE && v.ref_tag == 1137)
				v.ok = true;
			if (!v.ok && v.unsupported_msgtype && s->cfg.ver != FIX_VER_UNKNOWN) {
				ctl_session_business_reject(s, now, m, 3, v.text);
				if (m->hdr.seq == s->next_in)
					ctl_set_next_in(s, s->next_in + 1);
				return;
			}
			if (!v.ok) {
				reject(s, now, m, v.reason, v.has_ref_tag ? (int64_t)v.ref_tag : NO_REF,
				       v.text);
				return;
			}
		}
		if (m->hdr.seq_err != FIX_OK) {
			reject(s, now, m,
			       m->hdr.seq_err == FIX_E_NOT_FOUND ? FIX_RJ_REQUIRED_TAG_MISSING :
								   FIX_RJ_INCORRECT_DATA_FORMAT,
			       34, NULL);
			return;
		}
	}
	const char *t = m->hdr.msg_type;
	if (t[1] == '\0') {
		switch (t[0]) {
		case 'A':
			on_logon_active(s, now, m);
			return;
		case '0':
			if (verify(s, now, m, true, true, queued))
				ctl_set_next_in(s, s->next_in + 1);
			return;
		case '1':
			if (verify(s, now, m, true, true, queued)) {
				const struct fix_field *id = fix_find(m, 112, 0);
				ctl_set_next_in(s, s->next_in + 1);
				ctl_send_heartbeat(s, now, id ? id->val : NULL, id ? id->len : 0);
			}
			return;
		case '2':
			on_resend_request(s, now, m);
			return;
		case '3':
			if (verify(s, now, m, true, true, queued)) {
				ctl_set_next_in(s, s->next_in + 1);
				ctl_emit(s, CTL_EV_PROTOCOL, "Reject received");
			}
			return;
		case '4':
			on_sequence_reset(s, now, m, queued);
			return;
		case '5':
			on_logout(s, now, m);
			return;
		default:
			break;
		}
	}
	if (!verify(s, now, m, true, true, queued))
		return;
	ctl_set_next_in(s, s->next_in + 1);
	s->io.deliver(s->io.arg, m);
}

static bool framing_error(int e)
{
	return e == FIX_E_NEED_MORE || e == FIX_E_BAD_BEGIN || e == FIX_E_BAD_BODY_LENGTH ||
	       e == FIX_E_TOO_BIG || e == FIX_E_BAD_CHECKSUM || e == FIX_E_MSGTYPE_NOT_THIRD ||
	       e == FIX_E_TOO_MANY_FIELDS || e == FIX_E_BAD_DATA_LENGTH;
}

void ctl_session_on_message(struct ctl_session *s, int64_t now, const struct fix_msg *m,
			    int parse_err)
{
	if (s->state == CTL_ST_DISCONNECTED)
		return;
	if (framing_error(parse_err)) {
		ctl_session_on_garbled(s, now);
		return;
	}
	s->t_last_recv = now;
	s->test_req_out = false;
	if (s->parsed != NULL && parse_err == FIX_OK)
		s->parsed(s->io.arg, m);
	if (s->state == CTL_ST_LOGON_WAIT) {
		on_logon_wait(s, now, m, parse_err);
	} else {
		process(s, now, m, parse_err, false);
	}
	drain(s, now);
}

void ctl_session_on_bytes(struct ctl_session *s, int64_t now, const char *buf, size_t len)
{
	struct fix_msg m = {.fields = s->fields_in, .cap = s->cfg.max_fields};
	int rc = fix_parse(&m, buf, len);
	ctl_session_on_message(s, now, &m, rc);
}

void ctl_session_logout(struct ctl_session *s, int64_t now, const char *text)
{
	if (s->state == CTL_ST_ACTIVE)
		start_logout(s, now, text);
	else if (s->state == CTL_ST_LOGON_WAIT)
		drop(s, now, text != NULL ? text : "logout before logon completed");
}

/* ---------------------------------------------------------------------------------------------
 * Timers.
 * ------------------------------------------------------------------------------------------- */

static int64_t rr_retry_ns(const struct ctl_session *s)
{
	int64_t t = s->cfg.resend_retry_s != 0 ? s->cfg.resend_retry_s : 2 * (int64_t)s->hbi_s;
	if (s->cfg.resend_retry_s == 0 && t < 10)
		t = 10;
	return t * CTL_NS;
}

int ctl_session_poll(struct ctl_session *s, int64_t now)
{
	switch (s->state) {
	case CTL_ST_DISCONNECTED:
		return 0;
	case CTL_ST_LOGON_WAIT:
		if (now - s->t_state >= (int64_t)s->cfg.logon_timeout_s * CTL_NS)
			logon_refuse(s, now, "Logon timed out", false);
		return 0;
	case CTL_ST_LOGOUT_SENT:
		if (now - s->t_state >= (int64_t)s->cfg.logout_timeout_s * CTL_NS) {
			drop(s, now, "Logout not answered in time");
			return 0;
		}
		break;
	case CTL_ST_ACTIVE:
		if (s->hbi_s == 0)
			break;
		int64_t hb = (int64_t)s->hbi_s * CTL_NS;
		int64_t quiet = now - s->t_last_recv;
		if (quiet >= hb * s->cfg.timeout_pct / 100) {
			char text[CTL_TEXT_MAX];
			snprintf(text, sizeof(text), "heartbeat timeout: nothing received for %llds",
				 (long long)(quiet / CTL_NS));
			drop(s, now, text);
			return 0;
		}
		if (s->rr_active && now - s->t_rr >= rr_retry_ns(s)) {
			/* Our ResendRequest or its answer was lost (or the peer ignored it): ask
			 * again for what is still missing, or forget it if nothing is. */
			struct ctl_qslot *q = queue_lowest(s);
			s->rr_active = false;
			if (q != NULL && q->seq > s->next_in)
				request_gap(s, now, q->seq);
		}
		if (!s->test_req_out && quiet >= hb * s->cfg.test_request_pct / 100) {
			ctl_send_test_request(s, now);
			s->test_req_out = true;
		} else if (!s->test_req_out && now - s->t_last_sent >= hb) {
			ctl_send_heartbeat(s, now, NULL, 0);
		}
		break;
	}
	return ctl_resend_work(s, now);
}
