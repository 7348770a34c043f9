/* fixcodec: message filters. Rules (name, tag, regular expression on the tag's value, action)
 * are compiled into one Hyperscan block-mode database per scope (a user, a venue session).
 * Scanning a message reports the first deny and every alert by rule name.
 */
#ifndef FIX_FILTER_H
#define FIX_FILTER_H

#include "fix_msg.h"

enum fix_filter_action { FIX_FILTER_DENY = 0, FIX_FILTER_ALERT = 1 };

struct fix_filter_rule {
	const char *name;
	uint32_t tag;
	const char *regex;       /* PCRE-style, matched against the whole value (anchor it yourself) */
	enum fix_filter_action action;
};

struct fix_filter; /* compiled rule set; immutable once built, so it may be shared read-only */

/* Builds a filter from n rules (copied). Returns NULL on error with a message naming the rule
 * and the problem in errbuf. Allocates (start-up / control path only). */
struct fix_filter *fix_filter_build(const struct fix_filter_rule *rules, size_t n, char *errbuf,
				    size_t errlen);
void fix_filter_free(struct fix_filter *f);
size_t fix_filter_rule_count(const struct fix_filter *f);

/* Per-thread scan scratch (Hyperscan needs one per concurrent scanner); it must have been
 * sized for every filter it is used with (fix_filter_scratch_grow after building a new one). */
struct fix_filter_scratch;
struct fix_filter_scratch *fix_filter_scratch_new(const struct fix_filter *f);
int fix_filter_scratch_grow(struct fix_filter_scratch **s, const struct fix_filter *f);
void fix_filter_scratch_free(struct fix_filter_scratch *s);

#define FIX_FILTER_MAX_ALERTS 16

struct fix_filter_result {
	int deny;                /* index of the first denying rule, -1 if none */
	uint32_t n_alerts;       /* alerts reported (at most FIX_FILTER_MAX_ALERTS are listed) */
	uint32_t alerts[FIX_FILTER_MAX_ALERTS];
};

/* Scans m against f. No allocation. Returns FIX_OK or -1 on a Hyperscan error. */
int fix_filter_scan(const struct fix_filter *f, struct fix_filter_scratch *s,
		    const struct fix_msg *m, struct fix_filter_result *r);
const char *fix_filter_rule_name(const struct fix_filter *f, uint32_t idx);

/* Swapping: a scope holds an atomic pointer to its current filter; a new one is built on the
 * control path, published with fix_filter_swap, and the old one freed once no scanner can use
 * it (the caller's grace period, e.g. after every data core passed a quiescent point). */
struct fix_filter_slot {
	struct fix_filter *_Atomic cur;
};
struct fix_filter *fix_filter_swap(struct fix_filter_slot *slot, struct fix_filter *next);
static inline struct fix_filter *fix_filter_current(struct fix_filter_slot *slot)
{
	return __atomic_load_n((struct fix_filter **)&slot->cur, __ATOMIC_ACQUIRE);
}

#endif
