/* control: the session layer's view of its durable state. The session state machine (sans-IO)
 * reads and writes sequence numbers and outbound messages through this interface; an
 * in-memory implementation serves tests, the journal (ctl_journal) serves production.
 */
#ifndef CTL_STORE_H
#define CTL_STORE_H

#include <stddef.h>
#include <stdint.h>

/* Called for each stored outbound message in a range, in sequence order. Returning nonzero
 * stops the iteration (and is returned by for_each_outbound). */
typedef int (*ctl_store_visit_fn)(void *arg, uint64_t seq, const char *msg, size_t len);

struct ctl_store_ops {
	/* Next expected inbound and next outbound sequence numbers (both start at 1). */
	int (*get_seqs)(void *ctx, uint64_t *next_in, uint64_t *next_out);
	int (*set_next_in)(void *ctx, uint64_t next_in);
	int (*set_next_out)(void *ctx, uint64_t next_out);
	/* Keeps an outbound message (whole, as sent) under its sequence number: the resend source.
	 * Also advances next_out to seq + 1. */
	int (*save_outbound)(void *ctx, uint64_t seq, const char *msg, size_t len);
	/* Visits the stored outbound messages with begin <= seq <= end (end 0 = up to the last);
	 * sequence numbers with no stored message are simply skipped. */
	int (*for_each_outbound)(void *ctx, uint64_t begin, uint64_t end, ctl_store_visit_fn fn,
				 void *arg);
	/* Forgets every message and sets both sequence numbers to 1 (a sequence reset). */
	int (*reset)(void *ctx);
	/* Makes what was written durable according to the store's policy (called at batch ends). */
	int (*flush)(void *ctx);
};

struct ctl_store {
	const struct ctl_store_ops *ops;
	void *ctx;
};

#endif
