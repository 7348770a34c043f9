/* control: ctl_store operations mapped onto the journal, one to one. */
#include "ctl_store_journal.h"

static int get_seqs(void *ctx, uint64_t *next_in, uint64_t *next_out)
{
	return ctl_journal_get_seqs(ctx, next_in, next_out);
}

static int set_next_in(void *ctx, uint64_t next_in)
{
	return ctl_journal_set_next_in(ctx, next_in);
}

static int set_next_out(void *ctx, uint64_t next_out)
{
	return ctl_journal_set_next_out(ctx, next_out);
}

static int save_outbound(void *ctx, uint64_t seq, const char *msg, size_t len)
{
	return ctl_journal_append_out(ctx, seq, msg, len);
}

static int for_each_outbound(void *ctx, uint64_t begin, uint64_t end, ctl_store_visit_fn fn,
			     void *arg)
{
	/* ctl_store_visit_fn and ctl_journal_out_fn have the same signature. */
	return ctl_journal_for_each_out(ctx, begin, end, fn, arg);
}

static int reset(void *ctx)
{
	return ctl_journal_reset(ctx);
}

static int flush(void *ctx)
{
	return ctl_journal_flush(ctx);
}

const struct ctl_store_ops ctl_store_journal_ops = {
	.get_seqs = get_seqs,
	.set_next_in = set_next_in,
	.set_next_out = set_next_out,
	.save_outbound = save_outbound,
	.for_each_outbound = for_each_outbound,
	.reset = reset,
	.flush = flush,
};
