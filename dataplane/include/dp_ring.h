/* dp_ring: single-producer/single-consumer rings between two lcores, with burst APIs.
 * A thin typed layer over rte_ring (RING_F_SP_ENQ | RING_F_SC_DEQ): the element type is
 * checked by the compiler, the ring moves pointers only.
 *
 *     DP_RING_DEFINE(msg_ring, struct fix_msg);     // struct msg_ring + msg_ring_*() functions
 *     struct msg_ring r;
 *     msg_ring_create(&r, "c2v_0", 1024, SOCKET_ID_ANY, err, sizeof(err));
 *     unsigned sent = msg_ring_put(&r, msgs, n);   // caller keeps msgs[sent..n-1]
 *     unsigned got = msg_ring_get(&r, out, 32);
 *
 * One lcore may put and one (other) lcore may get; nothing else is safe. */
#ifndef DP_RING_H
#define DP_RING_H

#include <stddef.h>

#include <rte_ring.h>

/* Creates an SP/SC ring that holds exactly `count` elements (RING_F_EXACT_SZ).
 * NULL with err filled. */
struct rte_ring *dp_ring_create(const char *name, unsigned count, int socket_id, char *err,
				size_t errlen);

#define DP_RING_DEFINE(name, T)                                                                 \
	struct name {                                                                           \
		struct rte_ring *r;                                                             \
	};                                                                                      \
	static inline int name##_create(struct name *q, const char *ring_name, unsigned count,  \
					int socket_id, char *err, size_t errlen)                \
	{                                                                                       \
		q->r = dp_ring_create(ring_name, count, socket_id, err, errlen);                \
		return q->r ? 0 : -1;                                                           \
	}                                                                                       \
	static inline void name##_free(struct name *q)                                          \
	{                                                                                       \
		rte_ring_free(q->r);                                                            \
		q->r = NULL;                                                                    \
	}                                                                                       \
	/* Enqueues up to n; returns how many went in (the rest stay the caller's). */        \
	static inline unsigned name##_put(struct name *q, T *const *objs, unsigned n)           \
	{                                                                                       \
		return rte_ring_sp_enqueue_burst(q->r, (void *const *)objs, n, NULL);           \
	}                                                                                       \
	/* Dequeues up to n; returns how many. */                                              \
	static inline unsigned name##_get(struct name *q, T **objs, unsigned n)                 \
	{                                                                                       \
		return rte_ring_sc_dequeue_burst(q->r, (void **)objs, n, NULL);                 \
	}                                                                                       \
	static inline unsigned name##_count(const struct name *q)                               \
	{                                                                                       \
		return rte_ring_count(q->r);                                                    \
	}                                                                                       \
	static inline unsigned name##_free_count(const struct name *q)                          \
	{                                                                                       \
		return rte_ring_free_count(q->r);                                               \
	}

#endif /* DP_RING_H */
