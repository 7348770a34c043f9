/* Configuration loading: a good file loads with its defaults; every rule of the guidelines'
 * table and every malformed key is refused with a message naming section, key and rule.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ctl_config.h"

/* A hash of "secret" made once by fixmux-passwd's library call would differ per run (salt),
 * so tests that load configs use a syntactically valid crypt string; password checks below
 * hash for real. */
#define HASH "$y$j9T$abcdefghijklmnop$0123456789012345678901234567890123456789012"

static const char *base =
	"[appliance]\n"
	"client_port = net_tap0\n"
	"venue_port = net_tap1\n"
	"client_address = 198.18.0.2/24\n"
	"venue_address = 198.18.1.2/24\n"
	"listen_port = 9878\n"
	"store_dir = /tmp/fixmux-store\n"
	"\n"
	"[venue LMAX]\n"
	"type = CLOB\n"
	"\n"
	"[session LMAX.Orders]\n"
	"address = 198.18.1.1:9880\n"
	"fix_version = FIX.4.4\n"
	"sender_comp_id = FIXMUX\n"
	"target_comp_id = LMAX\n"
	"\n"
	"[session LMAX.Pricing]\n"
	"address = 198.18.1.1:9881\n"
	"sender_comp_id = FIXMUX\n"
	"target_comp_id = LMAXMD\n"
	"heartbeat = 5\n"
	"\n"
	"[user alice]\n"
	"password_hash = " HASH "\n"
	"sessions = LMAX.Orders, LMAX.Pricing\n"
	"allowed_addresses = 198.18.0.0/24\n"
	"\n"
	"[user bob]\n"
	"password_hash = " HASH "\n"
	"sessions = LMAX.Orders\n";

static char err[512];

static int load_with(const char *extra, struct ctl_config *cfg)
{
	static char text[8192];
	snprintf(text, sizeof(text), "%s%s", base, extra);
	err[0] = '\0';
	return ctl_config_load_string(cfg, text, "fixmux.ini", err, sizeof(err));
}

static void expect_refused(const char *extra, const char *needle1, const char *needle2)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with(extra, &cfg), -1, "accepted a bad configuration: %s", extra);
	cr_assert(strstr(err, needle1), "message '%s' lacks '%s'", err, needle1);
	if (needle2)
		cr_assert(strstr(err, needle2), "message '%s' lacks '%s'", err, needle2);
}

Test(config, good_file_loads_with_defaults)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.n_venues, 1);
	cr_assert_eq(cfg.n_sessions, 2);
	cr_assert_eq(cfg.n_users, 2);
	cr_assert_eq(cfg.app.listen_port, 9878);
	cr_assert_eq(cfg.app.fsync, CTL_FSYNC_BATCH);
	cr_assert_eq(cfg.app.idle, CTL_IDLE_BACKOFF);
	int orders = ctl_config_find_session(&cfg, "LMAX.Orders", 11);
	int pricing = ctl_config_find_session(&cfg, "LMAX.Pricing", 12);
	cr_assert(orders >= 0 && pricing >= 0);
	cr_assert_eq(cfg.sessions[orders].n_users, 2);
	cr_assert_eq(cfg.sessions[pricing].n_users, 1);
	cr_assert_eq(cfg.sessions[orders].heartbeat_s, 30);
	cr_assert_eq(cfg.sessions[pricing].heartbeat_s, 5);
	cr_assert_str_eq(cfg.sessions[orders].client_comp_id, "LMAX.Orders");
	cr_assert_eq(cfg.sessions[orders].port, 9880);
	cr_assert_eq(cfg.sessions[orders].addr, (198u << 24) | (18u << 16) | (1u << 8) | 1u);
	int bob = ctl_config_find_user(&cfg, "bob", 3);
	cr_assert(ctl_user_in_session(&cfg, bob, orders));
	cr_assert_not(ctl_user_in_session(&cfg, bob, pricing));
	cr_assert_eq(cfg.users[bob].ver, FIX_VER_44, "a user's version defaults to its session's");
	ctl_config_free(&cfg);
}

Test(config, session_type_names_are_case_insensitive_and_canonicalised)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("[session LMAX.dropcopy]\naddress = 198.18.1.1:9882\n"
			       "sender_comp_id = A\ntarget_comp_id = B\n"
			       "[user dc]\npassword_hash = " HASH "\nsessions = LMAX.DropCopy\n",
			       &cfg), 0, "%s", err);
	cr_assert(ctl_config_find_session(&cfg, "LMAX.DropCopy", 13) >= 0);
	ctl_config_free(&cfg);
}

Test(config, rfs_on_clob_venue_is_refused)
{
	expect_refused("[session LMAX.RFS]\naddress = 198.18.1.1:9883\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n"
		       "[user carol]\npassword_hash = " HASH "\nsessions = LMAX.RFS\n",
		       "[session LMAX.RFS]", "CLOB venue offers no RFS");
}

Test(config, dropcopy_with_two_users_is_refused_naming_them)
{
	expect_refused("[session LMAX.DropCopy]\naddress = 198.18.1.1:9882\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n"
		       "[user d1]\npassword_hash = " HASH "\nsessions = LMAX.DropCopy\n"
		       "[user d2]\npassword_hash = " HASH "\nsessions = LMAX.DropCopy\n",
		       "exactly one user", "d1, d2");
}

Test(config, taker_session_with_two_users_is_refused)
{
	expect_refused("[venue BANK]\ntype = Taker\n"
		       "[session BANK.Orders]\naddress = 198.18.1.3:9880\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n"
		       "[user t1]\npassword_hash = " HASH "\nsessions = BANK.Orders\n"
		       "[user t2]\npassword_hash = " HASH "\nsessions = BANK.Orders\n",
		       "[session BANK.Orders]", "Taker venue has exactly one user");
}

Test(config, maker_rfs_with_many_users_is_fine)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("[venue MK]\ntype = Maker\n"
			       "[session MK.RFS]\naddress = 198.18.1.4:9880\n"
			       "sender_comp_id = A\ntarget_comp_id = B\n"
			       "[user r1]\npassword_hash = " HASH "\nsessions = MK.RFS\n"
			       "[user r2]\npassword_hash = " HASH "\nsessions = MK.RFS\n",
			       &cfg), 0, "%s", err);
	ctl_config_free(&cfg);
}

Test(config, session_without_users_is_refused)
{
	expect_refused("[session LMAX.DropCopy]\naddress = 198.18.1.1:9882\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n",
		       "[session LMAX.DropCopy]", "at least one user");
}

Test(config, second_session_of_a_type_for_a_venue_is_refused)
{
	/* Same venue, same type, reached through an explicit venue key. */
	expect_refused("[session LMAX2.Orders]\nvenue = LMAX\naddress = 198.18.1.1:9890\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n"
		       "[user e]\npassword_hash = " HASH "\nsessions = LMAX2.Orders\n",
		       "already has a Orders session", "[session LMAX.Orders]");
}

Test(config, bad_values_name_line_section_and_key)
{
	expect_refused("[venue X]\ntype = Exchange\n", "fixmux.ini:33: [venue X] type:",
		       "not one of CLOB, Maker, Taker");
	expect_refused("[session LMAX.Orders]\nheartbeat = 0\n", "[session LMAX.Orders] heartbeat:",
		       "1-3600");
	expect_refused("[session LMAX.Orders]\naddress = 198.18.1.1\n", "address:", "a.b.c.d:port");
	expect_refused("[session LMAX.Orders]\nfix_version = FIX.4.0\n", "fix_version:", "FIX.4.2");
	expect_refused("[appliance]\nfsync = sometimes\n", "[appliance] fsync:", "none, batch");
	expect_refused("[appliance]\nlisten_port = 70000\n", "listen_port:", "1-65535");
	expect_refused("[appliance]\ncolour = blue\n", "[appliance] colour:", "unknown key");
	expect_refused("[user alice]\npassword_hash = secret\n", "password_hash:", "fixmux-passwd");
	expect_refused("[user alice]\nallowed_addresses = 198.18.0.0/33\n", "allowed_addresses:",
		       "198.18.0.0/33");
	expect_refused("[gateway g]\nx = 1\n", "[gateway g] x:", "unknown section");
	expect_refused("[session LMAX.Futures]\naddress = 198.18.1.1:1\n", "[session LMAX.Futures]", "VENUE.TYPE");
}

Test(config, dangling_references_are_refused)
{
	expect_refused("[user frank]\npassword_hash = " HASH "\nsessions = EBS.Orders\n",
		       "[user frank] sessions:", "no [session EBS.Orders]");
	expect_refused("[session EBS.Orders]\naddress = 198.18.1.1:9880\n"
		       "sender_comp_id = A\ntarget_comp_id = B\n",
		       "[session EBS.Orders] venue:", "no [venue EBS]");
	expect_refused("[session LMAX.Pricing]\nunroutable = user:bob\n",
		       "[session LMAX.Pricing] unroutable:", "'bob' is not a user of this session");
}

Test(config, missing_required_keys_are_named)
{
	struct ctl_config cfg;
	cr_assert_eq(ctl_config_load_string(&cfg, "[venue A]\ntype = CLOB\n", "x.ini", err,
					     sizeof(err)), -1);
	cr_assert(strstr(err, "[appliance]"), "%s", err);
	expect_refused("[user g]\nsessions = LMAX.Orders\n", "[user g] password_hash:", "required");
	expect_refused("[user h]\npassword_hash = " HASH "\n", "[user h] sessions:", "required");
}

Test(config, syntax_error_gives_the_line)
{
	expect_refused("[user broken\n", "fixmux.ini:32:", "syntax error");
}

Test(config, missing_file_names_it)
{
	struct ctl_config cfg;
	cr_assert_eq(ctl_config_load(&cfg, "/nonexistent/fixmux.ini", err, sizeof(err)), -1);
	cr_assert(strstr(err, "/nonexistent/fixmux.ini: cannot open"), "%s", err);
}

Test(config, loads_from_a_file_on_disk)
{
	char path[] = "/tmp/fixmux-config-XXXXXX";
	int fd = mkstemp(path);
	cr_assert(fd >= 0);
	cr_assert_eq(write(fd, base, strlen(base)), (ssize_t)strlen(base));
	close(fd);
	struct ctl_config cfg;
	int rc = ctl_config_load(&cfg, path, err, sizeof(err));
	unlink(path);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_eq(cfg.n_users, 2);
	ctl_config_free(&cfg);
}

Test(config, allowed_addresses)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("", &cfg), 0, "%s", err);
	const struct ctl_user_cfg *alice = &cfg.users[ctl_config_find_user(&cfg, "alice", 5)];
	const struct ctl_user_cfg *bob = &cfg.users[ctl_config_find_user(&cfg, "bob", 3)];
	uint32_t in = (198u << 24) | (18u << 16) | 77u, out = (198u << 24) | (19u << 16) | 77u;
	cr_assert(ctl_user_addr_allowed(alice, in));
	cr_assert_not(ctl_user_addr_allowed(alice, out));
	cr_assert(ctl_user_addr_allowed(bob, out), "no allowed_addresses means any source");
	ctl_config_free(&cfg);
}

Test(password, hash_then_check)
{
	char h1[CTL_TEXT_MAX], h2[CTL_TEXT_MAX];
	cr_assert_eq(ctl_password_hash("s3cret", h1, sizeof(h1)), 0);
	cr_assert_eq(ctl_password_hash("s3cret", h2, sizeof(h2)), 0);
	cr_assert_str_neq(h1, h2, "two hashes of one password must differ (salted)");
	cr_assert_eq(h1[0], '$');
	cr_assert(ctl_password_check(h1, "s3cret", 6));
	cr_assert(ctl_password_check(h2, "s3cret", 6));
	cr_assert_not(ctl_password_check(h1, "s3cres", 6));
	cr_assert_not(ctl_password_check(h1, "s3cret!", 7));
	cr_assert_not(ctl_password_check(h1, "", 0));
	cr_assert_not(ctl_password_check(h1, "s3c\0et", 6), "an embedded NUL never matches");
	cr_assert_not(ctl_password_check("not-a-hash", "s3cret", 6));
}

Test(password, tiny_output_buffer_is_an_error)
{
	char h[8];
	cr_assert_eq(ctl_password_hash("s3cret", h, sizeof(h)), -1);
}

Test(config, client_comp_ids_are_unique_per_user_only)
{
	/* Two sessions both facing users as ISLD: fine for different users ... */
	const char *two_isld =
		"[venue V2]\ntype = Maker\n"
		"[session V2.Orders]\naddress = 198.18.1.5:1\nsender_comp_id = A\n"
		"target_comp_id = B\nclient_comp_id = ISLD\n"
		"[session V2.Pricing]\naddress = 198.18.1.5:2\nsender_comp_id = A\n"
		"target_comp_id = C\nclient_comp_id = ISLD\n"
		"[user TW42]\npassword_hash = none\nallowed_addresses = 127.0.0.1\n"
		"sessions = V2.Orders\n"
		"[user TW44]\npassword_hash = none\nallowed_addresses = 127.0.0.1\n"
		"sessions = V2.Pricing\n";
	struct ctl_config cfg;
	cr_assert_eq(load_with(two_isld, &cfg), 0, "%s", err);
	int u = ctl_config_find_user(&cfg, "TW42", 4);
	cr_assert(cfg.users[u].no_password);
	ctl_config_free(&cfg);
	/* ... but one user could not tell them apart. */
	char both[2048];
	snprintf(both, sizeof(both), "%s[user TW50]\npassword_hash = " HASH
		 "\nsessions = V2.Orders, V2.Pricing\n", two_isld);
	expect_refused(both, "[user TW50] sessions:", "client-facing CompID 'ISLD'");
}

Test(config, a_user_without_password_needs_allowed_addresses)
{
	expect_refused("[user nopw]\npassword_hash = none\nsessions = LMAX.Orders\n",
		       "[user nopw] password_hash:", "allowed_addresses");
}

/* client_gateway: the next hop toward users on a routed network, on the client side's own
 * network; not set means on-link. */
Test(config, client_gateway)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.app.client_gateway, 0u, "on-link by default");
	ctl_config_free(&cfg);
	cr_assert_eq(load_with("[appliance]\nclient_gateway = 198.18.0.254\n", &cfg), 0, "%s", err);
	cr_assert_eq(cfg.app.client_gateway, (198u << 24) | (18u << 16) | 254u);
	ctl_config_free(&cfg);
	expect_refused("[appliance]\nclient_gateway = 198.18.0\n", "[appliance] client_gateway:",
		       "'198.18.0' is not an IPv4 address");
	expect_refused("[appliance]\nclient_gateway = 198.18.7.1\n",
		       "fixmux.ini: [appliance] client_gateway: 198.18.7.1",
		       "not on the network of client_address 198.18.0.2/24");
}

/* allow_user_defined_fields: tags >= 5000 the dictionary does not define. Venue sessions
 * allow them by default (a venue's custom tags are part of what users subscribed to), users
 * do not (their messages are checked at the edge of the shared venue session). */
Test(config, allow_user_defined_fields_defaults_and_overrides)
{
	struct ctl_config cfg;
	cr_assert_eq(load_with("", &cfg), 0, "%s", err);
	int orders = ctl_config_find_session(&cfg, "LMAX.Orders", 11);
	int pricing = ctl_config_find_session(&cfg, "LMAX.Pricing", 12);
	int alice = ctl_config_find_user(&cfg, "alice", 5);
	int bob = ctl_config_find_user(&cfg, "bob", 3);
	cr_assert(cfg.sessions[orders].allow_user_defined, "venue sessions allow them by default");
	cr_assert(cfg.sessions[pricing].allow_user_defined);
	cr_assert_not(cfg.users[alice].allow_user_defined, "users do not by default");
	cr_assert_not(cfg.users[bob].allow_user_defined);
	ctl_config_free(&cfg);
	cr_assert_eq(load_with("[session LMAX.Pricing]\nallow_user_defined_fields = no\n"
			       "[user bob]\nallow_user_defined_fields = yes\n", &cfg), 0, "%s", err);
	cr_assert(cfg.sessions[orders].allow_user_defined, "only the session named changes");
	cr_assert_not(cfg.sessions[pricing].allow_user_defined);
	cr_assert_not(cfg.users[alice].allow_user_defined, "only the user named changes");
	cr_assert(cfg.users[bob].allow_user_defined);
	ctl_config_free(&cfg);
}

Test(config, allow_user_defined_fields_bad_value_is_named)
{
	expect_refused("[session LMAX.Orders]\nallow_user_defined_fields = maybe\n",
		       "fixmux.ini:33: [session LMAX.Orders] allow_user_defined_fields:",
		       "'maybe' is not yes or no");
	expect_refused("[user bob]\nallow_user_defined_fields = 5000\n",
		       "fixmux.ini:33: [user bob] allow_user_defined_fields:",
		       "'5000' is not yes or no");
	expect_refused("[user bob]\nallow_user_defined_fields =\n",
		       "[user bob] allow_user_defined_fields:", "is not yes or no");
}
