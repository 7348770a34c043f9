/* bench: the journal (control/ctl_journal.c).
 *
 *   append-<policy>   ctl_journal_append_out of 200-300 byte FIX messages under each fsync
 *                     policy, each append timed on its own (fenced TSC), so the median and p99
 *                     include segment rotations and syncs where they fall;
 *   append+seq-none   the per-message work of a session: the append plus set_next_in;
 *   resend-100k       servicing a ResendRequest for 100 000 messages: for_each_out over the
 *                     range, with a callback that reads every byte of every message.
 *
 * Checks its own results (counts, byte sums, recovery of what it wrote) and fails loudly.
 * The journal lives in --dir (default $TMPDIR or /tmp): the file system there decides the
 * cost of BATCH and ALWAYS, so the output names it.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <time.h>
#include <unistd.h>

#include "bench_util.h"
#include "ctl_journal.h"
#include "ctl_session.h"
#include "ctl_store_journal.h"
#include "fix_encode.h"

#define NMSG 64
static char msgs[NMSG][320];
static size_t msg_len[NMSG];

static void make_messages(void)
{
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < NMSG; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		size_t len = 200 + x % 101;
		int n = snprintf(msgs[i], sizeof(msgs[i]),
				 "8=FIX.4.4\0019=%03zu\00135=D\00149=FIXMUX\00156=LMAX\00134=%d\001"
				 "52=20261126-12:00:00.000\00111=ORD%08d\00155=EUR/USD\00154=1\001",
				 len - 20, i + 1, i);
		for (size_t k = (size_t)n; k < len; k++)
			msgs[i][k] = (char)('a' + (x >> (k % 50)) % 26);
		msg_len[i] = len;
	}
}


static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static const char *policy_name[] = { "none", "batch", "always" };

static struct ctl_journal *open_fresh(const char *dir, enum ctl_journal_fsync p)
{
	char err[512];
	bench_rm_tree(dir);
	struct ctl_journal_config c;
	ctl_journal_config_default(&c);
	c.fsync = p;
	struct ctl_journal *j = ctl_journal_open(dir, &c, err, sizeof(err));
	if (!j)
		bench_fail("%s", err);
	return j;
}

/* Per-operation ticks -> median, p99, mean in ns; msgs/s from the wall time. */
static void summarise(uint64_t *t, uint32_t n, double wall_ms, struct bench_stats *st)
{
	double tpn = bench_ticks_per_ns();
	uint64_t sum = 0;
	for (uint32_t i = 0; i < n; i++)
		sum += t[i];
	qsort(t, n, sizeof(*t), cmp_u64);
	st->median_ns = t[n / 2] / tpn;
	st->p99_ns = t[(uint64_t)n * 99 / 100] / tpn;
	st->mean_ns = (double)sum / n / tpn;
	st->min_ns = t[0] / tpn;
	st->msgs_per_s = n / (wall_ms / 1e3);
	st->samples = n;
	st->batch = 1;
}

static void bench_append(const struct bench_opts *o, const char *dir, enum ctl_journal_fsync p,
			 uint32_t max_n, double budget_ms, int with_seq, int with_poll,
			 uint64_t *ticks)
{
	struct ctl_journal *j = open_fresh(dir, p);
	uint32_t n = 0;
	double t0 = now_ms();
	for (; n < max_n; n++) {
		if ((n & 63) == 0 && now_ms() - t0 > budget_ms)
			break;
		/* the owner's loop between bursts: not part of an append's cost */
		if (with_poll && (n & 15) == 0 && ctl_journal_poll(j))
			bench_fail("poll: %s", ctl_journal_error(j));
		uint64_t a = bench_ticks();
		int rc = ctl_journal_append_out(j, n + 1, msgs[n % NMSG], msg_len[n % NMSG]);
		if (with_seq)
			rc |= ctl_journal_set_next_in(j, n + 2);
		uint64_t b = bench_ticks();
		if (rc)
			bench_fail("append %u: %s", n + 1, ctl_journal_error(j));
		ticks[n] = b - a;
	}
	double wall = now_ms() - t0;
	if (ctl_journal_flush(j))
		bench_fail("flush: %s", ctl_journal_error(j));
	struct ctl_journal_stats js;
	ctl_journal_stats(j, &js);
	ctl_journal_close(j);
	/* what was appended must be what a recovery finds */
	char err[512];
	struct ctl_journal_config c;
	ctl_journal_config_default(&c);
	c.fsync = p;
	j = ctl_journal_open(dir, &c, err, sizeof(err));
	if (!j)
		bench_fail("reopen: %s", err);
	uint64_t in, out;
	ctl_journal_get_seqs(j, &in, &out);
	ctl_journal_close(j);
	if (out != (uint64_t)n + 1 || (with_seq && in != (uint64_t)n + 1))
		bench_fail("recovered next_out %llu next_in %llu after %u appends",
			   (unsigned long long)out, (unsigned long long)in, n);
	struct bench_stats st;
	summarise(ticks, n, wall, &st);
	char workload[32];
	snprintf(workload, sizeof(workload), "%s-%s%s", with_seq ? "append+seq" : "append",
		 policy_name[p], with_poll ? "" : "-nopoll");
	bench_print_row(o, "journal", workload, "ctl_journal", "200-300B", &st, NULL, 0);
	/* the tail, where rotations, syncs and write-back stalls show (ticks are sorted now) */
	double tpn = bench_ticks_per_ns();
	double p999 = ticks[(uint64_t)n * 999 / 1000] / tpn, max = ticks[n - 1] / tpn;
	if (o->json)
		printf("{\"bench\":\"journal\",\"workload\":\"%s-tail\",\"messages\":%u,"
		       "\"mean_ns\":%.1f,\"p999_ns\":%.1f,\"max_ns\":%.1f,\"syncs\":%llu,"
		       "\"rotations\":%llu}\n", workload, n, st.mean_ns, p999, max,
		       (unsigned long long)js.syncs, (unsigned long long)js.rotations);
	else
		printf("%-22s   %u msgs, mean %.0f ns, p99.9 %.0f ns, max %.0f ns; %llu syncs, "
		       "%llu rotations\n", "", n, st.mean_ns, p999, max,
		       (unsigned long long)js.syncs, (unsigned long long)js.rotations);
}

struct touch {
	uint64_t n, sum;
};

/* What the session does with each message of a resend: copy it out (to rewrite its header
 * with PossDupFlag and OrigSendingTime). The sum over the copy proves every byte was read. */
static int touch_all(void *arg, uint64_t seq, const char *msg, size_t len)
{
	struct touch *t = arg;
	static char copy[1024];
	(void)seq;
	memcpy(copy, msg, len);
	uint64_t s = 0;
	for (size_t i = 0; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, copy + i, 8);
		s += w;
	}
	for (size_t i = len & ~(size_t)7; i < len; i++)
		s += (unsigned char)copy[i];
	t->sum += s;
	t->n++;
	return 0;
}

static uint64_t sum_bytes(const char *m, size_t len)
{
	struct touch t = { 0, 0 };
	touch_all(&t, 0, m, len);
	return t.sum;
}

static void bench_resend(const struct bench_opts *o, const char *dir, uint64_t *ticks)
{
	enum { N = 100000 };
	struct ctl_journal *j = open_fresh(dir, CTL_JOURNAL_FSYNC_NONE);
	uint64_t want_sum = 0;
	for (uint32_t i = 0; i < N; i++) {
		if (ctl_journal_append_out(j, i + 1, msgs[i % NMSG], msg_len[i % NMSG]))
			bench_fail("append: %s", ctl_journal_error(j));
		want_sum += sum_bytes(msgs[i % NMSG], msg_len[i % NMSG]);
	}
	struct ctl_journal_stats js;
	ctl_journal_stats(j, &js);
	uint32_t runs = 0;
	double t0 = now_ms();
	while (runs < 1000 && (runs < 10 || now_ms() - t0 < o->budget_ms * 3)) {
		struct touch t = { 0, 0 };
		uint64_t a = bench_ticks();
		int rc = ctl_journal_for_each_out(j, 1, N, touch_all, &t);
		uint64_t b = bench_ticks();
		if (rc || t.n != N || t.sum != want_sum)
			bench_fail("resend visited %llu messages (sum %llu, want %u, %llu): %s",
				   (unsigned long long)t.n, (unsigned long long)t.sum, N,
				   (unsigned long long)want_sum, ctl_journal_error(j));
		ticks[runs++] = b - a;
	}
	ctl_journal_close(j);
	struct bench_stats st;
	double tpn = bench_ticks_per_ns();
	qsort(ticks, runs, sizeof(*ticks), cmp_u64);
	double med_ms = ticks[runs / 2] / tpn / 1e6, p99_ms = ticks[(uint64_t)runs * 99 / 100] / tpn / 1e6;
	uint64_t sum = 0;
	for (uint32_t i = 0; i < runs; i++)
		sum += ticks[i];
	st.median_ns = ticks[runs / 2] / tpn / N;
	st.p99_ns = ticks[(uint64_t)runs * 99 / 100] / tpn / N;
	st.mean_ns = (double)sum / runs / tpn / N;
	st.min_ns = ticks[0] / tpn / N;
	st.msgs_per_s = 1e9 / st.mean_ns;
	st.samples = runs;
	st.batch = N;
	bench_print_row(o, "journal", "resend-100k", "ctl_journal", "200-300B", &st, NULL, 0);
	if (o->json)
		printf("{\"bench\":\"journal\",\"workload\":\"resend-100k-total\",\"messages\":%d,"
		       "\"segments\":%u,\"median_ms\":%.3f,\"p99_ms\":%.3f,\"runs\":%u}\n",
		       N, js.out_segments, med_ms, p99_ms, runs);
	else
		printf("%-22s   100000 msgs from %u segments: median %.2f ms, p99 %.2f ms per "
		       "ResendRequest (%u runs)\n", "", js.out_segments, med_ms, p99_ms, runs);
}

/* The whole service through the session layer: a logged-on acceptor over a real journal holds
 * 100 000 application messages it sent; the peer asks for all of them again. Timed from the
 * ResendRequest's bytes to the last resent message handed to the transport: each one read from
 * the journal, re-encoded with PossDupFlag=Y and OrigSendingTime, journal reads, encoding and
 * the bounded batches (ctl_session_poll until it has nothing left) included. */
struct sess_sink {
	uint64_t msgs, bytes, possdup;
};

static void sink_send(void *arg, const char *b, size_t n)
{
	struct sess_sink *k = arg;
	k->msgs++;
	k->bytes += n;
	k->possdup += memmem(b, n < 120 ? n : 120, "\00143=Y\001", 6) != NULL;
}

static void sink_deliver(void *arg, const struct fix_msg *m)
{
	(void)arg, (void)m;
}

static void sink_disconnect(void *arg, const char *why)
{
	(void)arg;
	bench_fail("session dropped the connection: %s", why);
}

static size_t peer_msg(char *buf, size_t cap, const char *type, uint64_t seq, int64_t now,
		       const char *body)
{
	struct fix_encoder e;
	char *out;
	fix_enc_begin(&e, buf, cap, FIX_VER_44, type, NULL);
	fix_enc_cstr(&e, 49, "PEER");
	fix_enc_cstr(&e, 56, "US");
	fix_enc_uint(&e, 34, seq);
	fix_enc_time(&e, 52, now, FIX_TIME_MS);
	fix_enc_raw(&e, body, strlen(body));
	size_t n = fix_enc_finish(&e, &out);
	memmove(buf, out, n);
	return n;
}

static void bench_session_resend(const struct bench_opts *o, const char *dir, uint64_t *ticks)
{
	enum { N = 100000 };
	struct ctl_journal *j = open_fresh(dir, CTL_JOURNAL_FSYNC_NONE);
	struct ctl_store st;
	ctl_store_journal_init(&st, j);
	struct ctl_session_cfg c;
	ctl_session_cfg_init(&c);
	c.role = CTL_ROLE_ACCEPTOR;
	c.sender_comp_id = "US";
	c.target_comp_id = "PEER";
	struct sess_sink k = {0, 0, 0};
	struct ctl_session_io io = {&k, sink_send, sink_deliver, sink_disconnect, NULL};
	char err[128];
	struct ctl_session *s = ctl_session_create(&c, &io, st, err, sizeof(err));
	if (!s)
		bench_fail("session: %s", err);
	int64_t now = (int64_t)time(NULL) * 1000000000LL;
	char buf[512];
	uint64_t in_seq = 1;
	ctl_session_connect(s, now);
	size_t n = peer_msg(buf, sizeof(buf), "A", in_seq++, now, "98=0\001108=30\001");
	ctl_session_on_bytes(s, now, buf, n);
	if (!ctl_session_logged_on(s))
		bench_fail("the bench session did not log on");
	for (uint32_t i = 0; i < N; i++) {
		/* NewOrderSingle bodies: with the session's header, about 220 bytes each */
		char body[256];
		int bl = snprintf(body, sizeof(body),
				  "11=ORD%08u\00121=1\00138=1000000\00140=2\00144=1.0850\00154=1\001"
				  "55=EUR/USD\00159=0\00160=20261126-12:00:00.000\00158=%.*s\001", i,
				  60 + (int)(i % 40), "benchmark padding benchmark padding benchmark "
				  "padding benchmark padding benchmark padding");
		if (!ctl_session_send_app(s, now, "D", NULL, 0, body, (size_t)bl))
			bench_fail("send_app %u failed", i);
	}
	uint32_t runs = 0;
	double t0 = now_ms();
	while (runs < 200 && (runs < 5 || now_ms() - t0 < o->budget_ms * 3)) {
		k = (struct sess_sink){0, 0, 0};
		now += 1000000;
		n = peer_msg(buf, sizeof(buf), "2", in_seq++, now, "7=2\00116=0\001");
		uint64_t a = bench_ticks();
		ctl_session_on_bytes(s, now, buf, n);
		while (ctl_session_poll(s, now) == 1)
			;
		uint64_t b = bench_ticks();
		if (k.possdup != N)
			bench_fail("resend sent %llu messages, %llu with PossDupFlag (want %u)",
				   (unsigned long long)k.msgs, (unsigned long long)k.possdup, N);
		ticks[runs++] = b - a;
	}
	ctl_session_destroy(s);
	ctl_journal_close(j);
	double tpn = bench_ticks_per_ns();
	qsort(ticks, runs, sizeof(*ticks), cmp_u64);
	uint64_t sum = 0;
	for (uint32_t i = 0; i < runs; i++)
		sum += ticks[i];
	struct bench_stats bs;
	bs.median_ns = ticks[runs / 2] / tpn / N;
	bs.p99_ns = ticks[(uint64_t)runs * 99 / 100] / tpn / N;
	bs.mean_ns = (double)sum / runs / tpn / N;
	bs.min_ns = ticks[0] / tpn / N;
	bs.msgs_per_s = 1e9 / bs.mean_ns;
	bs.samples = runs;
	bs.batch = N;
	bench_print_row(o, "journal", "session-resend-100k", "ctl_session", "200-300B", &bs, NULL,
			0);
	double med_ms = ticks[runs / 2] / tpn / 1e6;
	double p99_ms = ticks[(uint64_t)runs * 99 / 100] / tpn / 1e6;
	if (o->json)
		printf("{\"bench\":\"journal\",\"workload\":\"session-resend-100k-total\","
		       "\"messages\":%d,\"median_ms\":%.3f,\"p99_ms\":%.3f,\"runs\":%u}\n",
		       N, med_ms, p99_ms, runs);
	else
		printf("%-22s   a ResendRequest for 100000 messages through the session layer "
		       "(re-encoded, PossDupFlag=Y): median %.2f ms, p99 %.2f ms (%u runs)\n", "",
		       med_ms, p99_ms, runs);
}

int main(int argc, char **argv)
{
	const char *dir = NULL;
	uint32_t count = 200000;
	argc = bench_take_dir_count(argc, argv, &dir, &count);
	struct bench_opts o;
	bench_parse_opts(argc, argv, &o,
			 "  --dir DIR      where the journal is written (default $TMPDIR or /tmp)\n"
			 "  --count N      appends per figure for none/batch (default 200000)\n");
	char tmpl[512];
	const char *t = getenv("TMPDIR");
	snprintf(tmpl, sizeof(tmpl), "%s/fixmux-bench-journal-XXXXXX", dir ? dir : t && *t ? t : "/tmp");
	if (!mkdtemp(tmpl))
		bench_fail("cannot create a directory from %s: %s", tmpl, strerror(errno));
	char jdir[600];
	snprintf(jdir, sizeof(jdir), "%s/j", tmpl);
	struct statfs sf;
	const char *fs = "other";
	if (statfs(tmpl, &sf) == 0)
		fs = sf.f_type == 0xEF53 ? "ext4" : sf.f_type == 0x01021994 ? "tmpfs" :
		     sf.f_type == 0x58465342 ? "xfs" : sf.f_type == 0x9123683E ? "btrfs" : "other";

	bench_calibrate();
	make_messages();
	bench_print_meta(&o, "journal");
	if (o.json)
		printf("{\"bench\":\"journal\",\"workload\":\"storage\",\"dir\":\"%s\",\"fs\":\"%s\"}\n",
		       tmpl, fs);
	else
		printf("journal in %s (%s); default config: 16 MiB segments, batch every 256 "
		       "appends\n", tmpl, fs);
	uint64_t *ticks = malloc(sizeof(*ticks) * (count > 100000 ? count : 100000));
	if (!ticks)
		bench_fail("out of memory");
	uint32_t n = o.callgrind ? o.iterations : count;
	bench_print_table_header(&o, "journal append (per message) and resend");
	bench_append(&o, jdir, CTL_JOURNAL_FSYNC_NONE, n, 1e9, 0, 1, ticks);
	bench_append(&o, jdir, CTL_JOURNAL_FSYNC_NONE, n, 1e9, 0, 0, ticks);
	bench_append(&o, jdir, CTL_JOURNAL_FSYNC_NONE, n, 1e9, 1, 1, ticks);
	bench_append(&o, jdir, CTL_JOURNAL_FSYNC_BATCH, n, 1e9, 0, 1, ticks);
	/* every append waits for the disk: bounded by time rather than count */
	bench_append(&o, jdir, CTL_JOURNAL_FSYNC_ALWAYS, n < 20000 ? n : 20000,
		     o.budget_ms * 10, 0, 1, ticks);
	bench_resend(&o, jdir, ticks);
	if (!o.callgrind)
		bench_session_resend(&o, jdir, ticks);
	bench_rm_tree(tmpl);
	free(ticks);
	return 0;
}
