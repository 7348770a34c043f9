/* Zero-copy forwarding through the multiplexer (ctl_mux_*_segment, io.*_send_inplace,
 * ctl_session_forward_inplace): what goes out in place is byte for byte what the copy path
 * sends, the body stays where it was received, the journals serve resends and recovery the
 * same, and everything the in-place path does not cover falls back to the copy path with the
 * behaviour of before; the counters say which path each message took. Also: more than 256
 * client connections.
 */
#define _GNU_SOURCE
#include <stddef.h>

#include "mux_world.h"

static void zc_switches(bool io, bool segments)
{
	g_zc_io = io;
	g_zc_segments = segments;
	g_wire = true;
}

static void zc_setup(void)
{
	zc_switches(true, true);
	world_setup();
}

static void zc_teardown(void)
{
	world_teardown();
	g_zc_io = g_zc_segments = g_wire = false;
}

TestSuite(zc, .init = zc_setup, .fini = zc_teardown);

static uint64_t ctr(enum ctl_mux_counter c)
{
	return ctl_mux_counter(W.mux, c);
}

/* Every forwarded message left one way or the other. */
static void assert_paths_add_up(void)
{
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_TO_VENUE) + ctr(CTL_MUX_FORWARDED_TO_USER),
		     ctr(CTL_MUX_FORWARDED_INPLACE) + ctr(CTL_MUX_FORWARDED_COPIED));
}

/* --- reading what went over the wire --- */

struct wire_msg {
	struct fix_field f[64];
	struct fix_msg m;
};

/* The k-th message of type type in q (k from 0), or false. */
static bool find_msg(const struct queue *q, const char *type, int k, struct wire_msg *out)
{
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 16);
	size_t off = 0;
	while (off < q->len) {
		long r = fix_frame(&fr, q->buf + off, q->len - off, NULL);
		cr_assert(r > 0, "garbled bytes on the wire at %zu", off);
		out->m = (struct fix_msg){.fields = out->f, .cap = 64};
		cr_assert_eq(fix_parse(&out->m, q->buf + off, (size_t)r), FIX_OK);
		if (!strcmp(out->m.hdr.msg_type, type) && k-- == 0)
			return true;
		off += (size_t)r;
	}
	return false;
}

static struct fix_str field(const struct wire_msg *w, uint32_t tag)
{
	const struct fix_field *f = fix_find(&w->m, tag, 0);
	return f ? (struct fix_str){f->val, f->len} : (struct fix_str){"", 0};
}

static bool field_is(const struct wire_msg *w, uint32_t tag, const char *v)
{
	struct fix_str s = field(w, tag);
	return s.len == strlen(v) && !memcmp(s.p, v, s.len);
}

static struct fix_str body(const struct wire_msg *w)
{
	return (struct fix_str){w->m.buf + w->m.hdr.body_off,
				w->m.hdr.trailer_off - w->m.hdr.body_off};
}

static void assert_same_bytes(const struct queue *a, const struct queue *b, const char *what)
{
	size_t i = 0;
	while (i < a->len && i < b->len && a->buf[i] == b->buf[i])
		i++;
	cr_assert(a->len == b->len && i == a->len,
		  "%s differs at byte %zu (lengths %zu, %zu): ...%.40s... vs ...%.40s...", what, i,
		  a->len, b->len, a->buf + (i > 20 ? i - 20 : 0), b->buf + (i > 20 ? i - 20 : 0));
}

/* The venue asks for everything again (as after a gap on its side). */
static void venue_resend_request(void)
{
	static const char rr[] = "7=1\00116=0\001";
	cr_assert_neq(ctl_session_send_app(W.venue.s, W.now, "2", NULL, 0, rr, sizeof(rr) - 1), 0);
}

/* Orders of two users, their acks, a fill, a ResendRequest the venue session serves from its
 * journal, and one more order. */
static void scenario(void)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	pump();
	W.now += 7 * MS_NS;
	user_order(1, "B-1");
	pump();
	W.now += 7 * MS_NS;
	venue_exec("A-1", "2", "F");
	pump();
	W.now += 7 * MS_NS;
	venue_resend_request();
	pump();
	user_order(0, "A-2");
	pump();
}

struct run {
	struct queue venue, user[2];
	uint64_t c[CTL_MUX__COUNTERS];
	int n_inplace_venue, n_inplace_user, n_body_kept, orders_seen;
};

static void keep_run(struct run *r)
{
	memcpy(&r->venue, &W.venue_wire, sizeof(r->venue));
	memcpy(&r->user[0], &W.user_wire[0], sizeof(r->user[0]));
	memcpy(&r->user[1], &W.user_wire[1], sizeof(r->user[1]));
	for (int i = 0; i < CTL_MUX__COUNTERS; i++)
		r->c[i] = ctr((enum ctl_mux_counter)i);
	r->n_inplace_venue = W.n_inplace_venue;
	r->n_inplace_user = W.n_inplace_user;
	r->n_body_kept = W.n_inplace_body_kept;
	r->orders_seen = W.venue_orders_seen;
	assert_paths_add_up();
}

static struct run runs[3]; /* in place; segments without the callbacks; ctl_mux_*_bytes */

Test(zc, in_place_forwarding_sends_exactly_the_bytes_of_the_copy_path)
{
	scenario();
	keep_run(&runs[0]);
	world_teardown();
	zc_switches(false, true);
	world_setup();
	scenario();
	keep_run(&runs[1]);
	world_teardown();
	zc_switches(false, false);
	world_setup();
	scenario();
	keep_run(&runs[2]);

	/* Three orders to the venue, four executions back, all in place, bodies unmoved. */
	cr_assert_eq(runs[0].orders_seen, 3);
	cr_assert_eq(runs[0].c[CTL_MUX_FORWARDED_INPLACE], 7);
	cr_assert_eq(runs[0].c[CTL_MUX_FORWARDED_COPIED], 0);
	cr_assert_eq(runs[0].c[CTL_MUX_SEGMENTS_REASSEMBLED], 0);
	cr_assert_eq(runs[0].n_inplace_venue, 3);
	cr_assert_eq(runs[0].n_inplace_user, 4);
	cr_assert_eq(runs[0].n_body_kept, 7, "every in-place message keeps the body where it was");
	for (int k = 1; k < 3; k++) {
		cr_assert_eq(runs[k].orders_seen, 3);
		cr_assert_eq(runs[k].c[CTL_MUX_FORWARDED_INPLACE], 0, "run %d", k);
		cr_assert_eq(runs[k].c[CTL_MUX_FORWARDED_COPIED], 7, "run %d", k);
		cr_assert_eq(runs[k].c[CTL_MUX_SEGMENTS_REASSEMBLED], 0, "run %d", k);
		cr_assert_eq(runs[k].n_inplace_venue + runs[k].n_inplace_user, 0);
		assert_same_bytes(&runs[0].venue, &runs[k].venue, "the venue's bytes");
		assert_same_bytes(&runs[0].user[0], &runs[k].user[0], "alice's bytes");
		assert_same_bytes(&runs[0].user[1], &runs[k].user[1], "bob's bytes");
	}
	/* Everything else counted the same. */
	for (int i = 0; i < CTL_MUX__COUNTERS; i++) {
		if (i == CTL_MUX_FORWARDED_INPLACE || i == CTL_MUX_FORWARDED_COPIED)
			continue;
		cr_assert_eq(runs[0].c[i], runs[2].c[i], "counter %s", ctl_mux_counter_names[i]);
	}
}

Test(zc, the_venue_journal_serves_a_resend_of_orders_forwarded_in_place)
{
	scenario();
	cr_assert_eq(W.n_inplace_venue, 3);
	/* The first A-1 on the wire is the original, the second its resend from the journal. */
	struct wire_msg orig, again;
	cr_assert(find_msg(&W.venue_wire, "D", 0, &orig));
	cr_assert(find_msg(&W.venue_wire, "D", 2, &again), "the resend of A-1 is on the wire");
	cr_assert(field_is(&orig, 11, "A-1") && field_is(&again, 11, "A-1"));
	cr_assert_eq(orig.m.hdr.seq, again.m.hdr.seq, "resent under its own number");
	cr_assert(field_is(&again, 43, "Y"), "PossDupFlag on the resend");
	cr_assert_not(field_is(&orig, 43, "Y"));
	struct fix_str t0 = field(&orig, 52), t1 = field(&again, 122);
	cr_assert(t0.len == t1.len && !memcmp(t0.p, t1.p, t0.len),
		  "OrigSendingTime is the original SendingTime");
	struct fix_str b0 = body(&orig), b1 = body(&again);
	cr_assert(b0.len == b1.len && !memcmp(b0.p, b1.p, b0.len), "the same body");
	cr_assert(find_msg(&W.venue_wire, "D", 3, &again), "B-1 resent too");
	cr_assert(field_is(&again, 11, "B-1") && field_is(&again, 43, "Y"));
	cr_assert_eq(W.venue_orders_seen, 3, "resends are not new orders to the venue");
}

Test(zc, an_execution_report_goes_back_to_its_user_in_place_in_her_numbering)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(1, "B-0"); /* the venue's numbering runs ahead of alice's */
	pump();
	int before = W.n_inplace_user;
	user_order(0, "A-1");
	pump();
	cr_assert_eq(W.n_inplace_user, before + 1);
	struct wire_msg er;
	cr_assert(find_msg(&W.user_wire[0], "8", 0, &er));
	cr_assert(field_is(&er, 11, "A-1"));
	cr_assert(field_is(&er, 49, "LMAX.Orders") && field_is(&er, 56, "alice"),
		  "alice's CompIDs, not the venue session's");
	cr_assert_eq(er.m.hdr.seq, ctl_session_next_in(W.user[0].s) - 1);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(count_rx(1, "8", "A-1"), 0);
	assert_paths_add_up();
}

Test(zc, two_messages_in_one_segment_take_the_copy_path)
{
	user_connect(0);
	pump();
	W.user_hold[0] = true;
	user_order(0, "A-1");
	user_order(0, "A-2");
	W.user_hold[0] = false;
	seg_to_mux(false, 0, W.user_held[0].buf, W.user_held[0].len);
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 1);
	cr_assert_eq(W.n_inplace_venue, 0, "the orders were copied");
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_COPIED), 2);
	cr_assert_eq(W.n_inplace_user, 2, "the acks came back one per segment: in place");
	assert_paths_add_up();
}

Test(zc, a_message_split_over_two_segments_is_reassembled_and_the_next_goes_in_place)
{
	user_connect(0);
	pump();
	W.user_hold[0] = true;
	user_order(0, "A-1");
	W.user_hold[0] = false;
	seg_to_mux(false, 0, W.user_held[0].buf, 30);
	cr_assert_eq(W.venue_orders_seen, 0);
	seg_to_mux(false, 0, W.user_held[0].buf + 30, W.user_held[0].len - 30);
	pump();
	cr_assert_eq(W.venue_orders_seen, 1);
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 2);
	cr_assert_eq(W.n_inplace_venue, 0);
	/* The buffer is empty again: a whole message is handled where it lies. */
	user_order(0, "A-2");
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_eq(W.n_inplace_venue, 1);
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 2);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
	assert_paths_add_up();
}

Test(zc, a_whole_message_after_part_of_one_waits_its_turn)
{
	user_connect(0);
	pump();
	W.user_hold[0] = true;
	user_order(0, "A-1");
	size_t first = W.user_held[0].len;
	user_order(0, "A-2");
	W.user_hold[0] = false;
	/* Half of A-1, then the rest of A-1 and all of A-2 in one segment, then nothing. */
	seg_to_mux(false, 0, W.user_held[0].buf, first / 2);
	seg_to_mux(false, 0, W.user_held[0].buf + first / 2, W.user_held[0].len - first / 2);
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_str_eq(W.open_orders[0], "A-1", "in order");
	cr_assert_str_eq(W.open_orders[1], "A-2");
	cr_assert_eq(W.n_inplace_venue, 0);
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 2);
}

/* With nothing held back, whole messages are framed in the received bytes themselves and only
 * the partial one is kept: garbage first, two orders and the start of a third, then its rest. */
Test(zc, garbage_two_whole_orders_and_part_of_a_third_then_the_rest)
{
	user_connect(0);
	pump();
	W.user_hold[0] = true;
	user_order(0, "A-1");
	user_order(0, "A-2");
	size_t two = W.user_held[0].len;
	user_order(0, "A-3");
	W.user_hold[0] = false;
	static char seg[QCAP];
	static const char junk[] = "garbage\001";
	size_t jl = sizeof(junk) - 1;
	memcpy(seg, junk, jl);
	memcpy(seg + jl, W.user_held[0].buf, W.user_held[0].len);
	size_t cut = jl + two + 25;
	seg_to_mux(false, 0, seg, cut);
	pump();
	cr_assert_eq(ctr(CTL_MUX_GARBLED), 1, "the garbage before the first order");
	cr_assert_eq(W.venue_orders_seen, 2, "the two whole orders at once");
	seg_to_mux(false, 0, seg + cut, jl + W.user_held[0].len - cut);
	pump();
	cr_assert_eq(W.venue_orders_seen, 3);
	cr_assert_str_eq(W.open_orders[0], "A-1", "in order");
	cr_assert_str_eq(W.open_orders[1], "A-2");
	cr_assert_str_eq(W.open_orders[2], "A-3");
	cr_assert_eq(count_rx(0, "8", "A-3"), 1, "the third is acknowledged once");
	cr_assert_eq(ctr(CTL_MUX_GARBLED), 1);
	assert_paths_add_up();
}

Test(zc, a_venue_message_split_over_segments_reaches_its_user_by_copy)
{
	user_connect(0);
	pump();
	W.hold_to_mux = true;
	user_order(0, "A-1");
	pump();
	W.hold_to_mux = false;
	cr_assert_eq(count_rx(0, "8", "A-1"), 0);
	seg_to_mux(true, 0, W.held_to_mux.buf, 25);
	seg_to_mux(true, 0, W.held_to_mux.buf + 25, W.held_to_mux.len - 25);
	pump();
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(W.n_inplace_user, 0);
	cr_assert_eq(W.n_inplace_venue, 1, "the order itself went in place");
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 2);
	assert_paths_add_up();
}

Test(zc, a_refseqnum_rewrite_is_sent_as_a_copy_in_the_users_numbering)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	user_order(0, "A-2");
	pump();
	uint64_t bob_seq = ctl_session_next_out(W.user[1].s);
	user_order(1, "B-1");
	pump();
	uint64_t venue_ref = ctl_session_next_in(W.venue.s) - 1;
	cr_assert_neq(venue_ref, bob_seq);
	uint64_t copied = ctr(CTL_MUX_FORWARDED_COPIED);
	char b[64];
	int n = snprintf(b, sizeof(b), "45=%llu\001372=D\001380=3\00158=not today\001",
			 (unsigned long long)venue_ref);
	ctl_session_send_app(W.venue.s, W.now, "j", NULL, 0, b, (size_t)n);
	pump();
	cr_assert_eq(count_rx(1, "j", NULL), 1);
	char want[24];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)bob_seq);
	cr_assert_str_eq(W.user[1].rx[W.user[1].n_rx - 1].refseq, want);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_COPIED), copied + 1, "a changed body is a copy");
	assert_paths_add_up();
}

Test(zc, messages_for_an_offline_user_are_kept_and_delivered_later)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	pump();
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	uint64_t inplace = ctr(CTL_MUX_FORWARDED_INPLACE);
	venue_exec("A-1", "2", "F");
	pump();
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_INPLACE), inplace, "kept, not forwarded");
	cr_assert_eq(ctr(CTL_MUX_PENDING_STORED), 1);
	/* Meanwhile bob's traffic still goes in place. */
	user_order(1, "B-1");
	pump();
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_INPLACE), inplace + 2);
	user_connect(0);
	pump();
	cr_assert_eq(count_rx(0, "8", "A-1"), 2, "the ack, then the fill kept for her");
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 0);
	cr_assert_eq(ctr(CTL_MUX_PENDING_DELIVERED), 1);
	/* With the queue empty, her next execution goes in place again. */
	user_order(0, "A-2");
	pump();
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_INPLACE), inplace + 4);
	assert_paths_add_up();
}

Test(zc, refused_messages_are_answered_from_their_intact_header_and_never_forwarded)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "SAME");
	pump();
	cr_assert_eq(W.n_inplace_venue, 1);
	user_order(1, "SAME");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1, "the duplicate never reaches the venue");
	cr_assert_eq(W.n_inplace_venue, 1);
	cr_assert_eq(ctr(CTL_MUX_ID_CONFLICTS), 1);
	struct wire_msg rj;
	cr_assert(find_msg(&W.user_wire[1], "8", 0, &rj));
	cr_assert(field_is(&rj, 11, "SAME") && field_is(&rj, 39, "8"));
	cr_assert(field_is(&rj, 55, "EUR/USD") && field_is(&rj, 54, "1"),
		  "the reject quotes the order as received");
	/* The venue connection pushes back: refused to the sender, nothing rewritten. */
	W.venue_busy = true;
	char b[96];
	int n = snprintf(b, sizeof(b),
			 "262=M-1\001263=1\001264=1\001267=1\001269=0\001146=1\00155=EUR/USD\001");
	cr_assert_neq(ctl_session_send_app(W.user[1].s, W.now, "V", NULL, 0, b, (size_t)n), 0);
	pump();
	cr_assert_eq(ctr(CTL_MUX_VENUE_BUSY), 1);
	cr_assert(find_msg(&W.user_wire[1], "Y", 0, &rj), "MarketDataRequestReject for bob");
	cr_assert(field_is(&rj, 262, "M-1"));
	cr_assert_not_null(memmem(field(&rj, 58).p, field(&rj, 58).len, "busy", 4));
	/* A BusinessMessageReject quotes the refused message's own MsgSeqNum. */
	n = snprintf(b, sizeof(b), "11=Q-1\00155=EUR/USD\00154=1\001");
	uint64_t hseq = ctl_session_send_app(W.user[1].s, W.now, "H", NULL, 0, b, (size_t)n);
	cr_assert_neq(hseq, 0);
	pump();
	W.venue_busy = false;
	cr_assert_eq(ctr(CTL_MUX_VENUE_BUSY), 2);
	cr_assert(find_msg(&W.user_wire[1], "j", 0, &rj), "BusinessMessageReject for bob");
	char want[24];
	snprintf(want, sizeof(want), "%llu", (unsigned long long)hseq);
	cr_assert(field_is(&rj, 45, want), "RefSeqNum is bob's own number");
	cr_assert(field_is(&rj, 372, "H"));
	cr_assert_eq(W.n_inplace_venue, 1);
	cr_assert_eq(W.venue_orders_seen, 1);
	assert_paths_add_up();
}

Test(zc, without_the_inplace_callbacks_segments_are_forwarded_as_copies)
{
	world_teardown();
	zc_switches(false, true);
	world_setup();
	user_connect(0);
	pump();
	user_order(0, "A-1");
	pump();
	cr_assert_eq(W.venue_orders_seen, 1);
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_INPLACE), 0);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_COPIED), 2);
	cr_assert_eq(ctr(CTL_MUX_SEGMENTS_REASSEMBLED), 0, "whole messages, just no callback");
}

Test(zc, a_possresend_already_forwarded_is_dropped_before_anything_is_rewritten)
{
	user_connect(0);
	pump();
	user_order(0, "A-1");
	pump();
	char b[256];
	int n = snprintf(b, sizeof(b),
			 "11=A-1\00121=1\00138=1000\00140=1\00154=1\00155=EUR/USD\00160=%s\001",
			 "20270115-08:00:00");
	struct fix_field pr = {.tag = 97, .val = "Y", .len = 1};
	cr_assert_neq(ctl_session_send_app(W.user[0].s, W.now, "D", &pr, 1, b, (size_t)n), 0);
	pump();
	cr_assert_eq(W.venue_orders_seen, 1);
	cr_assert_eq(ctr(CTL_MUX_POSSRESEND_DROPPED), 1);
	cr_assert_eq(W.n_inplace_venue, 1);
	cr_assert_eq(ctr(CTL_MUX_FORWARDED_TO_VENUE), 1);
}

Test(zc, a_gap_from_the_user_is_filled_by_its_possdup_resend_in_place_and_the_queue_by_copy)
{
	user_connect(0);
	pump();
	/* A-1 is lost on the wire; A-2 arrives too high and is queued by alice's session. */
	W.user_hold[0] = true;
	user_order(0, "A-1");
	W.user_hold[0] = false;
	W.user_held[0].len = 0;
	user_order(0, "A-2");
	cr_assert_eq(W.venue_orders_seen, 0);
	pump(); /* ResendRequest to alice, her PossDup resend of A-1, then the queued A-2 */
	cr_assert_eq(W.venue_orders_seen, 2, "each once");
	cr_assert_str_eq(W.open_orders[0], "A-1", "in her order");
	cr_assert_str_eq(W.open_orders[1], "A-2");
	cr_assert_eq(W.n_inplace_venue, 1, "the resend arrived whole and went in place");
	struct wire_msg d;
	cr_assert(find_msg(&W.venue_wire, "D", 0, &d));
	cr_assert(field_is(&d, 11, "A-1"));
	cr_assert_not(field_is(&d, 43, "Y"), "new to the venue: no PossDupFlag");
	cr_assert(find_msg(&W.venue_wire, "D", 1, &d));
	cr_assert(field_is(&d, 11, "A-2"));
	cr_assert_eq(count_rx(0, "8", "A-1"), 1);
	cr_assert_eq(count_rx(0, "8", "A-2"), 1);
	assert_paths_add_up();
}

Test(zc, journals_written_in_place_recover_after_a_crash)
{
	user_connect(0);
	user_connect(1);
	pump();
	user_order(0, "A-1");
	pump();
	user_order(1, "B-1");
	pump();
	ctl_session_logout(W.user[0].s, W.now, NULL);
	pump();
	venue_exec("A-1", "2", "F");
	pump();
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1);
	struct ctl_mux_session_info before;
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &before), 0);
	struct wire_msg orig;
	cr_assert(find_msg(&W.venue_wire, "D", 0, &orig));
	char orig_body[256];
	struct fix_str ob = body(&orig);
	memcpy(orig_body, ob.p, ob.len);
	/* fixmux dies and restarts from its journals. */
	ctl_mux_destroy(W.mux);
	W.mux = NULL;
	W.venue.connected = false;
	ctl_session_disconnected(W.venue.s, W.now);
	W.user[1].connected = false;
	ctl_session_disconnected(W.user[1].s, W.now);
	W.to_mux_venue.len = W.venue.in.len = 0;
	mux_start();
	struct ctl_mux_session_info after;
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &after), 0);
	cr_assert_eq(after.next_out, before.next_out, "the venue numbering survived");
	cr_assert_eq(after.next_in, before.next_in);
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 1, "the fill kept for alice survived");
	user_connect(1);
	pump();
	cr_assert(ctl_session_logged_on(W.user[1].s));
	/* The venue asks again for everything: the orders come from the recovered journal. */
	W.venue_wire.len = 0;
	venue_resend_request();
	pump();
	struct wire_msg again;
	cr_assert(find_msg(&W.venue_wire, "D", 0, &again));
	cr_assert(field_is(&again, 43, "Y"));
	cr_assert_eq(again.m.hdr.seq, orig.m.hdr.seq);
	struct fix_str ab = body(&again);
	cr_assert(ab.len == ob.len && !memcmp(ab.p, orig_body, ob.len));
	/* Routing survived too: a late fill for alice's order is kept for her, and bob's goes
	 * to bob in place. */
	int inplace = W.n_inplace_user;
	venue_exec("A-1", "2", "F");
	venue_exec("B-1", "2", "F");
	pump();
	cr_assert_eq(ctl_mux_user_pending(W.mux, 0, 0), 2);
	cr_assert_eq(count_rx(1, "8", "B-1"), 2);
	cr_assert_eq(W.n_inplace_user, inplace + 1);
	user_connect(0);
	pump();
	cr_assert_eq(count_rx(0, "8", "A-1"), 3, "ack, and both fills after reconnecting");
}

/* ------------------------------------------------------------------------------------------
 * ctl_session_forward_inplace against ctl_session_send_app, session by session
 * ---------------------------------------------------------------------------------------- */

/* Two identical initiator sessions logged on to two identical acceptors: what one sends with
 * send_app, the other must send in place, byte for byte, and store the same. */
struct pair {
	struct ctl_session *ini, *acc;
	struct ctl_store_mem *mi, *ma;
	struct queue to_acc, to_ini;
	char last[8192];
	size_t last_len;
	int sends;
};

static struct pair P[2];

static void p_ini_send(void *arg, const char *b, size_t n)
{
	struct pair *p = arg;
	q_put(&p->to_acc, b, n);
	cr_assert(n <= sizeof(p->last));
	memcpy(p->last, b, n);
	p->last_len = n;
	p->sends++;
}

static void p_acc_send(void *arg, const char *b, size_t n)
{
	struct pair *p = arg;
	q_put(&p->to_ini, b, n);
}

static void p_deliver(void *arg, const struct fix_msg *m)
{
	(void)arg, (void)m;
}

static void p_disconnect(void *arg, const char *why)
{
	(void)arg;
	cr_assert_fail("unexpected disconnect: %s", why);
}

static void p_feed(struct queue *q, struct ctl_session *s, int64_t now)
{
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 16);
	static char copy[QCAP];
	size_t len = q->len, off = 0;
	memcpy(copy, q->buf, len);
	q->len = 0;
	while (off < len) {
		long r = fix_frame(&fr, copy + off, len - off, NULL);
		cr_assert(r > 0);
		ctl_session_on_bytes(s, now, copy + off, (size_t)r);
		off += (size_t)r;
	}
}

static void pair_open(struct pair *p, enum fix_version ver, int64_t now)
{
	memset(p, 0, sizeof(*p));
	struct ctl_session_cfg c;
	ctl_session_cfg_init(&c);
	c.ver = ver;
	c.heartbeat_s = 30;
	c.no_validate = true;
	char err[128];
	struct ctl_session_io ii = {p, p_ini_send, p_deliver, p_disconnect, NULL};
	struct ctl_session_io ai = {p, p_acc_send, p_deliver, p_disconnect, NULL};
	c.role = CTL_ROLE_INITIATOR;
	c.sender_comp_id = "FIXMUX";
	c.target_comp_id = "VENUE";
	p->mi = ctl_store_mem_create();
	p->ini = ctl_session_create(&c, &ii, ctl_store_mem_store(p->mi), err, sizeof(err));
	cr_assert_not_null(p->ini, "%s", err);
	c.role = CTL_ROLE_ACCEPTOR;
	c.sender_comp_id = "VENUE";
	c.target_comp_id = "FIXMUX";
	p->ma = ctl_store_mem_create();
	p->acc = ctl_session_create(&c, &ai, ctl_store_mem_store(p->ma), err, sizeof(err));
	cr_assert_not_null(p->acc, "%s", err);
	cr_assert_eq(ctl_session_connect(p->acc, now), 0);
	cr_assert_eq(ctl_session_connect(p->ini, now), 0);
	p_feed(&p->to_acc, p->acc, now);
	p_feed(&p->to_ini, p->ini, now);
	cr_assert(ctl_session_logged_on(p->ini));
}

static void pair_close(struct pair *p)
{
	ctl_session_destroy(p->ini);
	ctl_session_destroy(p->acc);
	ctl_store_mem_destroy(p->mi);
	ctl_store_mem_destroy(p->ma);
}

struct stored {
	char msg[8192];
	size_t len;
};

static int keep_stored(void *arg, uint64_t seq, const char *msg, size_t len)
{
	(void)seq;
	struct stored *st = arg;
	memcpy(st->msg, msg, len);
	st->len = len;
	return 0;
}

/* A received message, as a data core would hold it: headroom, then the bytes. */
struct rxbuf {
	char room[FIX_MAX_REWRITE_HEADER];
	char msg[4096];
	struct fix_field f[64];
	struct fix_msg m;
};

static void rx_parse(struct rxbuf *r, const char *type, const char *b)
{
	struct fix_encoder e;
	char tmp[4096];
	fix_enc_begin(&e, tmp, sizeof(tmp), FIX_VER_44, type, NULL);
	fix_enc_uint(&e, 34, 77);
	fix_enc_cstr(&e, 49, "ALICE");
	fix_enc_cstr(&e, 50, "DESK-7"); /* a header field the forward does not carry */
	fix_enc_time(&e, 52, 1700000000LL * 1000000000LL, FIX_TIME_US);
	fix_enc_cstr(&e, 56, "FIXMUX");
	fix_enc_raw(&e, b, strlen(b));
	char *out;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	memcpy(r->msg, out, n);
	r->m = (struct fix_msg){.fields = r->f, .cap = 64};
	cr_assert_eq(fix_parse(&r->m, r->msg, n), FIX_OK);
}

static const char order_body[] =
	"11=ORD-1\00121=1\00138=1000\00140=2\00144=1.0850\00154=1\00155=EUR/USD\001"
	"60=20270115-08:00:00\001";

/* Sends the same message both ways and compares what left and what was stored. */
static void same_both_ways(enum fix_version ver, const struct fix_field *ex, size_t n_ex)
{
	int64_t now = 1800000000LL * 1000000000LL + 123456789;
	pair_open(&P[0], ver, now);
	pair_open(&P[1], ver, now);
	now += 5 * MS_NS;
	uint64_t s0 = ctl_session_send_app(P[0].ini, now, "D", ex, n_ex, order_body,
					   sizeof(order_body) - 1);
	cr_assert_neq(s0, 0);
	static struct rxbuf r;
	rx_parse(&r, "D", order_body);
	const char *body_at = r.m.buf + r.m.hdr.body_off;
	char *out;
	size_t len;
	int sends = P[1].sends;
	uint64_t s1 = ctl_session_forward_inplace(P[1].ini, now, &r.m, ex, n_ex, sizeof(r.room),
						  &out, &len);
	cr_assert_eq(s1, s0, "the same MsgSeqNum");
	cr_assert_eq(P[1].sends, sends, "forward_inplace transmits nothing itself");
	cr_assert_eq(len, P[0].last_len);
	cr_assert(!memcmp(out, P[0].last, len), "in place: %.*s\ncopy: %.*s", (int)len, out,
		  (int)P[0].last_len, P[0].last);
	struct fix_field f[64];
	struct fix_msg om = {.fields = f, .cap = 64};
	cr_assert_eq(fix_parse(&om, out, len), FIX_OK);
	cr_assert_eq(out + om.hdr.body_off, body_at, "the body did not move");
	cr_assert_eq(ctl_session_next_out(P[1].ini), s1 + 1);
	static struct stored a, b;
	struct ctl_store st0 = ctl_store_mem_store(P[0].mi), st1 = ctl_store_mem_store(P[1].mi);
	st0.ops->for_each_outbound(st0.ctx, s0, s0, keep_stored, &a);
	st1.ops->for_each_outbound(st1.ctx, s1, s1, keep_stored, &b);
	cr_assert(a.len == len && b.len == len && !memcmp(a.msg, b.msg, len),
		  "stored as sent, before it was handed back");
	pair_close(&P[0]);
	pair_close(&P[1]);
}

Test(inplace, fix44_without_extra_header_fields)
{
	same_both_ways(FIX_VER_44, NULL, 0);
}

Test(inplace, fixt11_with_applverid_and_routing_fields_in_any_order)
{
	struct fix_field ex[] = {{"9", 1128, 1}, {"BROKER", 128, 6}, {"DESK", 115, 4},
				 {"SUB", 129, 3}};
	same_both_ways(FIX_VER_T11, ex, 4);
}

Test(inplace, fix42_with_onbehalfof_only)
{
	struct fix_field ex[] = {{"CLIENT-9", 115, 8}};
	same_both_ways(FIX_VER_42, ex, 1);
}

Test(inplace, refuses_without_touching_the_bytes_what_it_cannot_write_the_same_way)
{
	int64_t now = 1800000000LL * 1000000000LL;
	pair_open(&P[0], FIX_VER_44, now);
	static struct rxbuf r;
	rx_parse(&r, "D", order_body);
	char before[offsetof(struct rxbuf, f)];
	memcpy(before, &r, sizeof(before));
	char *out = NULL;
	size_t len = 0;
	uint64_t next = ctl_session_next_out(P[0].ini);
	/* SenderSubID would go after 128 in place but before 52 in the encoder's order. */
	struct fix_field sub = {"S", 50, 1};
	cr_assert_eq(ctl_session_forward_inplace(P[0].ini, now, &r.m, &sub, 1, sizeof(r.room),
						 &out, &len), 0);
	/* An empty value: the encoder writes "115=", fix_rewrite would omit it. */
	struct fix_field empty = {"", 115, 0};
	cr_assert_eq(ctl_session_forward_inplace(P[0].ini, now, &r.m, &empty, 1, sizeof(r.room),
						 &out, &len), 0);
	/* No headroom for a header longer than the old one. */
	struct fix_field longer = {"A-VERY-LONG-ON-BEHALF-OF-COMPID-0123456789", 115, 42};
	cr_assert_eq(ctl_session_forward_inplace(P[0].ini, now, &r.m, &longer, 1, 0, &out, &len),
		     0);
	/* Admin messages are the session's own business. */
	static struct rxbuf hb;
	rx_parse(&hb, "0", "");
	cr_assert_eq(ctl_session_forward_inplace(P[0].ini, now, &hb.m, NULL, 0, sizeof(hb.room),
						 &out, &len), 0);
	cr_assert(!memcmp(before, &r, sizeof(before)), "nothing written");
	cr_assert_eq(ctl_session_next_out(P[0].ini), next, "no number used");
	cr_assert_null(out);
	/* Not logged on: nothing either. */
	ctl_session_disconnected(P[0].ini, now);
	cr_assert_eq(ctl_session_forward_inplace(P[0].ini, now, &r.m, NULL, 0, sizeof(r.room), &out,
						 &len), 0);
	cr_assert(!memcmp(before, &r, sizeof(before)));
	pair_close(&P[0]);
}

/* ------------------------------------------------------------------------------------------
 * More than 256 client connections
 * ---------------------------------------------------------------------------------------- */

#define MANY 600

static struct {
	char *ini;
	uint16_t logons[CTL_MUX_MAX_CONNS];
	uint16_t execs[CTL_MUX_MAX_CONNS];
	uint16_t closes[CTL_MUX_MAX_CONNS + 1];
} B;

static void many_client_send(void *arg, uint32_t conn, const char *b, size_t n)
{
	(void)arg;
	cr_assert_lt(conn, CTL_MUX_MAX_CONNS);
	if (memmem(b, n, "\00135=A\001", 6))
		B.logons[conn]++;
	if (memmem(b, n, "\00135=8\001", 6))
		B.execs[conn]++;
}

static void many_client_close(void *arg, uint32_t conn, const char *why)
{
	(void)arg;
	(void)why;
	B.closes[conn < CTL_MUX_MAX_CONNS ? conn : CTL_MUX_MAX_CONNS]++;
}

static void many_setup(void)
{
	memset(&W, 0, sizeof(W));
	memset(&B, 0, sizeof(B));
	W.now = 1800000000LL * 1000000000LL;
	snprintf(W.dir, sizeof(W.dir), "/tmp/fixmux-muxzc-XXXXXX");
	cr_assert_not_null(mkdtemp(W.dir));
	size_t cap = 256 + MANY * 128, n = 0;
	B.ini = malloc(cap);
	cr_assert_not_null(B.ini);
	n += (size_t)snprintf(B.ini + n, cap - n,
			      "[appliance]\nlisten_port = 9878\nstore_dir = %s\nfsync = none\n"
			      "[venue LMAX]\ntype = CLOB\n"
			      "[session LMAX.Orders]\naddress = 198.18.1.1:9880\n"
			      "sender_comp_id = FIXMUX\ntarget_comp_id = LMAX\n",
			      W.dir);
	for (int i = 0; i < MANY; i++)
		n += (size_t)snprintf(B.ini + n, cap - n,
				      "[user u%03d]\npassword_hash = none\n"
				      "allowed_addresses = 198.18.0.10\nsessions = LMAX.Orders\n",
				      i);
	cr_assert_lt(n, cap);
	char err[256];
	cr_assert_eq(ctl_config_load_string(&W.cfg, B.ini, "many.ini", err, sizeof(err)), 0, "%s",
		     err);
	static const struct ctl_session_io vio = {NULL, venue_send, venue_deliver,
						  venue_disconnect, NULL};
	W.venue.s = make_session(CTL_ROLE_ACCEPTOR, "LMAX", "FIXMUX", &vio, &W.venue.mem);
	struct ctl_mux_io io = {.client_send = many_client_send,
				.client_close = many_client_close,
				.venue_connect = mx_venue_connect,
				.venue_send = mx_venue_send,
				.venue_close = mx_venue_close};
	W.mux = ctl_mux_create(&W.cfg, &io, W.now, err, sizeof(err));
	cr_assert_not_null(W.mux, "%s", err);
}

static void many_teardown(void)
{
	ctl_mux_destroy(W.mux);
	ctl_session_destroy(W.venue.s);
	ctl_store_mem_destroy(W.venue.mem);
	ctl_config_free(&W.cfg);
	free(B.ini);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", W.dir);
	cr_assert_eq(system(cmd), 0);
}

static void many_send(uint32_t conn, int user, uint64_t seq, const char *type, const char *b)
{
	char buf[512], name[16];
	snprintf(name, sizeof(name), "u%03d", user);
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), FIX_VER_44, type, NULL);
	fix_enc_uint(&e, 34, seq);
	fix_enc_cstr(&e, 49, name);
	fix_enc_time(&e, 52, W.now, FIX_TIME_MS);
	fix_enc_cstr(&e, 56, "LMAX.Orders");
	fix_enc_raw(&e, b, strlen(b));
	char *out;
	size_t n = fix_enc_finish(&e, &out);
	cr_assert_gt(n, 0);
	ctl_mux_client_bytes(W.mux, conn, out, n, W.now);
}

static uint32_t conn_of(int i)
{
	return (uint32_t)(CTL_MUX_MAX_CONNS - 1 - 6 * i); /* spread over the whole id range */
}

Test(many, six_hundred_users_connect_and_log_on_at_once, .init = many_setup,
     .fini = many_teardown)
{
	const uint32_t src = (198u << 24) | (18u << 16) | 10u;
	for (int i = 0; i < MANY; i++) {
		ctl_mux_client_accepted(W.mux, conn_of(i), src, W.now);
		many_send(conn_of(i), i, 1, "A", "98=0\001108=30\001");
	}
	pump();
	int logged = 0, closed = 0;
	for (int i = 0; i < MANY; i++) {
		logged += B.logons[conn_of(i)] == 1;
		closed += B.closes[conn_of(i)];
	}
	cr_assert_eq(closed, 0);
	cr_assert_eq(logged, MANY, "every user has its Logon answered");
	struct ctl_mux_session_info si;
	cr_assert_eq(ctl_mux_session_info(W.mux, 0, &si), 0);
	cr_assert_eq(si.users_online, MANY);
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_VENUE_LOGONS), 1);
	/* The highest id and the 600th user trade like the first. */
	const char *order = "11=X-1\00121=1\00138=1\00140=1\00154=1\00155=EUR/USD\001"
			    "60=20270115-08:00:00\001";
	many_send(conn_of(0), 0, 2, "D", order);
	many_send(conn_of(MANY - 1), MANY - 1, 2, "D", "11=X-2\00121=1\00138=1\00140=1\00154=1\001"
							  "55=EUR/USD\00160=20270115-08:00:00\001");
	pump();
	cr_assert_eq(W.venue_orders_seen, 2);
	cr_assert_eq(B.execs[conn_of(0)], 1);
	cr_assert_eq(B.execs[conn_of(MANY - 1)], 1);
	/* An id beyond the limit is not a connection. */
	ctl_mux_client_accepted(W.mux, CTL_MUX_MAX_CONNS, src, W.now);
	many_send(CTL_MUX_MAX_CONNS, 1, 1, "A", "98=0\001108=30\001");
	cr_assert_eq(ctl_mux_counter(W.mux, CTL_MUX_LOGONS_REFUSED), 0);
}
