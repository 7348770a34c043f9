/* fixmux-venue-sim: the exchange's orders. No matching engine: an accepted order is filled by
 * the venue itself, deterministically from the seed: with probability fill_ratio a limit order
 * trades at once, in full, or (with probability 1 - fill_ratio again) for half its quantity,
 * the rest staying open to be cancelled or replaced. Market orders trade in full at the
 * current mid price.
 * Every change is reported through on_exec (ExecutionReports) and on_change (persistence). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vsim.h"

#define INDEX_CAP (2u * VSIM_MAX_ORDERS)

int vsim_book_init(struct vsim_book *bk, uint64_t seed, uint32_t fill_permille, uint64_t run)
{
	memset(bk, 0, sizeof(*bk));
	bk->orders = calloc(VSIM_MAX_ORDERS, sizeof(*bk->orders));
	bk->index = calloc(INDEX_CAP, sizeof(*bk->index));
	bk->free_stack = calloc(VSIM_MAX_ORDERS, sizeof(*bk->free_stack));
	if (bk->orders == NULL || bk->index == NULL || bk->free_stack == NULL) {
		vsim_book_free(bk);
		return -1;
	}
	bk->rng = seed != 0 ? seed : 0x9E3779B97F4A7C15ull;
	bk->fill_permille = fill_permille;
	bk->run = run;
	bk->next_oid = 1;
	bk->next_exec = 1;
	return 0;
}

void vsim_book_free(struct vsim_book *bk)
{
	free(bk->orders);
	free(bk->index);
	free(bk->free_stack);
	bk->orders = NULL;
	bk->index = NULL;
	bk->free_stack = NULL;
}

void vsim_order_id(const struct vsim_order *o, char *out, size_t cap)
{
	snprintf(out, cap, "%llu-%llu", (unsigned long long)o->run, (unsigned long long)o->oid);
}

static bool eq(const char *s, const char *p, size_t len)
{
	return strlen(s) == len && memcmp(s, p, len) == 0;
}

static uint32_t key_hash(int sess, const char *id, size_t len)
{
	uint32_t h = 2166136261u ^ (uint32_t)sess;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)id[i]) * 16777619u;
	return h;
}

static struct vsim_order *find_open(struct vsim_book *bk, int sess, const char *id, size_t len)
{
	for (uint32_t i = key_hash(sess, id, len) % INDEX_CAP;; i = (i + 1) % INDEX_CAP) {
		int32_t e = bk->index[i];
		if (e == 0)
			return NULL;
		if (e < 0)
			continue;
		struct vsim_order *o = &bk->orders[e - 1];
		if (o->state == VSIM_OS_OPEN && o->sess == sess && eq(o->clordid, id, len))
			return o;
	}
}

static void index_add(struct vsim_book *bk, const struct vsim_order *o)
{
	uint32_t i = key_hash(o->sess, o->clordid, strlen(o->clordid)) % INDEX_CAP;
	while (bk->index[i] > 0)
		i = (i + 1) % INDEX_CAP;
	if (bk->index[i] < 0)
		bk->tombs--;
	bk->index[i] = (int32_t)(o - bk->orders) + 1;
}

static void index_rebuild(struct vsim_book *bk)
{
	memset(bk->index, 0, INDEX_CAP * sizeof(*bk->index));
	bk->tombs = 0;
	for (uint32_t i = 0; i < bk->n_used; i++)
		if (bk->orders[i].state == VSIM_OS_OPEN)
			index_add(bk, &bk->orders[i]);
}

/* Call before o's ClOrdID changes or o stops being open. */
static void index_del(struct vsim_book *bk, const struct vsim_order *o)
{
	int32_t want = (int32_t)(o - bk->orders) + 1;
	for (uint32_t i = key_hash(o->sess, o->clordid, strlen(o->clordid)) % INDEX_CAP;
	     bk->index[i] != 0; i = (i + 1) % INDEX_CAP) {
		if (bk->index[i] == want) {
			bk->index[i] = -1;
			/* Deleted slots lengthen probes: rebuild when a quarter of the table is. */
			if (++bk->tombs > INDEX_CAP / 4)
				index_rebuild(bk);
			return;
		}
	}
}

static void set_free(struct vsim_book *bk, struct vsim_order *o)
{
	o->state = VSIM_OS_FREE;
	bk->free_stack[bk->n_free++] = (uint32_t)(o - bk->orders);
}

static struct vsim_order *alloc_order(struct vsim_book *bk)
{
	if (bk->n_free > 0)
		return &bk->orders[bk->free_stack[--bk->n_free]];
	if (bk->n_used == VSIM_MAX_ORDERS)
		return NULL;
	return &bk->orders[bk->n_used++];
}

static void copy_id(char *dst, size_t cap, const char *s, size_t len)
{
	if (len >= cap)
		len = cap - 1;
	memcpy(dst, s, len);
	dst[len] = '\0';
}

static void exec_init(struct vsim_book *bk, struct vsim_exec *e, enum vsim_exec_type t, int sess,
		      const struct vsim_order *o)
{
	memset(e, 0, sizeof(*e));
	e->type = t;
	e->sess = sess;
	e->o = o;
	snprintf(e->exec_id, sizeof(e->exec_id), "%llu-E%llu", (unsigned long long)bk->run,
		 (unsigned long long)bk->next_exec++);
	if (o != NULL) {
		e->clordid = o->clordid;
		e->symbol = o->symbol;
		e->side = o->side;
		e->qty = o->qty;
	}
}

static char status_of(const struct vsim_order *o)
{
	if (o->cum >= o->qty)
		return '2';
	return o->cum > 0 ? '1' : '0';
}

static void changed(struct vsim_book *bk, const struct vsim_order *o)
{
	if (bk->on_change != NULL)
		bk->on_change(bk->arg, o);
}

static void reject(struct vsim_book *bk, int sess, const struct vsim_req *r, const char *text)
{
	struct vsim_exec e;
	exec_init(bk, &e, VSIM_EX_REJECTED, sess, NULL);
	char id[VSIM_ID_MAX], sym[VSIM_SYM_MAX];
	copy_id(id, sizeof(id), r->clordid != NULL ? r->clordid : "", r->clordid_len);
	copy_id(sym, sizeof(sym), r->symbol != NULL ? r->symbol : "", r->symbol_len);
	e.clordid = id;
	e.symbol = sym[0] != '\0' ? sym : "NONE";
	e.side = r->side != 0 ? r->side : '1';
	e.qty = r->has_qty ? r->qty : 0;
	e.ord_status = '8';
	e.text = text;
	bk->n_rejects++;
	bk->on_exec(bk->arg, &e);
}

/* Checks shared by NewOrderSingle and OrderCancelReplaceRequest; NULL when acceptable. */
static const char *check(const struct vsim_req *r)
{
	if (r->clordid == NULL || r->clordid_len == 0)
		return "ClOrdID required";
	if (r->clordid_len >= VSIM_ID_MAX)
		return "ClOrdID too long";
	if (r->symbol == NULL || r->symbol_len == 0)
		return "Symbol required";
	if (r->symbol_len >= VSIM_SYM_MAX)
		return "Symbol too long";
	if (r->side != '1' && r->side != '2')
		return "unsupported Side (1 Buy or 2 Sell)";
	if (r->ord_type != '1' && r->ord_type != '2')
		return "unsupported OrdType (1 Market or 2 Limit)";
	if (r->bad_number)
		return "OrderQty or Price is not a usable decimal";
	if (!r->has_qty || r->qty <= 0)
		return "OrderQty must be positive";
	if (r->ord_type == '2' && (!r->has_price || r->price <= 0))
		return "limit order without a positive Price";
	return NULL;
}

static void fill(struct vsim_book *bk, struct vsim_order *o, int64_t qty, int64_t px)
{
	/* Average price over integers: (avg*cum + px*qty) / (cum+qty), in long double because
	 * the products overflow 64 bits for large orders. */
	long double notional = (long double)o->avg * (long double)o->cum +
			       (long double)px * (long double)qty;
	o->cum += qty;
	o->avg = (int64_t)(notional / (long double)o->cum + 0.5L);
	struct vsim_exec e;
	exec_init(bk, &e, VSIM_EX_FILL, o->sess, o);
	e.last_qty = qty;
	e.last_px = px;
	e.ord_status = status_of(o);
	bk->n_fills++;
	bk->on_exec(bk->arg, &e);
}

void vsim_book_new_order(struct vsim_book *bk, int sess, const struct vsim_req *r)
{
	bk->n_orders++;
	const char *why = check(r);
	if (why == NULL && find_open(bk, sess, r->clordid, r->clordid_len) != NULL)
		why = "duplicate ClOrdID of an open order";
	struct vsim_order *o = why == NULL ? alloc_order(bk) : NULL;
	if (why == NULL && o == NULL)
		why = "venue order book full";
	if (why != NULL) {
		reject(bk, sess, r, why);
		return;
	}
	memset(o, 0, sizeof(*o));
	o->oid = bk->next_oid++;
	o->run = bk->run;
	o->qty = r->qty;
	o->price = r->ord_type == '2' ? r->price : 0;
	o->sess = sess;
	o->state = VSIM_OS_OPEN;
	o->side = r->side;
	o->ord_type = r->ord_type;
	copy_id(o->clordid, sizeof(o->clordid), r->clordid, r->clordid_len);
	copy_id(o->symbol, sizeof(o->symbol), r->symbol, r->symbol_len);
	index_add(bk, o);
	changed(bk, o);
	struct vsim_exec e;
	exec_init(bk, &e, VSIM_EX_NEW, sess, o);
	e.ord_status = '0';
	bk->on_exec(bk->arg, &e);

	uint64_t u1 = vsim_rand(&bk->rng) % 1000, u2 = vsim_rand(&bk->rng) % 1000;
	if (o->ord_type == '1') {
		int64_t px = bk->mid != NULL ? bk->mid(bk->arg, o->symbol) : VSIM_SCALE;
		fill(bk, o, o->qty, px);
	} else if (u1 < bk->fill_permille) {
		int64_t q = o->qty;
		/* A trade is partial (half the quantity, the rest left open) with probability
		 * 1 - fill_ratio too: ratio 1 fills everything in full, 0.5 trades half of the
		 * orders and half of those partially. */
		if (u2 >= bk->fill_permille && q >= 2)
			q = q / 2;
		fill(bk, o, q, o->price);
	}
	if (o->cum >= o->qty) {
		index_del(bk, o);
		set_free(bk, o);
	}
	changed(bk, o);
}

void vsim_book_cancel(struct vsim_book *bk, int sess, const struct vsim_req *r)
{
	struct vsim_order *o =
		r->orig != NULL ? find_open(bk, sess, r->orig, r->orig_len) : NULL;
	if (o == NULL) {
		bk->n_cxl_rejects++;
		bk->on_cxl_reject(bk->arg, sess, r, false, NULL, "Unknown order");
		return;
	}
	char orig[VSIM_ID_MAX], nid[VSIM_ID_MAX];
	memcpy(orig, o->clordid, sizeof(orig));
	copy_id(nid, sizeof(nid), r->clordid != NULL ? r->clordid : "", r->clordid_len);
	index_del(bk, o);
	set_free(bk, o);
	struct vsim_exec e;
	exec_init(bk, &e, VSIM_EX_CANCELED, sess, o);
	e.ord_status = '4';
	e.clordid = nid;
	e.orig_clordid = orig;
	bk->n_cancels++;
	changed(bk, o);
	bk->on_exec(bk->arg, &e);
}

void vsim_book_replace(struct vsim_book *bk, int sess, const struct vsim_req *r)
{
	struct vsim_order *o =
		r->orig != NULL ? find_open(bk, sess, r->orig, r->orig_len) : NULL;
	if (o == NULL) {
		bk->n_cxl_rejects++;
		bk->on_cxl_reject(bk->arg, sess, r, true, NULL, "Unknown order");
		return;
	}
	const char *why = check(r);
	if (why == NULL && r->qty <= o->cum)
		why = "new OrderQty not above the quantity already filled";
	if (why == NULL && (r->side != o->side || !eq(o->symbol, r->symbol, r->symbol_len)))
		why = "Side and Symbol cannot be changed";
	if (why == NULL && r->ord_type != o->ord_type)
		why = "OrdType cannot be changed";
	if (why == NULL && !eq(o->clordid, r->clordid, r->clordid_len) &&
	    find_open(bk, sess, r->clordid, r->clordid_len) != NULL)
		why = "duplicate ClOrdID of an open order";
	if (why != NULL) {
		bk->n_cxl_rejects++;
		bk->on_cxl_reject(bk->arg, sess, r, true, o, why);
		return;
	}
	char orig[VSIM_ID_MAX];
	memcpy(orig, o->clordid, sizeof(orig));
	index_del(bk, o);
	copy_id(o->clordid, sizeof(o->clordid), r->clordid, r->clordid_len);
	index_add(bk, o);
	o->qty = r->qty;
	o->price = o->ord_type == '2' ? r->price : 0;
	struct vsim_exec e;
	exec_init(bk, &e, VSIM_EX_REPLACED, sess, o);
	e.ord_status = status_of(o) == '1' ? '1' : '0';
	e.orig_clordid = orig;
	bk->n_replaces++;
	changed(bk, o);
	bk->on_exec(bk->arg, &e);
}

uint32_t vsim_book_cancel_session(struct vsim_book *bk, int sess)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < bk->n_used; i++) {
		struct vsim_order *o = &bk->orders[i];
		if (o->state != VSIM_OS_OPEN || o->sess != sess)
			continue;
		index_del(bk, o);
		o->state = VSIM_OS_CXL_PENDING_REPORT;
		o->cxl_run = bk->run;
		o->cxl_exec = bk->next_exec;
		changed(bk, o);
		struct vsim_exec e;
		exec_init(bk, &e, VSIM_EX_CANCELED, sess, o);
		e.route = VSIM_TO_COPIES;
		e.ord_status = '4';
		e.text = "cancelled on disconnect";
		bk->on_exec(bk->arg, &e);
		n++;
	}
	return n;
}

uint32_t vsim_book_report_pending(struct vsim_book *bk, int sess)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < bk->n_used; i++) {
		struct vsim_order *o = &bk->orders[i];
		if (o->state != VSIM_OS_CXL_PENDING_REPORT || o->sess != sess)
			continue;
		struct vsim_exec e;
		exec_init(bk, &e, VSIM_EX_CANCELED, sess, o);
		bk->next_exec--; /* the ExecID numbered at the cancel is used instead */
		snprintf(e.exec_id, sizeof(e.exec_id), "%llu-E%llu", (unsigned long long)o->cxl_run,
			 (unsigned long long)o->cxl_exec);
		e.route = VSIM_TO_OWNER;
		e.ord_status = '4';
		e.text = "cancelled on disconnect";
		bk->n_cancels++;
		bk->on_exec(bk->arg, &e);
		set_free(bk, o);
		changed(bk, o);
		n++;
	}
	return n;
}

int vsim_book_restore(struct vsim_book *bk, const struct vsim_order *o)
{
	/* Replace an earlier version of the same order (records are replayed in order). The
	 * index and the free slots are rebuilt by vsim_book_reindex() once all are in. */
	for (uint32_t i = 0; i < bk->n_used; i++) {
		struct vsim_order *x = &bk->orders[i];
		if (x->state != VSIM_OS_FREE && x->oid == o->oid && x->run == o->run) {
			*x = *o;
			return 0;
		}
	}
	if (o->state == VSIM_OS_FREE)
		return 0;
	for (uint32_t i = 0; i < bk->n_used; i++) {
		if (bk->orders[i].state == VSIM_OS_FREE) {
			bk->orders[i] = *o;
			return 0;
		}
	}
	if (bk->n_used == VSIM_MAX_ORDERS)
		return -1;
	bk->orders[bk->n_used++] = *o;
	return 0;
}

void vsim_book_clear_session(struct vsim_book *bk, int sess)
{
	for (uint32_t i = 0; i < bk->n_used; i++)
		if (bk->orders[i].sess == sess)
			bk->orders[i].state = VSIM_OS_FREE;
}

void vsim_book_reindex(struct vsim_book *bk)
{
	index_rebuild(bk);
	bk->n_free = 0;
	for (uint32_t i = bk->n_used; i-- > 0;)
		if (bk->orders[i].state == VSIM_OS_FREE)
			bk->free_stack[bk->n_free++] = i;
}

uint32_t vsim_book_open_count(const struct vsim_book *bk, int sess)
{
	uint32_t n = 0;
	for (uint32_t i = 0; i < bk->n_used; i++)
		n += bk->orders[i].state == VSIM_OS_OPEN && bk->orders[i].sess == sess;
	return n;
}
