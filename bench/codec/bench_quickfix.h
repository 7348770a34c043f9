/* bench: the QuickFIX C++ side of the codec benchmark (bench_quickfix.cpp), behind a C API. */
#ifndef BENCH_QUICKFIX_H
#define BENCH_QUICKFIX_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum bench_qf_mode {
	BENCH_QF_PARSE = 0,          /* Message::setString(s, true): no dictionary */
	BENCH_QF_PARSE_DD = 1,       /* setString(s, true, &dd, &dd): groups known */
	BENCH_QF_PARSE_VALIDATE = 2, /* the above, then DataDictionary::validate */
};

/* Loads the QuickFIX data dictionary (an XML file of its spec/ folder) and keeps copies of
 * the n messages. 0 on success, -1 with a message in err. */
int bench_qf_init(const char *dict_xml, const char *const *msgs, const size_t *lens, int n,
		  char *err, size_t errlen);
/* Parses message idx in the given mode (the timed call): 0, or -1 if QuickFIX threw. */
int bench_qf_parse(int idx, enum bench_qf_mode mode);
/* Of the last parsed message, untimed, for the checks: the number of fields QuickFIX found
 * (header + body + trailer, group entries included), and the entries of group tag. */
int bench_qf_fields(void);
int bench_qf_groups(int tag);
/* Why the last bench_qf_parse returned -1. */
const char *bench_qf_last_error(void);
void bench_qf_fini(void);

#ifdef __cplusplus
}
#endif
#endif
