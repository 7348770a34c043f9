/* SP/SC ring creation; the data path is inline in dp_ring.h. */
#include "dp_ring.h"

#include <stdio.h>

#include <rte_errno.h>

struct rte_ring *dp_ring_create(const char *name, unsigned count, int socket_id, char *err,
				size_t errlen)
{
	/* RING_F_EXACT_SZ: the caller gets the capacity asked for, not one less. */
	struct rte_ring *r = rte_ring_create(name, count, socket_id,
					     RING_F_SP_ENQ | RING_F_SC_DEQ | RING_F_EXACT_SZ);
	if (r == NULL)
		snprintf(err, errlen, "ring %s (%u): %s", name, count, rte_strerror(rte_errno));
	return r;
}
