/* fixcodec: Hyperscan message filters (see fix_filter.h for the design and its reasons). */
#include "fix_filter.h"

#include <hs/hs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Tags below this are looked up in a bitmap (2 KiB: every standard tag and the user-defined
 * range 5000-9999); rarer larger tags in a sorted array. */
#define TAG_BITS 16384u

/* What the match callback needs of a rule, kept apart from the cold names. */
struct rule_hot {
	uint32_t tag;
	uint32_t action;
};

struct fix_filter {
	hs_database_t *db;       /* NULL when there are no rules */
	uint32_t n;
	struct rule_hot *hot;    /* n entries */
	char **names;            /* n entries, each its own copy */
	uint32_t *big_tags;      /* sorted distinct tags >= TAG_BITS */
	uint32_t n_big;
	uint64_t tag_bits[TAG_BITS / 64];
};

struct fix_filter_scratch {
	hs_scratch_t *hs;        /* NULL until a filter with rules needs one */
	/* stamp[i] == gen means rule i already reported in the current message: a per-message
	 * "seen" set without clearing it between messages. */
	uint32_t *stamp;
	uint32_t cap;
	uint32_t gen;
};

__attribute__((format(printf, 3, 4))) static void set_err(char *errbuf, size_t errlen,
							     const char *fmt, ...)
{
	va_list ap;

	if (!errbuf || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(errbuf, errlen, fmt, ap);
	va_end(ap);
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static bool tag_wanted(const struct fix_filter *f, uint32_t tag)
{
	if (tag < TAG_BITS)
		return (f->tag_bits[tag / 64] >> (tag % 64)) & 1;
	uint32_t lo = 0, hi = f->n_big;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (f->big_tags[mid] == tag)
			return true;
		if (f->big_tags[mid] < tag)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

static int check_rules(const struct fix_filter_rule *rules, size_t n, char *errbuf,
		       size_t errlen)
{
	if (n > FIX_FILTER_MAX_RULES) {
		set_err(errbuf, errlen, "filter: %zu rules, at most %u allowed", n,
			FIX_FILTER_MAX_RULES);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		const struct fix_filter_rule *r = &rules[i];
		if (!r->name || !r->name[0]) {
			set_err(errbuf, errlen, "filter rule #%zu (tag %u): the rule has no name",
				i, r->tag);
			return -1;
		}
		if (r->tag == 0) {
			set_err(errbuf, errlen,
				"filter rule '%s' (#%zu): tag must be a positive integer", r->name,
				i);
			return -1;
		}
		if (!r->regex || !r->regex[0]) {
			set_err(errbuf, errlen,
				"filter rule '%s' (#%zu, tag %u): empty regular expression",
				r->name, i, r->tag);
			return -1;
		}
		if (r->action != FIX_FILTER_DENY && r->action != FIX_FILTER_ALERT) {
			set_err(errbuf, errlen,
				"filter rule '%s' (#%zu, tag %u): action must be deny or alert",
				r->name, i, r->tag);
			return -1;
		}
	}
	/* Duplicate names would make a verdict ambiguous to the operator reading it. Sorting
	 * the name pointers keeps this O(n log n) for large rule sets. */
	if (n > 1) {
		const char **sorted = malloc(n * sizeof(*sorted));
		if (!sorted) {
			set_err(errbuf, errlen, "filter: out of memory");
			return -1;
		}
		for (size_t i = 0; i < n; i++)
			sorted[i] = rules[i].name;
		qsort(sorted, n, sizeof(*sorted), cmp_str);
		for (size_t i = 1; i < n; i++) {
			if (strcmp(sorted[i - 1], sorted[i]) == 0) {
				set_err(errbuf, errlen,
					"filter rule '%s': the name is used by more than one rule",
					sorted[i]);
				free(sorted);
				return -1;
			}
		}
		free(sorted);
	}
	return 0;
}

static void filter_free_parts(struct fix_filter *f)
{
	if (f->names)
		for (uint32_t i = 0; i < f->n; i++)
			free(f->names[i]);
	free(f->names);
	free(f->hot);
	free(f->big_tags);
	if (f->db)
		hs_free_database(f->db);
	free(f);
}

static int compile_db(struct fix_filter *f, const struct fix_filter_rule *rules, size_t n,
		      char *errbuf, size_t errlen)
{
	const char **exprs = malloc(n * sizeof(*exprs));
	unsigned *flags = malloc(n * sizeof(*flags));
	unsigned *ids = malloc(n * sizeof(*ids));
	hs_compile_error_t *cerr = NULL;
	int rc = -1;

	if (!exprs || !flags || !ids) {
		set_err(errbuf, errlen, "filter: out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		exprs[i] = rules[i].regex;
		/* SINGLEMATCH: a rule is a yes/no question per value, so one report is enough
		 * and spares the callback. ALLOWEMPTY: an expression such as "x*" matches every
		 * value, as POSIX regexec would say, instead of failing to compile. */
		flags[i] = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;
		ids[i] = (unsigned)i;
	}
	if (hs_compile_multi(exprs, flags, ids, (unsigned)n, HS_MODE_BLOCK, NULL, &f->db,
			     &cerr) != HS_SUCCESS) {
		if (cerr && cerr->expression >= 0 && (size_t)cerr->expression < n) {
			const struct fix_filter_rule *r = &rules[cerr->expression];
			set_err(errbuf, errlen, "filter rule '%s' (#%d, tag %u): bad expression "
				"\"%s\": %s", r->name, cerr->expression, r->tag, r->regex,
				cerr->message);
		} else {
			set_err(errbuf, errlen, "filter: the rule set does not compile: %s",
				cerr ? cerr->message : "unknown Hyperscan error");
		}
		f->db = NULL;
		goto out;
	}
	rc = 0;
out:
	if (cerr)
		hs_free_compile_error(cerr);
	free(exprs);
	free(flags);
	free(ids);
	return rc;
}

static int index_tags(struct fix_filter *f)
{
	uint32_t *big = malloc((f->n ? f->n : 1) * sizeof(*big));
	uint32_t nb = 0;

	if (!big)
		return -1;
	for (uint32_t i = 0; i < f->n; i++) {
		uint32_t tag = f->hot[i].tag;
		if (tag < TAG_BITS)
			f->tag_bits[tag / 64] |= (uint64_t)1 << (tag % 64);
		else
			big[nb++] = tag;
	}
	qsort(big, nb, sizeof(*big), cmp_u32);
	uint32_t k = 0;
	for (uint32_t i = 0; i < nb; i++)
		if (k == 0 || big[k - 1] != big[i])
			big[k++] = big[i];
	f->big_tags = big;
	f->n_big = k;
	return 0;
}

struct fix_filter *fix_filter_build(const struct fix_filter_rule *rules, size_t n, char *errbuf,
				    size_t errlen)
{
	struct fix_filter *f;

	if (n > 0 && !rules) {
		set_err(errbuf, errlen, "filter: %zu rules but no rule array", n);
		return NULL;
	}
	if (check_rules(rules, n, errbuf, errlen) != 0)
		return NULL;
	f = calloc(1, sizeof(*f));
	if (!f) {
		set_err(errbuf, errlen, "filter: out of memory");
		return NULL;
	}
	f->n = (uint32_t)n;
	f->hot = calloc(n ? n : 1, sizeof(*f->hot));
	f->names = calloc(n ? n : 1, sizeof(*f->names));
	if (!f->hot || !f->names)
		goto oom;
	for (size_t i = 0; i < n; i++) {
		f->hot[i].tag = rules[i].tag;
		f->hot[i].action = (uint32_t)rules[i].action;
		f->names[i] = strdup(rules[i].name);
		if (!f->names[i])
			goto oom;
	}
	if (index_tags(f) != 0)
		goto oom;
	if (n > 0 && compile_db(f, rules, n, errbuf, errlen) != 0) {
		filter_free_parts(f);
		return NULL;
	}
	return f;
oom:
	set_err(errbuf, errlen, "filter: out of memory");
	filter_free_parts(f);
	return NULL;
}

void fix_filter_free(struct fix_filter *f)
{
	if (f)
		filter_free_parts(f);
}

size_t fix_filter_rule_count(const struct fix_filter *f)
{
	return f ? f->n : 0;
}

const char *fix_filter_rule_name(const struct fix_filter *f, uint32_t idx)
{
	return f && idx < f->n ? f->names[idx] : NULL;
}

uint32_t fix_filter_rule_tag(const struct fix_filter *f, uint32_t idx)
{
	return f && idx < f->n ? f->hot[idx].tag : 0;
}

enum fix_filter_action fix_filter_rule_action(const struct fix_filter *f, uint32_t idx)
{
	return f && idx < f->n ? (enum fix_filter_action)f->hot[idx].action : FIX_FILTER_ALERT;
}

/* ------------------------------------------------------------------------------------------ */

struct fix_filter_scratch *fix_filter_scratch_new(const struct fix_filter *f)
{
	struct fix_filter_scratch *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->gen = 1;
	if (f && fix_filter_scratch_grow(&s, f) != 0) {
		fix_filter_scratch_free(s);
		return NULL;
	}
	return s;
}

int fix_filter_scratch_grow(struct fix_filter_scratch **sp, const struct fix_filter *f)
{
	struct fix_filter_scratch *s = *sp;

	if (!f)
		return 0;
	if (f->n > s->cap) {
		uint32_t *stamp = calloc(f->n, sizeof(*stamp));
		if (!stamp)
			return -1;
		/* Fresh stamps are 0 and gen never is, so nothing counts as seen. */
		free(s->stamp);
		s->stamp = stamp;
		s->cap = f->n;
	}
	/* hs_alloc_scratch keeps the scratch when it is already large enough and otherwise
	 * replaces it with one that fits both its old databases and this one. */
	if (f->db && hs_alloc_scratch(f->db, &s->hs) != HS_SUCCESS)
		return -1;
	return 0;
}

void fix_filter_scratch_free(struct fix_filter_scratch *s)
{
	if (!s)
		return;
	if (s->hs)
		hs_free_scratch(s->hs);
	free(s->stamp);
	free(s);
}

bool fix_filter_scratch_fits(const struct fix_filter_scratch *s, const struct fix_filter *f)
{
	size_t need, have;

	if (!s || !f)
		return false;
	if (f->n > s->cap)
		return false;
	if (!f->db)
		return true;
	if (!s->hs || hs_scratch_size(s->hs, &have) != HS_SUCCESS)
		return false;
	/* A scratch allocated for this database alone is the size it needs; Hyperscan checks
	 * the finer per-engine requirements itself on every scan and fails the scan instead. */
	hs_scratch_t *probe = NULL;
	if (hs_alloc_scratch(f->db, &probe) != HS_SUCCESS)
		return false;
	bool ok = hs_scratch_size(probe, &need) == HS_SUCCESS && have >= need;
	hs_free_scratch(probe);
	return ok;
}

/* ------------------------------------------------------------------------------------------ */

struct scan_ctx {
	const struct fix_filter *f;
	struct fix_filter_scratch *s;
	struct fix_filter_result *r;
	uint32_t tag;
};

static void add_alert(struct fix_filter_result *r, uint32_t id)
{
	uint32_t listed = r->n_alerts < FIX_FILTER_MAX_ALERTS ? r->n_alerts
							       : FIX_FILTER_MAX_ALERTS;

	r->n_alerts++;
	/* Keep the lowest-indexed alerts, sorted: insert, dropping the largest when full. */
	if (listed == FIX_FILTER_MAX_ALERTS) {
		if (id > r->alerts[listed - 1])
			return;
		listed--;
	}
	uint32_t i = listed;
	while (i > 0 && r->alerts[i - 1] > id) {
		r->alerts[i] = r->alerts[i - 1];
		i--;
	}
	r->alerts[i] = id;
}

static int on_match(unsigned id, unsigned long long from, unsigned long long to,
		    unsigned flags, void *arg)
{
	struct scan_ctx *c = arg;
	const struct rule_hot *rule = &c->f->hot[id];

	(void)from;
	(void)to;
	(void)flags;
	/* The database holds every tag's rules; a match of another tag's rule means nothing
	 * for this field. */
	if (rule->tag != c->tag)
		return 0;
	if (c->s->stamp[id] == c->s->gen)
		return 0;
	c->s->stamp[id] = c->s->gen;
	if (rule->action == FIX_FILTER_DENY) {
		if (c->r->deny < 0 || id < (unsigned)c->r->deny)
			c->r->deny = (int)id;
	} else {
		add_alert(c->r, id);
	}
	return 0;
}

int fix_filter_scan(const struct fix_filter *f, struct fix_filter_scratch *s,
		    const struct fix_msg *m, struct fix_filter_result *r)
{
	struct scan_ctx c = { .f = f, .s = s, .r = r };

	r->deny = -1;
	r->n_alerts = 0;
	if (!f || !f->db) /* a scope without filters, or an empty rule set */
		return FIX_OK;
	if (!s->hs || f->n > s->cap)
		return -1;
	if (++s->gen == 0) {
		/* Wrapped after 2^32 messages: forget every old stamp once. */
		memset(s->stamp, 0, s->cap * sizeof(*s->stamp));
		s->gen = 1;
	}
	for (uint32_t i = 0; i < m->nfields; i++) {
		const struct fix_field *fld = &m->fields[i];
		if (!tag_wanted(f, fld->tag))
			continue;
		c.tag = fld->tag;
		if (hs_scan(f->db, fld->val, fld->len, 0, s->hs, on_match, &c) != HS_SUCCESS)
			return -1;
	}
	return FIX_OK;
}

struct fix_filter *fix_filter_swap(struct fix_filter_slot *slot, struct fix_filter *next)
{
	return __atomic_exchange_n((struct fix_filter **)&slot->cur, next, __ATOMIC_ACQ_REL);
}
