/* control: the multiplexer's sessions and its logon/logout rules (see ctl_mux.h).
 *
 * Venue session states: DOWN -> CONNECTING (the first user's Logon is held) -> LOGON (our Logon
 * sent) -> UP (held users are answered) -> LOGOUT (last user left, or a failure cascades) ->
 * DOWN (users still connected are logged out with the cause; users waiting start it again).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "ctl_mux_pvt.h"
#include "ctl_store_journal.h"
#include "fix_dict.h"

const char *const ctl_mux_counter_names[CTL_MUX__COUNTERS] = {
	"client_msgs_in",       "forwarded_to_venue", "venue_msgs_in",
	"forwarded_to_user",    "pending_stored",     "pending_delivered",
	"unroutable_dropped",   "unroutable_to_owner", "id_conflicts",
	"logons_refused",       "user_failures",      "venue_logons",
	"venue_failures",       "garbled",            "journal_errors",
	"rate_limited",         "filter_denied",      "filter_alerts",
	"logon_storm_refused",  "route_snapshots",    "possresend_dropped",
	"venue_busy",           "forwarded_inplace",  "forwarded_copied",
	"segments_reassembled", "refused_without_logout",
};

void mux_log(struct ctl_mux *m, const char *fmt, ...)
{
	if (!m->io.log)
		return;
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	m->io.log(m->io.arg, line);
}

static const char *vs_name(const struct mux_venue *v)
{
	return v->mux->cfg->sessions[v->idx].name;
}

static const char *user_name(const struct mux_user *u)
{
	return u->mux->cfg->users[u->user].name;
}

/* ------------------------------------------------------------------------------------------
 * Venue side
 * ---------------------------------------------------------------------------------------- */

static void venue_start(struct mux_venue *v, int64_t now)
{
	(void)now;
	const struct ctl_vsession_cfg *c = &v->mux->cfg->sessions[v->idx];
	v->st = CTL_VS_CONNECTING;
	v->cascade = false;
	v->cause[0] = '\0';
	v->rx.len = 0;
	fix_framer_init(&v->rx.fr, v->mux->cfg->app.max_msg);
	mux_log(v->mux, "venue %s: connecting to %u.%u.%u.%u:%u", vs_name(v), c->addr >> 24,
		(c->addr >> 16) & 255, (c->addr >> 8) & 255, c->addr & 255, c->port);
	v->mux->io.venue_connect(v->mux->io.arg, v->idx, c->addr, c->port);
}

static void user_disconnect(void *arg, const char *reason);

/* Whether a Logout refusing this held Logon is safe: numbered next_out, it must be exactly the
 * number the user expects, because a peer like QuickFIX takes a Logout without a gap check and
 * counts it as the next expected message, skipping for good the first message it is missing.
 * The Logon's NextExpectedMsgSeqNum(789), when present, says what the user expects; without
 * it we rely on u->uncertain. A Logon that resets the numbering (141=Y, or a user configured
 * to reset) discards the earlier messages anyway, so it loses nothing. The Logon is parsed
 * into a local array: the shared one may hold the message whose handling led here. */
static bool refusal_logout_safe(struct mux_user *u, const char *logon, size_t len,
				uint64_t *nexp, bool *has_nexp)
{
	struct fix_field f[MUX_FIELDS];
	struct fix_msg msg = {.fields = f, .cap = MUX_FIELDS};
	*has_nexp = false;
	if (fix_parse(&msg, logon, len) != FIX_OK)
		return !u->uncertain; /* the session refuses it without a Logout anyway */
	const struct fix_field *reset = fix_find(&msg, 141, 0);
	if (u->mux->cfg->users[u->user].reset_on_logon ||
	    (reset && reset->len == 1 && reset->val[0] == 'Y'))
		return true;
	if (fix_msg_get_uint(&msg, 789, nexp) == FIX_OK) {
		*has_nexp = true;
		return *nexp == ctl_session_next_out(u->s);
	}
	return !u->uncertain;
}

/* The held Logon is refused by closing the connection without a Logout (see above): the
 * user's engine reconnects later, and once the venue is up its Logon is answered and the
 * ordinary ResendRequest brings it every message it is missing. */
static void refuse_without_logout(struct mux_user *u, uint64_t nexp, bool has_nexp)
{
	struct ctl_mux *m = u->mux;
	char why[MUX_TEXT];
	snprintf(why, sizeof(why), "%s", u->refuse);
	u->refuse[0] = '\0';
	m->counters[CTL_MUX_LOGONS_REFUSED]++;
	m->counters[CTL_MUX_REFUSED_WITHOUT_LOGOUT]++;
	unsigned long long next = (unsigned long long)ctl_session_next_out(u->s);
	if (has_nexp)
		mux_log(m, "user %s on %s: %s; closing without Logout: the user expects %llu, the "
			"next number sent is %llu, and a Logout would make it skip a message",
			m->cfg->users[u->user].name, m->cfg->sessions[u->vs].name, why,
			(unsigned long long)nexp, next);
	else
		mux_log(m, "user %s on %s: %s; closing without Logout: the user may be missing "
			"messages before %llu, and a Logout would make it skip one",
			m->cfg->users[u->user].name, m->cfg->sessions[u->vs].name, why, next);
	user_disconnect(u, why);
}

/* Feeds a held Logon to its client session: it is answered (venue up) or refused (u->refuse
 * set), both by the session itself through the authentication hook, unless a refusal's
 * Logout could make the user lose a message: then the connection is closed without one. */
static void release_held(struct mux_user *u, int64_t now)
{
	char *logon = u->held;
	size_t len = u->held_len;
	u->held = NULL;
	if (!logon)
		return;
	uint64_t nexp = 0;
	bool has_nexp = false;
	if (u->refuse[0] && !refusal_logout_safe(u, logon, len, &nexp, &has_nexp)) {
		free(logon);
		refuse_without_logout(u, nexp, has_nexp);
		return;
	}
	if (u->refuse[0] && has_nexp)
		u->uncertain = false; /* it said it has everything: the Logout is its next */
	if (ctl_session_connect(u->s, now) == 0)
		ctl_session_on_bytes(u->s, now, logon, len);
	free(logon);
}

static bool any_user_active(const struct mux_venue *v)
{
	for (uint32_t i = 0; i < v->n_users; i++)
		if (v->users[i]->st != US_OFFLINE)
			return true;
	return false;
}

static void venue_down(struct mux_venue *v, int64_t now, const char *why)
{
	if (v->st == CTL_VS_DOWN)
		return;
	bool was_up = v->st == CTL_VS_UP || v->st == CTL_VS_LOGOUT;
	if (!v->cause[0])
		snprintf(v->cause, sizeof(v->cause), "venue session %s down: %s", vs_name(v), why);
	if (!v->cascade && v->st != CTL_VS_LOGOUT)
		v->mux->counters[CTL_MUX_VENUE_FAILURES]++;
	v->st = CTL_VS_DOWN;
	mux_log(v->mux, "venue %s: down (%s)", vs_name(v), why);
	ctl_journal_flush(v->j);
	/* Users still connected leave now, after the venue's Logout: they have received what the
	 * venue sent during its logout (its cancellations). */
	for (uint32_t i = 0; i < v->n_users; i++) {
		struct mux_user *u = v->users[i];
		if (u->st == US_ONLINE) {
			u->we_logged_out = true;
			ctl_session_logout(u->s, now, v->cause);
		} else if (u->st == US_HELD && !was_up && !v->mux->shutting_down) {
			/* The venue never came up for them. */
			snprintf(u->refuse, sizeof(u->refuse), "%s", v->cause);
			release_held(u, now);
		}
	}
	/* Someone logged on while the venue was going down: bring it up again for them. */
	bool waiting = false;
	for (uint32_t i = 0; i < v->n_users; i++)
		waiting |= v->users[i]->st == US_HELD && v->users[i]->held != NULL;
	if (waiting && !v->mux->shutting_down)
		venue_start(v, now);
}

static void venue_logout(struct mux_venue *v, int64_t now, const char *cause, bool cascade)
{
	if (cause && !v->cause[0])
		snprintf(v->cause, sizeof(v->cause), "%s", cause);
	v->cascade |= cascade;
	if (v->st == CTL_VS_UP) {
		v->st = CTL_VS_LOGOUT;
		mux_log(v->mux, "venue %s: logging out%s%s", vs_name(v), cause ? ": " : "",
			cause ? cause : "");
		ctl_session_logout(v->s, now, NULL);
	} else if (v->st == CTL_VS_CONNECTING || v->st == CTL_VS_LOGON) {
		v->mux->io.venue_close(v->mux->io.arg, v->idx, cause ? cause : "no users left");
		ctl_session_disconnected(v->s, now);
		venue_down(v, now, cause ? cause : "no users left");
	}
}

static void venue_send(void *arg, const char *bytes, size_t len)
{
	struct mux_venue *v = arg;
	v->mux->io.venue_send(v->mux->io.arg, v->idx, bytes, len);
}

static void venue_deliver(void *arg, const struct fix_msg *msg)
{
	struct mux_venue *v = arg;
	mux_venue_to_user(v, v->mux->now, msg);
}

/* The venue's execution reports and cancel rejects are routed by ClOrdID (ctl_route_venue_msg
 * looks up 11 first): its bucket is loaded while the session validates the message. */
static void venue_parsed(void *arg, const struct fix_msg *msg)
{
	struct mux_venue *v = arg;
	const char *t = msg->hdr.msg_type;
	if ((t[0] == '8' || t[0] == '9') && t[1] == '\0') {
		const struct fix_field *id = fix_find(msg, 11, (uint32_t)msg->hdr.n_header);
		if (id != NULL)
			ctl_route_prefetch(v->route, CTL_KEY_CLORDID, id->val, id->len);
	}
}
static void venue_disconnect(void *arg, const char *reason)
{
	struct mux_venue *v = arg;
	v->mux->io.venue_close(v->mux->io.arg, v->idx, reason);
	/* venue_down runs from the owner's ctl_mux_venue_closed (it knows the time). */
	if (!v->cause[0])
		snprintf(v->cause, sizeof(v->cause), "venue session %s down: %s", vs_name(v), reason);
}

static void venue_event(void *arg, enum ctl_event ev, const char *text)
{
	struct mux_venue *v = arg;
	switch (ev) {
	case CTL_EV_LOGGED_ON:
		v->st = CTL_VS_UP;
		v->mux->counters[CTL_MUX_VENUE_LOGONS]++;
		mux_log(v->mux, "venue %s: logged on", vs_name(v));
		break;
	case CTL_EV_LOGON_REFUSED:
		snprintf(v->cause, sizeof(v->cause), "venue %s refused the Logon: %s", vs_name(v),
			 text ? text : "");
		break;
	case CTL_EV_LOGGED_OUT:
		if (!v->cause[0] && text)
			snprintf(v->cause, sizeof(v->cause), "venue session %s down: %s", vs_name(v),
				 text);
		break;
	default:
		break;
	}
}

/* ------------------------------------------------------------------------------------------
 * Client side
 * ---------------------------------------------------------------------------------------- */

static void user_send(void *arg, const char *bytes, size_t len)
{
	struct mux_user *u = arg;
	if (u->conn >= 0)
		u->mux->io.client_send(u->mux->io.arg, (uint32_t)u->conn, bytes, len);
}

static void user_deliver(void *arg, const struct fix_msg *msg)
{
	struct mux_user *u = arg;
	mux_client_to_venue(u, u->mux->now, msg);
}

/* The ID the message will claim: its bucket is loaded while the session validates it. */
static void user_parsed(void *arg, const struct fix_msg *msg)
{
	struct mux_user *u = arg;
	enum ctl_key_kind kind;
	const struct fix_field *id;
	if (ctl_route_client_key(msg, &kind, &id))
		ctl_route_prefetch(u->mux->venues[u->vs].route, kind, id->val, id->len);
}
static void user_gone(struct mux_user *u, int64_t now, const char *why);

static void user_disconnect(void *arg, const char *reason)
{
	struct mux_user *u = arg;
	if (u->conn < 0)
		return;
	uint32_t conn = (uint32_t)u->conn;
	u->mux->io.client_close(u->mux->io.arg, conn, reason);
	/* The slot is free now: bytes still arriving on it are ignored, not read as a Logon,
	 * and the owner's ctl_mux_client_closed for it is a no-op. */
	u->mux->conns[conn].u = NULL;
	u->mux->conns[conn].used = false;
	u->conn = -1;
	user_gone(u, u->mux->now, reason);
}

static void user_event(void *arg, enum ctl_event ev, const char *text)
{
	struct mux_user *u = arg;
	(void)text;
	if (ev == CTL_EV_LOGGED_ON) {
		/* From here the ordinary ResendRequest exchange brings the user up to date. */
		u->st = US_ONLINE;
		u->uncertain = false;
		mux_log(u->mux, "user %s on %s: logged on", user_name(u),
			u->mux->cfg->sessions[u->vs].name);
	} else if (ev == CTL_EV_LOGON_REFUSED) {
		u->mux->counters[CTL_MUX_LOGONS_REFUSED]++;
		mux_log(u->mux, "user %s on %s: logon refused: %s", user_name(u),
			u->mux->cfg->sessions[u->vs].name, text ? text : "");
	}
}

static int user_auth(void *arg, const struct fix_msg *logon, const char *user, size_t user_len,
		     const char *pass, size_t pass_len, char *text, size_t text_cap)
{
	struct mux_user *u = arg;
	(void)logon;
	(void)user;
	(void)user_len;
	const struct ctl_user_cfg *uc = &u->mux->cfg->users[u->user];
	if (!uc->no_password && (!pass || !ctl_password_check(uc->password_hash, pass, pass_len))) {
		snprintf(text, text_cap, "Logon refused: wrong or missing Password(554)");
		return 1;
	}
	if (u->refuse[0]) {
		snprintf(text, text_cap, "%s", u->refuse);
		u->refuse[0] = '\0';
		return 1;
	}
	return 0;
}

/* The user's connection ended (any way). An orderly Logout leaves the venue up for the others
 * (or logs it out if this was the last user); anything else takes the venue session down and
 * every other user with it (PRODUCT.md §3.4). */
static void user_gone(struct mux_user *u, int64_t now, const char *why)
{
	struct mux_venue *v = &u->mux->venues[u->vs];
	enum user_state was = u->st;
	u->st = US_OFFLINE;
	free(u->held);
	u->held = NULL;
	ctl_journal_flush(u->j);
	if (was == US_OFFLINE)
		return;
	bool failure = was == US_ONLINE && !u->orderly && !u->we_logged_out;
	/* Only a completed Logout exchange (the session ended while handling the user's Logout:
	 * ours answered, or theirs answering ours) tells that the user had everything we sent;
	 * a failure, a reset or an unanswered Logout leaves bytes we cannot know arrived. */
	if (was == US_ONLINE && !u->in_logout)
		u->uncertain = true;
	mux_log(u->mux, "user %s on %s: %s (%s)", user_name(u), vs_name(v),
		failure ? "connection failed" : "logged out", why ? why : "");
	if (failure && (v->st == CTL_VS_UP || v->st == CTL_VS_LOGON)) {
		u->mux->counters[CTL_MUX_USER_FAILURES]++;
		char cause[MUX_TEXT];
		snprintf(cause, sizeof(cause), "user %s connection failed; venue session %s logged out",
			 user_name(u), vs_name(v));
		venue_logout(v, now, cause, true);
		return;
	}
	if (!any_user_active(v) && v->st != CTL_VS_DOWN && v->st != CTL_VS_LOGOUT)
		venue_logout(v, now, NULL, false);
}

/* Failed logons are limited per source address with a token bucket counted in minutes:
 * passing time / 60 makes a per-second bucket a per-minute one. */
static struct logon_source *source_of(struct ctl_mux *m, uint32_t addr, bool create)
{
	struct logon_source *ls = &m->sources[(addr * 2654435761u) >> 24];
	if (ls->addr != addr) {
		if (!create)
			return NULL;
		/* A collision forgets the other address's history: bounded memory wins. */
		ls->addr = addr;
		ctl_bucket_init(&ls->failures, m->cfg->app.logon_failures_per_min,
				m->cfg->app.logon_failures_per_min, m->now / 60);
	}
	return ls;
}

void mux_charge_source(struct ctl_mux *m, uint32_t addr)
{
	ctl_bucket_take(&source_of(m, addr, true)->failures, m->now / 60);
}

static void refuse_conn(struct ctl_mux *m, uint32_t conn, const char *why)
{
	m->counters[CTL_MUX_LOGONS_REFUSED]++;
	mux_charge_source(m, m->conns[conn].src);
	mux_log(m, "connection %u refused: %s", conn, why);
	m->io.client_close(m->io.arg, conn, why);
	m->conns[conn].used = false;
}

/* The first message of a connection: a Logon naming a user and a venue session. */
static void first_message(struct ctl_mux *m, uint32_t conn, const char *bytes, size_t len,
			  int64_t now)
{
	struct fix_msg msg = {.fields = m->fields, .cap = MUX_FIELDS};
	if (fix_parse(&msg, bytes, len) != FIX_OK || strcmp(msg.hdr.msg_type, "A") != 0 ||
	    msg.hdr.i_sender < 0 || msg.hdr.i_target < 0) {
		refuse_conn(m, conn, "first message is not a valid Logon");
		return;
	}
	const struct fix_field *snd = &msg.fields[msg.hdr.i_sender];
	const struct fix_field *tgt = &msg.fields[msg.hdr.i_target];
	int user = ctl_config_find_user(m->cfg, snd->val, snd->len);
	int vs = -1;
	/* TargetCompID names one of the user's sessions by its client-facing CompID. */
	for (uint8_t k = 0; user >= 0 && k < m->cfg->users[user].n_sessions; k++) {
		uint16_t i = m->cfg->users[user].sessions[k];
		const char *cc = m->cfg->sessions[i].client_comp_id;
		if (strlen(cc) == tgt->len && !memcmp(cc, tgt->val, tgt->len)) {
			vs = (int)i;
			break;
		}
	}
	if (user < 0 || vs < 0 || !ctl_user_in_session(m->cfg, user, vs)) {
		/* Wrong CompIDs: there is no session to answer in, so FIX says disconnect. */
		refuse_conn(m, conn, "Logon with unknown CompIDs");
		return;
	}
	if (!ctl_user_addr_allowed(&m->cfg->users[user], m->conns[conn].src)) {
		refuse_conn(m, conn, "source address not allowed for this user");
		return;
	}
	struct mux_venue *v = &m->venues[vs];
	struct mux_user *u = NULL;
	for (uint32_t i = 0; i < v->n_users; i++)
		if (v->users[i]->user == (uint32_t)user)
			u = v->users[i];
	if (u->conn >= 0 || u->st != US_OFFLINE) {
		/* A second connection for a logged-on identity: closed, the first is untouched. */
		refuse_conn(m, conn, "duplicate Logon: the user is already connected");
		return;
	}
	if (m->shutting_down) {
		refuse_conn(m, conn, "fixmux is shutting down");
		return;
	}
	u->conn = (int32_t)conn;
	u->orderly = false;
	u->we_logged_out = false;
	u->refuse[0] = '\0';
	m->conns[conn].u = u;
	u->held = malloc(len);
	if (!u->held) {
		refuse_conn(m, conn, "out of memory");
		u->conn = -1;
		return;
	}
	memcpy(u->held, bytes, len);
	u->held_len = len;
	u->st = US_HELD;
	/* Authenticate before anything else: a stranger must not make fixmux log on to a venue.
	 * The session answers the refusal itself (through the authentication hook). */
	const struct fix_field *pw = fix_find(&msg, 554, 0);
	if (!m->cfg->users[user].no_password &&
	    (!pw || !ctl_password_check(m->cfg->users[user].password_hash, pw->val, pw->len))) {
		mux_charge_source(m, m->conns[conn].src);
		release_held(u, now);
		return;
	}
	if (v->st == CTL_VS_UP) {
		release_held(u, now);
	} else if (v->st == CTL_VS_DOWN) {
		venue_start(v, now);
	}
	/* CONNECTING, LOGON: answered when the venue is up; LOGOUT: venue_down restarts it. */
}

/* Frames bytes in rx and calls fn for each complete message; false if the stream is garbled
 * beyond repair (the caller decides what that means). */
typedef void (*frame_fn)(void *arg, const char *msg, size_t len, bool garbled);

static void frame_stream(struct mux_rx *rx, const char *bytes, size_t len, frame_fn fn,
			 void *arg)
{
	if (rx->len == 0) {
		/* Nothing held back: the whole messages are framed where they lie (the callbacks
		 * only read them during the call, as they would read the buffer's copy), and only
		 * a trailing part is kept for the next bytes. The framer's resume state is offsets
		 * from the message start, so the kept copy continues it. */
		size_t off = 0;
		while (off < len) {
			long r = fix_frame(&rx->fr, bytes + off, len - off, NULL);
			if (r == 0)
				break;
			if (r > 0) {
				fn(arg, bytes + off, (size_t)r, false);
				off += (size_t)r;
			} else {
				fn(arg, NULL, 0, true);
				off += (size_t)-r;
			}
		}
		bytes += off;
		len -= off;
		if (len <= rx->cap - rx->len) {
			memcpy(rx->buf + rx->len, bytes, len);
			rx->len += len;
			return;
		}
	}
	while (len > 0) {
		size_t n = len < rx->cap - rx->len ? len : rx->cap - rx->len;
		memcpy(rx->buf + rx->len, bytes, n);
		rx->len += n;
		bytes += n;
		len -= n;
		size_t off = 0;
		while (off < rx->len) {
			int err;
			long r = fix_frame(&rx->fr, rx->buf + off, rx->len - off, &err);
			if (r == 0)
				break;
			if (r > 0) {
				fn(arg, rx->buf + off, (size_t)r, false);
				off += (size_t)r;
			} else {
				fn(arg, NULL, 0, true);
				off += (size_t)-r;
			}
		}
		memmove(rx->buf, rx->buf + off, rx->len - off);
		rx->len -= off;
		if (rx->len == rx->cap) {
			/* A message larger than the buffer: the framer's maximum is smaller, so this
			 * cannot happen with a sane configuration; drop it as garbled. */
			fn(arg, NULL, 0, true);
			rx->len = 0;
			fix_framer_reset(&rx->fr); /* it remembered the dropped message's length */
		}
	}
}

/* True when the first 32 bytes (at most len) hold "<SOH>35=<c><SOH>": a one-character MsgType,
 * looked at before the session parses the message. The same answer as memmem of that pattern
 * over the window: a match is a SOH at i and at i + 5 with "35=c" between, so only those i are
 * looked at (two 16-byte compares give the SOHs of a whole window). */
bool ctl_mux_head_has_type(const char *msg, size_t len, char c)
{
#if defined(__SSE2__)
	if (len >= 32) {
		const __m128i soh = _mm_set1_epi8(FIX_SOH);
		uint32_t lo = (uint32_t)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)msg), soh));
		uint32_t hi = (uint32_t)_mm_movemask_epi8(
			_mm_cmpeq_epi8(_mm_loadu_si128((const __m128i *)(const void *)(msg + 16)), soh));
		uint32_t at = lo | hi << 16;
		for (uint32_t cand = at & (at >> 5); cand != 0; cand &= cand - 1) {
			const char *p = msg + __builtin_ctz(cand);
			if (p[1] == '3' && p[2] == '5' && p[3] == '=' && p[4] == c)
				return true;
		}
		return false;
	}
#endif
	const char *end = msg + (len < 32 ? len : 32);
	const char *p = msg;
	while (end - p >= 6) {
		p = memchr(p, FIX_SOH, (size_t)(end - p) - 5);
		if (p == NULL)
			return false;
		if (p[1] == '3' && p[2] == '5' && p[3] == '=' && p[4] == c && p[5] == FIX_SOH)
			return true;
		p++;
	}
	return false;
}
struct client_frame_ctx {
	struct ctl_mux *m;
	uint32_t conn;
	int64_t now;
};

static void client_frame(void *arg, const char *msg, size_t len, bool garbled)
{
	struct client_frame_ctx *c = arg;
	struct mux_conn *mc = &c->m->conns[c->conn];
	if (!mc->used)
		return;
	if (garbled) {
		c->m->counters[CTL_MUX_GARBLED]++;
		if (mc->u && mc->u->st == US_ONLINE)
			ctl_session_on_garbled(mc->u->s, c->now);
		else if (!mc->u)
			refuse_conn(c->m, c->conn, "garbled data before Logon");
		return;
	}
	if (!mc->u) {
		first_message(c->m, c->conn, msg, len, c->now);
		return;
	}
	struct mux_user *u = mc->u;
	if (u->st == US_HELD) {
		/* Nothing but the Logon may come before its answer. */
		return;
	}
	/* MsgType is the third field: "35=5<SOH>" marks the user's orderly Logout. */
	bool logout = ctl_mux_head_has_type(msg, len, '5');
	u->orderly |= logout;
	u->in_logout = logout;
	ctl_session_on_bytes(u->s, c->now, msg, len);
	u->in_logout = false;
}

void ctl_mux_client_accepted(struct ctl_mux *m, uint32_t conn, uint32_t src, int64_t now)
{
	m->now = now;
	if (conn >= CTL_MUX_MAX_CONNS)
		return;
	struct mux_conn *c = &m->conns[conn];
	c->used = true;
	c->src = src;
	c->u = NULL;
	c->rx.len = 0;
	fix_framer_init(&c->rx.fr, m->cfg->app.max_msg);
	struct logon_source *ls = source_of(m, src, false);
	if (ls && !ctl_bucket_has(&ls->failures, now / 60)) {
		/* A logon storm: closed before a byte is read, and not charged again. */
		m->counters[CTL_MUX_LOGON_STORM_REFUSED]++;
		m->io.client_close(m->io.arg, conn, "too many failed logons from this address");
		c->used = false;
		return;
	}
	/* The slot's reassembly buffer, on its first use (an accept is control work): memory
	 * follows the connections there have been, not CTL_MUX_MAX_CONNS. */
	if (!c->rx.buf) {
		c->rx.buf = malloc(m->rx_cap);
		if (!c->rx.buf) {
			mux_log(m, "connection %u refused: out of memory", conn);
			m->io.client_close(m->io.arg, conn, "out of memory");
			c->used = false;
			return;
		}
		c->rx.cap = m->rx_cap;
	}
}

void ctl_mux_client_bytes(struct ctl_mux *m, uint32_t conn, const char *bytes, size_t len,
			  int64_t now)
{
	m->now = now;
	if (conn >= CTL_MUX_MAX_CONNS || !m->conns[conn].used)
		return;
	struct client_frame_ctx c = {m, conn, now};
	frame_stream(&m->conns[conn].rx, bytes, len, client_frame, &c);
}

void ctl_mux_client_closed(struct ctl_mux *m, uint32_t conn, int64_t now)
{
	m->now = now;
	if (conn >= CTL_MUX_MAX_CONNS || !m->conns[conn].used)
		return;
	struct mux_conn *c = &m->conns[conn];
	struct mux_user *u = c->u;
	c->used = false;
	c->u = NULL;
	if (u && u->conn == (int32_t)conn) {
		u->conn = -1;
		ctl_session_disconnected(u->s, now);
		user_gone(u, now, "connection closed");
	}
}

struct venue_frame_ctx {
	struct mux_venue *v;
	int64_t now;
};

static void venue_frame(void *arg, const char *msg, size_t len, bool garbled)
{
	struct venue_frame_ctx *c = arg;
	struct mux_venue *v = c->v;
	if (garbled) {
		v->mux->counters[CTL_MUX_GARBLED]++;
		ctl_session_on_garbled(v->s, c->now);
		return;
	}
	/* A venue Reject(3) is session-level: the session consumes it. When it was in sequence,
	 * it is also returned to the user whose message it refers to. Looked at before the
	 * session runs: an application message may leave it with its header rewritten in place
	 * (a Reject never does, being an admin message). */
	bool reject = ctl_mux_head_has_type(msg, len, '3');
	uint64_t before = ctl_session_next_in(v->s);
	ctl_session_on_bytes(v->s, c->now, msg, len);
	if (reject && ctl_session_next_in(v->s) == before + 1) {
		struct fix_msg pm = {.fields = v->mux->fields, .cap = MUX_FIELDS};
		if (fix_parse(&pm, msg, len) == FIX_OK)
			mux_venue_to_user(v, c->now, &pm);
	}
}

void ctl_mux_venue_connected(struct ctl_mux *m, uint32_t vs, int64_t now)
{
	m->now = now;
	if (vs >= m->cfg->n_sessions)
		return;
	struct mux_venue *v = &m->venues[vs];
	if (v->st != CTL_VS_CONNECTING)
		return;
	v->st = CTL_VS_LOGON;
	ctl_session_connect(v->s, now);
}

void ctl_mux_venue_bytes(struct ctl_mux *m, uint32_t vs, const char *bytes, size_t len,
			 int64_t now)
{
	m->now = now;
	if (vs >= m->cfg->n_sessions)
		return;
	struct mux_venue *v = &m->venues[vs];
	if (v->st == CTL_VS_DOWN || v->st == CTL_VS_CONNECTING)
		return;
	struct venue_frame_ctx c = {v, now};
	frame_stream(&v->rx, bytes, len, venue_frame, &c);
}

void ctl_mux_venue_closed(struct ctl_mux *m, uint32_t vs, const char *why, int64_t now)
{
	m->now = now;
	if (vs >= m->cfg->n_sessions)
		return;
	struct mux_venue *v = &m->venues[vs];
	if (v->st == CTL_VS_DOWN)
		return;
	if (v->st != CTL_VS_CONNECTING)
		ctl_session_disconnected(v->s, now);
	venue_down(v, now, why ? why : "connection closed");
}

/* ------------------------------------------------------------------------------------------
 * Timers, held logons, shutdown
 * ---------------------------------------------------------------------------------------- */

void ctl_mux_poll(struct ctl_mux *m, int64_t now)
{
	m->now = now;
	for (uint32_t i = 0; i < m->cfg->n_sessions; i++) {
		struct mux_venue *v = &m->venues[i];
		if (v->st != CTL_VS_DOWN && v->st != CTL_VS_CONNECTING)
			while (ctl_session_poll(v->s, now) == 1)
				;
		/* The venue session ended itself (its Logout answered, a timeout, a refusal). */
		if ((v->st == CTL_VS_LOGON || v->st == CTL_VS_UP || v->st == CTL_VS_LOGOUT) &&
		    ctl_session_state(v->s) == CTL_ST_DISCONNECTED)
			venue_down(v, now, v->cause[0] ? v->cause : "venue session ended");
		if (v->st == CTL_VS_UP) {
			for (uint32_t k = 0; k < v->n_users; k++)
				if (v->users[k]->st == US_HELD && v->users[k]->held)
					release_held(v->users[k], now);
		}
		for (uint32_t k = 0; k < v->n_users; k++) {
			struct mux_user *u = v->users[k];
			if (u->st != US_OFFLINE)
				while (ctl_session_poll(u->s, now) == 1)
					;
			if (u->st == US_ONLINE && u->pend_n > 0 && ctl_session_logged_on(u->s))
				mux_deliver_pending(u, now);
			ctl_journal_poll(u->j);
		}
		ctl_journal_poll(v->j);
		ctl_route_poll(v->route);
	}
}

bool ctl_mux_shutdown(struct ctl_mux *m, int64_t now)
{
	m->now = now;
	m->shutting_down = true;
	bool all_down = true;
	for (uint32_t i = 0; i < m->cfg->n_sessions; i++) {
		struct mux_venue *v = &m->venues[i];
		bool users_left = false;
		for (uint32_t k = 0; k < v->n_users; k++) {
			struct mux_user *u = v->users[k];
			if (u->st == US_ONLINE && !u->we_logged_out) {
				u->we_logged_out = true;
				ctl_session_logout(u->s, now, "fixmux is shutting down");
			} else if (u->st == US_HELD) {
				snprintf(u->refuse, sizeof(u->refuse), "fixmux is shutting down");
				release_held(u, now);
			}
			users_left |= u->st != US_OFFLINE;
		}
		if (!users_left && v->st != CTL_VS_DOWN)
			venue_logout(v, now, "fixmux is shutting down", true);
		all_down &= !users_left && v->st == CTL_VS_DOWN;
	}
	ctl_mux_poll(m, now);
	return all_down;
}

/* ------------------------------------------------------------------------------------------
 * Creation
 * ---------------------------------------------------------------------------------------- */

static int mkdirs(const char *path)
{
	char tmp[CTL_PATH_MAX * 2];
	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++) {
		if (*p == '/') {
			*p = '\0';
			if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
				return -1;
			*p = '/';
		}
	}
	return mkdir(tmp, 0750) != 0 && errno != EEXIST ? -1 : 0;
}

static struct ctl_journal *open_journal(const struct ctl_config *cfg, const char *sub,
					char *err, size_t err_cap)
{
	char dir[CTL_PATH_MAX * 2];
	snprintf(dir, sizeof(dir), "%s/%s", cfg->app.store_dir, sub);
	if (mkdirs(dir) != 0) {
		snprintf(err, err_cap, "%s: cannot create: %s", dir, strerror(errno));
		return NULL;
	}
	struct ctl_journal_config jc;
	ctl_journal_config_default(&jc);
	jc.fsync = cfg->app.fsync == CTL_FSYNC_NONE	? CTL_JOURNAL_FSYNC_NONE :
		   cfg->app.fsync == CTL_FSYNC_ALWAYS ? CTL_JOURNAL_FSYNC_ALWAYS :
							CTL_JOURNAL_FSYNC_BATCH;
	jc.segment_size = 4u << 20;
	/* Venue journals hold routing snapshots (up to ~20 MB for a full table). */
	jc.app_segment_size = 4u << 20;
	char jerr[256];
	struct ctl_journal *j = ctl_journal_open(dir, &jc, jerr, sizeof(jerr));
	if (!j)
		snprintf(err, err_cap, "journal %s: %s", dir, jerr);
	return j;
}

/* Compiles a scope's rules into one Hyperscan database (NULL when it has none). */
int mux_compile_filter(const struct ctl_guard_cfg *g, struct fix_filter **out, const char *scope,
		       char *err, size_t err_cap)
{
	*out = NULL;
	if (g->n_filters == 0)
		return 0;
	struct fix_filter_rule *rules = calloc(g->n_filters, sizeof(*rules));
	if (!rules) {
		snprintf(err, err_cap, "out of memory");
		return -1;
	}
	for (uint32_t i = 0; i < g->n_filters; i++) {
		rules[i].name = g->filters[i].name;
		rules[i].tag = g->filters[i].tag;
		rules[i].regex = g->filters[i].regex;
		rules[i].action = g->filters[i].alert ? FIX_FILTER_ALERT : FIX_FILTER_DENY;
	}
	char ferr[256];
	*out = fix_filter_build(rules, g->n_filters, ferr, sizeof(ferr));
	free(rules);
	if (!*out) {
		snprintf(err, err_cap, "[%s] filter: %s", scope, ferr);
		return -1;
	}
	return 0;
}

/* The same, and makes the multiplexer's one scratch fit the new database. */
static int mux_build_filter(struct ctl_mux *m, const struct ctl_guard_cfg *g,
			    struct fix_filter **out, const char *scope, char *err, size_t err_cap)
{
	if (mux_compile_filter(g, out, scope, err, err_cap) != 0)
		return -1;
	if (!*out)
		return 0; /* no rules in this scope */
	int rc = m->scratch_hs ? fix_filter_scratch_grow(&m->scratch_hs, *out) :
				 ((m->scratch_hs = fix_filter_scratch_new(*out)) ? 0 : -1);
	if (rc != 0) {
		snprintf(err, err_cap, "[%s] filter: cannot allocate Hyperscan scratch", scope);
		return -1;
	}
	return 0;
}

struct ctl_mux *ctl_mux_create(const struct ctl_config *cfg, const struct ctl_mux_io *io,
			       int64_t now, char *err, size_t err_cap)
{
	struct ctl_mux *m = calloc(1, sizeof(*m));
	if (!m) {
		snprintf(err, err_cap, "out of memory");
		return NULL;
	}
	m->now = now;
	m->start_ns = now;
	m->route_compact_every = CTL_MUX_ROUTE_COMPACT;
	m->cfg = cfg;
	m->io = *io;
	uint32_t n_links = 0;
	for (uint32_t u = 0; u < cfg->n_users; u++)
		n_links += cfg->users[u].n_sessions;
	m->venues = calloc(cfg->n_sessions, sizeof(*m->venues));
	m->users = calloc(n_links ? n_links : 1, sizeof(*m->users));
	m->conns = calloc(CTL_MUX_MAX_CONNS, sizeof(*m->conns));
	if (!m->venues || !m->users || !m->conns) {
		snprintf(err, err_cap, "out of memory");
		goto fail;
	}
	m->rx_cap = 2 * (size_t)cfg->app.max_msg; /* buffers: at each slot's first accept */
	for (uint32_t i = 0; i < cfg->n_sessions; i++) {
		const struct ctl_vsession_cfg *c = &cfg->sessions[i];
		struct mux_venue *v = &m->venues[i];
		v->mux = m;
		v->idx = i;
		v->dropcopy_user = CTL_ROUTE_NO_USER;
		v->users = calloc(c->n_users, sizeof(*v->users));
		v->rx.cap = 2 * (size_t)cfg->app.max_msg;
		v->rx.buf = malloc(v->rx.cap);
		v->route = ctl_route_create(1u << 18, 1u << 16);
		char sub[CTL_PATH_MAX];
		snprintf(sub, sizeof(sub), "venue/%s", c->name);
		if (!v->users || !v->rx.buf || !v->route) {
			snprintf(err, err_cap, "out of memory");
			goto fail;
		}
		if (!(v->j = open_journal(cfg, sub, err, err_cap)))
			goto fail;
		struct ctl_session_cfg sc;
		ctl_session_cfg_init(&sc);
		sc.role = CTL_ROLE_INITIATOR;
		sc.ver = c->ver;
		sc.sender_comp_id = c->sender_comp_id;
		sc.target_comp_id = c->target_comp_id;
		sc.heartbeat_s = c->heartbeat_s;
		sc.reset_on_logon = c->reset_on_logon;
		sc.allow_user_defined = c->allow_user_defined;
		sc.username = c->username[0] ? c->username : NULL;
		sc.password = c->password[0] ? c->password : NULL;
		sc.max_msg = cfg->app.max_msg;
		struct ctl_session_io sio = {v, venue_send, venue_deliver, venue_disconnect,
					     venue_event};
		struct ctl_store st;
		ctl_store_journal_init(&st, v->j);
		char serr[256];
		v->s = ctl_session_create(&sc, &sio, st, serr, sizeof(serr));
		if (!v->s) {
			snprintf(err, err_cap, "[session %s]: %s", c->name, serr);
			goto fail;
		}
		ctl_session_set_parsed_hook(v->s, venue_parsed);
		ctl_bucket_init(&v->bucket, c->guard.rate, c->guard.burst, now);
		if (mux_build_filter(m, &c->guard, &v->filter, c->name, err, err_cap) != 0)
			goto fail;
		if (mux_recover_venue(v) != 0) {
			snprintf(err, err_cap, "[session %s]: routing records unreadable", c->name);
			goto fail;
		}
	}
	for (uint32_t uidx = 0; uidx < cfg->n_users; uidx++) {
		const struct ctl_user_cfg *uc = &cfg->users[uidx];
		for (uint8_t k = 0; k < uc->n_sessions; k++) {
			uint32_t vs = uc->sessions[k];
			const struct ctl_vsession_cfg *c = &cfg->sessions[vs];
			struct mux_venue *v = &m->venues[vs];
			struct mux_user *u = &m->users[m->n_users++];
			u->mux = m;
			u->user = uidx;
			u->vs = vs;
			u->conn = -1;
			if (c->type == CTL_STYPE_DROPCOPY)
				v->dropcopy_user = (uint16_t)uidx;
			v->users[v->n_users++] = u;
			char sub[CTL_PATH_MAX];
			snprintf(sub, sizeof(sub), "user/%s@%s", uc->name, c->name);
			if (!(u->j = open_journal(cfg, sub, err, err_cap)))
				goto fail;
			struct ctl_session_cfg sc;
			ctl_session_cfg_init(&sc);
			sc.role = CTL_ROLE_ACCEPTOR;
			sc.ver = uc->ver;
			sc.sender_comp_id = c->client_comp_id;
			sc.target_comp_id = uc->name;
			sc.reset_on_logon = uc->reset_on_logon;
			sc.allow_user_defined = uc->allow_user_defined;
			sc.max_msg = cfg->app.max_msg;
			sc.auth = user_auth;
			sc.auth_arg = u;
			struct ctl_session_io sio = {u, user_send, user_deliver, user_disconnect,
						     user_event};
			struct ctl_store st;
			ctl_store_journal_init(&st, u->j);
			char serr[256];
			u->s = ctl_session_create(&sc, &sio, st, serr, sizeof(serr));
			if (!u->s) {
				snprintf(err, err_cap, "[user %s] on %s: %s", uc->name, c->name, serr);
				goto fail;
			}
			ctl_session_set_parsed_hook(u->s, user_parsed);
			ctl_bucket_init(&u->bucket, uc->guard.rate, uc->guard.burst, now);
			if (mux_build_filter(m, &uc->guard, &u->filter, uc->name, err, err_cap) != 0)
				goto fail;
			if (mux_recover_user(u) != 0) {
				snprintf(err, err_cap, "[user %s] on %s: pending records unreadable",
					 uc->name, c->name);
				goto fail;
			}
			/* Whether the user received the last messages journaled for it before
			 * the restart is unknown. */
			u->uncertain = ctl_session_next_out(u->s) > 1;
		}
	}
	return m;
fail:
	ctl_mux_destroy(m);
	return NULL;
}

void ctl_mux_destroy(struct ctl_mux *m)
{
	if (!m)
		return;
	for (uint32_t i = 0; m->users && i < m->n_users; i++) {
		struct mux_user *u = &m->users[i];
		ctl_session_destroy(u->s);
		ctl_journal_close(u->j);
		fix_filter_free(u->filter);
		free(u->held);
		mux_free_pending(u);
	}
	for (uint32_t i = 0; m->venues && i < m->cfg->n_sessions; i++) {
		struct mux_venue *v = &m->venues[i];
		ctl_session_destroy(v->s);
		ctl_journal_close(v->j);
		ctl_route_destroy(v->route);
		fix_filter_free(v->filter);
		free(v->users);
		free(v->rx.buf);
	}
	for (uint32_t i = 0; m->conns && i < CTL_MUX_MAX_CONNS; i++)
		free(m->conns[i].rx.buf);
	fix_filter_scratch_free(m->scratch_hs);
	free(m->conns);
	free(m->users);
	free(m->venues);
	free(m);
}

enum ctl_mux_venue_state ctl_mux_venue_state(const struct ctl_mux *m, uint32_t vs)
{
	return vs < m->cfg->n_sessions ? m->venues[vs].st : CTL_VS_DOWN;
}

static const struct mux_user *find_link(const struct ctl_mux *m, uint32_t user, uint32_t vs)
{
	for (uint32_t i = 0; i < m->n_users; i++)
		if (m->users[i].user == user && m->users[i].vs == vs)
			return &m->users[i];
	return NULL;
}

bool ctl_mux_user_online(const struct ctl_mux *m, uint32_t user, uint32_t vs)
{
	const struct mux_user *u = find_link(m, user, vs);
	return u && u->st == US_ONLINE;
}

size_t ctl_mux_user_pending(const struct ctl_mux *m, uint32_t user, uint32_t vs)
{
	const struct mux_user *u = find_link(m, user, vs);
	return u ? u->pend_n : 0;
}

uint64_t ctl_mux_counter(const struct ctl_mux *m, enum ctl_mux_counter c)
{
	return c < CTL_MUX__COUNTERS ? m->counters[c] : 0;
}

void ctl_mux_set_route_compaction(struct ctl_mux *m, uint64_t records)
{
	m->route_compact_every = records ? records : 1;
}

/* ------------------------------------------------------------------------------------------
 * Zero-copy input
 * ---------------------------------------------------------------------------------------- */

/* True when buf holds exactly one whole message and nothing waits before it in rx: then it
 * can be handled where it lies. Otherwise the framer is left as it was, for the copy path. */
static bool one_whole_message(struct mux_rx *rx, const char *buf, size_t len)
{
	if (rx->len != 0 || len == 0)
		return false;
	struct fix_framer saved = rx->fr;
	long r = fix_frame(&rx->fr, buf, len, NULL);
	if (r > 0 && (size_t)r == len)
		return true; /* the framer reset itself, as after any complete message */
	rx->fr = saved;
	return false;
}

static void zc_set(struct ctl_mux *m, bool from_venue, uint32_t id, const char *buf, size_t len,
		   size_t headroom)
{
	m->zc = (struct mux_zc){buf, len, headroom, from_venue, id};
}

void ctl_mux_client_segment(struct ctl_mux *m, uint32_t conn, char *buf, size_t len,
			    size_t headroom, int64_t now)
{
	m->now = now;
	if (conn >= CTL_MUX_MAX_CONNS || !m->conns[conn].used)
		return;
	struct client_frame_ctx c = {m, conn, now};
	if (!one_whole_message(&m->conns[conn].rx, buf, len)) {
		m->counters[CTL_MUX_SEGMENTS_REASSEMBLED]++;
		frame_stream(&m->conns[conn].rx, buf, len, client_frame, &c);
		return;
	}
	zc_set(m, false, conn, buf, len, headroom);
	client_frame(&c, buf, len, false);
	m->zc.buf = NULL;
}

void ctl_mux_venue_segment(struct ctl_mux *m, uint32_t vs, char *buf, size_t len,
			   size_t headroom, int64_t now)
{
	m->now = now;
	if (vs >= m->cfg->n_sessions)
		return;
	struct mux_venue *v = &m->venues[vs];
	if (v->st == CTL_VS_DOWN || v->st == CTL_VS_CONNECTING)
		return;
	struct venue_frame_ctx c = {v, now};
	if (!one_whole_message(&v->rx, buf, len)) {
		m->counters[CTL_MUX_SEGMENTS_REASSEMBLED]++;
		frame_stream(&v->rx, buf, len, venue_frame, &c);
		return;
	}
	zc_set(m, true, vs, buf, len, headroom);
	venue_frame(&c, buf, len, false);
	m->zc.buf = NULL;
}
