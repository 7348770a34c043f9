/* fixmux-bench: per-second rows merged over the threads (see bench_second_add() in
 * bench_harness.h). Each thread hands in its second t's histogram once the second is over;
 * the slot of second t (one of 4, by t mod 4) adds them up, and the thread that completes it
 * keeps the row and prints the progress line. When one thread is more than 3 s behind the
 * others, second t's slot is wanted by second t + 4 while t waits for that thread: t is kept
 * without its share, and its share, when it comes, makes a second row for t (rows sorted by
 * second at the end). The rows' counts always add up to the run's. Once a second per thread,
 * under a mutex: never per message. */
#include "bench_harness.h"

#include <stdio.h>
#include <stdlib.h>

static const char *const stream_names[ST__COUNT] = { "orders", "md" };

static void keep_row(struct phase_run *pr, enum stream s, struct sec_slot *sl)
{
	struct stream_res *st = &pr->r->st[s];
	struct bench_hist *h = &sl->h;

	if (h->total > 0 && st->nrows < MAX_SECONDS) {
		struct second_row *row = &st->rows[st->nrows++];
		row->t = sl->t;
		row->answered = h->total;
		row->p50 = bench_hist_percentile(h, 50);
		row->p90 = bench_hist_percentile(h, 90);
		row->p99 = bench_hist_percentile(h, 99);
		row->max = h->max;
	}
	if (bench_cfg.progress && h->total > 0)
		fprintf(stderr, "fixmux-bench [%s %s] %3us  %s this second %8llu  p50 %9.1f  "
			"p99 %9.1f  max %9.1f us\n", pr->ph->name, stream_names[s], sl->t,
			s == ST_ORDERS ? "answered" : "received", (unsigned long long)h->total,
			bench_hist_percentile(h, 50) / 1e3, bench_hist_percentile(h, 99) / 1e3,
			(double)h->max / 1e3);
	bench_hist_reset(h);
	sl->contributed = 0;
	sl->t = 0;
}

void bench_second_add(struct phase_run *pr, enum stream s, uint32_t t, const struct bench_hist *h)
{
	struct sec_slot *sl = &pr->slot[s][t % 4];

	pthread_mutex_lock(&pr->mu);
	if (sl->contributed > 0 && sl->t > t) {
		/* This thread is more than 3 s behind: its old second makes a row of its own. */
		struct sec_slot *late = &pr->late[s];
		late->t = t;
		bench_hist_add(&late->h, h);
		keep_row(pr, s, late);
		pthread_mutex_unlock(&pr->mu);
		return;
	}
	/* Another thread is: the old second is kept without its share. */
	if (sl->contributed > 0 && sl->t != t)
		keep_row(pr, s, sl);
	sl->t = t;
	bench_hist_add(&sl->h, h);
	if (++sl->contributed == pr->nthreads)
		keep_row(pr, s, sl);
	pthread_mutex_unlock(&pr->mu);
}

static int by_second(const void *a, const void *b)
{
	const struct second_row *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

void bench_second_flush(struct phase_run *pr)
{
	for (int s = 0; s < ST__COUNT; s++) {
		for (;;) { /* oldest first */
			struct sec_slot *first = NULL;
			for (int i = 0; i < 4; i++) {
				struct sec_slot *sl = &pr->slot[s][i];
				if (sl->contributed > 0 && (first == NULL || sl->t < first->t))
					first = sl;
			}
			if (first == NULL)
				break;
			keep_row(pr, (enum stream)s, first);
		}
		struct stream_res *st = &pr->r->st[s];
		qsort(st->rows, st->nrows, sizeof(st->rows[0]), by_second);
	}
}
