/* EAL start-up without hugepages. */
#include "dp_eal.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

#define ARGS_MAX 32

int dp_eal_init_nohuge(const struct dp_eal_opts *o, char *err, size_t errlen)
{
	static char buf[ARGS_MAX][160];
	char *argv[ARGS_MAX + 1];
	int argc = 0;
	if (o->n_vdevs > ARGS_MAX - 12) {
		snprintf(err, errlen, "eal: too many vdevs (%u)", o->n_vdevs);
		return -1;
	}
#define ARG(...) (snprintf(buf[argc], sizeof(buf[argc]), __VA_ARGS__), argv[argc] = buf[argc], argc++)
	ARG("fixmux");
	if (o->huge) {
		/* no files in hugetlbfs or /var/run: everything dies with the process */
		ARG("--in-memory");
	} else {
		ARG("--no-huge");
		/* DPDK 22.11 treats --no-huge as legacy memory mode and refuses it together with
		 * --in-memory; --no-shconf gives what we wanted from it: no runtime files
		 * shared between processes. */
		ARG("--no-shconf");
	}
	ARG("--no-pci");
	ARG("--no-telemetry");
	ARG("--file-prefix=%s_%ld", o->prefix ? o->prefix : "fixmux", (long)getpid());
	ARG("-l");
	ARG("%s", o->lcores ? o->lcores : "0");
	/* Without hugepages the EAL reserves 64 MB unless told otherwise (--socket-mem is
	 * refused together with --no-huge); with them, -m caps what is taken from the pool. */
	if (o->mem_mb) {
		ARG("-m");
		ARG("%u", o->mem_mb);
	}
	ARG("--log-level=%s", o->log_level ? o->log_level : "*:warning");
	for (unsigned i = 0; i < o->n_vdevs; i++)
		ARG("--vdev=%s", o->vdevs[i]);
#undef ARG
	argv[argc] = NULL;
	if (rte_eal_init(argc, argv) < 0) {
		snprintf(err, errlen, "rte_eal_init: %s", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

unsigned dp_eal_hugepages_free_mb(void)
{
	FILE *f = fopen("/proc/meminfo", "r");
	if (f == NULL)
		return 0;
	char line[128];
	unsigned long free_pages = 0, size_kb = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		sscanf(line, "HugePages_Free: %lu", &free_pages);
		sscanf(line, "Hugepagesize: %lu kB", &size_kb);
	}
	fclose(f);
	return (unsigned)(free_pages * size_kb / 1024);
}
