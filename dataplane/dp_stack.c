/* dp_stack.c - stack instance: set-up, Ethernet dispatch, transmit queue, events, counters. */
#include <stdio.h>
#include <string.h>

#include <rte_malloc.h>
#include <rte_random.h>

#include "dp_port.h"
#include "dp_stack_priv.h"

/* `cfg.tx_csum = port.csum` must mean what it says. */
_Static_assert((unsigned)DP_STACK_TX_CSUM_IPV4 == (unsigned)DP_CSUM_TX_IPV4, "tx_csum bits follow dp_port.csum");
_Static_assert((unsigned)DP_STACK_TX_CSUM_TCP == (unsigned)DP_CSUM_TX_TCP, "tx_csum bits follow dp_port.csum");

const char *const dp_stack_counter_names[DP_CTR_COUNT] = {
#define DP_X_NAME(id, label) [DP_CTR_##id] = label,
	DP_STACK_COUNTERS(DP_X_NAME)
#undef DP_X_NAME
};

void dp_stack_config_defaults(struct dp_stack_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->socket_id = SOCKET_ID_ANY;
	cfg->max_conns = DP_DEF_MAX_CONNS;
	cfg->max_listeners = DP_DEF_MAX_LISTENERS;
	cfg->max_backlog = DP_DEF_MAX_BACKLOG;
	cfg->tx_queue_size = DP_DEF_TX_QUEUE;
	cfg->arp_entries = DP_DEF_ARP_ENTRIES;
	cfg->mss = DP_DEF_MSS;
	cfg->rcv_buf = DP_DEF_RCV_BUF;
	cfg->snd_buf = DP_DEF_SND_BUF;
	cfg->snd_queue_mbufs = DP_DEF_SND_QUEUE_MBUFS;
	cfg->rcv_queue_mbufs = DP_DEF_RCV_QUEUE_MBUFS;
	cfg->ooo_max_segs = DP_DEF_OOO_SEGS;
	cfg->wscale = DP_DEF_WSCALE;
	cfg->window_scaling = true;
	cfg->timestamps = true;
	cfg->sack = true;
	cfg->delayed_ack = false;
	cfg->nagle = false;
	cfg->init_cwnd_segs = DP_DEF_INIT_CWND_SEGS;
	cfg->rto_initial_us = DP_DEF_RTO_INITIAL_US;
	cfg->rto_min_us = DP_DEF_RTO_MIN_US;
	cfg->rto_max_us = DP_DEF_RTO_MAX_US;
	cfg->rtx_max = DP_DEF_RTX_MAX;
	cfg->syn_retries = DP_DEF_SYN_RETRIES;
	cfg->delack_us = DP_DEF_DELACK_US;
	cfg->time_wait_us = DP_DEF_TIME_WAIT_US;
	cfg->fin_wait2_us = DP_DEF_FIN_WAIT2_US;
	cfg->keepalive_idle_us = 0;
	cfg->keepalive_intvl_us = DP_DEF_KEEPALIVE_INTVL_US;
	cfg->keepalive_probes = DP_DEF_KEEPALIVE_PROBES;
	cfg->challenge_ack_per_s = DP_DEF_CHALLENGE_ACK_PER_S;
	cfg->arp_timeout_us = DP_DEF_ARP_TIMEOUT_US;
	cfg->arp_retry_us = DP_DEF_ARP_RETRY_US;
	cfg->ip_ttl = DP_DEF_IP_TTL;
}

static int check_config(const struct dp_stack_config *c, char *err, size_t errlen)
{
	const char *why = NULL;
	if (c->pool == NULL)
		why = "pool is NULL";
	else if (rte_pktmbuf_data_room_size(c->pool) < RTE_PKTMBUF_HEADROOM + DP_STACK_HDR_ROOM)
		why = "pool data room too small for headers";
	else if (c->ip == 0)
		why = "ip is 0";
	else if (c->max_conns == 0 || c->max_listeners == 0 ||
		 c->max_conns + c->max_listeners >= DP_CONN_IDX_LIMIT)
		why = "max_conns + max_listeners must be 2..2^20-1";
	else if (c->tx_queue_size == 0 || (c->tx_queue_size & (c->tx_queue_size - 1)))
		why = "tx_queue_size must be a power of two";
	else if (c->mss < 64 || c->mss > 9000)
		why = "mss must be 64..9000";
	else if (c->wscale > 14)
		why = "wscale must be 0..14";
	else if (c->snd_queue_mbufs == 0 || c->rcv_queue_mbufs == 0 || c->ooo_max_segs == 0)
		why = "queue sizes must be > 0";
	else if (c->rcv_buf == 0 || c->rcv_buf > (1u << 30) || c->snd_buf == 0)
		why = "rcv_buf/snd_buf out of range";
	else if (!c->window_scaling && c->rcv_buf > 65535)
		why = "rcv_buf > 65535 needs window_scaling";
	else if (c->rto_min_us == 0 || c->rto_min_us > c->rto_max_us ||
		 c->rto_initial_us == 0)
		why = "rto_min_us/rto_max_us/rto_initial_us inconsistent";
	else if (c->n_arp_static > DP_STACK_ARP_STATIC_MAX)
		why = "too many static ARP entries";
	else if (c->max_backlog == 0)
		why = "max_backlog must be > 0";
	if (why) {
		if (err)
			snprintf(err, errlen, "dp_stack: %s", why);
		return -1;
	}
	return 0;
}

static void *zalloc(const struct dp_stack_config *cfg, size_t n, size_t size)
{
	if (n == 0)
		n = 1;
	return rte_zmalloc_socket("dp_stack", n * size, RTE_CACHE_LINE_SIZE, cfg->socket_id);
}

struct dp_stack *dp_stack_create(const struct dp_stack_config *cfg, char *err, size_t errlen)
{
	if (check_config(cfg, err, errlen))
		return NULL;
	struct dp_stack *st = zalloc(cfg, 1, sizeof(*st));
	if (st == NULL)
		goto nomem;
	st->cfg = *cfg;
	st->nconns = cfg->max_conns + cfg->max_listeners;
	st->conns = zalloc(cfg, st->nconns, sizeof(struct dp_conn));
	uint32_t buckets = 1;
	while (buckets < 2 * st->nconns)
		buckets <<= 1;
	st->hash = zalloc(cfg, buckets, sizeof(uint32_t));
	st->hash_mask = buckets - 1;
	st->listeners = zalloc(cfg, cfg->max_listeners, sizeof(uint32_t));
	st->ev_list = zalloc(cfg, st->nconns, sizeof(uint32_t));
	st->burst_list = zalloc(cfg, st->nconns, sizeof(uint32_t));
	st->ack_list = zalloc(cfg, st->nconns, sizeof(uint32_t));
	st->txq = zalloc(cfg, cfg->tx_queue_size, sizeof(struct rte_mbuf *));
	st->txq_mask = cfg->tx_queue_size - 1;
	st->wheel_slots = zalloc(cfg, DP_TIMER_SLOTS, sizeof(struct dp_timer));
	if (!st->conns || !st->hash || !st->listeners || !st->ev_list || !st->burst_list ||
	    !st->ack_list ||
	    !st->txq || !st->wheel_slots)
		goto nomem;
	for (uint32_t i = 0; i <= st->hash_mask; i++)
		st->hash[i] = DP_IDX_NONE;

	/* Per-connection queues come from a few big arrays, all sized here: nothing is allocated
	 * once the stack runs. */
	struct rte_mbuf **sq = zalloc(cfg, (size_t)st->nconns * cfg->snd_queue_mbufs,
				      sizeof(*sq));
	struct rte_mbuf **rq = zalloc(cfg, (size_t)st->nconns * cfg->rcv_queue_mbufs,
				      sizeof(*rq));
	struct tcp_ooo *ooo = zalloc(cfg, (size_t)st->nconns * cfg->ooo_max_segs, sizeof(*ooo));
	uint32_t *aq = zalloc(cfg, (size_t)cfg->max_listeners * cfg->max_backlog,
			      sizeof(uint32_t));
	if (!sq || !rq || !ooo || !aq)
		goto nomem;
	for (uint32_t i = 0; i < st->nconns; i++) {
		struct dp_conn *c = &st->conns[i];
		c->idx = i;
		c->gen = 1;
		c->kind = CONN_FREE;
		c->sq = sq + (size_t)i * cfg->snd_queue_mbufs;
		c->sq_cap = cfg->snd_queue_mbufs;
		c->rq = rq + (size_t)i * cfg->rcv_queue_mbufs;
		c->rq_cap = cfg->rcv_queue_mbufs;
		c->ooo = ooo + (size_t)i * cfg->ooo_max_segs;
		c->ooo_cap = cfg->ooo_max_segs;
		c->hnext = i + 1 < cfg->max_conns ? i + 1 : DP_IDX_NONE;
		c->listener = DP_IDX_NONE;
	}
	/* Connection slots 0..max_conns-1 are on the free list; the last max_listeners slots
	 * are reserved for listeners, each with its accept queue. */
	st->free_head = 0;
	for (uint32_t i = 0; i < cfg->max_listeners; i++)
		st->listeners[i] = DP_IDX_NONE;
	for (uint32_t i = 0; i < cfg->max_listeners; i++)
		st->conns[cfg->max_conns + i].acceptq = aq + (size_t)i * cfg->max_backlog;

	dp_timer_wheel_init(&st->wheel, st->wheel_slots, DP_TIMER_SLOTS, DP_TIMER_TICK_US, 0);
	if (dp_arp_init(st))
		goto nomem;

	uint8_t key[16];
	memcpy(key, cfg->isn_key, sizeof(key));
	bool zero = true;
	for (unsigned i = 0; i < sizeof(key); i++)
		zero = zero && key[i] == 0;
	if (zero) {
		uint64_t a = rte_rand(), b = rte_rand();
		memcpy(key, &a, 8);
		memcpy(key + 8, &b, 8);
	}
	memcpy(&st->isn_k0, key, 8);
	memcpy(&st->isn_k1, key + 8, 8);
	st->next_ephemeral = DP_EPHEMERAL_FIRST + (uint16_t)(rte_rand() % 8192);
	return st;
nomem:
	if (err)
		snprintf(err, errlen, "dp_stack: out of memory (rte_zmalloc) sizing %u connections",
			 cfg->max_conns);
	dp_stack_destroy(st);
	return NULL;
}

void dp_stack_destroy(struct dp_stack *st)
{
	if (st == NULL)
		return;
	if (st->conns) {
		for (uint32_t i = 0; i < st->nconns; i++) {
			struct dp_conn *c = &st->conns[i];
			if (c->kind != CONN_FREE)
				tcp_conn_free(st, c);
		}
		rte_free(st->conns[0].sq);
		rte_free(st->conns[0].rq);
		rte_free(st->conns[0].ooo);
		if (st->cfg.max_listeners)
			rte_free(st->conns[st->cfg.max_conns].acceptq);
	}
	while (st->txq && st->txq_len) {
		rte_pktmbuf_free(st->txq[st->txq_head]);
		st->txq_head = (st->txq_head + 1) & st->txq_mask;
		st->txq_len--;
	}
	dp_arp_fini(st);
	rte_free(st->conns);
	rte_free(st->hash);
	rte_free(st->listeners);
	rte_free(st->ev_list);
	rte_free(st->burst_list);
	rte_free(st->ack_list);
	rte_free(st->txq);
	rte_free(st->wheel_slots);
	rte_free(st);
}

struct rte_mbuf *dp_alloc_hdr(struct dp_stack *st)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(st->cfg.pool);
	if (m == NULL)
		dp_ctr_inc(st, DP_CTR_DROP_NO_MBUF);
	return m;
}

void dp_tx_enqueue(struct dp_stack *st, struct rte_mbuf *m)
{
	if (st->txq_len > st->txq_mask) {
		/* Behaves like a full NIC ring: TCP recovers the loss. */
		dp_ctr_inc(st, DP_CTR_DROP_TX_QUEUE_FULL);
		rte_pktmbuf_free(m);
		return;
	}
	st->txq[(st->txq_head + st->txq_len) & st->txq_mask] = m;
	st->txq_len++;
	dp_ctr_inc(st, DP_CTR_TX_PKTS);
}

unsigned dp_stack_tx_burst(struct dp_stack *st, struct rte_mbuf **pkts, unsigned n)
{
	if (st->ack_len)
		tcp_ack_flush(st);
	unsigned k = 0;
	while (k < n && st->txq_len) {
		pkts[k++] = st->txq[st->txq_head];
		st->txq_head = (st->txq_head + 1) & st->txq_mask;
		st->txq_len--;
	}
	return k;
}

unsigned dp_stack_tx_pending(const struct dp_stack *st)
{
	return st->txq_len;
}

static void eth_input(struct dp_stack *st, struct rte_mbuf *m)
{
	if (rte_pktmbuf_data_len(m) < DP_ETH_HLEN) {
		dp_ctr_inc(st, DP_CTR_DROP_TRUNCATED);
		rte_pktmbuf_free(m);
		return;
	}
	const struct rte_ether_hdr *eh = rte_pktmbuf_mtod(m, const struct rte_ether_hdr *);
	if (!rte_is_same_ether_addr(&eh->dst_addr, &st->cfg.mac) &&
	    !rte_is_broadcast_ether_addr(&eh->dst_addr)) {
		dp_ctr_inc(st, DP_CTR_DROP_ETH_NOT_FOR_US);
		rte_pktmbuf_free(m);
		return;
	}
	switch (rte_be_to_cpu_16(eh->ether_type)) {
	case RTE_ETHER_TYPE_IPV4:
		dp_ip_input(st, m);
		break;
	case RTE_ETHER_TYPE_ARP:
		dp_arp_input(st, m);
		break;
	default:
		dp_ctr_inc(st, DP_CTR_DROP_ETH_TYPE);
		rte_pktmbuf_free(m);
	}
}

unsigned dp_stack_rx_burst(struct dp_stack *st, uint64_t now_us, struct rte_mbuf **pkts,
			   unsigned n)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
	st->in_rx_burst = true;
	/* A packet from another core is cold: start the misses on its headers and on the mbuf
	 * of its payload piece together instead of one after the other. */
	for (unsigned i = 0; i < n && i < 4; i++) {
		rte_prefetch0(rte_pktmbuf_mtod(pkts[i], void *));
		struct rte_mbuf *nx = pkts[i]->next;
		if (nx != NULL)
			rte_prefetch0(nx);
	}
	for (unsigned i = 0; i < n; i++) {
		if (i + 1 < n)
			rte_prefetch0(rte_pktmbuf_mtod(pkts[i + 1], void *));
		dp_ctr_inc(st, DP_CTR_RX_PKTS);
		eth_input(st, pkts[i]);
	}
	st->in_rx_burst = false;
	tcp_burst_end(st);
	return n;
}

unsigned dp_stack_poll(struct dp_stack *st, uint64_t now_us)
{
	if (now_us > st->now_us)
		st->now_us = now_us;
	unsigned fired = dp_timer_advance(&st->wheel, st->now_us);
	tcp_burst_end(st);
	return fired;
}

void dp_conn_event(struct dp_stack *st, struct dp_conn *c, uint32_t flags)
{
	c->ev_flags |= flags;
	if (!c->ev_listed) {
		c->ev_listed = true;
		st->ev_list[st->ev_len++] = c->idx;
	}
}

unsigned dp_stack_events(struct dp_stack *st, struct dp_event *ev, unsigned n)
{
	unsigned k = 0, i = 0;
	for (; i < st->ev_len && k < n; i++) {
		struct dp_conn *c = &st->conns[st->ev_list[i]];
		c->ev_listed = false;
		/* Children still waiting in an accept queue belong to no one yet; they are
		 * announced through their listener. */
		if (c->ev_flags == 0 || c->kind == CONN_FREE || !c->app_owned)
			continue;
		ev[k].conn = dp_conn_handle(c);
		ev[k].flags = c->ev_flags;
		ev[k].err = c->err;
		ev[k].user = c->user;
		c->ev_flags = 0;
		k++;
	}
	/* Keep what did not fit, in order. */
	memmove(st->ev_list, st->ev_list + i, (st->ev_len - i) * sizeof(uint32_t));
	st->ev_len -= i;
	return k;
}

void dp_stack_counters(const struct dp_stack *st, uint64_t out[DP_CTR_COUNT])
{
	memcpy(out, st->ctr, sizeof(st->ctr));
	out[DP_CTR_MBUF_POOL_IN_USE] = rte_mempool_in_use_count(st->cfg.pool);
}

uint64_t dp_stack_counter(const struct dp_stack *st, enum dp_stack_counter id)
{
	if (id == DP_CTR_MBUF_POOL_IN_USE)
		return rte_mempool_in_use_count(st->cfg.pool);
	return id < DP_CTR_COUNT ? st->ctr[id] : 0;
}

uint32_t dp_stack_conns_in_use(const struct dp_stack *st)
{
	return st->in_use;
}
