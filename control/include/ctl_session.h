/* control: the FIX session state machine (sans-IO), one implementation for both roles.
 *
 * The session takes parsed inbound messages, connection events and the current time (ns since
 * the Unix epoch, always passed in) and answers through the callbacks of struct ctl_session_io,
 * synchronously, while the call is running:
 *   send(bytes)      transmit these bytes on the connection (valid during the callback only);
 *   deliver(msg)     an in-sequence application message for the application;
 *   disconnect(why)  close the connection now (everything sent before is to be flushed first);
 *   event(ev, text)  logged on, logged out, refused, reset, gap, protocol problem.
 * It never touches sockets, buffers of the transport or the clock. Sequence numbers and the
 * outbound messages (the resend source) live in a struct ctl_store, written before each send;
 * the caller flushes the store at the end of its batch (store->ops->flush) according to the
 * store's policy. Callbacks may call back into the session (e.g. deliver -> ctl_session_send_app).
 *
 * Call pattern of the owner (a poll loop or a test):
 *   ctl_session_connect(s, now)            when the transport is up (acceptor: when the first
 *                                           Logon of a new connection names this session);
 *   ctl_session_on_bytes / on_message(...)  for each framed inbound message;
 *   ctl_session_on_garbled(s, now)          for bytes the framer discarded;
 *   ctl_session_poll(s, now)                regularly (timers, and pending resend work: call
 *                                           again while it returns 1);
 *   ctl_session_disconnected(s, now)        when the transport went away.
 * See docs/session.md for the states, the rules and the scenarios that cover them.
 */
#ifndef CTL_SESSION_H
#define CTL_SESSION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_store.h"
#include "fix_encode.h"
#include "fix_msg.h"

enum ctl_role { CTL_ROLE_ACCEPTOR = 0, CTL_ROLE_INITIATOR };

enum ctl_state {
	CTL_ST_DISCONNECTED = 0,
	CTL_ST_LOGON_WAIT,   /* connected; acceptor waits for Logon, initiator for its answer */
	CTL_ST_ACTIVE,       /* logged on */
	CTL_ST_LOGOUT_SENT,  /* we sent Logout and wait for the answer or the timeout */
};

enum ctl_event {
	CTL_EV_LOGGED_ON = 0,  /* the Logon exchange completed */
	CTL_EV_LOGGED_OUT,     /* a logged-on session ended; text says why */
	CTL_EV_LOGON_REFUSED,  /* Logon refused (by us: text is the reason; by the venue: its 58) */
	CTL_EV_RESET,          /* both sequence numbers were reset to 1 (141=Y) */
	CTL_EV_GAP,            /* inbound gap: a ResendRequest was sent */
	CTL_EV_PROTOCOL,       /* a protocol problem handled here (reject sent, garbled, ...) */
};

/* Authentication hook (acceptor). Called with the Logon and its Username(553)/Password(554)
 * (NULL/0 when absent). Return 0 to accept; nonzero to refuse, after writing a NUL-terminated
 * reason into text (at most text_cap bytes), which becomes the Logout's Text(58). */
typedef int (*ctl_auth_fn)(void *arg, const struct fix_msg *logon, const char *user,
			   size_t user_len, const char *pass, size_t pass_len, char *text,
			   size_t text_cap);

struct ctl_session_io {
	void *arg;
	void (*send)(void *arg, const char *bytes, size_t len);
	void (*deliver)(void *arg, const struct fix_msg *m);
	void (*disconnect)(void *arg, const char *reason);
	void (*event)(void *arg, enum ctl_event ev, const char *text); /* may be NULL */
};

struct ctl_session_cfg {
	enum ctl_role role;
	enum fix_version ver;
	const char *sender_comp_id;   /* ours (49 on what we send) */
	const char *target_comp_id;   /* theirs */
	uint32_t heartbeat_s;         /* initiator: the HeartBtInt proposed; acceptor: unused */
	/* Timer factors in percent of HeartBtInt (QuickFIX: 120 and 240, the defaults). */
	uint32_t test_request_pct;    /* silence after which a TestRequest is sent */
	uint32_t timeout_pct;         /* silence after which the connection is dropped */
	uint32_t sending_time_tolerance_s; /* default 120; CTL_NO_TIME_CHECK disables */
	uint32_t logon_timeout_s;     /* default 10 */
	uint32_t logout_timeout_s;    /* default 2 */
	bool reset_on_logon;          /* reset both numbers at each Logon (initiator sends 141=Y) */
	bool next_expected_seq;       /* send and honour NextExpectedMsgSeqNum(789) on Logon
				       * (only where the version has it: FIX.4.4, FIXT.1.1) */
	bool no_validate;             /* skip dictionary validation of inbound messages */
	bool allow_user_defined;      /* inbound tags >= 5000 (FIX_USER_TAG_MIN: FIX's user-defined
				       * range, and venues' private 10000+) pass validation even when
				       * the dictionary does not define them, or not for the MsgType;
				       * they still need a value. Undefined tags below 5000 are
				       * rejected as before. Default false: the acceptance scenarios
				       * (14a) expect a Reject of 5000. */
	const char *default_appl_ver_id; /* FIXT.1.1: DefaultApplVerID(1137); default "9" */
	const char *username, *password; /* initiator: 553/554 on our Logon (NULL: none) */
	const char *no_resend_types;  /* comma-separated MsgTypes gap-filled instead of resent */
	uint32_t resend_batch;        /* messages resent per call before yielding (default 256) */
	uint32_t resend_max;          /* most sequence numbers serviced per ResendRequest (0 = all) */
	uint32_t resend_request_chunk;/* our ResendRequests ask for at most this many (0: to the end) */
	uint32_t resend_retry_s;      /* ask again when a gap is still open after this long
				       * (0: 2 x HeartBtInt, at least 10 s) */
	uint32_t max_queue;           /* too-high inbound messages kept while a gap fills (64) */
	uint32_t max_msg;             /* largest message handled, bytes (default 8192) */
	uint32_t max_fields;          /* field index size for stored/queued messages (512) */
	ctl_auth_fn auth;
	void *auth_arg;
};

#define CTL_NO_TIME_CHECK UINT32_MAX

struct ctl_session;

/* Fills cfg with the defaults (acceptor, FIX.4.4, QuickFIX timings); the caller then sets
 * role, version and CompIDs at least. */
void ctl_session_cfg_init(struct ctl_session_cfg *cfg);

/* Allocates a session (all memory it will ever use is allocated here). Strings of cfg are
 * copied. Returns NULL with a reason in err on a bad configuration. */
struct ctl_session *ctl_session_create(const struct ctl_session_cfg *cfg,
				       const struct ctl_session_io *io, struct ctl_store store,
				       char *err, size_t err_cap);
void ctl_session_destroy(struct ctl_session *s);
/* A hint for the owner, called with io.arg (fn NULL: none, the default): m was parsed without
 * error and is about to be checked (validation, sequence), then perhaps delivered. For starting
 * memory loads the delivery will need (the multiplexer prefetches its routing table); fn must
 * not call into the session. */
void ctl_session_set_parsed_hook(struct ctl_session *s,
				 void (*fn)(void *arg, const struct fix_msg *m));

enum ctl_state ctl_session_state(const struct ctl_session *s);
bool ctl_session_logged_on(const struct ctl_session *s);
/* Next inbound sequence number expected and next outbound to be sent. */
uint64_t ctl_session_next_in(const struct ctl_session *s);
uint64_t ctl_session_next_out(const struct ctl_session *s);
/* HeartBtInt in force (acceptor: the one the peer's Logon asked for). */
uint32_t ctl_session_heartbeat_s(const struct ctl_session *s);

/* A transport connection is up for this session. Returns -1 and changes nothing when the
 * session already has one: a second connection for the same identity must be refused (closed)
 * by the caller without touching this session. The initiator sends its Logon here. */
int ctl_session_connect(struct ctl_session *s, int64_t now);
/* The transport went away (peer closed, reset, ...). */
void ctl_session_disconnected(struct ctl_session *s, int64_t now);

/* One framed message: parses it with the session's own field index and handles it. */
void ctl_session_on_bytes(struct ctl_session *s, int64_t now, const char *buf, size_t len);
/* One message already parsed by the caller; parse_err is fix_parse's result (content errors
 * such as an empty value are answered with a Reject, framing errors count as garbled). */
void ctl_session_on_message(struct ctl_session *s, int64_t now, const struct fix_msg *m,
			    int parse_err);
/* The framer discarded garbled bytes: ignored once logged on, fatal before. */
void ctl_session_on_garbled(struct ctl_session *s, int64_t now);

/* Timers (heartbeat, TestRequest, timeouts) and pending resend work. Returns 1 when work is
 * still pending (call again), 0 otherwise. */
int ctl_session_poll(struct ctl_session *s, int64_t now);

/* Sends an application message. hdr_extra: header fields beyond the session's own (e.g. 97,
 * 115, 128, 1128), any order; body: encoded "tag=value<SOH>..." body fields. Returns the
 * sequence number used, or 0 when not logged on (nothing sent) or the message is too big. */
uint64_t ctl_session_send_app(struct ctl_session *s, int64_t now, const char *msg_type,
			      const struct fix_field *hdr_extra, size_t n_extra,
			      const char *body, size_t body_len);
/* Forwards the application message m (parsed from a writable buffer, e.g. by another session's
 * on_bytes) in place: exactly the bytes ctl_session_send_app(s, now, m's MsgType, hdr_extra,
 * n_extra, m's body) would send, built by fix_rewrite() around m's body where it lies (new
 * header in the headroom bytes in front of m->buf and in m's old header, new trailer over the
 * old one). Same rules as send_app: only when logged on, the next MsgSeqNum, the session's
 * BeginString and CompIDs, SendingTime now, the message journaled in the store before this
 * returns. It does NOT call io.send: the caller transmits *out (*out_len bytes, in m's buffer)
 * itself. Returns the sequence number used, or 0 when it did nothing and m's bytes are
 * untouched: not logged on, an admin MsgType, not enough headroom, a message send_app could
 * not send either (too big), or extra header fields fix_rewrite cannot place in the encoder's
 * ascending order (tags other than 115, 128 and tags above 128, or empty values). After a 0
 * the caller may use ctl_session_send_app for the same message, with the same outcome as if
 * it had never tried. After success m's header fields are overwritten: read none of them. */
uint64_t ctl_session_forward_inplace(struct ctl_session *s, int64_t now, const struct fix_msg *m,
				     const struct fix_field *hdr_extra, size_t n_extra,
				     size_t headroom, char **out, size_t *out_len);
/* The application refuses an inbound application message: BusinessMessageReject(j) with
 * RefSeqNum, RefMsgType, BusinessRejectReason(380) and Text. */
void ctl_session_business_reject(struct ctl_session *s, int64_t now, const struct fix_msg *m,
				 int reason, const char *text);
/* Starts an orderly logout (Logout with optional text, then wait for the answer). */
void ctl_session_logout(struct ctl_session *s, int64_t now, const char *text);
/* Sets the sequence numbers (operator action, sessions not logged on). */
int ctl_session_set_seqs(struct ctl_session *s, uint64_t next_in, uint64_t next_out);

#endif
