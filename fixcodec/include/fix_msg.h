/* fixcodec: framing, zero-copy parsing and typed accessors for FIX tag=value messages.
 *
 * Pure C, no I/O, no allocation: every array is the caller's. A message is parsed in place;
 * field values point into the caller's buffer, which must outlive the parsed message.
 */
#ifndef FIX_MSG_H
#define FIX_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FIX_SOH '\001'

/* Error codes shared by the whole codec. Parse and validation failures keep the offending tag
 * in fix_msg.err_tag so the session layer can build a Reject(3) with RefTagID(371). */
enum fix_err {
	FIX_OK = 0,
	/* framing */
	FIX_E_NEED_MORE = 1,        /* not an error: the message is not complete yet */
	FIX_E_BAD_BEGIN,            /* does not start with 8=FIX */
	FIX_E_BAD_BODY_LENGTH,      /* 9 missing, not second, not digits, or not matching */
	FIX_E_TOO_BIG,              /* longer than the configured maximum */
	FIX_E_BAD_CHECKSUM,         /* 10 missing, not last, malformed, or wrong */
	FIX_E_MSGTYPE_NOT_THIRD,    /* 35 is not the third field */
	/* parsing */
	FIX_E_BAD_TAG,              /* tag not a positive decimal integer (0, negative, overflow) */
	FIX_E_NO_VALUE,             /* tag=<SOH>: tag specified without a value */
	FIX_E_NO_EQUALS,            /* a field without '=' */
	FIX_E_TOO_MANY_FIELDS,      /* caller's field index is full */
	FIX_E_BAD_DATA_LENGTH,      /* a data field's length tag does not match its value */
	/* typed accessors */
	FIX_E_FORMAT,               /* value has the wrong format for its type */
	FIX_E_RANGE,                /* value does not fit the type */
	FIX_E_NOT_FOUND,            /* tag not present */
	/* encoding / rewrite */
	FIX_E_NO_ROOM,              /* the caller's buffer (or headroom) is too small */
	FIX_E__COUNT
};

/* A stable, human-readable name for an error code ("bad checksum", ...). */
const char *fix_strerror(int err);

/* FIX versions the codec knows (BeginString). FIXT.1.1 carries FIX 5.0 SP2 application
 * messages (DefaultApplVerID 1137=9). */
enum fix_version {
	FIX_VER_UNKNOWN = 0,
	FIX_VER_42,
	FIX_VER_44,
	FIX_VER_T11,
	FIX_VER__COUNT
};

/* Parses a BeginString value ("FIX.4.2", "FIX.4.4", "FIXT.1.1"). */
enum fix_version fix_version_from(const char *s, size_t len);
/* The BeginString text of a version ("FIX.4.4"), NULL for FIX_VER_UNKNOWN. */
const char *fix_version_str(enum fix_version v);

/* ---------------------------------------------------------------------------------------------
 * Framing: find complete messages in a TCP byte stream.
 *
 * A complete message is 8=FIX...<SOH>9=<n><SOH>35=...<SOH> ... 10=ddd<SOH> where n counts the
 * bytes from after 9's SOH to the SOH before 10=, and ddd is the byte sum modulo 256 of every
 * byte before "10=". Data fields (95/96, ...) may hold SOH: framing relies only on 9 and 10.
 * ------------------------------------------------------------------------------------------- */

struct fix_framer {
	uint32_t max_msg;    /* configured maximum message size in bytes */
	/* Resume state: once the header of the message at the start of the buffer has been read,
	 * its total length is remembered so more bytes do not rescan it. Reset by fix_frame()
	 * after a complete or garbled result. */
	uint32_t want;       /* total length of the message being assembled, 0 if unknown */
	/* Added by the codec: where BeginString+BodyLength end (35= must start there), and how
	 * far a search for a misplaced trailer has got (so bytes trickling in after a wrong
	 * BodyLength are not rescanned from the start). Both reset with want. */
	uint32_t hdr_len;
	uint32_t scan;
};

void fix_framer_init(struct fix_framer *f, uint32_t max_msg);
/* Added by the codec: forgets the resume state (keeps max_msg). Call it when the caller
 * drops buffered bytes on its own (e.g. its buffer overflowed, or the connection restarted),
 * since the state describes the message that started at the old buffer start. */
void fix_framer_reset(struct fix_framer *f);

/* Looks at buf[0..len) which starts at a message boundary (or garbage).
 *  > 0 : a complete, checksum-correct message of that many bytes starts at buf.
 *  0   : need more bytes (call again with the same start and a longer len).
 *  < 0 : garbled. -(return) is the number of bytes to discard: up to the next "8=FIX" after buf,
 *        or all of len if there is none (keeping a trailing partial "8=FI" prefix).
 *        *err (if not NULL) says why (FIX_E_BAD_BEGIN, FIX_E_BAD_BODY_LENGTH, ...).
 *        Exception, as QuickFIX does it (acceptance scenario 2m): when BeginString and
 *        BodyLength were readable but the trailer is not where BodyLength says (or is
 *        malformed, or the checksum or MsgType position is wrong), the message's extent is
 *        taken to end at the first "<SOH>10=...<SOH>" at or after the declared end, and that
 *        whole extent is discarded; so a too-long BodyLength swallows the message after it.
 *        Until that trailer has arrived the result is 0 (need more), bounded by max_msg.
 * Never reads outside buf[0..len). No allocation, no system call. */
long fix_frame(struct fix_framer *f, const char *buf, size_t len, int *err);

/* ---------------------------------------------------------------------------------------------
 * Parsing into a caller-owned field index.
 * ------------------------------------------------------------------------------------------- */

struct fix_field {
	const char *val;     /* points into the message buffer; not NUL-terminated */
	uint32_t tag;
	uint32_t len;
};

/* The session-layer header, extracted during the parse. Index fields are positions in
 * fix_msg.fields (or -1 when absent). */
struct fix_header {
	enum fix_version ver;
	char msg_type[4];        /* NUL-terminated copy (MsgType values are 1 or 2 chars, at most 3) */
	uint8_t msg_type_len;
	bool poss_dup;           /* 43=Y */
	bool poss_resend;        /* 97=Y */
	uint64_t seq;            /* 34, 0 if absent or malformed (see seq_err) */
	int seq_err;             /* FIX_OK, FIX_E_NOT_FOUND or FIX_E_FORMAT for 34 */
	int16_t i_sender;        /* 49 */
	int16_t i_target;        /* 56 */
	int16_t i_sending_time;  /* 52 */
	int16_t i_orig_sending_time; /* 122 */
	int16_t i_on_behalf_of;  /* 115 */
	int16_t i_deliver_to;    /* 128 */
	int16_t i_appl_ver;      /* 1128 */
	uint32_t body_length;    /* value of 9 */
	uint32_t body_off;       /* offset of the first body (non-header) field in the buffer */
	uint32_t trailer_off;    /* offset of "10=" (or of 93 when a signature is present) */
	uint32_t body_sum;       /* byte sum of [body_off, trailer_off): the body, for rewriting */
	int16_t n_header;        /* fields[0..n_header) are the header (those before the body) */
};

struct fix_msg {
	const char *buf;         /* start of the message ("8=") */
	uint32_t len;            /* whole message, trailer included */
	uint32_t nfields;        /* fields parsed, 8/9/10 included */
	uint32_t cap;            /* size of fields[] */
	struct fix_field *fields;
	struct fix_header hdr;
	/* Set when a parse or validation fails (or on the first repeated tag, see dup_tag). */
	uint32_t err_tag;
	/* The first tag seen twice, 0 if none. Repeats are legal inside repeating groups, which
	 * only the dictionary knows about; the validator decides (fix_validate). */
	uint32_t dup_tag;
};

/* Parses a framed message (as returned by fix_frame) into m, whose fields/cap the caller set.
 * Returns FIX_OK or an error code; on error m->err_tag names the offending tag where there is
 * one. Data fields (e.g. 95/96) are read by their length, so they may contain SOH. */
int fix_parse(struct fix_msg *m, const char *buf, size_t len);

/* true if tag belongs to the standard header / trailer of any supported version. */
bool fix_is_header_tag(uint32_t tag);
bool fix_is_trailer_tag(uint32_t tag);
/* If tag is the length tag of a data field (95 -> 96, 90 -> 91, ...), returns the data tag,
 * else 0. */
uint32_t fix_data_tag_for_length(uint32_t tag);

/* First field with this tag at or after position from, or NULL. */
const struct fix_field *fix_find(const struct fix_msg *m, uint32_t tag, uint32_t from);

/* ---------------------------------------------------------------------------------------------
 * Typed accessors (return FIX_OK, FIX_E_FORMAT or FIX_E_RANGE; outputs untouched on error).
 * ------------------------------------------------------------------------------------------- */

int fix_get_int(const char *v, size_t len, int64_t *out);      /* optional '-', digits */
int fix_get_uint(const char *v, size_t len, uint64_t *out);    /* SeqNum, Length, NumInGroup */
int fix_get_bool(const char *v, size_t len, bool *out);        /* Y / N */
int fix_get_char(const char *v, size_t len, char *out);        /* exactly one printable byte */
/* UTCTimestamp YYYYMMDD-HH:MM:SS[.s{1,9}] as nanoseconds since the Unix epoch. Leap second
 * 60 is accepted as FIX allows. */
int fix_get_utc_timestamp(const char *v, size_t len, int64_t *ns);

/* A decimal number without floating point: value = mantissa * 10^-scale.
 * "002000.00" -> {200000, 2}; "-1.5" -> {-15, 1}. Up to 18 significant digits. */
struct fix_decimal {
	int64_t mantissa;
	uint8_t scale;
};
int fix_get_decimal(const char *v, size_t len, struct fix_decimal *out);
/* Compares two decimals exactly: <0, 0, >0. */
int fix_decimal_cmp(struct fix_decimal a, struct fix_decimal b);

/* Convenience: typed lookup of the first occurrence of tag in m. FIX_E_NOT_FOUND if absent. */
int fix_msg_get_uint(const struct fix_msg *m, uint32_t tag, uint64_t *out);
int fix_msg_get_int(const struct fix_msg *m, uint32_t tag, int64_t *out);

/* Byte sum helper (modulo 2^32; take & 0xff for the checksum). */
uint32_t fix_sum(const char *p, size_t len);

#endif
