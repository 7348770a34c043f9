/* tests/control/venue_sim: the plain-socket client and the child-process harness. */
#define _GNU_SOURCE
#include "vsim_client.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fix_dict.h"
#include "fix_encode.h"

#define RECV_TIMEOUT_MS 10000

void vproc_init(struct vproc *vp)
{
	memset(vp, 0, sizeof(*vp));
	snprintf(vp->dir, sizeof(vp->dir), "/tmp/vsim-test-XXXXXX");
	if (mkdtemp(vp->dir) == NULL)
		abort();
	snprintf(vp->store, sizeof(vp->store), "%s/store", vp->dir);
}

int vproc_start(struct vproc *vp, const char *const *args)
{
	char port_file[320], stats_file[320], log_file[320];
	snprintf(port_file, sizeof(port_file), "%s/port", vp->dir);
	snprintf(stats_file, sizeof(stats_file), "%s/stats.json", vp->dir);
	snprintf(log_file, sizeof(log_file), "%s/sim.log", vp->dir);
	unlink(port_file);
	const char *argv[64];
	int n = 0;
	argv[n++] = VSIM_BIN;
	argv[n++] = "--listen";
	argv[n++] = "127.0.0.1:0";
	argv[n++] = "--store";
	argv[n++] = vp->store;
	argv[n++] = "--port-file";
	argv[n++] = port_file;
	argv[n++] = "--stats-file";
	argv[n++] = stats_file;
	for (int i = 0; args[i] != NULL && n < 63; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid == 0) {
		int fd = open(log_file, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (fd >= 0) {
			dup2(fd, 1);
			dup2(fd, 2);
		}
		execv(VSIM_BIN, (char *const *)argv);
		_exit(127);
	}
	vp->pid = pid;
	/* Wait for the port file (written once the socket listens) or the child's death. */
	for (int i = 0; i < 1000; i++) {
		FILE *f = fopen(port_file, "r");
		if (f != NULL) {
			int ok = fscanf(f, "%d", &vp->port);
			fclose(f);
			if (ok == 1)
				return 0;
		}
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			vp->pid = 0;
			return -1;
		}
		usleep(10000);
	}
	return -1;
}

int vproc_stop(struct vproc *vp)
{
	if (vp->pid <= 0)
		return -1;
	kill(vp->pid, SIGTERM);
	int st;
	if (waitpid(vp->pid, &st, 0) != vp->pid)
		return -1;
	vp->pid = 0;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

void vproc_kill9(struct vproc *vp)
{
	if (vp->pid <= 0)
		return;
	kill(vp->pid, SIGKILL);
	int st;
	waitpid(vp->pid, &st, 0);
	vp->pid = 0;
}

int vproc_stats(const struct vproc *vp, char *buf, size_t cap)
{
	char p[320];
	snprintf(p, sizeof(p), "%s/stats.json", vp->dir);
	FILE *f = fopen(p, "r");
	if (f == NULL)
		return -1;
	size_t n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
	return 0;
}

void vproc_cleanup(struct vproc *vp)
{
	if (vp->pid > 0)
		vproc_kill9(vp);
	if (vp->dir[0] == '/') {
		char cmd[400];
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", vp->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", vp->dir);
	}
}

/* ---------------------------------------------------------------------------------------------
 * Client.
 * ------------------------------------------------------------------------------------------- */

int vc_connect(struct vclient *c, int port, enum fix_version ver, const char *me,
	       const char *them)
{
	return vc_connect_host(c, "127.0.0.1", port, ver, me, them);
}

int vc_connect_host(struct vclient *c, const char *host, int port, enum fix_version ver,
		    const char *me, const char *them)
{
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	if (c->fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    connect(c->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0)
		return -1;
	int one = 1;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->ver = ver;
	snprintf(c->me, sizeof(c->me), "%s", me);
	snprintf(c->them, sizeof(c->them), "%s", them);
	if (c->seq == 0)
		c->seq = 1;
	c->nrx = 0;
	fix_framer_init(&c->fr, sizeof(c->cur));
	return 0;
}

void vc_close(struct vclient *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

int vc_send_raw(struct vclient *c, const void *bytes, size_t len)
{
	return send(c->fd, bytes, len, MSG_NOSIGNAL) == (ssize_t)len ? 0 : -1;
}

static int64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int vc_send_seq(struct vclient *c, const char *type, uint64_t seq, const char *hdr,
		const char *body)
{
	char buf[8192], tmp[4096];
	struct fix_encoder e;
	fix_enc_begin(&e, buf, sizeof(buf), c->ver, type, NULL);
	fix_enc_uint(&e, 34, seq);
	fix_enc_cstr(&e, 49, c->me);
	fix_enc_time(&e, 52, now_ns(), FIX_TIME_MS);
	fix_enc_cstr(&e, 56, c->them);
	size_t n = 0;
	for (const char *p = hdr; p != NULL && *p != '\0' && n < sizeof(tmp); p++)
		tmp[n++] = *p == '|' ? FIX_SOH : *p;
	for (const char *p = body; *p != '\0' && n < sizeof(tmp); p++)
		tmp[n++] = *p == '|' ? FIX_SOH : *p;
	fix_enc_raw(&e, tmp, n);
	char *out;
	size_t len = fix_enc_finish(&e, &out);
	if (len == 0)
		return -1;
	return vc_send_raw(c, out, len);
}

int vc_send(struct vclient *c, const char *type, const char *body)
{
	return vc_send_seq(c, type, c->seq++, NULL, body);
}

static int fill(struct vclient *c)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	int r = poll(&p, 1, RECV_TIMEOUT_MS);
	if (r <= 0) {
		snprintf(c->err, sizeof(c->err), "timeout");
		return -1;
	}
	ssize_t k = recv(c->fd, c->rx + c->nrx, sizeof(c->rx) - c->nrx, 0);
	if (k <= 0) {
		snprintf(c->err, sizeof(c->err), "connection closed");
		return -1;
	}
	c->nrx += (size_t)k;
	return 0;
}

const struct fix_msg *vc_recv(struct vclient *c)
{
	for (;;) {
		int err = 0;
		long r = c->nrx > 0 ? fix_frame(&c->fr, c->rx, c->nrx, &err) : 0;
		if (r < 0) {
			snprintf(c->err, sizeof(c->err), "garbled bytes from the simulator: %s",
				 fix_strerror(err));
			return NULL;
		}
		if (r == 0) {
			if (fill(c) != 0)
				return NULL;
			continue;
		}
		memcpy(c->cur, c->rx, (size_t)r);
		memmove(c->rx, c->rx + r, c->nrx - (size_t)r);
		c->nrx -= (size_t)r;
		c->m = (struct fix_msg){.fields = c->fields, .cap = 512};
		int rc = fix_parse(&c->m, c->cur, (size_t)r);
		if (rc != FIX_OK) {
			snprintf(c->err, sizeof(c->err), "unparsable message: %s", fix_strerror(rc));
			return NULL;
		}
		/* Everything a venue sends must be valid for the version's dictionary: a real
		 * peer (QuickFIX) would reject it otherwise. */
		struct fix_verdict v = {.ok = true};
		if (!c->no_validate)
			fix_validate(fix_dict_get(c->ver), &c->m, &v);
		/* The session layer writes 1137 into a FIXT BusinessMessageReject as QuickFIX does
		 * (acceptance scenario 2r), though FIX 5.0 SP2's dictionary does not define it
		 * there: accepted, it is the conformance suite's expectation. */
		if (!v.ok && c->ver == FIX_VER_T11 && v.ref_tag == 1137 &&
		    strcmp(c->m.hdr.msg_type, "j") == 0)
			v.ok = true;
		if (!v.ok) {
			snprintf(c->err, sizeof(c->err), "invalid message (%s, tag %u): %.150s",
				 v.text != NULL ? v.text : "?", v.ref_tag, vc_show(c));
			return NULL;
		}
		return &c->m;
	}
}

const struct fix_msg *vc_next(struct vclient *c)
{
	for (;;) {
		const struct fix_msg *m = vc_recv(c);
		if (m == NULL || !vc_is(m, "0"))
			return m;
	}
}

bool vc_wait_closed(struct vclient *c)
{
	for (;;) {
		struct pollfd p = {.fd = c->fd, .events = POLLIN};
		if (poll(&p, 1, RECV_TIMEOUT_MS) <= 0)
			return false;
		char b[4096];
		ssize_t k = recv(c->fd, b, sizeof(b), 0);
		if (k == 0)
			return true;
		if (k < 0)
			return errno == ECONNRESET;
	}
}

const struct fix_msg *vc_logon(struct vclient *c, bool reset)
{
	char body[64];
	snprintf(body, sizeof(body), "98=0|108=30|%s%s", reset ? "141=Y|" : "",
		 c->ver == FIX_VER_T11 ? "1137=9|" : "");
	if (vc_send(c, "A", body) != 0)
		return NULL;
	return vc_recv(c);
}

const char *vc_get(const struct fix_msg *m, uint32_t tag)
{
	static char bufs[8][256];
	static int k;
	char *b = bufs[k++ % 8];
	const struct fix_field *f = fix_find(m, tag, 0);
	size_t n = f != NULL ? (f->len < 255 ? f->len : 255) : 0;
	if (n > 0)
		memcpy(b, f->val, n);
	b[n] = '\0';
	return b;
}

bool vc_is(const struct fix_msg *m, const char *type)
{
	return m != NULL && strcmp(m->hdr.msg_type, type) == 0;
}

const char *vc_show(const struct vclient *c)
{
	static char b[4096];
	size_t n = c->m.len < sizeof(b) - 1 ? c->m.len : sizeof(b) - 1;
	for (size_t i = 0; i < n; i++)
		b[i] = c->cur[i] == FIX_SOH ? '|' : c->cur[i];
	b[n] = '\0';
	return b;
}
