/* control: the fixmux configuration (an INI file, read with Debian's libinih) and its
 * validation against the multiplexing guidelines (PRODUCT.md §2).
 *
 * Sections: [appliance] once; [venue NAME] per venue; [session VENUE.TYPE] per venue session;
 * [user NAME] per user. Every key, its default and its rule are in docs/configuration.md.
 * Loading happens at start-up only: it allocates, and reports the first problem it finds as
 * "FILE:LINE: [section] key: rule" in the caller's error buffer.
 */
#ifndef CTL_CONFIG_H
#define CTL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fix_msg.h"

#define CTL_NAME_MAX 32          /* names and CompIDs */
#define CTL_TEXT_MAX 128         /* credentials, hashes, addresses */
#define CTL_PATH_MAX 256
#define CTL_MAX_VENUES 64
#define CTL_MAX_SESSIONS 256
#define CTL_MAX_USERS 1024
#define CTL_MAX_USER_SESSIONS 16 /* venue sessions one user may join */
#define CTL_MAX_ALLOWED_NETS 8   /* allowed source address ranges per user */

enum ctl_venue_type { CTL_VENUE_CLOB = 0, CTL_VENUE_MAKER, CTL_VENUE_TAKER, CTL_VENUE__COUNT };
enum ctl_session_type {
	CTL_STYPE_PRICING = 0,
	CTL_STYPE_ORDERS,
	CTL_STYPE_RFS,
	CTL_STYPE_DROPCOPY,
	CTL_STYPE__COUNT
};
enum ctl_fsync { CTL_FSYNC_NONE = 0, CTL_FSYNC_BATCH, CTL_FSYNC_ALWAYS };
enum ctl_idle { CTL_IDLE_SPIN = 0, CTL_IDLE_BACKOFF, CTL_IDLE_SLEEP };
enum ctl_unroutable { CTL_UNROUTABLE_DROP = 0, CTL_UNROUTABLE_USER };

const char *ctl_venue_type_str(enum ctl_venue_type t);
const char *ctl_session_type_str(enum ctl_session_type t);

/* A message-filter rule as configured: "filter = deny|alert NAME TAG REGEX" (repeatable). */
struct ctl_filter_cfg {
	char name[CTL_NAME_MAX];
	uint32_t tag;
	bool alert;                       /* false: deny */
	char regex[CTL_TEXT_MAX * 2];
};

/* Protection of the shared venue session: a token bucket (0 rate = unlimited) and filters. */
struct ctl_guard_cfg {
	uint32_t rate;                    /* application messages per second */
	uint32_t burst;                   /* bucket size; default = rate */
	struct ctl_filter_cfg *filters;   /* allocated at load */
	uint32_t n_filters;
};

/* An IPv4 address range (network order host bits masked off). */
struct ctl_ipv4_net {
	uint32_t addr; /* host byte order */
	uint8_t prefix;
};

struct ctl_appliance_cfg {
	char client_port[CTL_TEXT_MAX];   /* DPDK device of the client side, e.g. net_tap0 or PCI */
	char venue_port[CTL_TEXT_MAX];
	struct ctl_ipv4_net client_addr;  /* fixmux's address and prefix on the client side */
	struct ctl_ipv4_net venue_addr;
	uint32_t venue_gateway;           /* next hop toward venues, 0 = on-link */
	uint32_t client_gateway;          /* next hop toward users, 0 = on-link */
	uint16_t listen_port;             /* client-facing FIX port */
	char store_dir[CTL_PATH_MAX];
	enum ctl_fsync fsync;
	char cores[CTL_TEXT_MAX];         /* role layout, e.g. "client:1,venue:1,control:0" */
	enum ctl_idle idle;
	uint32_t max_msg;                 /* largest FIX message accepted, bytes */
	uint32_t logon_failures_per_min;  /* failed logons allowed per source address (10) */
};

struct ctl_venue_cfg {
	char name[CTL_NAME_MAX];
	enum ctl_venue_type type;
};

struct ctl_vsession_cfg {
	char name[2 * CTL_NAME_MAX];      /* "VENUE.Type": what users put in TargetCompID */
	int venue;                        /* index into venues */
	enum ctl_session_type type;
	uint32_t addr;                    /* venue's IPv4 address, host order */
	uint16_t port;
	enum fix_version ver;
	char sender_comp_id[CTL_NAME_MAX];/* ours toward the venue */
	char target_comp_id[CTL_NAME_MAX];/* the venue's */
	char username[CTL_TEXT_MAX];      /* 553 on our Logon, empty = none */
	char password[CTL_TEXT_MAX];      /* 554 */
	uint32_t heartbeat_s;
	bool reset_on_logon;
	enum ctl_unroutable unroutable;
	int unroutable_user;              /* index into users when CTL_UNROUTABLE_USER */
	char client_comp_id[CTL_NAME_MAX];/* client-facing CompID, default = name */
	uint16_t n_users;                 /* derived: users attached */
	struct ctl_guard_cfg guard;       /* limits over all users of the session */
	bool allow_user_defined;          /* venue messages may carry tags >= 5000 the dictionary
					   * does not define (default true) */
};

struct ctl_user_cfg {
	char name[CTL_NAME_MAX];          /* the user's SenderCompID */
	char password_hash[CTL_TEXT_MAX]; /* crypt(3) string, e.g. "$y$..." (fixmux-passwd) */
	bool no_password;                 /* password_hash = none: address-only authentication */
	struct ctl_ipv4_net allowed[CTL_MAX_ALLOWED_NETS];
	uint8_t n_allowed;                /* 0 = any source */
	uint16_t sessions[CTL_MAX_USER_SESSIONS]; /* indexes into sessions */
	uint8_t n_sessions;
	enum fix_version ver;             /* the user's own FIX version, default = the session's */
	bool ver_set;
	bool reset_on_logon;              /* accept/perform 141=Y resets at Logon */
	struct ctl_guard_cfg guard;       /* this user's own limits */
	bool allow_user_defined;          /* the user's messages may carry tags >= 5000 the
					   * dictionary does not define (default false) */
};

struct ctl_config {
	struct ctl_appliance_cfg app;
	struct ctl_venue_cfg *venues;
	struct ctl_vsession_cfg *sessions;
	struct ctl_user_cfg *users;
	uint32_t n_venues, n_sessions, n_users;
};

/* Loads and validates path. Returns 0, or -1 with "path:line: [section] key: problem" (or
 * "path: [section]: rule ..." for cross-section rules) in err. On error *cfg is freed. */
int ctl_config_load(struct ctl_config *cfg, const char *path, char *err, size_t err_cap);
/* Same, from a string (tests, and fixmuxctl's dry run). name is used in messages. */
int ctl_config_load_string(struct ctl_config *cfg, const char *text, const char *name, char *err,
			   size_t err_cap);
void ctl_config_free(struct ctl_config *cfg);

int ctl_config_find_session(const struct ctl_config *cfg, const char *name, size_t len);
int ctl_config_find_user(const struct ctl_config *cfg, const char *name, size_t len);
bool ctl_user_in_session(const struct ctl_config *cfg, int user, int session);
/* Is addr (host order) one the user may connect from? */
bool ctl_user_addr_allowed(const struct ctl_user_cfg *u, uint32_t addr);

/* Password hashing (crypt(3) from libxcrypt: yescrypt, salted). ctl_password_hash writes a
 * new hash of pass into out; ctl_password_check compares in constant time (the hash
 * computation's cost does not depend on where a guess differs). Both: control path only. */
int ctl_password_hash(const char *pass, char *out, size_t out_cap);
bool ctl_password_check(const char *hash, const char *pass, size_t pass_len);

#endif
