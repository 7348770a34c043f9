/* tests/control/venue_sim: the simulator's pure parts (command line, numbers, normal form,
 * order book, price feed) without sockets or sessions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "vsim.h"

/* ---------------------------------------------------------------------------------------------
 * Command line.
 * ------------------------------------------------------------------------------------------- */

static int parse(struct vsim_cfg *cfg, char *err, size_t cap, const char **args)
{
	char *argv[40];
	int argc = 0;
	argv[argc++] = (char *)"fixmux-venue-sim";
	for (int i = 0; args[i] != NULL; i++)
		argv[argc++] = (char *)args[i];
	return vsim_cli_parse(argc, argv, cfg, err, cap);
}

Test(vsim_cli, a_full_command_line)
{
	static struct vsim_cfg cfg;
	char err[512];
	const char *a[] = {"--listen", "127.0.0.1:9876", "--mode", "echo", "--store", "/tmp/x",
			   "--session", "FIX.4.4:ISLD:TW44:reset", "--session",
			   "FIXT.1.1:V:DC:dropcopy:nextexpected", "--fsync", "batch", "--heartbeat-check",
			   "--seed", "42", "--md-interval-ms", "250", "--fill-ratio", "0.25",
			   "--stats-file", "/tmp/s.json", "--stats-interval-ms", "500", NULL};
	cr_assert_eq(parse(&cfg, err, sizeof(err), a), 0, "%s", err);
	cr_assert_str_eq(cfg.listen_addr, "127.0.0.1");
	cr_assert_eq(cfg.listen_port, 9876);
	cr_assert_eq(cfg.mode, VSIM_ECHO);
	cr_assert_eq(cfg.nsess, 2);
	cr_assert_eq(cfg.sess[0].ver, FIX_VER_44);
	cr_assert_str_eq(cfg.sess[0].ours, "ISLD");
	cr_assert_str_eq(cfg.sess[0].theirs, "TW44");
	cr_assert(cfg.sess[0].reset && !cfg.sess[0].drop_copy);
	cr_assert_eq(cfg.sess[1].ver, FIX_VER_T11);
	cr_assert(cfg.sess[1].drop_copy && !cfg.sess[1].reset && cfg.sess[1].next_expected);
	cr_assert(!cfg.sess[0].next_expected);
	cr_assert_eq(cfg.fsync, CTL_JOURNAL_FSYNC_BATCH);
	cr_assert(cfg.heartbeat_check);
	cr_assert_eq(cfg.seed, 42);
	cr_assert_eq(cfg.md_interval_ms, 250);
	cr_assert_eq(cfg.fill_permille, 250);
	cr_assert_str_eq(cfg.stats_file, "/tmp/s.json");
	cr_assert_eq(cfg.stats_interval_ms, 500);
}

Test(vsim_cli, each_error_names_the_option)
{
	static struct vsim_cfg cfg;
	struct {
		const char *args[14];
		const char *named;
	} cases[] = {
		{{"--mode", "echo", "--store", "/tmp", "--session", "FIX.4.4:A:B", NULL},
		 "--listen"},
		{{"--listen", "1.2.3.4", "--mode", "echo", NULL}, "--listen '1.2.3.4'"},
		{{"--listen", "1.2.3.4:70000", NULL}, "--listen '1.2.3.4:70000'"},
		{{"--listen", "h:1", "--mode", "both", NULL}, "--mode 'both'"},
		{{"--listen", "h:1", "--mode", "echo", "--store", "/t", NULL}, "no session"},
		{{"--listen", "h:1", "--mode", "echo", "--session", "FIX.4.4:A", NULL}, "FIX.4.4:A"},
		{{"--session", "FIX.4.4:A:B:often", NULL}, "unknown flag 'often'"},
		{{"--session", "FIX.5.0:A:B", NULL}, "BeginString"},
		{{"--session", "FIX.4.4:A:B", "--session", "FIX.4.4:A:B", NULL}, "twice"},
		{{"--fsync", "sometimes", NULL}, "--fsync 'sometimes'"},
		{{"--fill-ratio", "1.5", NULL}, "--fill-ratio '1.5'"},
		{{"--fill-ratio", "0.0001", NULL}, "--fill-ratio '0.0001'"},
		{{"--seed", "-3", NULL}, "--seed '-3'"},
		{{"--md-interval-ms", "0", NULL}, "--md-interval-ms '0'"},
		{{"--md-rate", "0", NULL}, "--md-rate '0'"},
		{{"--md-rate", "2000000", NULL}, "--md-rate '2000000'"},
		{{"--listen", "h:1", "--mode", "echo", "--store", "/t", "--session", "FIX.4.4:A:B",
		  "--md-rate", "10", "--md-interval-ms", "5", NULL},
		 "--md-rate and --md-interval-ms exclude each other"},
		{{"--frobnicate", NULL}, "'--frobnicate'"},
		{{"--listen", "h:1", "--mode", "echo", "--store", "/t", "--session", "FIX.4.4:A:B",
		  "--stats-interval-ms", "5", NULL},
		 "--stats-interval-ms needs --stats-file"},
		{{"--listen", NULL}, "--listen needs a value"},
		{{"--sessions", "/nonexistent/x", NULL}, "--sessions: cannot open '/nonexistent/x'"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char err[512] = "";
		cr_assert_eq(parse(&cfg, err, sizeof(err), cases[i].args), -1, "case %zu", i);
		cr_assert(strstr(err, cases[i].named) != NULL, "case %zu: '%s' does not name %s", i,
			  err, cases[i].named);
	}
}

Test(vsim_cli, session_credentials)
{
	struct vsim_sess_cfg sc;
	char err[256];
	cr_assert_eq(vsim_parse_session("FIX.4.2:V:C:user=u1:password=s3cret:reset", &sc, err,
					sizeof(err)),
		     0, "%s", err);
	cr_assert_str_eq(sc.user, "u1");
	cr_assert_str_eq(sc.password, "s3cret");
	cr_assert(sc.reset);
	cr_assert_eq(vsim_parse_session("FIX.4.2:V:C:password=", &sc, err, sizeof(err)), -1);
	cr_assert(strstr(err, "'password='") != NULL, "%s", err);
}

Test(vsim_cli, sessions_file_with_comments_and_a_bad_line)
{
	char path[] = "/tmp/vsim-sessions-XXXXXX";
	int fd = mkstemp(path);
	cr_assert_geq(fd, 0);
	FILE *f = fdopen(fd, "w");
	fprintf(f, "# venue sessions\n\nFIX.4.2:V:A   # orders\n  FIXT.1.1:V:B:reset\n");
	fclose(f);
	static struct vsim_cfg cfg;
	char err[512];
	const char *a[] = {"--listen", "0.0.0.0:0", "--mode", "exchange", "--store", "/tmp/x",
			   "--sessions", path, NULL};
	cr_assert_eq(parse(&cfg, err, sizeof(err), a), 0, "%s", err);
	cr_assert_eq(cfg.nsess, 2);
	cr_assert_str_eq(cfg.sess[0].theirs, "A");
	cr_assert(cfg.sess[1].reset);
	f = fopen(path, "a");
	fprintf(f, "FIX.4.4:V\n");
	fclose(f);
	cr_assert_eq(parse(&cfg, err, sizeof(err), a), -1);
	cr_assert(strstr(err, "line 5") != NULL, "%s", err);
	remove(path);
}

/* ---------------------------------------------------------------------------------------------
 * Numbers.
 * ------------------------------------------------------------------------------------------- */

Test(vsim_numbers, scaled_round_trip)
{
	struct {
		const char *in, *out;
	} c[] = {{"002000.00", "2000"}, {"1.2345", "1.2345"}, {"-0.5", "-0.5"},
		 {"0", "0"},            {"1.00000001", "1.00000001"}};
	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		int64_t v;
		cr_assert_eq(vsim_parse_scaled(c[i].in, strlen(c[i].in), &v), 0, "%s", c[i].in);
		char b[32];
		vsim_fmt_scaled(v, b);
		cr_assert_str_eq(b, c[i].out);
	}
	int64_t v;
	cr_assert_eq(vsim_parse_scaled("1.000000001", 11, &v), -1, "more than 8 decimals");
	cr_assert_eq(vsim_parse_scaled("abc", 3, &v), -1);
	cr_assert_eq(vsim_parse_scaled("99999999999999", 14, &v), -1, "does not fit when scaled");
}

/* ---------------------------------------------------------------------------------------------
 * Normal form.
 * ------------------------------------------------------------------------------------------- */

static void normal_form(enum fix_version v, const char *in, char *out, size_t cap)
{
	static char buf[4096];
	static struct fix_field fields[256];
	/* in uses '|' for SOH and has no 9/10: add them. */
	char body[2048];
	size_t n = 0;
	const char *rest = strchr(in, '|') + 1;
	for (const char *p = rest; *p != '\0'; p++)
		body[n++] = *p == '|' ? FIX_SOH : *p;
	int k = snprintf(buf, sizeof(buf), "%.*s\0019=%zu\001%.*s", (int)(rest - in - 1), in, n,
			 (int)n, body);
	unsigned sum = 0;
	for (int i = 0; i < k; i++)
		sum += (unsigned char)buf[i];
	k += snprintf(buf + k, sizeof(buf) - (size_t)k, "10=%03u\001", sum % 256);
	struct fix_msg m = {.fields = fields, .cap = 256};
	cr_assert_eq(fix_parse(&m, buf, (size_t)k), FIX_OK);
	static struct vsim_body b;
	b.n = 0;
	b.overflow = false;
	struct fix_field extra[8];
	size_t ne = 8;
	vsim_echo_body(&m, fix_dict_get(v), &b, extra, &ne);
	size_t o = 0;
	for (size_t i = 0; i < ne; i++)
		o += (size_t)snprintf(out + o, cap - o, "H%u=%.*s|", extra[i].tag, (int)extra[i].len,
				      extra[i].val);
	for (size_t i = 0; i < b.n && o + 1 < cap; i++)
		out[o++] = b.b[i] == FIX_SOH ? '|' : b.b[i];
	out[o] = '\0';
}

Test(vsim_echo, body_fields_ascending_header_extras_kept)
{
	char out[2048];
	normal_form(FIX_VER_44,
		    "8=FIX.4.4|35=D|49=TW44|34=3|56=ISLD|52=20020619-16:14:10|97=Y|40=1|55=MSFT|"
		    "60=20020619-16:14:10|54=1|21=3|11=id|",
		    out, sizeof(out));
	cr_assert_str_eq(out, "H97=Y|11=id|21=3|40=1|54=1|55=MSFT|60=20020619-16:14:10|");
}

Test(vsim_echo, repeating_groups_stay_intact_at_their_count_tag)
{
	char out[2048];
	/* NoPartyIDs(453) with two entries whose own order (448 447 452) is the definition's,
	 * then a top-level 38 after the group and a 1 (Account) before it. */
	normal_form(FIX_VER_44,
		    "8=FIX.4.4|35=D|34=2|49=C|52=20020619-16:14:10|56=V|55=EURUSD|11=x|"
		    "453=2|448=P1|447=D|452=1|448=P2|447=D|452=3|38=5|1=ACC|54=1|40=1|"
		    "60=20020619-16:14:10|",
		    out, sizeof(out));
	cr_assert_str_eq(out, "1=ACC|11=x|38=5|40=1|54=1|55=EURUSD|60=20020619-16:14:10|"
			      "453=2|448=P1|447=D|452=1|448=P2|447=D|452=3|");
}

Test(vsim_echo, an_empty_group_is_a_plain_field)
{
	char out[2048];
	normal_form(FIX_VER_44,
		    "8=FIX.4.4|35=d|34=2|49=C|52=20020619-16:14:10|56=V|320=JCD|322=1|323=6|"
		    "55=TBS|22=8|167=CS|454=0|",
		    out, sizeof(out));
	cr_assert_str_eq(out, "22=8|55=TBS|167=CS|320=JCD|322=1|323=6|454=0|");
}

/* ---------------------------------------------------------------------------------------------
 * Order book.
 * ------------------------------------------------------------------------------------------- */

struct rec {
	struct vsim_exec e[64];
	struct vsim_order o[64]; /* copy of the order at the time */
	char clordid[64][64], orig[64][64], text[64][128];
	int n;
	int cxl_rejects;
	bool cxl_reject_replace;
	int changes;
};
static struct rec R;

static void rec_exec(void *arg, const struct vsim_exec *e)
{
	(void)arg;
	cr_assert_lt(R.n, 64);
	R.e[R.n] = *e;
	if (e->o != NULL)
		R.o[R.n] = *e->o;
	snprintf(R.clordid[R.n], 64, "%s", e->clordid != NULL ? e->clordid : "");
	snprintf(R.orig[R.n], 64, "%s", e->orig_clordid != NULL ? e->orig_clordid : "");
	snprintf(R.text[R.n], 128, "%s", e->text != NULL ? e->text : "");
	R.n++;
}

static void rec_cxl_reject(void *arg, int sess, const struct vsim_req *r, bool replace,
			   const struct vsim_order *o, const char *text)
{
	(void)arg, (void)sess, (void)r, (void)o, (void)text;
	R.cxl_rejects++;
	R.cxl_reject_replace = replace;
}

static void rec_change(void *arg, const struct vsim_order *o)
{
	(void)arg, (void)o;
	R.changes++;
}

static struct vsim_book bk;

static void book_setup(void)
{
	memset(&R, 0, sizeof(R));
	cr_assert_eq(vsim_book_init(&bk, 7, 0, 1000), 0);
	bk.on_exec = rec_exec;
	bk.on_cxl_reject = rec_cxl_reject;
	bk.on_change = rec_change;
}

static void book_teardown(void)
{
	vsim_book_free(&bk);
}

static struct vsim_req req(const char *id, const char *orig, int64_t qty, int64_t px)
{
	struct vsim_req r = {.clordid = id, .clordid_len = strlen(id), .symbol = "EURUSD",
			     .symbol_len = 6, .side = '1', .ord_type = '2', .has_qty = true,
			     .has_price = true, .qty = qty, .price = px};
	if (orig != NULL) {
		r.orig = orig;
		r.orig_len = strlen(orig);
	}
	return r;
}

TestSuite(vsim_book, .init = book_setup, .fini = book_teardown);

Test(vsim_book, resting_order_replaced_then_cancelled)
{
	struct vsim_req r = req("A", NULL, 100 * VSIM_SCALE, VSIM_SCALE);
	vsim_book_new_order(&bk, 0, &r);
	cr_assert_eq(R.n, 1);
	cr_assert_eq(R.e[0].type, VSIM_EX_NEW);
	cr_assert_eq(R.e[0].ord_status, '0');
	cr_assert_eq(vsim_book_open_count(&bk, 0), 1);
	r = req("B", "A", 150 * VSIM_SCALE, 2 * VSIM_SCALE);
	vsim_book_replace(&bk, 0, &r);
	cr_assert_eq(R.n, 2);
	cr_assert_eq(R.e[1].type, VSIM_EX_REPLACED);
	cr_assert_str_eq(R.clordid[1], "B");
	cr_assert_str_eq(R.orig[1], "A");
	cr_assert_eq(R.o[1].qty, 150 * VSIM_SCALE);
	cr_assert_eq(R.o[1].oid, R.o[0].oid, "the OrderID stays");
	r = req("C", "A", 0, 0);
	vsim_book_cancel(&bk, 0, &r);
	cr_assert_eq(R.cxl_rejects, 1, "A was replaced by B");
	r = req("C", "B", 0, 0);
	vsim_book_cancel(&bk, 1, &r);
	cr_assert_eq(R.cxl_rejects, 2, "another session cannot cancel it");
	vsim_book_cancel(&bk, 0, &r);
	cr_assert_eq(R.n, 3);
	cr_assert_eq(R.e[2].type, VSIM_EX_CANCELED);
	cr_assert_eq(R.e[2].ord_status, '4');
	cr_assert_eq(vsim_book_open_count(&bk, 0), 0);
	cr_assert_str_neq(R.e[0].exec_id, R.e[1].exec_id);
	cr_assert_str_neq(R.e[1].exec_id, R.e[2].exec_id);
}

Test(vsim_book, invalid_orders_are_rejected_with_a_reason)
{
	struct vsim_req bad[6];
	bad[0] = req("Q", NULL, 0, VSIM_SCALE);
	bad[1] = req("P", NULL, VSIM_SCALE, 0);
	bad[2] = req("S", NULL, VSIM_SCALE, VSIM_SCALE);
	bad[2].side = '7';
	bad[3] = req("T", NULL, VSIM_SCALE, VSIM_SCALE);
	bad[3].ord_type = '3';
	bad[4] = req("U", NULL, VSIM_SCALE, VSIM_SCALE);
	bad[4].symbol_len = 0;
	bad[5] = req("V", NULL, VSIM_SCALE, VSIM_SCALE);
	bad[5].bad_number = true;
	for (int i = 0; i < 6; i++)
		vsim_book_new_order(&bk, 0, &bad[i]);
	cr_assert_eq(R.n, 6);
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(R.e[i].type, VSIM_EX_REJECTED);
		cr_assert_eq(R.e[i].ord_status, '8');
		cr_assert_neq(R.text[i][0], '\0');
	}
	cr_assert_eq(vsim_book_open_count(&bk, 0), 0);
	cr_assert_eq(R.changes, 0, "nothing persisted for rejected orders");
	/* A duplicate ClOrdID of an open order is rejected; the first order stays. */
	struct vsim_req r = req("D", NULL, VSIM_SCALE, VSIM_SCALE);
	vsim_book_new_order(&bk, 0, &r);
	vsim_book_new_order(&bk, 0, &r);
	cr_assert_eq(R.e[7].type, VSIM_EX_REJECTED);
	cr_assert(strstr(R.text[7], "duplicate") != NULL);
	cr_assert_eq(vsim_book_open_count(&bk, 0), 1);
}

static void run_orders(uint32_t permille, int n, int *none, int *partial, int *full)
{
	bk.fill_permille = permille;
	*none = *partial = *full = 0;
	for (int i = 0; i < n; i++) {
		char id[16];
		snprintf(id, sizeof(id), "F%d-%u", i, permille);
		struct vsim_req r = req(id, NULL, 10 * VSIM_SCALE, 3 * VSIM_SCALE);
		R.n = 0;
		vsim_book_new_order(&bk, 0, &r);
		cr_assert_eq(R.e[0].type, VSIM_EX_NEW);
		if (R.n == 1) {
			(*none)++;
			continue;
		}
		cr_assert_eq(R.n, 2);
		cr_assert_eq(R.e[1].type, VSIM_EX_FILL);
		cr_assert_eq(R.e[1].last_px, 3 * VSIM_SCALE, "at its limit price");
		if (R.e[1].ord_status == '2') {
			(*full)++;
		} else {
			(*partial)++;
			cr_assert_eq(R.e[1].ord_status, '1');
			cr_assert_eq(R.e[1].last_qty, 5 * VSIM_SCALE);
		}
	}
}

Test(vsim_book, fills_follow_the_ratio)
{
	int none, partial, full;
	run_orders(1000, 50, &none, &partial, &full);
	cr_assert_eq(full, 50, "ratio 1: everything trades in full");
	cr_assert_eq(vsim_book_open_count(&bk, 0), 0);
	run_orders(0, 50, &none, &partial, &full);
	cr_assert_eq(none, 50, "ratio 0: nothing trades");
	cr_assert_eq(vsim_book_open_count(&bk, 0), 50);
	run_orders(500, 200, &none, &partial, &full);
	cr_assert(none > 0 && partial > 0 && full > 0, "%d %d %d", none, partial, full);
	cr_assert_eq(vsim_book_open_count(&bk, 0), 50u + (uint32_t)(none + partial));
}

Test(vsim_book, many_resting_orders_stay_findable)
{
	/* Fill the book, then cancel every other order: the index finds each by ClOrdID. */
	bk.fill_permille = 0;
	enum { N = 20000 };
	for (int i = 0; i < N; i++) {
		char id[16];
		snprintf(id, sizeof(id), "M%d", i);
		struct vsim_req r = req(id, NULL, VSIM_SCALE, VSIM_SCALE);
		R.n = 0;
		vsim_book_new_order(&bk, i % 3, &r);
		cr_assert_eq(R.e[0].type, VSIM_EX_NEW);
	}
	for (int i = 0; i < N; i += 2) {
		char id[16], c[16];
		snprintf(id, sizeof(id), "M%d", i);
		snprintf(c, sizeof(c), "X%d", i);
		struct vsim_req r = req(c, id, 0, 0);
		R.n = 0;
		vsim_book_cancel(&bk, i % 3, &r);
		cr_assert_eq(R.n, 1, "M%d found", i);
		cr_assert_eq(R.e[0].type, VSIM_EX_CANCELED);
	}
	uint32_t open = vsim_book_open_count(&bk, 0) + vsim_book_open_count(&bk, 1) +
			vsim_book_open_count(&bk, 2);
	cr_assert_eq(open, N / 2);
	/* Freed slots are reused: the high-water mark does not grow. */
	uint32_t hw = bk.n_used;
	for (int i = 0; i < N / 2; i++) {
		char id[16];
		snprintf(id, sizeof(id), "N%d", i);
		struct vsim_req r = req(id, NULL, VSIM_SCALE, VSIM_SCALE);
		R.n = 0;
		vsim_book_new_order(&bk, 0, &r);
	}
	cr_assert_eq(bk.n_used, hw);
	/* A cancelled ClOrdID may be used again by a new order. */
	struct vsim_req r = req("M0", NULL, VSIM_SCALE, VSIM_SCALE);
	R.n = 0;
	vsim_book_new_order(&bk, 0, &r);
	cr_assert_eq(R.e[0].type, VSIM_EX_NEW);
}

Test(vsim_book, disconnect_cancels_are_copied_then_reported_under_the_same_exec_id)
{
	struct vsim_req r = req("X1", NULL, VSIM_SCALE, VSIM_SCALE);
	vsim_book_new_order(&bk, 0, &r);
	r = req("X2", NULL, VSIM_SCALE, VSIM_SCALE);
	vsim_book_new_order(&bk, 0, &r);
	r = req("Y1", NULL, VSIM_SCALE, VSIM_SCALE);
	vsim_book_new_order(&bk, 1, &r);
	R.n = 0;
	cr_assert_eq(vsim_book_cancel_session(&bk, 0), 2);
	cr_assert_eq(R.n, 2);
	for (int i = 0; i < 2; i++)
		cr_assert_eq(R.e[i].route, VSIM_TO_COPIES, "only the drop copy hears it now");
	cr_assert_eq(vsim_book_open_count(&bk, 0), 0);
	cr_assert_eq(vsim_book_open_count(&bk, 1), 1, "other sessions keep their orders");
	char ids[2][48];
	snprintf(ids[0], 48, "%s", R.e[0].exec_id);
	snprintf(ids[1], 48, "%s", R.e[1].exec_id);
	cr_assert_eq(vsim_book_report_pending(&bk, 0), 2);
	cr_assert_eq(R.n, 4);
	for (int i = 2; i < 4; i++) {
		cr_assert_eq(R.e[i].route, VSIM_TO_OWNER);
		cr_assert_eq(R.e[i].type, VSIM_EX_CANCELED);
		cr_assert_str_eq(R.e[i].exec_id, ids[i - 2]);
	}
	cr_assert_eq(vsim_book_report_pending(&bk, 0), 0, "reported once");
}

Test(vsim_book, restore_replays_the_latest_state)
{
	struct vsim_order o = {.oid = 5, .run = 1, .qty = VSIM_SCALE, .state = VSIM_OS_OPEN,
			       .side = '1', .ord_type = '2', .clordid = "O5", .symbol = "EURUSD"};
	cr_assert_eq(vsim_book_restore(&bk, &o), 0);
	o.cum = VSIM_SCALE / 2;
	cr_assert_eq(vsim_book_restore(&bk, &o), 0);
	cr_assert_eq(vsim_book_open_count(&bk, 0), 1, "an update, not a second order");
	o.state = VSIM_OS_FREE;
	cr_assert_eq(vsim_book_restore(&bk, &o), 0);
	cr_assert_eq(vsim_book_open_count(&bk, 0), 0, "closed by its last record");
}

/* ---------------------------------------------------------------------------------------------
 * Feed.
 * ------------------------------------------------------------------------------------------- */

Test(vsim_feed, subscriptions_per_session_and_prices_per_seed)
{
	static struct vsim_feed f, g;
	vsim_feed_init(&f, 3, 100, 0);
	vsim_feed_init(&g, 3, 100, 0);
	cr_assert_not_null(vsim_feed_add_sub(&f, 0, "M", 1, 0));
	cr_assert_not_null(vsim_feed_find_sub(&f, 0, "M", 1));
	cr_assert_null(vsim_feed_find_sub(&f, 1, "M", 1), "MDReqIDs are per session");
	vsim_feed_drop_session(&f, 0);
	cr_assert_null(vsim_feed_find_sub(&f, 0, "M", 1));
	cr_assert_eq(vsim_feed_mid(&f, "EURUSD"), vsim_feed_mid(&g, "EURUSD"));
	for (int i = 0; i < 50; i++)
		cr_assert_eq(vsim_feed_step(&f, "EURUSD"), vsim_feed_step(&g, "EURUSD"));
	cr_assert_gt(vsim_feed_mid(&f, "EURUSD"), 0);
	struct vsim_qstream *q = vsim_feed_add_quote(&f, 2, "RQ", 2, 0);
	cr_assert_not_null(q);
	snprintf(q->last_quote_id, sizeof(q->last_quote_id), "Q9");
	cr_assert_eq(vsim_feed_find_quote(&f, 2, NULL, 0, "Q9", 2), q);
	cr_assert_eq(vsim_feed_find_quote(&f, 2, "RQ", 2, NULL, 0), q);
	cr_assert_null(vsim_feed_find_quote(&f, 1, "RQ", 2, NULL, 0));
}

/* --md-rate: a strict schedule. A late simulator sends every increment it owes, each with its
 * own scheduled time (a stall shows in the receivers' latency instead of being skipped); the
 * unstamped --md-interval-ms feed sends one and moves on. */
Test(vsim_feed, stamped_schedule_catches_up_unstamped_skips)
{
	static struct vsim_feed f, g;
	vsim_feed_init(&f, 1, 100, 1000); /* 1000/s: every 1 ms, the interval ignored */
	cr_assert(f.stamped);
	cr_assert_eq(f.interval_ns, 1000000);
	struct vsim_sub *s = vsim_feed_add_sub(&f, 0, "M", 1, 0);
	cr_assert_eq(s->next_ns, 1000000);
	int64_t first;
	cr_assert_eq(vsim_feed_due(&f, s, 999999, 64, &first), 0, "not yet due");
	/* 10.5 ms late: increments at 1, 2, ... 10 ms are owed, in order, none skipped. */
	cr_assert_eq(vsim_feed_due(&f, s, 10500000, 64, &first), 10);
	cr_assert_eq(first, 1000000);
	cr_assert_eq(s->next_ns, 11000000);
	/* At most max per call; the rest come at the next call with their own times. */
	cr_assert_eq(vsim_feed_due(&f, s, 100000000, 64, &first), 64);
	cr_assert_eq(first, 11000000);
	cr_assert_eq(vsim_feed_due(&f, s, 100000000, 64, &first), 26);
	cr_assert_eq(first, 75000000);

	vsim_feed_init(&g, 1, 1, 0); /* --md-interval-ms 1 */
	cr_assert(!g.stamped);
	s = vsim_feed_add_sub(&g, 0, "M", 1, 0);
	cr_assert_eq(vsim_feed_due(&g, s, 10500000, 64, &first), 1, "one, however late");
	cr_assert_eq(s->next_ns, 11500000, "the schedule restarts from now");
}

Test(vsim_feed, time_of_day_with_nanoseconds)
{
	char t[32];
	/* 2026-11-26 13:05:09.000123456 UTC */
	int64_t ns = 1795698309ll * 1000000000ll + 123456;
	cr_assert_eq(vsim_fmt_time_of_day_ns(ns, t, sizeof(t)), 18);
	cr_assert_str_eq(t, "13:05:09.000123456");
	vsim_fmt_time_of_day_ns(86399ll * 1000000000ll + 999999999ll, t, sizeof(t));
	cr_assert_str_eq(t, "23:59:59.999999999");
}

Test(vsim_cli, md_rate)
{
	static struct vsim_cfg cfg;
	char err[512] = "";
	const char *a[] = {"--listen", "h:1", "--mode", "exchange", "--store", "/t", "--session",
			   "FIX.4.4:A:B", "--md-rate", "500", NULL};
	cr_assert_eq(parse(&cfg, err, sizeof(err), a), 0, "%s", err);
	cr_assert_eq(cfg.md_rate, 500);
}
