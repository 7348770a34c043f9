/* Property tests of the session state machine: an initiator and an acceptor, each with its
 * in-memory store, talk through a simulated link that a seeded PRNG drives: messages are
 * delivered in random interleavings, some are lost (gaps), some are delivered twice, the link
 * fails and comes back (messages in flight are lost), both applications send at random, and
 * the clock jumps. After a calm phase (no more faults) the properties must hold:
 *   - no application message is ever delivered twice (checked at each delivery);
 *   - every application message a session accepted for sending is delivered exactly once;
 *   - the sequence numbers converge (each side's next outbound = the other's next inbound).
 * Many seeds, a few thousand steps each, all in simulated time. A failing seed is printed;
 * FIXMUX_SESSION_SEEDS=<n> runs more seeds (a longer soak), FIXMUX_SESSION_FIRST_SEED=<s> starts
 * at seed s, FIXMUX_SESSION_TRACE=<file> writes the sessions' events there (to replay one seed). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_journal.h"
#include "ctl_session.h"
#include "ctl_store_journal.h"
#include "ctl_store_mem.h"

#define PIPE_CAP 4096
#define MAX_IDS 4096
#define NS 1000000000ll

struct pipe {
	char *msg[PIPE_CAP];
	size_t len[PIPE_CAP];
	size_t head, n;
};

struct sim;

struct side {
	struct sim *sim;
	char name;                  /* 'A' (initiator) or 'B' (acceptor) */
	struct ctl_session *s;
	struct ctl_store_mem *st;
	struct pipe *out;
	uint8_t got[MAX_IDS];       /* deliveries per id of the other side */
	bool sent_ok[MAX_IDS];      /* ids this side's session accepted */
	uint32_t next_id;
};

/* What the faults made happen, summed over all seeds: the test insists each did happen, so
 * it cannot pass by never exercising recovery. */
static struct {
	unsigned long gaps, resent_delivered, logouts, reconnects, lost;
} seen;

struct sim {
	struct side a, b;
	struct pipe ab, ba;
	bool up;
	bool faults;
	int64_t now;
	uint64_t rng;
	uint64_t seed;
};

static uint64_t rnd(struct sim *m)
{
	/* xorshift64*: small, fast, good enough to shuffle events. */
	m->rng ^= m->rng >> 12;
	m->rng ^= m->rng << 25;
	m->rng ^= m->rng >> 27;
	return m->rng * 2685821657736338717ull;
}

static unsigned pct(struct sim *m) { return (unsigned)(rnd(m) % 100); }

static void pipe_clear(struct pipe *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->msg[(p->head + i) % PIPE_CAP]);
	p->head = p->n = 0;
}

static void pipe_push(struct pipe *p, const char *b, size_t n)
{
	cr_assert(p->n < PIPE_CAP, "pipe overflow");
	size_t i = (p->head + p->n) % PIPE_CAP;
	p->msg[i] = malloc(n);
	memcpy(p->msg[i], b, n);
	p->len[i] = n;
	p->n++;
}

static void link_down(struct sim *m)
{
	if (!m->up)
		return;
	m->up = false;
	pipe_clear(&m->ab);
	pipe_clear(&m->ba);
	ctl_session_disconnected(m->a.s, m->now);
	ctl_session_disconnected(m->b.s, m->now);
}

static void io_send(void *arg, const char *bytes, size_t len)
{
	struct side *s = arg;
	if (s->sim->up)
		pipe_push(s->out, bytes, len);
}

static void io_disconnect(void *arg, const char *reason)
{
	struct side *s = arg;
	(void)reason;
	link_down(s->sim);
}

static void io_deliver(void *arg, const struct fix_msg *m)
{
	struct side *s = arg;
	const struct fix_field *f = fix_find(m, 11, 0);
	cr_assert(f != NULL && f->len > 1, "seed %llu: delivered message without an id",
		  (unsigned long long)s->sim->seed);
	char other = s->name == 'A' ? 'B' : 'A';
	cr_assert(f->val[0] == other, "seed %llu: %c got its own message back",
		  (unsigned long long)s->sim->seed, s->name);
	unsigned id = (unsigned)strtoul(f->val + 1, NULL, 10);
	if (m->hdr.poss_dup)
		seen.resent_delivered++;
	cr_assert(id < MAX_IDS);
	s->got[id]++;
	cr_assert(s->got[id] == 1, "seed %llu: %c received %c%u twice",
		  (unsigned long long)s->sim->seed, s->name, other, id);
}

static FILE *trace; /* FIXMUX_SESSION_TRACE=<file> */

static void io_event(void *arg, enum ctl_event ev, const char *text)
{
	const struct side *s = arg;
	if (trace)
		fprintf(trace, "%c t=%lld ev=%d %s\n", s->name,
			(long long)(s->sim->now / NS % 100000), (int)ev, text);
	if (ev == CTL_EV_GAP)
		seen.gaps++;
	else if (ev == CTL_EV_LOGGED_OUT)
		seen.logouts++;
}

static void app_send(struct sim *m, struct side *s)
{
	if (!ctl_session_logged_on(s->s) || s->next_id >= MAX_IDS)
		return;
	char body[64];
	int n = snprintf(body, sizeof(body), "11=%c%u\001", s->name, s->next_id);
	uint64_t seq = ctl_session_send_app(s->s, m->now, "D", NULL, 0, body, (size_t)n);
	if (seq != 0)
		s->sent_ok[s->next_id] = true;
	if (trace && seq != 0)
		fprintf(trace, "%c sends %c%u as %llu\n", s->name, s->name, s->next_id,
			(unsigned long long)seq);
	s->next_id++;
}

static void settle(struct sim *m)
{
	while (ctl_session_poll(m->a.s, m->now) != 0)
		;
	while (ctl_session_poll(m->b.s, m->now) != 0)
		;
}

static void link_up(struct sim *m)
{
	if (m->up || ctl_session_state(m->a.s) != CTL_ST_DISCONNECTED ||
	    ctl_session_state(m->b.s) != CTL_ST_DISCONNECTED)
		return;
	m->up = true;
	seen.reconnects++;
	cr_assert(ctl_session_connect(m->b.s, m->now) == 0);
	cr_assert(ctl_session_connect(m->a.s, m->now) == 0);
}

/* Delivers the next message of one direction (maybe losing or duplicating it). */
static void deliver(struct sim *m, struct pipe *p, struct side *to, bool faults)
{
	if (p->n == 0)
		return;
	size_t i = p->head;
	char *b = p->msg[i];
	size_t n = p->len[i];
	p->head = (p->head + 1) % PIPE_CAP;
	p->n--;
	unsigned r = faults ? pct(m) : 100;
	if (r < 4) {
		seen.lost++;
		free(b); /* lost */
		return;
	}
	if (trace) {
		char t[120];
		size_t k = n < sizeof(t) - 1 ? n : sizeof(t) - 1;
		for (size_t j = 0; j < k; j++)
			t[j] = b[j] == '\001' ? '|' : b[j];
		t[k] = '\0';
		fprintf(trace, "%c in (next_in %llu) %s\n", to->name,
			(unsigned long long)ctl_session_next_in(to->s), t + 15);
	}
	ctl_session_on_bytes(to->s, m->now, b, n);
	if (r < 5 && m->up)
		ctl_session_on_bytes(to->s, m->now, b, n); /* delivered twice */
	free(b);
}

/* A side over store (journal), or over a fresh in-memory store when store.ops is NULL. */
static void side_init_on(struct sim *m, struct side *s, char name, enum ctl_role role,
			 struct pipe *out, struct ctl_store store)
{
	s->sim = m;
	s->name = name;
	s->out = out;
	if (store.ops == NULL) {
		s->st = ctl_store_mem_create();
		store = ctl_store_mem_store(s->st);
	}
	struct ctl_session_cfg cfg;
	ctl_session_cfg_init(&cfg);
	cfg.role = role;
	cfg.ver = FIX_VER_44;
	cfg.sender_comp_id = name == 'A' ? "FIXMUX" : "VENUE";
	cfg.target_comp_id = name == 'A' ? "VENUE" : "FIXMUX";
	cfg.heartbeat_s = 5;
	cfg.no_validate = true; /* the bodies are minimal: validation is not the property */
	/* Messages may wait in the simulated link across clock jumps of minutes; a receiver then
	 * rightly rejects them for SendingTime accuracy, which consumes their number (a loss the
	 * sender learns from the Reject). That rule has its scenarios (2o, 1d); here it is off. */
	cfg.sending_time_tolerance_s = CTL_NO_TIME_CHECK;
	cfg.resend_batch = 1 + (uint32_t)(rnd(m) % 8); /* resends spread over several polls */
	cfg.max_queue = 16;     /* small, so overflow is exercised too */
	struct ctl_session_io io = {.arg = s, .send = io_send, .deliver = io_deliver,
				    .disconnect = io_disconnect, .event = io_event};
	char err[128];
	s->s = ctl_session_create(&cfg, &io, store, err, sizeof(err));
	cr_assert(s->s != NULL, "%s", err);
}

static void side_init(struct sim *m, struct side *s, char name, enum ctl_role role,
		      struct pipe *out)
{
	side_init_on(m, s, name, role, out, (struct ctl_store){NULL, NULL});
}

static void check_delivered(const struct side *from, const struct side *to, uint64_t seed)
{
	for (uint32_t id = 0; id < from->next_id; id++)
		if (from->sent_ok[id])
			cr_assert(to->got[id] == 1, "seed %llu: %c%u sent but delivered %u times",
				  (unsigned long long)seed, from->name, id, to->got[id]);
}

static void run_seed(uint64_t seed, int steps)
{
	struct sim *m = calloc(1, sizeof(*m));
	if (trace)
		fprintf(trace, "SEED %llu\n", (unsigned long long)seed);
	m->seed = seed;
	m->rng = seed * 0x9e3779b97f4a7c15ull + 1;
	m->now = 1795694400ll * NS;
	side_init(m, &m->a, 'A', CTL_ROLE_INITIATOR, &m->ab);
	side_init(m, &m->b, 'B', CTL_ROLE_ACCEPTOR, &m->ba);
	link_up(m);

	for (int i = 0; i < steps; i++) {
		unsigned r = pct(m);
		if (r < 40) {
			bool ab = (rnd(m) & 1) != 0;
			if (ab)
				deliver(m, &m->ab, &m->b, true);
			else
				deliver(m, &m->ba, &m->a, true);
		} else if (r < 55) {
			app_send(m, &m->a);
		} else if (r < 70) {
			app_send(m, &m->b);
		} else if (r < 88) {
			m->now += (int64_t)(rnd(m) % 3000) * 1000000;
			settle(m);
		} else if (r < 90) {
			link_down(m);
		} else if (!m->up) {
			m->now += NS;
			settle(m);
			link_up(m);
		}
		settle(m);
	}

	/* Calm: no faults; reconnect when needed; let heartbeats reveal trailing gaps. */
	for (int t = 0; t < 900; t++) {
		link_up(m);
		for (int k = 0; k < 64 && (m->ab.n > 0 || m->ba.n > 0); k++) {
			deliver(m, &m->ab, &m->b, false);
			deliver(m, &m->ba, &m->a, false);
			settle(m);
		}
		bool done = ctl_session_logged_on(m->a.s) && ctl_session_logged_on(m->b.s) &&
			    m->ab.n == 0 && m->ba.n == 0 &&
			    ctl_session_next_out(m->a.s) == ctl_session_next_in(m->b.s) &&
			    ctl_session_next_out(m->b.s) == ctl_session_next_in(m->a.s);
		if (done && t > 30)
			break;
		m->now += NS;
		settle(m);
	}
	cr_assert(ctl_session_logged_on(m->a.s) && ctl_session_logged_on(m->b.s),
		  "seed %llu: not logged on after the calm phase (A %d, B %d)",
		  (unsigned long long)seed, ctl_session_state(m->a.s), ctl_session_state(m->b.s));
	cr_assert_eq(ctl_session_next_out(m->a.s), ctl_session_next_in(m->b.s),
		     "seed %llu: A->B numbers do not converge", (unsigned long long)seed);
	cr_assert_eq(ctl_session_next_out(m->b.s), ctl_session_next_in(m->a.s),
		     "seed %llu: B->A numbers do not converge", (unsigned long long)seed);
	check_delivered(&m->a, &m->b, seed);
	check_delivered(&m->b, &m->a, seed);

	pipe_clear(&m->ab);
	pipe_clear(&m->ba);
	ctl_session_destroy(m->a.s);
	ctl_session_destroy(m->b.s);
	ctl_store_mem_destroy(m->a.st);
	ctl_store_mem_destroy(m->b.st);
	free(m);
}

Test(session_property, random_faults_converge_without_loss_or_duplicates, .timeout = 120)
{
	const char *e = getenv("FIXMUX_SESSION_SEEDS");
	const char *f = getenv("FIXMUX_SESSION_FIRST_SEED");
	const char *tr = getenv("FIXMUX_SESSION_TRACE");
	trace = tr != NULL ? fopen(tr, "a") : NULL;
	if (trace != NULL)
		setvbuf(trace, NULL, _IONBF, 0); /* a failing assertion ends the worker at once */
	int seeds = e != NULL ? atoi(e) : 150;
	int first = f != NULL ? atoi(f) : 1;
	for (int seed = first; seed < first + seeds; seed++)
		run_seed((uint64_t)seed, 2000);
	if (trace != NULL)
		fclose(trace);
	cr_log_info("gaps %lu, resent deliveries %lu, logouts %lu, connects %lu, lost %lu",
		    seen.gaps, seen.resent_delivered, seen.logouts, seen.reconnects, seen.lost);
	cr_assert(seen.gaps > 0 && seen.resent_delivered > 0 && seen.logouts > 0 &&
		  seen.reconnects >= (unsigned long)seeds && seen.lost > 0,
		  "the faults did not exercise recovery");
}

Test(session_property, fault_free_exchange_is_exact)
{
	/* The same simulation without faults: nothing is resent, numbers advance one by one. */
	struct sim *m = calloc(1, sizeof(*m));
	m->rng = 7;
	m->now = 1795694400ll * NS;
	side_init(m, &m->a, 'A', CTL_ROLE_INITIATOR, &m->ab);
	side_init(m, &m->b, 'B', CTL_ROLE_ACCEPTOR, &m->ba);
	link_up(m);
	deliver(m, &m->ab, &m->b, false); /* Logon */
	deliver(m, &m->ba, &m->a, false); /* its answer */
	cr_assert(ctl_session_logged_on(m->a.s) && ctl_session_logged_on(m->b.s));
	for (int i = 0; i < 100; i++) {
		app_send(m, &m->a);
		app_send(m, &m->b);
		deliver(m, &m->ab, &m->b, false);
		deliver(m, &m->ba, &m->a, false);
	}
	cr_assert_eq(ctl_session_next_in(m->b.s), 102);
	cr_assert_eq(ctl_session_next_in(m->a.s), 102);
	check_delivered(&m->a, &m->b, 0);
	check_delivered(&m->b, &m->a, 0);
	cr_assert_eq(ctl_store_mem_count(m->a.st), 100, "only application messages are kept");
	ctl_session_destroy(m->a.s);
	ctl_session_destroy(m->b.s);
	ctl_store_mem_destroy(m->a.st);
	ctl_store_mem_destroy(m->b.st);
	free(m);
}

static struct ctl_journal *journal_open(const char *dir)
{
	struct ctl_journal_config jc;
	ctl_journal_config_default(&jc);
	jc.segment_size = 1024 * 1024;
	char err[256];
	struct ctl_journal *j = ctl_journal_open(dir, &jc, err, sizeof(err));
	cr_assert(j != NULL, "%s", err);
	return j;
}

static void deliver_all(struct sim *m)
{
	for (int k = 0; k < 1000 && (m->ab.n > 0 || m->ba.n > 0); k++) {
		deliver(m, &m->ab, &m->b, false);
		deliver(m, &m->ba, &m->a, false);
		settle(m);
	}
}

Test(session_property, restart_over_the_journal_resumes_without_reset)
{
	char dir[] = "/tmp/fixmux_session_journal_XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	struct sim *m = calloc(1, sizeof(*m));
	m->rng = 11;
	m->now = 1795694400ll * NS;
	struct ctl_journal *j = journal_open(dir);
	struct ctl_store js;
	ctl_store_journal_init(&js, j);
	side_init_on(m, &m->a, 'A', CTL_ROLE_INITIATOR, &m->ab, js);
	side_init(m, &m->b, 'B', CTL_ROLE_ACCEPTOR, &m->ba);
	link_up(m);
	deliver_all(m);
	cr_assert(ctl_session_logged_on(m->a.s) && ctl_session_logged_on(m->b.s));
	for (int i = 0; i < 5; i++)
		app_send(m, &m->a);
	app_send(m, &m->b);
	app_send(m, &m->b);
	/* B gets A's first four orders; the fifth is in flight when A's process dies. */
	for (int i = 0; i < 4; i++)
		deliver(m, &m->ab, &m->b, false);
	deliver(m, &m->ba, &m->a, false);
	deliver(m, &m->ba, &m->a, false);
	cr_assert_eq(m->b.got[3], 1);
	cr_assert_eq(m->b.got[4], 0);

	/* kill -9 of A: no Logout, the session object and the journal mapping just vanish. */
	link_down(m);
	ctl_session_destroy(m->a.s);
	ctl_journal_close(j);

	j = journal_open(dir);
	ctl_store_journal_init(&js, j);
	m->a.next_id = 5;
	side_init_on(m, &m->a, 'A', CTL_ROLE_INITIATOR, &m->ab, js);
	cr_assert_eq(ctl_session_next_out(m->a.s), 7, "Logon + 5 orders sent before the crash");
	cr_assert_eq(ctl_session_next_in(m->a.s), 4, "Logon + 2 orders received before the crash");
	link_up(m);
	deliver_all(m);
	for (int t = 0; t < 30; t++) {
		m->now += NS;
		settle(m);
		deliver_all(m);
	}
	cr_assert(ctl_session_logged_on(m->a.s) && ctl_session_logged_on(m->b.s));
	cr_assert_eq(m->b.got[4], 1, "the order lost in flight was resent from the journal");
	check_delivered(&m->a, &m->b, 0);
	check_delivered(&m->b, &m->a, 0);
	cr_assert_eq(ctl_session_next_out(m->a.s), ctl_session_next_in(m->b.s));
	cr_assert_eq(ctl_session_next_out(m->b.s), ctl_session_next_in(m->a.s));

	ctl_session_destroy(m->a.s);
	ctl_session_destroy(m->b.s);
	ctl_journal_close(j);
	ctl_store_mem_destroy(m->b.st);
	free(m);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	cr_assert_eq(system(cmd), 0);
}
