/* fixmux-bench (kernel sockets only): no user-space transport; fixmux-bench-dp has it. */
#include "bench_dpnet.h"

#include <stdio.h>

int bench_dp_init(const char *eal_args, const char *dev, const char *ip_cidr, const char *idle,
		  char *err, size_t cap)
{
	(void)eal_args, (void)dev, (void)ip_cidr, (void)idle;
	snprintf(err, cap, "this fixmux-bench has no user-space transport: use fixmux-bench-dp");
	return -1;
}

bool bench_dp_active(void)
{
	return false;
}

long bench_dp_connect(const char *host, uint16_t port, uint32_t user)
{
	(void)host, (void)port, (void)user;
	return -1;
}

long bench_dp_write(uint32_t h, const char *buf, size_t len)
{
	(void)h, (void)buf, (void)len;
	return -1;
}

long bench_dp_read(uint32_t h, char *buf, size_t cap)
{
	(void)h, (void)buf, (void)cap;
	return -1;
}

void bench_dp_close(uint32_t h)
{
	(void)h;
}

int bench_dp_poll(struct bench_dp_ready *ready, unsigned cap, uint64_t timeout_ns)
{
	(void)ready, (void)cap, (void)timeout_ns;
	return -1;
}

void bench_dp_drain(unsigned ms)
{
	(void)ms;
}
