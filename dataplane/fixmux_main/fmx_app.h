/* fixmux_main: the fixmux process. It glues the DPDK ports and the TCP/IP stack (dataplane) to
 * the sans-IO multiplexer (control/ctl_mux.h).
 *
 * One "side" is one DPDK port with its own stack instance: the client side listens for users,
 * the venue side opens connections to venues. When [appliance] client_port and venue_port
 * name the same device, one side (one stack, one address) serves both.
 *
 * Every TCP connection the multiplexer knows is a struct fmx_conn: a user's connection sits in
 * the slot whose number is its multiplexer connection id (< n_clients <= CTL_MUX_MAX_CONNS,
 * sized from the configuration at start-up), a venue session's in the slot of the session's
 * index. The stack's user pointer of each handle points to its fmx_conn, so one event
 * dispatcher serves both sides and a shared stack.
 *
 * Nothing scans every slot on the data path: free client slots wait in a FIFO (the least
 * recently used is reused first, so a late event for an old handle meets an idle slot), the
 * client connections in use are a dense list (live[], for flushing and counting), and the
 * closes to report are a list of their own.
 *
 * Zero-copy: a received mbuf that is one directly writable segment is handed to the
 * multiplexer in place (ctl_mux_*_segment). If the multiplexer forwards its message with the
 * header rewritten in the mbuf (io.*_send_inplace), that mbuf itself goes to the other side's
 * TCP connection: the stack sends payload through indirect mbufs attached to it and needs no
 * headroom in it (dp_stack.h), so the whole headroom is the multiplexer's. Chains and shared
 * mbufs take the copy path (ctl_mux_*_bytes).
 *
 * Re-entrancy: the multiplexer answers through callbacks while the glue is inside a
 * ctl_mux_*() call. A callback that closes a connection must not report the close back into the
 * multiplexer from inside that call, so closes are marked (fmx_conn.report) and reported by
 * fmx_settle() once the outer call has returned.
 */
#ifndef FMX_APP_H
#define FMX_APP_H

#include <stdbool.h>
#include <stdint.h>

#include "ctl_config.h"
#include "ctl_mux.h"
#include "dp_lcore.h"
#include "dp_port.h"
#include "dp_stack.h"

#define FMX_BURST 32
/* mbuf chains one connection may hold back while the stack's send queue is full. A peer that
 * lets more pile up is not reading: its connection is reset (counted in FMX_BACKLOG_OVERFLOWS)
 * rather than losing bytes from the middle of its FIX stream. */
#define FMX_BACKLOG 256
#define FMX_WHY_MAX 128

enum fmx_kind { FMX_CLIENT = 0, FMX_VENUE };

/* Internal latency (fmx_lat.c): a log-linear histogram of TSC ticks in fixed memory, like
 * HdrHistogram with 16 linear sub-buckets per power of two (at most 1/16 = 6.25 % above the
 * true value). Recording is an index computation and one increment: no allocation, no lock. */
#define FMX_LAT_SUB_BITS 4
#define FMX_LAT_BUCKETS (64u << FMX_LAT_SUB_BITS)
struct fmx_hist {
	uint64_t n, sum, min, max;
	uint64_t b[FMX_LAT_BUCKETS];
};
enum fmx_lat_dir { FMX_LAT_CLIENT_TO_VENUE = 0, FMX_LAT_VENUE_TO_CLIENT, FMX_LAT__DIRS };
extern const char *const fmx_lat_dir_names[FMX_LAT__DIRS];

static inline unsigned fmx_hist_index(uint64_t v)
{
	if (v < (1u << FMX_LAT_SUB_BITS))
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v); /* >= FMX_LAT_SUB_BITS */
	return ((e - FMX_LAT_SUB_BITS + 1) << FMX_LAT_SUB_BITS) |
	       (unsigned)((v >> (e - FMX_LAT_SUB_BITS)) & ((1u << FMX_LAT_SUB_BITS) - 1));
}

static inline void fmx_hist_record(struct fmx_hist *h, uint64_t v)
{
	h->b[fmx_hist_index(v)]++;
	if (h->n == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->n++;
	h->sum += v;
}
/* The highest value of the bucket holding the p-th fraction of the recorded values
 * (0 < p <= 1); 0 when empty. */
uint64_t fmx_hist_percentile(const struct fmx_hist *h, double p);

struct fmx_app;

struct fmx_side {
	const char *what;       /* "client", "venue" or "shared" (one port for both) */
	struct fmx_app *app;
	struct dp_port port;
	struct dp_stack *st;
	uint32_t ip;            /* host order */
	uint64_t rx_tsc;        /* TSC of the last RX burst that brought packets */
};

struct fmx_conn {
	dp_conn_t h;
	struct fmx_side *side;
	enum fmx_kind kind;
	uint32_t id;            /* mux connection id, or venue session index */
	bool used;              /* h is ours */
	bool closing;           /* the multiplexer closed it: FIN once the backlog is out */
	bool established;       /* venue: the active open completed */
	bool report;            /* a close the multiplexer has not been told about yet */
	bool on_report_list;    /* in fmx_app.reports */
	bool on_free_list;      /* client: in fmx_app.free_ids (checked again when taken) */
	uint32_t live_idx;      /* client, while used: its index in fmx_app.live */
	char why[FMX_WHY_MAX];  /* venue: the reason that goes with the report */
	uint32_t bl_head, bl_n; /* backlog ring of mbuf chains refused with DP_TCP_EAGAIN */
	struct rte_mbuf *bl[FMX_BACKLOG];
};

enum fmx_counter {
	FMX_ACCEPTED = 0,        /* user TCP connections accepted */
	FMX_REFUSED_NO_SLOT,     /* accepted but no free connection id: reset */
	FMX_VENUE_CONNECTS,      /* active opens toward venues */
	FMX_VENUE_CONNECT_FAILS, /* refused, timed out or no connection slot */
	FMX_BYTES_FROM_USERS,
	FMX_BYTES_TO_USERS,
	FMX_BYTES_FROM_VENUES,
	FMX_BYTES_TO_VENUES,
	FMX_BACKLOGGED,          /* sends that waited in a backlog */
	FMX_BACKLOG_OVERFLOWS,
	FMX_NO_MBUF,             /* a send failed for want of mbufs: connection reset */
	FMX_SEGMENTS_IN_PLACE,   /* received segments handed over in place (ctl_mux_*_segment) */
	FMX_SEGMENTS_COPIED,     /* received segments of chains or shared mbufs (ctl_mux_*_bytes) */
	FMX_SENT_IN_PLACE,  /* messages sent out of the mbuf they arrived in */
	FMX__COUNTERS
};
extern const char *const fmx_counter_names[FMX__COUNTERS];

struct fmx_app {
	const struct ctl_config *cfg;
	struct ctl_mux *mux;
	struct fmx_side sides[2];
	unsigned n_sides;
	struct fmx_side *cs, *vs;  /* client and venue side (the same when they share a port) */
	dp_conn_t listener;
	/* Client slots, allocated at start-up (fmx_conns_init). */
	struct fmx_conn *clients;  /* n_clients */
	uint32_t n_clients;
	uint32_t *free_ids;        /* FIFO ring of free client slots (n_clients entries) */
	uint32_t free_head, free_n;
	uint32_t *live;            /* client slots in use, dense (n_live) */
	uint32_t n_live;
	struct fmx_conn **reports; /* ring of closes to report (n_clients + n_sessions) */
	uint32_t report_head, n_reports;
	struct fmx_conn *venues;   /* cfg->n_sessions */
	/* The received mbuf handed in place to the multiplexer during a ctl_mux_*_segment call,
	 * and whether an in-place send took it (then conn_recv must not free it). */
	struct rte_mbuf *rx_m;
	bool rx_taken;
	struct dp_lcore_loop loop;
	/* The iteration's clocks: the stack's monotonic microseconds and the multiplexer's
	 * wall-clock nanoseconds (FIX SendingTime needs UTC), both read once per iteration. */
	uint64_t now_us;
	int64_t now_ns;
	uint64_t last_poll_us, last_stats_us, last_stats_file_us, start_us;
	uint64_t stats_seq;
	const char *stats_file;
	uint64_t ctr[FMX__COUNTERS];
	/* shutdown */
	uint64_t duration_us;      /* 0 = until a signal */
	bool stopping;             /* SIGTERM/SIGINT or --duration: logging everyone out */
	bool mux_down;             /* ctl_mux_shutdown() said everything is down */
	uint64_t stop_started_us;
	bool shutdown_timed_out;
	/* latency: the direction of the bytes being handed to the multiplexer (set around
	 * ctl_mux_*_bytes: 0 = none, else 1 + the kind of the receiving connection), and the
	 * receiving side's burst time */
	unsigned lat_from;
	uint64_t lat_rx_tsc;
	struct fmx_hist lat[FMX_LAT__DIRS];
	/* operations (fmx_ctl.c) */
	const char *config_path;
	int log_level;             /* enum fmx_log_level */
	char idle_spec[32];
};

/* Log levels of the process's own lines (fixmuxctl log-level). */
enum fmx_log_level { FMX_LOG_ERROR = 0, FMX_LOG_WARNING, FMX_LOG_INFO, FMX_LOG_DEBUG };

/* Telemetry commands (fmx_ctl.c): registered with DPDK's telemetry library; their requests
 * are handed to the poll loop through a mailbox that fmx_ctl_poll serves. */
void fmx_ctl_register(struct fmx_app *a);
/* Serves a waiting request, if any: the work done (0 or 1). The loop's thread only. */
unsigned fmx_ctl_poll(struct fmx_app *a);

/* Client slots sized from the configuration (users' sessions plus spare for connections not
 * logged on yet, at most CTL_MUX_MAX_CONNS), the free list and the lists; 0 or -1 (memory). */
int fmx_conns_init(struct fmx_app *a);
void fmx_conns_free(struct fmx_app *a);
/* Client slots fmx_conns_init chooses for cfg. */
uint32_t fmx_client_slots(const struct ctl_config *cfg);
/* Client connections in use. */
static inline unsigned fmx_client_conns(const struct fmx_app *a)
{
	return a->n_live;
}

/* The multiplexer's callbacks, with arg = the app. */
void fmx_io_init(struct fmx_app *a, struct ctl_mux_io *io);

/* Agents of the poll loop (dp_lcore.h); arg is the app or a side. */
unsigned fmx_clock_work(void *app, uint64_t now_us);
unsigned fmx_side_work(void *side, uint64_t now_us);

/* Reports the closes the multiplexer's callbacks asked for (see the header comment). */
void fmx_settle(struct fmx_app *a);

/* Transmits what the stacks have queued; the work done. */
unsigned fmx_tx_all(struct fmx_app *a);
/* Also hands backlogged chains to the stacks first (backlogs otherwise move on
 * DP_EV_WRITABLE only): the shutdown path. */
unsigned fmx_flush(struct fmx_app *a);
/* Frees every backlog and gives every handle back to its stack (exit). */
void fmx_release_all(struct fmx_app *a);
/* Backlogged chains and stack packets still waiting to go out. */
unsigned fmx_pending_out(const struct fmx_app *a);

/* Statistics: the one-line summary and the JSON file (fmx_stats.c). */
unsigned fmx_users_online(const struct fmx_app *a);
unsigned fmx_venues_up(const struct fmx_app *a);
void fmx_stats_line(struct fmx_app *a);
void fmx_stats_write(struct fmx_app *a);

#endif
