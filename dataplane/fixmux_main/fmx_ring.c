/* fixmux_main: the message rings between a side and the multiplexer's agent (fmx_app.h).
 *
 * rte_ring's element API copies each 40-byte message into the ring, so there is no message
 * pool to share between two lcores and nothing to allocate or free per message; dp_ring.h
 * moves pointers only, which would need such a pool. The producer's FIFO absorbs bursts the
 * ring cannot take (a Logon that delivers thousands of kept messages at once) without losing
 * order; it is sized at start-up and only its producer touches it. */
#include <stdio.h>
#include <stdlib.h>

#include <rte_errno.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "fmx_app.h"

_Static_assert(sizeof(struct fmx_msg) % 4 == 0, "rte_ring elements are multiples of 4 bytes");

int fmx_outbox_init(struct fmx_outbox *o, const char *name, unsigned ring_size, unsigned cap,
		    char *err, size_t err_cap)
{
	o->r = rte_ring_create_elem(name, sizeof(struct fmx_msg), ring_size, SOCKET_ID_ANY,
				    RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	o->q = calloc(cap, sizeof(*o->q));
	o->head = o->n = 0;
	o->cap = cap;
	o->waited = 0;
	if (o->r == NULL || o->q == NULL) {
		snprintf(err, err_cap, "ring %s: %s", name,
			 o->r == NULL ? rte_strerror(rte_errno) : "out of memory");
		return -1;
	}
	return 0;
}

void fmx_outbox_free(struct fmx_outbox *o)
{
	rte_ring_free(o->r);
	free(o->q);
	o->r = NULL;
	o->q = NULL;
}

unsigned fmx_outbox_flush(struct fmx_outbox *o)
{
	unsigned moved = 0;
	while (o->n) {
		/* The FIFO is a ring too: one contiguous stretch at a time. */
		uint32_t run = o->cap - o->head < o->n ? o->cap - o->head : o->n;
		unsigned k = rte_ring_enqueue_burst_elem(o->r, &o->q[o->head], sizeof(struct fmx_msg),
							 run, NULL);
		o->head = (o->head + k) % o->cap;
		o->n -= k;
		moved += k;
		if (k < run)
			break;
	}
	return moved;
}

bool fmx_post(struct fmx_outbox *o, const struct fmx_msg *m)
{
	/* rte_ring_enqueue_elem() only reads the element; its prototype lacks the const. */
	if (o->n == 0 && rte_ring_enqueue_elem(o->r, (void *)(uintptr_t)m, sizeof(*m)) == 0)
		return true;
	if (o->n == o->cap)
		return false;
	o->q[(o->head + o->n) % o->cap] = *m;
	o->n++;
	o->waited++;
	return true;
}

unsigned fmx_take(struct fmx_outbox *o, struct fmx_msg *out, unsigned n)
{
	return rte_ring_dequeue_burst_elem(o->r, out, sizeof(*out), n, NULL);
}

unsigned fmx_outbox_count(const struct fmx_outbox *o)
{
	return rte_ring_count(o->r) + o->n;
}
