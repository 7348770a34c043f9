/* fixmux-bench: the arithmetic of a market-data stamp (see bench_md.h). */
#include "bench_md.h"

int64_t bench_time_of_day_ns(const char *v, size_t len)
{
	if (len < 8 || v[2] != ':' || v[5] != ':')
		return -1;
	for (size_t i = 0; i < 8; i++)
		if (i != 2 && i != 5 && (v[i] < '0' || v[i] > '9'))
			return -1;
	int64_t h = (v[0] - '0') * 10 + (v[1] - '0'), m = (v[3] - '0') * 10 + (v[4] - '0');
	int64_t s = (v[6] - '0') * 10 + (v[7] - '0');
	if (h > 23 || m > 59 || s > 60)
		return -1;
	int64_t frac = 0, scale = 1000000000;
	if (len > 8) {
		if (v[8] != '.' || len == 9 || len > 18)
			return -1;
		for (size_t i = 9; i < len; i++) {
			if (v[i] < '0' || v[i] > '9')
				return -1;
			scale /= 10;
			frac += (v[i] - '0') * scale;
		}
	}
	return (h * 3600 + m * 60 + s) * 1000000000 + frac;
}

int64_t bench_md_latency(int64_t now_rt, int64_t tod, int64_t *stamp)
{
	int64_t diff = ((now_rt % BENCH_DAY_NS) - tod + BENCH_DAY_NS) % BENCH_DAY_NS;
	if (diff > BENCH_DAY_NS / 2)
		diff -= BENCH_DAY_NS;
	*stamp = now_rt - diff;
	return diff;
}
