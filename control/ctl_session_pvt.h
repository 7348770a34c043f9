/* control: internals of the session state machine shared by its source files. */
#ifndef CTL_SESSION_PVT_H
#define CTL_SESSION_PVT_H

#include "ctl_session.h"
#include "fix_dict.h"

#define CTL_COMPID_MAX 64
#define CTL_TEXT_MAX 160
#define CTL_NS 1000000000ll

/* A too-high inbound message kept until the gap before it is filled. A "consumed" slot only
 * holds the place of a message already acted on (a Logon or a ResendRequest that arrived too
 * high): when its turn comes the expected number just moves past it. */
struct ctl_qslot {
	uint64_t seq;
	uint32_t len;
	bool used;
	bool consumed;
	char *bytes;
};

struct ctl_session {
	struct ctl_session_cfg cfg;
	struct ctl_session_io io;
	void (*parsed)(void *arg, const struct fix_msg *m); /* ctl_session_set_parsed_hook */
	struct ctl_store store;
	const struct fix_dict *dict;
	char sender[CTL_COMPID_MAX];
	char target[CTL_COMPID_MAX];
	uint32_t sender_len;         /* strlen of sender and target, fixed at creation */
	uint32_t target_len;
	char appl_ver[8];
	char user[CTL_COMPID_MAX];
	char pass[CTL_COMPID_MAX];
	char no_resend[64];          /* ",D,8," style list of MsgTypes never resent */

	enum ctl_state state;
	uint64_t next_in;
	uint64_t next_out;
	uint32_t hbi_s;
	int64_t t_state;             /* when the current state was entered */
	int64_t t_last_recv;
	int64_t t_last_sent;
	bool test_req_out;           /* a TestRequest of ours is unanswered */
	bool sent_reset;             /* our Logon carried 141=Y (initiator) */

	/* Our outstanding ResendRequest: [rr_begin, rr_end] is what we still miss. */
	bool rr_active;
	uint64_t rr_begin;
	uint64_t rr_end;
	int64_t t_rr;                /* when it was sent */

	/* Servicing the peer's ResendRequest: rs_next is the first number not yet answered,
	 * rs_end the last number to answer. */
	bool rs_active;
	uint64_t rs_begin;           /* first number the request being serviced asked for */
	uint64_t rs_next;
	uint64_t rs_end;
	uint32_t rs_count;           /* app messages resent in this call */

	struct ctl_qslot *queue;
	uint32_t nqueue;
	uint32_t nqueued;            /* slots in use: with none, the queue is not scanned per message */
	bool draining;

	/* Scratch, allocated at creation. */
	char *out;                   /* encode buffer, one message at a time */
	size_t out_cap;
	size_t enc_gap;              /* the encoder's gap before 35= with this out_cap and version */
	struct fix_field *fields_in; /* on_bytes parse */
	struct fix_field *fields_q;  /* queued message being replayed */
	struct fix_field *fields_rs; /* stored message being resent */
	struct fix_time_cache tc;
	/* The last valid SendingTime received and its value (st_len 0: none yet). */
	char st_text[32];
	uint32_t st_len;
	int64_t st_ns;
};

/* ctl_session_out.c: encoding and sending. */
struct ctl_hdr_field {
	uint32_t tag;
	const char *val;
	uint32_t len;
};

void ctl_send_msg(struct ctl_session *s, int64_t now, const char *msg_type,
		  const struct ctl_hdr_field *extra, size_t n_extra, const char *body,
		  size_t body_len, bool poss_dup, const char *orig_time, size_t orig_len,
		  uint64_t seq, bool persist);
void ctl_send_admin(struct ctl_session *s, int64_t now, const char *msg_type,
		    const char *body, size_t body_len);
void ctl_send_logon(struct ctl_session *s, int64_t now, bool reset, bool next_expected);
void ctl_send_heartbeat(struct ctl_session *s, int64_t now, const char *id, size_t id_len);
void ctl_send_test_request(struct ctl_session *s, int64_t now);
void ctl_send_logout(struct ctl_session *s, int64_t now, const char *text);
void ctl_send_resend_request(struct ctl_session *s, int64_t now, uint64_t begin, uint64_t end);
void ctl_send_gap_fill(struct ctl_session *s, int64_t now, uint64_t seq, uint64_t new_seq);
/* Reject(3) of m. ref_tag < 0: no RefTagID. */
void ctl_send_reject(struct ctl_session *s, int64_t now, const struct fix_msg *m, int reason,
		     int64_t ref_tag, const char *text);
/* Starts (or extends) servicing a ResendRequest [begin, end] (end 0: up to the last sent). */
void ctl_resend_start(struct ctl_session *s, int64_t now, uint64_t begin, uint64_t end);
/* Continues servicing; returns 1 while more is pending. */
int ctl_resend_work(struct ctl_session *s, int64_t now);

/* Helpers shared by both files. */
void ctl_emit(struct ctl_session *s, enum ctl_event ev, const char *text);
void ctl_set_next_in(struct ctl_session *s, uint64_t v);
const char *ctl_reason_text(int reason);
int ctl_dec(char *out, uint64_t v); /* decimal, returns length */

static inline const struct fix_field *ctl_hf(const struct fix_msg *m, int16_t i)
{
	return i >= 0 && (uint32_t)i < m->nfields ? &m->fields[i] : NULL;
}

static inline bool ctl_eq(const struct fix_field *f, const char *s)
{
	size_t n = 0;
	while (s[n] != '\0')
		n++;
	return f != NULL && f->len == n && __builtin_memcmp(f->val, s, n) == 0;
}

/* ctl_eq with the length known. */
static inline bool ctl_eqn(const struct fix_field *f, const char *s, size_t n)
{
	return f != NULL && f->len == n && __builtin_memcmp(f->val, s, n) == 0;
}

#endif
