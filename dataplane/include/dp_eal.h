/* dp_eal: EAL start-up helpers for tests, tools and benchmarks that must run without
 * hugepages or PCI devices (this box, CI). */
#ifndef DP_EAL_H
#define DP_EAL_H

#include <stdbool.h>
#include <stddef.h>

struct dp_eal_opts {
	const char *prefix;        /* file prefix; the pid is appended so runs never collide */
	const char *lcores;        /* -l value; NULL means "0" */
	const char *const *vdevs;  /* --vdev values, e.g. "net_tap0,iface=dtap0" */
	unsigned n_vdevs;
	unsigned mem_mb;           /* -m; 0 means the EAL default (64 MB without hugepages) */
	const char *log_level;     /* --log-level; NULL means "*:warning" */
	/* Use hugepages (--in-memory, -m mem_mb from the hugetlbfs pool) instead of --no-huge:
	 * for benchmarks, where 4 KiB pages cost TLB misses. See dp_eal_hugepages_free_mb(). */
	bool huge;
};

/* Free 2 MiB (default size) hugepages in MB from /proc/meminfo; 0 if none or unknown. */
unsigned dp_eal_hugepages_free_mb(void);

/* rte_eal_init() with --no-huge --no-shconf (or, with huge, --in-memory) --no-pci --file-prefix=<prefix>_<pid> -l <lcores>
 * [-m <mem_mb>] and the vdevs. Once per process. 0 / -1 with err filled. */
int dp_eal_init_nohuge(const struct dp_eal_opts *o, char *err, size_t errlen);

#endif /* DP_EAL_H */
