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
 * This is the control-path implementation: message bodies are copied once when forwarded.
 * The zero-copy data path (header rewrite in the mbuf, ARCHITECTURE.md) is to be built on the
 * data cores with the same routing decisions.
 */
#ifndef CTL_MUX_H
#define CTL_MUX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_config.h"

#define CTL_MUX_MAX_CONNS 256
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
/* The connection is gone (peer closed or reset). After the multiplexer's own client_close
 * the slot is already free and this call is a no-op; the owner may reuse the id at once. */
void ctl_mux_client_closed(struct ctl_mux *m, uint32_t conn, int64_t now);

void ctl_mux_venue_connected(struct ctl_mux *m, uint32_t vs, int64_t now);
void ctl_mux_venue_bytes(struct ctl_mux *m, uint32_t vs, const char *bytes, size_t len,
			 int64_t now);
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

#endif
