/* tests/control: runs a QuickFIX-format scenario (.def) in-process against one session state
 * machine, with a fake clock and in-memory connections. See runner.c for the format. */
#ifndef SCN_RUNNER_H
#define SCN_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "ctl_session.h"

struct scn_opts {
	enum ctl_role role;
	enum fix_version ver;
	const char *our_id;     /* our CompID ("ISLD") */
	const char *their_id;   /* the counterparty's ("TW44") */
	bool echo;              /* the acceptance suite's echo application */
	const char *fmt_path;   /* fields.fmt; NULL: the built-in copy of QuickFIX's */
	void (*tune)(struct ctl_session_cfg *cfg); /* optional configuration changes */
};

/* Runs the scenario at path. Returns 0 when every line held, else -1 with the line number,
 * what was expected and what happened in err. */
int scn_run(const char *path, const struct scn_opts *o, char *err, size_t err_cap);

#endif
