/* control: what the session sends. Every message is written in QuickFIX's normal form (after
 * 8, 9 and 35 the header fields in ascending tag order, then the body as given), journaled
 * through the store before it is handed to io.send, and resent from the store on request. */
#include <stdio.h>
#include <string.h>

#include "ctl_session_pvt.h"

#define MAX_HDR 24

int ctl_dec(char *out, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v != 0);
	for (int i = 0; i < n; i++)
		out[i] = tmp[n - 1 - i];
	out[n] = '\0';
	return n;
}

/* A small body under construction (admin messages only: their bodies are short). */
struct body {
	char b[512];
	size_t n;
	bool overflow;
};

static void b_str(struct body *b, uint32_t tag, const char *v, size_t len)
{
	char t[16];
	int tl = ctl_dec(t, tag);
	if (b->n + (size_t)tl + len + 2 > sizeof(b->b)) {
		b->overflow = true;
		return;
	}
	memcpy(b->b + b->n, t, (size_t)tl);
	b->n += (size_t)tl;
	b->b[b->n++] = '=';
	memcpy(b->b + b->n, v, len);
	b->n += len;
	b->b[b->n++] = FIX_SOH;
}

static void b_cstr(struct body *b, uint32_t tag, const char *v)
{
	b_str(b, tag, v, strlen(v));
}

static void b_uint(struct body *b, uint32_t tag, uint64_t v)
{
	char d[24];
	int n = ctl_dec(d, v);
	b_str(b, tag, d, (size_t)n);
}

static void sort_hdr(struct ctl_hdr_field *h, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct ctl_hdr_field x = h[i];
		size_t j = i;
		while (j > 0 && h[j - 1].tag > x.tag) {
			h[j] = h[j - 1];
			j--;
		}
		h[j] = x;
	}
}

void ctl_send_msg(struct ctl_session *s, int64_t now, const char *msg_type,
		  const struct ctl_hdr_field *extra, size_t n_extra, const char *body,
		  size_t body_len, bool poss_dup, const char *orig_time, size_t orig_len,
		  uint64_t seq, bool persist)
{
	struct ctl_hdr_field h[MAX_HDR];
	char seqs[24], now_s[32];
	size_t n = 0;
	bool fresh = seq == 0;
	if (fresh)
		seq = s->next_out;
	if (n_extra > MAX_HDR - 6)
		n_extra = MAX_HDR - 6;
	int sl = ctl_dec(seqs, seq);
	size_t tl = fix_format_utc(&s->tc, now < 0 ? 0 : now, FIX_TIME_MS, now_s);
	h[n++] = (struct ctl_hdr_field){34, seqs, (uint32_t)sl};
	h[n++] = (struct ctl_hdr_field){49, s->sender, s->sender_len};
	h[n++] = (struct ctl_hdr_field){52, now_s, (uint32_t)tl};
	h[n++] = (struct ctl_hdr_field){56, s->target, s->target_len};
	if (poss_dup) {
		h[n++] = (struct ctl_hdr_field){43, "Y", 1};
		h[n++] = (struct ctl_hdr_field){122, orig_time, (uint32_t)orig_len};
	}
	for (size_t i = 0; i < n_extra; i++)
		h[n++] = extra[i];
	if (n > 4)
		sort_hdr(h, n); /* 34, 49, 52, 56 alone are in order already */

	struct fix_encoder e;
	fix_enc_begin(&e, s->out, s->out_cap, s->cfg.ver, msg_type, &s->tc);
	for (size_t i = 0; i < n; i++)
		fix_enc_str(&e, h[i].tag, h[i].val, h[i].len);
	fix_enc_raw(&e, body, body_len);
	char *msg;
	size_t len = fix_enc_finish(&e, &msg);
	if (len == 0) {
		ctl_emit(s, CTL_EV_PROTOCOL, "outbound message too big: not sent");
		return;
	}
	if (fresh) {
		/* Journal first: once the bytes leave, a ResendRequest may ask for them. Admin
		 * messages are never resent (they are gap-filled), so only the number moves. */
		if (persist && !fix_dict_is_admin_msgtype(msg_type))
			s->store.ops->save_outbound(s->store.ctx, seq, msg, len);
		else
			s->store.ops->set_next_out(s->store.ctx, seq + 1);
		s->next_out = seq + 1;
	}
	s->t_last_sent = now;
	s->io.send(s->io.arg, msg, len);
}

void ctl_send_admin(struct ctl_session *s, int64_t now, const char *msg_type, const char *body,
		    size_t body_len)
{
	ctl_send_msg(s, now, msg_type, NULL, 0, body, body_len, false, NULL, 0, 0, true);
}

static bool has_789(const struct ctl_session *s)
{
	return s->cfg.next_expected_seq && s->cfg.ver != FIX_VER_42;
}

void ctl_send_logon(struct ctl_session *s, int64_t now, bool reset, bool next_expected)
{
	struct body b = {.n = 0};
	b_cstr(&b, 98, "0");
	b_uint(&b, 108, s->hbi_s);
	if (reset)
		b_cstr(&b, 141, "Y");
	if (s->cfg.role == CTL_ROLE_INITIATOR && s->user[0] != '\0')
		b_cstr(&b, 553, s->user);
	if (s->cfg.role == CTL_ROLE_INITIATOR && s->pass[0] != '\0')
		b_cstr(&b, 554, s->pass);
	if (next_expected && has_789(s))
		b_uint(&b, 789, s->next_in);
	if (s->cfg.ver == FIX_VER_T11)
		b_cstr(&b, 1137, s->appl_ver);
	ctl_send_admin(s, now, "A", b.b, b.n);
}

void ctl_send_heartbeat(struct ctl_session *s, int64_t now, const char *id, size_t id_len)
{
	struct body b = {.n = 0};
	if (id != NULL)
		b_str(&b, 112, id, id_len);
	ctl_send_admin(s, now, "0", b.b, b.n);
}

void ctl_send_test_request(struct ctl_session *s, int64_t now)
{
	struct body b = {.n = 0};
	b_cstr(&b, 112, "TEST");
	ctl_send_admin(s, now, "1", b.b, b.n);
}

void ctl_send_logout(struct ctl_session *s, int64_t now, const char *text)
{
	struct body b = {.n = 0};
	if (text != NULL && text[0] != '\0')
		b_cstr(&b, 58, text);
	ctl_send_admin(s, now, "5", b.b, b.n);
}

void ctl_send_resend_request(struct ctl_session *s, int64_t now, uint64_t begin, uint64_t end)
{
	struct body b = {.n = 0};
	b_uint(&b, 7, begin);
	b_uint(&b, 16, end);
	ctl_send_admin(s, now, "2", b.b, b.n);
}

void ctl_send_gap_fill(struct ctl_session *s, int64_t now, uint64_t seq, uint64_t new_seq)
{
	struct body b = {.n = 0};
	char t[32];
	size_t tl = fix_format_utc(&s->tc, now < 0 ? 0 : now, FIX_TIME_MS, t);
	b_uint(&b, 36, new_seq);
	b_cstr(&b, 123, "Y");
	ctl_send_msg(s, now, "4", NULL, 0, b.b, b.n, true, t, tl, seq, false);
}

const char *ctl_reason_text(int reason)
{
	/* fixcodec keeps the texts QuickFIX writes (the scenarios compare them literally). */
	const char *t = fix_reject_text(reason);
	return t != NULL ? t : "Other";
}

/* Routing fields of m turned around for our answer: OnBehalfOf* (115/116/144) of the message
 * become DeliverTo* (128/129/145) of the answer and the other way round; empty ones are not. */
static size_t reverse_route(const struct fix_msg *m, struct ctl_hdr_field *out)
{
	static const uint32_t from[] = {115, 116, 144, 128, 129, 145};
	static const uint32_t to[] = {128, 129, 145, 115, 116, 144};
	size_t n = 0;
	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		const struct fix_field *f = fix_find(m, from[i], 0);
		if (f != NULL && f->len > 0)
			out[n++] = (struct ctl_hdr_field){to[i], f->val, f->len};
	}
	return n;
}

void ctl_send_reject(struct ctl_session *s, int64_t now, const struct fix_msg *m, int reason,
		     int64_t ref_tag, const char *text)
{
	struct ctl_hdr_field route[6];
	size_t nr = reverse_route(m, route);
	struct body b = {.n = 0};
	const struct fix_field *sq = fix_find(m, 34, 0);
	if (sq != NULL && sq->len > 0)
		b_str(&b, 45, sq->val, sq->len);
	b_cstr(&b, 58, text != NULL ? text : ctl_reason_text(reason));
	if (ref_tag != INT64_MIN) {
		char d[24];
		if (ref_tag < 0) {
			d[0] = '-';
			int k = ctl_dec(d + 1, (uint64_t)(-ref_tag));
			b_str(&b, 371, d, (size_t)k + 1);
		} else {
			b_uint(&b, 371, (uint64_t)ref_tag);
		}
	}
	if (m->hdr.msg_type_len > 0 && m->hdr.msg_type_len < sizeof(m->hdr.msg_type))
		b_cstr(&b, 372, m->hdr.msg_type);
	/* FIX.4.2 defines SessionRejectReason values 0..11 only. */
	if (s->cfg.ver != FIX_VER_42 || reason <= FIX_RJ_INVALID_MSGTYPE)
		b_uint(&b, 373, (uint64_t)reason);
	ctl_send_msg(s, now, "3", route, nr, b.b, b.n, false, NULL, 0, 0, true);
}

void ctl_session_business_reject(struct ctl_session *s, int64_t now, const struct fix_msg *m,
				 int reason, const char *text)
{
	if (s->state != CTL_ST_ACTIVE && s->state != CTL_ST_LOGOUT_SENT)
		return;
	struct ctl_hdr_field route[6];
	size_t nr = reverse_route(m, route);
	struct body b = {.n = 0};
	const struct fix_field *sq = fix_find(m, 34, 0);
	if (sq != NULL && sq->len > 0)
		b_str(&b, 45, sq->val, sq->len);
	if (text != NULL)
		b_cstr(&b, 58, text);
	b_cstr(&b, 372, m->hdr.msg_type);
	b_uint(&b, 380, (uint64_t)(reason < 0 ? 0 : reason));
	/* On FIXT.1.1 QuickFIX names the application version of the answer in the body. */
	if (s->cfg.ver == FIX_VER_T11)
		b_cstr(&b, 1137, s->appl_ver);
	ctl_send_msg(s, now, "j", route, nr, b.b, b.n, false, NULL, 0, 0, true);
}

uint64_t ctl_session_send_app(struct ctl_session *s, int64_t now, const char *msg_type,
			      const struct fix_field *hdr_extra, size_t n_extra,
			      const char *body, size_t body_len)
{
	if (s->state != CTL_ST_ACTIVE || n_extra > MAX_HDR - 6)
		return 0;
	struct ctl_hdr_field ex[MAX_HDR];
	for (size_t i = 0; i < n_extra; i++)
		ex[i] = (struct ctl_hdr_field){hdr_extra[i].tag, hdr_extra[i].val, hdr_extra[i].len};
	uint64_t seq = s->next_out;
	ctl_send_msg(s, now, msg_type, ex, n_extra, body, body_len, false, NULL, 0, 0, true);
	return s->next_out == seq + 1 ? seq : 0;
}

/* ---------------------------------------------------------------------------------------------
 * Servicing a ResendRequest from the store.
 * ------------------------------------------------------------------------------------------- */

void ctl_resend_start(struct ctl_session *s, int64_t now, uint64_t begin, uint64_t end)
{
	(void)now;
	uint64_t last = s->next_out - 1;
	if (begin == 0)
		begin = 1;
	if (end == 0 || end > last)
		end = last;
	if (begin > end) {
		ctl_emit(s, CTL_EV_PROTOCOL, "ResendRequest for messages not sent yet: ignored");
		return;
	}
	if (s->cfg.resend_max != 0 && end - begin >= s->cfg.resend_max)
		end = begin + s->cfg.resend_max - 1;
	if (s->rs_active && begin >= s->rs_begin && end <= s->rs_end) {
		/* The request being serviced already covers this one: what it asks for is sent
		 * or on its way, and answering again would only send the same messages twice. */
		ctl_emit(s, CTL_EV_PROTOCOL, "redundant ResendRequest suppressed");
		return;
	}
	s->rs_active = true;
	s->rs_begin = begin;
	s->rs_next = begin;
	s->rs_end = end;
}

static bool no_resend(const struct ctl_session *s, const char *type)
{
	if (fix_dict_is_admin_msgtype(type))
		return true;
	if (s->no_resend[0] == '\0')
		return false;
	char key[8];
	size_t n = strlen(type);
	if (n > 4)
		return false;
	key[0] = ',';
	memcpy(key + 1, type, n);
	key[n + 1] = ',';
	key[n + 2] = '\0';
	return strstr(s->no_resend, key) != NULL;
}

struct rs_ctx {
	struct ctl_session *s;
	int64_t now;
};

static int resend_one(void *arg, uint64_t seq, const char *msg, size_t len)
{
	struct rs_ctx *c = arg;
	struct ctl_session *s = c->s;
	if (seq < s->rs_next || seq > s->rs_end)
		return 0;
	if (s->rs_count >= s->cfg.resend_batch)
		return 1;
	struct fix_msg m = {.fields = s->fields_rs, .cap = s->cfg.max_fields};
	if (fix_parse(&m, msg, len) != FIX_OK || no_resend(s, m.hdr.msg_type))
		return 0; /* left inside the gap that the next GapFill covers */
	if (seq > s->rs_next)
		ctl_send_gap_fill(s, c->now, s->rs_next, seq);
	struct ctl_hdr_field ex[MAX_HDR];
	size_t n = 0;
	const struct fix_field *orig = ctl_hf(&m, m.hdr.i_sending_time);
	for (int16_t i = 3; i < m.hdr.n_header && n < MAX_HDR - 6; i++) {
		uint32_t t = m.fields[i].tag;
		if (t == 34 || t == 43 || t == 49 || t == 52 || t == 56 || t == 122)
			continue;
		ex[n++] = (struct ctl_hdr_field){t, m.fields[i].val, m.fields[i].len};
	}
	char t0[32];
	const char *ov = orig != NULL ? orig->val : t0;
	size_t ol = orig != NULL ? orig->len : fix_format_utc(&s->tc, c->now, FIX_TIME_MS, t0);
	ctl_send_msg(s, c->now, m.hdr.msg_type, ex, n, m.buf + m.hdr.body_off,
		     m.hdr.trailer_off - m.hdr.body_off, true, ov, ol, seq, false);
	s->rs_next = seq + 1;
	s->rs_count++;
	return 0;
}

int ctl_resend_work(struct ctl_session *s, int64_t now)
{
	if (!s->rs_active)
		return 0;
	struct rs_ctx c = {s, now};
	s->rs_count = 0;
	int rc = s->store.ops->for_each_outbound(s->store.ctx, s->rs_next, s->rs_end, resend_one,
						 &c);
	if (rc != 0 && s->rs_count >= s->cfg.resend_batch)
		return 1; /* yielded: the rest on the next call */
	if (s->rs_next <= s->rs_end)
		ctl_send_gap_fill(s, now, s->rs_next, s->rs_end + 1);
	s->rs_active = false;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Forwarding in place: the same message ctl_session_send_app would send, written by
 * fix_rewrite() around the body where it lies.
 * ------------------------------------------------------------------------------------------- */

/* Header fields beyond the session's own, in the places ctl_send_msg's ascending order gives
 * them. fix_rewrite writes 34, 43, 49, 52, 56, 115, 122, 128 and then its extra bytes, so an
 * extra field fits when it is 115 or 128 (its own slot) or above 128 (appended in ascending
 * order). Anything else (e.g. 50, 97, a second 115, an empty value, which the encoder writes
 * as "tag=" but fix_rewrite omits) would come out in another order than the encoder's: false,
 * and the caller sends a copy. */
static bool place_extras(const struct fix_field *x, size_t n, struct fix_out_header *h, char *buf,
			 size_t cap)
{
	struct ctl_hdr_field ex[MAX_HDR];
	for (size_t i = 0; i < n; i++)
		ex[i] = (struct ctl_hdr_field){x[i].tag, x[i].val, x[i].len};
	sort_hdr(ex, n);
	size_t w = 0;
	for (size_t i = 0; i < n; i++) {
		if (ex[i].len == 0)
			return false;
		if (ex[i].tag == 115 || ex[i].tag == 128) {
			struct fix_str *slot = ex[i].tag == 115 ? &h->on_behalf_of : &h->deliver_to;
			if (slot->len != 0)
				return false;
			*slot = (struct fix_str){ex[i].val, ex[i].len};
			continue;
		}
		if (ex[i].tag < 128)
			return false;
		char t[16];
		int tl = ctl_dec(t, ex[i].tag);
		if (w + (size_t)tl + ex[i].len + 2 > cap)
			return false;
		memcpy(buf + w, t, (size_t)tl);
		w += (size_t)tl;
		buf[w++] = '=';
		memcpy(buf + w, ex[i].val, ex[i].len);
		w += ex[i].len;
		buf[w++] = FIX_SOH;
	}
	h->extra = (struct fix_str){buf, w};
	return true;
}

/* The length ctl_send_msg's encoder would need for h and a body of body_len bytes (its gap
 * is sized for the largest BodyLength the buffer could hold), mirroring fix_rewrite's sizes:
 * a message the copy path could not send is not sent in place either. */
/* MsgType is kept NUL-terminated in 4 bytes: no call to strlen for at most 3 characters. */
static size_t type_len(const char t[4])
{
	return t[0] == '\0' ? 0 : t[1] == '\0' ? 1 : t[2] == '\0' ? 2 : 3;
}
static size_t dec_len(uint64_t v)
{
	size_t n = 1;
	while (v >= 10) {
		v /= 10;
		n++;
	}
	return n;
}
static bool fits_encoder(const struct ctl_session *s, const struct fix_out_header *h,
			 size_t type_len, size_t body_len)
{
	const size_t tl = 21; /* SendingTime at FIX_TIME_MS: YYYYMMDD-HH:MM:SS.sss */
	size_t rest = 3 + type_len + 1 + 3 + dec_len(h->seq) + 1 +
		      3 + h->sender.len + 1 + 3 + tl + 1 + 3 + h->target.len + 1 + h->extra.len;
	if (h->on_behalf_of.len != 0)
		rest += 4 + h->on_behalf_of.len + 1;
	if (h->deliver_to.len != 0)
		rest += 4 + h->deliver_to.len + 1;
	return s->enc_gap + rest + body_len + 7 <= s->out_cap;
}

uint64_t ctl_session_forward_inplace(struct ctl_session *s, int64_t now, const struct fix_msg *m,
				     const struct fix_field *hdr_extra, size_t n_extra,
				     size_t headroom, char **out, size_t *out_len)
{
	if (s->state != CTL_ST_ACTIVE || n_extra > MAX_HDR - 6 ||
	    fix_dict_is_admin_msgtype(m->hdr.msg_type) || m->hdr.trailer_off < m->hdr.body_off)
		return 0;
	uint64_t seq = s->next_out;
	struct fix_out_header h = {
		.ver = s->cfg.ver,
		.msg_type = m->hdr.msg_type,
		.sender = {s->sender, s->sender_len},
		.target = {s->target, s->target_len},
		.seq = seq,
		.sending_time_ns = now < 0 ? 0 : now,
		.precision = FIX_TIME_MS,
		.tc = &s->tc,
	};
	char extra[FIX_MAX_REWRITE_HEADER];
	if ((n_extra != 0 && !place_extras(hdr_extra, n_extra, &h, extra, sizeof(extra))) ||
	    !fits_encoder(s, &h, type_len(m->hdr.msg_type),
			  m->hdr.trailer_off - m->hdr.body_off))
		return 0;
	char *msg;
	size_t len;
	/* Nothing is written when this fails (no headroom, header too big): the message is
	 * intact for the caller's copy path. */
	if (fix_rewrite(m, &h, headroom, &msg, &len) != FIX_OK)
		return 0;
	/* Journal first, exactly as ctl_send_msg does: a ResendRequest may ask for it as soon
	 * as the caller transmits it. */
	s->store.ops->save_outbound(s->store.ctx, seq, msg, len);
	s->next_out = seq + 1;
	s->t_last_sent = now;
	*out = msg;
	*out_len = len;
	return seq;
}
