/* fixcodec: encoding messages into caller buffers, and rewriting a parsed message's header in
 * place for forwarding (the zero-copy path: the body bytes never move).
 */
#ifndef FIX_ENCODE_H
#define FIX_ENCODE_H

#include "fix_msg.h"

/* ---------------------------------------------------------------------------------------------
 * SendingTime formatting. The date part changes once a day, so it is cached and only the time
 * of day is formatted per message.
 * ------------------------------------------------------------------------------------------- */

enum fix_time_precision { FIX_TIME_S = 0, FIX_TIME_MS = 3, FIX_TIME_US = 6, FIX_TIME_NS = 9 };

struct fix_time_cache {
	int64_t day_start_ns;    /* start of the cached UTC day, ns since epoch; -1 when empty */
	char date[9];            /* "YYYYMMDD" */
	/* Added by the codec: messages come many per second, so the whole second
	 * "YYYYMMDD-HH:MM:SS" is kept too and only the fraction is formatted per call. */
	char second[17];
	int64_t sec_start_ns;    /* start of that second; -1 when empty */
};

/* Empties the cache (a zero-initialized cache is empty as well). */
void fix_time_cache_init(struct fix_time_cache *c);
/* Writes YYYYMMDD-HH:MM:SS[.fff...] for ns (since epoch, >= 0) into out, which must have room
 * for 27 bytes. Returns the number of bytes written (no NUL). */
size_t fix_format_utc(struct fix_time_cache *c, int64_t ns, enum fix_time_precision p, char *out);

/* ---------------------------------------------------------------------------------------------
 * Encoder. Fields are appended after a gap reserved for "8=...|9=nnnn|"; finishing writes
 * BeginString and BodyLength right-aligned into the gap and the trailer after the body, with the
 * checksum accumulated while appending (one pass). The message therefore starts at *out of
 * fix_enc_finish, not necessarily at the start of the buffer.
 * ------------------------------------------------------------------------------------------- */

struct fix_encoder {
	char *buf;
	size_t cap;
	size_t pos;              /* next byte to write */
	size_t body_start;       /* where 35= begins */
	uint32_t sum;            /* byte sum of [body_start, pos) */
	int err;                 /* sticky: first error (FIX_E_NO_ROOM), checked by finish */
	enum fix_version ver;
	struct fix_time_cache *tc;
};

/* Starts a message of type msg_type ("D", "AE", ...). tc may be NULL (then the time fields
 * format without the cache). */
void fix_enc_begin(struct fix_encoder *e, char *buf, size_t cap, enum fix_version ver,
		   const char *msg_type, struct fix_time_cache *tc);
void fix_enc_str(struct fix_encoder *e, uint32_t tag, const char *s, size_t len);
void fix_enc_cstr(struct fix_encoder *e, uint32_t tag, const char *s);
void fix_enc_int(struct fix_encoder *e, uint32_t tag, int64_t v);
void fix_enc_uint(struct fix_encoder *e, uint32_t tag, uint64_t v);
void fix_enc_char(struct fix_encoder *e, uint32_t tag, char c);
void fix_enc_bool(struct fix_encoder *e, uint32_t tag, bool v);
void fix_enc_decimal(struct fix_encoder *e, uint32_t tag, struct fix_decimal d);
void fix_enc_time(struct fix_encoder *e, uint32_t tag, int64_t ns, enum fix_time_precision p);
/* Added by the codec: a data field and its Length field ("95=5<SOH>96=a<SOH>b<SOH>c<SOH>"
 * for len_tag 95, data_tag 96); the bytes may contain SOH. */
void fix_enc_data(struct fix_encoder *e, uint32_t len_tag, uint32_t data_tag, const void *bytes,
		  size_t len);
/* Appends already-encoded "tag=value<SOH>..." bytes (e.g. a body copied for a resend). */
void fix_enc_raw(struct fix_encoder *e, const char *bytes, size_t len);
/* Finishes the message: returns its length and sets *out to its first byte, or returns 0 and
 * leaves *out untouched when the buffer was too small (e->err says so). */
size_t fix_enc_finish(struct fix_encoder *e, char **out);

/* ---------------------------------------------------------------------------------------------
 * Header rewrite for forwarding.
 * ------------------------------------------------------------------------------------------- */

struct fix_str {
	const char *p;
	size_t len;
};

struct fix_out_header {
	enum fix_version ver;
	const char *msg_type;            /* NUL-terminated */
	struct fix_str sender;           /* 49 */
	struct fix_str target;           /* 56 */
	struct fix_str on_behalf_of;     /* 115, omitted when len == 0 */
	struct fix_str deliver_to;       /* 128, omitted when len == 0 */
	uint64_t seq;                    /* 34 */
	int64_t sending_time_ns;         /* 52 */
	enum fix_time_precision precision;
	bool poss_dup;                   /* when set, 43=Y and 122=orig_sending_time_ns */
	int64_t orig_sending_time_ns;
	struct fix_time_cache *tc;       /* may be NULL */
	/* Added by the codec: further header fields, already encoded as "tag=value<SOH>..."
	 * (e.g. "1128=9<SOH>" or "50=DESK1<SOH>"), written after the standard ones; omitted when
	 * len == 0. */
	struct fix_str extra;
};

/* Upper bound of the bytes a rebuilt header may need in front of the body. */
#define FIX_MAX_REWRITE_HEADER 512

/* Header fields are written as 8, 9, 35, then 34, 43, 49, 52, 56, 115, 122, 128 (ascending,
 * as QuickFIX orders them), then extra; the fields after 9 may take at most
 * FIX_MAX_REWRITE_HEADER bytes (else FIX_E_NO_ROOM). The header is written straight in front
 * of the body; h's strings may nevertheless point into m's old header (e.g. CompIDs taken
 * from it): then it is assembled aside first. A signature (93/89) is dropped, since it could
 * not be valid for the new header. Errors: FIX_E_NO_ROOM (headroom or header too big, or a
 * trailer position leaving fewer than 7 bytes), FIX_E_BAD_BEGIN (unknown h->ver),
 * FIX_E_FORMAT (no msg_type); nothing is written on error. m must come from a fix_parse
 * that returned FIX_OK (or an error after which parsing went on: BAD_TAG, NO_VALUE,
 * NO_EQUALS).
 *
 * Writes h's header immediately in front of m's body (at m->buf + m->hdr.body_off) and a new
 * trailer after it (at m->buf + m->hdr.trailer_off). The body bytes are neither moved nor
 * copied; the checksum is the new header's byte sum plus m->hdr.body_sum.
 * headroom is how many writable bytes lie in front of m->buf (the caller guarantees them,
 * e.g. mbuf headroom); the old header and trailer bytes are overwritten. m->buf must be
 * writable, and 7 bytes ("10=ddd|") must be writable at trailer_off (the old trailer is).
 * On success returns FIX_OK and sets *out and *out_len to the new message. */
int fix_rewrite(const struct fix_msg *m, const struct fix_out_header *h, size_t headroom,
		char **out, size_t *out_len);

#endif
