/* control: the production ctl_store, backed by a ctl_journal (one journal per session). */
#ifndef CTL_STORE_JOURNAL_H
#define CTL_STORE_JOURNAL_H

#include "ctl_journal.h"
#include "ctl_store.h"

extern const struct ctl_store_ops ctl_store_journal_ops;

/* Makes *st use journal j (which the caller opened and later closes). On a -1 from any of the
 * store's operations, ctl_journal_error(j) says why. */
static inline void ctl_store_journal_init(struct ctl_store *st, struct ctl_journal *j)
{
	st->ops = &ctl_store_journal_ops;
	st->ctx = j;
}

#endif
