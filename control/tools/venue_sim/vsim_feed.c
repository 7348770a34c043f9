/* fixmux-venue-sim: prices, market-data subscriptions and quote streams (tables only; the
 * messages are built by vsim_app.c). Prices are a deterministic random walk per symbol. */
#include <stdio.h>
#include <string.h>

#include "vsim.h"

void vsim_feed_init(struct vsim_feed *f, uint64_t seed, uint32_t interval_ms, uint32_t md_rate)
{
	memset(f, 0, sizeof(*f));
	f->rng = (seed != 0 ? seed : 1) ^ 0xA5A5A5A5DEADBEEFull;
	f->interval_ns = (int64_t)interval_ms * 1000000;
	if (md_rate > 0) {
		f->interval_ns = 1000000000 / (int64_t)md_rate;
		f->stamped = true;
	}
}

uint32_t vsim_feed_due(struct vsim_feed *f, struct vsim_sub *s, int64_t now, uint32_t max,
		       int64_t *first_due)
{
	uint32_t n = 0;
	*first_due = s->next_ns;
	while (n < max && s->next_ns <= now) {
		n++;
		s->next_ns += f->interval_ns;
		if (!f->stamped) {
			if (s->next_ns <= now) /* fell behind: no burst to catch up */
				s->next_ns = now + f->interval_ns;
			break;
		}
	}
	return n;
}

size_t vsim_fmt_time_of_day_ns(int64_t ns, char *out, size_t cap)
{
	const int64_t day = 86400 * 1000000000ll;
	int64_t t = ((ns % day) + day) % day;
	int64_t s = t / 1000000000;
	int n = snprintf(out, cap, "%02d:%02d:%02d.%09lld", (int)(s / 3600), (int)(s / 60 % 60),
			 (int)(s % 60), (long long)(t % 1000000000));
	return n < 0 ? 0 : (size_t)n;
}

static int64_t initial_mid(const char *sym)
{
	/* 1.00000 .. 2.00000 in steps of 0.00001, from the symbol's name (FNV-1a). */
	uint64_t h = 1469598103934665603ull;
	for (const char *p = sym; *p != '\0'; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return VSIM_SCALE + (int64_t)(h % 100000) * 1000;
}

static int price_slot(struct vsim_feed *f, const char *sym)
{
	for (int i = 0; i < f->npx; i++)
		if (strcmp(f->px[i].sym, sym) == 0)
			return i;
	int i = f->npx < 256 ? f->npx++ : 255; /* a full table reuses its last slot */
	size_t n = strlen(sym);
	if (n >= VSIM_SYM_MAX)
		n = VSIM_SYM_MAX - 1;
	memcpy(f->px[i].sym, sym, n);
	f->px[i].sym[n] = '\0';
	f->px[i].mid = initial_mid(f->px[i].sym);
	return i;
}

int64_t vsim_feed_mid(struct vsim_feed *f, const char *sym)
{
	return f->px[price_slot(f, sym)].mid;
}

int64_t vsim_feed_step(struct vsim_feed *f, const char *sym)
{
	int i = price_slot(f, sym);
	/* -3..+3 ticks of 0.00001 */
	int64_t d = (int64_t)(vsim_rand(&f->rng) % 7) - 3;
	int64_t m = f->px[i].mid + d * 1000;
	if (m < 2000)
		m = 2000;
	f->px[i].mid = m;
	return m;
}

int64_t vsim_feed_half_spread(int64_t mid)
{
	(void)mid;
	return 1000; /* 0.00001 either side */
}

static bool eq(const char *s, const char *p, size_t len)
{
	return strlen(s) == len && memcmp(s, p, len) == 0;
}

struct vsim_sub *vsim_feed_find_sub(struct vsim_feed *f, int sess, const char *id, size_t len)
{
	for (int i = 0; i < VSIM_MAX_SUBS; i++)
		if (f->subs[i].used && f->subs[i].sess == sess && eq(f->subs[i].id, id, len))
			return &f->subs[i];
	return NULL;
}

struct vsim_sub *vsim_feed_add_sub(struct vsim_feed *f, int sess, const char *id, size_t len,
				   int64_t now)
{
	if (len == 0 || len >= VSIM_ID_MAX)
		return NULL;
	for (int i = 0; i < VSIM_MAX_SUBS; i++) {
		struct vsim_sub *s = &f->subs[i];
		if (s->used)
			continue;
		memset(s, 0, sizeof(*s));
		s->used = true;
		s->sess = sess;
		memcpy(s->id, id, len);
		s->next_ns = now + f->interval_ns;
		return s;
	}
	return NULL;
}

struct vsim_qstream *vsim_feed_find_quote(struct vsim_feed *f, int sess, const char *req_id,
					  size_t req_len, const char *quote_id, size_t quote_len)
{
	for (int i = 0; i < VSIM_MAX_QUOTES; i++) {
		struct vsim_qstream *q = &f->quotes[i];
		if (!q->used || q->sess != sess)
			continue;
		if (req_id != NULL && eq(q->req_id, req_id, req_len))
			return q;
		if (quote_id != NULL && eq(q->last_quote_id, quote_id, quote_len))
			return q;
	}
	return NULL;
}

struct vsim_qstream *vsim_feed_add_quote(struct vsim_feed *f, int sess, const char *req_id,
					 size_t len, int64_t now)
{
	if (len == 0 || len >= VSIM_ID_MAX)
		return NULL;
	for (int i = 0; i < VSIM_MAX_QUOTES; i++) {
		struct vsim_qstream *q = &f->quotes[i];
		if (q->used)
			continue;
		memset(q, 0, sizeof(*q));
		q->used = true;
		q->sess = sess;
		memcpy(q->req_id, req_id, len);
		q->next_ns = now;
		q->expire_ns = now + (int64_t)VSIM_QUOTE_TTL_S * 1000000000;
		return q;
	}
	return NULL;
}

void vsim_feed_drop_session(struct vsim_feed *f, int sess)
{
	for (int i = 0; i < VSIM_MAX_SUBS; i++)
		if (f->subs[i].sess == sess)
			f->subs[i].used = false;
	for (int i = 0; i < VSIM_MAX_QUOTES; i++)
		if (f->quotes[i].sess == sess)
			f->quotes[i].used = false;
}
