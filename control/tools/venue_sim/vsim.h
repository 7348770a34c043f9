/* fixmux-venue-sim: private header shared by the simulator's source files.
 *
 * The simulator is a FIX acceptor standing in for a venue (docs/venue-sim.md). It is not on the
 * fast path: kernel sockets, one thread, poll(2). Its parts:
 *   vsim_cli.c    command line -> struct vsim_cfg (pure, tested);
 *   vsim_body.c   building message bodies and the echo's normal form (pure, tested);
 *   vsim_book.c   the exchange: open orders, fills, cancels, replaces (pure, tested);
 *   vsim_feed.c   market-data subscriptions and quote streams (pure, tested);
 *   vsim_app.c    glue: delivered messages -> exchange -> encoded answers, persistence;
 *   vsim_main.c   sockets, sessions, journals, signals, statistics.
 */
#ifndef VSIM_H
#define VSIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "ctl_journal.h"
#include "fix_dict.h"
#include "fix_msg.h"

#define VSIM_MAX_SESSIONS 64
#define VSIM_ID_MAX 64          /* ClOrdID, MDReqID, QuoteReqID, OrderID ... incl. NUL */
#define VSIM_SYM_MAX 32
#define VSIM_MAX_ORDERS 65536   /* open orders across all sessions */
#define VSIM_MAX_SUBS 1024      /* active MDReqIDs across all sessions */
#define VSIM_MAX_SUB_SYMS 8     /* symbols per MarketDataRequest */
#define VSIM_MAX_QUOTES 256     /* active quote streams across all sessions */
#define VSIM_QUOTE_TTL_S 60     /* quote stream life when the QuoteRequest names no expiry */
#define VSIM_SCALE 100000000ll  /* quantities and prices are kept as integers * 1e8 */

enum vsim_mode { VSIM_ECHO = 0, VSIM_EXCHANGE };

struct vsim_sess_cfg {
	enum fix_version ver;
	char ours[VSIM_ID_MAX];   /* the venue's CompID (49 of what we send) */
	char theirs[VSIM_ID_MAX]; /* the client's CompID */
	bool reset;               /* sequence numbers reset at every Logon */
	bool drop_copy;           /* receives a copy of every execution of the order sessions */
	bool next_expected;       /* NextExpectedMsgSeqNum(789) on Logon (FIX.4.4, FIXT.1.1) */
	char user[VSIM_ID_MAX];   /* required Username(553), "" when not checked */
	char password[VSIM_ID_MAX]; /* required Password(554), "" when not checked */
};

struct vsim_cfg {
	char listen_addr[64];
	uint16_t listen_port;     /* 0: ephemeral, the chosen port is printed */
	enum vsim_mode mode;
	char store[512];
	enum ctl_journal_fsync fsync;
	struct vsim_sess_cfg sess[VSIM_MAX_SESSIONS];
	int nsess;
	bool heartbeat_check;     /* drop silent peers (TestRequest, then timeout) */
	uint64_t seed;
	uint32_t md_interval_ms;
	/* --md-rate: increments per second per subscription on a strict schedule, each stamped
	 * with its intended send time (0: --md-interval-ms, unstamped, no catching up). */
	uint32_t md_rate;
	uint32_t fill_permille;   /* --fill-ratio as parts per thousand */
	char stats_file[512];
	uint32_t stats_interval_ms; /* also rewrite --stats-file this often (0: only at exit) */
	char port_file[512];      /* where the bound port is written (for tests and scripts) */
	bool quiet;
};

/* Parses the command line into cfg. Returns 0, 1 for --help (usage printed into err), or -1
 * with a message naming the bad option in err. */
int vsim_cli_parse(int argc, char **argv, struct vsim_cfg *cfg, char *err, size_t err_cap);
/* Parses one session spec "BEGINSTRING:OURS:THEIRS[:flag]...", flags reset, dropcopy,
 * nextexpected, user=NAME, password=SECRET. */
int vsim_parse_session(const char *spec, struct vsim_sess_cfg *s, char *err, size_t err_cap);
extern const char vsim_usage[];

/* ---------------------------------------------------------------------------------------------
 * Bodies.
 * ------------------------------------------------------------------------------------------- */

struct vsim_body {
	char b[8192];
	size_t n;
	bool overflow;
};

void vsim_b_str(struct vsim_body *b, uint32_t tag, const char *v, size_t len);
void vsim_b_cstr(struct vsim_body *b, uint32_t tag, const char *v);
void vsim_b_uint(struct vsim_body *b, uint32_t tag, uint64_t v);
void vsim_b_char(struct vsim_body *b, uint32_t tag, char c);
/* A scaled integer (value * 1e8) written as a decimal without trailing zeros. */
void vsim_b_scaled(struct vsim_body *b, uint32_t tag, int64_t v);
/* Formats value * 1e8 as decimal text into out (>= 32 bytes); returns its length. */
size_t vsim_fmt_scaled(int64_t v, char *out);
/* Parses decimal text into value * 1e8; -1 when malformed or too precise/large. */
int vsim_parse_scaled(const char *s, size_t len, int64_t *out);

/* QuickFIX's normal form of m's body (see docs/venue-sim.md): fields in ascending tag order,
 * a repeating group (a NUMINGROUP field of dictionary d and its entries) kept intact as one
 * block sorted at its count tag. Writes the body into b; header fields beyond the session's
 * own (not 8 9 35 34 43 49 52 56 122) go to extra[] (at most *n_extra on entry). */
void vsim_echo_body(const struct fix_msg *m, const struct fix_dict *dict, struct vsim_body *b,
		    struct fix_field *extra, size_t *n_extra);

/* ---------------------------------------------------------------------------------------------
 * Deterministic pseudo-random numbers (xorshift64*): same seed, same fills and prices.
 * ------------------------------------------------------------------------------------------- */

static inline uint64_t vsim_rand(uint64_t *st)
{
	uint64_t x = *st;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*st = x;
	return x * 0x2545F4914F6CDD1Dull;
}

/* ---------------------------------------------------------------------------------------------
 * The exchange: orders.
 * ------------------------------------------------------------------------------------------- */

enum vsim_ord_state { VSIM_OS_FREE = 0, VSIM_OS_OPEN, VSIM_OS_CXL_PENDING_REPORT };

/* An order as persisted in the session's journal (application record VSIM_REC_ORDER): the
 * layout is part of the on-disk format. */
struct vsim_order {
	uint64_t oid;                 /* OrderID number; OrderID text is "<run>-<oid>" */
	uint64_t run;                 /* start time (ms) of the run that accepted it */
	int64_t qty;                  /* scaled */
	int64_t price;                /* scaled, 0 for market orders */
	int64_t cum;                  /* scaled */
	int64_t avg;                  /* scaled average fill price */
	int32_t sess;                 /* session index at the time (re-mapped by CompIDs at load) */
	uint8_t state;                /* enum vsim_ord_state */
	char side;
	char ord_type;
	char pad;
	char clordid[VSIM_ID_MAX];
	char symbol[VSIM_SYM_MAX];
	/* The cancel-on-disconnect execution, numbered when it happened (drop copies see it
	 * then) and reported to the owner under the same ExecID at its next logon. */
	uint64_t cxl_run;
	uint64_t cxl_exec;
};
_Static_assert(sizeof(struct vsim_order) == 168, "persisted layout of struct vsim_order");

/* What an execution looks like, for every FIX version; encoded by vsim_app.c. */
enum vsim_exec_type { VSIM_EX_NEW, VSIM_EX_FILL, VSIM_EX_CANCELED, VSIM_EX_REPLACED,
		      VSIM_EX_REJECTED };

/* Who gets an execution: its owner and the drop copies, or only one of them. */
enum vsim_route { VSIM_TO_ALL = 0, VSIM_TO_OWNER, VSIM_TO_COPIES };

struct vsim_exec {
	enum vsim_exec_type type;
	enum vsim_route route;
	int sess;
	const struct vsim_order *o;   /* NULL for a reject of an order never accepted */
	char exec_id[48];
	char ord_status;              /* 39 */
	int64_t last_qty, last_px;    /* fills */
	const char *clordid;          /* 11 */
	const char *orig_clordid;     /* 41, NULL when none */
	const char *text;             /* 58, NULL when none */
	/* Rejected orders have no book entry: their fields are given here. */
	const char *symbol;
	char side;
	int64_t qty;
};

/* An inbound order request, decoded from D, F or G. */
struct vsim_req {
	const char *clordid; size_t clordid_len;
	const char *orig; size_t orig_len;       /* 41 */
	const char *symbol; size_t symbol_len;
	char side, ord_type;
	bool has_qty, has_price;
	int64_t qty, price;
	bool bad_number;                          /* 38 or 44 not a usable decimal */
};

typedef void (*vsim_exec_fn)(void *arg, const struct vsim_exec *e);
/* OrderCancelReject for an unknown or unchangeable order. */
typedef void (*vsim_cxl_reject_fn)(void *arg, int sess, const struct vsim_req *r, bool replace,
				   const struct vsim_order *o, const char *text);

struct vsim_book {
	struct vsim_order *orders;    /* VSIM_MAX_ORDERS slots */
	uint32_t n_used;              /* slots ever used (high-water mark) */
	/* Open orders by (session, ClOrdID): open addressing over 2 x VSIM_MAX_ORDERS slots
	 * holding order index + 1 (0 empty, -1 deleted), so lookups stay O(1) however many
	 * orders rest; and a stack of free order slots. */
	int32_t *index;
	uint32_t tombs;
	uint32_t *free_stack;
	uint32_t n_free;
	uint64_t next_oid;
	uint64_t next_exec;
	uint64_t run;                 /* start time in ms: makes IDs unique across restarts */
	uint64_t rng;
	uint32_t fill_permille;
	vsim_exec_fn on_exec;
	vsim_cxl_reject_fn on_cxl_reject;
	/* Persistence: called after an order changed (state VSIM_OS_FREE: it is gone). */
	void (*on_change)(void *arg, const struct vsim_order *o);
	void *arg;
	/* market price source for market orders */
	int64_t (*mid)(void *arg, const char *symbol);
	uint64_t n_orders, n_fills, n_cancels, n_replaces, n_rejects, n_cxl_rejects;
};

int vsim_book_init(struct vsim_book *bk, uint64_t seed, uint32_t fill_permille, uint64_t run);
void vsim_book_free(struct vsim_book *bk);
void vsim_book_new_order(struct vsim_book *bk, int sess, const struct vsim_req *r);
void vsim_book_cancel(struct vsim_book *bk, int sess, const struct vsim_req *r);
void vsim_book_replace(struct vsim_book *bk, int sess, const struct vsim_req *r);
/* Cancels every open order of sess (its connection went away): they become pending reports.
 * Returns how many. */
uint32_t vsim_book_cancel_session(struct vsim_book *bk, int sess);
/* Reports the pending cancels of sess (ExecutionReports 150=4 39=4) and forgets them. */
uint32_t vsim_book_report_pending(struct vsim_book *bk, int sess);
/* Restores a persisted order (at start-up); vsim_book_reindex() must follow the last one. */
int vsim_book_restore(struct vsim_book *bk, const struct vsim_order *o);
/* Forgets every order of sess (a snapshot record during the replay). */
void vsim_book_clear_session(struct vsim_book *bk, int sess);
/* Rebuilds the ClOrdID index and the free slots after restores. */
void vsim_book_reindex(struct vsim_book *bk);
uint32_t vsim_book_open_count(const struct vsim_book *bk, int sess);
/* OrderID text of o into out (>= 48 bytes). */
void vsim_order_id(const struct vsim_order *o, char *out, size_t cap);

/* ---------------------------------------------------------------------------------------------
 * Market data and quote streams.
 * ------------------------------------------------------------------------------------------- */

struct vsim_sub {
	bool used;
	int sess;
	char id[VSIM_ID_MAX];
	int nsym;
	char sym[VSIM_MAX_SUB_SYMS][VSIM_SYM_MAX];
	int64_t next_ns;
};

struct vsim_qstream {
	bool used;
	int sess;
	char req_id[VSIM_ID_MAX];
	char sym[VSIM_SYM_MAX];
	char last_quote_id[VSIM_ID_MAX];
	int64_t qty;
	int64_t expire_ns;
	int64_t next_ns;
	uint64_t n;
};

struct vsim_feed {
	struct vsim_sub subs[VSIM_MAX_SUBS];
	struct vsim_qstream quotes[VSIM_MAX_QUOTES];
	struct {
		char sym[VSIM_SYM_MAX];
		int64_t mid;
	} px[256];
	int npx;
	uint64_t rng;
	int64_t interval_ns;
	/* Increments on a strict schedule (--md-rate): each one carries its intended send time
	 * in MDEntryTime(273) with nanoseconds, and a late simulator catches up instead of
	 * skipping, so a stall shows in the receivers' latency (no coordinated omission). */
	bool stamped;
	uint64_t quote_seq;
};

/* interval_ms, or with md_rate > 0 an interval of 1/md_rate s and stamped increments. */
void vsim_feed_init(struct vsim_feed *f, uint64_t seed, uint32_t interval_ms, uint32_t md_rate);
/* Increments of s due at now, at most max: 1 unstamped (a late one is not caught up), or
 * every one whose scheduled time has passed when stamped. Advances s->next_ns; the first
 * increment's scheduled time goes to *first_due. */
uint32_t vsim_feed_due(struct vsim_feed *f, struct vsim_sub *s, int64_t now, uint32_t max,
		       int64_t *first_due);
/* UTCTimeOnly with nanoseconds ("HH:MM:SS.nnnnnnnnn", 18 bytes + NUL) of a CLOCK_REALTIME
 * time in ns: MDEntryTime of a stamped increment. */
size_t vsim_fmt_time_of_day_ns(int64_t ns, char *out, size_t cap);
/* Current mid price of a symbol (created deterministically from its name on first use). */
int64_t vsim_feed_mid(struct vsim_feed *f, const char *sym);
/* Moves the price of a symbol one random step (never below one tick). */
int64_t vsim_feed_step(struct vsim_feed *f, const char *sym);
/* The spread around the mid: bid = mid - half, offer = mid + half. */
int64_t vsim_feed_half_spread(int64_t mid);
struct vsim_sub *vsim_feed_find_sub(struct vsim_feed *f, int sess, const char *id, size_t len);
/* Adds a subscription; NULL when the table is full. */
struct vsim_sub *vsim_feed_add_sub(struct vsim_feed *f, int sess, const char *id, size_t len,
				   int64_t now);
struct vsim_qstream *vsim_feed_find_quote(struct vsim_feed *f, int sess, const char *req_id,
					  size_t req_len, const char *quote_id, size_t quote_len);
struct vsim_qstream *vsim_feed_add_quote(struct vsim_feed *f, int sess, const char *req_id,
					 size_t len, int64_t now);
/* Forgets every subscription and quote stream of sess. */
void vsim_feed_drop_session(struct vsim_feed *f, int sess);

/* ---------------------------------------------------------------------------------------------
 * Counters, printed at exit and written to --stats-file.
 * ------------------------------------------------------------------------------------------- */

enum vsim_counter {
	VSIM_C_ORDERS, VSIM_C_FILLS, VSIM_C_CANCELS, VSIM_C_REPLACES, VSIM_C_REJECTS,
	VSIM_C_CXL_REJECTS, VSIM_C_MD_SNAPSHOTS, VSIM_C_MD_UPDATES, VSIM_C_MD_REJECTS,
	VSIM_C_QUOTES, VSIM_C_ECHOES, VSIM_C_DROP_COPIES, VSIM_C_RESENDS_SERVED,
	VSIM_C_RESENT_MESSAGES, VSIM_C_DISCONNECT_CANCELS, VSIM_C_LOGONS, VSIM_C_CONNECTIONS,
	VSIM_C_REFUSED_CONNECTIONS, VSIM_C__COUNT
};
extern const char *const vsim_counter_names[VSIM_C__COUNT];

#endif
