/* control: routing table of a venue session (see ctl_route.h).
 *
 * IDs live in a slab used as a ring in insertion order, so that when the table is full the
 * oldest ID is the one forgotten (an order from this morning outlives none of today's newer
 * ones). A power-of-two open-addressing hash table with twice as many buckets as slab entries
 * points into the slab; deletion shifts the following entries back (no tombstones, so probe
 * lengths never degrade however long the session lives).
 */
#include "ctl_route.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

struct route_entry {
	uint32_t hash;
	uint16_t user;
	uint8_t kind;
	uint8_t len;
	uint8_t live;
	char id[CTL_ROUTE_ID_MAX];
};

struct refseq_entry {
	uint64_t venue_seq; /* 0 = empty */
	uint64_t user_seq;
	uint16_t user;
};

struct ctl_route {
	struct route_entry *slab;
	uint32_t *buckets;        /* slab index + 1; 0 = empty */
	uint32_t slab_mask;       /* slab size - 1 */
	uint32_t bucket_mask;
	uint64_t next_slot;       /* insertion counter; slot = next_slot & slab_mask */
	uint64_t touched;         /* slab slots below this have had their pages touched */
	struct refseq_entry *refseq;
	uint32_t refseq_mask;
	struct ctl_route_stats st;
};

static uint32_t round_pow2(uint32_t v)
{
	uint32_t p = 1;
	while (p < v && p < (1u << 30))
		p <<= 1;
	return p;
}

/* calloc leaves large blocks as untouched zero pages: the first message to land on each page
 * would take a page fault (a kernel entry and a page cleared, ~1 us) on the forwarding path.
 * One write per page takes it earlier. The byte is written with its own value, so live
 * entries in the range are left as they are. */
static void touch_pages(void *p, size_t n)
{
	volatile char *c = p;
	for (size_t i = 0; i < n; i += 4096)
		c[i] = c[i];
	if (n != 0)
		c[n - 1] = c[n - 1];
}

struct ctl_route *ctl_route_create(uint32_t capacity, uint32_t refseq_window)
{
	struct ctl_route *r = calloc(1, sizeof(*r));
	if (!r)
		return NULL;
	uint32_t n = round_pow2(capacity ? capacity : 1);
	uint32_t w = round_pow2(refseq_window ? refseq_window : 1);
	r->slab = calloc(n, sizeof(*r->slab));
	r->buckets = calloc((size_t)n * 2, sizeof(*r->buckets));
	r->refseq = calloc(w, sizeof(*r->refseq));
	if (!r->slab || !r->buckets || !r->refseq) {
		ctl_route_destroy(r);
		return NULL;
	}
	/* The buckets and the refseq window are used in random order from the first messages on:
	 * all their pages now (3.5 MB). The slab fills in order: ctl_route_poll keeps its pages
	 * touched ahead of the insertions, so an idle venue session does not hold 20 MB. */
	touch_pages(r->buckets, (size_t)n * 2 * sizeof(*r->buckets));
	touch_pages(r->refseq, w * sizeof(*r->refseq));
	r->slab_mask = n - 1;
	r->bucket_mask = n * 2 - 1;
	r->refseq_mask = w - 1;
	r->st.capacity = n;
	ctl_route_poll(r);
	return r;
}

void ctl_route_poll(struct ctl_route *r)
{
	uint64_t n = (uint64_t)r->slab_mask + 1;
	if (r->touched >= n)
		return; /* every page of the slab has been touched */
	uint64_t want = r->next_slot + CTL_ROUTE_TOUCH_AHEAD / sizeof(*r->slab);
	if (want > n)
		want = n;
	if (want <= r->touched)
		return;
	touch_pages(r->slab + r->touched, (size_t)(want - r->touched) * sizeof(*r->slab));
	r->touched = want;
}

void ctl_route_destroy(struct ctl_route *r)
{
	if (!r)
		return;
	free(r->slab);
	free(r->buckets);
	free(r->refseq);
	free(r);
}

/* The kind and the ID, 8 bytes at a time (multiply and fold), then a final mix (murmur3's
 * fmix64): IDs are 10-40 bytes, and byte-wise FNV-1a was a chain of one multiply per byte on
 * the forwarding path. The table's load factor stays at or under one half. In memory only:
 * no hash is journaled. */
static uint32_t hash_id(enum ctl_key_kind kind, const char *id, size_t len)
{
	const uint64_t k = 0x9E3779B97F4A7C15ull;
	uint64_t h = ((uint64_t)kind << 56) ^ len ^ k;
	size_t i = 0;
	for (; i + 8 <= len; i += 8) {
		uint64_t w;
		memcpy(&w, id + i, 8);
		h = (h ^ w) * k;
		h ^= h >> 29;
	}
	if (i < len) {
		/* The tail as one word: the last 8 bytes (overlapping the loop's) when there are
		 * that many, else two overlapping 4-byte reads, else bytes; len is in h already. */
		uint64_t w = 0;
		if (len >= 8) {
			memcpy(&w, id + len - 8, 8);
		} else if (len >= 4) {
			uint32_t a, b;
			memcpy(&a, id, 4);
			memcpy(&b, id + len - 4, 4);
			w = (uint64_t)a << 32 | b;
		} else {
			for (size_t j = 0; j < len; j++)
				w |= (uint64_t)(unsigned char)id[j] << (8 * j);
		}
		h = (h ^ w) * k;
	}
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdull;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ull;
	h ^= h >> 33;
	return (uint32_t)h;
}
/* Bucket holding (kind, id), or the empty bucket where it would go. */
static uint32_t find_bucket(const struct ctl_route *r, uint32_t h, enum ctl_key_kind kind,
			    const char *id, size_t len, bool *found)
{
	for (uint32_t b = h & r->bucket_mask;; b = (b + 1) & r->bucket_mask) {
		uint32_t ref = r->buckets[b];
		if (ref == 0) {
			*found = false;
			return b;
		}
		const struct route_entry *e = &r->slab[ref - 1];
		if (e->hash == h && e->kind == kind && e->len == len && !memcmp(e->id, id, len)) {
			*found = true;
			return b;
		}
	}
}

/* Removes bucket b and shifts back the entries of its probe run that could live earlier. */
static void delete_bucket(struct ctl_route *r, uint32_t b)
{
	uint32_t hole = b;
	for (uint32_t j = (b + 1) & r->bucket_mask; r->buckets[j]; j = (j + 1) & r->bucket_mask) {
		uint32_t home = r->slab[r->buckets[j] - 1].hash & r->bucket_mask;
		/* j's entry may move into the hole if its home is not in (hole, j] cyclically. */
		bool in_range = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
		if (!in_range) {
			r->buckets[hole] = r->buckets[j];
			hole = j;
		}
	}
	r->buckets[hole] = 0;
}

static void forget_entry(struct ctl_route *r, struct route_entry *e)
{
	bool found;
	uint32_t b = find_bucket(r, e->hash, (enum ctl_key_kind)e->kind, e->id, e->len, &found);
	assert(found);
	if (found)
		delete_bucket(r, b);
	e->live = 0;
	r->st.ids--;
}

enum ctl_claim ctl_route_claim(struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			       size_t len, uint16_t user, uint16_t *owner)
{
	if (len > CTL_ROUTE_ID_MAX)
		return CTL_CLAIM_TOO_LONG;
	r->st.claims++;
	uint32_t h = hash_id(kind, id, len);
	bool found;
	uint32_t b = find_bucket(r, h, kind, id, len, &found);
	if (found) {
		uint16_t o = r->slab[r->buckets[b] - 1].user;
		if (owner)
			*owner = o;
		if (o == user)
			return CTL_CLAIM_OWN;
		r->st.conflicts++;
		return CTL_CLAIM_OTHER;
	}
	uint32_t slot = (uint32_t)(r->next_slot++ & r->slab_mask);
	struct route_entry *e = &r->slab[slot];
	if (e->live) {
		forget_entry(r, e);
		r->st.evicted++;
		/* The deletion may have shifted buckets: find the insertion point again. */
		b = find_bucket(r, h, kind, id, len, &found);
	}
	e->hash = h;
	e->user = user;
	e->kind = (uint8_t)kind;
	e->len = (uint8_t)len;
	e->live = 1;
	memcpy(e->id, id, len);
	r->buckets[b] = slot + 1;
	r->st.ids++;
	if (owner)
		*owner = user;
	return CTL_CLAIM_NEW;
}

uint16_t ctl_route_lookup(struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			  size_t len)
{
	r->st.lookups++;
	if (len > CTL_ROUTE_ID_MAX) {
		r->st.misses++;
		return CTL_ROUTE_NO_USER;
	}
	bool found;
	uint32_t b = find_bucket(r, hash_id(kind, id, len), kind, id, len, &found);
	if (!found) {
		r->st.misses++;
		return CTL_ROUTE_NO_USER;
	}
	return r->slab[r->buckets[b] - 1].user;
}

void ctl_route_prefetch(const struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			size_t len)
{
	if (len <= CTL_ROUTE_ID_MAX)
		__builtin_prefetch(&r->buckets[hash_id(kind, id, len) & r->bucket_mask]);
}
void ctl_route_release(struct ctl_route *r, enum ctl_key_kind kind, const char *id, size_t len)
{
	if (len > CTL_ROUTE_ID_MAX)
		return;
	bool found;
	uint32_t b = find_bucket(r, hash_id(kind, id, len), kind, id, len, &found);
	if (!found)
		return;
	r->slab[r->buckets[b] - 1].live = 0;
	delete_bucket(r, b);
	r->st.ids--;
}

void ctl_route_note_sent(struct ctl_route *r, uint64_t venue_seq, uint16_t user,
			 uint64_t user_seq)
{
	struct refseq_entry *e = &r->refseq[venue_seq & r->refseq_mask];
	e->venue_seq = venue_seq;
	e->user = user;
	e->user_seq = user_seq;
}

bool ctl_route_by_refseq(const struct ctl_route *r, uint64_t venue_seq, uint16_t *user,
			 uint64_t *user_seq)
{
	const struct refseq_entry *e = &r->refseq[venue_seq & r->refseq_mask];
	if (venue_seq == 0 || e->venue_seq != venue_seq)
		return false;
	*user = e->user;
	*user_seq = e->user_seq;
	return true;
}

static bool is_type(const struct fix_msg *m, const char *t)
{
	return !strcmp(m->hdr.msg_type, t);
}

static bool lookup_tag(struct ctl_route *r, const struct fix_msg *m, uint32_t tag,
		       enum ctl_key_kind kind, struct ctl_route_verdict *v)
{
	const struct fix_field *f = fix_find(m, tag, 0);
	if (!f)
		return false;
	uint16_t u = ctl_route_lookup(r, kind, f->val, f->len);
	if (u == CTL_ROUTE_NO_USER)
		return false;
	v->user = u;
	v->key_tag = tag;
	return true;
}

static bool route_by_refseq(struct ctl_route *r, const struct fix_msg *m,
			    struct ctl_route_verdict *v)
{
	uint64_t ref;
	if (fix_msg_get_uint(m, 45, &ref) != FIX_OK) {
		return false;
	}
	uint16_t u;
	uint64_t us;
	if (!ctl_route_by_refseq(r, ref, &u, &us)) {
		r->st.refseq_misses++;
		return false;
	}
	r->st.refseq_hits++;
	v->user = u;
	v->rewrite_refseq = true;
	v->ref_user_seq = us;
	v->key_tag = 45;
	return true;
}

void ctl_route_venue_msg(struct ctl_route *r, const struct fix_msg *m, uint16_t dropcopy_user,
			 struct ctl_route_verdict *v)
{
	v->user = CTL_ROUTE_NO_USER;
	v->rewrite_refseq = false;
	v->ref_user_seq = 0;
	v->key_tag = 0;
	/* A Reject's RefSeqNum is in the venue session's numbering whoever receives it. */
	if (is_type(m, "3")) {
		if (!route_by_refseq(r, m, v) && dropcopy_user != CTL_ROUTE_NO_USER)
			v->user = dropcopy_user;
		return;
	}
	if (dropcopy_user != CTL_ROUTE_NO_USER) {
		v->user = dropcopy_user;
		return;
	}
	if (is_type(m, "8") || is_type(m, "9")) {
		if (!lookup_tag(r, m, 11, CTL_KEY_CLORDID, v))
			lookup_tag(r, m, 41, CTL_KEY_CLORDID, v);
	} else if (is_type(m, "V") || is_type(m, "W") || is_type(m, "X") || is_type(m, "Y")) {
		lookup_tag(r, m, 262, CTL_KEY_MDREQID, v);
	} else if (is_type(m, "R") || is_type(m, "S") || is_type(m, "Z") || is_type(m, "b") ||
		   is_type(m, "AI") || is_type(m, "AG") || is_type(m, "AJ") || is_type(m, "i")) {
		if (!lookup_tag(r, m, 131, CTL_KEY_QUOTEREQID, v))
			lookup_tag(r, m, 117, CTL_KEY_QUOTEID, v);
	} else if (is_type(m, "j")) {
		/* BusinessRejectRefID holds the ID of the refused message, whatever its kind. */
		const struct fix_field *f = fix_find(m, 379, 0);
		for (int k = 0; f && k < CTL_KEY__COUNT; k++) {
			uint16_t u = ctl_route_lookup(r, (enum ctl_key_kind)k, f->val, f->len);
			if (u != CTL_ROUTE_NO_USER) {
				v->user = u;
				v->key_tag = 379;
				break;
			}
		}
		/* Whoever it goes to, a 45 in it must be in that user's numbering. */
		struct ctl_route_verdict by_seq = *v;
		if (route_by_refseq(r, m, &by_seq)) {
			if (v->user == CTL_ROUTE_NO_USER || v->user == by_seq.user)
				*v = by_seq;
		}
	}
}

bool ctl_route_client_key(const struct fix_msg *m, enum ctl_key_kind *kind,
			  const struct fix_field **id)
{
	uint32_t tag;
	if (is_type(m, "D") || is_type(m, "F") || is_type(m, "G") || is_type(m, "E")) {
		tag = 11;
		*kind = CTL_KEY_CLORDID;
	} else if (is_type(m, "V")) {
		tag = 262;
		*kind = CTL_KEY_MDREQID;
	} else if (is_type(m, "R")) {
		tag = 131;
		*kind = CTL_KEY_QUOTEREQID;
	} else if (is_type(m, "S") || is_type(m, "AJ") || is_type(m, "i")) {
		tag = 117;
		*kind = CTL_KEY_QUOTEID;
	} else {
		return false;
	}
	*id = fix_find(m, tag, 0);
	return *id != NULL;
}

/* Records: op(1) kind(1) user(2, little endian) len(1) id  |  op(1) venue_seq(8) user(2)
 * user_seq(8). Little endian as the journal is read back on the machine that wrote it. */
static void put_u16(char *p, uint16_t v)
{
	p[0] = (char)(v & 0xff);
	p[1] = (char)(v >> 8);
}

static uint16_t get_u16(const char *p)
{
	return (uint16_t)((unsigned char)p[0] | (unsigned char)p[1] << 8);
}

static void put_u64(char *p, uint64_t v)
{
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
	memcpy(p, &v, 8); /* one store: the record's byte order is the machine's */
#else
	for (int i = 0; i < 8; i++)
		p[i] = (char)(v >> (8 * i));
#endif
}

static uint64_t get_u64(const char *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v |= (uint64_t)(unsigned char)p[i] << (8 * i);
	return v;
}

static size_t rec_id(char *buf, enum ctl_route_op op, enum ctl_key_kind kind, const char *id,
		     size_t len, uint16_t user)
{
	if (len > CTL_ROUTE_ID_MAX)
		return 0;
	buf[0] = (char)op;
	buf[1] = (char)kind;
	put_u16(buf + 2, user);
	buf[4] = (char)len;
	memcpy(buf + 5, id, len);
	return 5 + len;
}

size_t ctl_route_rec_claim(char *buf, enum ctl_key_kind kind, const char *id, size_t len,
			   uint16_t user)
{
	return rec_id(buf, CTL_ROUTE_OP_CLAIM, kind, id, len, user);
}

size_t ctl_route_rec_release(char *buf, enum ctl_key_kind kind, const char *id, size_t len)
{
	return rec_id(buf, CTL_ROUTE_OP_RELEASE, kind, id, len, CTL_ROUTE_NO_USER);
}

size_t ctl_route_rec_sent(char *buf, uint64_t venue_seq, uint16_t user, uint64_t user_seq)
{
	buf[0] = (char)CTL_ROUTE_OP_SENT;
	put_u64(buf + 1, venue_seq);
	put_u16(buf + 9, user);
	put_u64(buf + 11, user_seq);
	return 19;
}

size_t ctl_route_rec_clear(char *buf)
{
	buf[0] = (char)CTL_ROUTE_OP_CLEAR;
	return 1;
}

int ctl_route_snapshot(const struct ctl_route *r, ctl_route_rec_fn fn, void *arg)
{
	char rec[CTL_ROUTE_REC_MAX];
	int rc = fn(arg, rec, ctl_route_rec_clear(rec));
	uint64_t n = (uint64_t)r->slab_mask + 1;
	/* The slab is a ring in insertion order: start at the oldest slot. */
	for (uint64_t i = 0; rc == 0 && i < n; i++) {
		const struct route_entry *e = &r->slab[(r->next_slot + i) & r->slab_mask];
		if (e->live)
			rc = fn(arg, rec,
				ctl_route_rec_claim(rec, (enum ctl_key_kind)e->kind, e->id, e->len,
						    e->user));
	}
	for (uint32_t i = 0; rc == 0 && i <= r->refseq_mask; i++) {
		const struct refseq_entry *e = &r->refseq[i];
		if (e->venue_seq)
			rc = fn(arg, rec, ctl_route_rec_sent(rec, e->venue_seq, e->user, e->user_seq));
	}
	return rc;
}

static void route_clear(struct ctl_route *r)
{
	memset(r->slab, 0, ((size_t)r->slab_mask + 1) * sizeof(*r->slab));
	memset(r->buckets, 0, ((size_t)r->bucket_mask + 1) * sizeof(*r->buckets));
	memset(r->refseq, 0, ((size_t)r->refseq_mask + 1) * sizeof(*r->refseq));
	r->next_slot = 0;
	r->st.ids = 0;
}

int ctl_route_replay(struct ctl_route *r, const char *rec, size_t len)
{
	if (len < 1)
		return -1;
	switch ((enum ctl_route_op)rec[0]) {
	case CTL_ROUTE_OP_CLEAR:
		if (len != 1)
			return -1;
		route_clear(r);
		return 0;
	case CTL_ROUTE_OP_CLAIM:
	case CTL_ROUTE_OP_RELEASE: {
		if (len < 5 || (unsigned char)rec[1] >= CTL_KEY__COUNT ||
		    (size_t)(unsigned char)rec[4] + 5 != len)
			return -1;
		enum ctl_key_kind kind = (enum ctl_key_kind)rec[1];
		size_t idlen = (unsigned char)rec[4];
		if (rec[0] == CTL_ROUTE_OP_RELEASE) {
			ctl_route_release(r, kind, rec + 5, idlen);
			return 0;
		}
		/* A replayed claim re-asserts the owner recorded then: a later claim by another
		 * user was refused at the time and never recorded. */
		uint16_t user = get_u16(rec + 2);
		if (ctl_route_claim(r, kind, rec + 5, idlen, user, NULL) == CTL_CLAIM_TOO_LONG)
			return -1;
		return 0;
	}
	case CTL_ROUTE_OP_SENT:
		if (len != 19)
			return -1;
		ctl_route_note_sent(r, get_u64(rec + 1), get_u16(rec + 9), get_u64(rec + 11));
		return 0;
	}
	return -1;
}

void ctl_route_get_stats(const struct ctl_route *r, struct ctl_route_stats *s)
{
	*s = r->st;
}
