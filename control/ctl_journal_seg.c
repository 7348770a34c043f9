/* control: journal segments — creation, sealing, recovery scan, lookup, pruning. All of it is
 * the slow path (rotation, start-up, resend); the append itself is ctl_js_append().
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_journal_priv.h"

#define NAME_MAX_LEN 48

static void seg_name(char *buf, const struct ctl_jstream *s, uint64_t segno)
{
	snprintf(buf, NAME_MAX_LEN, "%s-%016" PRIx64 ".seg", s->prefix, segno);
}

/* Parses "<prefix>-<16 hex digits>.seg"; anything else in the directory is not ours. */
static int parse_name(const struct ctl_jstream *s, const char *name, uint64_t *segno)
{
	size_t pl = strlen(s->prefix);
	if (strlen(name) != pl + 1 + 16 + 4 || strncmp(name, s->prefix, pl) != 0 ||
	    name[pl] != '-' || strcmp(name + pl + 17, ".seg") != 0)
		return -1;
	uint64_t v = 0;
	for (size_t i = pl + 1; i < pl + 17; i++) {
		char c = name[i];
		int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
		if (d < 0)
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	*segno = v;
	return 0;
}

int ctl_js_init(struct ctl_jstream *s, struct ctl_journal *j, uint32_t kind, uint64_t seg_size,
		uint32_t max_segments)
{
	memset(s, 0, sizeof(*s));
	s->j = j;
	s->kind = kind;
	s->prefix = kind == CTL_JSEG_OUT ? "out" : "app";
	s->seg_size = seg_size;
	s->max_segments = max_segments;
	s->fd = -1;
	s->spare_fd = -1;
	s->retired_fd = -1;
	s->next_segno = 1;
	if (kind == CTL_JSEG_OUT) {
		s->idx_cap = (uint32_t)(seg_size / CTL_J_GRANULE + 1);
		s->idx = calloc(s->idx_cap, sizeof(*s->idx));
		if (!s->idx)
			return ctl_j_fail(j, "out of memory for the %s index", s->prefix);
	}
	return 0;
}

void ctl_js_unmap(struct ctl_jstream *s)
{
	if (s->map)
		munmap(s->map, s->size);
	if (s->fd >= 0)
		close(s->fd);
	s->map = NULL;
	s->fd = -1;
}

void ctl_js_release_retired(struct ctl_jstream *s)
{
	if (!s->retired_map)
		return;
	munmap(s->retired_map, s->retired_size);
	close(s->retired_fd);
	s->retired_map = NULL;
	s->retired_fd = -1;
}

/* Hands the sealed active segment over to ctl_js_release_retired(). */
static void retire(struct ctl_jstream *s)
{
	ctl_js_release_retired(s);
	s->retired_fd = s->fd;
	s->retired_map = s->map;
	s->retired_size = s->size;
	s->fd = -1;
	s->map = NULL;
}

void ctl_js_free(struct ctl_jstream *s)
{
	ctl_js_unmap(s);
	ctl_js_release_retired(s);
	ctl_js_drop_spare(s);
	free(s->tab);
	free(s->idx);
	s->tab = NULL;
	s->idx = NULL;
}

int ctl_js_fsync_dir(struct ctl_journal *j)
{
	j->st.syncs++;
	if (fsync(j->dirfd))
		return ctl_j_fail_errno(j, "fsync of the directory failed");
	return 0;
}

static int msync_range(struct ctl_jstream *s, uint64_t from, uint64_t to)
{
	uint64_t start = from & ~(uint64_t)(CTL_J_PAGE - 1);
	s->j->st.syncs++;
	if (msync(s->map + start, to - start, MS_SYNC))
		return ctl_j_fail_errno(s->j, "msync of a %s segment failed", s->prefix);
	return 0;
}

/* A write fault on a clean page of a shared file mapping goes through the file system
 * (page_mkwrite) even when the page is mapped: storing a zero into each page ahead of the
 * writer takes that cost here instead of in an append. The bytes after the write position are
 * zero by construction, so the content does not change. */
void ctl_js_prefault(struct ctl_jstream *s, uint64_t window)
{
	if (s->fd < 0)
		return;
	uint64_t from = s->touched > s->wr ? s->touched : s->wr;
	uint64_t to = s->wr + window < s->limit ? s->wr + window : s->limit;
	from = (from + CTL_J_PAGE - 1) & ~(uint64_t)(CTL_J_PAGE - 1);
	for (uint64_t off = from; off < to; off += CTL_J_PAGE) {
		*(volatile uint8_t *)(s->map + off) = 0;
		s->j->st.prefaulted_pages++;
	}
	if (to > s->touched)
		s->touched = to;
}

int ctl_js_sync(struct ctl_jstream *s)
{
	if (s->fd < 0 || s->wr <= s->synced)
		return 0;
	if (msync_range(s, s->synced, s->wr))
		return -1;
	s->synced = s->wr;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Reading records */

enum { REC_END = 0, REC_OK = 1, REC_BAD = -1 };

/* Checks the record at off: REC_END for an all-zero header or no room left (the clean end of
 * the chain), REC_BAD for anything torn, corrupt or misplaced. */
static int rec_check(const struct ctl_jstream *s, const uint8_t *map, uint64_t off,
		     uint64_t bound, uint64_t segno, const struct ctl_jrec_hdr **out)
{
	static const uint8_t zero[sizeof(struct ctl_jrec_hdr)];
	if (off + sizeof(struct ctl_jrec_hdr) > bound)
		return REC_END;
	const struct ctl_jrec_hdr *h = (const struct ctl_jrec_hdr *)(map + off);
	if (memcmp(h, zero, sizeof(zero)) == 0)
		return REC_END;
	int type_ok = s->kind == CTL_JSEG_OUT ? h->type == CTL_JREC_OUT || h->type == CTL_JREC_INDEX
					       : h->type == CTL_JREC_APP;
	if (!type_ok || h->reserved != 0 || h->segno_lo != (uint32_t)segno ||
	    h->len > bound - off - sizeof(*h))
		return REC_BAD;
	if (ctl_crc32c(0, map + off + 4, sizeof(*h) - 4 + h->len) != h->crc)
		return REC_BAD;
	*out = h;
	return REC_OK;
}

static uint64_t rec_next(uint64_t off, const struct ctl_jrec_hdr *h)
{
	return off + ctl_j_align(sizeof(*h) + (uint64_t)h->len);
}

static int footer_check(const uint8_t *map, uint64_t size, uint64_t segno,
			const struct ctl_jseg_footer **out)
{
	const struct ctl_jseg_footer *f =
		(const struct ctl_jseg_footer *)(map + size - sizeof(struct ctl_jseg_footer));
	if (f->magic != CTL_J_MAGIC_END || f->segno != segno ||
	    ctl_crc32c(0, f, offsetof(struct ctl_jseg_footer, crc)) != f->crc ||
	    f->end_off > size - sizeof(*f) || f->end_off < sizeof(struct ctl_jseg_hdr))
		return -1;
	*out = f;
	return 0;
}

/* Walks the chain of a mapped segment from its header on. Fills row (count, first and last
 * key), and the sparse index when idx is given. For OUT, keys must increase strictly, also
 * across segments (*prev). Returns the offset where the chain ended; *bad says whether it
 * ended on a bad record rather than cleanly, *index_at where the INDEX record is (0: none). */
static uint64_t scan(struct ctl_jstream *s, const uint8_t *map, uint64_t size,
		     struct ctl_jseg_ent *row, uint64_t *prev, int with_index, int *bad,
		     uint64_t *index_at)
{
	uint64_t bound = size - sizeof(struct ctl_jseg_footer);
	uint64_t off = sizeof(struct ctl_jseg_hdr);
	uint64_t next_granule = 0;
	*bad = 0;
	*index_at = 0;
	for (;;) {
		const struct ctl_jrec_hdr *h;
		int r = rec_check(s, map, off, bound, row->segno, &h);
		if (r == REC_END)
			break;
		if (r == REC_BAD) {
			*bad = 1;
			break;
		}
		if (h->type == CTL_JREC_INDEX) { /* a sealed segment's last record */
			*index_at = off;
			off = rec_next(off, h);
			break;
		}
		if (s->kind == CTL_JSEG_OUT) {
			if (h->key <= *prev) {
				*bad = 1;
				break;
			}
			*prev = h->key;
			if (with_index && off >= next_granule && s->idx_n < s->idx_cap) {
				s->idx[s->idx_n].key = h->key;
				s->idx[s->idx_n].off = off;
				s->idx_n++;
				next_granule = (off / CTL_J_GRANULE + 1) * CTL_J_GRANULE;
			}
		}
		if (row->count++ == 0)
			row->first_key = h->key;
		row->last_key = h->key;
		off = rec_next(off, h);
	}
	if (with_index)
		s->next_granule = next_granule;
	return off;
}

/* Zeroes every nonzero byte of [from, to): whatever a torn or stray write left after the
 * chain's end must not be read as records once new ones are appended in front of it. Pages
 * that are already zero are only read, not dirtied. Returns whether anything was zeroed. */
static int zero_tail(uint8_t *map, uint64_t from, uint64_t to)
{
	int any = 0;
	while (from < to) {
		uint64_t page_end = (from / CTL_J_PAGE + 1) * CTL_J_PAGE;
		uint64_t n = (page_end < to ? page_end : to) - from;
		for (uint64_t i = 0; i < n; i++) {
			if (map[from + i]) {
				memset(map + from, 0, n);
				any = 1;
				break;
			}
		}
		from += n;
	}
	return any;
}

/* Under BATCH and ALWAYS a cut must itself be durable: if the zeroes were lost in a power
 * failure while records appended over the cut were not, the old bytes after them could be
 * read again. */
static int sync_cut(struct ctl_jstream *s, uint8_t *map, uint64_t from, uint64_t to)
{
	if (s->j->cfg.fsync == CTL_JOURNAL_FSYNC_NONE || from >= to)
		return 0;
	uint64_t start = from & ~(uint64_t)(CTL_J_PAGE - 1);
	s->j->st.syncs++;
	if (msync(map + start, to - start, MS_SYNC))
		return ctl_j_fail_errno(s->j, "msync of a cut %s segment failed", s->prefix);
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Creating and sealing */

static int table_push(struct ctl_jstream *s, uint64_t segno)
{
	if (s->tab_n == s->max_segments)
		return ctl_j_fail(s->j, "%s stream is full (%u segments)%s", s->prefix,
				  s->max_segments,
				  s->kind == CTL_JSEG_APP ? ": checkpoint and drop old segments" : "");
	struct ctl_jseg_ent *e = &s->tab[(s->tab_head + s->tab_n) % s->max_segments];
	memset(e, 0, sizeof(*e));
	e->segno = segno;
	s->tab_n++;
	return 0;
}

/* Creates the file of the next segment, every block allocated and mapped, but without its
 * header: a file with no header is discarded at recovery, so a spare made ahead of time is
 * harmless if the process dies before using it. Under BATCH and ALWAYS the file's size, blocks
 * and name are made durable here, so that activating it later needs only the header synced. */
int ctl_js_prepare_spare(struct ctl_jstream *s)
{
	struct ctl_journal *j = s->j;
	if (s->spare_map)
		return 0;
	char name[NAME_MAX_LEN];
	uint64_t segno = s->next_segno;
	seg_name(name, s, segno);
	int fd = openat(j->dirfd, name, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return ctl_j_fail_errno(j, "cannot create segment %s", name);
	/* Allocate every block now: a write fault on a hole of a full disk would be SIGBUS. */
	int r = posix_fallocate(fd, 0, (off_t)s->seg_size);
	if (r == EOPNOTSUPP || r == EINVAL)
		r = ftruncate(fd, (off_t)s->seg_size) ? errno : 0;
	if (r) {
		errno = r;
		ctl_j_fail_errno(j, "cannot allocate %" PRIu64 " bytes for segment %s",
				 s->seg_size, name);
		goto fail;
	}
	/* MAP_POPULATE maps every page now, so appends take no major faults later. */
	uint8_t *map = mmap(NULL, s->seg_size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
			    fd, 0);
	if (map == MAP_FAILED) {
		ctl_j_fail_errno(j, "cannot map segment %s", name);
		goto fail;
	}
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE) {
		j->st.syncs++;
		if (fsync(fd) || ctl_js_fsync_dir(j)) {
			ctl_j_fail_errno(j, "cannot sync new segment %s", name);
			munmap(map, s->seg_size);
			goto fail;
		}
	}
	s->spare_fd = fd;
	s->spare_map = map;
	s->spare_segno = segno;
	s->next_segno = segno + 1;
	return 0;
fail:
	close(fd);
	unlinkat(j->dirfd, name, 0);
	return -1;
}

void ctl_js_drop_spare(struct ctl_jstream *s)
{
	if (!s->spare_map)
		return;
	char name[NAME_MAX_LEN];
	seg_name(name, s, s->spare_segno);
	munmap(s->spare_map, s->seg_size);
	close(s->spare_fd);
	unlinkat(s->j->dirfd, name, 0);
	s->spare_map = NULL;
	s->spare_fd = -1;
}

/* Makes the spare (prepared now if ctl_journal_poll() did not do it earlier) the active
 * segment: writes its header, synced unless the policy is NONE. */
static int create(struct ctl_jstream *s)
{
	struct ctl_journal *j = s->j;
	if (s->tab_n == s->max_segments)
		return table_push(s, s->next_segno); /* reports the error */
	if (ctl_js_prepare_spare(s))
		return -1;
	uint8_t *map = s->spare_map;
	uint64_t segno = s->spare_segno;
	struct ctl_jseg_hdr *h = (struct ctl_jseg_hdr *)map;
	h->magic = CTL_J_MAGIC_SEG;
	h->version = CTL_J_VERSION;
	h->kind = s->kind;
	h->segno = segno;
	h->epoch = s->epoch;
	h->size = s->seg_size;
	h->crc = ctl_crc32c(0, h, offsetof(struct ctl_jseg_hdr, crc));
	if (j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE) {
		/* The header must be durable before any record in it is reported durable. */
		j->st.syncs++;
		if (msync(map, CTL_J_PAGE, MS_SYNC))
			return ctl_j_fail_errno(j, "cannot sync the header of segment %" PRIu64,
						segno);
	}
	table_push(s, segno); /* cannot fail: checked above */
	s->fd = s->spare_fd;
	s->map = map;
	s->spare_fd = -1;
	s->spare_map = NULL;
	s->size = s->seg_size;
	s->wr = sizeof(struct ctl_jseg_hdr);
	s->synced = s->wr;
	s->limit = s->size - ctl_j_reserve(s->kind, s->size);
	s->idx_n = 0;
	s->next_granule = 0;
	s->touched = 0;
	j->st.rotations++;
	return 0;
}

/* Closes the active segment for good: the INDEX record (OUT) and the footer, so later
 * lookups and recoveries need not scan it; synced whole unless the policy is NONE. */
static int seal(struct ctl_jstream *s)
{
	struct ctl_jseg_ent *row = ctl_js_row(s, s->tab_n - 1);
	uint64_t index_off = 0;
	if (s->kind == CTL_JSEG_OUT) {
		uint32_t len = s->idx_n * (uint32_t)sizeof(struct ctl_jidx_ent);
		struct ctl_jrec_hdr *h = (struct ctl_jrec_hdr *)(s->map + s->wr);
		memcpy(h + 1, s->idx, len);
		h->len = len;
		h->type = CTL_JREC_INDEX;
		h->reserved = 0;
		h->segno_lo = (uint32_t)row->segno;
		h->key = s->idx_n;
		h->crc = ctl_crc32c(0, (uint8_t *)h + 4, sizeof(*h) - 4 + len);
		index_off = s->wr;
		s->wr = rec_next(s->wr, h);
	}
	struct ctl_jseg_footer *f =
		(struct ctl_jseg_footer *)(s->map + s->size - sizeof(struct ctl_jseg_footer));
	f->magic = CTL_J_MAGIC_END;
	f->segno = row->segno;
	f->first_key = row->first_key;
	f->last_key = row->last_key;
	f->index_off = index_off;
	f->end_off = s->wr;
	f->count = row->count;
	f->reserved = 0;
	f->crc = ctl_crc32c(0, f, offsetof(struct ctl_jseg_footer, crc));
	if (s->j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE) {
		if (msync_range(s, s->synced, s->size))
			return -1;
	}
	s->synced = s->size;
	return 0;
}

int ctl_js_drop_oldest(struct ctl_jstream *s)
{
	char name[NAME_MAX_LEN];
	seg_name(name, s, ctl_js_row(s, 0)->segno);
	if (unlinkat(s->j->dirfd, name, 0) && errno != ENOENT)
		return ctl_j_fail_errno(s->j, "cannot delete segment %s", name);
	s->tab_head = (s->tab_head + 1) % s->max_segments;
	s->tab_n--;
	s->j->st.pruned_segments++;
	return 0;
}

int ctl_js_rotate(struct ctl_jstream *s)
{
	if (s->fd >= 0) {
		if (seal(s))
			return -1;
		retire(s);
	}
	int dropped = 0;
	if (s->kind == CTL_JSEG_OUT) {
		while (s->tab_n >= s->max_segments) {
			if (ctl_js_drop_oldest(s))
				return -1;
			dropped = 1;
		}
	}
	if (dropped && s->j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && ctl_js_fsync_dir(s->j))
		return -1;
	return create(s);
}

int ctl_js_drop_all(struct ctl_jstream *s)
{
	ctl_js_unmap(s);
	while (s->tab_n) {
		if (ctl_js_drop_oldest(s))
			return -1;
	}
	s->last_key = 0;
	s->idx_n = 0;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Recovery */

struct found {
	uint64_t segno;
	uint64_t epoch;
	int good;
};

static int cmp_found(const void *a, const void *b)
{
	uint64_t x = ((const struct found *)a)->segno, y = ((const struct found *)b)->segno;
	return x < y ? -1 : x > y;
}

static int list_segments(struct ctl_jstream *s, struct found **out, uint32_t *n_out)
{
	int fd = dup(s->j->dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return ctl_j_fail_errno(s->j, "cannot list the directory");
	}
	rewinddir(d);
	struct found *v = NULL;
	uint32_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		uint64_t segno;
		if (parse_name(s, de->d_name, &segno))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			struct found *nv = realloc(v, cap * sizeof(*v));
			if (!nv) {
				free(v);
				closedir(d);
				return ctl_j_fail(s->j, "out of memory listing segments");
			}
			v = nv;
		}
		v[n++] = (struct found){ .segno = segno };
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_found);
	*out = v;
	*n_out = n;
	return 0;
}

/* Reads and checks a segment's header. Returns 0 if good, 1 if the file was never written
 * (crash while creating it), -1 if it is corrupt, -2 on an I/O error. */
static int read_header(struct ctl_jstream *s, const char *name, uint64_t segno,
		       struct ctl_jseg_hdr *h, uint64_t *size)
{
	int fd = openat(s->j->dirfd, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -2;
	struct stat stb;
	ssize_t r = fstat(fd, &stb) ? -1 : pread(fd, h, sizeof(*h), 0);
	if (r < 0) {
		close(fd);
		return -2;
	}
	static const struct ctl_jseg_hdr zero;
	if (r < (ssize_t)sizeof(*h) || memcmp(h, &zero, sizeof(*h)) == 0) {
		close(fd);
		return 1;
	}
	*size = (uint64_t)stb.st_size;
	if (h->magic != CTL_J_MAGIC_SEG || h->version != CTL_J_VERSION || h->kind != s->kind ||
	    h->segno != segno || ctl_crc32c(0, h, offsetof(struct ctl_jseg_hdr, crc)) != h->crc ||
	    h->size != *size || *size < CTL_J_MIN_SEGMENT || *size % CTL_J_PAGE) {
		/* Records are written only after the header is complete: a bad header with no
		 * record after it is a creation cut short, not damage. */
		struct ctl_jrec_hdr first;
		static const struct ctl_jrec_hdr no_rec;
		r = pread(fd, &first, sizeof(first), sizeof(*h));
		close(fd);
		if (r < (ssize_t)sizeof(first) || memcmp(&first, &no_rec, sizeof(first)) == 0)
			return 1;
		return -1;
	}
	close(fd);
	return 0;
}

static int map_file(struct ctl_jstream *s, const char *name, int writable, uint64_t size,
		    int *fd_out, uint8_t **map_out)
{
	int fd = openat(s->j->dirfd, name, (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0)
		return ctl_j_fail_errno(s->j, "cannot open segment %s", name);
	/* Whole segments are read (recovery, resend): populating the page tables in one go is
	 * much cheaper than a fault per page. */
	void *m = mmap(NULL, size, writable ? PROT_READ | PROT_WRITE : PROT_READ,
		       MAP_SHARED | MAP_POPULATE, fd, 0);
	if (m == MAP_FAILED) {
		close(fd);
		return ctl_j_fail_errno(s->j, "cannot map segment %s", name);
	}
	*fd_out = fd;
	*map_out = m;
	return 0;
}

/* The last segment: walked record by record (checksums included), its sparse index rebuilt,
 * and its tail cut at the first bad record. It stays mapped as the active segment unless it was
 * sealed. */
static int recover_last(struct ctl_jstream *s, const char *name, uint64_t size, uint64_t *prev)
{
	int fd = -1;
	uint8_t *map;
	if (map_file(s, name, 1, size, &fd, &map))
		return -1;
	struct ctl_jseg_ent *row = ctl_js_row(s, s->tab_n - 1);
	int bad;
	uint64_t index_at;
	s->idx_n = 0;
	uint64_t end = scan(s, map, size, row, prev, 1, &bad, &index_at);
	const struct ctl_jseg_footer *f;
	int sealed = !bad && footer_check(map, size, row->segno, &f) == 0 && f->end_off == end &&
		     f->index_off == index_at && (index_at != 0) == (s->kind == CTL_JSEG_OUT);
	if (!sealed && index_at)
		end = index_at; /* a seal that did not finish: undone, and redone when full */
	uint64_t tail_end = sealed ? size - sizeof(struct ctl_jseg_footer) : size;
	if (zero_tail(map, end, tail_end) || bad) {
		s->j->st.torn_tail_cuts++;
		if (sync_cut(s, map, end, tail_end)) {
			munmap(map, size);
			close(fd);
			return -1;
		}
	}
	s->fd = fd;
	s->map = map;
	s->size = size;
	s->wr = end;
	s->synced = 0; /* unknown: the first sync covers everything */
	s->touched = 0;
	s->limit = size - ctl_j_reserve(s->kind, size);
	if (sealed || end > s->limit) {
		/* Nothing more goes into it: the next append starts a new segment. */
		if (!sealed && seal(s))
			return -1;
		ctl_js_unmap(s);
	}
	return 0;
}

/* A segment before the last: its footer gives the row at no cost; a segment without a valid
 * footer (possible only after a power loss under NONE, or damage) is walked up to its first bad
 * record, and what follows that record is not available. */
static int recover_sealed(struct ctl_jstream *s, const char *name, uint64_t size, uint64_t *prev)
{
	int fd = -1;
	uint8_t *map;
	if (map_file(s, name, 0, size, &fd, &map))
		return -1;
	struct ctl_jseg_ent *row = ctl_js_row(s, s->tab_n - 1);
	const struct ctl_jseg_footer *f;
	if (footer_check(map, size, row->segno, &f) == 0 &&
	    (s->kind != CTL_JSEG_OUT || f->count == 0 || f->first_key > *prev)) {
		row->count = f->count;
		row->first_key = f->first_key;
		row->last_key = f->last_key;
		if (s->kind == CTL_JSEG_OUT && f->count)
			*prev = f->last_key;
	} else {
		int bad;
		uint64_t index_at;
		scan(s, map, size, row, prev, 0, &bad, &index_at);
		if (bad)
			s->j->st.corrupt_records++;
	}
	munmap(map, size);
	close(fd);
	return 0;
}

/* Removes every OUT record with seq >= v: whole segments from the newest back, then the tail
 * of the segment that keeps something, which becomes the active segment again (the in-memory
 * store does the same when a lower number is saved). The tail is zeroed from its first record
 * on, so a crash half-way leaves a shorter chain, never a broken one. */
int ctl_js_truncate(struct ctl_jstream *s, uint64_t v)
{
	struct ctl_journal *j = s->j;
	char name[NAME_MAX_LEN];
	int dropped = 0;
	while (s->tab_n) {
		struct ctl_jseg_ent *last = ctl_js_row(s, s->tab_n - 1);
		if (last->count && last->first_key < v)
			break;
		if (s->fd >= 0)
			ctl_js_unmap(s);
		seg_name(name, s, last->segno);
		if (unlinkat(j->dirfd, name, 0) && errno != ENOENT)
			return ctl_j_fail_errno(j, "cannot delete segment %s", name);
		s->tab_n--;
		dropped = 1;
	}
	uint64_t prev = 0;
	for (uint32_t i = s->tab_n; i-- > 1;) {
		const struct ctl_jseg_ent *e = ctl_js_row(s, i - 1);
		if (e->count) {
			prev = e->last_key;
			break;
		}
	}
	if (s->tab_n && ctl_js_row(s, s->tab_n - 1)->last_key >= v) {
		struct ctl_jseg_ent *last = ctl_js_row(s, s->tab_n - 1);
		ctl_js_unmap(s);
		seg_name(name, s, last->segno);
		struct stat stb;
		int fd = -1;
		uint8_t *map;
		if (fstatat(j->dirfd, name, &stb, 0))
			return ctl_j_fail_errno(j, "cannot stat segment %s", name);
		uint64_t size = (uint64_t)stb.st_size;
		if (map_file(s, name, 1, size, &fd, &map))
			return -1;
		uint64_t off = sizeof(struct ctl_jseg_hdr);
		const struct ctl_jrec_hdr *h;
		while (rec_check(s, map, off, size - sizeof(struct ctl_jseg_footer), last->segno,
				 &h) == REC_OK &&
		       h->type == CTL_JREC_OUT && h->key < v)
			off = rec_next(off, h);
		memset(map + off, 0, sizeof(struct ctl_jrec_hdr)); /* the chain ends here first */
		zero_tail(map, off, size);
		int rc = sync_cut(s, map, off, size);
		munmap(map, size);
		close(fd);
		if (rc)
			return -1;
		/* Walked again as at recovery: row, sparse index and write position. */
		uint64_t cuts = j->st.torn_tail_cuts, segno = last->segno;
		memset(last, 0, sizeof(*last));
		last->segno = segno;
		if (recover_last(s, name, size, &prev))
			return -1;
		j->st.torn_tail_cuts = cuts;
	}
	s->last_key = prev;
	for (uint32_t i = s->tab_n; i-- > 0;) {
		const struct ctl_jseg_ent *e = ctl_js_row(s, i);
		if (e->count) {
			s->last_key = e->last_key;
			break;
		}
	}
	if (dropped && j->cfg.fsync != CTL_JOURNAL_FSYNC_NONE && ctl_js_fsync_dir(j))
		return -1;
	if (s->fd < 0)
		return ctl_js_rotate(s);
	return 0;
}

int ctl_js_recover(struct ctl_jstream *s)
{
	struct ctl_journal *j = s->j;
	struct found *v = NULL;
	uint32_t n = 0;
	if (list_segments(s, &v, &n))
		return -1;
	char name[NAME_MAX_LEN];
	uint64_t max_epoch = s->epoch;
	uint32_t good = 0;
	int rc = -1;
	for (uint32_t i = 0; i < n; i++) {
		struct ctl_jseg_hdr h;
		uint64_t size = 0;
		seg_name(name, s, v[i].segno);
		int r = read_header(s, name, v[i].segno, &h, &size);
		if (r == -2) {
			ctl_j_fail_errno(j, "cannot read segment %s", name);
			goto out;
		}
		if (r == 1) { /* created but never written: a crash during rotation */
			unlinkat(j->dirfd, name, 0);
			continue;
		}
		if (r == -1) { /* kept aside for a person to look at, never read again */
			char aside[NAME_MAX_LEN + 8];
			snprintf(aside, sizeof(aside), "%s.corrupt", name);
			if (renameat(j->dirfd, name, j->dirfd, aside)) {
				ctl_j_fail_errno(j, "cannot set corrupt segment %s aside", name);
				goto out;
			}
			j->st.corrupt_records++;
			continue;
		}
		v[i].good = 1;
		v[i].epoch = h.epoch;
		if (h.epoch > max_epoch)
			max_epoch = h.epoch;
		good++;
	}
	if (n)
		s->next_segno = v[n - 1].segno + 1;
	/* Segments of an older epoch were left by a reset that crashed before deleting them. A
	 * newer epoch than the state page's means the state page lost an update (power loss
	 * under NONE): the segments are the better witness. */
	s->epoch = max_epoch;
	for (uint32_t i = 0; i < n; i++) {
		if (v[i].good && v[i].epoch < max_epoch) {
			seg_name(name, s, v[i].segno);
			if (unlinkat(j->dirfd, name, 0)) {
				ctl_j_fail_errno(j, "cannot delete stale segment %s", name);
				goto out;
			}
			v[i].good = 0;
			good--;
		}
	}
	if (s->kind == CTL_JSEG_OUT) {
		/* Keep the newest keep_segments (a smaller setting than last time prunes now). The
		 * table has one row more: a rotation may add a segment before ctl_journal_poll()
		 * prunes the oldest, so that deleting a file (milliseconds, for a segment whose
		 * pages are cached) is not on the append path either. */
		s->max_segments = j->cfg.keep_segments + 1;
		for (uint32_t i = 0; i < n && good > j->cfg.keep_segments; i++) {
			if (!v[i].good)
				continue;
			seg_name(name, s, v[i].segno);
			if (unlinkat(j->dirfd, name, 0)) {
				ctl_j_fail_errno(j, "cannot prune segment %s", name);
				goto out;
			}
			v[i].good = 0;
			good--;
			j->st.pruned_segments++;
		}
	} else {
		/* Application records are never dropped behind the owner's back. */
		s->max_segments = j->cfg.max_app_segments > good + 1 ? j->cfg.max_app_segments
								     : good + 1;
	}
	s->tab = calloc(s->max_segments, sizeof(*s->tab));
	if (!s->tab) {
		ctl_j_fail(j, "out of memory for the %s segment table", s->prefix);
		goto out;
	}
	uint64_t prev = 0;
	uint32_t seen = 0;
	for (uint32_t i = 0; i < n; i++) {
		if (!v[i].good)
			continue;
		seg_name(name, s, v[i].segno);
		struct stat stb;
		if (fstatat(j->dirfd, name, &stb, 0)) {
			ctl_j_fail_errno(j, "cannot stat segment %s", name);
			goto out;
		}
		table_push(s, v[i].segno);
		int last = ++seen == good;
		if ((last ? recover_last : recover_sealed)(s, name, (uint64_t)stb.st_size, &prev))
			goto out;
	}
	s->last_key = prev;
	rc = 0;
out:
	free(v);
	return rc;
}

/* ---------------------------------------------------------------------------------------------
 * Lookup */

/* Offset of the last indexed record with key <= begin, or the first record's. */
static uint64_t index_find(const struct ctl_jidx_ent *idx, uint32_t n, uint64_t begin)
{
	uint64_t off = sizeof(struct ctl_jseg_hdr);
	uint32_t lo = 0, hi = n;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (idx[mid].key <= begin) {
			off = idx[mid].off;
			lo = mid + 1;
		} else {
			hi = mid;
		}
	}
	return off;
}

int ctl_js_visit(struct ctl_jstream *s, uint64_t begin, uint64_t end, ctl_journal_out_fn out_fn,
		 ctl_journal_app_fn app_fn, void *arg)
{
	struct ctl_journal *j = s->j;
	for (uint32_t i = 0; i < s->tab_n; i++) {
		const struct ctl_jseg_ent row = *ctl_js_row(s, i);
		if (row.count == 0)
			continue;
		if (s->kind == CTL_JSEG_OUT) {
			if (row.last_key < begin)
				continue;
			if (row.first_key > end)
				break;
		}
		int active = i == s->tab_n - 1 && s->fd >= 0;
		const uint8_t *map;
		uint64_t size, bound;
		const struct ctl_jidx_ent *idx = NULL;
		uint32_t idx_n = 0;
		uint8_t *own = NULL;
		if (active) {
			map = s->map;
			size = s->size;
			bound = s->wr;
			idx = s->idx;
			idx_n = s->idx_n;
		} else {
			char name[NAME_MAX_LEN];
			struct stat stb;
			int fd = -1;
			seg_name(name, s, row.segno);
			if (fstatat(j->dirfd, name, &stb, 0))
				return ctl_j_fail_errno(j, "cannot stat segment %s", name);
			size = (uint64_t)stb.st_size;
			if (size < CTL_J_MIN_SEGMENT || map_file(s, name, 0, size, &fd, &own))
				return ctl_j_fail(j, "segment %s is unreadable", name);
			close(fd);
			map = own;
			bound = size - sizeof(struct ctl_jseg_footer);
			const struct ctl_jseg_footer *f;
			const struct ctl_jrec_hdr *ih;
			if (footer_check(map, size, row.segno, &f) == 0) {
				bound = f->end_off;
				if (f->index_off &&
				    rec_check(s, map, f->index_off, bound, row.segno, &ih) == REC_OK &&
				    ih->type == CTL_JREC_INDEX) {
					idx = (const struct ctl_jidx_ent *)(ih + 1);
					idx_n = ih->len / sizeof(struct ctl_jidx_ent);
				}
			}
		}
		uint64_t off = s->kind == CTL_JSEG_OUT ? index_find(idx, idx_n, begin)
						       : sizeof(struct ctl_jseg_hdr);
		int rc = 0, done = 0;
		for (;;) {
			const struct ctl_jrec_hdr *h;
			int r = rec_check(s, map, off, bound, row.segno, &h);
			if (r == REC_END)
				break;
			if (r == REC_BAD) { /* the rest of this segment is not available */
				j->st.corrupt_records++;
				break;
			}
			if (h->type == CTL_JREC_INDEX)
				break;
			const uint8_t *payload = (const uint8_t *)(h + 1);
			if (s->kind == CTL_JSEG_APP) {
				rc = app_fn(arg, (uint32_t)h->key, payload, h->len);
			} else if (h->key > end) {
				done = 1;
				break;
			} else if (h->key >= begin) {
				rc = out_fn(arg, h->key, (const char *)payload, h->len);
			}
			if (rc)
				break;
			off = rec_next(off, h);
		}
		if (own)
			munmap(own, size);
		if (rc)
			return rc;
		if (done)
			break;
	}
	return 0;
}
