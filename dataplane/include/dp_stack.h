/*
 * dp_stack.h - the zero-copy TCP/IP stack, one instance per lcore.
 *
 * The stack never touches a port. The caller moves packets:
 *
 *     n = rte_eth_rx_burst(port, q, pkts, N);
 *     dp_stack_rx_burst(st, now_us, pkts, n);     // the stack owns them now
 *     dp_stack_poll(st, now_us);                  // timers, deferred output
 *     n = dp_stack_tx_burst(st, pkts, N);         // the caller owns these now
 *     sent = rte_eth_tx_burst(port, q, pkts, n);  // free or keep what was not sent
 *
 * Time is a monotonic microsecond count chosen by the caller (dp_stack_tsc_to_us() converts the
 * TSC; tests drive a virtual clock). Nothing in here locks, sleeps or allocates after
 * dp_stack_create(): connections, timers, queues and the transmit queue are fixed pools sized
 * from struct dp_stack_config.
 *
 * Zero-copy contract:
 *  - Received payload is handed to the application as mbufs whose data is exactly the payload
 *    bytes, in sequence order (headers trimmed with rte_pktmbuf_adj). Each returned mbuf may be a
 *    chain; the application owns it and frees it when done.
 *  - The application sends an mbuf (or chain) it allocated and filled. The stack never writes
 *    its data: every transmitted segment is a small header mbuf from the stack's pool (Ethernet,
 *    IPv4, TCP headers) chained to indirect mbufs that reference the payload (refcount), so a
 *    retransmission copies nothing and a segment still sitting in a TX ring is never rewritten
 *    under the NIC. The application mbuf's own headroom is therefore free for the application
 *    (e.g. a rebuilt FIX header). The stack keeps its reference until the bytes are acknowledged;
 *    until then the application must not change the data. A chain is split into its segments
 *    (their next/nb_segs/pkt_len fields change), so to send the same bytes on several
 *    connections send a clone (rte_pktmbuf_clone) per connection, or, for a single segment,
 *    take one extra reference (rte_mbuf_refcnt_update) per additional connection.
 *
 * Threading: an instance belongs to one lcore; every function here must be called from that lcore.
 */
#ifndef DP_STACK_H
#define DP_STACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_mbuf.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Bytes of Ethernet + IPv4 + TCP header (with the longest options). The stack's pool needs at
 * least this much data room; application payload mbufs need no headroom for the stack. */
#define DP_STACK_HDR_ROOM (14 + 20 + 60)

#define DP_STACK_ARP_STATIC_MAX 16

struct dp_stack;

/* A connection or listener handle. 0 is never a valid handle. Handles carry a generation
 * number, so a stale handle (kept after the connection was released) is refused, not reused. */
typedef uint32_t dp_conn_t;
#define DP_CONN_INVALID 0u

struct dp_arp_static {
	uint32_t ip; /* IPv4 address, host byte order */
	struct rte_ether_addr mac;
};

/* Configuration. dp_stack_config_defaults() fills every tunable with the default from dp_opt.h;
 * the caller then sets at least mac, ip and pool. Addresses are in host byte order. */
struct dp_stack_config {
	struct rte_ether_addr mac;
	uint32_t ip;
	uint32_t netmask;  /* 0 = everything is on-link */
	uint32_t gateway;  /* next hop for off-link destinations; 0 = none (off-link drops) */
	struct dp_arp_static arp_static[DP_STACK_ARP_STATIC_MAX];
	unsigned n_arp_static;

	/* Pool for the mbufs the stack creates itself: header mbufs, ACK/SYN/RST/ARP/ICMP packets
	 * and the indirect mbufs that reference application payload. Needs data room >=
	 * DP_STACK_HDR_ROOM + RTE_PKTMBUF_HEADROOM. May be the same pool as the port's RX pool. */
	struct rte_mempool *pool;
	/* If > 0: dp_tcp_send() reports back-pressure while fewer than this many mbufs are free
	 * in pool, so an application sharing the pool cannot take the last mbufs the stack needs
	 * for headers and ACKs (which would deadlock both ends). Costs a pool count per send. */
	uint32_t pool_reserve;
	int socket_id; /* NUMA socket for the stack's own memory (SOCKET_ID_ANY is fine) */

	uint32_t max_conns;      /* connection slots (TIME_WAIT and embryonic included) */
	uint32_t max_listeners;  /* listening ports */
	uint32_t max_backlog;    /* upper bound of any listen() backlog */
	uint32_t tx_queue_size;  /* packets the stack may hold for dp_stack_tx_burst(); power of 2 */
	uint32_t arp_entries;    /* dynamic ARP cache slots */

	uint16_t mss;            /* MSS we announce and the upper bound of what we send */
	uint32_t rcv_buf;        /* bytes of receive buffer per connection (sets the window) */
	uint32_t snd_buf;        /* bytes the send queue of a connection may hold */
	uint16_t snd_queue_mbufs;/* mbuf segments the send queue of a connection may hold */
	uint16_t rcv_queue_mbufs;/* in-order mbufs waiting for dp_tcp_recv() per connection */
	uint16_t ooo_max_segs;   /* out-of-order segments kept per connection */
	uint8_t wscale;          /* window scale we offer (0..14) */
	bool window_scaling;     /* offer RFC 7323 window scaling */
	bool timestamps;         /* offer RFC 7323 timestamps (PAWS, RTTM) */
	bool sack;               /* offer RFC 2018 SACK: we send SACK blocks for out-of-order
				  * data (received SACK blocks are not used yet) */
	bool delayed_ack;        /* false (default): ACK every in-order burst at once */
	bool nagle;              /* false (default): send as soon as the window allows */
	uint32_t init_cwnd_segs; /* initial congestion window in segments (RFC 6928) */

	uint32_t rto_initial_us; /* RFC 6298 initial RTO (1 s) */
	uint32_t rto_min_us;     /* RFC 6298 lower bound (1 s in the RFC; often lowered) */
	uint32_t rto_max_us;     /* upper bound of backed-off RTO */
	uint32_t rtx_max;        /* data retransmissions before the connection is aborted */
	uint32_t syn_retries;    /* SYN retransmissions before connect() fails */
	uint32_t delack_us;      /* delayed-ACK timeout when delayed_ack is on */
	uint32_t time_wait_us;   /* 2*MSL */
	uint32_t fin_wait2_us;   /* orphaned FIN_WAIT_2 timeout after dp_tcp_close() */
	uint32_t keepalive_idle_us;  /* 0 = keepalive off */
	uint32_t keepalive_intvl_us;
	uint32_t keepalive_probes;
	uint32_t challenge_ack_per_s; /* RFC 5961 §7 rate limit, per stack */
	uint32_t arp_timeout_us;      /* dynamic ARP entry lifetime */
	uint32_t arp_retry_us;        /* minimum gap between ARP requests for one address */
	uint8_t ip_ttl;

	/* RFC 6528 secret key for initial sequence numbers; all zero = drawn from rte_rand(). */
	uint8_t isn_key[16];
	/* Tests only: if non-zero, every ISN is this value (wrap-around tests). */
	uint32_t isn_fixed;
	bool isn_fixed_set;

	/* Transmit checksums the port computes: DP_STACK_TX_CSUM_* bits, the same values as
	 * dp_port.csum's DP_CSUM_TX_IPV4 / DP_CSUM_TX_TCP, so `cfg.tx_csum = port.csum` is right
	 * (the RX bits are ignored). The port must have been started with the matching
	 * RTE_ETH_TX_OFFLOAD_* enabled (dp_port_open() does that when it sets those bits).
	 * 0 (the default): every checksum in software, as over net_ring or net_memif. With
	 * _IPV4 the IPv4 header checksum is left 0 and the mbuf asks for RTE_MBUF_F_TX_IP_CKSUM;
	 * with _TCP the TCP checksum field holds the pseudo-header sum and the mbuf asks for
	 * RTE_MBUF_F_TX_TCP_CKSUM, except for a segment whose payload pieces would put an odd
	 * byte at a piece boundary: PMDs that sum a chain piece by piece in 16-bit words (net_tap
	 * in 22.11) get those wrong, so such a segment is summed in software. */
	uint32_t tx_csum;

	/* false (default): the ACK a received burst owes leaves at the end of dp_stack_rx_burst().
	 * true: it waits for the next dp_stack_tx_burst(), so that data the application sends in
	 * between (an echo, a FIX reply) carries it and no separate pure ACK is sent. Still
	 * immediate in wall time for a caller whose loop is rx_burst, poll, application,
	 * tx_burst; dp_stack_tx_pending() does not count ACKs still waiting. */
	bool ack_at_tx_burst;
};

enum dp_stack_tx_csum {
	DP_STACK_TX_CSUM_IPV4 = 1u << 0,
	DP_STACK_TX_CSUM_TCP = 1u << 1,
};

void dp_stack_config_defaults(struct dp_stack_config *cfg);

/* Creates an instance. Returns NULL on error with a message in err (may be NULL). */
struct dp_stack *dp_stack_create(const struct dp_stack_config *cfg, char *err, size_t errlen);
/* Frees every mbuf the stack holds (queues, connections, pending ARP) and the instance. */
void dp_stack_destroy(struct dp_stack *st);

static inline uint64_t dp_stack_tsc_to_us(uint64_t tsc, uint64_t tsc_hz)
{
	return (uint64_t)((__uint128_t)tsc * 1000000u / tsc_hz);
}

/* ---- packet I/O (burst API; the caller moves packets to and from ports) ---- */

/* Consumes all n packets (the stack frees or keeps each). Returns the work done (n). */
unsigned dp_stack_rx_burst(struct dp_stack *st, uint64_t now_us, struct rte_mbuf **pkts,
			   unsigned n);
/* Runs expired timers and pending output. Returns the number of timers fired + segments sent. */
unsigned dp_stack_poll(struct dp_stack *st, uint64_t now_us);
/* Takes up to n packets ready for transmission; the caller owns them. */
unsigned dp_stack_tx_burst(struct dp_stack *st, struct rte_mbuf **pkts, unsigned n);
/* Packets waiting in the transmit queue. */
unsigned dp_stack_tx_pending(const struct dp_stack *st);

/* ---- events (level-style, never lost: one entry per connection with pending flags) ---- */

enum dp_event_flag {
	DP_EV_ACCEPT = 1u << 0,    /* listener: dp_tcp_accept() has a connection for you */
	DP_EV_CONNECTED = 1u << 1, /* active open completed */
	DP_EV_READABLE = 1u << 2,  /* dp_tcp_recv() has data */
	DP_EV_WRITABLE = 1u << 3,  /* send space became free after DP_TCP_EAGAIN */
	DP_EV_PEER_FIN = 1u << 4,  /* the peer closed its side; recv returns what is left, then 0 */
	DP_EV_CLOSED = 1u << 5,    /* the connection is dead (see err); call dp_tcp_close() */
};

struct dp_event {
	dp_conn_t conn;
	uint32_t flags; /* enum dp_event_flag bits */
	int err;        /* with DP_EV_CLOSED: 0 orderly, DP_TCP_ERESET, _ETIMEDOUT, _EREFUSED */
	void *user;     /* dp_tcp_set_user() value */
};

/* Fills up to n events; returns how many. Flags accumulated since the last call. */
unsigned dp_stack_events(struct dp_stack *st, struct dp_event *ev, unsigned n);

/* ---- the socket-like API ----
 * These calls take no time argument: they use the time of the last dp_stack_rx_burst() or
 * dp_stack_poll(), so call dp_stack_poll() once with the current time before the first one. */

enum {
	DP_TCP_OK = 0,
	DP_TCP_EAGAIN = -1,    /* back-pressure: the send queue or the peer's window is full */
	DP_TCP_EINVAL = -2,    /* bad handle or argument */
	DP_TCP_ENOMEM = -3,    /* no free connection / listener slot or no mbuf */
	DP_TCP_ENOTCONN = -4,  /* not in a state that allows it */
	DP_TCP_EADDRINUSE = -5,
	DP_TCP_ERESET = -6,    /* closed by RST */
	DP_TCP_ETIMEDOUT = -7, /* retransmissions, SYN retries or keepalive exhausted */
	DP_TCP_EREFUSED = -8,  /* connect() answered with RST */
};

/* Listens on a local port. Returns a listener handle or DP_CONN_INVALID (err in *rc if set). */
dp_conn_t dp_tcp_listen(struct dp_stack *st, uint16_t port, uint32_t backlog, int *rc);
/* Takes one established connection from a listener; DP_CONN_INVALID if none. */
dp_conn_t dp_tcp_accept(struct dp_stack *st, dp_conn_t listener);
/* Active open. local_port 0 picks an ephemeral port. The SYN is retransmitted with RTO back-off
 * up to syn_retries times; DP_EV_CONNECTED or DP_EV_CLOSED tells the outcome. */
dp_conn_t dp_tcp_connect(struct dp_stack *st, uint32_t ip, uint16_t port, uint16_t local_port,
			 int *rc);

/* Queues an application mbuf (possibly a chain) for sending; the stack takes ownership on
 * DP_TCP_OK and frees it once every byte is acknowledged (or the connection dies). On
 * DP_TCP_EAGAIN the caller keeps it; DP_EV_WRITABLE follows when space frees up. */
int dp_tcp_send(struct dp_stack *st, dp_conn_t c, struct rte_mbuf *m);
/* Bytes the send queue would accept now (0 means back-pressure). */
uint32_t dp_tcp_send_space(const struct dp_stack *st, dp_conn_t c);

/* Takes up to n in-order payload mbufs (ownership passes to the caller). Returns how many,
 * 0 if nothing is ready, or a negative DP_TCP_* code for a bad handle. After the peer's FIN
 * and once the queue is drained, returns 0 and dp_tcp_peer_closed() is true. */
int dp_tcp_recv(struct dp_stack *st, dp_conn_t c, struct rte_mbuf **bufs, unsigned n);

/* Orderly close: sends FIN after queued data; the application gives up the handle. The stack
 * finishes the close (FIN_WAIT, TIME_WAIT) on its own and frees the slot. Also releases a
 * listener (and resets its not yet accepted connections) or a connection that is CLOSED. */
int dp_tcp_close(struct dp_stack *st, dp_conn_t c);
/* Abortive close: sends RST, frees everything, gives up the handle. */
int dp_tcp_abort(struct dp_stack *st, dp_conn_t c);
/* Half close: sends FIN after queued data but keeps receiving. */
int dp_tcp_shutdown_write(struct dp_stack *st, dp_conn_t c);

void dp_tcp_set_user(struct dp_stack *st, dp_conn_t c, void *user);
void *dp_tcp_get_user(const struct dp_stack *st, dp_conn_t c);

enum dp_tcp_state {
	DP_TCP_CLOSED,
	DP_TCP_LISTEN,
	DP_TCP_SYN_SENT,
	DP_TCP_SYN_RCVD,
	DP_TCP_ESTABLISHED,
	DP_TCP_FIN_WAIT_1,
	DP_TCP_FIN_WAIT_2,
	DP_TCP_CLOSE_WAIT,
	DP_TCP_CLOSING,
	DP_TCP_LAST_ACK,
	DP_TCP_TIME_WAIT,
	DP_TCP_STATE_COUNT
};
/* DP_TCP_CLOSED for an invalid handle. */
enum dp_tcp_state dp_tcp_state(const struct dp_stack *st, dp_conn_t c);
const char *dp_tcp_state_name(enum dp_tcp_state s);
bool dp_tcp_peer_closed(const struct dp_stack *st, dp_conn_t c);

struct dp_tcp_info {
	enum dp_tcp_state state;
	uint32_t local_ip, remote_ip;
	uint16_t local_port, remote_port;
	uint32_t snd_una, snd_nxt, snd_wnd; /* snd_wnd in bytes (scaled) */
	uint32_t rcv_nxt, rcv_wnd;
	uint32_t cwnd, ssthresh;
	uint32_t srtt_us, rttvar_us, rto_us;
	uint16_t mss;       /* effective send MSS */
	uint8_t snd_wscale, rcv_wscale;
	bool ts_ok, ws_ok;
	uint32_t unacked_bytes, queued_bytes; /* in flight / queued but not yet sent */
	uint32_t rcv_queued_bytes, ooo_segs;
	/* per-connection counters */
	uint64_t segs_in, segs_out, bytes_in, bytes_out;
	uint64_t retransmits, rto_expiries, fast_retransmits, dup_acks_in;
	uint64_t ooo_segs_in, zero_window_probes, zero_window_seen;
	uint64_t challenge_acks, paws_drops, rsts_in, rsts_out;
	/* the sender's recovery state, for diagnosing stalls */
	uint32_t snd_max;      /* highest sequence number sent (snd_nxt is rewound by an RTO) */
	uint32_t recover;      /* RFC 6582 */
	uint32_t dupacks;
	uint32_t nrtx;         /* consecutive timer expiries (the back-off exponent) */
	bool in_recovery;      /* NewReno fast recovery */
	bool persist;          /* the retransmission timer is the zero-window persist timer */
	bool rtx_armed;        /* the retransmission / persist timer is armed */
	uint64_t rtx_expire_us;/* when it fires (stack time), if armed */
	uint64_t last_rx_us;   /* stack time of the last segment received */
};
int dp_tcp_get_info(const struct dp_stack *st, dp_conn_t c, struct dp_tcp_info *info);

/* ---- per-stack counters (an enum plus a label table, for tools and telemetry) ---- */
#define DP_STACK_COUNTERS(X)                                                                    \
	X(RX_PKTS, "rx_pkts")                                                                   \
	X(TX_PKTS, "tx_pkts")                                                                   \
	X(DROP_ETH_NOT_FOR_US, "drop_eth_not_for_us")                                           \
	X(DROP_ETH_TYPE, "drop_eth_unknown_type")                                               \
	X(DROP_TRUNCATED, "drop_truncated")                                                     \
	X(ARP_RX, "arp_rx")                                                                     \
	X(ARP_REPLIES_TX, "arp_replies_tx")                                                     \
	X(ARP_REQUESTS_TX, "arp_requests_tx")                                                   \
	X(ARP_QUEUED, "arp_queued_while_resolving")                                             \
	X(DROP_ARP_PENDING, "drop_arp_pending_full")                                            \
	X(DROP_ARP_CACHE_FULL, "drop_arp_cache_full")                                           \
	X(DROP_NO_ROUTE, "drop_no_route")                                                       \
	X(DROP_IP_BAD_HDR, "drop_ip_bad_header")                                                \
	X(DROP_IP_CSUM, "drop_ip_bad_checksum")                                                 \
	X(DROP_IP_NOT_FOR_US, "drop_ip_not_for_us")                                             \
	X(DROP_IP_FRAGMENT, "drop_ip_fragment")                                                 \
	X(DROP_IP_PROTO, "drop_ip_unknown_protocol")                                            \
	X(ICMP_ECHO_REPLIES, "icmp_echo_replies")                                               \
	X(DROP_ICMP, "drop_icmp_other")                                                         \
	X(DROP_TCP_CSUM, "drop_tcp_bad_checksum")                                               \
	X(DROP_TCP_BAD_HDR, "drop_tcp_bad_header")                                              \
	X(TCP_BAD_OPTIONS, "tcp_malformed_options")                                             \
	X(DROP_TCP_NO_CONN, "drop_tcp_no_connection")                                           \
	X(DROP_TCP_OUT_OF_WINDOW, "drop_tcp_out_of_window")                                     \
	X(DROP_TCP_PAWS, "drop_tcp_paws")                                                       \
	X(DROP_TCP_OOO_FULL, "drop_tcp_ooo_full")                                               \
	X(DROP_TCP_RCV_QUEUE_FULL, "drop_tcp_rcv_queue_full")                                   \
	X(DROP_TCP_BACKLOG, "drop_tcp_syn_backlog_full")                                        \
	X(DROP_TCP_NO_CONN_SLOT, "drop_tcp_no_connection_slot")                                 \
	X(DROP_TCP_BAD_ACK, "drop_tcp_unacceptable_ack")                                        \
	X(DROP_TX_QUEUE_FULL, "drop_tx_queue_full")                                             \
	X(DROP_NO_MBUF, "drop_no_mbuf")                                                         \
	X(TCP_ACTIVE_OPENS, "tcp_active_opens")                                                 \
	X(TCP_PASSIVE_OPENS, "tcp_passive_opens")                                               \
	X(TCP_CONNECT_FAILS, "tcp_connect_fails")                                               \
	X(TCP_SEGS_IN, "tcp_segs_in")                                                           \
	X(TCP_SEGS_OUT, "tcp_segs_out")                                                         \
	X(TCP_RETRANSMITS, "tcp_retransmits")                                                   \
	X(TCP_RTO_EXPIRIES, "tcp_rto_expiries")                                                 \
	X(TCP_FAST_RETRANSMITS, "tcp_fast_retransmits")                                         \
	X(TCP_DUP_ACKS_IN, "tcp_dup_acks_in")                                                   \
	X(TCP_OOO_SEGS_IN, "tcp_ooo_segs_in")                                                   \
	X(TCP_ZERO_WINDOW_PROBES, "tcp_zero_window_probes")                                     \
	X(TCP_ZERO_WINDOW_SEEN, "tcp_zero_window_seen")                                         \
	X(TCP_RSTS_IN, "tcp_rsts_in")                                                           \
	X(TCP_RSTS_OUT, "tcp_rsts_out")                                                         \
	X(TCP_CHALLENGE_ACKS, "tcp_challenge_acks")                                             \
	X(TCP_CHALLENGE_ACKS_LIMITED, "tcp_challenge_acks_rate_limited")                        \
	X(TCP_KEEPALIVE_PROBES, "tcp_keepalive_probes")                                         \
	X(TCP_TIMEOUTS, "tcp_connection_timeouts")                                              \
	X(TCP_EVENTS_OVERFLOW, "tcp_event_list_overflow")                                       \
	X(INVARIANT_RTX_TIMER, "invariant_violation_rtx_timer")                                 \
	X(MBUF_POOL_IN_USE, "mbuf_pool_in_use")

enum dp_stack_counter {
#define DP_X_ENUM(id, label) DP_CTR_##id,
	DP_STACK_COUNTERS(DP_X_ENUM)
#undef DP_X_ENUM
	DP_CTR_COUNT
};

extern const char *const dp_stack_counter_names[DP_CTR_COUNT];

/* Copies the counters (MBUF_POOL_IN_USE is sampled from the pool at the call). */
void dp_stack_counters(const struct dp_stack *st, uint64_t out[DP_CTR_COUNT]);
uint64_t dp_stack_counter(const struct dp_stack *st, enum dp_stack_counter id);

/* Number of connection slots in use (any state but free), for leak checks in tests. */
uint32_t dp_stack_conns_in_use(const struct dp_stack *st);

#ifdef __cplusplus
}
#endif

#endif /* DP_STACK_H */
