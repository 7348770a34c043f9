/* tests/control: the durable journal — append and read back, resend ranges across rotation,
 * torn tails, corrupt records, reset, pruning, application records, fsync policies, errors and
 * the memory bound. Crash (kill -9) tests are in test_journal_crash.c.
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <sched.h>
#include <sys/mount.h>
#include <time.h>

#include "ctl_store_journal.h"
#include "journal_util.h"

uint32_t ctl_crc32c_sw(uint32_t crc, const void *buf, size_t len);

static char base[256], jdir[300];
static char err[512];
static struct tu_seen *seen;
static const uint64_t SEED = 42;

static void setup(void)
{
	tu_mkdtemp(base, sizeof(base), jdir, sizeof(jdir));
	seen = calloc(1, sizeof(*seen));
	seen->seed = SEED;
}

static void teardown(void)
{
	tu_rmrf(base);
	free(seen);
}

TestSuite(journal, .init = setup, .fini = teardown);

static struct ctl_journal_config small_cfg(enum ctl_journal_fsync policy)
{
	struct ctl_journal_config c;
	ctl_journal_config_default(&c);
	c.fsync = policy;
	c.segment_size = 64 * 1024;
	c.app_segment_size = 64 * 1024;
	c.keep_segments = 64;
	c.max_record = 4096;
	return c;
}

static struct ctl_journal *open_ok(const struct ctl_journal_config *c)
{
	struct ctl_journal *j = ctl_journal_open(jdir, c, err, sizeof(err));
	cr_assert_not_null(j, "open failed: %s", err);
	return j;
}

static void append_range(struct ctl_journal *j, uint64_t from, uint64_t to)
{
	char buf[512];
	for (uint64_t s = from; s <= to; s++) {
		size_t len = tu_msg(SEED, s, buf);
		cr_assert_eq(ctl_journal_append_out(j, s, buf, len), 0, "append %llu: %s",
			     (unsigned long long)s, ctl_journal_error(j));
	}
}

/* Asserts that a visit of [begin, end] yields exactly from..to, each with its content. */
static void expect_range(struct ctl_journal *j, uint64_t begin, uint64_t end, uint64_t from,
			 uint64_t to)
{
	seen->n = 0;
	seen->bad_content = 0;
	cr_assert_eq(ctl_journal_for_each_out(j, begin, end, tu_collect, seen), 0, "%s",
		     ctl_journal_error(j));
	uint64_t want = to >= from ? to - from + 1 : 0;
	cr_assert_eq(seen->n, want, "range [%llu,%llu]: got %llu messages, want %llu",
		     (unsigned long long)begin, (unsigned long long)end,
		     (unsigned long long)seen->n, (unsigned long long)want);
	for (uint64_t i = 0; i < want; i++)
		cr_assert_eq(seen->seqs[i], from + i, "message %llu has seq %llu",
			     (unsigned long long)i, (unsigned long long)seen->seqs[i]);
	cr_assert_eq(seen->bad_content, 0, "content differs from what was appended");
}

Test(journal, crc32c_matches_the_standard_check_value_on_both_paths)
{
	cr_assert_eq(ctl_crc32c(0, "123456789", 9), 0xE3069283u);
	cr_assert_eq(ctl_crc32c_sw(0, "123456789", 9), 0xE3069283u);
	unsigned char buf[1031];
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)(i * 131 + 7);
	for (size_t a = 0; a < 9; a++)
		for (size_t len = 0; len < 100; len += 7)
			cr_assert_eq(ctl_crc32c(0, buf + a, len), ctl_crc32c_sw(0, buf + a, len));
	/* chaining */
	cr_assert_eq(ctl_crc32c(ctl_crc32c(0, "1234", 4), "56789", 5), 0xE3069283u);
}

Test(journal, fresh_journal_starts_at_one_and_reads_back_after_reopen)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 1);
	cr_assert_eq(out, 1);
	expect_range(j, 1, 0, 1, 0);
	append_range(j, 1, 100);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 101);
	expect_range(j, 1, 0, 1, 100);
	ctl_journal_close(j);

	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 1);
	cr_assert_eq(out, 101);
	expect_range(j, 1, 0, 1, 100);
	expect_range(j, 37, 37, 37, 37);
	ctl_journal_close(j);
}

Test(journal, sequence_numbers_survive_reopen)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	for (uint64_t i = 2; i <= 1000; i++)
		cr_assert_eq(ctl_journal_set_next_in(j, i), 0);
	cr_assert_eq(ctl_journal_set_next_out(j, 77), 0);
	ctl_journal_close(j);
	j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 1000);
	cr_assert_eq(out, 77);
	/* a message above next_out moves it; the stored message is the resend source */
	append_range(j, 80, 80);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 81);
	expect_range(j, 1, 0, 80, 80);
	ctl_journal_close(j);
}

Test(journal, a_torn_state_slot_falls_back_to_the_previous_update)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	cr_assert_eq(ctl_journal_set_next_in(j, 5), 0);
	cr_assert_eq(ctl_journal_set_next_in(j, 6), 0);
	ctl_journal_close(j);
	/* The newest slot (generation 3: slots alternate) loses a byte of next_in. */
	char path[400];
	snprintf(path, sizeof(path), "%s/state", jdir);
	tu_flip_byte(path, CTL_J_STATE_SLOT0 + 64 + 8);
	j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 5, "the previous, intact update is in force");
	ctl_journal_close(j);
	/* Both slots damaged: refuse rather than guess. */
	tu_flip_byte(path, CTL_J_STATE_SLOT0 + 8);
	tu_flip_byte(path, CTL_J_STATE_SLOT0 + 64 + 16);
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
	cr_assert(strstr(err, "corrupt"), "%s", err);
}

Test(journal, resend_ranges_across_segment_rotation_and_reopen)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 2000);
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_gt(st.out_segments, 5, "2000 messages of ~250 bytes span many 64 KiB segments");
	for (int pass = 0; pass < 2; pass++) {
		expect_range(j, 1, 0, 1, 2000);
		expect_range(j, 500, 1500, 500, 1500);
		expect_range(j, 1, 1, 1, 1);
		expect_range(j, 2000, 0, 2000, 2000);
		expect_range(j, 1999, 5000, 1999, 2000);
		expect_range(j, 2001, 0, 1, 0);
		/* every segment boundary */
		for (uint64_t b = 200; b < 2000; b += 173)
			expect_range(j, b, b + 250, b, b + 250 > 2000 ? 2000 : b + 250);
		ctl_journal_close(j);
		j = open_ok(&c); /* second pass: sealed segments found through their footers */
	}
	ctl_journal_close(j);
}

Test(journal, sequence_gaps_are_skipped_and_oversized_messages_refused)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	char buf[512];
	for (uint64_t s = 2; s <= 1000; s += 2) {
		size_t len = tu_msg(SEED, s, buf);
		cr_assert_eq(ctl_journal_append_out(j, s, buf, len), 0);
	}
	seen->n = 0;
	cr_assert_eq(ctl_journal_for_each_out(j, 101, 201, tu_collect, seen), 0);
	cr_assert_eq(seen->n, 50);
	cr_assert_eq(seen->seqs[0], 102);
	cr_assert_eq(seen->seqs[49], 200);
	char big[5000] = { 0 };
	cr_assert_eq(ctl_journal_append_out(j, 1001, big, sizeof(big)), -1);
	cr_assert(strstr(ctl_journal_error(j), "max_record"), "%s", ctl_journal_error(j));
	cr_assert_eq(ctl_journal_append_out(j, 0, buf, 10), -1);
	ctl_journal_close(j);
}

Test(journal, saving_a_lower_seq_replaces_the_stored_tail_like_the_memory_store)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 100);
	append_range(j, 90, 95); /* same content generator: 90..95 again */
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 96);
	expect_range(j, 1, 0, 1, 95);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 96);
	expect_range(j, 1, 0, 1, 95);
	ctl_journal_close(j);
}

Test(journal, lowering_next_out_into_sealed_segments_keeps_the_messages_below_it)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_BATCH);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 2000);
	struct ctl_journal_stats st0, st;
	ctl_journal_stats(j, &st0);
	cr_assert_eq(ctl_journal_set_next_out(j, 500), 0);
	ctl_journal_stats(j, &st);
	cr_assert_lt(st.out_segments, st0.out_segments);
	cr_assert_eq(st.out_last_seq, 499);
	expect_range(j, 1, 0, 1, 499);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 500);
	append_range(j, 500, 1200);
	expect_range(j, 1, 0, 1, 1200);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 1201);
	expect_range(j, 1, 0, 1, 1200);
	expect_range(j, 450, 550, 450, 550);
	/* below everything: nothing stays, numbering restarts where asked */
	cr_assert_eq(ctl_journal_set_next_out(j, 1), 0);
	expect_range(j, 1, 0, 1, 0);
	append_range(j, 1, 3);
	ctl_journal_close(j);
	j = open_ok(&c);
	expect_range(j, 1, 0, 1, 3);
	ctl_journal_close(j);
}

static int stop_at_3(void *arg, uint64_t seq, const char *msg, size_t len)
{
	(void)msg;
	(void)len;
	*(uint64_t *)arg = seq;
	return seq == 3 ? 7 : 0;
}

Test(journal, a_visitor_stops_the_iteration_with_its_value)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 10);
	uint64_t last = 0;
	cr_assert_eq(ctl_journal_for_each_out(j, 1, 0, stop_at_3, &last), 7);
	cr_assert_eq(last, 3);
	ctl_journal_close(j);
}

Test(journal, torn_last_record_is_cut_at_recovery)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 50);
	ctl_journal_close(j);
	char path[400];
	uint64_t offs[64];
	cr_assert_eq(tu_segment(jdir, "out", 1, path, sizeof(path)), 0);
	cr_assert_eq(tu_record_offsets(path, offs, 64), 50);
	/* the last record's second half never reached the page cache */
	tu_zero_bytes(path, offs[49] + 120, 150);
	j = open_ok(&c);
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.torn_tail_cuts, 1);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 50, "the torn message's seq is free again");
	expect_range(j, 1, 0, 1, 49);
	/* appending over the cut tail, then recovering again, gives the new record */
	append_range(j, 50, 60);
	ctl_journal_close(j);
	j = open_ok(&c);
	expect_range(j, 1, 0, 1, 60);
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.torn_tail_cuts, 0);
	ctl_journal_close(j);
}

Test(journal, torn_record_header_is_cut_at_recovery)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 20);
	ctl_journal_close(j);
	char path[400];
	uint64_t offs[64];
	cr_assert_eq(tu_segment(jdir, "out", 1, path, sizeof(path)), 0);
	cr_assert_eq(tu_record_offsets(path, offs, 64), 20);
	tu_flip_byte(path, offs[19] + 5); /* the length field */
	j = open_ok(&c);
	expect_range(j, 1, 0, 1, 19);
	ctl_journal_close(j);
}

Test(journal, corrupt_middle_record_of_the_active_segment_ends_the_chain_there)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 100);
	ctl_journal_close(j);
	char path[400];
	uint64_t offs[128];
	cr_assert_eq(tu_segment(jdir, "out", 1, path, sizeof(path)), 0);
	int n = tu_record_offsets(path, offs, 128);
	cr_assert_gt(n, 40);
	uint64_t first_in_seg = 100 - (uint64_t)n + 1;
	tu_flip_byte(path, offs[20] + 100); /* one payload byte of the 21st record */
	j = open_ok(&c);
	/* Documented: the chain stops at the first bad record; everything after it in that
	 * segment is gone, and those seqs become free again (they will be gap-filled). */
	expect_range(j, 1, 0, 1, first_in_seg + 19);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, first_in_seg + 20);
	ctl_journal_close(j);
}

Test(journal, corrupt_record_in_a_sealed_segment_loses_only_the_rest_of_that_segment)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 1000);
	ctl_journal_close(j);
	char path[400];
	uint64_t offs[400];
	cr_assert_eq(tu_segment(jdir, "out", 0, path, sizeof(path)), 0);
	int n = tu_record_offsets(path, offs, 400);
	cr_assert_gt(n, 100);
	tu_flip_byte(path, offs[50] + 60);
	j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 1001, "sequence numbers are untouched");
	seen->n = 0;
	seen->bad_content = 0;
	cr_assert_eq(ctl_journal_for_each_out(j, 1, 0, tu_collect, seen), 0);
	cr_assert_eq(seen->bad_content, 0);
	cr_assert_eq(seen->n, 1000 - ((uint64_t)n - 50), "records 51..%d of segment 1 unavailable", n);
	cr_assert_eq(seen->seqs[49], 50);
	cr_assert_eq(seen->seqs[50], (uint64_t)n + 1, "the next segment is intact");
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_geq(st.corrupt_records, 1);
	ctl_journal_close(j);
}

Test(journal, reset_forgets_messages_and_sets_both_seqs_to_one_but_keeps_app_records)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_BATCH);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 700);
	cr_assert_eq(ctl_journal_set_next_in(j, 300), 0);
	cr_assert_eq(ctl_journal_append_app(j, 9, "route", 5), 0);
	cr_assert_eq(ctl_journal_reset(j), 0);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 1);
	cr_assert_eq(out, 1);
	expect_range(j, 1, 0, 1, 0);
	append_range(j, 1, 3);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 1);
	cr_assert_eq(out, 4);
	expect_range(j, 1, 0, 1, 3);
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.app_records, 1);
	cr_assert_eq(st.epoch, 2);
	ctl_journal_close(j);
}

Test(journal, lowering_next_out_discards_the_messages_from_there_on)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 50);
	cr_assert_eq(ctl_journal_set_next_in(j, 9), 0);
	cr_assert_eq(ctl_journal_set_next_out(j, 20), 0);
	expect_range(j, 1, 0, 1, 19);
	ctl_journal_close(j);
	j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 9);
	cr_assert_eq(out, 20);
	append_range(j, 20, 25);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(out, 26);
	expect_range(j, 1, 0, 1, 25);
	ctl_journal_close(j);
}

Test(journal, old_epoch_segments_left_by_a_crashed_reset_are_deleted)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 300);
	ctl_journal_close(j);
	/* Keep a copy of a segment of epoch 1, reset, then put it back as if the reset had
	 * crashed after writing the state page but before deleting it. */
	char path[400], copy[420];
	cr_assert_eq(tu_segment(jdir, "out", 0, path, sizeof(path)), 0);
	snprintf(copy, sizeof(copy), "%s/../keep", jdir);
	cr_assert_eq(link(path, copy), 0);
	j = open_ok(&c);
	cr_assert_eq(ctl_journal_reset(j), 0);
	append_range(j, 1, 5);
	ctl_journal_close(j);
	cr_assert_eq(rename(copy, path), 0);
	j = open_ok(&c);
	expect_range(j, 1, 0, 1, 5);
	cr_assert_eq(access(path, F_OK), -1, "the stale segment was deleted");
	ctl_journal_close(j);
}

Test(journal, leftovers_of_an_interrupted_rotation_are_cleaned_up)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 100);
	ctl_journal_close(j);
	/* a segment created but never given its header (killed in fallocate or just after) */
	char path[400];
	snprintf(path, sizeof(path), "%s/out-00000000000000f0.seg", jdir);
	FILE *f = fopen(path, "w");
	cr_assert_not_null(f);
	cr_assert_eq(ftruncate(fileno(f), 65536), 0);
	fclose(f);
	/* and one whose header is damaged although records follow: set aside, not deleted */
	char damaged[420], oldest[400];
	j = open_ok(&c);
	append_range(j, 101, 600); /* several segments */
	ctl_journal_close(j);
	cr_assert_eq(tu_segment(jdir, "out", 0, oldest, sizeof(oldest)), 0);
	tu_flip_byte(oldest, 20); /* the header's segno */
	snprintf(damaged, sizeof(damaged), "%s.corrupt", oldest);
	j = open_ok(&c);
	cr_assert_eq(access(path, F_OK), -1, "the headerless file is gone");
	cr_assert_eq(access(damaged, F_OK), 0, "the damaged segment is kept aside");
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.corrupt_records, 1);
	cr_assert_eq(st.out_last_seq, 600);
	cr_assert_gt(st.out_first_seq, 1, "the damaged segment's messages are not available");
	expect_range(j, st.out_first_seq, 0, st.out_first_seq, 600);
	ctl_journal_close(j);
}

Test(journal, a_seal_cut_short_is_undone_and_redone)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 400); /* the first segment is sealed, the second active */
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.out_segments, 2);
	ctl_journal_close(j);
	/* As if killed after the INDEX record but before the footer, the next segment not yet
	 * created: delete the second segment and damage the first one's footer. */
	char first[400], second[400];
	cr_assert_eq(tu_segment(jdir, "out", 0, first, sizeof(first)), 0);
	cr_assert_eq(tu_segment(jdir, "out", 1, second, sizeof(second)), 0);
	uint64_t offs[400];
	int n = tu_record_offsets(first, offs, 400);
	cr_assert_gt(n, 100);
	cr_assert_eq(unlink(second), 0);
	tu_flip_byte(first, 65536 - 64 + 20);
	j = open_ok(&c);
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.out_last_seq, (uint64_t)n);
	expect_range(j, 1, 0, 1, (uint64_t)n);
	append_range(j, (uint64_t)n + 1, 900); /* fills it, seals it again, goes on */
	ctl_journal_close(j);
	j = open_ok(&c);
	expect_range(j, 1, 0, 1, 900);
	expect_range(j, 50, 60, 50, 60);
	ctl_journal_close(j);
}

Test(journal, prune_keeps_the_last_segments_and_older_resends_are_not_available)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.keep_segments = 3;
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 3000);
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.out_segments, 4, "a rotation may add one before poll() prunes");
	cr_assert_gt(st.pruned_segments, 0);
	cr_assert_eq(ctl_journal_poll(j), 0);
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.out_segments, 3);
	cr_assert_gt(st.out_first_seq, 1);
	cr_assert_eq(st.out_last_seq, 3000);
	uint64_t first = st.out_first_seq;
	expect_range(j, 1, first - 1, 1, 0); /* pruned: nothing, the session gap-fills */
	expect_range(j, 1, 0, first, 3000);
	/* pruning by a sequence-number floor drops whole sealed segments below it */
	cr_assert_eq(ctl_journal_prune_below(j, 2900), 0);
	ctl_journal_stats(j, &st);
	cr_assert_leq(st.out_first_seq, 2900);
	cr_assert_lt(st.out_segments, 3);
	uint64_t first2 = st.out_first_seq;
	cr_assert_gt(first2, first);
	ctl_journal_close(j);
	j = open_ok(&c);
	expect_range(j, 1, 0, first2, 3000);
	/* the active segment is never pruned */
	cr_assert_eq(ctl_journal_prune_below(j, UINT64_MAX), 0);
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.out_segments, 1);
	cr_assert_eq(st.out_last_seq, 3000);
	ctl_journal_close(j);
}

struct app_seen {
	int n;
	uint32_t types[4000];
	char data[4000][16];
};

static int app_collect(void *arg, uint32_t type, const void *data, size_t len)
{
	struct app_seen *a = arg;
	a->types[a->n] = type;
	memcpy(a->data[a->n], data, len < 15 ? len : 15);
	a->data[a->n][len < 15 ? len : 15] = 0;
	a->n++;
	return 0;
}

Test(journal, app_records_replay_in_order_after_reopen_and_compaction)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	char rec[64];
	for (int i = 0; i < 3000; i++) { /* spans several application segments */
		int n = snprintf(rec, sizeof(rec), "clordid-%d", i);
		cr_assert_eq(ctl_journal_append_app(j, (uint32_t)(i % 5), rec, (size_t)n), 0);
		if (i % 3 == 0)
			append_range(j, (uint64_t)i / 3 + 1, (uint64_t)i / 3 + 1);
	}
	ctl_journal_close(j);
	j = open_ok(&c);
	struct app_seen *a = calloc(1, sizeof(*a));
	cr_assert_eq(ctl_journal_for_each_app(j, app_collect, a), 0);
	cr_assert_eq(a->n, 3000);
	for (int i = 0; i < 3000; i++) {
		snprintf(rec, sizeof(rec), "clordid-%d", i);
		cr_assert_eq(a->types[i], (uint32_t)(i % 5));
		cr_assert_str_eq(a->data[i], rec);
	}
	expect_range(j, 1, 0, 1, 1000);
	/* compaction: checkpoint, write a snapshot, drop what came before */
	uint64_t segno;
	cr_assert_eq(ctl_journal_app_checkpoint(j, &segno), 0);
	cr_assert_eq(ctl_journal_append_app(j, 100, "snapshot", 8), 0);
	cr_assert_eq(ctl_journal_app_drop_before(j, segno), 0);
	ctl_journal_close(j);
	j = open_ok(&c);
	memset(a, 0, sizeof(*a));
	cr_assert_eq(ctl_journal_for_each_app(j, app_collect, a), 0);
	cr_assert_eq(a->n, 1);
	cr_assert_eq(a->types[0], 100);
	cr_assert_str_eq(a->data[0], "snapshot");
	struct ctl_journal_stats st;
	ctl_journal_stats(j, &st);
	cr_assert_eq(st.app_segments, 1);
	ctl_journal_close(j);
	free(a);
}

Test(journal, app_stream_full_is_a_clear_error)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.max_app_segments = 2;
	struct ctl_journal *j = open_ok(&c);
	char rec[1000] = { 1 };
	int rc = 0, i;
	for (i = 0; i < 1000 && rc == 0; i++)
		rc = ctl_journal_append_app(j, 1, rec, sizeof(rec));
	cr_assert_eq(rc, -1);
	cr_assert(strstr(ctl_journal_error(j), "checkpoint"), "%s", ctl_journal_error(j));
	cr_assert_gt(i, 100, "two segments were filled first");
	ctl_journal_close(j);
}

static void policy_roundtrip(enum ctl_journal_fsync policy)
{
	struct ctl_journal_config c = small_cfg(policy);
	c.batch_records = 10;
	struct ctl_journal *j = open_ok(&c);
	struct ctl_journal_stats st0, st1;
	ctl_journal_stats(j, &st0);
	append_range(j, 1, 25);
	cr_assert_eq(ctl_journal_set_next_in(j, 12), 0);
	cr_assert_eq(ctl_journal_append_app(j, 3, "x", 1), 0);
	ctl_journal_stats(j, &st1);
	uint64_t syncs = st1.syncs - st0.syncs;
	switch (policy) {
	case CTL_JOURNAL_FSYNC_NONE:
		cr_assert_eq(syncs, 0, "none never syncs");
		break;
	case CTL_JOURNAL_FSYNC_BATCH:
		cr_assert_eq(syncs, 2, "27 changes with batch_records 10: two batch syncs");
		break;
	case CTL_JOURNAL_FSYNC_ALWAYS:
		cr_assert_geq(syncs, 27, "one sync per change at least");
		break;
	}
	cr_assert_eq(ctl_journal_flush(j), 0);
	ctl_journal_close(j);
	j = open_ok(&c);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	cr_assert_eq(in, 12);
	cr_assert_eq(out, 26);
	expect_range(j, 1, 0, 1, 25);
	ctl_journal_close(j);
}

Test(journal, policy_none_works_and_makes_no_sync_calls)
{
	policy_roundtrip(CTL_JOURNAL_FSYNC_NONE);
}

Test(journal, policy_batch_syncs_every_batch_records)
{
	policy_roundtrip(CTL_JOURNAL_FSYNC_BATCH);
}

Test(journal, policy_always_syncs_every_change)
{
	policy_roundtrip(CTL_JOURNAL_FSYNC_ALWAYS);
}

Test(journal, policy_batch_poll_syncs_once_the_oldest_append_is_old_enough)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_BATCH);
	c.batch_usec = 1;
	struct ctl_journal *j = open_ok(&c);
	struct ctl_journal_stats st0, st1;
	cr_assert_eq(ctl_journal_poll(j), 0);
	ctl_journal_stats(j, &st0);
	append_range(j, 1, 1);
	struct timespec ts = { 0, 2000000 };
	nanosleep(&ts, NULL); /* ensures batch_usec has passed; nothing is timed */
	cr_assert_eq(ctl_journal_poll(j), 0);
	ctl_journal_stats(j, &st1);
	cr_assert_eq(st1.syncs - st0.syncs, 1);
	cr_assert_eq(ctl_journal_poll(j), 0);
	ctl_journal_stats(j, &st0);
	cr_assert_eq(st0.syncs, st1.syncs, "nothing left to sync");
	ctl_journal_close(j);
}

Test(journal, a_directory_under_a_regular_file_is_a_clear_error)
{
	char file[400], bad[420];
	snprintf(file, sizeof(file), "%s/plainfile", base);
	FILE *f = fopen(file, "w");
	cr_assert_not_null(f);
	fclose(f);
	snprintf(bad, sizeof(bad), "%s/s", file);
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	cr_assert_null(ctl_journal_open(bad, &c, err, sizeof(err)));
	cr_assert(strstr(err, bad), "the message names the directory: %s", err);
	cr_assert(strstr(err, "Not a directory"), "%s", err);
}

/* Root ignores permission bits, so "not writable" is made real with a read-only mount in a
 * private mount namespace (this test runs in its own process). */
Test(journal, a_read_only_directory_is_a_clear_error)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	if (geteuid() != 0) {
		cr_assert_eq(mkdir(jdir, 0555), 0);
		cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
		cr_assert(strstr(err, "Permission denied"), "%s", err);
		return;
	}
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		cr_skip_test("no mount namespace: %s", strerror(errno));
	cr_assert_eq(mount("tmpfs", base, "tmpfs", 0, "size=8m"), 0, "%s", strerror(errno));
	struct ctl_journal *j = open_ok(&c);
	append_range(j, 1, 10);
	ctl_journal_close(j);
	cr_assert_eq(mount(NULL, base, NULL, MS_REMOUNT | MS_RDONLY, NULL), 0, "%s",
		     strerror(errno));
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
	cr_assert(strstr(err, jdir) && strstr(err, "Read-only file system"), "%s", err);
	char other[400];
	snprintf(other, sizeof(other), "%s/new", base);
	cr_assert_null(ctl_journal_open(other, &c, err, sizeof(err)));
	cr_assert(strstr(err, "cannot create the directory: Read-only"), "%s", err);
	umount(base);
}

Test(journal, a_second_open_of_the_same_directory_is_refused)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	struct ctl_journal *j = open_ok(&c);
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
	cr_assert(strstr(err, "in use"), "%s", err);
	ctl_journal_close(j);
	j = open_ok(&c);
	ctl_journal_close(j);
}

Test(journal, bad_configuration_is_refused_with_a_reason)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.segment_size = 1000;
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
	cr_assert(strstr(err, "segment sizes"), "%s", err);
	c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.max_record = 70000;
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
	cr_assert(strstr(err, "max_record"), "%s", err);
	c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.keep_segments = 0;
	cr_assert_null(ctl_journal_open(jdir, &c, err, sizeof(err)));
}

Test(journal, memory_stays_bounded_over_100000_messages)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	c.keep_segments = 4;
	struct ctl_journal *j = open_ok(&c);
	struct ctl_journal_stats st0, st;
	ctl_journal_stats(j, &st0);
	char buf[512];
	for (uint64_t s = 1; s <= 100000; s++) {
		size_t len = tu_msg(SEED, s, buf);
		cr_assert_eq(ctl_journal_append_out(j, s, buf, len), 0);
		if (s % 16 == 0) /* the owner's loop, on some of the way */
			cr_assert_eq(s > 50000 || ctl_journal_poll(j) == 0, 1);
		if (s % 997 == 0) {
			ctl_journal_stats(j, &st);
			cr_assert_eq(st.ram_bytes, st0.ram_bytes);
			cr_assert_leq(st.index_entries, st.index_capacity);
			cr_assert_leq(st.out_segments, 5, "keep_segments + 1 at most");
		}
	}
	cr_assert_eq(ctl_journal_poll(j), 0);
	ctl_journal_stats(j, &st);
	cr_assert_gt(st.rotations, 300, "the messages crossed hundreds of segments");
	cr_assert_eq(st.ram_bytes, st0.ram_bytes, "no growth: %zu -> %zu", st0.ram_bytes,
		     st.ram_bytes);
	cr_assert_lt(st.ram_bytes, 64 * 1024, "a few KiB for a 64 KiB-segment journal");
	cr_assert_eq(st.out_segments, 4);
	cr_assert_lt(st.out_records, 1200, "only the kept segments' messages remain");
	expect_range(j, st.out_first_seq, 0, st.out_first_seq, 100000);
	ctl_journal_close(j);
	/* and on disk: only the kept segments */
	int n = 0;
	DIR *d = opendir(jdir);
	struct dirent *de;
	while ((de = readdir(d)))
		n += strncmp(de->d_name, "out-", 4) == 0;
	closedir(d);
	cr_assert_eq(n, 4);
}

Test(journal, several_sessions_under_one_root_recover_each_exactly)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_NONE);
	char dirs[3][320];
	struct ctl_journal *js[3];
	for (int k = 0; k < 3; k++) {
		snprintf(dirs[k], sizeof(dirs[k]), "%s/session-%d", base, k);
		js[k] = ctl_journal_open(dirs[k], &c, err, sizeof(err));
		cr_assert_not_null(js[k], "%s", err);
	}
	char buf[512];
	for (uint64_t s = 1; s <= 900; s++) { /* interleaved, each its own numbers */
		int k = (int)(s % 3);
		uint64_t seq = (s + 2) / 3;
		size_t len = tu_msg(SEED, seq, buf);
		cr_assert_eq(ctl_journal_append_out(js[k], seq, buf, len), 0);
		cr_assert_eq(ctl_journal_set_next_in(js[k], seq * 10 + (uint64_t)k), 0);
	}
	cr_assert_eq(ctl_journal_append_app(js[1], 4, "only-1", 6), 0);
	for (int k = 0; k < 3; k++)
		ctl_journal_close(js[k]);
	for (int k = 0; k < 3; k++) {
		struct ctl_journal *j = ctl_journal_open(dirs[k], &c, err, sizeof(err));
		cr_assert_not_null(j, "%s", err);
		uint64_t in, out;
		ctl_journal_get_seqs(j, &in, &out);
		cr_assert_eq(out, 301);
		cr_assert_eq(in, 3000 + (uint64_t)k);
		expect_range(j, 1, 0, 1, 300);
		struct ctl_journal_stats st;
		ctl_journal_stats(j, &st);
		cr_assert_eq(st.app_records, k == 1 ? 1u : 0u);
		ctl_journal_close(j);
	}
}

Test(journal, the_ctl_store_adapter_maps_every_operation)
{
	struct ctl_journal_config c = small_cfg(CTL_JOURNAL_FSYNC_BATCH);
	struct ctl_journal *j = open_ok(&c);
	struct ctl_store st;
	ctl_store_journal_init(&st, j);
	char buf[512];
	for (uint64_t s = 1; s <= 30; s++) {
		size_t len = tu_msg(SEED, s, buf);
		cr_assert_eq(st.ops->save_outbound(st.ctx, s, buf, len), 0);
	}
	cr_assert_eq(st.ops->set_next_in(st.ctx, 44), 0);
	cr_assert_eq(st.ops->flush(st.ctx), 0);
	uint64_t in, out;
	cr_assert_eq(st.ops->get_seqs(st.ctx, &in, &out), 0);
	cr_assert_eq(in, 44);
	cr_assert_eq(out, 31);
	seen->n = 0;
	cr_assert_eq(st.ops->for_each_outbound(st.ctx, 10, 12, tu_collect, seen), 0);
	cr_assert_eq(seen->n, 3);
	cr_assert_eq(st.ops->set_next_out(st.ctx, 40), 0);
	cr_assert_eq(st.ops->get_seqs(st.ctx, &in, &out), 0);
	cr_assert_eq(out, 40);
	cr_assert_eq(st.ops->reset(st.ctx), 0);
	cr_assert_eq(st.ops->get_seqs(st.ctx, &in, &out), 0);
	cr_assert_eq(in + out, 2);
	ctl_journal_close(j);
}
