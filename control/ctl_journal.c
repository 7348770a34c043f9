/* control: the per-session journal — the state page, the policy, and the public API over the
 * two segment streams (ctl_journal_seg.c). docs/journal.md explains the design.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_journal_priv.h"

int ctl_j_fail(struct ctl_journal *j, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(j->err, sizeof(j->err), "journal %s: ", j->dir);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(j->err))
		vsnprintf(j->err + n, sizeof(j->err) - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

int ctl_j_fail_errno(struct ctl_journal *j, const char *fmt, ...)
{
	int e = errno;
	va_list ap;
	int n = snprintf(j->err, sizeof(j->err), "journal %s: ", j->dir);
	va_start(ap, fmt);
	if (n > 0 && (size_t)n < sizeof(j->err))
		n += vsnprintf(j->err + n, sizeof(j->err) - (size_t)n, fmt, ap);
	va_end(ap);
	if (n > 0 && (size_t)n < sizeof(j->err))
		snprintf(j->err + n, sizeof(j->err) - (size_t)n, ": %s", strerror(e));
	errno = e;
	return -1;
}

void ctl_journal_config_default(struct ctl_journal_config *cfg)
{
	*cfg = (struct ctl_journal_config){
		.fsync = CTL_JOURNAL_FSYNC_BATCH,
		.segment_size = 16u << 20,
		.app_segment_size = 1u << 20,
		.keep_segments = 8,
		.max_app_segments = 64,
		.max_record = 64u << 10,
		.batch_records = 256,
		.batch_usec = 1000,
	};
}

const char *ctl_journal_error(const struct ctl_journal *j)
{
	return j->err;
}

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts); /* vDSO: no system call */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------------------------------------------------------------------------------------------
 * The state page */

static struct ctl_jstate_slot *slot(struct ctl_journal *j, uint64_t gen)
{
	return (struct ctl_jstate_slot *)((uint8_t *)j->state + CTL_J_STATE_SLOT0 +
					  (gen & 1) * sizeof(struct ctl_jstate_slot));
}

static int slot_ok(const struct ctl_jstate_slot *s)
{
	return s->gen != 0 && ctl_crc32c(0, s, offsetof(struct ctl_jstate_slot, crc)) == s->crc;
}

/* Writes the in-memory counters into the slot not in force; it takes over once its crc is in
 * place. A process killed half-way leaves a slot that fails its crc, and the previous one
 * still stands. Costs a 60-byte CRC and no system call. */
static void state_write(struct ctl_journal *j)
{
	uint64_t gen = j->gen + 1;
	struct ctl_jstate_slot *s = slot(j, gen);
	s->gen = gen;
	s->next_in = j->next_in;
	s->next_out = j->next_out;
	s->epoch = j->epoch;
	memset(s->reserved, 0, sizeof(s->reserved));
	s->crc = ctl_crc32c(0, s, offsetof(struct ctl_jstate_slot, crc));
	j->gen = gen;
	j->state_dirty = 1;
}

static int state_sync(struct ctl_journal *j)
{
	if (!j->state_dirty)
		return 0;
	j->st.syncs++;
	if (msync(j->state, CTL_J_STATE_SIZE, MS_SYNC))
		return ctl_j_fail_errno(j, "msync of the state page failed");
	j->state_dirty = 0;
	return 0;
}

static int state_open(struct ctl_journal *j)
{
	j->state_fd = openat(j->dirfd, "state", O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (j->state_fd < 0)
		return ctl_j_fail_errno(j, "cannot open or create the state file");
	if (flock(j->state_fd, LOCK_EX | LOCK_NB))
		return ctl_j_fail_errno(j, "the journal is in use by another process");
	struct stat stb;
	if (fstat(j->state_fd, &stb))
		return ctl_j_fail_errno(j, "cannot stat the state file");
	int fresh = stb.st_size == 0;
	if (fresh && ftruncate(j->state_fd, CTL_J_STATE_SIZE))
		return ctl_j_fail_errno(j, "cannot size the state file");
	if (!fresh && stb.st_size != CTL_J_STATE_SIZE)
		return ctl_j_fail(j, "the state file has %lld bytes, not %u",
				  (long long)stb.st_size, CTL_J_STATE_SIZE);
	void *m = mmap(NULL, CTL_J_STATE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, j->state_fd, 0);
	if (m == MAP_FAILED)
		return ctl_j_fail_errno(j, "cannot map the state file");
	j->state = m;
	if (fresh) {
		j->state->magic = CTL_J_MAGIC_STATE;
		j->state->version = CTL_J_VERSION;
		j->next_in = j->next_out = j->epoch = 1;
		j->gen = 0;
		state_write(j);
		/* Once, whatever the policy: a journal whose state page is lost after a power
		 * failure would not even be recognised. */
		if (state_sync(j) || fsync(j->state_fd) || ctl_js_fsync_dir(j))
			return ctl_j_fail_errno(j, "cannot sync the new state file");
		return 0;
	}
	if (j->state->magic != CTL_J_MAGIC_STATE || j->state->version != CTL_J_VERSION)
		return ctl_j_fail(j, "the state file is not a version %u journal state",
				  CTL_J_VERSION);
	const struct ctl_jstate_slot *a = slot(j, 0), *b = slot(j, 1), *s;
	int ok_a = slot_ok(a), ok_b = slot_ok(b);
	if (!ok_a && !ok_b)
		return ctl_j_fail(j, "both state slots are corrupt: sequence numbers unknown");
	s = ok_a && (!ok_b || a->gen > b->gen) ? a : b;
	j->gen = s->gen;
	j->next_in = s->next_in;
	j->next_out = s->next_out;
	j->epoch = s->epoch;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Open and close */

static int check_config(const struct ctl_journal_config *c, char *err, size_t errlen)
{
	const char *why = NULL;
	if (c->fsync > CTL_JOURNAL_FSYNC_ALWAYS)
		why = "fsync policy must be none, batch or always";
	else if (c->segment_size < CTL_J_MIN_SEGMENT || c->segment_size % CTL_J_PAGE ||
		 c->app_segment_size < CTL_J_MIN_SEGMENT || c->app_segment_size % CTL_J_PAGE)
		why = "segment sizes must be multiples of 4096, at least 64 KiB";
	else if (c->segment_size > (1ull << 36) || c->app_segment_size > (1ull << 36))
		why = "segment sizes must be at most 64 GiB";
	else if (c->keep_segments < 1 || c->max_app_segments < 1)
		why = "keep_segments and max_app_segments must be at least 1";
	else if (c->max_record < 1 ||
		 (uint64_t)c->max_record + 2 * sizeof(struct ctl_jrec_hdr) + sizeof(struct ctl_jseg_hdr) >
			 c->segment_size - ctl_j_reserve(CTL_JSEG_OUT, c->segment_size) ||
		 (uint64_t)c->max_record + 2 * sizeof(struct ctl_jrec_hdr) + sizeof(struct ctl_jseg_hdr) >
			 c->app_segment_size - ctl_j_reserve(CTL_JSEG_APP, c->app_segment_size))
		why = "max_record must be at least 1 and fit a segment";
	else if (c->fsync == CTL_JOURNAL_FSYNC_BATCH && c->batch_records < 1)
		why = "batch_records must be at least 1";
	if (why)
		snprintf(err, errlen, "journal configuration: %s", why);
	return why ? -1 : 0;
}

struct ctl_journal *ctl_journal_open(const char *dir, const struct ctl_journal_config *cfg,
				     char *err, size_t errlen)
{
	struct ctl_journal_config def;
	if (!cfg) {
		ctl_journal_config_default(&def);
		cfg = &def;
	}
	if (check_config(cfg, err, errlen))
		return NULL;
	struct ctl_journal *j = calloc(1, sizeof(*j));
	if (!j) {
		snprintf(err, errlen, "journal %s: out of memory", dir);
		return NULL;
	}
	j->dirfd = j->state_fd = -1;
	j->out.fd = j->app.fd = j->out.spare_fd = j->app.spare_fd = -1;
	j->out.retired_fd = j->app.retired_fd = -1;
	j->cfg = *cfg;
	if (strlen(dir) >= sizeof(j->dir)) {
		snprintf(err, errlen, "journal: directory name too long (%zu bytes)", strlen(dir));
		free(j);
		return NULL;
	}
	strcpy(j->dir, dir);
	if (mkdir(dir, 0755) && errno != EEXIST) {
		ctl_j_fail_errno(j, "cannot create the directory");
		goto fail;
	}
	j->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (j->dirfd < 0) {
		ctl_j_fail_errno(j, "cannot open the directory");
		goto fail;
	}
	if (state_open(j))
		goto fail;
	if (ctl_js_init(&j->out, j, CTL_JSEG_OUT, cfg->segment_size, cfg->keep_segments) ||
	    ctl_js_init(&j->app, j, CTL_JSEG_APP, cfg->app_segment_size, cfg->max_app_segments))
		goto fail;
	j->out.epoch = j->epoch;
	if (ctl_js_recover(&j->out) || ctl_js_recover(&j->app))
		goto fail;
	int changed = 0;
	if (j->out.epoch != j->epoch) {
		j->epoch = j->out.epoch;
		changed = 1;
	}
	if (j->next_out <= j->out.last_key) {
		j->next_out = j->out.last_key + 1;
		changed = 1;
	}
	if (changed)
		state_write(j);
	/* Segments to append to exist before the first append, so it makes no system call. */
	if ((j->out.fd < 0 && ctl_js_rotate(&j->out)) || (j->app.fd < 0 && ctl_js_rotate(&j->app)))
		goto fail;
	if (ctl_journal_flush(j))
		goto fail;
	return j;
fail:
	snprintf(err, errlen, "%s", j->err);
	ctl_journal_close(j);
	return NULL;
}

void ctl_journal_close(struct ctl_journal *j)
{
	if (!j)
		return;
	if (j->state)
		ctl_journal_flush(j);
	ctl_js_free(&j->out);
	ctl_js_free(&j->app);
	if (j->state)
		munmap(j->state, CTL_J_STATE_SIZE);
	if (j->state_fd >= 0)
		close(j->state_fd); /* releases the flock */
	if (j->dirfd >= 0)
		close(j->dirfd);
	free(j);
}

/* ---------------------------------------------------------------------------------------------
 * Policy */

int ctl_journal_flush(struct ctl_journal *j)
{
	if (j->cfg.fsync == CTL_JOURNAL_FSYNC_NONE)
		return 0;
	if (ctl_js_sync(&j->out) || ctl_js_sync(&j->app) || state_sync(j))
		return -1;
	j->unsynced = 0;
	return 0;
}

/* After every change: nothing under NONE, a sync under ALWAYS, the batch count under BATCH. */
static inline int policy_after(struct ctl_journal *j)
{
	switch (j->cfg.fsync) {
	case CTL_JOURNAL_FSYNC_NONE:
		return 0;
	case CTL_JOURNAL_FSYNC_ALWAYS:
		return ctl_journal_flush(j);
	case CTL_JOURNAL_FSYNC_BATCH:
		if (j->unsynced++ == 0)
			j->unsynced_since_ns = now_ns();
		if (j->unsynced >= j->cfg.batch_records)
			return ctl_journal_flush(j);
		return 0;
	}
	return 0;
}

int ctl_journal_poll(struct ctl_journal *j)
{
	ctl_js_release_retired(&j->out);
	ctl_js_release_retired(&j->app);
	if (j->out.tab_n > j->cfg.keep_segments) {
		while (j->out.tab_n > j->cfg.keep_segments) {
			if (ctl_js_drop_oldest(&j->out))
				return -1;
		}
		if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && ctl_js_fsync_dir(j))
			return -1;
	}
	ctl_js_prefault(&j->out, CTL_J_PREFAULT_BYTES);
	ctl_js_prefault(&j->app, CTL_J_PREFAULT_BYTES / 8);
	/* The next segment is made once the active one is half full. */
	if (j->out.fd >= 0 && !j->out.spare_map && j->out.wr > j->out.limit / 2 &&
	    ctl_js_prepare_spare(&j->out))
		return -1;
	if (j->app.fd >= 0 && !j->app.spare_map && j->app.wr > j->app.limit / 2 &&
	    j->app.tab_n < j->app.max_segments && ctl_js_prepare_spare(&j->app))
		return -1;
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_BATCH || j->unsynced == 0)
		return 0;
	if (now_ns() - j->unsynced_since_ns < (uint64_t)j->cfg.batch_usec * 1000u)
		return 0;
	return ctl_journal_flush(j);
}

/* ---------------------------------------------------------------------------------------------
 * Sequence numbers */

int ctl_journal_get_seqs(const struct ctl_journal *j, uint64_t *next_in, uint64_t *next_out)
{
	*next_in = j->next_in;
	*next_out = j->next_out;
	return 0;
}

int ctl_journal_set_next_in(struct ctl_journal *j, uint64_t next_in)
{
	if (next_in == 0)
		return ctl_j_fail(j, "next_in must be at least 1");
	j->next_in = next_in;
	state_write(j);
	return policy_after(j);
}

/* Drops the outbound stream and sets the counters, in the order that a crash cannot undo
 * half-way: the new epoch is made durable first, so that recovery deletes any old segment
 * that survives, then the files go. */
int ctl_journal_reset(struct ctl_journal *j)
{
	const uint64_t next_in = 1, next_out = 1;
	ctl_js_unmap(&j->out);
	j->epoch++;
	j->next_in = next_in;
	j->next_out = next_out;
	state_write(j);
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && state_sync(j))
		return -1;
	if (ctl_js_drop_all(&j->out))
		return -1;
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && ctl_js_fsync_dir(j))
		return -1;
	j->out.epoch = j->epoch;
	return ctl_js_rotate(&j->out);
}

/* Lowers next_out to v <= the last stored seq: the stored messages from v on could not be
 * resent under their numbers, so they go. The counter is written first: recovery takes
 * max(state next_out, last stored seq + 1), so a crash half-way through the truncation leaves
 * next_out just above what remains, never above a hole. */
static int lower_out(struct ctl_journal *j, uint64_t v)
{
	j->next_out = v;
	state_write(j);
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && state_sync(j))
		return -1;
	return ctl_js_truncate(&j->out, v);
}

int ctl_journal_set_next_out(struct ctl_journal *j, uint64_t next_out)
{
	if (next_out == 0)
		return ctl_j_fail(j, "next_out must be at least 1");
	if (next_out <= j->out.last_key && lower_out(j, next_out))
		return -1;
	j->next_out = next_out;
	state_write(j);
	return policy_after(j);
}

/* ---------------------------------------------------------------------------------------------
 * Outbound messages */

int ctl_journal_append_out(struct ctl_journal *j, uint64_t seq, const void *msg, size_t len)
{
	if (__builtin_expect(len > j->cfg.max_record, 0))
		return ctl_j_fail(j, "outbound message of %zu bytes exceeds max_record %u", len,
				  j->cfg.max_record);
	if (__builtin_expect(seq == 0, 0))
		return ctl_j_fail(j, "outbound seq 0");
	/* A number at or below the last stored one (after an operator lowered next_out) replaces
	 * the stored messages from there on, as the in-memory store does. */
	if (__builtin_expect(seq <= j->out.last_key, 0) && lower_out(j, seq))
		return -1;
	if (ctl_js_append(&j->out, CTL_JREC_OUT, seq, msg, (uint32_t)len))
		return -1;
	j->out.last_key = seq;
	/* Recovery takes max(state next_out, last seq + 1), so the state page needs writing only
	 * when next_out goes below what it says. */
	int lower = seq + 1 < j->next_out;
	j->next_out = seq + 1;
	if (lower)
		state_write(j);
	j->st.bytes_appended += len;
	return policy_after(j);
}

int ctl_journal_for_each_out(struct ctl_journal *j, uint64_t begin, uint64_t end,
			     ctl_journal_out_fn fn, void *arg)
{
	return ctl_js_visit(&j->out, begin, end ? end : UINT64_MAX, fn, NULL, arg);
}

int ctl_journal_prune_below(struct ctl_journal *j, uint64_t floor)
{
	int dropped = 0;
	while (j->out.tab_n > 1 && ctl_js_row(&j->out, 0)->last_key < floor) {
		if (ctl_js_drop_oldest(&j->out))
			return -1;
		dropped = 1;
	}
	if (dropped && j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE)
		return ctl_js_fsync_dir(j);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Application records */

int ctl_journal_append_app(struct ctl_journal *j, uint32_t type, const void *data, size_t len)
{
	if (__builtin_expect(len > j->cfg.max_record, 0))
		return ctl_j_fail(j, "application record of %zu bytes exceeds max_record %u", len,
				  j->cfg.max_record);
	if (ctl_js_append(&j->app, CTL_JREC_APP, type, data, (uint32_t)len))
		return -1;
	j->st.bytes_appended += len;
	return policy_after(j);
}

int ctl_journal_for_each_app(struct ctl_journal *j, ctl_journal_app_fn fn, void *arg)
{
	return ctl_js_visit(&j->app, 0, UINT64_MAX, NULL, fn, arg);
}

int ctl_journal_app_checkpoint(struct ctl_journal *j, uint64_t *segno)
{
	if (ctl_js_rotate(&j->app))
		return -1;
	*segno = ctl_js_row(&j->app, j->app.tab_n - 1)->segno;
	return 0;
}

int ctl_journal_app_drop_before(struct ctl_journal *j, uint64_t segno)
{
	int dropped = 0;
	while (j->app.tab_n > 1 && ctl_js_row(&j->app, 0)->segno < segno) {
		if (ctl_js_drop_oldest(&j->app))
			return -1;
		dropped = 1;
	}
	if (dropped && j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE)
		return ctl_js_fsync_dir(j);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Statistics */

void ctl_journal_stats(const struct ctl_journal *j, struct ctl_journal_stats *st)
{
	*st = j->st;
	struct ctl_jstream *out = (struct ctl_jstream *)&j->out;
	struct ctl_jstream *app = (struct ctl_jstream *)&j->app;
	st->out_segments = out->tab_n;
	st->app_segments = app->tab_n;
	st->out_records = st->app_records = 0;
	st->out_first_seq = st->out_last_seq = 0;
	for (uint32_t i = 0; i < out->tab_n; i++) {
		const struct ctl_jseg_ent *e = ctl_js_row(out, i);
		if (e->count && !st->out_first_seq)
			st->out_first_seq = e->first_key;
		if (e->count)
			st->out_last_seq = e->last_key;
		st->out_records += e->count;
	}
	for (uint32_t i = 0; i < app->tab_n; i++)
		st->app_records += ctl_js_row(app, i)->count;
	st->index_entries = out->idx_n;
	st->index_capacity = out->idx_cap;
	st->table_capacity = out->max_segments + app->max_segments;
	st->ram_bytes = sizeof(*j) + (size_t)out->idx_cap * sizeof(struct ctl_jidx_ent) +
			(size_t)st->table_capacity * sizeof(struct ctl_jseg_ent);
	st->epoch = j->epoch;
}
