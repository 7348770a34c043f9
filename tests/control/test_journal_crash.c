/* tests/control: kill -9 crash tests of the journal. A forked child recovers the journal and
 * appends outbound messages, sequence-number updates and application records, reporting each
 * completed step over a pipe; the parent kills it with SIGKILL at a random moment (often during
 * its start-up recovery, often in a segment rotation: segments are 64 KiB), then recovers the
 * journal itself and checks that it holds exactly a prefix of what was written — every record
 * intact and in order, no gap, no garbage — that contains every record the child reported.
 * Memory-mapped writes survive a process kill under every policy (the page cache holds them),
 * so "reported appended" is the bar for all three, and "reported durable" is implied.
 *
 * Seeded and repeatable: FIXMUX_JOURNAL_CRASH_SEED=<n> picks the seed (printed on failure),
 * FIXMUX_JOURNAL_CRASH_ITERS=<n> the kills per policy (a soak run: set it to 10000).
 */
#define _GNU_SOURCE
#include <criterion/criterion.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "journal_util.h"

/* REP_OP: the start-up operation (reset, or lowering next_out) is done. */
enum { REP_MSG = 1, REP_OP = 2, REP_DURABLE = 3 };
enum { OP_NONE, OP_RESET, OP_LOWER };

struct report {
	uint64_t tag;
	uint64_t seq;   /* REP_MSG: every step of this message is done; REP_DURABLE: up to it */
	uint64_t apps;  /* application records appended so far, in total */
};

static const uint64_t MSG_SEED = 7;

static struct ctl_journal_config crash_cfg(enum ctl_journal_fsync policy)
{
	struct ctl_journal_config c;
	ctl_journal_config_default(&c);
	c.fsync = policy;
	c.segment_size = 64 * 1024;
	c.app_segment_size = 64 * 1024;
	c.keep_segments = 6;
	c.max_app_segments = 100000;
	c.max_record = 1024;
	c.batch_records = 64;
	return c;
}

static size_t app_payload(uint64_t i, char *buf)
{
	uint64_t x = i * 0xD1B54A32D192ED03ull + 1;
	memcpy(buf, &i, 8);
	size_t len = 8 + (size_t)(x >> 60);
	for (size_t k = 8; k < len; k++)
		buf[k] = (char)(x >> (k % 8 * 8));
	return len;
}

static uint32_t app_type(uint64_t i)
{
	return (uint32_t)(i % 7);
}

static void child_fail(const char *what, struct ctl_journal *j, const char *err)
{
	fprintf(stderr, "crash child: %s: %s\n", what, j ? ctl_journal_error(j) : err);
	_exit(3);
}

static int count_app(void *arg, uint32_t type, const void *data, size_t len)
{
	(void)type;
	(void)data;
	(void)len;
	(*(uint64_t *)arg)++;
	return 0;
}

static void send_report(int fd, uint64_t tag, uint64_t seq, uint64_t apps)
{
	struct report r = { tag, seq, apps };
	if (write(fd, &r, sizeof(r)) != (ssize_t)sizeof(r))
		_exit(4);
}

/* The writer: never returns. */
static void child_run(const char *dir, enum ctl_journal_fsync policy, int op, uint64_t lower_to,
		      int fd)
{
	struct ctl_journal_config c = crash_cfg(policy);
	char err[512], buf[512];
	struct ctl_journal *j = ctl_journal_open(dir, &c, err, sizeof(err));
	if (!j)
		child_fail("open", NULL, err);
	uint64_t apps = 0, in, out;
	if (ctl_journal_for_each_app(j, count_app, &apps))
		child_fail("count app records", j, NULL);
	if (op == OP_RESET) {
		if (ctl_journal_reset(j))
			child_fail("reset", j, NULL);
		send_report(fd, REP_OP, 0, apps);
	} else if (op == OP_LOWER) {
		/* an operator lowers next_out: the stored tail from there on goes */
		if (ctl_journal_set_next_out(j, lower_to))
			child_fail("set_next_out", j, NULL);
		send_report(fd, REP_OP, 0, apps);
	}
	ctl_journal_get_seqs(j, &in, &out);
	for (uint64_t seq = out;; seq++) {
		size_t len = tu_msg(MSG_SEED, seq, buf);
		if (ctl_journal_append_out(j, seq, buf, len))
			child_fail("append_out", j, NULL);
		if (ctl_journal_set_next_in(j, seq + 1))
			child_fail("set_next_in", j, NULL);
		if (seq % 32 == 0) {
			size_t alen = app_payload(apps, buf);
			if (ctl_journal_append_app(j, app_type(apps), buf, alen))
				child_fail("append_app", j, NULL);
			apps++;
		}
		/* the owner's housekeeping: spare segments and page prefaults, killed too */
		if (seq % 8 == 0 && ctl_journal_poll(j))
			child_fail("poll", j, NULL);
		send_report(fd, REP_MSG, seq, apps);
		if (policy == CTL_JOURNAL_FSYNC_ALWAYS) {
			send_report(fd, REP_DURABLE, seq, apps);
		} else if (policy == CTL_JOURNAL_FSYNC_BATCH && seq % 50 == 0) {
			if (ctl_journal_flush(j))
				child_fail("flush", j, NULL);
			send_report(fd, REP_DURABLE, seq, apps);
		}
	}
}

/* What the parent expects after a kill, and what it found. */
struct model {
	uint64_t last;      /* last outbound seq recovered (0: none) */
	uint64_t apps;      /* application records recovered */
	uint64_t in;        /* next_in recovered */
};

struct check {
	uint64_t first, last, n, prev;
	uint64_t gap_from, gap_to; /* the first gap */
	int gap, bad;
};

static int check_out(void *arg, uint64_t seq, const char *msg, size_t len)
{
	struct check *c = arg;
	char want[512];
	size_t wl = tu_msg(MSG_SEED, seq, want);
	if (wl != len || memcmp(want, msg, len) != 0)
		c->bad++;
	if (c->n && seq != c->prev + 1 && !c->gap++) {
		c->gap_from = c->prev;
		c->gap_to = seq;
	}
	if (!c->n)
		c->first = seq;
	c->prev = c->last = seq;
	c->n++;
	return 0;
}

struct app_check {
	uint64_t n;
	int bad;
};

static int check_app(void *arg, uint32_t type, const void *data, size_t len)
{
	struct app_check *a = arg;
	char want[64];
	size_t wl = app_payload(a->n, want);
	if (type != app_type(a->n) || len != wl || memcmp(want, data, len) != 0)
		a->bad++;
	a->n++;
	return 0;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);
	return v && *v ? strtoull(v, NULL, 0) : def;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void crash_run(enum ctl_journal_fsync policy, uint64_t default_iters)
{
	char base[256], dir[300], err[512];
	tu_mkdtemp(base, sizeof(base), dir, sizeof(dir));
	uint64_t seed = env_u64("FIXMUX_JOURNAL_CRASH_SEED", 0x5eed0001) + (uint64_t)policy;
	uint64_t iters = env_u64("FIXMUX_JOURNAL_CRASH_ITERS", default_iters);
	uint64_t rs = seed | 1;
	struct ctl_journal_config cfg = crash_cfg(policy);
	struct model m = { 0, 0, 1 };
	uint64_t total_reports = 0, kills_before_first_report = 0, max_seq = 0, cuts = 0;

	for (uint64_t it = 0; it < iters; it++) {
		int p[2];
		cr_assert_eq(pipe(p), 0);
		int op = it % 50 == 49 ? OP_RESET : it % 50 == 24 ? OP_LOWER : OP_NONE;
		uint64_t lower_to = m.last + 1 > 300 ? m.last + 1 - 300 : 1;
		pid_t pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			close(p[0]);
			child_run(dir, policy, op, lower_to, p[1]);
		}
		close(p[1]);
		/* Half of the kills land within the first millisecond (start-up recovery), the
		 * rest anywhere in the first 8 ms (40 ms under ALWAYS, where every step waits
		 * for the disk). */
		uint64_t r = rnd(&rs);
		uint64_t window = policy == CTL_JOURNAL_FSYNC_ALWAYS ? 40000 : 8000;
		uint64_t delay_us = r & 1 ? (r >> 8) % 1000 : (r >> 8) % window;
		struct timespec t0;
		clock_gettime(CLOCK_MONOTONIC, &t0);
		uint64_t start = (uint64_t)t0.tv_sec * 1000000 + (uint64_t)t0.tv_nsec / 1000;
		struct report rep[256];
		uint64_t reported = 0, reported_apps = m.apps, durable = 0, reports = 0;
		int op_done = op == OP_NONE, child_exited = 0;
		for (;;) {
			struct timespec t;
			clock_gettime(CLOCK_MONOTONIC, &t);
			uint64_t now = (uint64_t)t.tv_sec * 1000000 + (uint64_t)t.tv_nsec / 1000;
			if (now - start >= delay_us)
				break;
			struct pollfd pf = { p[0], POLLIN, 0 };
			int wait_ms = (int)((delay_us - (now - start) + 999) / 1000);
			if (poll(&pf, 1, wait_ms) <= 0)
				continue;
			ssize_t n = read(p[0], rep, sizeof(rep));
			if (n <= 0) {
				child_exited = 1;
				break;
			}
			for (ssize_t i = 0; i < n / (ssize_t)sizeof(rep[0]); i++) {
				reports++;
				if (rep[i].tag == REP_OP)
					op_done = 1;
				else if (rep[i].tag == REP_MSG)
					reported = rep[i].seq, reported_apps = rep[i].apps;
				else if (rep[i].tag == REP_DURABLE)
					durable = rep[i].seq;
			}
		}
		kill(pid, SIGKILL);
		int status;
		cr_assert_eq(waitpid(pid, &status, 0), pid);
		cr_assert(!child_exited && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL,
			  "seed %#llx iteration %llu: the writer failed by itself (status %#x)",
			  (unsigned long long)seed, (unsigned long long)it, status);
		/* Reports written before the kill are all in the pipe. */
		ssize_t n;
		while ((n = read(p[0], rep, sizeof(rep))) > 0) {
			for (ssize_t i = 0; i < n / (ssize_t)sizeof(rep[0]); i++) {
				reports++;
				if (rep[i].tag == REP_OP)
					op_done = 1;
				else if (rep[i].tag == REP_MSG)
					reported = rep[i].seq, reported_apps = rep[i].apps;
				else if (rep[i].tag == REP_DURABLE)
					durable = rep[i].seq;
			}
		}
		close(p[0]);
		total_reports += reports;
		kills_before_first_report += reports == 0;

		struct ctl_journal *j = ctl_journal_open(dir, &cfg, err, sizeof(err));
		cr_assert_not_null(j, "seed %#llx iteration %llu: recovery failed: %s",
				   (unsigned long long)seed, (unsigned long long)it, err);
		struct check c = { 0 };
		cr_assert_eq(ctl_journal_for_each_out(j, 1, 0, check_out, &c), 0);
		struct app_check a = { 0 };
		cr_assert_eq(ctl_journal_for_each_app(j, check_app, &a), 0);
		uint64_t in, out;
		ctl_journal_get_seqs(j, &in, &out);
		struct ctl_journal_stats st;
		ctl_journal_stats(j, &st);
		ctl_journal_close(j);
		cuts += st.torn_tail_cuts != 0;

		char where[200];
		snprintf(where, sizeof(where),
			 "seed %#llx iteration %llu (reported %llu, durable %llu, before %llu, "
			 "recovered %llu..%llu, next_in %llu, next_out %llu)",
			 (unsigned long long)seed, (unsigned long long)it,
			 (unsigned long long)reported, (unsigned long long)durable,
			 (unsigned long long)m.last, (unsigned long long)c.first,
			 (unsigned long long)c.last, (unsigned long long)in, (unsigned long long)out);
		cr_assert_eq(c.bad, 0, "garbage in a recovered message: %s", where);
		cr_assert_eq(c.gap, 0, "a gap in the recovered messages (%llu -> %llu): %s",
			     (unsigned long long)c.gap_from, (unsigned long long)c.gap_to, where);
		cr_assert_eq(a.bad, 0, "garbage in a recovered application record: %s", where);
		cr_assert_eq(st.corrupt_records, 0, "a kill must not corrupt sealed data: %s", where);

		/* The prefix: what the writer finished is there; at most the one step it was in
		 * the middle of is there too. */
		uint64_t lo, hi;
		uint64_t after_op = op == OP_RESET ? 0 : op == OP_LOWER ? lower_to - 1 : m.last;
		if (reported) {
			lo = reported;
			hi = reported + 1;
		} else if (op_done) {
			lo = after_op;
			hi = after_op + 1;
		} else if (op == OP_RESET) {
			/* killed before reporting the reset: either side of it, nothing after */
			lo = c.last == 0 ? 0 : m.last;
			hi = c.last == 0 ? 0 : m.last;
		} else {
			/* killed while lowering next_out: anywhere between, nothing after */
			lo = after_op;
			hi = m.last;
		}
		cr_assert(c.last >= lo && c.last <= hi, "not the written prefix: %s", where);
		cr_assert_geq(c.last, durable, "a reported-durable message is missing: %s", where);
		cr_assert_eq(out, c.last + 1, "next_out does not follow the messages: %s", where);
		/* next_in is set after each append: it is the reported message's + 1, or one
		 * step further; without a report, as before (1 after a reset) or one step on. */
		uint64_t base_in = m.in;
		if (op == OP_RESET && (op_done || c.last == 0))
			base_in = 1;
		if (reported)
			cr_assert((in == reported + 1 || in == reported + 2) && in <= c.last + 1,
				  "next_in out of step: %s", where);
		else
			cr_assert(in == base_in || (c.last && in == c.last + 1),
				  "next_in out of step: %s", where);
		if (c.n) /* contiguous from the oldest kept message to the newest */
			cr_assert_eq(c.n, c.last - c.first + 1, "%s", where);
		cr_assert(a.n == reported_apps || a.n == reported_apps + 1,
			  "application records: %llu recovered, %llu reported: %s",
			  (unsigned long long)a.n, (unsigned long long)reported_apps, where);
		m.last = c.last;
		m.apps = a.n;
		m.in = in;
		if (c.last > max_seq)
			max_seq = c.last;
	}
	/* The run must have exercised something: kills both before and after the writer got
	 * going (how far it gets depends on the disk under ALWAYS and BATCH). */
	cr_assert_gt(kills_before_first_report, 0, "some kills landed during start-up");
	cr_assert_lt(kills_before_first_report, iters, "some kills landed while appending");
	cr_log_info("policy %d: %llu kills, %llu reports, highest seq %llu, %llu torn tails cut, "
		    "seed %#llx", (int)policy, (unsigned long long)iters,
		    (unsigned long long)total_reports, (unsigned long long)max_seq,
		    (unsigned long long)cuts, (unsigned long long)seed);
	tu_rmrf(base);
}

TestSuite(journal_crash);

Test(journal_crash, kill9_under_policy_none_recovers_the_reported_prefix)
{
	crash_run(CTL_JOURNAL_FSYNC_NONE, 300);
}

Test(journal_crash, kill9_under_policy_batch_recovers_the_reported_prefix)
{
	crash_run(CTL_JOURNAL_FSYNC_BATCH, 200);
}

Test(journal_crash, kill9_under_policy_always_recovers_the_reported_prefix)
{
	crash_run(CTL_JOURNAL_FSYNC_ALWAYS, 150);
}
