/* fixmuxctl: the operator's tool for a running fixmux (docs/operations.md).
 *
 *   fixmuxctl [--file-prefix P | --socket PATH] [--json] COMMAND [ARGS]
 *
 * It speaks DPDK's telemetry v2 protocol on the process's socket
 * (<runtime dir>/dpdk/<file-prefix>/dpdk_telemetry.v2, SOCK_SEQPACKET): on connecting the
 * process sends a JSON greeting; each request is "/command,params" and each answer one JSON
 * object {"/command": value}. fixmux answers a dictionary (tables come as columns: arrays of
 * equal length), or a JSON string carrying the reason when the request failed.
 *
 * Exit status: 0 done, 1 the command failed or no fixmux answered, 2 bad command line.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define RX_MAX (256 * 1024)
#define NODES_MAX 16384

/* ------------------------------------------------------------------------------------------
 * A small JSON reader: enough for telemetry answers (objects, arrays, strings, numbers,
 * literals). Nodes live in one array; strings are unescaped in place.
 * ---------------------------------------------------------------------------------------- */

enum jtype { J_NULL, J_BOOL, J_NUM, J_STR, J_ARR, J_OBJ };

struct jnode {
	enum jtype t;
	const char *key;    /* member name inside an object */
	char *s;            /* J_STR: text; J_NUM/J_BOOL: the literal */
	int first, next;    /* first child, next sibling (-1: none) */
	int n;              /* children */
	const char *start, *end; /* the value's text in the input */
};

static struct jnode nodes[NODES_MAX];
static int n_nodes;

struct jp {
	char *p;
};

static void skip_ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\r' || *j->p == '\t')
		j->p++;
}

/* Unescapes a string in place; returns its start, leaves j->p after the closing quote. */
static char *parse_str(struct jp *j)
{
	char *out = ++j->p, *w = out;
	while (*j->p && *j->p != '"') {
		if (*j->p == '\\' && j->p[1]) {
			j->p++;
			switch (*j->p) {
			case 'n': *w++ = '\n'; break;
			case 't': *w++ = '\t'; break;
			case 'r': *w++ = '\r'; break;
			case 'b': *w++ = '\b'; break;
			case 'f': *w++ = '\f'; break;
			case 'u': /* telemetry escapes only control characters: keep ASCII */
				if (strlen(j->p) >= 5) {
					*w++ = (char)strtol((char[]){j->p[3], j->p[4], 0}, NULL, 16);
					j->p += 4;
				}
				break;
			default: *w++ = *j->p;
			}
			j->p++;
		} else {
			*w++ = *j->p++;
		}
	}
	if (*j->p != '"')
		return NULL;
	*j->p++ = '\0';
	if (w < j->p)
		*w = '\0';
	return out;
}

static int parse_value(struct jp *j);

static int new_node(enum jtype t)
{
	if (n_nodes == NODES_MAX)
		return -1;
	nodes[n_nodes] = (struct jnode){.t = t, .first = -1, .next = -1};
	return n_nodes++;
}

static int parse_container(struct jp *j, bool obj)
{
	int id = new_node(obj ? J_OBJ : J_ARR);
	if (id < 0)
		return -1;
	j->p++;
	int last = -1;
	skip_ws(j);
	if (*j->p == (obj ? '}' : ']')) {
		j->p++;
		return id;
	}
	for (;;) {
		skip_ws(j);
		const char *key = NULL;
		if (obj) {
			if (*j->p != '"' || !(key = parse_str(j)))
				return -1;
			skip_ws(j);
			if (*j->p++ != ':')
				return -1;
		}
		int c = parse_value(j);
		if (c < 0)
			return -1;
		nodes[c].key = key;
		if (last < 0)
			nodes[id].first = c;
		else
			nodes[last].next = c;
		last = c;
		nodes[id].n++;
		skip_ws(j);
		if (*j->p == ',') {
			j->p++;
			continue;
		}
		if (*j->p++ != (obj ? '}' : ']'))
			return -1;
		return id;
	}
}

static int parse_value(struct jp *j)
{
	skip_ws(j);
	const char *start = j->p;
	int id;
	if (*j->p == '{' || *j->p == '[') {
		id = parse_container(j, *j->p == '{');
	} else if (*j->p == '"') {
		id = new_node(J_STR);
		if (id >= 0 && !(nodes[id].s = parse_str(j)))
			return -1;
	} else {
		size_t n = strcspn(j->p, ",]} \n\r\t");
		if (n == 0)
			return -1;
		enum jtype t = !strncmp(j->p, "null", 4) ? J_NULL :
			       (!strncmp(j->p, "true", 4) || !strncmp(j->p, "false", 5)) ? J_BOOL :
											     J_NUM;
		id = new_node(t);
		if (id < 0)
			return -1;
		/* Copy the literal: the byte after it is JSON syntax we still need. */
		nodes[id].s = strndup(j->p, n);
		j->p += n;
	}
	if (id >= 0) {
		nodes[id].start = start;
		nodes[id].end = j->p;
	}
	return id;
}

static const struct jnode *child(int id, int k)
{
	int c = nodes[id].first;
	while (k-- > 0 && c >= 0)
		c = nodes[c].next;
	return c >= 0 ? &nodes[c] : NULL;
}

/* ------------------------------------------------------------------------------------------
 * Commands
 * ---------------------------------------------------------------------------------------- */

struct command {
	const char *words;    /* as typed */
	const char *tel;      /* telemetry command */
	int min_args, max_args;
	const char *usage;
};

static const struct command commands[] = {
	{"status", "/fixmux/status", 0, 0, "status"},
	{"sessions", "/fixmux/sessions", 0, 0, "sessions"},
	{"users", "/fixmux/users", 0, 0, "users"},
	{"stats", "/fixmux/stats", 0, 0, "stats"},
	{"latency", "/fixmux/latency", 0, 0, "latency"},
	{"latency reset", "/fixmux/latency_reset", 0, 0, "latency reset"},
	{"config", "/fixmux/config", 0, 0, "config"},
	{"set heartbeat", "/fixmux/set_heartbeat", 1, 2, "set heartbeat SECONDS [SESSION]"},
	{"set rate", "/fixmux/set_rate", 3, 4, "set rate user|session NAME RATE [BURST]"},
	{"reload-filters", "/fixmux/reload_filters", 0, 1, "reload-filters [FILE]"},
	{"logout", "/fixmux/logout", 1, 1, "logout USER"},
	{"set-seqs", "/fixmux/set_seqs", 3, 4, "set-seqs SESSION NEXT_IN NEXT_OUT [--force]"},
	{"log-level", "/fixmux/log_level", 1, 1, "log-level error|warning|info|debug"},
	{"idle", "/fixmux/idle", 1, 1, "idle spin|backoff|sleep"},
};
#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static __attribute__((noreturn, format(printf, 2, 3))) void die(int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "fixmuxctl: ");
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(status);
}

static void list_commands(FILE *f)
{
	fprintf(f, "commands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %s\n", commands[i].usage);
}

static __attribute__((noreturn)) void usage(int status)
{
	FILE *f = status ? stderr : stdout;
	fprintf(f, "usage: fixmuxctl [--file-prefix P | --socket PATH] [--json] COMMAND [ARGS]\n"
		   "  --file-prefix P  the fixmux started with EAL --file-prefix P (default rte)\n"
		   "  --socket PATH    the telemetry socket itself\n"
		   "  --json           the answer as JSON (for programs)\n");
	list_commands(f);
	exit(status);
}

/* DPDK's runtime directory: /var/run for root, else $XDG_RUNTIME_DIR or /tmp
 * (eal_create_runtime_dir). */
static void socket_path(char *out, size_t cap, const char *prefix)
{
	const char *dir = "/var/run";
	if (getuid() != 0) {
		const char *x = getenv("XDG_RUNTIME_DIR");
		dir = x ? x : "/tmp";
	}
	snprintf(out, cap, "%s/dpdk/%s/dpdk_telemetry.v2", dir, prefix);
}

/* One request, its answer in rx (NUL-terminated). */
static void request(const char *path, const char *prefix, const char *req, char *rx, size_t cap)
{
	int fd = socket(AF_UNIX, SOCK_SEQPACKET, 0);
	if (fd < 0)
		die(1, "socket: %s", strerror(errno));
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof(sun.sun_path))
		die(2, "socket path too long: %s", path);
	strcpy(sun.sun_path, path);
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
		if (prefix)
			die(1, "no fixmux running with file prefix '%s': cannot connect to %s: %s "
			       "(is fixmux started with telemetry, as root if you are?)",
			    prefix, path, strerror(errno));
		die(1, "cannot connect to %s: %s", path, strerror(errno));
	}
	/* The greeting ({"version": ..., "pid": ..., "max_output_len": ...}). */
	ssize_t n = recv(fd, rx, cap - 1, 0);
	if (n <= 0)
		die(1, "%s: no greeting from the process (%s)", path,
		    n < 0 ? strerror(errno) : "closed");
	if (send(fd, req, strlen(req), 0) < 0)
		die(1, "%s: send: %s", path, strerror(errno));
	n = recv(fd, rx, cap - 1, 0);
	if (n <= 0)
		die(1, "%s: no answer (%s)", path, n < 0 ? strerror(errno) : "closed");
	rx[n] = '\0';
	close(fd);
}

static const char *scalar(const struct jnode *v)
{
	return v->t == J_STR || v->t == J_NUM || v->t == J_BOOL ? v->s : "null";
}

/* Scalars as "key  value" lines, then the columns as one table. */
static void print_human(int obj)
{
	size_t kw = 0;
	int rows = -1, n_cols = 0;
	for (int c = nodes[obj].first; c >= 0; c = nodes[c].next) {
		if (nodes[c].t == J_ARR) {
			n_cols++;
			if (rows < 0 || nodes[c].n > rows)
				rows = nodes[c].n;
		} else if (strlen(nodes[c].key) > kw) {
			kw = strlen(nodes[c].key);
		}
	}
	for (int c = nodes[obj].first; c >= 0; c = nodes[c].next)
		if (nodes[c].t != J_ARR)
			printf("%-*s  %s\n", (int)kw, nodes[c].key, scalar(&nodes[c]));
	if (n_cols == 0)
		return;
	if (rows <= 0) {
		printf("(none)\n");
		return;
	}
	/* Column widths: the longest of the header and the cells. */
	int width[64];
	int k = 0;
	for (int c = nodes[obj].first; c >= 0 && k < 64; c = nodes[c].next) {
		if (nodes[c].t != J_ARR)
			continue;
		width[k] = (int)strlen(nodes[c].key);
		for (int r = 0; r < nodes[c].n; r++) {
			int w = (int)strlen(scalar(child(c, r)));
			if (w > width[k])
				width[k] = w;
		}
		k++;
	}
	for (int r = -1; r < rows; r++) {
		k = 0;
		for (int c = nodes[obj].first; c >= 0 && k < 64; c = nodes[c].next) {
			if (nodes[c].t != J_ARR)
				continue;
			const struct jnode *cell = r >= 0 ? child(c, r) : NULL;
			const char *text = r < 0 ? nodes[c].key : cell ? scalar(cell) : "";
			bool last = nodes[c].next < 0;
			printf(last ? "%-*s" : "%-*s  ", last ? 0 : width[k], text);
			k++;
		}
		printf("\n");
	}
}

int main(int argc, char **argv)
{
	const char *prefix = "rte", *sock = NULL;
	bool json = false;
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--json"))
			json = true;
		else if (!strcmp(argv[i], "--file-prefix") && i + 1 < argc)
			prefix = argv[++i];
		else if (!strcmp(argv[i], "--socket") && i + 1 < argc)
			sock = argv[++i];
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
			usage(0);
		else
			usage(2);
	}
	if (i == argc)
		usage(2);
	/* The longest command whose words match. */
	const struct command *cmd = NULL;
	int used = 0;
	for (size_t c = 0; c < N_COMMANDS; c++) {
		char w[64];
		snprintf(w, sizeof(w), "%s", commands[c].words);
		int k = 0;
		bool ok = true;
		char *save = NULL;
		for (char *t = strtok_r(w, " ", &save); t; t = strtok_r(NULL, " ", &save), k++)
			if (i + k >= argc || strcmp(argv[i + k], t) != 0)
				ok = false;
		if (ok && k > used) {
			cmd = &commands[c];
			used = k;
		}
	}
	if (cmd == NULL) {
		fprintf(stderr, "fixmuxctl: unknown command '%s'\n", argv[i]);
		list_commands(stderr);
		return 2;
	}
	int n_args = argc - i - used;
	if (n_args < cmd->min_args || n_args > cmd->max_args)
		die(2, "usage: fixmuxctl %s", cmd->usage);
	char req[1024];
	size_t len = (size_t)snprintf(req, sizeof(req), "%s", cmd->tel);
	for (int a = 0; a < n_args; a++) {
		const char *arg = argv[i + used + a];
		if (strchr(arg, ','))
			die(2, "arguments cannot contain ',' (the telemetry protocol's separator)");
		if (!strcmp(cmd->tel, "/fixmux/set_seqs") && a == 3) {
			if (strcmp(arg, "--force") != 0)
				die(2, "usage: fixmuxctl %s", cmd->usage);
			arg = "force";
		}
		len += (size_t)snprintf(req + len, sizeof(req) - len, "%s%s", a ? " " : ",", arg);
		if (len >= sizeof(req))
			die(2, "arguments too long");
	}
	char path[512];
	if (sock)
		snprintf(path, sizeof(path), "%s", sock);
	else
		socket_path(path, sizeof(path), prefix);
	static char rx[RX_MAX];
	request(path, sock ? NULL : prefix, req, rx, sizeof(rx));

	/* The parser unescapes in place: --json prints from an untouched copy. */
	static char raw[RX_MAX];
	memcpy(raw, rx, sizeof(raw));
	struct jp j = {rx};
	int root = parse_value(&j);
	if (root < 0 || nodes[root].t != J_OBJ || nodes[root].n != 1)
		die(1, "unexpected answer from %s: %.200s", path, rx);
	const struct jnode *v = child(root, 0);
	if (v->t == J_NULL)
		die(1, "%s: the process does not know %s (is it fixmux?)", path, cmd->tel);
	if (v->t == J_STR) {
		if (json)
			printf("{\"error\": %.*s}\n", (int)(v->end - v->start), raw + (v->start - rx));
		die(1, "%s: %s", cmd->words, v->s);
	}
	if (v->t != J_OBJ)
		die(1, "unexpected answer from %s: %.200s", path, rx);
	if (json) {
		printf("%.*s\n", (int)(v->end - v->start), raw + (v->start - rx));
		return 0;
	}
	print_human((int)(v - nodes));
	return 0;
}
