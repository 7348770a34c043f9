/*
 * dp_stack_priv.h - internals of the TCP/IP stack, shared by its .c files and by white-box
 * tests. Not part of the API.
 */
#ifndef DP_STACK_PRIV_H
#define DP_STACK_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_byteorder.h>
#include <rte_ether.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_tcp.h>

#include "dp_opt.h"
#include "dp_stack.h"
#include "dp_timer.h"

/* Wrap-safe sequence comparisons (RFC 9293 §3.4: arithmetic modulo 2^32). */
#define TCP_SEQ_LT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) < 0)
#define TCP_SEQ_LEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) <= 0)
#define TCP_SEQ_GT(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) > 0)
#define TCP_SEQ_GEQ(a, b) ((int32_t)((uint32_t)(a) - (uint32_t)(b)) >= 0)
#define TCP_SEQ_MAX(a, b) (TCP_SEQ_GT(a, b) ? (a) : (b))
#define TCP_SEQ_MIN(a, b) (TCP_SEQ_LT(a, b) ? (a) : (b))

#define TCP_FL_FIN RTE_TCP_FIN_FLAG
#define TCP_FL_SYN RTE_TCP_SYN_FLAG
#define TCP_FL_RST RTE_TCP_RST_FLAG
#define TCP_FL_PSH RTE_TCP_PSH_FLAG
#define TCP_FL_ACK RTE_TCP_ACK_FLAG

#define DP_ETH_HLEN ((uint16_t)sizeof(struct rte_ether_hdr))
#define DP_IP_HLEN ((uint16_t)sizeof(struct rte_ipv4_hdr))
#define DP_TCP_HLEN ((uint16_t)sizeof(struct rte_tcp_hdr))

#define DP_IDX_NONE UINT32_MAX

enum conn_kind { CONN_FREE, CONN_TCP, CONN_LISTENER };

/* One out-of-order segment: payload mbuf (headers trimmed) covering [seq, seq + len). */
struct tcp_ooo {
	uint32_t seq, len;
	bool fin;
	struct rte_mbuf *m; /* NULL for a bare FIN */
};

struct tcp_conn_stats {
	uint64_t segs_in, segs_out, bytes_in, bytes_out;
	uint64_t retransmits, rto_expiries, fast_retransmits, dup_acks_in;
	uint64_t ooo_segs_in, zero_window_probes, zero_window_seen;
	uint64_t challenge_acks, paws_drops, rsts_in, rsts_out;
};

struct dp_conn {
	/* ---- identity and application side ---- */
	struct dp_stack *st; /* for timer callbacks */
	uint32_t idx, gen;
	enum conn_kind kind;
	enum dp_tcp_state state;
	bool app_owned;     /* the application holds the handle (not yet closed/aborted) */
	bool accepted;      /* passive: handed out by dp_tcp_accept() (or active open) */
	bool ev_listed;     /* sits in the stack's event list */
	bool in_hash;
	bool passive;
	uint32_t ev_flags;
	int err;
	void *user;
	uint32_t lip, rip; /* host order */
	uint16_t lport, rport;
	uint32_t hnext;     /* hash chain */
	uint32_t listener;  /* passive child: listener index until accepted, else DP_IDX_NONE */

	/* ---- listener ---- */
	uint32_t backlog, n_children; /* embryonic + waiting for accept */
	uint32_t *acceptq;            /* max_backlog child indices (ring) */
	uint32_t aq_head, aq_len;

	/* ---- send side (RFC 9293 names) ---- */
	uint32_t iss, snd_una, snd_nxt, snd_max, snd_wnd, snd_wl1, snd_wl2, max_snd_wnd;
	uint32_t snd_end;   /* sequence number after the last queued byte */
	bool fin_queued;    /* the application closed its side: FIN goes at snd_end */
	bool persist;       /* the rtx timer is the persist (zero-window probe) timer */
	struct rte_mbuf **sq; /* send queue of single-segment mbufs */
	uint32_t sq_head, sq_len, sq_cap;
	uint32_t sq_head_seq; /* sequence number of the first byte of sq[sq_head] */
	/* Where the last segment's payload ended (entry sq_head + sq_hint starts at sequence
	 * sq_hint_seq): the next segment starts its search there, not at the head, so building
	 * a segment does not cost a walk over the whole window. */
	uint32_t sq_hint, sq_hint_seq;
	uint32_t sq_bytes;
	bool want_writable; /* a send got DP_TCP_EAGAIN */
	uint16_t mss;       /* effective send MSS */
	uint16_t peer_mss;
	uint8_t snd_ws, rcv_ws;
	bool ws_ok, ts_ok, sack_ok;
	uint32_t ts_recent, last_ack_sent;
	uint64_t ts_recent_us;
	uint32_t ts_offset;
	/* congestion control (RFC 5681 / 6582) */
	uint32_t cwnd, ssthresh, recover;
	uint32_t dupacks;
	bool in_recovery;
	/* RTO (RFC 6298); Karn: one timed segment at a time, never a retransmitted one */
	uint32_t srtt_us, rttvar_us, rto_us;
	bool rtt_valid, rtt_timing;
	uint32_t rtt_seq;
	uint64_t rtt_start_us;
	uint32_t nrtx; /* consecutive expiries (back-off exponent, SYN retries) */
	uint64_t rtx_sent_us; /* when the last timer-driven retransmission or probe left */

	/* ---- receive side ---- */
	uint32_t irs, rcv_nxt, rcv_adv; /* rcv_adv: right edge of the advertised window */
	struct rte_mbuf **rq;           /* in-order payload waiting for dp_tcp_recv() */
	uint32_t rq_head, rq_len, rq_cap, rq_bytes;
	struct tcp_ooo *ooo;            /* sorted by seq, non-overlapping */
	uint32_t n_ooo, ooo_cap, ooo_bytes;
	uint32_t ooo_last_seq; /* the latest out-of-order arrival: the first SACK block has it */
	bool peer_fin;
	bool ack_pending;   /* an ACK is owed (sent at the end of the burst or by delack) */
	bool in_burst_list;
	bool in_ack_list;   /* sits in the stack's ack_list (ack_at_tx_burst) */
	uint32_t delack_segs;
	uint64_t last_rx_us;
	uint32_t ka_probes;

	/* ---- timers ---- */
	struct dp_timer t_rtx;   /* RTO, SYN retry, persist */
	struct dp_timer t_delack;
	struct dp_timer t_long;  /* keepalive, TIME_WAIT, orphaned FIN_WAIT_2 */

	struct tcp_conn_stats stats;
};

enum arp_state { ARP_FREE, ARP_PENDING, ARP_VALID, ARP_STATIC };

struct arp_entry {
	uint32_t ip;
	enum arp_state state;
	struct rte_ether_addr mac;
	uint64_t expire_us;
	uint64_t last_req_us;
	struct rte_mbuf *pending; /* first packet waiting for the reply */
};

struct dp_stack {
	struct dp_stack_config cfg;
	uint64_t now_us;
	uint64_t ctr[DP_CTR_COUNT];

	struct dp_conn *conns;  /* max_conns + max_listeners */
	uint32_t nconns;
	uint32_t free_head;     /* free list through hnext */
	uint32_t in_use;
	uint32_t *hash;         /* buckets of conn indices */
	uint32_t hash_mask;
	uint32_t *listeners;    /* indices of listening conns */
	uint32_t n_listeners;
	uint16_t next_ephemeral;

	uint32_t *ev_list;      /* conn indices with pending event flags */
	uint32_t ev_len;
	uint32_t *burst_list;   /* conns touched in the current rx burst */
	uint32_t burst_len;
	uint32_t *ack_list;     /* conns owing an ACK at the next tx_burst (ack_at_tx_burst) */
	uint32_t ack_len;
	bool in_rx_burst;

	struct rte_mbuf **txq;
	uint32_t txq_head, txq_len, txq_mask;

	struct arp_entry *arp;
	uint32_t n_arp;         /* static + dynamic slots */
	uint32_t arp_last;      /* slot of the last lookup hit: most traffic goes to one hop */

	struct dp_timer_wheel wheel;
	struct dp_timer *wheel_slots;

	uint64_t isn_k0, isn_k1;
	uint64_t chal_window_start_us;
	uint32_t chal_count;
};

/* Handles: (generation << 20) | (index + 1); the generation changes each time a slot is
 * freed, so a stale handle stops matching. */
#define DP_CONN_IDX_BITS 20
#define DP_CONN_IDX_LIMIT (1u << DP_CONN_IDX_BITS)
static inline dp_conn_t dp_conn_handle(const struct dp_conn *c)
{
	return ((c->gen & 0xfffu) << DP_CONN_IDX_BITS) | (c->idx + 1);
}
static inline struct dp_conn *dp_conn_get(const struct dp_stack *st, dp_conn_t h)
{
	uint32_t idx = (h & (DP_CONN_IDX_LIMIT - 1));
	if (idx == 0 || idx > st->nconns)
		return NULL;
	struct dp_conn *c = &st->conns[idx - 1];
	if (c->kind == CONN_FREE || !c->app_owned || dp_conn_handle(c) != h)
		return NULL;
	return c;
}

static inline void dp_ctr_inc(struct dp_stack *st, enum dp_stack_counter c)
{
	st->ctr[c]++;
}

/* dp_stack.c */
void dp_tx_enqueue(struct dp_stack *st, struct rte_mbuf *m);
void dp_conn_event(struct dp_stack *st, struct dp_conn *c, uint32_t flags);
struct rte_mbuf *dp_alloc_hdr(struct dp_stack *st);

/* dp_arp.c */
void dp_arp_input(struct dp_stack *st, struct rte_mbuf *m);
/* m holds Ethernet + IPv4 headers (IPv4 filled); fills Ethernet and queues it for TX. */
void dp_arp_resolve_and_send(struct dp_stack *st, struct rte_mbuf *m, uint32_t dst_ip);
int dp_arp_init(struct dp_stack *st);
void dp_arp_fini(struct dp_stack *st);

/* dp_ip.c */
void dp_ip_input(struct dp_stack *st, struct rte_mbuf *m);
/* m's first segment starts with room for Ethernet + IPv4; l4 length follows. Fills IPv4 and
 * sends. */
void dp_ip_output(struct dp_stack *st, struct rte_mbuf *m, uint32_t dst_ip, uint8_t proto);
/* The pseudo-header sum (not complemented) that a TX L4 checksum offload wants in the
 * checksum field; ip needs src/dst addresses and the protocol. */
uint16_t dp_l4_phdr_sum(const struct rte_ipv4_hdr *ip, uint32_t l4_len);
uint16_t dp_l4_cksum(const struct rte_ipv4_hdr *ip, const struct rte_mbuf *m, uint32_t l4_off,
		     uint32_t l4_len);

/* tcp_in.c */
void tcp_input(struct dp_stack *st, struct rte_mbuf *m, struct rte_ipv4_hdr *ip,
	       uint32_t l4_off);
void tcp_burst_end(struct dp_stack *st);
/* Sends the ACKs deferred to dp_stack_tx_burst() that no data segment has carried. */
void tcp_ack_flush(struct dp_stack *st);

/* tcp_out.c */
void tcp_output(struct dp_stack *st, struct dp_conn *c);
void tcp_send_ack(struct dp_stack *st, struct dp_conn *c);
/* SEG.SEQ of a pure ACK: SND.MAX, or the right edge of the peer's window if that is less. */
uint32_t tcp_ack_seq(const struct dp_conn *c);
void tcp_send_syn(struct dp_stack *st, struct dp_conn *c);
void tcp_send_rst(struct dp_stack *st, struct dp_conn *c);
void tcp_send_rst_reply(struct dp_stack *st, const struct rte_ipv4_hdr *ip,
			const struct rte_tcp_hdr *th, uint32_t seglen);
void tcp_send_keepalive(struct dp_stack *st, struct dp_conn *c);
void tcp_send_probe(struct dp_stack *st, struct dp_conn *c);
uint32_t tcp_retransmit_one(struct dp_stack *st, struct dp_conn *c);
uint32_t tcp_rcv_window(const struct dp_stack *st, const struct dp_conn *c);
void tcp_arm_rtx(struct dp_stack *st, struct dp_conn *c);
void tcp_check_invariants(struct dp_stack *st, struct dp_conn *c);

/* tcp_conn.c */
struct dp_conn *tcp_conn_alloc(struct dp_stack *st);
void tcp_conn_free(struct dp_stack *st, struct dp_conn *c);
struct dp_conn *tcp_lookup(struct dp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
			   uint16_t rport);
struct dp_conn *tcp_find_listener(struct dp_stack *st, uint32_t lip, uint16_t lport);
void tcp_hash_insert(struct dp_stack *st, struct dp_conn *c);
/* The protocol is done with c (CLOSED): frees it or waits for the application's close. */
void tcp_conn_done(struct dp_stack *st, struct dp_conn *c, int err);
void tcp_enter_time_wait(struct dp_stack *st, struct dp_conn *c);
void tcp_sq_ack(struct dp_stack *st, struct dp_conn *c, uint32_t ack);
uint32_t tcp_isn(struct dp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
		 uint16_t rport);
void tcp_timers_init(struct dp_stack *st, struct dp_conn *c);
void tcp_burst_note(struct dp_stack *st, struct dp_conn *c);
bool tcp_challenge_ack_allowed(struct dp_stack *st);
uint64_t dp_siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len);

#endif /* DP_STACK_PRIV_H */
