/* control: the multiplexer (sans-IO). It owns, for every configured venue session, one FIX
 * initiator session toward the venue and one acceptor session per attached user, and applies
 * the customer's rules (PRODUCT.md §3-§5): the first user's Logon logs on to the venue (the
 * user's reply is held until then), later users join at once, the last user's Logout logs out
 * of the venue, a single user's connection failure logs the venue out and with it every other
 * user (after the venue's own Logout, so they receive its cancellations), venue failures log
 * every user out with the cause; messages are routed by the keys of ctl_route and kept durably
 * for users that are offline, then delivered when they reconnect.
 *
 * Like the session layer it never touches sockets or the clock: the owner (the fixmux process,
 * or a test) reports transport events and bytes, and the multiplexer answers through the
 * callbacks of struct ctl_mux_io, synchronously. Connection ids are chosen by the owner and
 * must be below CTL_MUX_MAX_CONNS (a slot number is the natural choice).
 *
 * Two ways in: ctl_mux_*_bytes() copies what it is given into the connection's reassembly
 * buffer and forwards messages re-encoded around a copy of their body; ctl_mux_*_segment()
 * hands over a writable receive buffer (an mbuf) and a message that fills it exactly is
 * forwarded in place (its header rewritten in front of the body, ARCHITECTURE.md "Zero-copy
 * forwarding"), through io.*_send_inplace. Both make the same decisions and send the same
 * bytes; docs/multiplexing.md says when the in-place path applies and when it falls back.
 */
#ifndef CTL_MUX_H
#define CTL_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_config.h"

/* Client connections (ids 0 .. CTL_MUX_MAX_CONNS - 1). A slot costs a few dozen bytes until
 * it is first used; then it keeps its reassembly buffer (2 x max_msg) for good. */
#define CTL_MUX_MAX_CONNS 4096
#define CTL_MUX_MAX_PENDING 65536 /* messages kept for one offline user */

struct ctl_mux_io {
	void *arg;
	/* client side */
	void (*client_send)(void *arg, uint32_t conn, const char *bytes, size_t len);
	void (*client_close)(void *arg, uint32_t conn, const char *why);
	/* venue side: the owner opens a TCP connection and reports ctl_mux_venue_connected or
	 * ctl_mux_venue_closed */
	void (*venue_connect)(void *arg, uint32_t vs, uint32_t addr, uint16_t port);
	void (*venue_send)(void *arg, uint32_t vs, const char *bytes, size_t len);
	void (*venue_close)(void *arg, uint32_t vs, const char *why);
	/* control-path log line (may be NULL) */
	void (*log)(void *arg, const char *line);
	/* May be NULL. True while the venue connection cannot take more (its send queue and
	 * backlog are nearly full): client messages for it are then refused to their senders
	 * ("venue session busy") instead of piling up until the connection must be dropped. */
	bool (*venue_busy)(void *arg, uint32_t vs);
	/* Zero-copy forwarding (both may be NULL: forwarded messages then go out through
	 * client_send/venue_send as copies). Called only inside ctl_mux_client_segment() or
	 * ctl_mux_venue_segment(), at most once per call: the segment's message was forwarded
	 * with its header rewritten in place (new header in the segment's headroom, new trailer
	 * where the old one was; the body bytes neither moved nor copied). msg/len lie within
	 * [buf - headroom, buf + len) of that call. The owner transmits exactly those bytes on the
	 * destination's connection, after anything sent to it earlier in the same call, and keeps
	 * the buffer alive until transmitted (e.g. hands the mbuf itself to TCP) instead of
	 * releasing it after the call. Until the segment call returns the multiplexer may still
	 * read body bytes of that message (e.g. the MDReqID of an unsubscribe it releases), so
	 * the owner must not change them before then. */
	void (*client_send_inplace)(void *arg, uint32_t conn, const char *msg, size_t len);
	void (*venue_send_inplace)(void *arg, uint32_t vs, const char *msg, size_t len);
};

enum ctl_mux_counter {
	CTL_MUX_CLIENT_MSGS_IN = 0,   /* application messages from users */
	CTL_MUX_FORWARDED_TO_VENUE,
	CTL_MUX_VENUE_MSGS_IN,        /* application messages from venues */
	CTL_MUX_FORWARDED_TO_USER,
	CTL_MUX_PENDING_STORED,       /* kept for an offline user */
	CTL_MUX_PENDING_DELIVERED,
	CTL_MUX_UNROUTABLE_DROPPED,
	CTL_MUX_UNROUTABLE_TO_OWNER,
	CTL_MUX_ID_CONFLICTS,         /* refused locally: ID owned by another user */
	CTL_MUX_LOGONS_REFUSED,       /* unknown user, wrong password, address, duplicate, ... */
	CTL_MUX_USER_FAILURES,        /* connection failures that took a venue session down */
	CTL_MUX_VENUE_LOGONS,
	CTL_MUX_VENUE_FAILURES,
	CTL_MUX_GARBLED,
	CTL_MUX_JOURNAL_ERRORS,       /* a journal append failed (the log line says why) */
	CTL_MUX_RATE_LIMITED,         /* refused to the sender: a user's or session's rate */
	CTL_MUX_FILTER_DENIED,        /* refused to the sender by a deny rule */
	CTL_MUX_FILTER_ALERTS,        /* alert rules that matched (message forwarded) */
	CTL_MUX_LOGON_STORM_REFUSED,  /* connections refused: too many failed logons from there */
	CTL_MUX_ROUTE_SNAPSHOTS,      /* routing records compacted into a snapshot */
	CTL_MUX_POSSRESEND_DROPPED,   /* PossResend of an ID already forwarded: not sent again */
	CTL_MUX_VENUE_BUSY,           /* refused to the sender: the venue connection pushed back */
	/* How forwarded messages left (both directions; forwarded_to_venue + forwarded_to_user =
	 * forwarded_inplace + forwarded_copied): */
	CTL_MUX_FORWARDED_INPLACE,    /* header rewritten in the receive buffer, body not moved */
	CTL_MUX_FORWARDED_COPIED,     /* re-encoded around a copy of the body */
	CTL_MUX_SEGMENTS_REASSEMBLED, /* *_segment input that was not exactly one whole message
				       * (part of one, several, or after a partial one): copied
				       * into the connection's reassembly buffer */
	CTL_MUX_REFUSED_WITHOUT_LOGOUT, /* Logons refused by closing the connection without a
					 * Logout: the user may be missing messages and would
					 * misread its number (also counted in logons_refused) */
	CTL_MUX__COUNTERS
};
extern const char *const ctl_mux_counter_names[CTL_MUX__COUNTERS];

enum ctl_mux_venue_state { CTL_VS_DOWN = 0, CTL_VS_CONNECTING, CTL_VS_LOGON, CTL_VS_UP,
			   CTL_VS_LOGOUT };

struct ctl_mux;

/* Opens every session's journal under cfg->app.store_dir (venue sessions in venue/<name>,
 * client sessions in user/<user>@<session>) and recovers routing tables and pending messages.
 * cfg must outlive the multiplexer. NULL with the reason in err on failure. */
struct ctl_mux *ctl_mux_create(const struct ctl_config *cfg, const struct ctl_mux_io *io,
			       int64_t now, char *err, size_t err_cap);
/* Closes journals and frees everything (no messages are sent: use ctl_mux_shutdown first). */
void ctl_mux_destroy(struct ctl_mux *m);

/* A user's TCP connection was accepted from src (IPv4, host order). */
void ctl_mux_client_accepted(struct ctl_mux *m, uint32_t conn, uint32_t src, int64_t now);
/* Bytes received on it, in order. */
void ctl_mux_client_bytes(struct ctl_mux *m, uint32_t conn, const char *bytes, size_t len,
			  int64_t now);
/* Zero-copy input, otherwise exactly like ctl_mux_client_bytes(): buf is writable, with
 * headroom writable bytes in front of it, valid for the call. When the segment holds exactly
 * one whole message and no earlier bytes wait in the connection's reassembly buffer, the
 * message is parsed where it lies, and when it is forwarded with its body unchanged to one
 * destination, its header is rewritten in place and handed to io.venue_send_inplace (see
 * struct ctl_mux_io; counted as forwarded_inplace). Anything else takes the copy path (a
 * segment that is not one whole message counts as segments_reassembled; a message refused,
 * queued, rewritten, or with no inplace callback, as before). buf (and its headroom) is
 * changed only by an in-place forward, which always ends in that callback; when the callback
 * was not called, the owner may release the buffer as after ctl_mux_client_bytes(). Headroom of
 * FIX_MAX_REWRITE_HEADER (fix_encode.h) bytes is always enough; less works when the new
 * header is not much longer than the old one, else the message is copied. */
void ctl_mux_client_segment(struct ctl_mux *m, uint32_t conn, char *buf, size_t len,
			    size_t headroom, int64_t now);
/* The connection is gone (peer closed or reset). After the multiplexer's own client_close
 * the slot is already free and this call is a no-op; the owner may reuse the id at once. */
void ctl_mux_client_closed(struct ctl_mux *m, uint32_t conn, int64_t now);

void ctl_mux_venue_connected(struct ctl_mux *m, uint32_t vs, int64_t now);
void ctl_mux_venue_bytes(struct ctl_mux *m, uint32_t vs, const char *bytes, size_t len,
			 int64_t now);
/* Zero-copy input from the venue, like ctl_mux_client_segment() (io.client_send_inplace). */
void ctl_mux_venue_segment(struct ctl_mux *m, uint32_t vs, char *buf, size_t len,
			   size_t headroom, int64_t now);
/* The venue connection is gone or could not be opened; why goes into users' Logout text. */
void ctl_mux_venue_closed(struct ctl_mux *m, uint32_t vs, const char *why, int64_t now);

/* Timers of every session, held Logons to answer, pending messages to deliver, journal
 * housekeeping: call regularly (every millisecond or so). The byte handlers above do only the
 * work their bytes bring, so their cost does not grow with the number of sessions. */
void ctl_mux_poll(struct ctl_mux *m, int64_t now);
/* Orderly shutdown: users and venues are logged out; returns true once everything is down. */
bool ctl_mux_shutdown(struct ctl_mux *m, int64_t now);

/* Introspection for fixmuxctl and tests. */
enum ctl_mux_venue_state ctl_mux_venue_state(const struct ctl_mux *m, uint32_t vs);
bool ctl_mux_user_online(const struct ctl_mux *m, uint32_t user, uint32_t vs);
size_t ctl_mux_user_pending(const struct ctl_mux *m, uint32_t user, uint32_t vs);
uint64_t ctl_mux_counter(const struct ctl_mux *m, enum ctl_mux_counter c);
/* Routing records a venue journal takes before they are compacted into a snapshot (default
 * CTL_MUX_ROUTE_COMPACT; tests lower it). */
#define CTL_MUX_ROUTE_COMPACT 262144
void ctl_mux_set_route_compaction(struct ctl_mux *m, uint64_t records);

/* ------------------------------------------------------------------------------------------
 * Administration (control/ctl_mux_admin.c): run-time changes and richer introspection for
 * fixmuxctl. Control path only, on the multiplexer's own thread like every other call here.
 * Each change is logged through io.log. Setters return 0, or -1 with the reason in err.
 * ---------------------------------------------------------------------------------------- */

/* Index of the user / venue session with that name (users[].name, sessions[].name), or -1. */
int ctl_mux_find_user(const struct ctl_mux *m, const char *name);
int ctl_mux_find_session(const struct ctl_mux *m, const char *name);

struct ctl_mux_session_info {
	enum ctl_mux_venue_state state;
	uint64_t next_in, next_out;     /* sequence numbers expected from / sent next to the venue */
	uint32_t heartbeat_s;           /* proposed at the next Logon */
	uint32_t users_attached;        /* configured users of the session */
	uint32_t users_online;
	uint64_t pending;               /* messages kept for its offline users */
	int64_t last_activity;          /* last message received from the venue (0: never) */
	uint32_t rate, burst;           /* the session's rate limit (0: unlimited) */
	uint64_t rate_refused;          /* messages the session's bucket refused */
	uint32_t filter_rules;
};
int ctl_mux_session_info(const struct ctl_mux *m, uint32_t vs, struct ctl_mux_session_info *out);

struct ctl_mux_user_info {
	bool online;                    /* logged on to the venue session */
	bool connected;                 /* a TCP connection carries this client session */
	uint32_t src;                   /* its source address (host order), 0 when not connected */
	uint64_t next_in, next_out;     /* sequence numbers in the user's own numbering */
	uint64_t pending;               /* messages kept while it is offline */
	int64_t last_activity;          /* last message received from the user (0: never) */
	uint32_t rate, burst;
	uint64_t rate_refused;
	uint32_t filter_rules;
};
/* -1 when the user is not attached to the venue session. */
int ctl_mux_user_info(const struct ctl_mux *m, uint32_t user, uint32_t vs,
		      struct ctl_mux_user_info *out);

/* Logs the user out of every venue session it is logged on to (an orderly Logout with text
 * why: the venue session stays up for the others, or is logged out if it was the last). The
 * number of client sessions logged out; -1 for an unknown user. */
int ctl_mux_logout_user(struct ctl_mux *m, uint32_t user, const char *why, int64_t now);

/* New token buckets (full) for a user's client sessions / a venue session; rate 0 = unlimited,
 * burst 0 = rate. */
int ctl_mux_set_user_rate(struct ctl_mux *m, uint32_t user, uint32_t rate, uint32_t burst,
			  int64_t now, char *err, size_t err_cap);
int ctl_mux_set_session_rate(struct ctl_mux *m, uint32_t vs, uint32_t rate, uint32_t burst,
			     int64_t now, char *err, size_t err_cap);

/* Reads path (a configuration file like the one fixmux started with) and replaces the filter
 * rules of every user and venue session by the file's, matched by name. Every new rule set is
 * compiled first; only if all compile are they swapped in, so a broken file leaves the old
 * rules serving and err says why. Users and sessions the file does not name keep theirs. */
int ctl_mux_reload_filters(struct ctl_mux *m, const char *path, char *err, size_t err_cap);

/* HeartBtInt proposed at the venue session's next Logon (vs = UINT32_MAX: every session). */
int ctl_mux_set_heartbeat(struct ctl_mux *m, uint32_t vs, uint32_t seconds, char *err,
			  size_t err_cap);

/* Sets the venue session's sequence numbers. Refused while it is connected unless force
 * (forcing a logged-on session out of step usually ends in a resend or a Logout). */
int ctl_mux_set_seqs(struct ctl_mux *m, uint32_t vs, uint64_t next_in, uint64_t next_out,
		     bool force, char *err, size_t err_cap);

const char *ctl_mux_venue_state_name(enum ctl_mux_venue_state st);

#endif
