/* tcp_isn.c - SipHash-2-4 (Aumasson & Bernstein) for RFC 6528 initial sequence numbers:
 * ISN = M + F(localip, localport, remoteip, remoteport, secretkey), M a 4 us clock. */
#include <string.h>

#include "dp_stack_priv.h"

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                               \
	do {                                                                                   \
		v0 += v1;                                                                      \
		v1 = ROTL(v1, 13);                                                             \
		v1 ^= v0;                                                                      \
		v0 = ROTL(v0, 32);                                                             \
		v2 += v3;                                                                      \
		v3 = ROTL(v3, 16);                                                             \
		v3 ^= v2;                                                                      \
		v0 += v3;                                                                      \
		v3 = ROTL(v3, 21);                                                             \
		v3 ^= v0;                                                                      \
		v2 += v1;                                                                      \
		v1 = ROTL(v1, 17);                                                             \
		v1 ^= v2;                                                                      \
		v2 = ROTL(v2, 32);                                                             \
	} while (0)

static uint64_t load64_le(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

uint64_t dp_siphash24(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
	uint64_t v0 = 0x736f6d6570736575ull ^ k0;
	uint64_t v1 = 0x646f72616e646f6dull ^ k1;
	uint64_t v2 = 0x6c7967656e657261ull ^ k0;
	uint64_t v3 = 0x7465646279746573ull ^ k1;
	size_t full = len & ~(size_t)7;
	for (size_t i = 0; i < full; i += 8) {
		uint64_t m = load64_le(in + i);
		v3 ^= m;
		SIPROUND;
		SIPROUND;
		v0 ^= m;
	}
	uint64_t b = (uint64_t)len << 56;
	for (size_t i = 0; i < (len & 7); i++)
		b |= (uint64_t)in[full + i] << (8 * i);
	v3 ^= b;
	SIPROUND;
	SIPROUND;
	v0 ^= b;
	v2 ^= 0xff;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	SIPROUND;
	return v0 ^ v1 ^ v2 ^ v3;
}

uint32_t tcp_isn(struct dp_stack *st, uint32_t lip, uint16_t lport, uint32_t rip,
		 uint16_t rport)
{
	if (st->cfg.isn_fixed_set)
		return st->cfg.isn_fixed;
	uint8_t b[12];
	memcpy(b, &lip, 4);
	memcpy(b + 4, &rip, 4);
	memcpy(b + 8, &lport, 2);
	memcpy(b + 10, &rport, 2);
	uint64_t f = dp_siphash24(st->isn_k0, st->isn_k1, b, sizeof(b));
	return (uint32_t)(st->now_us / 4) + (uint32_t)f;
}
