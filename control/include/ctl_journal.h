/* control: the durable per-session journal (see docs/journal.md for the on-disk format, the
 * recovery algorithm and what each fsync policy guarantees).
 *
 * One journal = one directory holding:
 *   state                 one 4 KiB page, mmap'd: next_in, next_out and the reset epoch in two
 *                         CRC-protected slots written alternately (a torn update is detected);
 *   out-<segno>.seg       the outbound stream: every outbound message under its sequence number,
 *                         the resend source; segments rotate and old ones are pruned by policy;
 *   app-<segno>.seg       the application stream: opaque typed records (routing-table changes),
 *                         replayed in order at recovery; pruned only on the owner's request.
 *
 * Every append is a memcpy into a memory-mapped, pre-allocated segment: no allocation after
 * open, and no system call under CTL_JOURNAL_FSYNC_NONE. (When a segment fills up, the rotation
 * only writes a header into the next one, which ctl_journal_poll() prepared; without poll()
 * the rotation creates the file itself.) A journal is used by one thread at a time; another
 * process opening the same directory is refused (flock).
 *
 * Setup and slow-path calls return 0 on success and -1 on failure with the reason in
 * ctl_journal_error(); visitors stop an iteration by returning nonzero, which is passed back.
 */
#ifndef CTL_JOURNAL_H
#define CTL_JOURNAL_H

#include <stddef.h>
#include <stdint.h>

enum ctl_journal_fsync {
	/* Appends are stores into MAP_SHARED pages: they survive a crash or kill -9 of the
	 * process (the page cache holds them) but not a power loss or kernel crash. */
	CTL_JOURNAL_FSYNC_NONE = 0,
	/* Everything appended before a flush() that returned 0 survives power loss; flush() also
	 * runs by itself when batch_records appends are unsynced, and ctl_journal_poll() runs it
	 * when the oldest unsynced append is batch_usec old. */
	CTL_JOURNAL_FSYNC_BATCH,
	/* Every append (and every sequence-number update) is durable when its call returns. */
	CTL_JOURNAL_FSYNC_ALWAYS,
};

struct ctl_journal_config {
	enum ctl_journal_fsync fsync;
	uint64_t segment_size;      /* bytes per outbound segment file (default 16 MiB, >= 64 KiB) */
	uint64_t app_segment_size;  /* bytes per application segment file (default 1 MiB) */
	uint32_t keep_segments;     /* outbound segments kept; poll() prunes older ones (default 8) */
	uint32_t max_app_segments;  /* application segments allowed before appends fail (default 64) */
	uint32_t max_record;        /* largest message or record accepted, bytes (default 64 KiB) */
	uint32_t batch_records;     /* BATCH: sync after this many unsynced changes (default 256) */
	uint32_t batch_usec;        /* BATCH: ctl_journal_poll() syncs older appends (default 1000) */
};

/* What a journal holds and has done. ram_bytes is everything the journal allocated; it is
 * fixed at open and does not grow however long the journal lives. */
struct ctl_journal_stats {
	uint64_t out_records;       /* outbound messages in the kept segments */
	uint64_t out_first_seq;     /* lowest stored outbound seq, 0 if none */
	uint64_t out_last_seq;      /* highest stored outbound seq, 0 if none */
	uint32_t out_segments;
	uint32_t app_segments;
	uint64_t app_records;
	uint32_t index_entries;     /* in-RAM sparse index entries of the active outbound segment */
	uint32_t index_capacity;
	uint32_t table_capacity;    /* in-RAM segment table entries (outbound + application) */
	size_t ram_bytes;
	uint64_t epoch;             /* incremented by every reset */
	uint64_t syncs;             /* msync/fsync calls made */
	uint64_t rotations;         /* segments created */
	uint64_t pruned_segments;
	uint64_t torn_tail_cuts;    /* recoveries that cut an incomplete or corrupt tail */
	uint64_t corrupt_records;   /* bad records found in the middle of sealed segments */
	uint64_t bytes_appended;
	uint64_t prefaulted_pages;  /* pages touched ahead of the writer by ctl_journal_poll() */
};

struct ctl_journal;

/* Called for each outbound message with begin <= seq <= end, in order; msg points into the
 * mapped segment and is valid only during the call. */
typedef int (*ctl_journal_out_fn)(void *arg, uint64_t seq, const char *msg, size_t len);
/* Called for each application record, oldest first; data is valid only during the call. */
typedef int (*ctl_journal_app_fn)(void *arg, uint32_t type, const void *data, size_t len);

void ctl_journal_config_default(struct ctl_journal_config *cfg);

/* Opens (creating if needed) the journal in directory dir and recovers it: sequence numbers,
 * outbound index and application records are exactly as last written, minus a torn tail.
 * Returns NULL with the reason in err on failure (e.g. the directory is not writable). */
struct ctl_journal *ctl_journal_open(const char *dir, const struct ctl_journal_config *cfg,
				     char *err, size_t errlen);
/* Syncs (unless the policy is NONE), unmaps and frees. NULL is allowed. */
void ctl_journal_close(struct ctl_journal *j);
const char *ctl_journal_error(const struct ctl_journal *j);

/* --- sequence numbers (both start at 1) --- */
int ctl_journal_get_seqs(const struct ctl_journal *j, uint64_t *next_in, uint64_t *next_out);
int ctl_journal_set_next_in(struct ctl_journal *j, uint64_t next_in);
/* Lowering next_out to or below the last stored outbound seq discards the stored messages
 * with seq >= next_out (they could no longer be resent under their numbers). */
int ctl_journal_set_next_out(struct ctl_journal *j, uint64_t next_out);

/* --- outbound messages: the resend source --- */
/* Stores msg under seq; next_out becomes seq + 1. A seq at or below the last stored one
 * first discards the stored messages from seq on (slow path: only after an operator lowered
 * the number), like the in-memory store. */
int ctl_journal_append_out(struct ctl_journal *j, uint64_t seq, const void *msg, size_t len);
/* Visits stored messages with begin <= seq <= end (end 0 = to the last). Messages that are not
 * available (never stored, pruned, or unreadable) are skipped: the session gap-fills them. */
int ctl_journal_for_each_out(struct ctl_journal *j, uint64_t begin, uint64_t end,
			     ctl_journal_out_fn fn, void *arg);
/* Deletes outbound segments whose messages all have seq < floor (never the active one). */
int ctl_journal_prune_below(struct ctl_journal *j, uint64_t floor);

/* --- application records (routing-table changes), opaque to the journal --- */
int ctl_journal_append_app(struct ctl_journal *j, uint32_t type, const void *data, size_t len);
int ctl_journal_for_each_app(struct ctl_journal *j, ctl_journal_app_fn fn, void *arg);
/* Compaction: ctl_journal_app_checkpoint() starts a new application segment and returns its
 * number in *segno; the owner then appends a snapshot of its state (beginning with a record
 * that tells its replay to clear), and ctl_journal_app_drop_before(segno) deletes the older
 * segments. A crash in between replays old records then the snapshot, which is still right. */
int ctl_journal_app_checkpoint(struct ctl_journal *j, uint64_t *segno);
int ctl_journal_app_drop_before(struct ctl_journal *j, uint64_t segno);

/* --- whole session --- */
/* Forgets every outbound message and sets both sequence numbers to 1 (application records
 * are kept: they are not part of the FIX session's sequence). */
int ctl_journal_reset(struct ctl_journal *j);
/* Makes everything written so far durable, under BATCH and ALWAYS; a no-op under NONE. */
int ctl_journal_flush(struct ctl_journal *j);
/* Housekeeping for the owner's loop, when it has nothing better to do: touches the pages
 * just ahead of the write position, so that appends do not take the page fault of a first
 * write to a shared file page (~1-2 us each, one per 4 KiB); and under BATCH flushes if the
 * oldest unsynced append is older than batch_usec. Cheap when there is nothing to do. */
int ctl_journal_poll(struct ctl_journal *j);

void ctl_journal_stats(const struct ctl_journal *j, struct ctl_journal_stats *st);

/* CRC32C (Castagnoli), SSE4.2 when the CPU has it, else slice-by-8 tables. Standard form:
 * crc 0 to start, ctl_crc32c(0, "123456789", 9) == 0xE3069283; chainable. */
uint32_t ctl_crc32c(uint32_t crc, const void *buf, size_t len);

#endif
