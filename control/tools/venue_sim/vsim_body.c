/* fixmux-venue-sim: message bodies, decimal numbers, and the echo's normal form. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

void vsim_b_str(struct vsim_body *b, uint32_t tag, const char *v, size_t len)
{
	char t[16];
	int tl = snprintf(t, sizeof(t), "%u=", tag);
	if (b->overflow || b->n + (size_t)tl + len + 1 > sizeof(b->b)) {
		b->overflow = true;
		return;
	}
	memcpy(b->b + b->n, t, (size_t)tl);
	b->n += (size_t)tl;
	memcpy(b->b + b->n, v, len);
	b->n += len;
	b->b[b->n++] = FIX_SOH;
}

void vsim_b_cstr(struct vsim_body *b, uint32_t tag, const char *v)
{
	vsim_b_str(b, tag, v, strlen(v));
}

void vsim_b_uint(struct vsim_body *b, uint32_t tag, uint64_t v)
{
	char d[24];
	int n = snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	vsim_b_str(b, tag, d, (size_t)n);
}

void vsim_b_char(struct vsim_body *b, uint32_t tag, char c)
{
	vsim_b_str(b, tag, &c, 1);
}

size_t vsim_fmt_scaled(int64_t v, char *out)
{
	bool neg = v < 0;
	uint64_t u = neg ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
	uint64_t ip = u / (uint64_t)VSIM_SCALE, fp = u % (uint64_t)VSIM_SCALE;
	int n = snprintf(out, 32, "%s%llu", neg ? "-" : "", (unsigned long long)ip);
	if (fp != 0) {
		char f[16];
		snprintf(f, sizeof(f), "%08llu", (unsigned long long)fp);
		size_t k = 8;
		while (k > 0 && f[k - 1] == '0')
			k--;
		out[n++] = '.';
		memcpy(out + n, f, k);
		n += (int)k;
		out[n] = '\0';
	}
	return (size_t)n;
}

void vsim_b_scaled(struct vsim_body *b, uint32_t tag, int64_t v)
{
	char d[32];
	size_t n = vsim_fmt_scaled(v, d);
	vsim_b_str(b, tag, d, n);
}

int vsim_parse_scaled(const char *s, size_t len, int64_t *out)
{
	struct fix_decimal d;
	if (fix_get_decimal(s, len, &d) != FIX_OK || d.scale > 8)
		return -1;
	int64_t m = d.mantissa;
	for (int i = d.scale; i < 8; i++) {
		if (m > INT64_MAX / 10 || m < INT64_MIN / 10)
			return -1;
		m *= 10;
	}
	*out = m;
	return 0;
}

/* ---------------------------------------------------------------------------------------------
 * Normal form. fix_dict.h tells a field's type but not which fields a repeating group holds,
 * so a group is recognised by its NUMINGROUP count field and kept as one block: the count and
 * its N entries, each entry starting with the tag that follows the count (the delimiter). The
 * last entry ends before the first tag that repeats within it or, when there are earlier
 * entries, that none of them had. Inside a block the order is left as received (the session
 * has validated it against the dictionary's group definition); blocks are placed at their
 * count tag among the ascending top-level fields.
 * ------------------------------------------------------------------------------------------- */

struct unit {
	uint32_t tag;   /* sort key */
	uint32_t first; /* field index */
	uint32_t n;     /* fields in the unit */
};

static bool is_count(const struct fix_dict *d, uint32_t tag)
{
	const char *t = d != NULL ? fix_dict_field_type(d, tag) : NULL;
	return t != NULL && strcmp(t, "NUMINGROUP") == 0;
}

static bool in_range(const struct fix_msg *m, uint32_t from, uint32_t to, uint32_t tag)
{
	for (uint32_t i = from; i < to; i++)
		if (m->fields[i].tag == tag)
			return true;
	return false;
}

/* Number of fields (count included) of the group block starting at field i, whose end is at
 * most lim. */
static uint32_t group_extent(const struct fix_msg *m, const struct fix_dict *d, uint32_t i,
			     uint32_t lim)
{
	uint64_t cnt = 0;
	const struct fix_field *c = &m->fields[i];
	if (fix_get_uint(c->val, c->len, &cnt) != FIX_OK || cnt == 0 || i + 1 >= lim)
		return 1;
	uint32_t delim = m->fields[i + 1].tag;
	uint32_t j = i + 1, entry = 0, entry_start = j;
	while (j < lim) {
		uint32_t tag = m->fields[j].tag;
		if (tag == delim && j != entry_start) {
			if (entry + 1 == cnt)
				break; /* a delimiter beyond the declared count: not ours */
			entry++;
			entry_start = j;
		} else if (j != entry_start) {
			if (in_range(m, entry_start, j, tag))
				break;
			if (entry > 0 && entry + 1 == cnt && !in_range(m, i + 1, entry_start, tag))
				break;
		}
		if (is_count(d, tag) && j != i) {
			uint32_t k = group_extent(m, d, j, lim);
			j += k;
			continue;
		}
		j++;
	}
	return j - i;
}

static int cmp_unit(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	return x->first < y->first ? -1 : x->first > y->first;
}

void vsim_echo_body(const struct fix_msg *m, const struct fix_dict *d, struct vsim_body *b,
		    struct fix_field *extra, size_t *n_extra)
{
	size_t cap = *n_extra, ne = 0;
	for (int16_t i = 3; i < m->hdr.n_header; i++) {
		uint32_t t = m->fields[i].tag;
		if (t == 34 || t == 43 || t == 49 || t == 52 || t == 56 || t == 122)
			continue;
		if (ne < cap)
			extra[ne++] = m->fields[i];
	}
	*n_extra = ne;
	/* The body ends before the trailer (10, and 93/89 when signed). */
	uint32_t lim = m->nfields;
	while (lim > (uint32_t)m->hdr.n_header &&
	       (m->fields[lim - 1].tag == 10 || m->fields[lim - 1].tag == 89 ||
		m->fields[lim - 1].tag == 93))
		lim--;
	static struct unit units[1024];
	uint32_t nu = 0;
	for (uint32_t i = (uint32_t)m->hdr.n_header; i < lim && nu < 1024;) {
		uint32_t k = is_count(d, m->fields[i].tag) ? group_extent(m, d, i, lim) : 1;
		units[nu++] = (struct unit){m->fields[i].tag, i, k};
		i += k;
	}
	qsort(units, nu, sizeof(units[0]), cmp_unit);
	for (uint32_t u = 0; u < nu; u++)
		for (uint32_t f = units[u].first; f < units[u].first + units[u].n; f++)
			vsim_b_str(b, m->fields[f].tag, m->fields[f].val, m->fields[f].len);
}
