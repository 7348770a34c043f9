/* Test helpers for hostile input: place bytes right before an unreadable guard page (so any
 * read past the end faults the test), and build FIX messages with correct 9 and 10. */
#ifndef TESTS_FIXCODEC_GUARD_H
#define TESTS_FIXCODEC_GUARD_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

struct guard {
	char *map;
	size_t map_len;
	char *data;    /* the copy: data[len] is the first byte of the PROT_NONE page */
	size_t len;
};

/* Copies len bytes of src to end exactly at a PROT_NONE page; headroom writable bytes lie in
 * front of the copy. Returns the copy (writable), or NULL if mmap fails. */
static inline char *guard_place_room(struct guard *g, const void *src, size_t len,
				     size_t headroom)
{
	size_t pg = (size_t)sysconf(_SC_PAGESIZE);
	size_t body = (len + headroom + pg - 1) / pg * pg;
	if (body == 0)
		body = pg;
	g->map_len = body + pg;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
		      -1, 0);
	if (g->map == MAP_FAILED)
		return NULL;
	if (mprotect(g->map + body, pg, PROT_NONE) != 0) {
		munmap(g->map, g->map_len);
		return NULL;
	}
	g->data = g->map + body - len;
	g->len = len;
	if (len > 0)
		memcpy(g->data, src, len);
	return g->data;
}

static inline char *guard_place(struct guard *g, const void *src, size_t len)
{
	return guard_place_room(g, src, len, 0);
}

static inline void guard_free(struct guard *g)
{
	munmap(g->map, g->map_len);
}

/* Builds a message from a readable spec: '|' stands for SOH, and the spec holds BeginString
 * then everything between BodyLength and CheckSum ("8=FIX.4.4|35=0|34=2|...|"); BodyLength and
 * CheckSum are inserted with correct values. Returns the length, 0 if out is too small. */
static inline size_t tmsg_build(char *out, size_t cap, const char *spec)
{
	char tmp[65536];
	size_t n = strlen(spec);
	if (n >= sizeof(tmp))
		return 0;
	for (size_t i = 0; i < n; i++)
		tmp[i] = spec[i] == '|' ? '\001' : spec[i];
	const char *soh = memchr(tmp, '\001', n);
	if (soh == NULL)
		return 0;
	size_t blen = (size_t)(soh - tmp) + 1;
	size_t body = n - blen;
	int w = snprintf(out, cap, "%.*s9=%zu\001", (int)blen, tmp, body);
	if (w < 0 || (size_t)w + body + 7 > cap)
		return 0;
	memcpy(out + w, tmp + blen, body);
	size_t len = (size_t)w + body;
	unsigned sum = 0;
	for (size_t i = 0; i < len; i++)
		sum += (unsigned char)out[i];
	snprintf(out + len, cap - len, "10=%03u\001", sum & 0xff);
	return len + 7;
}

/* Same with a caller-chosen BodyLength value and checksum text (for wrong ones). */
static inline size_t tmsg_build_raw(char *out, size_t cap, const char *spec, const char *body_len,
				    const char *checksum)
{
	char tmp[4096];
	size_t n = strlen(spec);
	if (n >= sizeof(tmp))
		return 0;
	for (size_t i = 0; i < n; i++)
		tmp[i] = spec[i] == '|' ? '\001' : spec[i];
	const char *soh = memchr(tmp, '\001', n);
	if (soh == NULL)
		return 0;
	size_t blen = (size_t)(soh - tmp) + 1;
	int w = snprintf(out, cap, "%.*s9=%s\001%.*s10=%s\001", (int)blen, tmp, body_len,
			 (int)(n - blen), tmp + blen, checksum);
	return w < 0 || (size_t)w >= cap ? 0 : (size_t)w;
}

/* Replaces every '|' of s (in place) with SOH; returns s. */
static inline char *tsoh(char *s)
{
	for (char *p = s; *p; p++)
		if (*p == '|')
			*p = '\001';
	return s;
}

#endif
