/* Hyperscan message filters: verdicts, rule order, tag scoping, anchoring, compile errors,
 * swapping under a running scanner. Messages are built field by field here so the tests do
 * not depend on the parser. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fix_filter.h"

#define MAX_FIELDS 64

struct test_msg {
	struct fix_msg m;
	struct fix_field fields[MAX_FIELDS];
	char buf[1024];
};

/* "55=EUR/USD|1=ACC|..." with '|' standing for SOH, except inside values given as \x01. */
static void mk(struct test_msg *t, const char *spec)
{
	size_t len = strlen(spec);

	cr_assert_lt(len, sizeof(t->buf));
	memcpy(t->buf, spec, len + 1);
	memset(&t->m, 0, sizeof(t->m));
	t->m.buf = t->buf;
	t->m.len = (uint32_t)len;
	t->m.fields = t->fields;
	t->m.cap = MAX_FIELDS;
	char *p = t->buf;
	while (*p) {
		char *eq = strchr(p, '=');
		cr_assert_not_null(eq, "bad spec %s", spec);
		char *end = strchr(eq + 1, '|');
		if (!end)
			end = eq + 1 + strlen(eq + 1);
		struct fix_field *f = &t->fields[t->m.nfields++];
		f->tag = (uint32_t)strtoul(p, NULL, 10);
		f->val = eq + 1;
		f->len = (uint32_t)(end - (eq + 1));
		if (*end == '|')
			*end = FIX_SOH;
		p = *end ? end + 1 : end;
	}
}

static struct fix_filter *build_ok(const struct fix_filter_rule *rules, size_t n)
{
	char err[256] = "";
	struct fix_filter *f = fix_filter_build(rules, n, err, sizeof(err));

	cr_assert_not_null(f, "build failed: %s", err);
	return f;
}

static void scan(const struct fix_filter *f, const char *spec, struct fix_filter_result *r)
{
	struct test_msg t;
	struct fix_filter_scratch *s = fix_filter_scratch_new(f);

	cr_assert_not_null(s);
	mk(&t, spec);
	cr_assert_eq(fix_filter_scan(f, s, &t.m, r), FIX_OK);
	fix_filter_scratch_free(s);
}

static const char *build_err(const struct fix_filter_rule *rules, size_t n)
{
	static char err[512];

	err[0] = 0;
	struct fix_filter *f = fix_filter_build(rules, n, err, sizeof(err));
	cr_assert_null(f, "a bad rule set must not build");
	cr_assert_neq(err[0], 0, "a failed build must say why");
	return err;
}

static const char *nos = "8=FIX.4.4|9=60|35=D|49=ALICE|56=LMAX.Orders|11=ORD1|1=ACC7|"
			 "55=EUR/USD|54=1|38=1000000|40=2|44=1.0850|10=000";

Test(filter, deny_reports_the_rule_by_name)
{
	struct fix_filter_rule rules[] = {
		{ "no-usdjpy", 55, "^USD/JPY$", FIX_FILTER_DENY },
		{ "no-eurusd", 55, "^EUR/USD$", FIX_FILTER_DENY },
	};
	struct fix_filter *f = build_ok(rules, 2);
	struct fix_filter_result r;

	scan(f, nos, &r);
	cr_assert_eq(r.deny, 1);
	cr_assert_str_eq(fix_filter_rule_name(f, (uint32_t)r.deny), "no-eurusd");
	cr_assert_eq(r.n_alerts, 0);
	fix_filter_free(f);
}

Test(filter, alert_only_does_not_deny)
{
	struct fix_filter_rule rules[] = {
		{ "big-order", 38, "^[0-9]{7,}$", FIX_FILTER_ALERT },
	};
	struct fix_filter *f = build_ok(rules, 1);
	struct fix_filter_result r;

	scan(f, nos, &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 1);
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[0]), "big-order");
	cr_assert_eq(fix_filter_rule_action(f, r.alerts[0]), FIX_FILTER_ALERT);
	cr_assert_eq(fix_filter_rule_tag(f, r.alerts[0]), 38);
	fix_filter_free(f);
}

Test(filter, no_match_gives_no_verdict)
{
	struct fix_filter_rule rules[] = {
		{ "no-test-accounts", 1, "^TEST", FIX_FILTER_DENY },
		{ "huge", 38, "^[0-9]{10,}$", FIX_FILTER_ALERT },
	};
	struct fix_filter *f = build_ok(rules, 2);
	struct fix_filter_result r;

	scan(f, nos, &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 0);
	fix_filter_free(f);
}

Test(filter, first_deny_in_rule_order_wins_whatever_the_field_order)
{
	/* 55 comes after 1 in the message, but the 55 rule is listed first. */
	struct fix_filter_rule rules[] = {
		{ "watch", 11, "ORD", FIX_FILTER_ALERT },
		{ "deny-symbol", 55, "EUR", FIX_FILTER_DENY },
		{ "deny-account", 1, "^ACC", FIX_FILTER_DENY },
	};
	struct fix_filter *f = build_ok(rules, 3);
	struct fix_filter_result r;

	scan(f, nos, &r);
	cr_assert_eq(r.deny, 1);
	cr_assert_str_eq(fix_filter_rule_name(f, 1), "deny-symbol");
	cr_assert_eq(r.n_alerts, 1, "alerts are reported even when a deny matched");
	fix_filter_free(f);

	struct fix_filter_rule swapped[] = { rules[0], rules[2], rules[1] };
	f = build_ok(swapped, 3);
	scan(f, nos, &r);
	cr_assert_str_eq(fix_filter_rule_name(f, (uint32_t)r.deny), "deny-account");
	fix_filter_free(f);
}

Test(filter, multiple_alerts_each_once_in_rule_order)
{
	struct fix_filter_rule rules[] = {
		{ "party-x", 448, "X", FIX_FILTER_ALERT },    /* matches twice in the group */
		{ "not-me", 55, "GBP", FIX_FILTER_ALERT },
		{ "limit", 40, "^2$", FIX_FILTER_ALERT },
		{ "sender", 49, "^ALI", FIX_FILTER_ALERT },
	};
	struct fix_filter *f = build_ok(rules, 4);
	struct fix_filter_result r;

	scan(f, "8=FIX.4.4|35=D|49=ALICE|55=EUR/USD|40=2|453=2|448=XA|447=D|448=XB|447=D|10=0",
	     &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 3);
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[0]), "party-x");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[1]), "limit");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[2]), "sender");
	fix_filter_free(f);
}

Test(filter, more_alerts_than_listed_are_counted_and_the_lowest_listed)
{
	enum { N = FIX_FILTER_MAX_ALERTS + 9 };
	struct fix_filter_rule rules[N];
	char names[N][16];

	/* Highest indexes on the earliest field, so insertion order differs from rule order. */
	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "a%d", i);
		rules[i] = (struct fix_filter_rule){ names[i], i < N / 2 ? 55u : 11u, ".",
						     FIX_FILTER_ALERT };
	}
	struct fix_filter *f = build_ok(rules, N);
	struct fix_filter_result r;

	scan(f, nos, &r);
	cr_assert_eq(r.n_alerts, N);
	for (uint32_t i = 0; i < FIX_FILTER_MAX_ALERTS; i++)
		cr_assert_eq(r.alerts[i], i);
	fix_filter_free(f);
}

Test(filter, a_rule_only_fires_on_its_own_tag)
{
	struct fix_filter_rule rules[] = {
		{ "eur-symbol", 55, "^EUR$", FIX_FILTER_DENY },
		{ "acc7-on-text", 58, "ACC7", FIX_FILTER_DENY },
	};
	struct fix_filter *f = build_ok(rules, 2);
	struct fix_filter_result r;

	/* Tag 1 carries exactly what both rules look for, on other tags. */
	scan(f, "8=FIX.4.4|35=D|1=EUR|11=ACC7|55=GBP|10=0", &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 0);
	scan(f, "8=FIX.4.4|35=D|1=ACC7|55=EUR|10=0", &r);
	cr_assert_eq(r.deny, 0);
	fix_filter_free(f);
}

Test(filter, large_user_defined_tags_are_scoped_too)
{
	struct fix_filter_rule rules[] = {
		{ "custom", 20001, "^X", FIX_FILTER_DENY },
		{ "custom2", 70000, "Y$", FIX_FILTER_ALERT },
	};
	struct fix_filter *f = build_ok(rules, 2);
	struct fix_filter_result r;

	scan(f, "35=D|20002=X|69999=Y|70001=Y|10=0", &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 0);
	scan(f, "35=D|20001=XA|70000=AY|10=0", &r);
	cr_assert_eq(r.deny, 0);
	cr_assert_eq(r.n_alerts, 1);
	fix_filter_free(f);
}

Test(filter, no_filter_means_no_verdict)
{
	struct test_msg t;
	struct fix_filter_result r;

	mk(&t, nos);
	cr_assert_eq(fix_filter_scan(NULL, NULL, &t.m, &r), FIX_OK);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 0);
}

Test(filter, anchors_mean_the_value_boundaries)
{
	struct fix_filter_rule rules[] = {
		{ "exact", 55, "^EUR$", FIX_FILTER_ALERT },
		{ "starts", 55, "^EUR", FIX_FILTER_ALERT },
		{ "ends-usd", 55, "USD$", FIX_FILTER_ALERT },
		{ "starts-usd", 55, "^USD", FIX_FILTER_ALERT },
		{ "ends-eur", 55, "EUR$", FIX_FILTER_ALERT },
		{ "inside", 55, "R/U", FIX_FILTER_ALERT },
	};
	struct fix_filter *f = build_ok(rules, 6);
	struct fix_filter_result r;

	scan(f, "35=D|55=EUR/USD|10=0", &r);
	cr_assert_eq(r.n_alerts, 3);
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[0]), "starts");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[1]), "ends-usd");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[2]), "inside");
	/* Neighbouring fields never make an anchored rule match. */
	scan(f, "35=D|1=X|55=EUR|56=USD|10=0", &r);
	cr_assert_eq(r.n_alerts, 3);
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[0]), "exact");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[1]), "starts");
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[2]), "ends-eur");
	fix_filter_free(f);
}

Test(filter, data_values_with_soh_are_scanned_whole)
{
	struct fix_filter_rule rules[] = {
		{ "raw-secret", 96, "^ab\\x01cd$", FIX_FILTER_DENY },
	};
	struct fix_filter *f = build_ok(rules, 1);
	struct fix_filter_result r;
	struct test_msg t;
	struct fix_filter_scratch *s = fix_filter_scratch_new(f);

	mk(&t, "35=D|95=5|96=abXcd|10=0");
	((char *)t.fields[2].val)[2] = FIX_SOH; /* the data value holds an SOH */
	cr_assert_eq(fix_filter_scan(f, s, &t.m, &r), FIX_OK);
	cr_assert_eq(r.deny, 0);
	fix_filter_scratch_free(s);
	fix_filter_free(f);
}

Test(filter, compile_error_names_the_rule_and_the_problem)
{
	struct fix_filter_rule rules[] = {
		{ "fine", 55, "^EUR", FIX_FILTER_DENY },
		{ "broken-class", 58, "([a-z", FIX_FILTER_ALERT },
	};
	const char *err = build_err(rules, 2);
	cr_assert(strstr(err, "broken-class"), "%s", err);
	cr_assert(strstr(err, "tag 58"), "%s", err);
	cr_assert(strstr(err, "([a-z"), "%s", err);

	struct fix_filter_rule backref[] = { { "twice", 11, "(a)\\1", FIX_FILTER_DENY } };
	err = build_err(backref, 1);
	cr_assert(strstr(err, "twice"), "%s", err);
	cr_assert(strstr(err, "Back-reference"), "Hyperscan's reason is kept: %s", err);
}

Test(filter, malformed_rules_are_refused_by_name)
{
	struct fix_filter_rule no_tag[] = { { "zero", 0, "x", FIX_FILTER_DENY } };
	cr_assert(strstr(build_err(no_tag, 1), "'zero'"));
	struct fix_filter_rule empty[] = { { "nothing", 55, "", FIX_FILTER_DENY } };
	cr_assert(strstr(build_err(empty, 1), "'nothing'"));
	struct fix_filter_rule nameless[] = { { "ok", 1, "x", FIX_FILTER_DENY },
					      { "", 55, "x", FIX_FILTER_DENY } };
	cr_assert(strstr(build_err(nameless, 2), "#1"));
	struct fix_filter_rule twice[] = { { "dup", 1, "x", FIX_FILTER_DENY },
					   { "dup", 55, "y", FIX_FILTER_ALERT } };
	cr_assert(strstr(build_err(twice, 2), "'dup'"));
	struct fix_filter_rule action[] = { { "odd", 1, "x", (enum fix_filter_action)7 } };
	cr_assert(strstr(build_err(action, 1), "'odd'"));
}

Test(filter, empty_rule_set_builds_and_never_matches)
{
	struct fix_filter *f = build_ok(NULL, 0);
	struct fix_filter_result r = { .deny = 5, .n_alerts = 9 };

	cr_assert_eq(fix_filter_rule_count(f), 0);
	cr_assert_null(fix_filter_rule_name(f, 0));
	scan(f, nos, &r);
	cr_assert_eq(r.deny, -1);
	cr_assert_eq(r.n_alerts, 0);
	fix_filter_free(f);
}

Test(filter, scratch_too_small_for_a_filter_is_an_error_not_a_crash)
{
	struct fix_filter_rule one[] = { { "one", 55, "EUR", FIX_FILTER_DENY } };
	enum { N = 40 };
	struct fix_filter_rule many[N];
	char names[N][16], exprs[N][32];

	for (int i = 0; i < N; i++) {
		snprintf(names[i], sizeof(names[i]), "r%d", i);
		snprintf(exprs[i], sizeof(exprs[i]), "^(a|b)*c[0-9]{%d}x", i + 1);
		many[i] = (struct fix_filter_rule){ names[i], 55, exprs[i], FIX_FILTER_DENY };
	}
	struct fix_filter *small = build_ok(one, 1), *big = build_ok(many, N);
	struct fix_filter_scratch *s = fix_filter_scratch_new(small);
	struct fix_filter_result r;
	struct test_msg t;

	mk(&t, nos);
	cr_assert_not(fix_filter_scratch_fits(s, big));
	cr_assert_eq(fix_filter_scan(big, s, &t.m, &r), -1);
	cr_assert_eq(fix_filter_scratch_grow(&s, big), 0);
	cr_assert(fix_filter_scratch_fits(s, big));
	cr_assert(fix_filter_scratch_fits(s, small), "growing keeps the old filter usable");
	cr_assert_eq(fix_filter_scan(big, s, &t.m, &r), FIX_OK);
	cr_assert_eq(fix_filter_scan(small, s, &t.m, &r), FIX_OK);
	cr_assert_eq(r.deny, 0);
	fix_filter_scratch_free(s);
	fix_filter_free(small);
	fix_filter_free(big);
}

/* The filter on what fix_parse produces from wire bytes (framing fields, a group, a data
 * field holding SOH), as the client lcore will use it. */
Test(filter, scans_a_message_parsed_from_the_wire)
{
	static const char body[] = "35=D\00149=ALICE\00156=LMAX.Orders\00134=7\001"
				   "52=20261126-12:00:00.000\00111=ORD1\00155=EUR/USD\00154=1\001"
				   "38=100\00140=1\00160=20261126-12:00:00.000\001453=2\001"
				   "448=GOOD\001447=D\001452=3\001448=EVILCORP\001447=D\001452=3\001"
				   "95=4\00196=a\001bc\001";
	char wire[512];
	int n = snprintf(wire, sizeof(wire), "8=FIX.4.4\0019=%zu\001%s", sizeof(body) - 1, body);
	unsigned sum = 0;
	for (int i = 0; i < n; i++)
		sum += (unsigned char)wire[i];
	n += snprintf(wire + n, sizeof(wire) - (size_t)n, "10=%03u\001", sum % 256);

	struct fix_field fields[64];
	struct fix_msg m = { .fields = fields, .cap = 64 };
	cr_assert_eq(fix_parse(&m, wire, (size_t)n), FIX_OK);

	struct fix_filter_rule rules[] = {
		{ "evil-party", 448, "^EVIL", FIX_FILTER_DENY },
		{ "raw-with-soh", 96, "a\\x01b", FIX_FILTER_ALERT },
		{ "wrong-sender", 49, "^BOB$", FIX_FILTER_DENY },
	};
	struct fix_filter *f = build_ok(rules, 3);
	struct fix_filter_scratch *s = fix_filter_scratch_new(f);
	struct fix_filter_result r;
	cr_assert_eq(fix_filter_scan(f, s, &m, &r), FIX_OK);
	cr_assert_eq(r.deny, 0, "the second group entry's party is denied");
	cr_assert_eq(r.n_alerts, 1);
	cr_assert_str_eq(fix_filter_rule_name(f, r.alerts[0]), "raw-with-soh");
	fix_filter_scratch_free(s);
	fix_filter_free(f);
}

/* ---- swap while a scanner thread keeps scanning ---- */

struct swap_ctx {
	struct fix_filter_slot slot;
	struct fix_filter_scratch *s;
	struct test_msg t;
	atomic_bool stop;
	atomic_ulong done;        /* scans finished: the scanner's quiescent points */
	atomic_int last_kind;     /* 0: saw the deny filter, 1: the alert filter */
	atomic_ulong wrong;       /* verdicts that fit neither filter, or scan errors */
};

static void *scanner(void *arg)
{
	struct swap_ctx *c = arg;
	struct fix_filter_result r;

	while (!atomic_load(&c->stop)) {
		const struct fix_filter *f = fix_filter_current(&c->slot);
		int kind = fix_filter_rule_action(f, 0) == FIX_FILTER_DENY ? 0 : 1;
		bool ok = fix_filter_scan(f, c->s, &c->t.m, &r) == FIX_OK &&
			  (kind == 0 ? r.deny == 0 && r.n_alerts == 0
				     : r.deny == -1 && r.n_alerts == 1);
		if (!ok)
			atomic_fetch_add(&c->wrong, 1);
		atomic_store(&c->last_kind, kind);
		atomic_fetch_add(&c->done, 1);
	}
	return NULL;
}

static struct fix_filter *kind_filter(int kind)
{
	struct fix_filter_rule deny[] = { { "sym", 55, "^EUR/", FIX_FILTER_DENY },
					  { "acct", 1, "^ZZZ", FIX_FILTER_ALERT } };
	struct fix_filter_rule alert[] = { { "sym", 55, "^EUR/", FIX_FILTER_ALERT },
					   { "acct", 1, "^ZZZ", FIX_FILTER_DENY } };
	return build_ok(kind ? alert : deny, 2);
}

Test(filter, swap_while_scanning_keeps_serving_and_takes_effect, .timeout = 60)
{
	static struct swap_ctx c;
	pthread_t th;

	mk(&c.t, nos);
	struct fix_filter *cur = kind_filter(0);
	c.s = fix_filter_scratch_new(cur);
	cr_assert_not_null(c.s);
	c.slot.cur = cur;
	cr_assert_eq(pthread_create(&th, NULL, scanner, &c), 0);

	for (int round = 1; round <= 40; round++) {
		int kind = round & 1;
		/* Built while the old filter keeps serving. */
		struct fix_filter *next = kind_filter(kind);
		/* The same rule shapes need no more scratch, so the scanner's own fits. */
		cr_assert(fix_filter_scratch_fits(c.s, next));
		struct fix_filter *old = fix_filter_swap(&c.slot, next);
		cr_assert_eq(old, cur);
		cur = next;
		/* Grace period: two finished scans after the swap mean the one in flight at the
		 * swap is over and a later one has begun and ended. */
		unsigned long seen = atomic_load(&c.done);
		while (atomic_load(&c.done) < seen + 2)
			sched_yield();
		fix_filter_free(old);
		cr_assert_eq(atomic_load(&c.last_kind), kind, "round %d: the swap took effect",
			     round);
	}
	atomic_store(&c.stop, true);
	pthread_join(th, NULL);
	cr_assert_eq(atomic_load(&c.wrong), 0);
	cr_assert_gt(atomic_load(&c.done), 80);
	fix_filter_free(cur);
	fix_filter_scratch_free(c.s);
}
