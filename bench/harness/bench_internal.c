/* fixmux-bench: fixmux's internal latency, from `fixmuxctl --json latency` (docs/operations.md:
 * a table as an object of columns, each an array with one value per direction, possibly inside
 * an outer object). Not on any measured path: read before and after the fixmux phase. */
#define _GNU_SOURCE
#include "bench_harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

static const char *const keys[IV__N] = {
	[IV_COUNT] = "count", [IV_MIN] = "min_ns", [IV_P50] = "p50_ns", [IV_P90] = "p90_ns",
	[IV_P99] = "p99_ns", [IV_P999] = "p99_9_ns", [IV_P9999] = "p99_99_ns",
	[IV_MAX] = "max_ns", [IV_MEAN] = "mean_ns",
};

/* The text after `"key"`, blanks and a colon: the value; NULL when the key is absent. */
static const char *value_of(const char *text, const char *key)
{
	char q[64];
	snprintf(q, sizeof(q), "\"%s\"", key);
	const char *p = strstr(text, q);
	if (p == NULL)
		return NULL;
	p += strlen(q);
	p += strspn(p, " \t\r\n");
	if (*p != ':')
		return NULL;
	p++;
	return p + strspn(p, " \t\r\n");
}

int bench_internal_parse(const char *text, uint64_t v[INT_DIRS][IV__N], char *why, size_t cap)
{
	/* Which direction is which: the "direction" column names them. */
	const char *d = value_of(text, "direction");
	int c2v = -1, v2c = -1;
	if (d != NULL && *d == '[') {
		const char *end = strchr(d, ']');
		const char *a = strstr(d, "\"client_to_venue\""), *b = strstr(d, "\"venue_to_client\"");
		if (end != NULL && a != NULL && b != NULL && a < end && b < end) {
			c2v = a < b ? 0 : 1;
			v2c = 1 - c2v;
		}
	}
	if (c2v < 0) {
		snprintf(why, cap, "fixmuxctl latency: no client_to_venue/venue_to_client columns");
		return -1;
	}
	for (int k = 0; k < IV__N; k++) {
		const char *p = value_of(text, keys[k]);
		if (p == NULL || *p != '[') {
			snprintf(why, cap, "fixmuxctl latency: no column %s", keys[k]);
			return -1;
		}
		p++;
		for (int i = 0; i < INT_DIRS; i++) {
			char *end;
			p += strspn(p, " \t\r\n");
			unsigned long long x = strtoull(p, &end, 10);
			if (end == p || *p == '-') {
				snprintf(why, cap, "fixmuxctl latency: column %s: not two numbers",
					 keys[k]);
				return -1;
			}
			v[i == 0 ? c2v : v2c][k] = x;
			p = end + strspn(end, " \t\r\n");
			if (*p != (i == 0 ? ',' : ']')) {
				snprintf(why, cap, "fixmuxctl latency: column %s: not two numbers",
					 keys[k]);
				return -1;
			}
			p++;
		}
	}
	return 0;
}

/* Runs cmd and reads what it prints into text; 0 when it exits 0. */
static int run_cmd(const char *cmd, char *text, size_t text_cap, char *why, size_t cap)
{
	FILE *f = popen(cmd, "r");

	if (f == NULL) {
		snprintf(why, cap, "cannot run the latency command");
		return -1;
	}
	size_t n = fread(text, 1, text_cap - 1, f);
	text[n] = 0;
	int st = pclose(f);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		/* Its first line (fixmuxctl --json prints {"error": ...}) says why. */
		text[strcspn(text, "\r\n")] = 0;
		for (char *p = text; *p; p++)
			if (*p == '"' || *p == '\\')
				*p = '\'';
		snprintf(why, cap, "latency command failed (status %d): %.100s",
			 WIFEXITED(st) ? WEXITSTATUS(st) : -1, text);
		return -1;
	}
	return 0;
}

int bench_internal_fetch(const char *cmd, uint64_t v[INT_DIRS][IV__N], char *why, size_t cap)
{
	static char text[65536];
	if (run_cmd(cmd, text, sizeof(text), why, cap) != 0)
		return -1;
	return bench_internal_parse(text, v, why, cap);
}

int bench_internal_run(const char *cmd, char *why, size_t cap)
{
	static char text[4096];
	return run_cmd(cmd, text, sizeof(text), why, cap);
}
