/* control: multiplexer internals shared by ctl_mux.c (sessions, logon/logout rules) and
 * ctl_mux_fwd.c (forwarding, local rejects, pending messages). */
#ifndef CTL_MUX_PVT_H
#define CTL_MUX_PVT_H

#include "ctl_journal.h"
#include "ctl_mux.h"
#include "ctl_ratelimit.h"
#include "fix_filter.h"
#include "ctl_route.h"
#include "ctl_session.h"

#define MUX_SCRATCH (64 * 1024)  /* bodies being rewritten, local rejects */
#define MUX_FIELDS 512
#define MUX_TEXT 160

/* Application record types in the journals. */
enum mux_rec {
	MUX_REC_PENDING = 1,     /* user journal: msg type NUL body, kept for an offline user */
	MUX_REC_DELIVER = 2,     /* user journal: pending #k sent as user seq s */
	MUX_REC_ROUTE = 3,       /* venue journal: a ctl_route record */
	MUX_REC_CLEAR = 4,       /* user journal: every earlier PENDING/DELIVER is void */
};

/* True when "<SOH>35=<c><SOH>" lies within the first 32 bytes (at most len) of msg, as memmem
 * would find it. Not static for tests/control/test_mux_peek.c. */
bool ctl_mux_head_has_type(const char *msg, size_t len, char c);

enum user_state { US_OFFLINE = 0, US_HELD, US_ONLINE };

struct pending_msg {
	char type[4];
	char *body;
	size_t len;
};

struct mux_rx {
	struct fix_framer fr;
	char *buf;
	size_t len, cap;
};

struct mux_user {                   /* one client session: (user, venue session) */
	struct ctl_mux *mux;
	uint32_t user, vs;
	struct ctl_session *s;
	struct ctl_journal *j;
	enum user_state st;
	struct ctl_bucket bucket;       /* the user's rate limit */
	struct fix_filter *filter;      /* the user's rules, NULL when none */
	int32_t conn;                   /* -1 when not connected */
	bool orderly;                   /* the user sent Logout: its disconnect is not a failure */
	bool we_logged_out;             /* we started the Logout (cascade, shutdown) */
	/* The user may not have received every message we numbered for it (recovered from the
	 * journal with messages sent, or its last connection ended without a completed Logout
	 * exchange): a Logout refusing its next Logon must not carry a number it may misread
	 * (docs/multiplexing.md "Refusing a Logon when the user may be behind"). */
	bool uncertain;
	bool in_logout;                 /* the session is handling the user's Logout */
	char *held;                     /* the held Logon, until the venue's outcome is known */
	size_t held_len;
	char refuse[MUX_TEXT];          /* set when the venue logon failed: the Logout text */
	/* messages kept while offline, oldest first: pend[pend_head .. pend_head + pend_n) */
	struct pending_msg *pend;
	uint64_t pend_base;             /* record number of pend[pend_head] */
	uint32_t pend_head, pend_n;
};

struct mux_venue {
	struct ctl_mux *mux;
	uint32_t idx;
	struct ctl_session *s;
	struct ctl_journal *j;
	struct ctl_route *route;
	enum ctl_mux_venue_state st;
	struct mux_rx rx;
	char cause[MUX_TEXT];           /* why it is going down: the users' Logout text */
	bool cascade;                   /* going down because of a user failure or a venue event */
	struct ctl_bucket bucket;       /* the venue session's rate limit over all its users */
	struct fix_filter *filter;      /* the session's rules, NULL when none */
	uint64_t route_records;         /* routing records appended since the last snapshot */
	uint64_t snap_records;          /* records in the last snapshot */
	uint16_t dropcopy_user;         /* index into users[] of a DropCopy session's single user */
	struct mux_user **users;        /* this session's client sessions */
	uint32_t n_users;
};

struct mux_conn {
	bool used;
	uint32_t src;
	struct mux_rx rx;
	struct mux_user *u;             /* NULL until the Logon named a client session */
};

/* The zero-copy context (ctl_mux_client_segment / ctl_mux_venue_segment): set while the
 * segment's one message is handled where it lies, so that forwarding can recognise that
 * message (its parsed buf is this buf) and rewrite its header in place, once: the context is
 * cleared as soon as the header bytes have been overwritten. */
struct mux_zc {
	const char *buf;                /* the segment's message; NULL: no context */
	size_t len;
	size_t headroom;                /* writable bytes in front of buf */
	bool from_venue;                /* id is a venue session index, else a connection id */
	uint32_t id;
};

#define MUX_SOURCES 256          /* source addresses tracked for failed logons */

struct logon_source {
	uint32_t addr;
	struct ctl_bucket failures;     /* per minute: time is passed in minutes/1e9 units */
};

struct ctl_mux {
	const struct ctl_config *cfg;
	struct ctl_mux_io io;
	struct mux_venue *venues;
	struct mux_user *users;         /* all client sessions */
	uint32_t n_users;
	struct mux_conn *conns;
	struct fix_field fields[MUX_FIELDS];
	struct fix_filter_scratch *scratch_hs; /* one scanner: the multiplexer's thread */
	struct logon_source sources[MUX_SOURCES];
	char scratch[MUX_SCRATCH];
	uint64_t exec_seq;              /* ExecIDs of local rejects */
	int64_t start_ns;               /* creation time: makes those ExecIDs unique per run */
	bool shutting_down;
	int64_t now;                    /* time of the call running (callbacks carry none) */
	struct mux_zc zc;
	size_t rx_cap;                  /* reassembly buffer per connection: 2 x max message,
					 * allocated when its slot is first accepted */
	uint64_t route_compact_every;   /* snapshot a venue's routing records after this many */
	uint64_t counters[CTL_MUX__COUNTERS];
};

/* Compiles a scope's filter rules (NULL *out when it has none); -1 with a message naming the
 * scope and the rule. */
int mux_compile_filter(const struct ctl_guard_cfg *g, struct fix_filter **out, const char *scope,
		       char *err, size_t err_cap);
/* Counts a failed logon from addr. */
void mux_charge_source(struct ctl_mux *m, uint32_t addr);
void mux_log(struct ctl_mux *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ctl_mux_fwd.c */
void mux_client_to_venue(struct mux_user *u, int64_t now, const struct fix_msg *msg);
void mux_venue_to_user(struct mux_venue *v, int64_t now, const struct fix_msg *msg);
void mux_deliver_pending(struct mux_user *u, int64_t now);
int mux_recover_user(struct mux_user *u);
int mux_recover_venue(struct mux_venue *v);
void mux_free_pending(struct mux_user *u);
void mux_route_journal(struct mux_venue *v, const char *rec, size_t len);

#endif
