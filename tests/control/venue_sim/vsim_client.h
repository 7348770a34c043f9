/* tests/control/venue_sim: a plain-socket FIX client and a child-process harness for
 * fixmux-venue-sim. Messages are built with fixcodec's encoder and every message received is
 * framed, parsed and validated against its version's dictionary. */
#ifndef VSIM_CLIENT_H
#define VSIM_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fix_msg.h"

struct vproc {
	pid_t pid;
	int port;
	char dir[256];      /* private temporary directory: store, port file, logs */
	char store[300];
};

/* Creates a temporary directory for a simulator (vp->dir) with its store inside. */
void vproc_init(struct vproc *vp);
/* Starts the simulator: args are the options after the fixed --listen 127.0.0.1:0, --store,
 * --port-file and --stats-file; NULL-terminated. Waits until it listens. Returns 0 or -1. */
int vproc_start(struct vproc *vp, const char *const *args);
/* SIGTERM and wait: returns the exit status (or -1). */
int vproc_stop(struct vproc *vp);
/* SIGKILL and wait. */
void vproc_kill9(struct vproc *vp);
/* Reads the stats JSON written at exit into buf. */
int vproc_stats(const struct vproc *vp, char *buf, size_t cap);
/* Removes the temporary directory. */
void vproc_cleanup(struct vproc *vp);

struct vclient {
	int fd;
	enum fix_version ver;
	char me[64], them[64];
	uint64_t seq;               /* next outbound MsgSeqNum */
	char rx[1 << 17];
	size_t nrx;
	struct fix_framer fr;
	char cur[16384];            /* the last message returned by vc_recv */
	struct fix_field fields[512];
	struct fix_msg m;
	char err[256];              /* why vc_recv returned NULL */
	bool no_validate;           /* skip the dictionary check of received messages */
};

int vc_connect(struct vclient *c, int port, enum fix_version ver, const char *me,
	       const char *them);
/* The same toward an IPv4 address (dotted quad) other than the loopback. */
int vc_connect_host(struct vclient *c, const char *host, int port, enum fix_version ver,
		    const char *me, const char *them);
void vc_close(struct vclient *c);
/* Sends an application or admin message; body uses '|' for SOH. Uses and advances c->seq. */
int vc_send(struct vclient *c, const char *type, const char *body);
/* The same with an explicit sequence number and extra header text ("97=Y|..."), seq not
 * advanced. */
int vc_send_seq(struct vclient *c, const char *type, uint64_t seq, const char *hdr,
		const char *body);
int vc_send_raw(struct vclient *c, const void *bytes, size_t len);
/* Next message (parsed into c->m), or NULL on close, timeout (5 s) or an invalid message
 * (c->err says which). Heartbeats are returned like any message. */
const struct fix_msg *vc_recv(struct vclient *c);
/* Next message that is not a Heartbeat. */
const struct fix_msg *vc_next(struct vclient *c);
/* true when the peer closed the connection (EOF) within the timeout. */
bool vc_wait_closed(struct vclient *c);
/* Logon (98=0, 108=hb, and 141=Y when reset) and its answer; returns the answer or NULL. */
const struct fix_msg *vc_logon(struct vclient *c, bool reset);

/* Field value of tag as a NUL-terminated copy into a static rotating buffer ("" if absent). */
const char *vc_get(const struct fix_msg *m, uint32_t tag);
bool vc_is(const struct fix_msg *m, const char *type);
/* Printable form of c->cur ('|' for SOH). */
const char *vc_show(const struct vclient *c);

#endif
