/* fixmux_main: the fixmux process. It glues the DPDK ports and the TCP/IP stack (dataplane) to
 * the sans-IO multiplexer (control/ctl_mux.h).
 *
 * One "side" is one DPDK port with its own stack instance: the client side listens for users,
 * the venue side opens connections to venues. When [appliance] client_port and venue_port
 * name the same device, one side (one stack, one address) serves both. A side is an agent run
 * by one lcore (fmx_side.c), the only code that calls its stack and port. The multiplexer's
 * agent (fmx_conn.c) runs on the main lcore: ctl_mux is not thread-safe. They talk through a
 * pair of SPSC rings per side (fmx_ring.c): events and payload mbufs toward the multiplexer,
 * commands (send, close, connect, release) toward the side. With every role on one lcore the
 * same rings are used, in one loop.
 *
 * Every TCP connection is a struct fmx_conn on its side (handle, backlog) and a struct
 * fmx_mconn in the multiplexer's view: a user's connection sits in the slot whose number is
 * its multiplexer connection id (< n_clients <= CTL_MUX_MAX_CONNS, sized from the
 * configuration at start-up), a venue session's in the slot of the session's index. The
 * stack's user pointer of each handle points to its fmx_conn. Nothing scans every slot on the
 * data path: free client slots wait in a FIFO (the least recently used is reused first), the
 * slots in use form a dense list, and closes to report form a ring.
 *
 * Zero-copy: a received mbuf that is one directly writable segment is handed to the
 * multiplexer in place (ctl_mux_*_segment). If the multiplexer forwards its message with the
 * header rewritten in the mbuf (io.*_send_inplace), that mbuf itself goes to the other side's
 * TCP connection: the stack sends payload through indirect mbufs attached to it and needs no
 * headroom in it (dp_stack.h), so the whole headroom is the multiplexer's. Chains and shared
 * mbufs take the copy path (ctl_mux_*_bytes).
 *
 * Re-entrancy: the multiplexer answers through callbacks while its agent is inside a
 * ctl_mux_*() call. A callback that closes a connection must not report the close back into
 * the multiplexer from inside that call, so closes are marked (fmx_mconn.report) and reported
 * by fmx_settle() once the outer call has returned.
 */
#ifndef FMX_APP_H
#define FMX_APP_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <rte_ring.h>

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
/* dst += src (the sides' histograms of one direction, for reading). */
void fmx_hist_merge(struct fmx_hist *dst, const struct fmx_hist *src);
/* h becomes what was recorded after base was taken (base: an earlier copy of the same
 * histogram, counts only grow): counts and sum exact, min and max bounded by their buckets. */
void fmx_hist_since(struct fmx_hist *h, const struct fmx_hist *base);

struct fmx_app;

/* ------------------------------------------------------------------------------------------
 * Messages between a side and the multiplexer's agent (fmx_ring.c). Each direction is an SPSC
 * rte_ring of fixed-size elements (the message itself is copied into the ring, so nothing is
 * allocated per message), with a FIFO on the producer's side for the moments the ring is
 * full (order is kept: while that FIFO holds messages, new ones queue behind them).
 * ---------------------------------------------------------------------------------------- */
enum fmx_msg_type {
	/* side -> multiplexer */
	FMX_EV_ACCEPTED = 1, /* client slot id accepted from arg (IPv4, host order) */
	FMX_EV_CONNECTED,    /* venue session id, attempt gen: the active open completed */
	FMX_EV_DATA,         /* payload mbuf m (maybe a chain) of id, received at tsc */
	FMX_EV_CLOSED,       /* id (gen) is over: arg = enum fmx_why, err = stack error */
	/* multiplexer -> side */
	FMX_CMD_SEND,        /* queue m on id (gen) */
	FMX_CMD_CLOSE,       /* FIN on id (gen) once what is queued is out */
	FMX_CMD_CONNECT,     /* venue session id: attempt gen toward arg:port */
	FMX_CMD_RELEASE,     /* client slot id: the multiplexer is done with it (reusable) */
};

enum fmx_why {
	FMX_WHY_PEER_FIN = 0,   /* orderly close by the peer */
	FMX_WHY_STACK,          /* the stack closed it: err = DP_TCP_E* (reset, timeout, ...) */
	FMX_WHY_SEND_FAILED,
	FMX_WHY_BACKLOG_FULL,
	FMX_WHY_NO_MBUF,
	FMX_WHY_CONNECT_FAILED, /* dp_tcp_connect() refused: err = its code */
	FMX_WHY_OVERLOAD,       /* the ring toward the multiplexer overflowed */
	FMX_WHY_CLOSED,         /* the multiplexer closed it */
};

struct fmx_msg {
	uint8_t type;           /* enum fmx_msg_type */
	uint8_t kind;           /* enum fmx_kind of the connection */
	uint16_t port;
	uint32_t id;
	uint32_t gen;           /* venue: connection attempt */
	uint32_t arg;
	int32_t err;
	uint32_t pad;
	struct rte_mbuf *m;
	uint64_t tsc;
};

struct fmx_outbox {
	struct rte_ring *r;     /* SP/SC, element = struct fmx_msg */
	struct fmx_msg *q;      /* the producer's FIFO while the ring is full */
	uint32_t head, n, cap;
	uint64_t waited;        /* messages that went through q */
};
int fmx_outbox_init(struct fmx_outbox *o, const char *name, unsigned ring_size, unsigned cap,
		    char *err, size_t err_cap);
void fmx_outbox_free(struct fmx_outbox *o);
/* Producer: false only when the FIFO is full too (the message is not queued). */
bool fmx_post(struct fmx_outbox *o, const struct fmx_msg *m);
/* Producer: moves what waits in the FIFO into the ring. */
unsigned fmx_outbox_flush(struct fmx_outbox *o);
/* Consumer: up to n messages. */
unsigned fmx_take(struct fmx_outbox *o, struct fmx_msg *out, unsigned n);
/* Messages waiting (either thread: an estimate from the other one). */
unsigned fmx_outbox_count(const struct fmx_outbox *o);

/* ------------------------------------------------------------------------------------------
 * Sides: a DPDK port and its stack, run by one lcore (fmx_side.c). Only that lcore calls
 * dp_tcp_*() and the port; the multiplexer's agent talks to it through the two outboxes.
 * ---------------------------------------------------------------------------------------- */

/* A TCP connection as its side sees it. */
struct fmx_conn {
	dp_conn_t h;
	struct fmx_side *side;
	enum fmx_kind kind;
	uint32_t id;            /* client slot (= mux connection id) or venue session index */
	uint32_t gen;           /* venue: the multiplexer's attempt this handle belongs to */
	bool used;              /* h is ours */
	bool closing;           /* FIN once the backlog is out */
	bool established;       /* venue: the active open completed */
	bool gone_posted;       /* FMX_EV_CLOSED sent for this lifetime */
	bool mux_has;           /* client: accepted and not yet released by the multiplexer */
	bool on_free_list;
	uint32_t live_idx;      /* client, while used: its index in the side's live list */
	_Atomic uint32_t bl_pub;/* bl_n as the multiplexer may read it (venue_busy, fixmuxctl) */
	uint32_t bl_head, bl_n; /* backlog ring of mbuf chains refused with DP_TCP_EAGAIN */
	struct rte_mbuf *bl[FMX_BACKLOG];
};

enum fmx_side_counter {
	FMX_S_ACCEPTED = 0,      /* user TCP connections accepted */
	FMX_S_REFUSED_NO_SLOT,   /* accepted but no free connection id: reset */
	FMX_S_VENUE_CONNECTS,    /* active opens toward venues */
	FMX_S_VENUE_CONNECT_FAILS, /* refused, timed out or no connection slot */
	FMX_S_BACKLOGGED,        /* sends that waited in a backlog */
	FMX_S_BACKLOG_OVERFLOWS,
	FMX_S_OVERLOAD,          /* connections reset: the ring toward the multiplexer was full */
	FMX_S__COUNTERS
};

struct fmx_side {
	const char *what;       /* "client", "venue" or "shared" (one port for both) */
	struct fmx_app *app;
	struct dp_port port;
	struct dp_stack *st;
	uint32_t ip;            /* host order */
	bool clients, venues;   /* the connections it carries */
	unsigned lcore;
	uint64_t rx_tsc;        /* TSC of the last RX burst that brought packets */
	struct fmx_outbox to_mux;  /* produced by the side's lcore */
	struct fmx_outbox to_side; /* produced by the multiplexer's lcore */
	/* client slots (the client side): free FIFO, dense list of those in use */
	uint32_t *free_ids;
	uint32_t free_head, free_n;
	uint32_t *live;
	uint32_t n_live;
	uint64_t ctr[FMX_S__COUNTERS];
	/* published for the multiplexer's lcore: backlogged chains plus packets not yet sent */
	_Atomic uint32_t pending_pub;
	/* internal latency of what this side sends (FMX_CMD_SEND's tsc: the RX burst that
	 * brought the forwarded message); written here only, read by fixmuxctl's latency */
	struct fmx_hist lat[FMX_LAT__DIRS];
	struct dp_lcore_loop loop; /* used when the side has an lcore of its own */
};

/* The multiplexer's view of a client slot and of a venue session (fmx_conn.c). */
struct fmx_mconn {
	bool open;              /* accepted and not yet reported closed to ctl_mux */
	bool closing;           /* the multiplexer closed it: nothing more is sent */
	bool side_gone;         /* the side's FMX_EV_CLOSED arrived */
	bool established;       /* venue */
	bool report;            /* a close ctl_mux has not been told about yet */
	bool on_report_list;
	uint32_t gen;           /* venue: the current connection attempt */
	char why[FMX_WHY_MAX];  /* venue: the reason that goes with the report */
};

enum fmx_counter {
	FMX_BYTES_FROM_USERS = 0,
	FMX_BYTES_TO_USERS,
	FMX_BYTES_FROM_VENUES,
	FMX_BYTES_TO_VENUES,
	FMX_NO_MBUF,             /* a send failed for want of mbufs: connection reset */
	FMX_SEGMENTS_IN_PLACE,   /* received segments handed over in place (ctl_mux_*_segment) */
	FMX_SEGMENTS_COPIED,     /* received segments of chains or shared mbufs (ctl_mux_*_bytes) */
	FMX_SENT_IN_PLACE,       /* messages sent out of the mbuf they arrived in */
	FMX_RING_WAITS,          /* messages toward a side that waited for room in its ring */
	FMX__COUNTERS
};
/* Every process counter: the sides' then the multiplexer agent's. */
#define FMX_ALL_COUNTERS (FMX_S__COUNTERS + FMX__COUNTERS)
extern const char *const fmx_counter_names[FMX_ALL_COUNTERS];
uint64_t fmx_counter(const struct fmx_app *a, unsigned i);

struct fmx_app {
	const struct ctl_config *cfg;
	struct ctl_mux *mux;
	struct fmx_side sides[2];
	unsigned n_sides;
	struct fmx_side *cs, *vs;  /* client and venue side (the same when they share a port) */
	dp_conn_t listener;
	/* Side-owned connection slots, allocated at start-up (fmx_conns_init). */
	struct fmx_conn *clients;  /* n_clients, the client side's */
	uint32_t n_clients;
	struct fmx_conn *venues;   /* cfg->n_sessions, the venue side's */
	/* The multiplexer agent's view of them, and its ring of closes to report. */
	struct fmx_mconn *mclients, *mvenues;
	uint32_t n_open;           /* client connections open in the multiplexer's view */
	struct fmx_mconn **reports;
	uint32_t report_head, n_reports;
	/* The received mbuf handed in place to the multiplexer during a ctl_mux_*_segment call,
	 * and whether an in-place send took it (then it must not be freed). */
	struct rte_mbuf *rx_m;
	bool rx_taken;
	struct dp_lcore_loop loop; /* the main lcore's: the multiplexer agent's */
	bool multi_lcore;          /* sides run on lcores of their own */
	/* The iteration's clocks: the main loop's monotonic microseconds and the multiplexer's
	 * wall-clock nanoseconds (FIX SendingTime needs UTC), both read once per iteration. */
	uint64_t now_us;
	int64_t now_ns;
	uint64_t last_poll_us, last_stats_us, last_stats_file_us, start_us;
	uint64_t stats_seq;
	const char *stats_file;
	uint64_t ctr[FMX__COUNTERS];
	uint64_t posts;            /* commands posted toward the sides */
	/* shutdown */
	uint64_t duration_us;      /* 0 = until a signal */
	bool stopping;             /* SIGTERM/SIGINT or --duration: logging everyone out */
	_Atomic bool flush_sides;  /* the sides push their backlogs every iteration */
	bool mux_down;             /* ctl_mux_shutdown() said everything is down */
	uint64_t stop_started_us;
	bool shutdown_timed_out;
	/* latency: the direction of the bytes being handed to the multiplexer (set around
	 * ctl_mux_*_bytes: 0 = none, else 1 + the kind of the receiving connection), and the
	 * receiving side's burst time, which forwarded copies carry to the other side */
	unsigned lat_from;
	uint64_t lat_rx_tsc;
	/* operations (fmx_ctl.c) */
	const char *config_path;
	/* `fixmuxctl latency reset`: the merged histograms at the reset, subtracted from what
	 * `latency` reports (the sides keep recording into theirs, on their own lcores). */
	struct fmx_hist lat_base[FMX_LAT__DIRS];
	int log_level;             /* enum fmx_log_level */
	char idle_spec[32];
};

/* Log levels of the process's own lines (fixmuxctl log-level). */
enum fmx_log_level { FMX_LOG_ERROR = 0, FMX_LOG_WARNING, FMX_LOG_INFO, FMX_LOG_DEBUG };

/* Telemetry commands (fmx_ctl.c): registered with DPDK's telemetry library; their requests
 * are handed to the poll loop through a mailbox that fmx_ctl_poll serves. */
void fmx_ctl_register(struct fmx_app *a);
/* Serves a waiting request, if any: the work done (0 or 1). The multiplexer agent's lcore. */
unsigned fmx_ctl_poll(struct fmx_app *a);

/* Slots sized from the configuration (users' sessions plus spare for connections not logged
 * on yet, at most CTL_MUX_MAX_CONNS), lists and outboxes; 0 or -1 with err. */
int fmx_conns_init(struct fmx_app *a, char *err, size_t err_cap);
void fmx_conns_free(struct fmx_app *a);
uint32_t fmx_client_slots(const struct ctl_config *cfg);
static inline unsigned fmx_client_conns(const struct fmx_app *a)
{
	return a->n_open;
}

/* The multiplexer's callbacks, with arg = the app (fmx_conn.c). */
void fmx_io_init(struct fmx_app *a, struct ctl_mux_io *io);
/* The multiplexer agent: takes the sides' messages (events, bytes) into ctl_mux and reports
 * closes; the work done. */
unsigned fmx_mux_work(struct fmx_app *a);
/* Reports the closes the multiplexer's callbacks asked for (see the header comment). */
void fmx_settle(struct fmx_app *a);
/* Moves what waits toward the sides into their rings; the work done. */
unsigned fmx_mux_flush(struct fmx_app *a);
/* Messages, backlogged chains and stack packets still waiting to go out (an estimate when
 * the sides run elsewhere). */
unsigned fmx_pending_out(const struct fmx_app *a);

/* Agents of the poll loops (dp_lcore.h); arg is the app or a side. */
unsigned fmx_clock_work(void *app, uint64_t now_us);
/* A side's whole iteration: commands, RX, stack, events, TX. */
unsigned fmx_side_work(void *side, uint64_t now_us);
/* Commands and TX only: after the multiplexer agent on a shared lcore, so what it sent leaves
 * in the same iteration. */
unsigned fmx_side_out_work(void *side, uint64_t now_us);
/* After every loop stopped: frees what the rings still hold, every backlog, and gives every
 * handle back to its stack (exit; one thread). */
void fmx_side_release(struct fmx_side *s);
/* Exit: transmits what the stack still has (FINs); packets left. One thread. */
unsigned fmx_side_drain(struct fmx_side *s, uint64_t now_us);

/* Statistics: the one-line summary and the JSON file (fmx_stats.c). */
unsigned fmx_users_online(const struct fmx_app *a);
unsigned fmx_venues_up(const struct fmx_app *a);
void fmx_stats_line(struct fmx_app *a);
void fmx_stats_write(struct fmx_app *a);

#endif
