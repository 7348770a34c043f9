/* The QuickFIX acceptance scenarios (fix42, fix44, fix50sp2) run in-process against the
 * acceptor state machine with the suite's echo application: one Criterion test per scenario
 * file, named after it (the list is generated from the directory when CMake configures, see
 * session_tests.cmake). The directory read at run time is $FIXMUX_QUICKFIX_DEFS, by default
 * FIXMUX_QUICKFIX_REF "/definitions"; a missing directory skips each test loudly, and
 * acceptance/directory_has_a_test_per_file fails when a file in it has no test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "scenarios/runner.h"

static const char *defs_dir(void)
{
	const char *e = getenv("FIXMUX_QUICKFIX_DEFS");
	return e != NULL && e[0] != '\0' ? e : FIXMUX_QUICKFIX_REF "/definitions";
}

static bool is_dir(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Unused only when CMake found no scenario files (then the directory test fails loudly). */
__attribute__((unused)) static void run_one(const char *ver, const char *name)
{
	char dir[1024], path[1200], fmt[1100], err[4096];
	snprintf(dir, sizeof(dir), "%s/%s", defs_dir(), ver);
	if (!is_dir(dir))
		cr_skip_test("QuickFIX scenarios not found: %s is missing (set FIXMUX_QUICKFIX_DEFS)",
			     dir);
	snprintf(path, sizeof(path), "%s/%s.def", dir, name);
	snprintf(fmt, sizeof(fmt), "%s/fields.fmt", defs_dir());
	struct scn_opts o = {.role = CTL_ROLE_ACCEPTOR, .our_id = "ISLD", .echo = true,
			     .fmt_path = fmt};
	if (strcmp(ver, "fix42") == 0) {
		o.ver = FIX_VER_42;
		o.their_id = "TW42";
	} else if (strcmp(ver, "fix44") == 0) {
		o.ver = FIX_VER_44;
		o.their_id = "TW44";
	} else {
		o.ver = FIX_VER_T11;
		o.their_id = "TW50SP2";
	}
	int rc = scn_run(path, &o, err, sizeof(err));
	cr_assert(rc == 0, "%s/%s.def: %s", ver, name, err);
}

#define SCENARIO(ver, name) \
	Test(ver, name) { run_one(#ver, #name); }
#include "acceptance_cases.inc"

#undef SCENARIO
static const char *const known[] = {
#define SCENARIO(ver, name) #ver "/" #name ".def",
#include "acceptance_cases.inc"
	NULL};

Test(acceptance, directory_has_a_test_per_file)
{
	const char *vers[] = {"fix42", "fix44", "fix50sp2"};
	if (!is_dir(defs_dir()))
		cr_skip_test("QuickFIX scenarios not found: %s is missing (set FIXMUX_QUICKFIX_DEFS)",
			     defs_dir());
	int files = 0;
	for (size_t v = 0; v < 3; v++) {
		char dir[1024];
		snprintf(dir, sizeof(dir), "%s/%s", defs_dir(), vers[v]);
		DIR *d = opendir(dir);
		cr_assert(d != NULL, "cannot read %s", dir);
		struct dirent *e;
		while ((e = readdir(d)) != NULL) {
			size_t n = strlen(e->d_name);
			if (n < 5 || strcmp(e->d_name + n - 4, ".def") != 0)
				continue;
			char rel[512];
			snprintf(rel, sizeof(rel), "%s/%s", vers[v], e->d_name);
			bool found = false;
			for (size_t i = 0; known[i] != NULL && !found; i++)
				found = strcmp(known[i], rel) == 0;
			cr_expect(found, "%s has no test: re-run cmake to regenerate the list", rel);
			files++;
		}
		closedir(d);
	}
	cr_assert(files > 0, "no scenario files under %s", defs_dir());
}
