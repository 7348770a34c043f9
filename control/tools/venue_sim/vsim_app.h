/* fixmux-venue-sim: the simulator's state and the application layer between the sessions and
 * the exchange (private to the tool). */
#ifndef VSIM_APP_H
#define VSIM_APP_H

#include "ctl_journal.h"
#include "ctl_session.h"
#include "vsim.h"

#define VSIM_ECHO_SEEN 1024     /* ClOrdIDs remembered per session in echo mode */
#define VSIM_BACKLOG 4096       /* drop-copy messages kept while the drop copy is offline */
#define VSIM_COMPACT_RECORDS 4096 /* order records appended before the journal is compacted */

/* Application record types in a session's journal. */
enum vsim_rec {
	VSIM_REC_ORDER = 1,     /* struct vsim_order, the order's latest state */
	VSIM_REC_CLEAR = 2,     /* start of a snapshot: forget the session's orders */
};

struct vsim_backlog_msg {
	uint32_t len;
	char body[1020];
};

struct vsim_sess {
	struct vsim_sess_cfg cfg;
	int idx;
	struct ctl_session *s;
	struct ctl_journal *j;
	int conn;                       /* connection index, -1 when none */
	bool ev_logged_on;              /* set by the event callback, handled after the call */
	bool ev_logged_out;
	char (*seen)[VSIM_ID_MAX];      /* echo mode: ClOrdIDs seen since the Logon */
	uint32_t nseen;
	struct vsim_backlog_msg *backlog; /* drop copy: ring of ExecutionReport bodies */
	uint32_t bl_head, bl_n;
	uint64_t bl_lost;
	uint32_t app_records;           /* order records since the last compaction */
};

struct vsim_sim {
	struct vsim_cfg cfg;
	struct vsim_sess sess[VSIM_MAX_SESSIONS];
	int nsess;
	struct vsim_book book;
	struct vsim_feed feed;
	int64_t now;
	bool loading;                   /* replaying journals: no persistence callbacks */
	uint64_t c[VSIM_C__COUNT];
	void (*log)(struct vsim_sim *sim, const char *fmt, ...)
		__attribute__((format(printf, 2, 3)));
};

int vsim_app_init(struct vsim_sim *sim, int64_t now);
void vsim_app_free(struct vsim_sim *sim);
/* Replays the application records of a session's journal (its orders) and compacts them. */
int vsim_app_load(struct vsim_sim *sim, struct vsim_sess *ss, char *err, size_t cap);
/* After every journal is loaded: orders left open by a previous run are cancelled (their
 * connections are gone) and reported at their sessions' next logon. */
void vsim_app_after_load(struct vsim_sim *sim);
void vsim_app_deliver(struct vsim_sim *sim, struct vsim_sess *ss, const struct fix_msg *m);
void vsim_app_logged_on(struct vsim_sim *sim, struct vsim_sess *ss);
void vsim_app_logged_out(struct vsim_sim *sim, struct vsim_sess *ss);
/* Market data increments and quote streams due at sim->now. */
void vsim_app_tick(struct vsim_sim *sim);
/* When the next increment or quote is due (INT64_MAX when none is). */
int64_t vsim_app_next_due(const struct vsim_sim *sim);
/* Counters of the book folded into sim->c. */
void vsim_app_counters(struct vsim_sim *sim);
/* UTCTimestamp with milliseconds (21 bytes + NUL). */
size_t vsim_fmt_time(int64_t ns, char *out, size_t cap);

#endif
