/* control: CRC32C (Castagnoli, reflected polynomial 0x82F63B78), the journal's record checksum.
 * Chosen over a faster non-cryptographic hash because x86-64 computes it in hardware (SSE4.2
 * crc32 instruction, ~8 bytes/cycle) and its error-detection properties for short records are
 * well studied (iSCSI, ext4, RocksDB). The table version is the fallback for other CPUs.
 */
#include <stdint.h>
#include <string.h>

#include "ctl_journal.h"

static uint32_t tab[8][256];

static uint32_t crc_sw(uint32_t crc, const uint8_t *p, size_t len)
{
	while (len && ((uintptr_t)p & 7)) {
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
		len--;
	}
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		w ^= crc;
		crc = tab[7][w & 0xff] ^ tab[6][(w >> 8) & 0xff] ^ tab[5][(w >> 16) & 0xff] ^
		      tab[4][(w >> 24) & 0xff] ^ tab[3][(w >> 32) & 0xff] ^
		      tab[2][(w >> 40) & 0xff] ^ tab[1][(w >> 48) & 0xff] ^ tab[0][w >> 56];
		p += 8;
		len -= 8;
	}
	while (len--)
		crc = tab[0][(crc ^ *p++) & 0xff] ^ (crc >> 8);
	return crc;
}

#if defined(__x86_64__)
#include <nmmintrin.h>

/* Unaligned 8-byte loads cost nothing extra on x86-64, so there is no byte-wise run up to an
 * aligned address (records start 4 bytes into an 8-aligned header); the tail takes 4, 2 and 1
 * bytes at a time. The result is the same as byte by byte: crc32 of a little-endian word is
 * crc32 of its bytes in order. */
__attribute__((target("sse4.2"))) static uint32_t crc_hw(uint32_t crc, const uint8_t *p,
							   size_t len)
{
	uint64_t c = crc;
	while (len >= 8) {
		uint64_t w;
		memcpy(&w, p, 8);
		c = _mm_crc32_u64(c, w);
		p += 8;
		len -= 8;
	}
	uint32_t c32 = (uint32_t)c;
	if (len & 4) {
		uint32_t w;
		memcpy(&w, p, 4);
		c32 = _mm_crc32_u32(c32, w);
		p += 4;
	}
	if (len & 2) {
		uint16_t w;
		memcpy(&w, p, 2);
		c32 = _mm_crc32_u16(c32, w);
		p += 2;
	}
	if (len & 1)
		c32 = _mm_crc32_u8(c32, *p);
	return c32;
}
#endif

static uint32_t (*crc_impl)(uint32_t, const uint8_t *, size_t) = crc_sw;

/* Runs before main(): the tables and the dispatch are ready before any journal is opened, so
 * no call pays for a lazy check. */
__attribute__((constructor)) static void crc_init(void)
{
	for (uint32_t i = 0; i < 256; i++) {
		uint32_t c = i;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0x82F63B78u & (0u - (c & 1)));
		tab[0][i] = c;
	}
	for (uint32_t i = 0; i < 256; i++)
		for (int t = 1; t < 8; t++)
			tab[t][i] = (tab[t - 1][i] >> 8) ^ tab[0][tab[t - 1][i] & 0xff];
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (__builtin_cpu_supports("sse4.2"))
		crc_impl = crc_hw;
#endif
}

uint32_t ctl_crc32c(uint32_t crc, const void *buf, size_t len)
{
	return ~crc_impl(~crc, buf, len);
}

/* For the tests: the portable path, whatever the CPU. */
uint32_t ctl_crc32c_sw(uint32_t crc, const void *buf, size_t len);
uint32_t ctl_crc32c_sw(uint32_t crc, const void *buf, size_t len)
{
	return ~crc_sw(~crc, buf, len);
}
