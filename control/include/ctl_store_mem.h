/* control: an in-memory struct ctl_store (tests, simulations, sessions configured without a
 * journal). Memory grows with the messages kept; nothing survives the process. */
#ifndef CTL_STORE_MEM_H
#define CTL_STORE_MEM_H

#include "ctl_store.h"

struct ctl_store_mem;

struct ctl_store_mem *ctl_store_mem_create(void);
void ctl_store_mem_destroy(struct ctl_store_mem *m);
/* The store interface of m (valid while m lives). */
struct ctl_store ctl_store_mem_store(struct ctl_store_mem *m);
/* Number of outbound messages kept. */
size_t ctl_store_mem_count(const struct ctl_store_mem *m);

#endif
