/* fixmux-bench: what the harness's run loop (bench_harness.c) and its reporting
 * (bench_report.c) share: phases, results and the options.
 */
#ifndef BENCH_HARNESS_H
#define BENCH_HARNESS_H

#include "bench_hist.h"

#include <stdbool.h>
#include <stdint.h>

#define HIST_HIGHEST 100000000000ull  /* 100 s in ns */
#define MAX_PHASES 3
#define MAX_SECONDS 3600
#define MAX_USERS 1024

struct phase {
	const char *name;     /* "fixmux", "qfrelay" or "direct" */
	char host[64];
	uint16_t port;
	const char *target;   /* TargetCompID */
	char tag;             /* first letter of ClOrdIDs */
	uint32_t users;       /* sessions carrying the schedule in this phase */
};

struct second_row {
	uint32_t t;
	uint64_t answered;
	uint64_t p50, p90, p99, max;
};

struct result {
	const char *phase;
	uint32_t users;
	uint64_t sent, answered, rejected, unanswered, other_rejects, fills;
	struct bench_hist lat;      /* measured part of the run */
	struct bench_hist lag;      /* harness send lag */
	struct second_row *rows;
	uint32_t nrows;
	double elapsed_s;
	bool ok;
	char why[256];
};

/* The command line's settings. */
struct bench_cfg {
	uint32_t users;
	double rate;
	double duration_s;
	double warmup_s;
	double drain_s;
	const char *prefix;
	char password[128];
	const char *out_dir;
	bool json;
	bool progress;
	bool spin;
	struct phase phases[MAX_PHASES];
	int nphases;
};
extern struct bench_cfg bench_cfg;

/* The summary table (or JSON lines) of every phase and the ratios between them. */
void bench_report(const struct result *res, int nres);
/* PHASE.hgrm, PHASE.csv and PHASE-timeline.csv into bench_cfg.out_dir (if set). */
void bench_write_files(const struct result *r);
/* The histogram's self-test (--selftest); returns the exit status. */
int bench_selftest(void);

#endif
