/* Shared by the dataplane tests that need the DPDK EAL: one rte_eal_init() per process,
 * without hugepages or PCI (--no-huge --no-shconf --no-pci, a unique --file-prefix), so the
 * tests run anywhere. Each ctest test is one Criterion test in its own process, and
 * Criterion forks every test, so calling this from a test (or its .init) is safe. */
#ifndef DP_TEST_EAL_H
#define DP_TEST_EAL_H

#include <criterion/criterion.h>

#include "dp_eal.h"

/* vdevs: NULL-terminated list of --vdev values, or NULL. */
static inline void dp_test_eal_init_vdevs(const char *const *vdevs)
{
	static int done;
	if (done)
		return;
	unsigned n = 0;
	while (vdevs != NULL && vdevs[n] != NULL)
		n++;
	struct dp_eal_opts o = { .prefix = "fixmux_test", .lcores = "0", .vdevs = vdevs,
				 .n_vdevs = n };
	char err[256];
	if (dp_eal_init_nohuge(&o, err, sizeof(err)) != 0)
		cr_assert_fail("EAL: %s", err);
	done = 1;
}

static inline void dp_test_eal_init(void)
{
	dp_test_eal_init_vdevs(NULL);
}

#endif /* DP_TEST_EAL_H */
