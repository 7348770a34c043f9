/* fixmux-venue-sim: the process. Kernel TCP sockets and poll(2) in one thread; each configured
 * session is a ctl_session (acceptor) over its own journal in --store. A connection is bound
 * to a session when its first message, the Logon, names it (BeginString, SenderCompID,
 * TargetCompID); anything else before that closes the connection. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "ctl_store_journal.h"
#include "vsim_app.h"

#define MAX_CONNS 128
#define RX_CAP (1u << 17)
#define TX_MAX (16u << 20)     /* a peer that lets this much pile up is dropped */
#define MAX_MSG 16384
#define CLOSE_LINGER_NS 2000000000ll
#define SHUTDOWN_WAIT_NS 3000000000ll

struct conn {
	int fd;
	int sess;                  /* bound session index, -1 before the Logon */
	bool closing;              /* close once tx is flushed (or the linger ends) */
	int64_t close_by;
	struct fix_framer fr;
	char *rx;
	size_t nrx;
	char *tx;
	size_t ntx, txcap;
	char peer[64];
};

static struct vsim_sim sim;
static struct conn conns[MAX_CONNS];
static int listen_fd = -1;
static volatile sig_atomic_t stop_signal;

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void vlog(struct vsim_sim *s, const char *fmt, ...)
{
	if (s->cfg.quiet)
		return;
	char t[40];
	vsim_fmt_time(now_ns(), t, sizeof(t));
	fprintf(stderr, "%s venue-sim: ", t);
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void on_signal(int sig)
{
	stop_signal = sig;
}

/* ---------------------------------------------------------------------------------------------
 * Connections.
 * ------------------------------------------------------------------------------------------- */

static void conn_close(int ci)
{
	struct conn *c = &conns[ci];
	if (c->fd < 0)
		return;
	close(c->fd);
	c->fd = -1;
	if (c->sess >= 0) {
		struct vsim_sess *ss = &sim.sess[c->sess];
		ss->conn = -1;
		c->sess = -1;
		ctl_session_disconnected(ss->s, sim.now);
	}
	c->nrx = c->ntx = 0;
	c->closing = false;
}

static bool flush_tx(struct conn *c)
{
	while (c->ntx > 0) {
		ssize_t k = send(c->fd, c->tx, c->ntx, MSG_NOSIGNAL);
		if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return true;
		if (k <= 0)
			return false;
		memmove(c->tx, c->tx + k, c->ntx - (size_t)k);
		c->ntx -= (size_t)k;
	}
	return true;
}

static void io_send(void *arg, const char *bytes, size_t len)
{
	struct vsim_sess *ss = arg;
	/* A message that is resent carries PossDupFlag=Y; GapFills (35=4) are not counted. */
	if (memmem(bytes, len, "\00143=Y\001", 6) != NULL && memmem(bytes, len, "\00135=4\001", 6) == NULL)
		sim.c[VSIM_C_RESENT_MESSAGES]++;
	if (ss->conn < 0)
		return;
	struct conn *c = &conns[ss->conn];
	if (c->ntx == 0) {
		ssize_t k = send(c->fd, bytes, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (k == (ssize_t)len)
			return;
		if (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			c->closing = true; /* reported by the next poll as an error */
			c->close_by = sim.now;
			return;
		}
		if (k > 0) {
			bytes += k;
			len -= (size_t)k;
		}
	}
	if (c->ntx + len > TX_MAX) {
		vlog(&sim, "%s: peer does not read, dropping the connection", ss->cfg.theirs);
		c->closing = true;
		c->close_by = sim.now;
		return;
	}
	if (c->ntx + len > c->txcap) {
		size_t cap = c->txcap != 0 ? c->txcap : 65536;
		while (cap < c->ntx + len)
			cap *= 2;
		char *p = realloc(c->tx, cap);
		if (p == NULL) {
			c->closing = true;
			c->close_by = sim.now;
			return;
		}
		c->tx = p;
		c->txcap = cap;
	}
	memcpy(c->tx + c->ntx, bytes, len);
	c->ntx += len;
}

static void io_deliver(void *arg, const struct fix_msg *m)
{
	vsim_app_deliver(&sim, arg, m);
}

static void io_disconnect(void *arg, const char *reason)
{
	struct vsim_sess *ss = arg;
	vlog(&sim, "%s: disconnecting: %s", ss->cfg.theirs, reason);
	if (ss->conn < 0)
		return;
	struct conn *c = &conns[ss->conn];
	c->closing = true;
	c->close_by = sim.now + CLOSE_LINGER_NS;
	c->sess = -1;
	ss->conn = -1;
}

static void io_event(void *arg, enum ctl_event ev, const char *text)
{
	struct vsim_sess *ss = arg;
	switch (ev) {
	case CTL_EV_LOGGED_ON:
		ss->ev_logged_on = true;
		vlog(&sim, "%s: logged on (%s)", ss->cfg.theirs, fix_version_str(ss->cfg.ver));
		break;
	case CTL_EV_LOGGED_OUT:
		ss->ev_logged_out = true;
		vlog(&sim, "%s: logged out: %s", ss->cfg.theirs, text);
		break;
	case CTL_EV_LOGON_REFUSED:
		vlog(&sim, "%s: Logon refused: %s", ss->cfg.theirs, text);
		break;
	default:
		vlog(&sim, "%s: %s", ss->cfg.theirs, text);
		break;
	}
}

/* Credentials on the Logon, when the session spec asks for them (user=, password=): a
 * mismatch is refused with a Logout whose text says so, as venues answer a wrong password. */
static int check_logon(void *arg, const struct fix_msg *logon, const char *user, size_t user_len,
		       const char *pass, size_t pass_len, char *text, size_t text_cap)
{
	(void)logon;
	const struct vsim_sess *ss = arg;
	const char *u = ss->cfg.user, *p = ss->cfg.password;
	bool ok = (u[0] == '\0' || (user != NULL && strlen(u) == user_len &&
				    memcmp(u, user, user_len) == 0)) &&
		  (p[0] == '\0' || (pass != NULL && strlen(p) == pass_len &&
				    memcmp(p, pass, pass_len) == 0));
	if (ok)
		return 0;
	snprintf(text, text_cap, "invalid username or password");
	return 1;
}

/* Handles what the last session call left for the application (outside the callbacks, so
 * the session is not re-entered while it changes state). */
static void after_session_call(struct vsim_sess *ss)
{
	if (ss->ev_logged_out) {
		ss->ev_logged_out = false;
		vsim_app_logged_out(&sim, ss);
	}
	if (ss->ev_logged_on) {
		ss->ev_logged_on = false;
		if (ctl_session_logged_on(ss->s))
			vsim_app_logged_on(&sim, ss);
	}
}

static struct vsim_sess *find_session(const struct fix_msg *m)
{
	const struct fix_field *snd = m->hdr.i_sender >= 0 ? &m->fields[m->hdr.i_sender] : NULL;
	const struct fix_field *tgt = m->hdr.i_target >= 0 ? &m->fields[m->hdr.i_target] : NULL;
	if (snd == NULL || tgt == NULL)
		return NULL;
	for (int i = 0; i < sim.nsess; i++) {
		struct vsim_sess *ss = &sim.sess[i];
		if (ss->cfg.ver == m->hdr.ver && strlen(ss->cfg.theirs) == snd->len &&
		    memcmp(ss->cfg.theirs, snd->val, snd->len) == 0 &&
		    strlen(ss->cfg.ours) == tgt->len && memcmp(ss->cfg.ours, tgt->val, tgt->len) == 0)
			return ss;
	}
	return NULL;
}

static bool is_resend_request(const char *b, size_t n)
{
	const char *p = memmem(b, n, "\00135=", 4);
	return p != NULL && (size_t)(p - b) + 6 <= n && p[4] == '2' && p[5] == '\001';
}

/* One framed message on connection ci. Returns false when the connection was closed. */
static bool on_frame(int ci, const char *buf, size_t len)
{
	struct conn *c = &conns[ci];
	if (c->sess < 0) {
		static struct fix_field fields[512];
		struct fix_msg m = {.fields = fields, .cap = 512};
		int rc = fix_parse(&m, buf, len);
		struct vsim_sess *ss = rc == FIX_OK || rc == FIX_E_NO_VALUE ? find_session(&m) : NULL;
		if (ss == NULL) {
			vlog(&sim, "%s: first message names no configured session: closed", c->peer);
			sim.c[VSIM_C_REFUSED_CONNECTIONS]++;
			conn_close(ci);
			return false;
		}
		if (ctl_session_connect(ss->s, sim.now) != 0) {
			vlog(&sim, "%s: %s is already connected: second connection closed", c->peer,
			     ss->cfg.theirs);
			sim.c[VSIM_C_REFUSED_CONNECTIONS]++;
			conn_close(ci);
			return false;
		}
		c->sess = ss->idx;
		ss->conn = ci;
	}
	struct vsim_sess *ss = &sim.sess[c->sess];
	if (is_resend_request(buf, len) && ctl_session_logged_on(ss->s))
		sim.c[VSIM_C_RESENDS_SERVED]++;
	ctl_session_on_bytes(ss->s, sim.now, buf, len);
	after_session_call(ss);
	return conns[ci].fd >= 0;
}

static void conn_read(int ci)
{
	struct conn *c = &conns[ci];
	if (c->closing) {
		char sink[4096];
		ssize_t k = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);
		if (k == 0 || (k < 0 && errno != EAGAIN && errno != EWOULDBLOCK))
			conn_close(ci);
		return;
	}
	ssize_t k = recv(c->fd, c->rx + c->nrx, RX_CAP - c->nrx, MSG_DONTWAIT);
	if (k < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (k <= 0) {
		if (c->sess >= 0)
			vlog(&sim, "%s: connection closed by the peer", sim.sess[c->sess].cfg.theirs);
		int s = c->sess;
		conn_close(ci);
		if (s >= 0)
			after_session_call(&sim.sess[s]);
		return;
	}
	c->nrx += (size_t)k;
	size_t off = 0;
	while (off < c->nrx && conns[ci].fd >= 0 && !conns[ci].closing) {
		int err = 0;
		long r = fix_frame(&c->fr, c->rx + off, c->nrx - off, &err);
		if (r == 0)
			break;
		if (r < 0) {
			off += (size_t)-r;
			if (c->sess < 0) {
				vlog(&sim, "%s: garbled bytes before Logon (%s): closed", c->peer,
				     fix_strerror(err));
				sim.c[VSIM_C_REFUSED_CONNECTIONS]++;
				conn_close(ci);
				return;
			}
			struct vsim_sess *ss = &sim.sess[c->sess];
			ctl_session_on_garbled(ss->s, sim.now);
			after_session_call(ss);
			continue;
		}
		if (!on_frame(ci, c->rx + off, (size_t)r))
			return;
		off += (size_t)r;
	}
	if (conns[ci].fd < 0)
		return;
	memmove(c->rx, c->rx + off, c->nrx - off);
	c->nrx -= off;
	if (c->nrx == RX_CAP) {
		/* The framer bounds a message by MAX_MSG < RX_CAP: this cannot be a message. */
		vlog(&sim, "%s: receive buffer full: closed", c->peer);
		conn_close(ci);
	}
}

static void do_accept(void)
{
	for (;;) {
		struct sockaddr_storage sa;
		socklen_t sl = sizeof(sa);
		int fd = accept4(listen_fd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		int ci = -1;
		for (int i = 0; i < MAX_CONNS && ci < 0; i++)
			if (conns[i].fd < 0)
				ci = i;
		if (ci < 0) {
			close(fd);
			sim.c[VSIM_C_REFUSED_CONNECTIONS]++;
			continue;
		}
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		struct conn *c = &conns[ci];
		c->fd = fd;
		c->sess = -1;
		c->closing = false;
		c->nrx = c->ntx = 0;
		fix_framer_init(&c->fr, MAX_MSG);
		char host[48] = "?", port[8] = "?";
		getnameinfo((struct sockaddr *)&sa, sl, host, sizeof(host), port, sizeof(port),
			    NI_NUMERICHOST | NI_NUMERICSERV);
		snprintf(c->peer, sizeof(c->peer), "%s:%s", host, port);
		sim.c[VSIM_C_CONNECTIONS]++;
	}
}

/* ---------------------------------------------------------------------------------------------
 * Start-up and shut-down.
 * ------------------------------------------------------------------------------------------- */

static int open_listener(char *err, size_t cap)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				 .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE};
	struct addrinfo *ai;
	char port[8];
	snprintf(port, sizeof(port), "%u", sim.cfg.listen_port);
	int rc = getaddrinfo(sim.cfg.listen_addr, port, &hints, &ai);
	if (rc != 0) {
		snprintf(err, cap, "--listen %s:%s: %s", sim.cfg.listen_addr, port, gai_strerror(rc));
		return -1;
	}
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int one = 1;
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || listen(fd, 64) != 0) {
		snprintf(err, cap, "--listen %s:%s: %s", sim.cfg.listen_addr, port, strerror(errno));
		if (fd >= 0)
			close(fd);
		freeaddrinfo(ai);
		return -1;
	}
	freeaddrinfo(ai);
	struct sockaddr_storage sa;
	socklen_t sl = sizeof(sa);
	getsockname(fd, (struct sockaddr *)&sa, &sl);
	sim.cfg.listen_port = ntohs(sa.ss_family == AF_INET6 ?
					    ((struct sockaddr_in6 *)&sa)->sin6_port :
					    ((struct sockaddr_in *)&sa)->sin_port);
	listen_fd = fd;
	return 0;
}

static int open_sessions(char *err, size_t cap)
{
	if (mkdir(sim.cfg.store, 0755) != 0 && errno != EEXIST) {
		snprintf(err, cap, "--store %s: %s", sim.cfg.store, strerror(errno));
		return -1;
	}
	struct ctl_journal_config jc;
	ctl_journal_config_default(&jc);
	jc.fsync = sim.cfg.fsync;
	jc.segment_size = 4u << 20; /* a simulator keeps less history than the appliance */
	jc.keep_segments = 16;
	static const struct ctl_session_io io_tmpl = {
		.send = io_send, .deliver = io_deliver, .disconnect = io_disconnect,
		.event = io_event};
	for (int i = 0; i < sim.cfg.nsess; i++) {
		struct vsim_sess *ss = &sim.sess[i];
		ss->cfg = sim.cfg.sess[i];
		ss->idx = i;
		ss->conn = -1;
		char dir[1024], jerr[256];
		snprintf(dir, sizeof(dir), "%s/%s_%s_%s", sim.cfg.store, fix_version_str(ss->cfg.ver),
			 ss->cfg.ours, ss->cfg.theirs);
		if (mkdir(dir, 0755) != 0 && errno != EEXIST) {
			snprintf(err, cap, "--store: cannot create %.700s: %s", dir, strerror(errno));
			return -1;
		}
		ss->j = ctl_journal_open(dir, &jc, jerr, sizeof(jerr));
		if (ss->j == NULL) {
			snprintf(err, cap, "--store: journal %.600s: %.250s", dir, jerr);
			return -1;
		}
		sim.nsess = i + 1;
		struct ctl_store st;
		ctl_store_journal_init(&st, ss->j);
		struct ctl_session_cfg sc;
		ctl_session_cfg_init(&sc);
		sc.role = CTL_ROLE_ACCEPTOR;
		sc.ver = ss->cfg.ver;
		sc.sender_comp_id = ss->cfg.ours;
		sc.target_comp_id = ss->cfg.theirs;
		sc.reset_on_logon = ss->cfg.reset;
		sc.next_expected_seq = ss->cfg.next_expected;
		if (ss->cfg.user[0] != '\0' || ss->cfg.password[0] != '\0') {
			sc.auth = check_logon;
			sc.auth_arg = ss;
		}
		sc.max_msg = MAX_MSG;
		if (!sim.cfg.heartbeat_check) {
			/* Without --heartbeat-check a silent peer is never probed nor dropped (a
			 * debugger or a stalled harness keeps its session); heartbeats still go out. */
			sc.test_request_pct = 1000000;
			sc.timeout_pct = 1000000;
		}
		struct ctl_session_io io = io_tmpl;
		io.arg = ss;
		ss->s = ctl_session_create(&sc, &io, st, jerr, sizeof(jerr));
		if (ss->s == NULL) {
			snprintf(err, cap, "session %s: %s", ss->cfg.theirs, jerr);
			return -1;
		}
		if (vsim_app_load(&sim, ss, err, cap) != 0)
			return -1;
		uint64_t in, out;
		ctl_journal_get_seqs(ss->j, &in, &out);
		vlog(&sim, "session %s %s->%s%s%s%s: next in %llu, next out %llu, journal %s",
		     fix_version_str(ss->cfg.ver), ss->cfg.ours, ss->cfg.theirs,
		     ss->cfg.reset ? " reset" : "", ss->cfg.drop_copy ? " dropcopy" : "",
		     ss->cfg.next_expected ? " nextexpected" : "",
		     (unsigned long long)in, (unsigned long long)out, dir);
	}
	vsim_app_after_load(&sim);
	return 0;
}

/* The counters as JSON into --stats-file (atomically); on stderr too at exit. */
static void write_stats(bool at_exit)
{
	vsim_app_counters(&sim);
	if (at_exit) {
		fprintf(stderr, "venue-sim counters:");
		for (int i = 0; i < VSIM_C__COUNT; i++)
			fprintf(stderr, " %s=%llu", vsim_counter_names[i],
				(unsigned long long)sim.c[i]);
		fputc('\n', stderr);
	}
	if (sim.cfg.stats_file[0] == '\0')
		return;
	char tmp[600];
	snprintf(tmp, sizeof(tmp), "%s.tmp", sim.cfg.stats_file);
	FILE *f = fopen(tmp, "w");
	if (f == NULL) {
		fprintf(stderr, "venue-sim: --stats-file %s: %s\n", tmp, strerror(errno));
		return;
	}
	fprintf(f, "{\n  \"mode\": \"%s\"", sim.cfg.mode == VSIM_ECHO ? "echo" : "exchange");
	for (int i = 0; i < VSIM_C__COUNT; i++)
		fprintf(f, ",\n  \"%s\": %llu", vsim_counter_names[i], (unsigned long long)sim.c[i]);
	fprintf(f, "\n}\n");
	if (fclose(f) != 0 || rename(tmp, sim.cfg.stats_file) != 0)
		fprintf(stderr, "venue-sim: --stats-file %s: %s\n", sim.cfg.stats_file,
			strerror(errno));
}

static void flush_journals(void)
{
	for (int i = 0; i < sim.nsess; i++) {
		if (sim.sess[i].j != NULL && ctl_journal_flush(sim.sess[i].j) != 0)
			vlog(&sim, "%s: journal flush: %s", sim.sess[i].cfg.theirs,
			     ctl_journal_error(sim.sess[i].j));
	}
}

static void cleanup(void)
{
	for (int i = 0; i < MAX_CONNS; i++) {
		if (conns[i].fd >= 0) {
			flush_tx(&conns[i]);
			conn_close(i);
		}
		free(conns[i].rx);
		free(conns[i].tx);
	}
	flush_journals();
	for (int i = 0; i < sim.nsess; i++) {
		ctl_session_destroy(sim.sess[i].s);
		ctl_journal_close(sim.sess[i].j);
	}
	vsim_app_free(&sim);
	if (listen_fd >= 0)
		close(listen_fd);
}

static bool any_connected(void)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (conns[i].fd >= 0 && (conns[i].sess >= 0 || conns[i].ntx > 0))
			return true;
	return false;
}

int main(int argc, char **argv)
{
	char err[1024];
	int rc = vsim_cli_parse(argc, argv, &sim.cfg, err, sizeof(err));
	if (rc == 1) {
		fputs(err, stdout);
		return 0;
	}
	if (rc != 0) {
		fprintf(stderr, "fixmux-venue-sim: %s\n", err);
		return 2;
	}
	sim.log = vlog;
	for (int i = 0; i < MAX_CONNS; i++) {
		conns[i].fd = -1;
		conns[i].sess = -1;
		conns[i].rx = malloc(RX_CAP);
		if (conns[i].rx == NULL) {
			fprintf(stderr, "fixmux-venue-sim: out of memory\n");
			return 1;
		}
	}
	if (vsim_app_init(&sim, now_ns()) != 0 || open_sessions(err, sizeof(err)) != 0 ||
	    open_listener(err, sizeof(err)) != 0) {
		if (err[0] == '\0')
			snprintf(err, sizeof(err), "out of memory");
		fprintf(stderr, "fixmux-venue-sim: %s\n", err);
		cleanup();
		return 1;
	}
	struct sigaction sa = {.sa_handler = on_signal};
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* Stamped increments are due to the nanosecond: the default 50 us timer slack would
	 * make every timed wake-up (and so every increment) that much late. */
	if (sim.cfg.md_rate != 0)
		prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	printf("listening on %s:%u\n", sim.cfg.listen_addr, sim.cfg.listen_port);
	fflush(stdout);
	if (sim.cfg.port_file[0] != '\0') {
		char tmp[600];
		snprintf(tmp, sizeof(tmp), "%s.tmp", sim.cfg.port_file);
		FILE *f = fopen(tmp, "w");
		if (f == NULL || fprintf(f, "%u\n", sim.cfg.listen_port) < 0 || fclose(f) != 0 ||
		    rename(tmp, sim.cfg.port_file) != 0) {
			fprintf(stderr, "fixmux-venue-sim: --port-file %s: %s\n", sim.cfg.port_file,
				strerror(errno));
			cleanup();
			return 1;
		}
	}
	vlog(&sim, "%s mode, listening on %s:%u", sim.cfg.mode == VSIM_ECHO ? "echo" : "exchange",
	     sim.cfg.listen_addr, sim.cfg.listen_port);

	int64_t stop_deadline = 0;
	int64_t stats_due = sim.cfg.stats_interval_ms != 0 ? now_ns() : INT64_MAX;
	static struct pollfd pfd[MAX_CONNS + 1];
	static int pci[MAX_CONNS + 1];
	for (;;) {
		sim.now = now_ns();
		if (stop_signal != 0 && stop_deadline == 0) {
			vlog(&sim, "signal %d: logging out every session", (int)stop_signal);
			stop_deadline = sim.now + SHUTDOWN_WAIT_NS;
			for (int i = 0; i < sim.nsess; i++) {
				ctl_session_logout(sim.sess[i].s, sim.now, "venue simulator shutting down");
				after_session_call(&sim.sess[i]);
			}
		}
		if (stop_deadline != 0 && (!any_connected() || sim.now >= stop_deadline))
			break;
		int n = 0;
		if (stop_deadline == 0) {
			pfd[n] = (struct pollfd){.fd = listen_fd, .events = POLLIN};
			pci[n++] = -1;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			if (conns[i].fd < 0)
				continue;
			pfd[n] = (struct pollfd){.fd = conns[i].fd,
						 .events = (short)(POLLIN |
								   (conns[i].ntx > 0 ? POLLOUT : 0))};
			pci[n++] = i;
		}
		/* At most 10 ms (session timers need no finer grain), less when a market-data
		 * increment or a quote is due sooner, to the nanosecond: a stamped increment
		 * (--md-rate) sent late carries the lateness into its receiver's latency. */
		int64_t due = vsim_app_next_due(&sim) - now_ns();
		struct timespec timeout = {0, due <= 0 ? 0 : due >= 10000000 ? 10000000 : (long)due};
		int pr = ppoll(pfd, (nfds_t)n, &timeout, NULL);
		sim.now = now_ns();
		for (int k = 0; pr > 0 && k < n; k++) {
			if (pfd[k].revents == 0)
				continue;
			if (pci[k] < 0) {
				do_accept();
				continue;
			}
			int ci = pci[k];
			if (conns[ci].fd < 0)
				continue;
			if ((pfd[k].revents & POLLOUT) && !flush_tx(&conns[ci])) {
				int s = conns[ci].sess;
				conn_close(ci);
				if (s >= 0)
					after_session_call(&sim.sess[s]);
				continue;
			}
			if (pfd[k].revents & (POLLIN | POLLHUP | POLLERR))
				conn_read(ci);
		}
		for (int i = 0; i < sim.nsess; i++) {
			struct vsim_sess *ss = &sim.sess[i];
			for (int guard = 0; guard < 64 && ctl_session_poll(ss->s, sim.now) != 0; guard++)
				;
			after_session_call(ss);
		}
		vsim_app_tick(&sim);
		if (sim.now >= stats_due) {
			write_stats(false);
			stats_due = sim.now + (int64_t)sim.cfg.stats_interval_ms * 1000000;
		}
		for (int i = 0; i < MAX_CONNS; i++) {
			struct conn *c = &conns[i];
			if (c->fd < 0 || !c->closing)
				continue;
			if (!flush_tx(c) || c->ntx == 0 || sim.now >= c->close_by) {
				int s = c->sess;
				conn_close(i);
				if (s >= 0)
					after_session_call(&sim.sess[s]);
			}
		}
		for (int i = 0; i < sim.nsess; i++) {
			struct ctl_store st;
			ctl_store_journal_init(&st, sim.sess[i].j);
			st.ops->flush(st.ctx);
			ctl_journal_poll(sim.sess[i].j);
		}
	}
	vlog(&sim, "stopped");
	cleanup();
	write_stats(true);
	return 0;
}
