/* control: loading and validating the fixmux configuration. Start-up only: allocates freely,
 * stops at the first problem and names it (file, line, section, key, rule).
 */
#include "ctl_config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const venue_type_names[CTL_VENUE__COUNT] = {"CLOB", "Maker", "Taker"};
static const char *const stype_names[CTL_STYPE__COUNT] = {"Pricing", "Orders", "RFS", "DropCopy"};

const char *ctl_venue_type_str(enum ctl_venue_type t)
{
	return t < CTL_VENUE__COUNT ? venue_type_names[t] : "?";
}

const char *ctl_session_type_str(enum ctl_session_type t)
{
	return t < CTL_STYPE__COUNT ? stype_names[t] : "?";
}

/* Raw references kept until every section is read: sections may come in any order. */
struct pending_ref {
	char text[512];
	int line;
};

struct parse_ctx {
	struct ctl_config *cfg;
	const char *file;
	int line;                 /* current line, counted by the reader */
	const char *text;         /* string input (ctl_config_load_string) */
	size_t text_pos;
	FILE *fp;
	char *err;
	size_t err_cap;
	bool failed;
	bool seen_appliance;
	/* per-section line numbers for cross-section messages */
	struct pending_ref *session_venue;   /* [session] venue = */
	struct pending_ref *session_unroute; /* [session] unroutable = */
	struct pending_ref *user_sessions;   /* [user] sessions = */
	bool *session_has_addr, *session_has_type;
	bool *venue_has_type;
	bool *user_has_hash;
};

static void fail(struct parse_ctx *c, const char *fmt, ...)
{
	if (c->failed)
		return;
	c->failed = true;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->err, c->err_cap, fmt, ap);
	va_end(ap);
}

#define FAIL_AT(c, sec, key, ...)                                                              \
	do {                                                                                   \
		char _m[256];                                                                  \
		snprintf(_m, sizeof(_m), __VA_ARGS__);                                         \
		fail(c, "%s:%d: [%s] %s: %s", (c)->file, (c)->line, sec, key, _m);             \
	} while (0)

static char *read_line(char *str, int num, void *stream)
{
	struct parse_ctx *c = stream;
	char *r;
	if (c->fp) {
		r = fgets(str, num, c->fp);
	} else {
		if (c->text[c->text_pos] == '\0')
			return NULL;
		size_t i = 0;
		while (i + 1 < (size_t)num && c->text[c->text_pos] != '\0') {
			char ch = c->text[c->text_pos++];
			str[i++] = ch;
			if (ch == '\n')
				break;
		}
		str[i] = '\0';
		r = str;
	}
	if (r)
		c->line++;
	return r;
}

static bool copy_str(char *dst, size_t cap, const char *v)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap)
		return false;
	memcpy(dst, v, n + 1);
	return true;
}

static bool parse_u32(const char *v, uint32_t min, uint32_t max, uint32_t *out)
{
	if (*v == '\0')
		return false;
	uint64_t x = 0;
	for (const char *p = v; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > max)
			return false;
	}
	if (x < min)
		return false;
	*out = (uint32_t)x;
	return true;
}

static bool parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "yes") || !strcasecmp(v, "y") || !strcasecmp(v, "true") ||
	    !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcasecmp(v, "no") || !strcasecmp(v, "n") || !strcasecmp(v, "false") ||
	    !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	return false;
}

static bool parse_ipv4(const char *v, uint32_t *out)
{
	struct in_addr a;
	if (inet_pton(AF_INET, v, &a) != 1)
		return false;
	*out = ntohl(a.s_addr);
	return true;
}

/* "198.18.0.2/24"; a bare address is a /32. */
static bool parse_net(const char *v, struct ctl_ipv4_net *n)
{
	char buf[64];
	if (strlen(v) >= sizeof(buf))
		return false;
	strcpy(buf, v);
	uint32_t prefix = 32;
	char *slash = strchr(buf, '/');
	if (slash) {
		*slash = '\0';
		if (!parse_u32(slash + 1, 0, 32, &prefix))
			return false;
	}
	if (!parse_ipv4(buf, &n->addr))
		return false;
	n->prefix = (uint8_t)prefix;
	return true;
}

/* "198.18.1.1:9880" */
static bool parse_endpoint(const char *v, uint32_t *addr, uint16_t *port)
{
	char buf[64];
	if (strlen(v) >= sizeof(buf))
		return false;
	strcpy(buf, v);
	char *colon = strrchr(buf, ':');
	uint32_t p;
	if (!colon)
		return false;
	*colon = '\0';
	if (!parse_ipv4(buf, addr) || !parse_u32(colon + 1, 1, 65535, &p))
		return false;
	*port = (uint16_t)p;
	return true;
}

static int lookup(const char *v, const char *const *names, int n)
{
	for (int i = 0; i < n; i++)
		if (!strcasecmp(v, names[i]))
			return i;
	return -1;
}

/* CompIDs and names: printable ASCII without SOH, '=', spaces or '|'. */
static bool valid_name(const char *v, size_t cap)
{
	size_t n = strlen(v);
	if (n == 0 || n >= cap)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)v[i];
		if (ch <= ' ' || ch >= 127 || ch == '=' || ch == '|' || ch == ',')
			return false;
	}
	return true;
}

static int find_venue(const struct ctl_config *cfg, const char *name)
{
	for (uint32_t i = 0; i < cfg->n_venues; i++)
		if (!strcmp(cfg->venues[i].name, name))
			return (int)i;
	return -1;
}

int ctl_config_find_session(const struct ctl_config *cfg, const char *name, size_t len)
{
	for (uint32_t i = 0; i < cfg->n_sessions; i++) {
		const char *s = cfg->sessions[i].name;
		if (strlen(s) == len && !memcmp(s, name, len))
			return (int)i;
	}
	return -1;
}

int ctl_config_find_user(const struct ctl_config *cfg, const char *name, size_t len)
{
	for (uint32_t i = 0; i < cfg->n_users; i++) {
		const char *s = cfg->users[i].name;
		if (strlen(s) == len && !memcmp(s, name, len))
			return (int)i;
	}
	return -1;
}

/* Finds or creates the object of a "[kind NAME]" section; -1 on a problem (reported). */
static int section_index(struct parse_ctx *c, const char *section, const char *kind)
{
	struct ctl_config *cfg = c->cfg;
	const char *name = section + strlen(kind) + 1;
	if (!strcmp(kind, "venue")) {
		int i = find_venue(cfg, name);
		if (i >= 0)
			return i;
		if (!valid_name(name, CTL_NAME_MAX)) {
			FAIL_AT(c, section, "(section)", "venue name must be 1-%d printable characters "
				"without spaces, '=', ',' or '|'", CTL_NAME_MAX - 1);
			return -1;
		}
		if (strchr(name, '.')) {
			FAIL_AT(c, section, "(section)", "venue name must not contain '.' (it separates "
				"venue and session type in session names)");
			return -1;
		}
		if (cfg->n_venues == CTL_MAX_VENUES) {
			FAIL_AT(c, section, "(section)", "more than %d venues", CTL_MAX_VENUES);
			return -1;
		}
		i = (int)cfg->n_venues++;
		strcpy(cfg->venues[i].name, name);
		return i;
	}
	if (!strcmp(kind, "session")) {
		const char *dot = strchr(name, '.');
		if (!valid_name(name, sizeof(cfg->sessions[0].name)) || !dot || dot == name ||
		    lookup(dot + 1, stype_names, CTL_STYPE__COUNT) < 0) {
			FAIL_AT(c, section, "(section)", "a venue session is named VENUE.TYPE with TYPE "
				"one of Pricing, Orders, RFS, DropCopy");
			return -1;
		}
		/* Look up by the canonical spelling of the type, whatever case the file used. */
		char canon[sizeof(cfg->sessions[0].name)];
		int t = lookup(dot + 1, stype_names, CTL_STYPE__COUNT);
		snprintf(canon, sizeof(canon), "%.*s.%s", (int)(dot - name), name, stype_names[t]);
		int i = ctl_config_find_session(cfg, canon, strlen(canon));
		if (i >= 0)
			return i;
		if (cfg->n_sessions == CTL_MAX_SESSIONS) {
			FAIL_AT(c, section, "(section)", "more than %d venue sessions", CTL_MAX_SESSIONS);
			return -1;
		}
		i = (int)cfg->n_sessions++;
		struct ctl_vsession_cfg *s = &cfg->sessions[i];
		strcpy(s->name, canon);
		s->type = (enum ctl_session_type)t;
		s->venue = -1;
		s->ver = FIX_VER_44;
		s->heartbeat_s = 30;
		s->unroutable = CTL_UNROUTABLE_DROP;
		s->unroutable_user = -1;
		/* A venue is a counterparty fixmux chose to connect to; its custom tags are part of
		 * what users subscribed to, and a Reject would not bring the message back. */
		s->allow_user_defined = true;
		c->session_has_type[i] = true;
		return i;
	}
	/* user */
	int i = ctl_config_find_user(cfg, name, strlen(name));
	if (i >= 0)
		return i;
	if (!valid_name(name, CTL_NAME_MAX)) {
		FAIL_AT(c, section, "(section)", "user name (its SenderCompID) must be 1-%d printable "
			"characters without spaces, '=', ',' or '|'", CTL_NAME_MAX - 1);
		return -1;
	}
	if (cfg->n_users == CTL_MAX_USERS) {
		FAIL_AT(c, section, "(section)", "more than %d users", CTL_MAX_USERS);
		return -1;
	}
	i = (int)cfg->n_users++;
	strcpy(cfg->users[i].name, name);
	cfg->users[i].reset_on_logon = false;
	/* Users' messages go to a shared venue session: checked strictly at the edge (and the
	 * acceptance scenarios expect a Reject of tag 5000). */
	cfg->users[i].allow_user_defined = false;
	return i;
}

/* rate_limit, rate_burst and filter: the same keys in [user] and [session] sections.
 * Returns false when key is none of them. */
static bool guard_key(struct parse_ctx *c, const char *sec, struct ctl_guard_cfg *g,
		      const char *key, const char *v)
{
	uint32_t u;
	if (!strcmp(key, "rate_limit")) {
		if (!parse_u32(v, 0, 10000000, &u))
			FAIL_AT(c, sec, key, "'%s' is not a message rate (0-10000000 per second, 0 = "
				"unlimited)", v);
		else
			g->rate = u;
		return true;
	}
	if (!strcmp(key, "rate_burst")) {
		if (!parse_u32(v, 1, 10000000, &u))
			FAIL_AT(c, sec, key, "'%s' is not a burst size (1-10000000 messages)", v);
		else
			g->burst = u;
		return true;
	}
	if (strcmp(key, "filter") != 0)
		return false;
	/* "deny|alert NAME TAG REGEX": the regex is the rest of the line, spaces included. */
	char action[8], name[CTL_NAME_MAX], tag[16];
	int off = 0;
	if (sscanf(v, "%7s %31s %15s %n", action, name, tag, &off) != 3 || off == 0 ||
	    v[off] == '\0') {
		FAIL_AT(c, sec, key, "expected 'deny|alert NAME TAG REGEX'");
		return true;
	}
	struct ctl_filter_cfg f = {0};
	if (!strcmp(action, "deny")) {
		f.alert = false;
	} else if (!strcmp(action, "alert")) {
		f.alert = true;
	} else {
		FAIL_AT(c, sec, key, "'%s' is not deny or alert", action);
		return true;
	}
	if (!parse_u32(tag, 1, 99999, &f.tag)) {
		FAIL_AT(c, sec, key, "'%s' is not a tag number", tag);
		return true;
	}
	if (strlen(v + off) >= sizeof(f.regex)) {
		FAIL_AT(c, sec, key, "regular expression longer than %zu bytes", sizeof(f.regex) - 1);
		return true;
	}
	strcpy(f.name, name);
	strcpy(f.regex, v + off);
	for (uint32_t i = 0; i < g->n_filters; i++) {
		if (!strcmp(g->filters[i].name, f.name)) {
			FAIL_AT(c, sec, key, "a rule named '%s' is already defined here", f.name);
			return true;
		}
	}
	struct ctl_filter_cfg *n = realloc(g->filters, (g->n_filters + 1) * sizeof(*n));
	if (!n) {
		FAIL_AT(c, sec, key, "out of memory");
		return true;
	}
	g->filters = n;
	g->filters[g->n_filters++] = f;
	return true;
}

static void appliance_key(struct parse_ctx *c, const char *key, const char *v)
{
	struct ctl_appliance_cfg *a = &c->cfg->app;
	const char *sec = "appliance";
	uint32_t u;
	if (!strcmp(key, "client_port")) {
		if (!copy_str(a->client_port, sizeof(a->client_port), v))
			FAIL_AT(c, sec, key, "a DPDK device name or PCI address is required");
	} else if (!strcmp(key, "venue_port")) {
		if (!copy_str(a->venue_port, sizeof(a->venue_port), v))
			FAIL_AT(c, sec, key, "a DPDK device name or PCI address is required");
	} else if (!strcmp(key, "client_address")) {
		if (!parse_net(v, &a->client_addr))
			FAIL_AT(c, sec, key, "'%s' is not an IPv4 address with prefix (a.b.c.d/n)", v);
	} else if (!strcmp(key, "venue_address")) {
		if (!parse_net(v, &a->venue_addr))
			FAIL_AT(c, sec, key, "'%s' is not an IPv4 address with prefix (a.b.c.d/n)", v);
	} else if (!strcmp(key, "venue_gateway")) {
		if (!parse_ipv4(v, &a->venue_gateway))
			FAIL_AT(c, sec, key, "'%s' is not an IPv4 address", v);
	} else if (!strcmp(key, "client_gateway")) {
		if (!parse_ipv4(v, &a->client_gateway) || a->client_gateway == 0)
			FAIL_AT(c, sec, key, "'%s' is not an IPv4 address", v);
	} else if (!strcmp(key, "listen_port")) {
		if (!parse_u32(v, 1, 65535, &u))
			FAIL_AT(c, sec, key, "'%s' is not a TCP port (1-65535)", v);
		a->listen_port = (uint16_t)u;
	} else if (!strcmp(key, "store_dir")) {
		if (!copy_str(a->store_dir, sizeof(a->store_dir), v))
			FAIL_AT(c, sec, key, "a directory path of at most %d bytes is required",
				CTL_PATH_MAX - 1);
	} else if (!strcmp(key, "fsync")) {
		static const char *const n[] = {"none", "batch", "always"};
		int i = lookup(v, n, 3);
		if (i < 0)
			FAIL_AT(c, sec, key, "'%s' is not one of none, batch, always", v);
		else
			a->fsync = (enum ctl_fsync)i;
	} else if (!strcmp(key, "cores")) {
		if (!copy_str(a->cores, sizeof(a->cores), v))
			FAIL_AT(c, sec, key, "a role layout such as client:1,venue:1,control:0 is required");
	} else if (!strcmp(key, "idle")) {
		static const char *const n[] = {"spin", "backoff", "sleep"};
		int i = lookup(v, n, 3);
		if (i < 0)
			FAIL_AT(c, sec, key, "'%s' is not one of spin, backoff, sleep", v);
		else
			a->idle = (enum ctl_idle)i;
	} else if (!strcmp(key, "logon_failures_per_min")) {
		if (!parse_u32(v, 1, 1000000, &u))
			FAIL_AT(c, sec, key, "'%s' is not a count of 1 or more", v);
		else
			a->logon_failures_per_min = u;
	} else if (!strcmp(key, "max_message_size")) {
		if (!parse_u32(v, 256, 1u << 20, &u))
			FAIL_AT(c, sec, key, "'%s' is not a size between 256 and 1048576 bytes", v);
		else
			a->max_msg = u;
	} else {
		FAIL_AT(c, sec, key, "unknown key");
	}
}

static void venue_key(struct parse_ctx *c, const char *sec, int i, const char *key, const char *v)
{
	if (!strcmp(key, "type")) {
		int t = lookup(v, venue_type_names, CTL_VENUE__COUNT);
		if (t < 0)
			FAIL_AT(c, sec, key, "'%s' is not one of CLOB, Maker, Taker", v);
		c->cfg->venues[i].type = (enum ctl_venue_type)(t < 0 ? 0 : t);
		c->venue_has_type[i] = true;
	} else {
		FAIL_AT(c, sec, key, "unknown key");
	}
}

static void session_key(struct parse_ctx *c, const char *sec, int i, const char *key,
			const char *v)
{
	struct ctl_vsession_cfg *s = &c->cfg->sessions[i];
	uint32_t u;
	if (!strcmp(key, "venue")) {
		if (!copy_str(c->session_venue[i].text, sizeof(c->session_venue[i].text), v))
			FAIL_AT(c, sec, key, "a venue name is required");
		c->session_venue[i].line = c->line;
	} else if (!strcmp(key, "address")) {
		if (!parse_endpoint(v, &s->addr, &s->port))
			FAIL_AT(c, sec, key, "'%s' is not an IPv4 address and port (a.b.c.d:port)", v);
		c->session_has_addr[i] = true;
	} else if (!strcmp(key, "fix_version")) {
		s->ver = fix_version_from(v, strlen(v));
		if (s->ver == FIX_VER_UNKNOWN)
			FAIL_AT(c, sec, key, "'%s' is not one of FIX.4.2, FIX.4.4, FIXT.1.1", v);
	} else if (!strcmp(key, "sender_comp_id")) {
		if (!valid_name(v, CTL_NAME_MAX) || !copy_str(s->sender_comp_id, CTL_NAME_MAX, v))
			FAIL_AT(c, sec, key, "'%s' is not a valid CompID", v);
	} else if (!strcmp(key, "target_comp_id")) {
		if (!valid_name(v, CTL_NAME_MAX) || !copy_str(s->target_comp_id, CTL_NAME_MAX, v))
			FAIL_AT(c, sec, key, "'%s' is not a valid CompID", v);
	} else if (!strcmp(key, "client_comp_id")) {
		if (!valid_name(v, CTL_NAME_MAX) || !copy_str(s->client_comp_id, CTL_NAME_MAX, v))
			FAIL_AT(c, sec, key, "'%s' is not a valid CompID", v);
	} else if (!strcmp(key, "username")) {
		if (!copy_str(s->username, sizeof(s->username), v))
			FAIL_AT(c, sec, key, "too long (at most %d bytes)", CTL_TEXT_MAX - 1);
	} else if (!strcmp(key, "password")) {
		if (!copy_str(s->password, sizeof(s->password), v))
			FAIL_AT(c, sec, key, "too long (at most %d bytes)", CTL_TEXT_MAX - 1);
	} else if (!strcmp(key, "heartbeat")) {
		if (!parse_u32(v, 1, 3600, &u))
			FAIL_AT(c, sec, key, "'%s' is not a heartbeat interval of 1-3600 seconds", v);
		else
			s->heartbeat_s = u;
	} else if (!strcmp(key, "reset_on_logon")) {
		if (!parse_bool(v, &s->reset_on_logon))
			FAIL_AT(c, sec, key, "'%s' is not yes or no", v);
	} else if (!strcmp(key, "allow_user_defined_fields")) {
		if (!parse_bool(v, &s->allow_user_defined))
			FAIL_AT(c, sec, key, "'%s' is not yes or no", v);
	} else if (guard_key(c, sec, &s->guard, key, v)) {
		/* rate_limit, rate_burst, filter */
	} else if (!strcmp(key, "unroutable")) {
		/* "drop" or "user:NAME" */
		if (!strcasecmp(v, "drop")) {
			s->unroutable = CTL_UNROUTABLE_DROP;
		} else if (!strncmp(v, "user:", 5) && v[5]) {
			s->unroutable = CTL_UNROUTABLE_USER;
			copy_str(c->session_unroute[i].text, sizeof(c->session_unroute[i].text), v + 5);
			c->session_unroute[i].line = c->line;
		} else {
			FAIL_AT(c, sec, key, "'%s' is not 'drop' or 'user:NAME'", v);
		}
	} else {
		FAIL_AT(c, sec, key, "unknown key");
	}
}

static void user_key(struct parse_ctx *c, const char *sec, int i, const char *key, const char *v)
{
	struct ctl_user_cfg *u = &c->cfg->users[i];
	if (!strcmp(key, "password_hash")) {
		/* crypt(3) strings start with "$id$"; a plain password here would be a leak.
		 * "none": no password (a conformance profile; allowed_addresses is then required). */
		if (!strcmp(v, "none"))
			u->no_password = true;
		else if (v[0] != '$' || !copy_str(u->password_hash, sizeof(u->password_hash), v))
			FAIL_AT(c, sec, key, "not a crypt(3) hash: make one with fixmux-passwd");
		c->user_has_hash[i] = true;
	} else if (!strcmp(key, "allowed_addresses")) {
		char buf[512];
		if (strlen(v) >= sizeof(buf)) {
			FAIL_AT(c, sec, key, "too long");
			return;
		}
		strcpy(buf, v);
		u->n_allowed = 0;
		for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			if (u->n_allowed == CTL_MAX_ALLOWED_NETS) {
				FAIL_AT(c, sec, key, "more than %d address ranges", CTL_MAX_ALLOWED_NETS);
				return;
			}
			if (!parse_net(tok, &u->allowed[u->n_allowed])) {
				FAIL_AT(c, sec, key, "'%s' is not an IPv4 address or a.b.c.d/n range", tok);
				return;
			}
			u->n_allowed++;
		}
	} else if (!strcmp(key, "sessions")) {
		if (!copy_str(c->user_sessions[i].text, sizeof(c->user_sessions[i].text), v))
			FAIL_AT(c, sec, key, "a comma-separated list of venue sessions is required");
		c->user_sessions[i].line = c->line;
	} else if (!strcmp(key, "fix_version")) {
		u->ver = fix_version_from(v, strlen(v));
		u->ver_set = true;
		if (u->ver == FIX_VER_UNKNOWN)
			FAIL_AT(c, sec, key, "'%s' is not one of FIX.4.2, FIX.4.4, FIXT.1.1", v);
	} else if (!strcmp(key, "reset_on_logon")) {
		if (!parse_bool(v, &u->reset_on_logon))
			FAIL_AT(c, sec, key, "'%s' is not yes or no", v);
	} else if (!strcmp(key, "allow_user_defined_fields")) {
		if (!parse_bool(v, &u->allow_user_defined))
			FAIL_AT(c, sec, key, "'%s' is not yes or no", v);
	} else if (guard_key(c, sec, &u->guard, key, v)) {
		/* rate_limit, rate_burst, filter */
	} else {
		FAIL_AT(c, sec, key, "unknown key");
	}
}

static int on_key(void *arg, const char *section, const char *key, const char *value)
{
	struct parse_ctx *c = arg;
	if (c->failed)
		return 1;
	if (!strcmp(section, "appliance")) {
		c->seen_appliance = true;
		appliance_key(c, key, value);
		return 1;
	}
	static const char *const kinds[] = {"venue", "session", "user"};
	for (int k = 0; k < 3; k++) {
		size_t n = strlen(kinds[k]);
		if (!strncmp(section, kinds[k], n) && section[n] == ' ' && section[n + 1]) {
			int i = section_index(c, section, kinds[k]);
			if (i < 0)
				return 1;
			if (k == 0)
				venue_key(c, section, i, key, value);
			else if (k == 1)
				session_key(c, section, i, key, value);
			else
				user_key(c, section, i, key, value);
			return 1;
		}
	}
	FAIL_AT(c, section, key, "unknown section (expected [appliance], [venue NAME], "
		"[session VENUE.TYPE] or [user NAME])");
	return 1;
}

/* Resolves references between sections and applies the multiplexing table. */
static void validate(struct parse_ctx *c)
{
	struct ctl_config *cfg = c->cfg;
	const char *f = c->file;
	if (!c->seen_appliance) {
		fail(c, "%s: [appliance]: the section is required", f);
		return;
	}
	if (cfg->app.listen_port == 0) {
		fail(c, "%s: [appliance] listen_port: is required", f);
		return;
	}
	if (cfg->app.store_dir[0] == '\0') {
		fail(c, "%s: [appliance] store_dir: is required (journals live there)", f);
		return;
	}
	/* The next hop toward the users is reached on the client side's own network. */
	const struct ctl_ipv4_net *cn = &cfg->app.client_addr;
	uint32_t gw = cfg->app.client_gateway;
	uint32_t cmask = cn->prefix ? ~0u << (32 - cn->prefix) : 0;
	if (gw != 0 && cn->addr != 0 && ((gw ^ cn->addr) & cmask) != 0) {
		fail(c, "%s: [appliance] client_gateway: %u.%u.%u.%u is not on the network of "
			"client_address %u.%u.%u.%u/%u", f, gw >> 24, (gw >> 16) & 255, (gw >> 8) & 255,
		     gw & 255, cn->addr >> 24, (cn->addr >> 16) & 255, (cn->addr >> 8) & 255,
		     cn->addr & 255, cn->prefix);
		return;
	}
	for (uint32_t v = 0; v < cfg->n_venues; v++) {
		if (!c->venue_has_type[v]) {
			fail(c, "%s: [venue %s] type: is required (CLOB, Maker or Taker)", f,
			     cfg->venues[v].name);
			return;
		}
	}
	for (uint32_t i = 0; i < cfg->n_sessions; i++) {
		struct ctl_vsession_cfg *s = &cfg->sessions[i];
		const char *dot = strchr(s->name, '.');
		char vname[CTL_NAME_MAX] = {0};
		const char *ref = c->session_venue[i].text;
		if (ref[0] == '\0') {
			/* The venue defaults to the part of the section name before the dot. */
			size_t n = (size_t)(dot - s->name);
			if (n < sizeof(vname))
				memcpy(vname, s->name, n);
			ref = vname;
		}
		s->venue = find_venue(cfg, ref);
		if (s->venue < 0) {
			fail(c, "%s: [session %s] venue: no [venue %s] section", f, s->name, ref);
			return;
		}
		if (!c->session_has_addr[i]) {
			fail(c, "%s: [session %s] address: is required (the venue's a.b.c.d:port)", f,
			     s->name);
			return;
		}
		if (!s->sender_comp_id[0] || !s->target_comp_id[0]) {
			fail(c, "%s: [session %s] %s: is required", f, s->name,
			     s->sender_comp_id[0] ? "target_comp_id" : "sender_comp_id");
			return;
		}
		if (!s->client_comp_id[0])
			strcpy(s->client_comp_id, s->name);
		const struct ctl_venue_cfg *venue = &cfg->venues[s->venue];
		if (s->type == CTL_STYPE_RFS && venue->type == CTL_VENUE_CLOB) {
			fail(c, "%s: [session %s]: rule: a CLOB venue offers no RFS session "
			     "(multiplexing guidelines, PRODUCT.md §2)", f, s->name);
			return;
		}
		for (uint32_t j = 0; j < i; j++) {
			const struct ctl_vsession_cfg *o = &cfg->sessions[j];
			if (o->venue == s->venue && o->type == s->type) {
				fail(c, "%s: [session %s]: rule: venue %s already has a %s session "
				     "([session %s])", f, s->name, venue->name,
				     stype_names[s->type], o->name);
				return;
			}
		}
	}
	for (uint32_t u = 0; u < cfg->n_users; u++) {
		struct ctl_user_cfg *user = &cfg->users[u];
		if (!c->user_has_hash[u]) {
			fail(c, "%s: [user %s] password_hash: is required (make one with fixmux-passwd)",
			     f, user->name);
			return;
		}
		if (user->no_password && user->n_allowed == 0) {
			fail(c, "%s: [user %s] password_hash: 'none' needs allowed_addresses (a user "
			     "without a password is known by where it connects from)", f, user->name);
			return;
		}
		char buf[512];
		strcpy(buf, c->user_sessions[u].text);
		user->n_sessions = 0;
		for (char *save, *tok = strtok_r(buf, ", ", &save); tok;
		     tok = strtok_r(NULL, ", ", &save)) {
			int s = ctl_config_find_session(cfg, tok, strlen(tok));
			if (s < 0) {
				fail(c, "%s:%d: [user %s] sessions: no [session %s] section", f,
				     c->user_sessions[u].line, user->name, tok);
				return;
			}
			if (ctl_user_in_session(cfg, (int)u, s))
				continue;
			/* A user's Logon names the session by its client-facing CompID (56): among
			 * one user's sessions it must be unique (different users may share one, as
			 * the conformance profile's ISLD does). */
			for (uint8_t k = 0; k < user->n_sessions; k++) {
				const struct ctl_vsession_cfg *o = &cfg->sessions[user->sessions[k]];
				if (!strcmp(o->client_comp_id, cfg->sessions[s].client_comp_id)) {
					fail(c, "%s:%d: [user %s] sessions: %s and %s both have the "
					     "client-facing CompID '%s'", f, c->user_sessions[u].line,
					     user->name, o->name, cfg->sessions[s].name, o->client_comp_id);
					return;
				}
			}
			if (user->n_sessions == CTL_MAX_USER_SESSIONS) {
				fail(c, "%s:%d: [user %s] sessions: more than %d sessions", f,
				     c->user_sessions[u].line, user->name, CTL_MAX_USER_SESSIONS);
				return;
			}
			user->sessions[user->n_sessions++] = (uint16_t)s;
			cfg->sessions[s].n_users++;
		}
		if (user->n_sessions == 0) {
			fail(c, "%s: [user %s] sessions: is required (the venue sessions the user joins)",
			     f, user->name);
			return;
		}
	}
	/* The guidelines' table (PRODUCT.md §2). */
	for (uint32_t i = 0; i < cfg->n_sessions; i++) {
		struct ctl_vsession_cfg *s = &cfg->sessions[i];
		const struct ctl_venue_cfg *venue = &cfg->venues[s->venue];
		char users[256] = "";
		size_t ul = 0;
		for (uint32_t u = 0; u < cfg->n_users; u++)
			if (ctl_user_in_session(cfg, (int)u, (int)i))
				ul += (size_t)snprintf(users + ul, ul < sizeof(users) ? sizeof(users) - ul : 0,
						       "%s%s", ul ? ", " : "", cfg->users[u].name);
		if (s->n_users == 0) {
			fail(c, "%s: [session %s]: rule: at least one user must be configured for a "
			     "session (no [user] lists it in sessions =)", f, s->name);
			return;
		}
		bool single = s->type == CTL_STYPE_DROPCOPY || venue->type == CTL_VENUE_TAKER;
		if (single && s->n_users > 1) {
			fail(c, "%s: [session %s]: rule: a %s session %s has exactly one user, but "
			     "%u are configured: %s", f, s->name, stype_names[s->type],
			     s->type == CTL_STYPE_DROPCOPY ? "(a single feed per venue)"
							   : "of a Taker venue",
			     (unsigned)s->n_users, users);
			return;
		}
		if (s->unroutable == CTL_UNROUTABLE_USER) {
			const char *name = c->session_unroute[i].text;
			s->unroutable_user = ctl_config_find_user(cfg, name, strlen(name));
			if (s->unroutable_user < 0 ||
			    !ctl_user_in_session(cfg, s->unroutable_user, (int)i)) {
				fail(c, "%s:%d: [session %s] unroutable: user '%s' is not a user of this "
				     "session", f, c->session_unroute[i].line, s->name, name);
				return;
			}
		}
	}
	for (uint32_t u = 0; u < cfg->n_users; u++) {
		if (!cfg->users[u].ver_set)
			cfg->users[u].ver = cfg->sessions[cfg->users[u].sessions[0]].ver;
		if (cfg->users[u].guard.burst == 0)
			cfg->users[u].guard.burst = cfg->users[u].guard.rate;
	}
	for (uint32_t i = 0; i < cfg->n_sessions; i++)
		if (cfg->sessions[i].guard.burst == 0)
			cfg->sessions[i].guard.burst = cfg->sessions[i].guard.rate;
}

void ctl_config_free(struct ctl_config *cfg)
{
	for (uint32_t i = 0; cfg->sessions && i < CTL_MAX_SESSIONS; i++)
		free(cfg->sessions[i].guard.filters);
	for (uint32_t i = 0; cfg->users && i < CTL_MAX_USERS; i++)
		free(cfg->users[i].guard.filters);
	free(cfg->venues);
	free(cfg->sessions);
	free(cfg->users);
	memset(cfg, 0, sizeof(*cfg));
}

static int load(struct parse_ctx *c)
{
	struct ctl_config *cfg = c->cfg;
	memset(cfg, 0, sizeof(*cfg));
	cfg->app.fsync = CTL_FSYNC_BATCH;
	cfg->app.idle = CTL_IDLE_BACKOFF;
	cfg->app.max_msg = 8192;
	cfg->app.logon_failures_per_min = 10;
	strcpy(cfg->app.cores, "client:1,venue:1,control:0");
	cfg->venues = calloc(CTL_MAX_VENUES, sizeof(*cfg->venues));
	cfg->sessions = calloc(CTL_MAX_SESSIONS, sizeof(*cfg->sessions));
	cfg->users = calloc(CTL_MAX_USERS, sizeof(*cfg->users));
	c->session_venue = calloc(CTL_MAX_SESSIONS, sizeof(*c->session_venue));
	c->session_unroute = calloc(CTL_MAX_SESSIONS, sizeof(*c->session_unroute));
	c->user_sessions = calloc(CTL_MAX_USERS, sizeof(*c->user_sessions));
	c->session_has_addr = calloc(CTL_MAX_SESSIONS, sizeof(bool));
	c->session_has_type = calloc(CTL_MAX_SESSIONS, sizeof(bool));
	c->venue_has_type = calloc(CTL_MAX_VENUES, sizeof(bool));
	c->user_has_hash = calloc(CTL_MAX_USERS, sizeof(bool));
	int rc = -1;
	if (!cfg->venues || !cfg->sessions || !cfg->users || !c->session_venue ||
	    !c->session_unroute || !c->user_sessions || !c->session_has_addr ||
	    !c->session_has_type || !c->venue_has_type || !c->user_has_hash) {
		fail(c, "%s: out of memory", c->file);
		goto out;
	}
	int line = ini_parse_stream(read_line, c, on_key, c);
	if (line > 0 && !c->failed)
		fail(c, "%s:%d: syntax error (expected [section], key = value, or a ; comment)",
		     c->file, line);
	if (!c->failed)
		validate(c);
	rc = c->failed ? -1 : 0;
out:
	free(c->session_venue);
	free(c->session_unroute);
	free(c->user_sessions);
	free(c->session_has_addr);
	free(c->session_has_type);
	free(c->venue_has_type);
	free(c->user_has_hash);
	if (rc != 0)
		ctl_config_free(cfg);
	return rc;
}

int ctl_config_load(struct ctl_config *cfg, const char *path, char *err, size_t err_cap)
{
	struct parse_ctx c = {.cfg = cfg, .file = path, .err = err, .err_cap = err_cap};
	c.fp = fopen(path, "r");
	if (!c.fp) {
		memset(cfg, 0, sizeof(*cfg));
		snprintf(err, err_cap, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	int rc = load(&c);
	fclose(c.fp);
	return rc;
}

int ctl_config_load_string(struct ctl_config *cfg, const char *text, const char *name, char *err,
			   size_t err_cap)
{
	struct parse_ctx c = {.cfg = cfg, .file = name, .text = text, .err = err, .err_cap = err_cap};
	return load(&c);
}

bool ctl_user_in_session(const struct ctl_config *cfg, int user, int session)
{
	const struct ctl_user_cfg *u = &cfg->users[user];
	for (uint8_t i = 0; i < u->n_sessions; i++)
		if (u->sessions[i] == session)
			return true;
	return false;
}

bool ctl_user_addr_allowed(const struct ctl_user_cfg *u, uint32_t addr)
{
	if (u->n_allowed == 0)
		return true;
	for (uint8_t i = 0; i < u->n_allowed; i++) {
		uint32_t mask = u->allowed[i].prefix ? ~0u << (32 - u->allowed[i].prefix) : 0;
		if ((addr & mask) == (u->allowed[i].addr & mask))
			return true;
	}
	return false;
}
