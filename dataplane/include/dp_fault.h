/* dp_fault: a seeded fault injector for packet bursts, standing in for netem (which this
 * kernel lacks). One dp_fault_dir per direction; each applies, per packet and in this order:
 *   drop      - the packet is freed; optionally with the drop_burst packets after it (a
 *               blackout counted in packets, however long they take to come) and/or every
 *               packet in the next drop_burst_us (an overflowing queue: bounded in time);
 *   corrupt   - one payload byte is flipped AFTER the checksums are final, so the receiver's
 *               checksum check catches it: on TX, pending checksum offloads are computed in
 *               software first; on RX, the PMD's GOOD checksum flags are cleared so the
 *               stack re-verifies in software. The packet is copied first when its data may
 *               be shared (the stack keeps a reference to transmitted mbufs for retransmission);
 *   duplicate - a deep copy (rte_pktmbuf_copy) follows the packet;
 *   reorder   - the packet is held until reorder_gap later packets have passed (or
 *               reorder_max_us has elapsed, so a lone tail packet is not held forever);
 *   delay     - the packet is held for delay_us.
 * Held packets live in a fixed-size queue allocated at init; when it is full a packet
 * passes without the hold (counted). Decisions come only from the seed and the order of
 * packets, never from the clock, so a seed reproduces the same decisions; only the release
 * of held packets depends on the `now` the caller passes (use a virtual clock in tests).
 *
 * Usage in a poll loop (no allocation, no syscalls):
 *     n = rte_eth_rx_burst(port, q, pkts, 32);
 *     n = dp_fault_apply(&rx_faults, pkts, n, out, 64, now_us);   // out: what survives
 *     ...
 *     n = dp_fault_apply(&tx_faults, txpkts, n, out, 64, now_us);
 *     sent = rte_eth_tx_burst(port, q, out, n);  // free out[sent..n-1] as usual
 * Call dp_fault_apply(..., n = 0, ...) on idle iterations too, so held packets get released.
 * dp_fault_port_rx()/dp_fault_port_tx() do exactly that around an ethdev queue.
 */
#ifndef DP_FAULT_H
#define DP_FAULT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <rte_mbuf.h>
#include <rte_mempool.h>

enum dp_fault_counter {
	DP_FAULT_IN,          /* packets given to dp_fault_apply() */
	DP_FAULT_OUT,         /* packets handed back (including duplicates and released) */
	DP_FAULT_DROP,
	DP_FAULT_CORRUPT,
	DP_FAULT_DUP,
	DP_FAULT_REORDER,
	DP_FAULT_DELAY,
	DP_FAULT_HOLD_FULL,   /* a hold was wanted but the queue was full: passed as is; or
			       * out[] and the queue were both full: freed */
	DP_FAULT_NOMBUF,      /* a copy was needed (dup/corrupt) but the pool was empty */
	DP_FAULT_COUNTER_MAX,
};

extern const char *const dp_fault_counter_names[DP_FAULT_COUNTER_MAX];

/* Rates are probabilities in [0, 1]. All zero = pass-through. */
struct dp_fault_conf {
	double drop;
	uint32_t drop_burst;      /* further packets dropped after each drop decision; 0 = none */
	uint32_t drop_burst_us;   /* and every packet within this long after it; 0 = none */
	double corrupt;
	double dup;
	double reorder;
	uint32_t reorder_gap;     /* later packets that overtake a reordered one; 0 means 1 */
	uint32_t reorder_max_us;  /* release a reordered packet after this anyway; 0 means 1000 */
	double delay;             /* share of packets delayed; 0 with delay_us > 0 means all */
	uint32_t delay_us;
	uint32_t hold_max;        /* capacity of the hold queue; 0 means 256 */
};

struct dp_fault_held {
	struct rte_mbuf *m;
	uint64_t release_us;      /* release when now_us >= this */
	uint64_t release_seq;     /* or when the output counter reaches this (UINT64_MAX: never) */
};

struct dp_fault_dir {
	struct dp_fault_conf conf;
	bool is_tx;               /* TX: finalise offloaded checksums before corrupting */
	struct rte_mempool *pool; /* for copies (dup, corrupt of shared data) */
	uint64_t rng;
	/* probabilities scaled to 2^32 (2^32 = always) so each decision is one compare */
	uint64_t p_drop, p_corrupt, p_dup, p_reorder, p_delay;
	uint64_t out_seq;         /* packets passed so far, for reorder_gap */
	uint32_t burst_left;      /* packets still to drop in the current drop burst */
	uint64_t burst_until_us;  /* packets before this time are dropped */
	struct dp_fault_held *held; /* ring of conf.hold_max entries in arrival order */
	uint32_t n_held;
	uint64_t counters[DP_FAULT_COUNTER_MAX];
};

/* Parses "drop=0.01,drop_burst=0,drop_burst_us=0,corrupt=0.005,dup=0.005,reorder=0.01,reorder_gap=2,reorder_max_us=500,
 * delay=0.1,delay_us=200,hold_max=256" (any subset, any order) into *c, which is zeroed
 * first. The empty string gives pass-through. 0 on success, -1 with err filled. */
int dp_fault_parse(struct dp_fault_conf *c, const char *spec, char *err, size_t errlen);

/* Sets up one direction. The same seed and conf give the same decisions; use a different
 * seed per direction (e.g. seed and seed + 1). pool may be NULL if neither dup nor corrupt
 * is configured. Allocates the hold queue (start-up only). 0 / -1 with err. */
int dp_fault_init(struct dp_fault_dir *d, const struct dp_fault_conf *c, uint64_t seed,
		  bool is_tx, struct rte_mempool *pool, char *err, size_t errlen);

/* Frees held packets and the hold queue. */
void dp_fault_fini(struct dp_fault_dir *d);

/* Applies faults to pkts[0..n-1] (all consumed: passed, held or freed) and writes up to cap
 * packets to out: first held packets whose time has come, then this burst's survivors in
 * order. Packets that do not fit in out stay held (even if not meant to be held), so nothing
 * is lost; cap >= 2 * n + 1 avoids that. now_us is any monotonic microsecond clock.
 * pkts and out may not overlap. Returns the number written to out. */
uint16_t dp_fault_apply(struct dp_fault_dir *d, struct rte_mbuf **pkts, uint16_t n,
			struct rte_mbuf **out, uint16_t cap, uint64_t now_us);

/* Releases every held packet into out (up to cap), regardless of time; returns the count. */
uint16_t dp_fault_flush(struct dp_fault_dir *d, struct rte_mbuf **out, uint16_t cap);

static inline uint64_t dp_fault_count(const struct dp_fault_dir *d, enum dp_fault_counter c)
{
	return d->counters[c];
}

/* An ethdev queue with faults in both directions. */
struct dp_fault_port {
	uint16_t port_id, queue;
	struct dp_fault_dir rx, tx;
	/* TX packets that the device did not take yet are kept here and retried first, so that
	 * back-pressure does not turn into drops the test did not ask for. */
	struct rte_mbuf *tx_pending[64];
	uint16_t n_tx_pending;
};

/* rx_seed is used for RX, rx_seed + 1 for TX. */
int dp_fault_port_init(struct dp_fault_port *fp, uint16_t port_id, uint16_t queue,
		       const struct dp_fault_conf *rx, const struct dp_fault_conf *tx,
		       uint64_t seed, struct rte_mempool *pool, char *err, size_t errlen);
void dp_fault_port_fini(struct dp_fault_port *fp);

/* rte_eth_rx_burst() then RX faults. n is at most 64. */
uint16_t dp_fault_port_rx(struct dp_fault_port *fp, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t now_us);
/* TX faults then rte_eth_tx_burst(). Takes ownership of all n packets (n at most 32) and
 * returns n: packets the device refuses wait in tx_pending (or the hold queue) and are
 * retried on the next call, also with n = 0. */
uint16_t dp_fault_port_tx(struct dp_fault_port *fp, struct rte_mbuf **pkts, uint16_t n,
			  uint64_t now_us);

#endif /* DP_FAULT_H */
