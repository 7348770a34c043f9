/* fixmux-bench: the arithmetic of a market-data stamp (pure; tested in tests/bench). */
#ifndef BENCH_MD_H
#define BENCH_MD_H

#include <stddef.h>
#include <stdint.h>

#define BENCH_DAY_NS (86400ll * 1000000000ll)

/* "HH:MM:SS" or "HH:MM:SS.f" with 1 to 9 decimals (UTCTimeOnly, as the simulator's --md-rate
 * writes MDEntryTime) as nanoseconds since midnight; -1 when it is not that. */
int64_t bench_time_of_day_ns(const char *v, size_t len);
/* The latency of an increment stamped tod (ns since midnight, UTC) that arrived at now_rt
 * (CLOCK_REALTIME ns): the stamp's date is the one that puts it nearest to now_rt, so a burst
 * across midnight is right. *stamp gets the stamp as CLOCK_REALTIME ns. Negative when the
 * stamp is after the arrival (not on one clock; the caller records 0). */
int64_t bench_md_latency(int64_t now_rt, int64_t tod, int64_t *stamp);

#endif
