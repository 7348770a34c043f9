/* control: the routing table of one venue session. Venue -> user routing keys (ClOrdID,
 * MDReqID, QuoteReqID, QuoteID) map to the user that introduced them; venue sequence numbers
 * of forwarded client messages map back to the user and the user's own sequence number, so a
 * venue Reject(3) or BusinessMessageReject(j) can be returned to its sender with RefSeqNum
 * rewritten into the user's sequence space (PRODUCT.md §5).
 *
 * Fixed capacity, chosen at creation: no allocation afterwards. Every change can be expressed
 * as a small record (ctl_route_rec) that the owner appends to the session journal; replaying
 * the records at start-up rebuilds the table exactly, so an ExecutionReport for a day-old
 * order still reaches its owner after a restart.
 */
#ifndef CTL_ROUTE_H
#define CTL_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix_msg.h"

enum ctl_key_kind {
	CTL_KEY_CLORDID = 0,  /* 11 (and 41 when looking up) */
	CTL_KEY_MDREQID,      /* 262 */
	CTL_KEY_QUOTEREQID,   /* 131 */
	CTL_KEY_QUOTEID,      /* 117 */
	CTL_KEY__COUNT
};

#define CTL_ROUTE_ID_MAX 64   /* longest ID kept; longer IDs are refused (reject to the user) */
#define CTL_ROUTE_NO_USER 0xffff

enum ctl_claim {
	CTL_CLAIM_NEW = 0,    /* the ID is now the user's */
	CTL_CLAIM_OWN,        /* the user already owns it: reuse is the user's business */
	CTL_CLAIM_OTHER,      /* owned by another user: refuse locally (*owner says who) */
	CTL_CLAIM_TOO_LONG,   /* longer than CTL_ROUTE_ID_MAX */
};

struct ctl_route_stats {
	uint64_t ids;             /* IDs held now */
	uint64_t capacity;
	uint64_t evicted;         /* oldest IDs forgotten because the table was full */
	uint64_t claims, conflicts, lookups, misses;
	uint64_t refseq_hits, refseq_misses;
};

struct ctl_route;

/* capacity: IDs held (rounded up to a power of two, the hash table is twice that);
 * refseq_window: how many recent venue sequence numbers are remembered (power of two). */
struct ctl_route *ctl_route_create(uint32_t capacity, uint32_t refseq_window);
void ctl_route_destroy(struct ctl_route *r);
/* How far ahead of the next insertion ctl_route_poll() has the slab's pages touched. */
#ifndef CTL_ROUTE_TOUCH_AHEAD
#define CTL_ROUTE_TOUCH_AHEAD (256u * 1024u)
#endif
/* Off the message path (the owner's poll): touches the slab's pages ahead of the insertions,
 * so that no claim takes the page fault of a fresh page. Nothing once the slab is all
 * touched; never changes the table. */
void ctl_route_poll(struct ctl_route *r);

/* Claims id for user. When the table is full the oldest ID is evicted (counted): a venue
 * message for it then follows the unroutable policy. */
enum ctl_claim ctl_route_claim(struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			       size_t len, uint16_t user, uint16_t *owner);
/* Owner of id, or CTL_ROUTE_NO_USER. */
uint16_t ctl_route_lookup(struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			  size_t len);
/* Starts loading the bucket where id is or would go, for a claim or lookup soon after (the
 * table is large: its buckets are rarely in cache). No effect on the table. */
void ctl_route_prefetch(const struct ctl_route *r, enum ctl_key_kind kind, const char *id,
			size_t len);
/* Forgets id (an unsubscribed MDReqID, a cancelled quote request). */
void ctl_route_release(struct ctl_route *r, enum ctl_key_kind kind, const char *id, size_t len);

/* A client message of user (its own MsgSeqNum user_seq) went to the venue as venue_seq. */
void ctl_route_note_sent(struct ctl_route *r, uint64_t venue_seq, uint16_t user,
			 uint64_t user_seq);
/* Who sent venue_seq, and with which of its own sequence numbers. false when unknown (too old
 * or never sent by a user). */
bool ctl_route_by_refseq(const struct ctl_route *r, uint64_t venue_seq, uint16_t *user,
			 uint64_t *user_seq);

/* The routing decision for a message from the venue. */
struct ctl_route_verdict {
	uint16_t user;            /* CTL_ROUTE_NO_USER: unroutable */
	bool rewrite_refseq;      /* 45 must become ref_user_seq in the user's sequence space */
	uint64_t ref_user_seq;
	uint32_t key_tag;         /* the tag that decided (11, 41, 262, 131, 117, 379, 45), 0 */
};
/* dropcopy_user: for a DropCopy session its single user (everything goes there), else
 * CTL_ROUTE_NO_USER. Never allocates; unknown message types are unroutable. */
void ctl_route_venue_msg(struct ctl_route *r, const struct fix_msg *m, uint16_t dropcopy_user,
			 struct ctl_route_verdict *v);

/* The key a client message introduces, for claiming before it is forwarded: NewOrderSingle,
 * cancel and replace requests (11), MarketDataRequest (262), QuoteRequest (131), Quote and
 * QuoteResponse (117). Returns false when the message introduces none. */
bool ctl_route_client_key(const struct fix_msg *m, enum ctl_key_kind *kind,
			  const struct fix_field **id);

/* Journal records. Each change is 1 + 1 + 2 + 1 + len bytes (op, kind, user, len, id) or the
 * refseq form; ctl_route_replay applies one record. */
enum ctl_route_op {
	CTL_ROUTE_OP_CLAIM = 1,
	CTL_ROUTE_OP_RELEASE = 2,
	CTL_ROUTE_OP_SENT = 3,
	CTL_ROUTE_OP_CLEAR = 4,   /* forget everything: the start of a snapshot */
};
#define CTL_ROUTE_REC_MAX (5 + CTL_ROUTE_ID_MAX + 16)
size_t ctl_route_rec_claim(char *buf, enum ctl_key_kind kind, const char *id, size_t len,
			   uint16_t user);
size_t ctl_route_rec_release(char *buf, enum ctl_key_kind kind, const char *id, size_t len);
size_t ctl_route_rec_sent(char *buf, uint64_t venue_seq, uint16_t user, uint64_t user_seq);
size_t ctl_route_rec_clear(char *buf);
/* Writes the table as records (a CLEAR, then every held ID oldest first so that eviction order
 * survives, then the refseq window), calling fn for each; stops and returns fn's nonzero
 * result. Used to compact the journal's application stream. */
typedef int (*ctl_route_rec_fn)(void *arg, const char *rec, size_t len);
int ctl_route_snapshot(const struct ctl_route *r, ctl_route_rec_fn fn, void *arg);
/* Applies a record; -1 if it is malformed (the journal's checksum makes that a bug). */
int ctl_route_replay(struct ctl_route *r, const char *rec, size_t len);

void ctl_route_get_stats(const struct ctl_route *r, struct ctl_route_stats *s);

#endif
