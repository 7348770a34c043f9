/* libFuzzer target for fixcodec: framing of the input as a byte stream (whole and in two
 * chunks), parsing of every framed message and of the raw input, typed accessors on every
 * value, validation against each version's dictionary, re-encoding, and header rewrite of
 * parsed messages into a scratch buffer. Invariants are checked with abort(), so a broken one
 * is reported like a crash. Build and run: bash tests/fuzz/run_fuzz.sh (see README.md). */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../fixcodec/fix_codec_pvt.h" /* fix_parse_ref */
#include "fix_encode.h"
#include "fix_msg.h"
#ifndef FUZZ_NO_VALIDATE
#include "fix_dict.h"
#endif

#define CHECK(c)                                                                             \
	do {                                                                                 \
		if (!(c))                                                                    \
			abort();                                                             \
	} while (0)

/* fix_parse (its fast path, or the reference it falls back to) and the reference parser
 * must agree on everything a caller sees. m is fix_parse's result, rc its return value. */
static void same_as_reference(const struct fix_msg *m, int rc, const char *buf, size_t n)
{
	static struct fix_field rf[1024];
	struct fix_msg r = {.fields = rf, .cap = m->cap};
	CHECK(m->cap <= 1024);
	CHECK(fix_parse_ref(&r, buf, n) == rc);
	CHECK(r.nfields == m->nfields && r.err_tag == m->err_tag && r.dup_tag == m->dup_tag);
	for (uint32_t i = 0; i < r.nfields && i < r.cap; i++)
		CHECK(rf[i].tag == m->fields[i].tag && rf[i].val == m->fields[i].val &&
		      rf[i].len == m->fields[i].len);
	const struct fix_header *a = &m->hdr, *b = &r.hdr;
	CHECK(a->ver == b->ver && memcmp(a->msg_type, b->msg_type, 4) == 0 &&
	      a->msg_type_len == b->msg_type_len && a->poss_dup == b->poss_dup &&
	      a->poss_resend == b->poss_resend && a->seq == b->seq && a->seq_err == b->seq_err);
	CHECK(a->i_sender == b->i_sender && a->i_target == b->i_target &&
	      a->i_sending_time == b->i_sending_time &&
	      a->i_orig_sending_time == b->i_orig_sending_time &&
	      a->i_on_behalf_of == b->i_on_behalf_of && a->i_deliver_to == b->i_deliver_to &&
	      a->i_appl_ver == b->i_appl_ver);
	CHECK(a->body_length == b->body_length && a->body_off == b->body_off &&
	      a->trailer_off == b->trailer_off && a->body_sum == b->body_sum &&
	      a->n_header == b->n_header);
}

static void accessors(const struct fix_msg *m)
{
	for (uint32_t i = 0; i < m->nfields; i++) {
		const struct fix_field *f = &m->fields[i];
		CHECK(f->val >= m->buf && f->val + f->len < m->buf + m->len);
		CHECK(f->val[f->len] == FIX_SOH);
		int64_t s;
		uint64_t u;
		bool b;
		char c;
		struct fix_decimal d;
		(void)fix_get_int(f->val, f->len, &s);
		(void)fix_get_uint(f->val, f->len, &u);
		(void)fix_get_bool(f->val, f->len, &b);
		(void)fix_get_char(f->val, f->len, &c);
		if (fix_get_decimal(f->val, f->len, &d) == FIX_OK)
			(void)fix_decimal_cmp(d, (struct fix_decimal){1, 2});
		(void)fix_get_utc_timestamp(f->val, f->len, &s);
		CHECK(fix_find(m, f->tag, 0) != NULL);
	}
}

/* Re-encodes the body fields that hold no SOH; the result must frame. */
static void reencode(const struct fix_msg *m)
{
	static char out[1 << 17];
	struct fix_encoder e;
	fix_enc_begin(&e, out, sizeof(out), FIX_VER_44, m->hdr.msg_type[0] ? m->hdr.msg_type : "0",
		      NULL);
	fix_enc_time(&e, 52, 1795693771LL * 1000000000, FIX_TIME_US);
	for (uint32_t i = (uint32_t)m->hdr.n_header; i + 1 < m->nfields; i++) {
		const struct fix_field *f = &m->fields[i];
		if (f->len > 0 && memchr(f->val, FIX_SOH, f->len) == NULL)
			fix_enc_str(&e, f->tag, f->val, f->len);
	}
	char *msg;
	size_t n = fix_enc_finish(&e, &msg);
	CHECK(n > 0);
	struct fix_framer fr;
	fix_framer_init(&fr, sizeof(out));
	CHECK(fix_frame(&fr, msg, n, NULL) == (long)n);
}

static void rewrite(struct fix_msg *m, const uint8_t *data, size_t size)
{
	char ids[16];
	for (size_t i = 0; i < sizeof(ids); i++)
		ids[i] = (char)('A' + (size > i ? data[i] % 26 : 0));
	struct fix_out_header h = {
		.ver = (enum fix_version)(1 + size % 3),
		.msg_type = m->hdr.msg_type[0] ? m->hdr.msg_type : "8",
		.sender = {ids, 1 + size % 8},
		.target = {ids + 8, 1 + size % 7},
		.seq = size * 7919,
		.sending_time_ns = (int64_t)(size * 1000003) * 1000000,
		.precision = (enum fix_time_precision)(3 * (size % 4)),
		.poss_dup = size & 1,
		.orig_sending_time_ns = 1795693771LL * 1000000000,
	};
	if (size & 2)
		h.on_behalf_of = (struct fix_str){ids + 2, 3};
	if (size & 4)
		h.deliver_to = (struct fix_str){ids + 4, 4};
	const char *body = m->buf + m->hdr.body_off;
	uint32_t body_sum = m->hdr.body_sum;
	char *out;
	size_t out_len;
	CHECK(fix_rewrite(m, &h, FIX_MAX_REWRITE_HEADER, &out, &out_len) == FIX_OK);
	struct fix_framer fr;
	fix_framer_init(&fr, 1 << 20);
	CHECK(fix_frame(&fr, out, out_len, NULL) == (long)out_len);
	static struct fix_field nf[1024];
	struct fix_msg nm = {.fields = nf, .cap = 1024};
	int rc = fix_parse(&nm, out, out_len);
	CHECK(rc == FIX_OK || rc == FIX_E_BAD_TAG || rc == FIX_E_NO_EQUALS ||
	      rc == FIX_E_NO_VALUE || rc == FIX_E_TOO_MANY_FIELDS);
	if (rc == FIX_OK) {
		CHECK(out + nm.hdr.body_off == body);
		CHECK(nm.hdr.body_sum == body_sum);
	}
}

/* One framed message: copied into its own heap block (so ASan sees any over-read) with
 * headroom in front for the rewrite. */
static void message(const uint8_t *p, size_t n, const uint8_t *data, size_t size)
{
	char *block = malloc(FIX_MAX_REWRITE_HEADER + n);
	CHECK(block != NULL);
	char *buf = block + FIX_MAX_REWRITE_HEADER;
	memcpy(buf, p, n);
	static struct fix_field fl[1024];
	struct fix_msg m = {.fields = fl, .cap = 1024};
	int rc = fix_parse(&m, buf, n);
	same_as_reference(&m, rc, buf, n);
	/* The framer accepted it: 8, 9 and 35 are in place (10 may still be swallowed by a data
	 * field whose length runs over it: parse says FIX_E_BAD_CHECKSUM then). */
	CHECK(rc != FIX_E_BAD_BEGIN && rc != FIX_E_MSGTYPE_NOT_THIRD);
	accessors(&m);
	if (rc == FIX_OK) {
		CHECK(m.hdr.body_off <= m.hdr.trailer_off && m.hdr.trailer_off + 7 <= n);
		CHECK(m.hdr.body_sum ==
		      fix_sum(buf + m.hdr.body_off, m.hdr.trailer_off - m.hdr.body_off));
		CHECK(m.fields[0].tag == 8 && m.fields[m.nfields - 1].tag == 10);
	}
#ifndef FUZZ_NO_VALIDATE
	if (rc == FIX_OK || rc == FIX_E_NO_VALUE) {
		for (int v = FIX_VER_42; v < FIX_VER__COUNT; v++) {
			const struct fix_dict *d = fix_dict_get((enum fix_version)v);
			if (d == NULL)
				continue;
			struct fix_verdict verdict;
			fix_validate(d, &m, &verdict);
		}
	}
#endif
	if (rc == FIX_OK) {
		reencode(&m);
		rewrite(&m, data, size);
	}
	free(block);
}

static void stream(const uint8_t *data, size_t size, uint32_t max_msg, size_t first_chunk)
{
	struct fix_framer f;
	fix_framer_init(&f, max_msg);
	size_t off = 0;
	size_t avail = first_chunk < size ? first_chunk : size;
	while (off < size) {
		int err;
		long r = fix_frame(&f, (const char *)data + off, avail - off, &err);
		if (r == 0) {
			CHECK(err == FIX_E_NEED_MORE);
			if (avail == size)
				break;
			avail = size; /* more bytes arrive: resume */
			continue;
		}
		if (r < 0) {
			CHECK(-r >= 1 && (size_t)-r <= avail - off);
			CHECK(err > FIX_E_NEED_MORE && err < FIX_E__COUNT);
			off += (size_t)-r;
			continue;
		}
		CHECK((size_t)r <= avail - off && (size_t)r <= max_msg);
		CHECK(err == FIX_OK);
		message(data + off, (size_t)r, data, size);
		off += (size_t)r;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	stream(data, size, 1 << 16, size);
	stream(data, size, 512, size / 2 + 1);
	/* fix_parse must be safe on anything, framed or not. */
	char *copy = malloc(size ? size : 1);
	CHECK(copy != NULL);
	memcpy(copy, data, size);
	static struct fix_field fl[64];
	struct fix_msg m = {.fields = fl, .cap = 64};
	int rc = fix_parse(&m, copy, size);
	same_as_reference(&m, rc, copy, size);
	accessors(&m);
	free(copy);
	return 0;
}
