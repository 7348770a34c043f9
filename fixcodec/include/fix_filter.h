/* fixcodec: message filters. Rules (name, tag, regular expression on the tag's value, action)
 * are compiled into one Hyperscan block-mode database per scope (a user, a venue session).
 * Scanning a message reports the first deny and every alert by rule name.
 *
 * Design (measured in bench/filter, see docs/fixcodec.md "Filters"): every rule's expression is
 * compiled verbatim into ONE database; a message is scanned with one hs_scan per field whose
 * tag has at least one rule (a bitmap says which), and the match callback drops matches of
 * rules that belong to another tag. Scanning the value alone keeps the rule's own ^ and $
 * meaning "start/end of the value", which no tag prefix in front of the expression can do.
 * The cost therefore grows with the number of filtered fields in the message, and only
 * slightly with the number of rules.
 */
#ifndef FIX_FILTER_H
#define FIX_FILTER_H

#include "fix_msg.h"

enum fix_filter_action { FIX_FILTER_DENY = 0, FIX_FILTER_ALERT = 1 };

struct fix_filter_rule {
	const char *name;
	uint32_t tag;
	/* Hyperscan (PCRE subset) syntax, searched for anywhere in the value: anchor it yourself
	 * with ^ and $, which mean the start and end of the value. '.' does not match a line
	 * feed. Back-references and look-around are not supported (a compile error says so). An
	 * expression that can match the empty string matches every value of its tag. */
	const char *regex;
	enum fix_filter_action action;
};

struct fix_filter; /* compiled rule set; immutable once built, so it may be shared read-only */

/* Most rules one filter may hold. */
#define FIX_FILTER_MAX_RULES 100000u

/* Builds a filter from n rules (copied; n may be 0: a filter that never matches). Returns NULL
 * on error with a message naming the rule and the problem in errbuf ("filter rule 'x' (#3,
 * tag 55): ..."): no name, duplicate name, tag 0, empty or invalid expression, unknown action.
 * Allocates (start-up / control path only). */
struct fix_filter *fix_filter_build(const struct fix_filter_rule *rules, size_t n, char *errbuf,
				    size_t errlen);
void fix_filter_free(struct fix_filter *f);
size_t fix_filter_rule_count(const struct fix_filter *f);

/* Per-thread scan scratch (Hyperscan needs one per concurrent scanner); it must have been
 * sized for every filter it is used with. fix_filter_scratch_grow resizes s in place (it may
 * replace *s) so that it also fits f; it must not run while s is in use by a scan. To prepare
 * a data core for a new filter without touching its scratch, the control path makes a fresh
 * one that fits both the old and the new filter (scratch_new(old) then scratch_grow(&s, new))
 * and hands it over through the core's request ring before swapping. 0 on success, -1 on
 * allocation failure (s unchanged). */
struct fix_filter_scratch;
struct fix_filter_scratch *fix_filter_scratch_new(const struct fix_filter *f);
int fix_filter_scratch_grow(struct fix_filter_scratch **s, const struct fix_filter *f);
void fix_filter_scratch_free(struct fix_filter_scratch *s);
/* true if s may be used to scan with f. Control path only: it allocates a probe scratch. */
bool fix_filter_scratch_fits(const struct fix_filter_scratch *s, const struct fix_filter *f);

#define FIX_FILTER_MAX_ALERTS 16

struct fix_filter_result {
	/* The first denying rule in rule order (the rule list is the priority order, as in a
	 * firewall) among those that matched, -1 if none. */
	int deny;
	/* Distinct alert rules that matched (each rule counts once per message, however many of
	 * its tag's fields matched). The lowest FIX_FILTER_MAX_ALERTS of them, by rule index, are
	 * listed in alerts[] in ascending order. */
	uint32_t n_alerts;
	uint32_t alerts[FIX_FILTER_MAX_ALERTS];
};

/* Scans every field of m (header, body and trailer) against f; f may be NULL (no filter: no
 * verdict), s may then be NULL too. No allocation, no locks.
 * Returns FIX_OK, or -1 when s does not fit f or Hyperscan fails (r then says nothing). */
int fix_filter_scan(const struct fix_filter *f, struct fix_filter_scratch *s,
		    const struct fix_msg *m, struct fix_filter_result *r);
const char *fix_filter_rule_name(const struct fix_filter *f, uint32_t idx);
uint32_t fix_filter_rule_tag(const struct fix_filter *f, uint32_t idx);
enum fix_filter_action fix_filter_rule_action(const struct fix_filter *f, uint32_t idx);

/* Swapping: a scope holds an atomic pointer to its current filter; a new one is built on the
 * control path (the old one keeps serving meanwhile), published with fix_filter_swap, which
 * returns the previous filter. Grace period: the previous filter may be freed only once every
 * scanner that might have loaded it has finished that scan, i.e. each scanning thread has
 * passed a quiescent point (between two messages) after the swap; DPDK's rte_rcu_qsbr or a
 * per-core "messages done" counter observed to advance serve. Scanners load the pointer once
 * per message with fix_filter_current and never keep it across messages. */
struct fix_filter_slot {
	struct fix_filter *_Atomic cur;
};
struct fix_filter *fix_filter_swap(struct fix_filter_slot *slot, struct fix_filter *next);
static inline struct fix_filter *fix_filter_current(struct fix_filter_slot *slot)
{
	return __atomic_load_n((struct fix_filter **)&slot->cur, __ATOMIC_ACQUIRE);
}

#endif
