/* fixmux-venue-sim: the command line. Every error names the option and the value at fault. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

const char vsim_usage[] =
	"usage: fixmux-venue-sim --listen ADDR:PORT --mode echo|exchange --store DIR\n"
	"         (--session BEGINSTRING:OURCOMPID:THEIRCOMPID[:FLAG]... ... |\n"
	"          --sessions FILE)\n"
	"         [--fsync none|batch|always] [--heartbeat-check] [--seed N]\n"
	"         [--md-interval-ms N | --md-rate N] [--fill-ratio P] [--stats-file F]\n"
	"         [--stats-interval-ms N] [--port-file F] [--quiet]\n"
	"  BEGINSTRING is FIX.4.2, FIX.4.4 or FIXT.1.1 (FIX 5.0 SP2 application messages).\n"
	"  FLAG: reset, dropcopy, nextexpected, user=NAME, password=SECRET.\n"
	"  --md-rate N: N increments per second per subscription on a strict schedule, each\n"
	"  stamped with its intended send time in MDEntryTime(273), nanoseconds (latency).\n"
	"  PORT 0 binds an ephemeral port; the port is printed (\"listening on ADDR:PORT\")\n"
	"  and written to --port-file. See docs/venue-sim.md.\n";

static int fail(char *err, size_t cap, const char *fmt, const char *a, const char *b)
{
	snprintf(err, cap, fmt, a, b);
	return -1;
}

static int copy(char *dst, size_t cap, const char *src, size_t len)
{
	if (len == 0 || len >= cap)
		return -1;
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int vsim_parse_session(const char *spec, struct vsim_sess_cfg *s, char *err, size_t err_cap)
{
	memset(s, 0, sizeof(*s));
	const char *parts[9];
	size_t lens[9];
	int n = 0;
	const char *p = spec;
	for (;;) {
		const char *c = strchr(p, ':');
		if (n == 9)
			return fail(err, err_cap, "session '%s': too many ':' parts%s", spec, "");
		parts[n] = p;
		lens[n] = c != NULL ? (size_t)(c - p) : strlen(p);
		n++;
		if (c == NULL)
			break;
		p = c + 1;
	}
	if (n < 3)
		return fail(err, err_cap,
			    "session '%s': expected BEGINSTRING:OURCOMPID:THEIRCOMPID[:flag...]%s", spec,
			    "");
	s->ver = fix_version_from(parts[0], lens[0]);
	if (s->ver == FIX_VER_UNKNOWN)
		return fail(err, err_cap,
			    "session '%s': BeginString must be FIX.4.2, FIX.4.4 or FIXT.1.1%s", spec,
			    "");
	if (copy(s->ours, sizeof(s->ours), parts[1], lens[1]) != 0 ||
	    copy(s->theirs, sizeof(s->theirs), parts[2], lens[2]) != 0)
		return fail(err, err_cap, "session '%s': a CompID is empty or longer than 63%s",
			    spec, "");
	for (int i = 3; i < n; i++) {
		if (lens[i] == 5 && memcmp(parts[i], "reset", 5) == 0)
			s->reset = true;
		else if (lens[i] == 8 && memcmp(parts[i], "dropcopy", 8) == 0)
			s->drop_copy = true;
		else if (lens[i] == 12 && memcmp(parts[i], "nextexpected", 12) == 0)
			s->next_expected = true;
		else if (lens[i] > 5 && memcmp(parts[i], "user=", 5) == 0) {
			if (copy(s->user, sizeof(s->user), parts[i] + 5, lens[i] - 5) != 0)
				return fail(err, err_cap, "session '%s': user too long%s", spec, "");
		} else if (lens[i] > 9 && memcmp(parts[i], "password=", 9) == 0) {
			if (copy(s->password, sizeof(s->password), parts[i] + 9, lens[i] - 9) != 0)
				return fail(err, err_cap, "session '%s': password too long%s", spec, "");
		} else {
			return fail(err, err_cap,
				    "session '%s': unknown flag '%s' (reset, dropcopy, nextexpected, "
				    "user=NAME or password=SECRET expected)", spec, parts[i]);
		}
	}
	return 0;
}

static int add_session(struct vsim_cfg *cfg, const char *spec, char *err, size_t cap)
{
	if (cfg->nsess == VSIM_MAX_SESSIONS) {
		snprintf(err, cap, "--session: more than %d sessions", VSIM_MAX_SESSIONS);
		return -1;
	}
	struct vsim_sess_cfg *s = &cfg->sess[cfg->nsess];
	char e[256];
	if (vsim_parse_session(spec, s, e, sizeof(e)) != 0) {
		snprintf(err, cap, "--session: %s", e);
		return -1;
	}
	for (int i = 0; i < cfg->nsess; i++) {
		const struct vsim_sess_cfg *o = &cfg->sess[i];
		if (o->ver == s->ver && strcmp(o->ours, s->ours) == 0 &&
		    strcmp(o->theirs, s->theirs) == 0) {
			snprintf(err, cap, "--session: '%s' is configured twice", spec);
			return -1;
		}
	}
	cfg->nsess++;
	return 0;
}

static int load_sessions(struct vsim_cfg *cfg, const char *path, char *err, size_t cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, cap, "--sessions: cannot open '%s': %s", path, strerror(errno));
		return -1;
	}
	char line[512];
	int lineno = 0, rc = 0;
	while (rc == 0 && fgets(line, sizeof(line), f) != NULL) {
		lineno++;
		char *p = line;
		while (*p == ' ' || *p == '\t')
			p++;
		size_t n = strcspn(p, "#\r\n");
		while (n > 0 && (p[n - 1] == ' ' || p[n - 1] == '\t'))
			n--;
		p[n] = '\0';
		if (n == 0)
			continue;
		char e[400];
		if (add_session(cfg, p, e, sizeof(e)) != 0) {
			snprintf(err, cap, "--sessions %s line %d: %s", path, lineno, e + 11);
			rc = -1;
		}
	}
	fclose(f);
	return rc;
}

static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	if (s[0] < '0' || s[0] > '9')
		return -1;
	char *end;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_listen(struct vsim_cfg *cfg, const char *v, char *err, size_t cap)
{
	const char *c = strrchr(v, ':');
	uint64_t port;
	if (c == NULL || c == v || (size_t)(c - v) >= sizeof(cfg->listen_addr) ||
	    parse_u64(c + 1, 65535, &port) != 0)
		return fail(err, cap, "--listen '%s': expected ADDR:PORT (PORT 0..65535)%s", v, "");
	memcpy(cfg->listen_addr, v, (size_t)(c - v));
	cfg->listen_addr[c - v] = '\0';
	cfg->listen_port = (uint16_t)port;
	return 0;
}

/* P in [0, 1], at most three decimals: kept as parts per thousand. */
static int parse_ratio(const char *v, uint32_t *out)
{
	int64_t x;
	if (vsim_parse_scaled(v, strlen(v), &x) != 0 || x < 0 || x > VSIM_SCALE ||
	    x % (VSIM_SCALE / 1000) != 0)
		return -1;
	*out = (uint32_t)(x / (VSIM_SCALE / 1000));
	return 0;
}

int vsim_cli_parse(int argc, char **argv, struct vsim_cfg *cfg, char *err, size_t cap)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = VSIM_EXCHANGE;
	cfg->fsync = CTL_JOURNAL_FSYNC_NONE;
	cfg->seed = 1;
	cfg->md_interval_ms = 100;
	cfg->fill_permille = 500;
	bool have_listen = false, have_mode = false, have_interval = false;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i];
		if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
			snprintf(err, cap, "%s", vsim_usage);
			return 1;
		}
		if (strcmp(o, "--heartbeat-check") == 0) {
			cfg->heartbeat_check = true;
			continue;
		}
		if (strcmp(o, "--quiet") == 0) {
			cfg->quiet = true;
			continue;
		}
		static const char *const with_value[] = {
			"--listen", "--mode", "--store", "--session", "--sessions", "--fsync", "--seed",
			"--md-interval-ms", "--fill-ratio", "--stats-file", "--port-file",
			"--stats-interval-ms", "--md-rate"};
		bool known = false;
		for (size_t k = 0; k < sizeof(with_value) / sizeof(with_value[0]); k++)
			known |= strcmp(o, with_value[k]) == 0;
		if (!known)
			return fail(err, cap, "unknown option '%s' (see --help)%s", o, "");
		if (i + 1 >= argc)
			return fail(err, cap, "option %s needs a value%s", o, "");
		const char *v = argv[++i];
		uint64_t u;
		if (strcmp(o, "--listen") == 0) {
			if (parse_listen(cfg, v, err, cap) != 0)
				return -1;
			have_listen = true;
		} else if (strcmp(o, "--mode") == 0) {
			if (strcmp(v, "echo") == 0)
				cfg->mode = VSIM_ECHO;
			else if (strcmp(v, "exchange") == 0)
				cfg->mode = VSIM_EXCHANGE;
			else
				return fail(err, cap, "--mode '%s': expected echo or exchange%s", v, "");
			have_mode = true;
		} else if (strcmp(o, "--store") == 0) {
			if (copy(cfg->store, sizeof(cfg->store), v, strlen(v)) != 0)
				return fail(err, cap, "--store '%s': empty or too long%s", v, "");
		} else if (strcmp(o, "--session") == 0) {
			if (add_session(cfg, v, err, cap) != 0)
				return -1;
		} else if (strcmp(o, "--sessions") == 0) {
			if (load_sessions(cfg, v, err, cap) != 0)
				return -1;
		} else if (strcmp(o, "--fsync") == 0) {
			if (strcmp(v, "none") == 0)
				cfg->fsync = CTL_JOURNAL_FSYNC_NONE;
			else if (strcmp(v, "batch") == 0)
				cfg->fsync = CTL_JOURNAL_FSYNC_BATCH;
			else if (strcmp(v, "always") == 0)
				cfg->fsync = CTL_JOURNAL_FSYNC_ALWAYS;
			else
				return fail(err, cap, "--fsync '%s': expected none, batch or always%s", v,
					    "");
		} else if (strcmp(o, "--seed") == 0) {
			if (parse_u64(v, UINT64_MAX, &u) != 0)
				return fail(err, cap, "--seed '%s': expected an unsigned integer%s", v, "");
			cfg->seed = u;
		} else if (strcmp(o, "--md-interval-ms") == 0) {
			if (parse_u64(v, 3600000, &u) != 0 || u == 0)
				return fail(err, cap,
					    "--md-interval-ms '%s': expected an integer 1..3600000%s", v,
					    "");
			cfg->md_interval_ms = (uint32_t)u;
			have_interval = true;
		} else if (strcmp(o, "--md-rate") == 0) {
			if (parse_u64(v, 1000000, &u) != 0 || u == 0)
				return fail(err, cap, "--md-rate '%s': expected an integer 1..1000000%s",
					    v, "");
			cfg->md_rate = (uint32_t)u;
		} else if (strcmp(o, "--fill-ratio") == 0) {
			if (parse_ratio(v, &cfg->fill_permille) != 0)
				return fail(err, cap,
					    "--fill-ratio '%s': expected a number from 0 to 1 (at most 3 "
					    "decimals)%s", v, "");
		} else if (strcmp(o, "--stats-interval-ms") == 0) {
			if (parse_u64(v, 3600000, &u) != 0)
				return fail(err, cap,
					    "--stats-interval-ms '%s': expected an integer 0..3600000%s", v,
					    "");
			cfg->stats_interval_ms = (uint32_t)u;
		} else if (strcmp(o, "--stats-file") == 0) {
			if (copy(cfg->stats_file, sizeof(cfg->stats_file), v, strlen(v)) != 0)
				return fail(err, cap, "--stats-file '%s': empty or too long%s", v, "");
		} else if (strcmp(o, "--port-file") == 0) {
			if (copy(cfg->port_file, sizeof(cfg->port_file), v, strlen(v)) != 0)
				return fail(err, cap, "--port-file '%s': empty or too long%s", v, "");
		}
	}
	if (have_interval && cfg->md_rate != 0)
		return fail(err, cap, "--md-rate and --md-interval-ms exclude each other%s%s", "",
			    "");
	if (!have_listen)
		return fail(err, cap, "--listen ADDR:PORT is required%s%s", "", "");
	if (!have_mode)
		return fail(err, cap, "--mode echo|exchange is required%s%s", "", "");
	if (cfg->store[0] == '\0')
		return fail(err, cap, "--store DIR is required%s%s", "", "");
	if (cfg->stats_interval_ms != 0 && cfg->stats_file[0] == '\0')
		return fail(err, cap, "--stats-interval-ms needs --stats-file%s%s", "", "");
	if (cfg->nsess == 0)
		return fail(err, cap, "no session configured: give --session or --sessions%s%s", "",
			    "");
	return 0;
}
