/* tests/control: the in-process scenario runner.
 *
 * Format (QuickFIX's acceptance suite, see ../shared/reference/quickfix/README.md): one step per
 * line; '#' comments; iCONNECT / iN,CONNECT, iDISCONNECT / iN,DISCONNECT open and close
 * (numbered) connections; I / IN, lines are sent to the session (BodyLength and CheckSum are
 * added when absent, <TIME>, <TIME+n>, <TIME-n> become the fake clock's time); E / EN, lines
 * must equal the next message the session sends on that connection, field by field, except the
 * tags of fields.fmt, whose actual value must match the regular expression; eDISCONNECT /
 * eN,DISCONNECT: the session must close that connection (and send nothing else first).
 * Extension for our own scenarios (QuickFIX's runner has no such line): aSEND,35=X|body|
 * makes our application send an application message, aLOGOUT[,text] starts our logout.
 *
 * The clock is fake: it stands still while lines are fed and advances one second at a time
 * (polling the session) while the runner waits for an expected message or disconnect, so
 * heartbeat, TestRequest, logon and logout timers run in simulated time.
 *
 * Acceptor role: a connection is attached to the session when its first message arrives (the
 * multiplexer's job in fixmux: the Logon names the session); a second connection while the
 * session has one is closed without touching the session (duplicate identity). Initiator role:
 * the connection is attached at iCONNECT and the session sends its Logon. */
#define _GNU_SOURCE
#include "runner.h"

#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl_store_mem.h"
#include "fix_msg.h"

#define MAXCONN 8
#define MAXOUT 512
#define MAXRE 16
#define RX_CAP (1 << 16)
#define WAIT_LIMIT_S 600
#define NS 1000000000ll

struct out_msg {
	char *b;
	size_t n;
};

struct conn {
	bool open;
	bool bound;
	bool closed_by_engine;
	char rx[RX_CAP];
	size_t nrx;
	struct fix_framer fr;
	struct out_msg out[MAXOUT];
	size_t head, n;
};

struct run {
	const struct scn_opts *o;
	struct ctl_session *s;
	struct ctl_store_mem *store;
	struct conn *conns;
	int bound;
	int64_t now;
	char seen[128][64];
	int nseen;
	regex_t re[MAXRE];
	uint32_t re_tag[MAXRE];
	int nre;
	char *err;
	size_t cap;
	int line;
	bool failed;
};

static void fail(struct run *r, const char *fmt, ...)
{
	if (r->failed)
		return;
	r->failed = true;
	int k = snprintf(r->err, r->cap, "line %d: ", r->line);
	va_list ap;
	va_start(ap, fmt);
	if (k >= 0 && (size_t)k < r->cap)
		vsnprintf(r->err + k, r->cap - (size_t)k, fmt, ap);
	va_end(ap);
}

/* Printable copy of a message (SOH shown as '|'), static buffer per slot. */
static const char *show(const char *b, size_t n, int slot)
{
	static char buf[2][4096];
	size_t k = n < sizeof(buf[0]) - 1 ? n : sizeof(buf[0]) - 1;
	for (size_t i = 0; i < k; i++)
		buf[slot][i] = b[i] == '\001' ? '|' : b[i];
	buf[slot][k] = '\0';
	return buf[slot];
}

/* ---------------------------------------------------------------------------------------------
 * Session callbacks.
 * ------------------------------------------------------------------------------------------- */

static void io_send(void *arg, const char *bytes, size_t len)
{
	struct run *r = arg;
	if (r->bound < 0) {
		fail(r, "session sent with no connection: %s", show(bytes, len, 0));
		return;
	}
	struct conn *c = &r->conns[r->bound];
	if (c->n == MAXOUT) {
		fail(r, "too many unread messages");
		return;
	}
	struct out_msg *o = &c->out[(c->head + c->n) % MAXOUT];
	o->b = malloc(len);
	memcpy(o->b, bytes, len);
	o->n = len;
	c->n++;
}

static void io_disconnect(void *arg, const char *reason)
{
	struct run *r = arg;
	(void)reason;
	if (r->bound < 0)
		return;
	struct conn *c = &r->conns[r->bound];
	c->closed_by_engine = true;
	c->open = false;
	c->bound = false;
	r->bound = -1;
}

static int cmp_field(const void *a, const void *b)
{
	const struct fix_field *x = a, *y = b;
	if (x->tag != y->tag)
		return x->tag < y->tag ? -1 : 1;
	/* qsort is not stable: keep the original order of equal tags by address. */
	return x->val < y->val ? -1 : x->val > y->val;
}

/* The acceptance suite's application: echoes NewOrderSingle and SecurityDefinition in
 * QuickFIX's normal form (body fields in ascending tag order), drops a PossResend order whose
 * ClOrdID it has seen, and refuses every other application message type. */
static void io_deliver(void *arg, const struct fix_msg *m)
{
	struct run *r = arg;
	if (!r->o->echo)
		return;
	const char *t = m->hdr.msg_type;
	if (strcmp(t, "D") != 0 && strcmp(t, "d") != 0) {
		ctl_session_business_reject(r->s, r->now, m, 3, "Unsupported Message Type");
		return;
	}
	const struct fix_field *id = fix_find(m, 11, 0);
	if (id != NULL) {
		for (int i = 0; i < r->nseen; i++)
			if (strlen(r->seen[i]) == id->len && memcmp(r->seen[i], id->val, id->len) == 0) {
				if (m->hdr.poss_resend)
					return;
				goto known;
			}
		if (r->nseen < 128 && id->len < 64) {
			memcpy(r->seen[r->nseen], id->val, id->len);
			r->seen[r->nseen++][id->len] = '\0';
		}
	}
known:;
	struct fix_field extra[32];
	size_t ne = 0;
	for (int16_t i = 3; i < m->hdr.n_header && ne < 32; i++) {
		uint32_t tag = m->fields[i].tag;
		if (tag != 34 && tag != 43 && tag != 49 && tag != 52 && tag != 56 && tag != 122)
			extra[ne++] = m->fields[i];
	}
	struct fix_field body[256];
	size_t nb = 0;
	for (uint32_t i = (uint32_t)m->hdr.n_header; i < m->nfields && nb < 256; i++) {
		uint32_t tag = m->fields[i].tag;
		if (tag != 10 && tag != 93 && tag != 89)
			body[nb++] = m->fields[i];
	}
	qsort(body, nb, sizeof(body[0]), cmp_field);
	char b[8192];
	size_t n = 0;
	for (size_t i = 0; i < nb; i++) {
		int k = snprintf(b + n, sizeof(b) - n, "%u=%.*s\001", body[i].tag, (int)body[i].len,
				 body[i].val);
		if (k < 0 || (size_t)k >= sizeof(b) - n)
			return;
		n += (size_t)k;
	}
	ctl_session_send_app(r->s, r->now, t, extra, ne, b, n);
}

/* ---------------------------------------------------------------------------------------------
 * Message text helpers.
 * ------------------------------------------------------------------------------------------- */

static void fmt_time(int64_t ns, char *out, size_t cap)
{
	time_t t = (time_t)(ns / NS);
	struct tm tm;
	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y%m%d-%H:%M:%S", &tm);
}

/* Replaces <TIME>, <TIME+n>, <TIME-n>. */
static void subst_time(const char *in, int64_t now, char *out, size_t cap)
{
	size_t n = 0;
	while (*in != '\0' && n + 32 < cap) {
		if (strncmp(in, "<TIME", 5) == 0) {
			const char *p = in + 5;
			long off = 0;
			if (*p == '+' || *p == '-')
				off = strtol(p, (char **)&p, 10);
			if (*p == '>') {
				fmt_time(now + off * NS, out + n, cap - n);
				n += strlen(out + n);
				in = p + 1;
				continue;
			}
		}
		out[n++] = *in++;
	}
	out[n] = '\0';
}

static unsigned sum(const char *p, size_t n)
{
	unsigned s = 0;
	for (size_t i = 0; i < n; i++)
		s += (unsigned char)p[i];
	return s & 0xff;
}

/* Adds BodyLength after BeginString and CheckSum at the end when they are missing. */
static size_t complete(const char *in, char *out, size_t cap)
{
	char m[8192];
	size_t len = strlen(in);
	if (len + 2 >= sizeof(m))
		len = sizeof(m) - 2;
	memcpy(m, in, len);
	if (len == 0 || m[len - 1] != '\001')
		m[len++] = '\001';
	m[len] = '\0';
	bool has9 = false, has10 = false;
	size_t last_start = 0;
	for (size_t i = 0; i < len;) {
		if (strncmp(m + i, "9=", 2) == 0)
			has9 = true;
		if (strncmp(m + i, "10=", 3) == 0)
			has10 = true;
		last_start = i;
		const char *e = memchr(m + i, '\001', len - i);
		i = (size_t)(e - m) + 1;
	}
	size_t n = 0;
	const char *first_end = memchr(m, '\001', len);
	size_t f1 = (size_t)(first_end - m) + 1;
	memcpy(out, m, f1);
	n = f1;
	if (!has9) {
		size_t body = (has10 && strncmp(m + last_start, "10=", 3) == 0 ? last_start : len) - f1;
		n += (size_t)snprintf(out + n, cap - n, "9=%zu\001", body);
	}
	memcpy(out + n, m + f1, len - f1);
	n += len - f1;
	if (!has10)
		n += (size_t)snprintf(out + n, cap - n, "10=%03u\001", sum(out, n));
	out[n] = '\0';
	return n;
}

struct fld {
	const char *tag, *val;
	size_t tlen, vlen;
};

static size_t split(const char *m, size_t n, struct fld *f, size_t cap)
{
	size_t k = 0;
	for (size_t i = 0; i < n && k < cap;) {
		const char *e = memchr(m + i, '\001', n - i);
		size_t end = e ? (size_t)(e - m) : n;
		const char *eq = memchr(m + i, '=', end - i);
		f[k].tag = m + i;
		f[k].tlen = eq ? (size_t)(eq - (m + i)) : end - i;
		f[k].val = eq ? eq + 1 : m + end;
		f[k].vlen = eq ? (size_t)(m + end - (eq + 1)) : 0;
		k++;
		i = end + 1;
	}
	return k;
}

static int find_re(struct run *r, const struct fld *f)
{
	char t[16];
	if (f->tlen >= sizeof(t))
		return -1;
	memcpy(t, f->tag, f->tlen);
	t[f->tlen] = '\0';
	uint32_t tag = (uint32_t)strtoul(t, NULL, 10);
	for (int i = 0; i < r->nre; i++)
		if (r->re_tag[i] == tag)
			return i;
	return -1;
}

static bool same(struct run *r, const char *exp, size_t en, const char *act, size_t an)
{
	struct fld e[512], a[512];
	size_t ne = split(exp, en, e, 512), na = split(act, an, a, 512);
	if (ne != na)
		return false;
	for (size_t i = 0; i < ne; i++) {
		if (e[i].tlen != a[i].tlen || memcmp(e[i].tag, a[i].tag, e[i].tlen) != 0)
			return false;
		int k = find_re(r, &e[i]);
		if (k >= 0) {
			char v[512];
			size_t vl = a[i].vlen < sizeof(v) - 1 ? a[i].vlen : sizeof(v) - 1;
			memcpy(v, a[i].val, vl);
			v[vl] = '\0';
			if (regexec(&r->re[k], v, 0, NULL, 0) != 0)
				return false;
		} else if (e[i].vlen != a[i].vlen || memcmp(e[i].val, a[i].val, e[i].vlen) != 0) {
			return false;
		}
	}
	return true;
}

static void add_re(struct run *r, const char *line)
{
	char tag[16], pat[256], ere[600];
	const char *eq = strchr(line, '=');
	if (eq == NULL || (size_t)(eq - line) >= sizeof(tag) || r->nre == MAXRE)
		return;
	memcpy(tag, line, (size_t)(eq - line));
	tag[eq - line] = '\0';
	snprintf(pat, sizeof(pat), "%s", eq + 1);
	pat[strcspn(pat, "\r\n")] = '\0';
	/* POSIX ERE has no \d. */
	size_t n = 0;
	n += (size_t)snprintf(ere + n, sizeof(ere) - n, "^(");
	for (const char *p = pat; *p != '\0' && n + 8 < sizeof(ere); p++) {
		if (p[0] == '\\' && p[1] == 'd') {
			n += (size_t)snprintf(ere + n, sizeof(ere) - n, "[0-9]");
			p++;
		} else {
			ere[n++] = *p;
		}
	}
	/* Anchored at the start only: QuickFIX's runner matches with Ruby's unanchored =~, and
	 * its 122 pattern (seconds) must accept the milliseconds QuickFIX itself writes. */
	snprintf(ere + n, sizeof(ere) - n, ")");
	if (regcomp(&r->re[r->nre], ere, REG_EXTENDED | REG_NOSUB) == 0)
		r->re_tag[r->nre++] = (uint32_t)strtoul(tag, NULL, 10);
}

static void load_fmt(struct run *r, const char *path)
{
	static const char *builtin[] = {
		"10=\\d{3}", "42=\\d{8}-\\d{2}:\\d{2}:\\d{2}",
		"52=\\d{8}-\\d{2}:\\d{2}:\\d{2}|\\d{8}-\\d{2}:\\d{2}:\\d{2}[.]\\d{3}",
		"60=\\d{8}-\\d{2}:\\d{2}:\\d{2}", "122=\\d{8}-\\d{2}:\\d{2}:\\d{2}",
	};
	FILE *f = path != NULL ? fopen(path, "r") : NULL;
	if (f == NULL) {
		for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++)
			add_re(r, builtin[i]);
		return;
	}
	char line[512];
	while (fgets(line, sizeof(line), f) != NULL)
		if (line[0] != '#' && strchr(line, '=') != NULL)
			add_re(r, line);
	fclose(f);
}

/* ---------------------------------------------------------------------------------------------
 * Connections and the clock.
 * ------------------------------------------------------------------------------------------- */

static void settle(struct run *r)
{
	int guard = 0;
	while (ctl_session_poll(r->s, r->now) != 0 && guard++ < 100000)
		;
}

static void tick(struct run *r)
{
	r->now += NS;
	settle(r);
}

static bool attach(struct run *r, int ci)
{
	struct conn *c = &r->conns[ci];
	if (c->bound)
		return true;
	if (r->bound >= 0) {
		/* Duplicate identity: the session already has a connection. */
		c->closed_by_engine = true;
		c->open = false;
		c->nrx = 0;
		return false;
	}
	/* Attached first: the initiator sends its Logon from inside connect. */
	c->bound = true;
	r->bound = ci;
	if (ctl_session_connect(r->s, r->now) != 0) {
		fail(r, "the session refused a connection while it had none");
		return false;
	}
	return true;
}

static void feed(struct run *r, int ci, const char *m, size_t n)
{
	struct conn *c = &r->conns[ci];
	if (!c->open) {
		fail(r, "connection %d is not open", ci);
		return;
	}
	if (c->nrx + n > RX_CAP) {
		fail(r, "receive buffer full");
		return;
	}
	memcpy(c->rx + c->nrx, m, n);
	c->nrx += n;
	while (c->nrx > 0 && c->open) {
		int err = 0;
		long k = fix_frame(&c->fr, c->rx, c->nrx, &err);
		if (k == 0)
			break;
		size_t used = (size_t)(k < 0 ? -k : k);
		if (!attach(r, ci))
			break;
		if (k < 0)
			ctl_session_on_garbled(r->s, r->now);
		else
			ctl_session_on_bytes(r->s, r->now, c->rx, used);
		if (!c->open) {
			c->nrx = 0;
			break;
		}
		memmove(c->rx, c->rx + used, c->nrx - used);
		c->nrx -= used;
		settle(r);
	}
}

static void open_conn(struct run *r, int ci)
{
	struct conn *c = &r->conns[ci];
	for (size_t i = 0; i < c->n; i++)
		free(c->out[(c->head + i) % MAXOUT].b);
	c->open = true;
	c->bound = false;
	c->closed_by_engine = false;
	c->nrx = 0;
	c->head = c->n = 0;
	fix_framer_init(&c->fr, 1 << 15);
	if (r->o->role == CTL_ROLE_INITIATOR) {
		attach(r, ci);
		settle(r);
	}
}

static void close_conn(struct run *r, int ci)
{
	struct conn *c = &r->conns[ci];
	if (c->bound) {
		c->bound = false;
		r->bound = -1;
		ctl_session_disconnected(r->s, r->now);
	}
	c->open = false;
}

static void expect_msg(struct run *r, int ci, const char *exp, size_t en)
{
	struct conn *c = &r->conns[ci];
	for (int waited = 0; c->n == 0; waited++) {
		if (c->closed_by_engine) {
			fail(r, "expected %s but the connection was closed", show(exp, en, 0));
			return;
		}
		if (waited > WAIT_LIMIT_S) {
			fail(r, "expected %s but nothing was sent in %d s", show(exp, en, 0),
			     WAIT_LIMIT_S);
			return;
		}
		tick(r);
		if (r->failed)
			return;
	}
	struct out_msg *o = &c->out[c->head];
	if (!same(r, exp, en, o->b, o->n))
		fail(r, "expected %s\n         got %s", show(exp, en, 0), show(o->b, o->n, 1));
	free(o->b);
	c->head = (c->head + 1) % MAXOUT;
	c->n--;
}

static void expect_disconnect(struct run *r, int ci)
{
	struct conn *c = &r->conns[ci];
	for (int waited = 0;; waited++) {
		if (c->n > 0) {
			struct out_msg *o = &c->out[c->head];
			fail(r, "expected a disconnect but got %s", show(o->b, o->n, 0));
			return;
		}
		if (c->closed_by_engine)
			return;
		if (waited > WAIT_LIMIT_S) {
			fail(r, "expected a disconnect within %d s", WAIT_LIMIT_S);
			return;
		}
		tick(r);
		if (r->failed)
			return;
	}
}

/* "1,REST" -> connection 1 and REST; otherwise connection 1 and the whole text. */
static int conn_of(const char **p)
{
	const char *s = *p;
	size_t d = strspn(s, "0123456789");
	if (d > 0 && s[d] == ',') {
		int n = atoi(s);
		*p = s + d + 1;
		return n > 0 && n < MAXCONN ? n : -1;
	}
	return 1;
}

static void step(struct run *r, char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (line[0] == '\0' || line[0] == '#')
		return;
	char kind = line[0];
	const char *rest = line + 1;
	int ci = conn_of(&rest);
	if (ci < 0) {
		fail(r, "bad connection number");
		return;
	}
	if (kind == 'i' && strcmp(rest, "CONNECT") == 0) {
		open_conn(r, ci);
	} else if (kind == 'i' && strcmp(rest, "DISCONNECT") == 0) {
		close_conn(r, ci);
	} else if (kind == 'e' && strcmp(rest, "DISCONNECT") == 0) {
		expect_disconnect(r, ci);
	} else if (kind == 'I' || kind == 'E') {
		static char t[8192], m[8192];
		subst_time(rest, r->now, t, sizeof(t));
		size_t n = complete(t, m, sizeof(m));
		if (kind == 'I') {
			feed(r, ci, m, n);
		} else {
			expect_msg(r, ci, m, n);
		}
	} else if (kind == 'a' && strncmp(rest, "LOGOUT", 6) == 0) {
		ctl_session_logout(r->s, r->now, rest[6] == ',' ? rest + 7 : NULL);
		settle(r);
	} else if (kind == 'a' && strncmp(rest, "SEND,35=", 8) == 0) {
		static char t[8192];
		subst_time(rest + 8, r->now, t, sizeof(t));
		char *soh = strchr(t, '\001');
		if (soh == NULL || soh - t > 3) {
			fail(r, "aSEND needs 35=<type><SOH> first");
			return;
		}
		*soh = '\0';
		if (ctl_session_send_app(r->s, r->now, t, NULL, 0, soh + 1, strlen(soh + 1)) == 0)
			fail(r, "the session refused to send");
		settle(r);
	} else {
		fail(r, "unknown step '%s'", line);
	}
}

int scn_run(const char *path, const struct scn_opts *o, char *err, size_t err_cap)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		snprintf(err, err_cap, "cannot open %s", path);
		return -1;
	}
	struct run *r = calloc(1, sizeof(*r));
	r->conns = calloc(MAXCONN, sizeof(struct conn));
	r->o = o;
	r->err = err;
	r->cap = err_cap;
	r->bound = -1;
	err[0] = '\0';
	/* 2026-11-26 12:00:00 UTC: a fixed, whole-second start keeps runs reproducible. */
	r->now = 1795694400ll * NS;
	load_fmt(r, o->fmt_path);
	r->store = ctl_store_mem_create();

	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cfg.role = o->role;
	cfg.ver = o->ver;
	cfg.sender_comp_id = o->our_id;
	cfg.target_comp_id = o->their_id;
	cfg.reset_on_logon = o->role == CTL_ROLE_ACCEPTOR;
	if (o->tune != NULL)
		o->tune(&cfg);
	struct ctl_session_io io = {
		.arg = r, .send = io_send, .deliver = io_deliver, .disconnect = io_disconnect,
	};
	char cerr[128];
	r->s = ctl_session_create(&cfg, &io, ctl_store_mem_store(r->store), cerr, sizeof(cerr));
	if (r->s == NULL) {
		snprintf(err, err_cap, "%s", cerr);
		r->failed = true;
	}
	char line[8192];
	while (!r->failed && fgets(line, sizeof(line), f) != NULL) {
		r->line++;
		step(r, line);
	}
	fclose(f);
	for (int i = 0; i < MAXCONN && !r->failed; i++)
		if (r->conns[i].n > 0) {
			struct out_msg *m = &r->conns[i].out[r->conns[i].head];
			r->line++;
			fail(r, "(end) unexpected message on connection %d: %s", i, show(m->b, m->n, 0));
		}
	int rc = r->failed ? -1 : 0;
	for (int i = 0; i < MAXCONN; i++)
		for (size_t k = 0; k < r->conns[i].n; k++)
			free(r->conns[i].out[(r->conns[i].head + k) % MAXOUT].b);
	for (int i = 0; i < r->nre; i++)
		regfree(&r->re[i]);
	ctl_session_destroy(r->s);
	ctl_store_mem_destroy(r->store);
	free(r->conns);
	free(r);
	return rc;
}
