/* Routing table: ownership of IDs, eviction, refseq mapping, venue message routing and
 * rebuilding from journal records.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_route.h"
#include "fix_encode.h"

struct built {
	char buf[1024];
	struct fix_field fields[64];
	struct fix_msg m;
};

/* Builds and parses a FIX.4.4 message of type t whose body is given with '|' for SOH. */
static struct fix_msg *build(struct built *b, const char *t, const char *body)
{
	char raw[512];
	size_t n = strlen(body);
	cr_assert(n < sizeof(raw));
	for (size_t i = 0; i < n; i++)
		raw[i] = body[i] == '|' ? FIX_SOH : body[i];
	struct fix_encoder e;
	fix_enc_begin(&e, b->buf, sizeof(b->buf), FIX_VER_44, t, NULL);
	fix_enc_cstr(&e, 49, "VENUE");
	fix_enc_cstr(&e, 56, "FIXMUX");
	fix_enc_uint(&e, 34, 7);
	fix_enc_time(&e, 52, 1700000000000000000LL, FIX_TIME_MS);
	fix_enc_raw(&e, raw, n);
	char *out;
	size_t len = fix_enc_finish(&e, &out);
	cr_assert(len > 0);
	b->m.fields = b->fields;
	b->m.cap = 64;
	cr_assert_eq(fix_parse(&b->m, out, len), FIX_OK);
	return &b->m;
}

Test(route, claim_own_other_and_too_long)
{
	struct ctl_route *r = ctl_route_create(16, 16);
	uint16_t owner = 99;
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, "ord1", 4, 1, &owner), CTL_CLAIM_NEW);
	cr_assert_eq(owner, 1);
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, "ord1", 4, 1, &owner), CTL_CLAIM_OWN);
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, "ord1", 4, 2, &owner), CTL_CLAIM_OTHER);
	cr_assert_eq(owner, 1, "the conflict names the owner");
	/* The same text as another kind of key is a different key. */
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_MDREQID, "ord1", 4, 2, &owner), CTL_CLAIM_NEW);
	char longid[CTL_ROUTE_ID_MAX + 1];
	memset(longid, 'x', sizeof(longid));
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, longid, sizeof(longid), 1, NULL),
		     CTL_CLAIM_TOO_LONG);
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, longid, CTL_ROUTE_ID_MAX, 1, NULL),
		     CTL_CLAIM_NEW);
	struct ctl_route_stats st;
	ctl_route_get_stats(r, &st);
	cr_assert_eq(st.ids, 3);
	cr_assert_eq(st.conflicts, 1);
	ctl_route_destroy(r);
}

Test(route, release_then_another_user_may_claim)
{
	struct ctl_route *r = ctl_route_create(16, 16);
	ctl_route_claim(r, CTL_KEY_MDREQID, "md-1", 4, 3, NULL);
	cr_assert_eq(ctl_route_lookup(r, CTL_KEY_MDREQID, "md-1", 4), 3);
	ctl_route_release(r, CTL_KEY_MDREQID, "md-1", 4);
	cr_assert_eq(ctl_route_lookup(r, CTL_KEY_MDREQID, "md-1", 4), CTL_ROUTE_NO_USER);
	cr_assert_eq(ctl_route_claim(r, CTL_KEY_MDREQID, "md-1", 4, 4, NULL), CTL_CLAIM_NEW);
	ctl_route_release(r, CTL_KEY_MDREQID, "absent", 6); /* harmless */
	ctl_route_destroy(r);
}

Test(route, full_table_forgets_the_oldest_id)
{
	struct ctl_route *r = ctl_route_create(4, 16);
	char id[8];
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, id, strlen(id), (uint16_t)i, NULL),
			     CTL_CLAIM_NEW);
	}
	cr_assert_eq(ctl_route_lookup(r, CTL_KEY_CLORDID, "o0", 2), CTL_ROUTE_NO_USER);
	for (int i = 1; i < 5; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		cr_assert_eq(ctl_route_lookup(r, CTL_KEY_CLORDID, id, strlen(id)), i);
	}
	struct ctl_route_stats st;
	ctl_route_get_stats(r, &st);
	cr_assert_eq(st.evicted, 1);
	cr_assert_eq(st.ids, 4);
	ctl_route_destroy(r);
}

/* Random claims and releases against a plain array model that evicts as the table does (the
 * slab is a ring in insertion order: the ID inserted CAP insertions ago goes, if still held).
 * Catches any slip in the backward-shift deletion or the eviction bookkeeping. */
Test(route, random_operations_match_a_model)
{
	enum { CAP = 64, IDS = 200 };
	struct ctl_route *r = ctl_route_create(CAP, 16);
	int model[IDS];      /* owner or -1 */
	long order[IDS];     /* insertion stamp */
	long stamp = 0;
	int live = 0;
	uint64_t evictions = 0;
	for (int i = 0; i < IDS; i++)
		model[i] = -1;
	srand(12345);
	for (int step = 0; step < 20000; step++) {
		int i = rand() % IDS;
		char id[16];
		int n = snprintf(id, sizeof(id), "id-%d", i);
		if (rand() % 4 == 0) {
			ctl_route_release(r, CTL_KEY_CLORDID, id, (size_t)n);
			if (model[i] >= 0)
				live--;
			model[i] = -1;
		} else {
			uint16_t user = (uint16_t)(rand() % 4);
			enum ctl_claim c = ctl_route_claim(r, CTL_KEY_CLORDID, id, (size_t)n, user, NULL);
			if (model[i] >= 0) {
				cr_assert_eq(c, model[i] == user ? CTL_CLAIM_OWN : CTL_CLAIM_OTHER,
					     "step %d", step);
			} else {
				cr_assert_eq(c, CTL_CLAIM_NEW, "step %d", step);
				for (int k = 0; k < IDS; k++) {
					if (model[k] >= 0 && order[k] == stamp - CAP) {
						model[k] = -1;
						live--;
						evictions++;
					}
				}
				model[i] = user;
				order[i] = stamp++;
				live++;
			}
		}
		struct ctl_route_stats st;
		ctl_route_get_stats(r, &st);
		cr_assert_eq((int)st.ids, live, "step %d", step);
		cr_assert_eq(st.evicted, evictions, "step %d", step);
		for (int k = step % 7; k < IDS; k += 7) {
			char kid[16];
			int kn = snprintf(kid, sizeof(kid), "id-%d", k);
			uint16_t want = model[k] < 0 ? CTL_ROUTE_NO_USER : (uint16_t)model[k];
			cr_assert_eq(ctl_route_lookup(r, CTL_KEY_CLORDID, kid, (size_t)kn), want,
				     "step %d id %d", step, k);
		}
	}
	cr_assert_gt(evictions, 0, "the run must exercise eviction");
	ctl_route_destroy(r);
}

Test(route, refseq_maps_back_within_the_window)
{
	struct ctl_route *r = ctl_route_create(16, 8);
	uint16_t u;
	uint64_t s;
	ctl_route_note_sent(r, 100, 2, 41);
	cr_assert(ctl_route_by_refseq(r, 100, &u, &s));
	cr_assert_eq(u, 2);
	cr_assert_eq(s, 41);
	cr_assert_not(ctl_route_by_refseq(r, 101, &u, &s));
	cr_assert_not(ctl_route_by_refseq(r, 0, &u, &s));
	ctl_route_note_sent(r, 108, 3, 7); /* same slot: 100 is now too old */
	cr_assert_not(ctl_route_by_refseq(r, 100, &u, &s));
	cr_assert(ctl_route_by_refseq(r, 108, &u, &s));
	ctl_route_destroy(r);
}

Test(route, venue_messages_reach_their_owner)
{
	struct ctl_route *r = ctl_route_create(64, 64);
	struct built b;
	struct ctl_route_verdict v;
	ctl_route_claim(r, CTL_KEY_CLORDID, "A-1", 3, 1, NULL);
	ctl_route_claim(r, CTL_KEY_CLORDID, "B-cxl", 5, 2, NULL);
	ctl_route_claim(r, CTL_KEY_MDREQID, "md7", 3, 3, NULL);
	ctl_route_claim(r, CTL_KEY_QUOTEREQID, "qr1", 3, 4, NULL);
	ctl_route_claim(r, CTL_KEY_QUOTEID, "q9", 2, 5, NULL);

	ctl_route_venue_msg(r, build(&b, "8", "11=A-1|17=E1|39=0|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 1);
	cr_assert_eq(v.key_tag, 11);
	/* An execution report for a cancel whose new ClOrdID is unknown, found by 41. */
	ctl_route_venue_msg(r, build(&b, "9", "11=zz|41=B-cxl|39=8|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 2);
	cr_assert_eq(v.key_tag, 41);
	ctl_route_venue_msg(r, build(&b, "W", "262=md7|55=EUR/USD|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 3);
	ctl_route_venue_msg(r, build(&b, "S", "117=x|131=qr1|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 4);
	ctl_route_venue_msg(r, build(&b, "AI", "117=q9|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 5);
	ctl_route_venue_msg(r, build(&b, "8", "11=unknown|17=E2|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, CTL_ROUTE_NO_USER, "an unknown order is unroutable");
	ctl_route_venue_msg(r, build(&b, "B", "148=news|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, CTL_ROUTE_NO_USER, "a message type without a key is unroutable");
	ctl_route_destroy(r);
}

Test(route, venue_reject_is_mapped_into_the_senders_sequence_space)
{
	struct ctl_route *r = ctl_route_create(64, 64);
	struct built b;
	struct ctl_route_verdict v;
	ctl_route_note_sent(r, 500, 2, 17);
	ctl_route_venue_msg(r, build(&b, "3", "45=500|58=bad|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 2);
	cr_assert(v.rewrite_refseq);
	cr_assert_eq(v.ref_user_seq, 17);
	ctl_route_venue_msg(r, build(&b, "3", "45=501|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, CTL_ROUTE_NO_USER);
	/* BusinessMessageReject: by 379 first, 45 rewritten for that same user. */
	ctl_route_claim(r, CTL_KEY_CLORDID, "C-3", 3, 2, NULL);
	ctl_route_venue_msg(r, build(&b, "j", "45=500|379=C-3|380=3|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 2);
	cr_assert(v.rewrite_refseq);
	cr_assert_eq(v.ref_user_seq, 17);
	ctl_route_venue_msg(r, build(&b, "j", "45=500|380=3|"), CTL_ROUTE_NO_USER, &v);
	cr_assert_eq(v.user, 2, "without 379, RefSeqNum decides");
	ctl_route_destroy(r);
}

Test(route, dropcopy_goes_to_its_single_user)
{
	struct ctl_route *r = ctl_route_create(16, 16);
	struct built b;
	struct ctl_route_verdict v;
	ctl_route_venue_msg(r, build(&b, "8", "11=someone-elses|17=E1|"), 7, &v);
	cr_assert_eq(v.user, 7);
	ctl_route_destroy(r);
}

Test(route, client_keys)
{
	struct built b;
	enum ctl_key_kind k;
	const struct fix_field *f;
	cr_assert(ctl_route_client_key(build(&b, "D", "11=X1|55=A|"), &k, &f));
	cr_assert_eq(k, CTL_KEY_CLORDID);
	cr_assert_eq(f->len, 2);
	cr_assert(ctl_route_client_key(build(&b, "V", "262=m|263=1|"), &k, &f));
	cr_assert_eq(k, CTL_KEY_MDREQID);
	cr_assert(ctl_route_client_key(build(&b, "R", "131=r|"), &k, &f));
	cr_assert_eq(k, CTL_KEY_QUOTEREQID);
	cr_assert_not(ctl_route_client_key(build(&b, "D", "55=A|"), &k, &f),
		      "an order without ClOrdID introduces no key");
	cr_assert_not(ctl_route_client_key(build(&b, "B", "148=x|"), &k, &f));
}

Test(route, journal_records_rebuild_the_table)
{
	struct ctl_route *live = ctl_route_create(64, 64);
	char log[64][CTL_ROUTE_REC_MAX];
	size_t len[64];
	int n = 0;
	len[n] = ctl_route_rec_claim(log[n], CTL_KEY_CLORDID, "A-1", 3, 1), n++;
	len[n] = ctl_route_rec_claim(log[n], CTL_KEY_MDREQID, "m-1", 3, 2), n++;
	len[n] = ctl_route_rec_sent(log[n], 900, 1, 33), n++;
	len[n] = ctl_route_rec_release(log[n], CTL_KEY_MDREQID, "m-1", 3), n++;
	len[n] = ctl_route_rec_claim(log[n], CTL_KEY_MDREQID, "m-1", 3, 3), n++;
	for (int i = 0; i < n; i++)
		cr_assert_eq(ctl_route_replay(live, log[i], len[i]), 0);
	cr_assert_eq(ctl_route_lookup(live, CTL_KEY_CLORDID, "A-1", 3), 1);
	cr_assert_eq(ctl_route_lookup(live, CTL_KEY_MDREQID, "m-1", 3), 3);
	uint16_t u;
	uint64_t s;
	cr_assert(ctl_route_by_refseq(live, 900, &u, &s));
	cr_assert_eq(u, 1);
	cr_assert_eq(s, 33);
	/* Malformed records are refused, not applied. */
	cr_assert_eq(ctl_route_replay(live, "", 0), -1);
	cr_assert_eq(ctl_route_replay(live, "\x09zz", 3), -1);
	char bad[8] = {CTL_ROUTE_OP_CLAIM, 9, 0, 0, 1, 'x'};
	cr_assert_eq(ctl_route_replay(live, bad, 6), -1, "unknown key kind");
	char shortrec[8] = {CTL_ROUTE_OP_CLAIM, 0, 0, 0, 5, 'x'};
	cr_assert_eq(ctl_route_replay(live, shortrec, 6), -1, "length disagrees");
	ctl_route_destroy(live);
}

static int collect(void *arg, const char *rec, size_t len)
{
	struct ctl_route *copy = arg;
	return ctl_route_replay(copy, rec, len);
}

Test(route, snapshot_rebuilds_the_same_table_and_keeps_eviction_order)
{
	struct ctl_route *r = ctl_route_create(4, 8);
	struct ctl_route *copy = ctl_route_create(4, 8);
	/* Something stale in the copy that the snapshot's CLEAR must remove. */
	ctl_route_claim(copy, CTL_KEY_CLORDID, "stale", 5, 9, NULL);
	ctl_route_claim(r, CTL_KEY_CLORDID, "o1", 2, 1, NULL);
	ctl_route_claim(r, CTL_KEY_CLORDID, "o2", 2, 2, NULL);
	ctl_route_claim(r, CTL_KEY_CLORDID, "o3", 2, 3, NULL);
	ctl_route_release(r, CTL_KEY_CLORDID, "o2", 2);
	ctl_route_claim(r, CTL_KEY_MDREQID, "m4", 2, 4, NULL);
	ctl_route_claim(r, CTL_KEY_MDREQID, "m5", 2, 5, NULL); /* o1 evicted: the ring wrapped */
	ctl_route_note_sent(r, 77, 3, 12);
	cr_assert_eq(ctl_route_snapshot(r, collect, copy), 0);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_CLORDID, "stale", 5), CTL_ROUTE_NO_USER);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_CLORDID, "o1", 2), CTL_ROUTE_NO_USER);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_CLORDID, "o2", 2), CTL_ROUTE_NO_USER);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_CLORDID, "o3", 2), 3);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_MDREQID, "m4", 2), 4);
	cr_assert_eq(ctl_route_lookup(copy, CTL_KEY_MDREQID, "m5", 2), 5);
	uint16_t u;
	uint64_t s;
	cr_assert(ctl_route_by_refseq(copy, 77, &u, &s));
	cr_assert_eq(s, 12);
	/* The oldest ID in the original is the oldest in the copy: the next claims evict o3
	 * first in both. */
	ctl_route_claim(r, CTL_KEY_CLORDID, "n1", 2, 6, NULL);
	ctl_route_claim(r, CTL_KEY_CLORDID, "n2", 2, 6, NULL);
	ctl_route_claim(copy, CTL_KEY_CLORDID, "n1", 2, 6, NULL);
	ctl_route_claim(copy, CTL_KEY_CLORDID, "n2", 2, 6, NULL);
	const char *ids[] = {"o3", "m4", "m5", "n1", "n2"};
	enum ctl_key_kind kinds[] = {CTL_KEY_CLORDID, CTL_KEY_MDREQID, CTL_KEY_MDREQID,
				     CTL_KEY_CLORDID, CTL_KEY_CLORDID};
	for (int i = 0; i < 5; i++)
		cr_assert_eq(ctl_route_lookup(copy, kinds[i], ids[i], 2),
			     ctl_route_lookup(r, kinds[i], ids[i], 2), "%s", ids[i]);
	ctl_route_destroy(r);
	ctl_route_destroy(copy);
}

/* ctl_route_poll touches the slab's pages ahead of the insertions; when it runs late, the
 * range it touches holds live entries, which must come out unchanged. Also: the prefetch
 * hint changes nothing. */
Test(route, touching_and_prefetching_leave_every_entry_as_it_was)
{
	struct ctl_route *r = ctl_route_create(1u << 16, 64);
	cr_assert_not_null(r);
	char id[32];
	for (uint32_t i = 0; i < 20000; i++) {
		int n = snprintf(id, sizeof(id), "ORD%08u", i);
		ctl_route_prefetch(r, CTL_KEY_CLORDID, id, (size_t)n);
		cr_assert_eq(ctl_route_claim(r, CTL_KEY_CLORDID, id, (size_t)n, (uint16_t)(i % 7),
					     NULL),
			     CTL_CLAIM_NEW);
		if (i == 9999)
			ctl_route_poll(r); /* late: 10 000 inserted, most past what was touched */
	}
	ctl_route_poll(r);
	ctl_route_poll(r);
	for (uint32_t i = 0; i < 20000; i++) {
		int n = snprintf(id, sizeof(id), "ORD%08u", i);
		cr_assert_eq(ctl_route_lookup(r, CTL_KEY_CLORDID, id, (size_t)n), i % 7, "%s", id);
	}
	snprintf(id, sizeof(id), "ORD%08u", 20000u);
	cr_assert_eq(ctl_route_lookup(r, CTL_KEY_CLORDID, id, strlen(id)), CTL_ROUTE_NO_USER);
	ctl_route_destroy(r);
}
