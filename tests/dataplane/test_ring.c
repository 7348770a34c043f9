/* SP/SC typed rings: burst semantics, exact capacity, and an in-order hand-over between two
 * threads. */
#include <pthread.h>
#include <stdint.h>

#include <criterion/criterion.h>

#include "dp_ring.h"
#include "dp_test_eal.h"

struct item {
	uint64_t seq;
};

DP_RING_DEFINE(item_ring, struct item)

static char err[256];

TestSuite(ring, .init = dp_test_eal_init);

Test(ring, burst_put_get_keeps_order_and_reports_partial_counts)
{
	struct item_ring r;
	cr_assert_eq(item_ring_create(&r, "t_burst", 8, SOCKET_ID_ANY, err, sizeof(err)), 0, "%s", err);
	struct item items[12], *in[12], *out[12];
	for (int i = 0; i < 12; i++) {
		items[i].seq = (uint64_t)i;
		in[i] = &items[i];
	}
	cr_expect_eq(item_ring_put(&r, in, 12), 8, "capacity is exactly what was asked");
	cr_expect_eq(item_ring_count(&r), 8);
	cr_expect_eq(item_ring_free_count(&r), 0);
	cr_expect_eq(item_ring_put(&r, in + 8, 4), 0, "full ring took more");
	cr_assert_eq(item_ring_get(&r, out, 5), 5);
	for (int i = 0; i < 5; i++)
		cr_expect_eq(out[i]->seq, (uint64_t)i);
	cr_expect_eq(item_ring_put(&r, in + 8, 4), 4);
	cr_assert_eq(item_ring_get(&r, out, 12), 7);
	for (int i = 0; i < 7; i++)
		cr_expect_eq(out[i]->seq, (uint64_t)(i + 5));
	cr_expect_eq(item_ring_get(&r, out, 12), 0, "empty ring gave something");
	item_ring_free(&r);
}

Test(ring, duplicate_name_is_an_error)
{
	struct item_ring a, b;
	cr_assert_eq(item_ring_create(&a, "t_dup", 16, SOCKET_ID_ANY, err, sizeof(err)), 0);
	cr_expect_eq(item_ring_create(&b, "t_dup", 16, SOCKET_ID_ANY, err, sizeof(err)), -1);
	cr_expect(strstr(err, "t_dup") != NULL, "%s", err);
	item_ring_free(&a);
}

#define N_XFER 200000

static void *producer(void *arg)
{
	struct item_ring *r = arg;
	static struct item items[N_XFER];
	uint64_t next = 0;
	while (next < N_XFER) {
		struct item *burst[32];
		unsigned n = 0;
		for (; n < 32 && next + n < N_XFER; n++) {
			items[next + n].seq = next + n;
			burst[n] = &items[next + n];
		}
		unsigned put = item_ring_put(r, burst, n);
		next += put;
		if (put == 0)
			sched_yield(); /* 2 shared cores: let the consumer run */
	}
	return NULL;
}

Test(ring, two_threads_hand_over_everything_in_order)
{
	struct item_ring r;
	cr_assert_eq(item_ring_create(&r, "t_xfer", 256, SOCKET_ID_ANY, err, sizeof(err)), 0);
	pthread_t t;
	cr_assert_eq(pthread_create(&t, NULL, producer, &r), 0);
	uint64_t expect = 0;
	while (expect < N_XFER) {
		struct item *out[32];
		unsigned n = item_ring_get(&r, out, 32);
		for (unsigned i = 0; i < n; i++, expect++)
			cr_assert_eq(out[i]->seq, expect);
		if (n == 0)
			sched_yield();
	}
	pthread_join(t, NULL);
	cr_expect_eq(item_ring_count(&r), 0);
	item_ring_free(&r);
}
