/* control: journal internals shared by ctl_journal.c and ctl_journal_seg.c (private). */
#ifndef CTL_JOURNAL_PRIV_H
#define CTL_JOURNAL_PRIV_H

#include <stdint.h>

#include "ctl_journal.h"
#include "ctl_journal_format.h"

/* One row of the small in-RAM table of a stream's segments (oldest first). */
struct ctl_jseg_ent {
	uint64_t segno;
	uint64_t first_key; /* OUT: first seq; 0 while empty */
	uint64_t last_key;  /* OUT: last seq */
	uint64_t count;     /* records of the stream's kind (INDEX records not counted) */
};

/* A stream of segments: the outbound messages or the application records. */
struct ctl_jstream {
	struct ctl_journal *j;      /* for the policy, the stats and the error buffer */
	uint32_t kind;              /* enum ctl_jseg_kind */
	const char *prefix;         /* file-name prefix: "out" or "app" */
	uint64_t seg_size;          /* size of segments this process creates */
	uint64_t epoch;             /* written into new segments' headers */
	uint32_t max_segments;      /* table capacity */

	struct ctl_jseg_ent *tab;   /* ring of max_segments rows */
	uint32_t tab_head, tab_n;

	/* The active segment is the table's last row when fd >= 0. */
	int fd;
	uint8_t *map;
	uint64_t size;              /* its size */
	uint64_t wr;                /* offset of the next record */
	uint64_t limit;             /* records must end at or before this offset */
	uint64_t synced;            /* [0, synced) is known durable */
	uint64_t next_granule;      /* offset at which the next index entry is due */
	uint64_t touched;           /* pages before this offset were written to ahead of time */

	/* Sparse index of the active OUT segment: bounded by segment size / granule. */
	struct ctl_jidx_ent *idx;
	uint32_t idx_n, idx_cap;

	uint64_t last_key;          /* OUT: last stored seq across the stream, 0 if none */
	uint64_t next_segno;        /* number of the next segment created */

	/* The next segment, created ahead of time by ctl_journal_poll() (headerless until used),
	 * so that a rotation on the append path only writes a header. */
	int spare_fd;
	uint8_t *spare_map;
	uint64_t spare_segno;

	/* The segment just sealed, unmapped by ctl_journal_poll() rather than by the rotation:
	 * unmapping a segment full of dirty pages takes milliseconds. */
	int retired_fd;
	uint8_t *retired_map;
	uint64_t retired_size;
};

struct ctl_journal {
	int dirfd;
	int state_fd;
	struct ctl_jstate_hdr *state;   /* the mapped state page */
	uint64_t gen;                   /* generation of the slot in force */
	uint64_t next_in, next_out, epoch;
	int state_dirty;                /* written since the last sync */

	struct ctl_journal_config cfg;
	struct ctl_jstream out, app;

	uint32_t unsynced;              /* BATCH: appends since the last sync */
	uint64_t unsynced_since_ns;     /* BATCH: clock at the first of them */

	struct ctl_journal_stats st;
	char err[256];
	char dir[200];
};

/* Sets j->err to "journal <dir>: <formatted>" and returns -1. */
int ctl_j_fail(struct ctl_journal *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));
/* The same, appending ": strerror(errno)". */
int ctl_j_fail_errno(struct ctl_journal *j, const char *fmt, ...)
	__attribute__((format(printf, 2, 3), cold));

/* ctl_journal_seg.c */
int ctl_js_init(struct ctl_jstream *s, struct ctl_journal *j, uint32_t kind, uint64_t seg_size,
		uint32_t max_segments);
void ctl_js_free(struct ctl_jstream *s);
int ctl_js_recover(struct ctl_jstream *s);
int ctl_js_rotate(struct ctl_jstream *s);
int ctl_js_sync(struct ctl_jstream *s);
void ctl_js_unmap(struct ctl_jstream *s);
int ctl_js_drop_all(struct ctl_jstream *s);
int ctl_js_truncate(struct ctl_jstream *s, uint64_t v);
int ctl_js_drop_oldest(struct ctl_jstream *s);
int ctl_js_visit(struct ctl_jstream *s, uint64_t begin, uint64_t end, ctl_journal_out_fn out_fn,
		 ctl_journal_app_fn app_fn, void *arg);
int ctl_js_fsync_dir(struct ctl_journal *j);
void ctl_js_prefault(struct ctl_jstream *s, uint64_t window);
int ctl_js_prepare_spare(struct ctl_jstream *s);
void ctl_js_drop_spare(struct ctl_jstream *s);
void ctl_js_release_retired(struct ctl_jstream *s);

/* How far ahead of the write position ctl_journal_poll() touches pages. */
#ifndef CTL_J_PREFAULT_BYTES
#define CTL_J_PREFAULT_BYTES (256u * 1024u)
#endif

/* The table's i-th row, oldest first. */
static inline struct ctl_jseg_ent *ctl_js_row(struct ctl_jstream *s, uint32_t i)
{
	return &s->tab[(s->tab_head + i) % s->max_segments];
}
/* The last row (tab_n >= 1): tab_head < max_segments and tab_n <= max_segments, so one
 * conditional subtraction wraps it; the append path does without a division. */
static inline struct ctl_jseg_ent *ctl_js_last(struct ctl_jstream *s)
{
	uint32_t k = s->tab_head + s->tab_n - 1;
	if (k >= s->max_segments)
		k -= s->max_segments;
	return &s->tab[k];
}

/* Appends one record to the active segment, rotating first if it does not fit. The fast path:
 * a memcpy, the header, one CRC over header and payload, and the index/table bookkeeping. */
static inline int ctl_js_append(struct ctl_jstream *s, uint16_t type, uint64_t key,
				const void *data, uint32_t len)
{
	uint64_t need = ctl_j_align(sizeof(struct ctl_jrec_hdr) + (uint64_t)len);
	if (__builtin_expect(s->fd < 0 || s->wr + need > s->limit, 0)) {
		if (ctl_js_rotate(s))
			return -1;
	}
	uint64_t off = s->wr;
	uint8_t *p = s->map + off;
	struct ctl_jrec_hdr *h = (struct ctl_jrec_hdr *)p;
	__builtin_memcpy(p + sizeof(*h), data, len);
	h->len = len;
	h->type = type;
	h->reserved = 0;
	struct ctl_jseg_ent *e = ctl_js_last(s);
	h->segno_lo = (uint32_t)e->segno;
	h->key = key;
	/* The crc is stored last: a process killed before this store leaves a record that fails
	 * its check and is cut at recovery. (The call reads the fields from memory, so the
	 * compiler cannot sink their stores past it.) */
	h->crc = ctl_crc32c(0, p + 4, sizeof(*h) - 4 + len);

	if (s->kind == CTL_JSEG_OUT && off >= s->next_granule && s->idx_n < s->idx_cap) {
		s->idx[s->idx_n].key = key;
		s->idx[s->idx_n].off = off;
		s->idx_n++;
		s->next_granule = (off / CTL_J_GRANULE + 1) * CTL_J_GRANULE;
	}
	if (e->count++ == 0)
		e->first_key = key;
	e->last_key = key;
	s->wr = off + need;
	return 0;
}

#endif
