/* fixmux-bench: the user-space transport (bench_dpnet.c, in fixmux-bench-dp only; fixmux-bench
 * links bench_dpnet_none.c, where bench_dp_active() is false). Byte-stream calls over
 * fixmux's own TCP/IP stack for bench_worker.c; handles are the stack's connection handles. */
#ifndef BENCH_DPNET_H
#define BENCH_DPNET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BENCH_DP_EAGAIN (-2)
#define BENCH_DP_READABLE 1u
#define BENCH_DP_WRITABLE 2u

struct bench_dp_ready {
	uint32_t user;   /* the user number given to bench_dp_connect() */
	uint32_t flags;  /* BENCH_DP_* */
};

/* rte_eal_init() with eal_args (space-separated), the port dev (e.g. "net_memif0") and a stack
 * at ip_cidr ("198.18.0.1/24") idling as idle ("spin", "backoff:50", ...). 0 or -1 + err. */
int bench_dp_init(const char *eal_args, const char *dev, const char *ip_cidr, const char *idle,
		  char *err, size_t cap);
bool bench_dp_active(void);
/* Opens a connection for user number user (< 1024); its handle, or -1. Writes return 0 until
 * it is established (a BENCH_DP_WRITABLE readiness says so). */
long bench_dp_connect(const char *host, uint16_t port, uint32_t user);
/* Bytes taken (0: none now, wait for BENCH_DP_WRITABLE), or -1 when the connection is dead. */
long bench_dp_write(uint32_t h, const char *buf, size_t len);
/* Bytes read, 0 at the peer's close, BENCH_DP_EAGAIN when nothing is there, -1 on error. */
long bench_dp_read(uint32_t h, char *buf, size_t cap);
void bench_dp_close(uint32_t h);
/* Moves packets and returns the users that can read or write (at most cap), waiting up to
 * timeout_ns for one. */
int bench_dp_poll(struct bench_dp_ready *ready, unsigned cap, uint64_t timeout_ns);
/* Keeps the stack running for ms milliseconds (the last FINs and ACKs). */
void bench_dp_drain(unsigned ms);

#endif
