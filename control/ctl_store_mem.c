/* control: the in-memory session store. Messages are kept in one growing byte arena with an
 * index sorted by sequence number (appends are in increasing order; a lower number than the
 * last is only possible after a reset, which empties the store). */
#include <stdlib.h>
#include <string.h>

#include "ctl_store_mem.h"

struct rec {
	uint64_t seq;
	size_t off;
	size_t len;
};

struct ctl_store_mem {
	uint64_t next_in;
	uint64_t next_out;
	struct rec *recs;
	size_t nrecs, caprecs;
	char *bytes;
	size_t nbytes, capbytes;
};

static int get_seqs(void *ctx, uint64_t *next_in, uint64_t *next_out)
{
	struct ctl_store_mem *m = ctx;
	*next_in = m->next_in;
	*next_out = m->next_out;
	return 0;
}

static int set_next_in(void *ctx, uint64_t v)
{
	((struct ctl_store_mem *)ctx)->next_in = v;
	return 0;
}

static int set_next_out(void *ctx, uint64_t v)
{
	((struct ctl_store_mem *)ctx)->next_out = v;
	return 0;
}

static int grow(void **p, size_t *cap, size_t need, size_t elem)
{
	if (need <= *cap)
		return 0;
	size_t n = *cap ? *cap : 16;
	while (n < need)
		n *= 2;
	void *q = realloc(*p, n * elem);
	if (q == NULL)
		return -1;
	*p = q;
	*cap = n;
	return 0;
}

static int save_outbound(void *ctx, uint64_t seq, const char *msg, size_t len)
{
	struct ctl_store_mem *m = ctx;
	/* A number at or below the last kept one replaces the tail from there (an operator
	 * lowered next_out): the index stays sorted. */
	while (m->nrecs > 0 && m->recs[m->nrecs - 1].seq >= seq) {
		m->nbytes = m->recs[m->nrecs - 1].off;
		m->nrecs--;
	}
	if (grow((void **)&m->recs, &m->caprecs, m->nrecs + 1, sizeof(struct rec)) != 0 ||
	    grow((void **)&m->bytes, &m->capbytes, m->nbytes + len, 1) != 0)
		return -1;
	memcpy(m->bytes + m->nbytes, msg, len);
	m->recs[m->nrecs++] = (struct rec){seq, m->nbytes, len};
	m->nbytes += len;
	m->next_out = seq + 1;
	return 0;
}

static int for_each_outbound(void *ctx, uint64_t begin, uint64_t end, ctl_store_visit_fn fn,
			     void *arg)
{
	struct ctl_store_mem *m = ctx;
	size_t lo = 0, hi = m->nrecs;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (m->recs[mid].seq < begin)
			lo = mid + 1;
		else
			hi = mid;
	}
	for (size_t i = lo; i < m->nrecs; i++) {
		const struct rec *r = &m->recs[i];
		if (end != 0 && r->seq > end)
			break;
		int rc = fn(arg, r->seq, m->bytes + r->off, r->len);
		if (rc != 0)
			return rc;
	}
	return 0;
}

static int reset(void *ctx)
{
	struct ctl_store_mem *m = ctx;
	m->nrecs = 0;
	m->nbytes = 0;
	m->next_in = 1;
	m->next_out = 1;
	return 0;
}

static int flush(void *ctx)
{
	(void)ctx;
	return 0;
}

static const struct ctl_store_ops mem_ops = {
	.get_seqs = get_seqs,
	.set_next_in = set_next_in,
	.set_next_out = set_next_out,
	.save_outbound = save_outbound,
	.for_each_outbound = for_each_outbound,
	.reset = reset,
	.flush = flush,
};

struct ctl_store_mem *ctl_store_mem_create(void)
{
	struct ctl_store_mem *m = calloc(1, sizeof(*m));
	if (m != NULL)
		m->next_in = m->next_out = 1;
	return m;
}

void ctl_store_mem_destroy(struct ctl_store_mem *m)
{
	if (m == NULL)
		return;
	free(m->recs);
	free(m->bytes);
	free(m);
}

struct ctl_store ctl_store_mem_store(struct ctl_store_mem *m)
{
	return (struct ctl_store){&mem_ops, m};
}

size_t ctl_store_mem_count(const struct ctl_store_mem *m)
{
	return m->nrecs;
}
