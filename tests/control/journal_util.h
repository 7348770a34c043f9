/* tests/control: helpers shared by the journal tests (temporary directories, message bodies,
 * collecting visits, poking at segment files). */
#ifndef JOURNAL_UTIL_H
#define JOURNAL_UTIL_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ctl_journal.h"
#include "../../control/ctl_journal_format.h"

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static inline void tu_rmrf(const char *dir)
{
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* A fresh directory under TMPDIR (or /tmp); the journal goes in <it>/s. */
static inline void tu_mkdtemp(char *base, size_t n, char *jdir, size_t jn)
{
	const char *t = getenv("TMPDIR");
	snprintf(base, n, "%s/fixmux-journal-XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(base))
		abort();
	snprintf(jdir, jn, "%s/s", base);
}

/* Deterministic message for seq: 200..300 bytes, FIX-looking, content depends on seed and seq. */
static inline size_t tu_msg(uint64_t seed, uint64_t seq, char *buf)
{
	uint64_t x = (seed ^ (seq * 0x9E3779B97F4A7C15ull)) | 1;
	size_t len = 200 + (size_t)((x >> 17) % 101);
	int n = snprintf(buf, len + 1, "8=FIX.4.4\0019=000\00135=D\00134=%llu\001",
			 (unsigned long long)seq);
	for (size_t i = (size_t)n; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		buf[i] = (char)('A' + x % 26);
	}
	return len;
}

struct tu_seen {
	uint64_t n;
	uint64_t seqs[200000];
	int bad_content;
	uint64_t seed;
};

static inline int tu_collect(void *arg, uint64_t seq, const char *msg, size_t len)
{
	struct tu_seen *s = arg;
	char want[512];
	size_t wl = tu_msg(s->seed, seq, want);
	if (wl != len || memcmp(want, msg, len) != 0)
		s->bad_content++;
	if (s->n < sizeof(s->seqs) / sizeof(s->seqs[0]))
		s->seqs[s->n] = seq;
	s->n++;
	return 0;
}

/* Path of the newest (or oldest) segment file of a stream ("out" or "app"). */
static inline int tu_segment(const char *jdir, const char *prefix, int newest, char *path,
			     size_t n)
{
	DIR *d = opendir(jdir);
	if (!d)
		return -1;
	char best[256] = "";
	struct dirent *de;
	size_t pl = strlen(prefix);
	while ((de = readdir(d))) {
		size_t l = strlen(de->d_name);
		if (strncmp(de->d_name, prefix, pl) || de->d_name[pl] != '-' || l < 4 ||
		    strcmp(de->d_name + l - 4, ".seg"))
			continue;
		if (!best[0] || (newest ? strcmp(de->d_name, best) > 0 : strcmp(de->d_name, best) < 0))
			snprintf(best, sizeof(best), "%s", de->d_name);
	}
	closedir(d);
	if (!best[0])
		return -1;
	snprintf(path, n, "%s/%s", jdir, best);
	return 0;
}

/* Offsets of the records of a segment file (the chain as written, without checking crcs);
 * returns how many. */
static inline int tu_record_offsets(const char *path, uint64_t *offs, int max)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	uint64_t off = sizeof(struct ctl_jseg_hdr);
	int n = 0;
	for (;;) {
		struct ctl_jrec_hdr h;
		if (pread(fd, &h, sizeof(h), (off_t)off) != (ssize_t)sizeof(h) || h.crc == 0 ||
		    (h.type != CTL_JREC_OUT && h.type != CTL_JREC_APP))
			break;
		if (n < max)
			offs[n] = off;
		n++;
		off += ctl_j_align(sizeof(h) + h.len);
	}
	close(fd);
	return n;
}

static inline void tu_flip_byte(const char *path, uint64_t off)
{
	int fd = open(path, O_RDWR);
	unsigned char c;
	if (fd < 0 || pread(fd, &c, 1, (off_t)off) != 1)
		abort();
	c ^= 0x5a;
	if (pwrite(fd, &c, 1, (off_t)off) != 1)
		abort();
	close(fd);
}

static inline void tu_zero_bytes(const char *path, uint64_t off, size_t n)
{
	int fd = open(path, O_RDWR);
	char z[4096] = { 0 };
	if (fd < 0 || n > sizeof(z) || pwrite(fd, z, n, (off_t)off) != (ssize_t)n)
		abort();
	close(fd);
}

#endif
