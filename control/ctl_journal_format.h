/* control: the journal's on-disk layout (private; docs/journal.md has the same tables).
 * Every multi-byte field is little-endian (the host order: x86-64 and arm64 only). Changing a
 * struct here changes the file format: bump the version and say so in docs/journal.md.
 */
#ifndef CTL_JOURNAL_FORMAT_H
#define CTL_JOURNAL_FORMAT_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the journal format is little-endian and is read in place"
#endif

#define CTL_J_VERSION 1u
#define CTL_J_MAGIC_SEG 0x314745534A4D5846ull   /* "FXMJSEG1" */
#define CTL_J_MAGIC_END 0x31444E454A4D5846ull   /* "FXMJEND1" */
#define CTL_J_MAGIC_STATE 0x315441534A4D5846ull /* "FXMJSTA1" */

#define CTL_J_PAGE 4096u
#define CTL_J_ALIGN 8u
/* One sparse-index entry per this many segment bytes: a lookup scans at most this far. */
#define CTL_J_GRANULE 4096u
#define CTL_J_MIN_SEGMENT (64u * 1024u)

enum ctl_jseg_kind {
	CTL_JSEG_OUT = 1,
	CTL_JSEG_APP = 2,
};

enum ctl_jrec_type {
	CTL_JREC_OUT = 1,   /* key = MsgSeqNum, payload = the FIX message as sent */
	CTL_JREC_APP = 2,   /* key = the owner's record type, payload = opaque */
	CTL_JREC_INDEX = 3, /* key = entry count, payload = struct ctl_jidx_ent[] (sealed OUT) */
};

/* At offset 0 of every segment file. */
struct ctl_jseg_hdr {
	uint64_t magic;     /* CTL_J_MAGIC_SEG */
	uint32_t version;   /* CTL_J_VERSION */
	uint32_t kind;      /* enum ctl_jseg_kind */
	uint64_t segno;     /* also in the file name; increases by one per segment */
	uint64_t epoch;     /* OUT: the reset epoch the segment belongs to; APP: 0 */
	uint64_t size;      /* file size when created */
	uint8_t reserved[20];
	uint32_t crc;       /* CRC32C of bytes [0, 60) */
};
static_assert(sizeof(struct ctl_jseg_hdr) == 64, "segment header is 64 bytes");
static_assert(offsetof(struct ctl_jseg_hdr, crc) == 60, "segment header crc last");

/* Records follow the segment header back to back, each starting 8-byte aligned. An all-zero
 * header (the pre-allocated file's content) ends the chain cleanly; anything else that fails
 * the checks ends it as torn or corrupt. */
struct ctl_jrec_hdr {
	uint32_t crc;       /* CRC32C of bytes [4, 24 + len) of the record */
	uint32_t len;       /* payload bytes following this header */
	uint16_t type;      /* enum ctl_jrec_type */
	uint16_t reserved;  /* 0 */
	uint32_t segno_lo;  /* low 32 bits of the segment's number: a stale copy is rejected */
	uint64_t key;       /* see enum ctl_jrec_type */
};
static_assert(sizeof(struct ctl_jrec_hdr) == 24, "record header is 24 bytes");
static_assert(offsetof(struct ctl_jrec_hdr, key) == 16, "record key at 16");

/* The payload of an INDEX record: one entry per CTL_J_GRANULE bytes of records. */
struct ctl_jidx_ent {
	uint64_t key;       /* seq of the first record starting in that granule */
	uint64_t off;       /* its offset in the segment */
};
static_assert(sizeof(struct ctl_jidx_ent) == 16, "index entry is 16 bytes");

/* In the last 64 bytes of a sealed segment (written when the segment is full). */
struct ctl_jseg_footer {
	uint64_t magic;     /* CTL_J_MAGIC_END */
	uint64_t segno;
	uint64_t first_key; /* OUT: first seq; APP: 0 */
	uint64_t last_key;  /* OUT: last seq; APP: 0 */
	uint64_t index_off; /* offset of the INDEX record, 0 if none */
	uint64_t end_off;   /* offset just past the last record (the INDEX record included) */
	uint64_t count;     /* OUT or APP records in the segment */
	uint32_t reserved;
	uint32_t crc;       /* CRC32C of bytes [0, 60) */
};
static_assert(sizeof(struct ctl_jseg_footer) == 64, "segment footer is 64 bytes");
static_assert(offsetof(struct ctl_jseg_footer, crc) == 60, "segment footer crc last");

/* The state file is one page: this header, then two slots at offsets 64 and 128. */
struct ctl_jstate_hdr {
	uint64_t magic;     /* CTL_J_MAGIC_STATE */
	uint32_t version;
	uint8_t reserved[52];
};
static_assert(sizeof(struct ctl_jstate_hdr) == 64, "state header is 64 bytes");

/* A slot is written whole, then its crc; the slot with the higher valid generation wins, so a
 * torn write leaves the other (previous) slot in force. gen & 1 selects the slot. */
struct ctl_jstate_slot {
	uint64_t gen;
	uint64_t next_in;
	uint64_t next_out;  /* a floor: recovery uses max(next_out, last stored seq + 1) */
	uint64_t epoch;
	uint8_t reserved[28];
	uint32_t crc;       /* CRC32C of bytes [0, 60) */
};
static_assert(sizeof(struct ctl_jstate_slot) == 64, "state slot is 64 bytes");

#define CTL_J_STATE_SLOT0 64u
#define CTL_J_STATE_SIZE CTL_J_PAGE

static inline uint64_t ctl_j_align(uint64_t n)
{
	return (n + CTL_J_ALIGN - 1) & ~(uint64_t)(CTL_J_ALIGN - 1);
}

/* Bytes at the end of a segment of `size` bytes kept free for sealing: the footer, and for OUT
 * segments the INDEX record with room for one entry per granule. */
static inline uint64_t ctl_j_reserve(uint32_t kind, uint64_t size)
{
	uint64_t r = sizeof(struct ctl_jseg_footer);
	if (kind == CTL_JSEG_OUT)
		r += sizeof(struct ctl_jrec_hdr) +
		     (size / CTL_J_GRANULE + 1) * sizeof(struct ctl_jidx_ent);
	return r;
}

#endif
