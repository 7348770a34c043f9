/*
 * dp_opt.h - compile-time tunables of the TCP/IP stack and their run-time defaults.
 *
 * Every value is #ifndef-guarded so a build (or a test) may override it with -D. The DP_DEF_*
 * values are what dp_stack_config_defaults() puts into struct dp_stack_config; the others size
 * fixed arrays inside the stack.
 */
#ifndef DP_OPT_H
#define DP_OPT_H

/* Timer wheel: 1 us ticks, 4096 slots (one revolution = 4.1 ms; later timers wait in their
 * slot and are skipped until due, which costs one comparison per revolution each). */
#ifndef DP_TIMER_TICK_US
#define DP_TIMER_TICK_US 1
#endif
#ifndef DP_TIMER_SLOTS
#define DP_TIMER_SLOTS 4096
#endif

/* Most payload pieces (indirect mbufs) one transmitted segment may reference. */
#ifndef DP_SEG_PIECES_MAX
#define DP_SEG_PIECES_MAX 8
#endif

/* Ephemeral port range for dp_tcp_connect() with local port 0. */
#ifndef DP_EPHEMERAL_FIRST
#define DP_EPHEMERAL_FIRST 49152
#endif

#ifndef DP_DEF_MAX_CONNS
#define DP_DEF_MAX_CONNS 256
#endif
#ifndef DP_DEF_MAX_LISTENERS
#define DP_DEF_MAX_LISTENERS 8
#endif
#ifndef DP_DEF_MAX_BACKLOG
#define DP_DEF_MAX_BACKLOG 128
#endif
#ifndef DP_DEF_TX_QUEUE
#define DP_DEF_TX_QUEUE 1024
#endif
#ifndef DP_DEF_ARP_ENTRIES
#define DP_DEF_ARP_ENTRIES 64
#endif
#ifndef DP_DEF_MSS
#define DP_DEF_MSS 1460
#endif
/* 256 KiB: one window of a 10 Gb/s, 200 us path; needs window scaling. */
#ifndef DP_DEF_RCV_BUF
#define DP_DEF_RCV_BUF (256u * 1024u)
#endif
#ifndef DP_DEF_SND_BUF
#define DP_DEF_SND_BUF (256u * 1024u)
#endif
#ifndef DP_DEF_SND_QUEUE_MBUFS
#define DP_DEF_SND_QUEUE_MBUFS 512
#endif
#ifndef DP_DEF_RCV_QUEUE_MBUFS
#define DP_DEF_RCV_QUEUE_MBUFS 512
#endif
#ifndef DP_DEF_OOO_SEGS
#define DP_DEF_OOO_SEGS 64
#endif
#ifndef DP_DEF_WSCALE
#define DP_DEF_WSCALE 7
#endif
#ifndef DP_DEF_INIT_CWND_SEGS
#define DP_DEF_INIT_CWND_SEGS 10
#endif
/* RFC 6298 §2: initial RTO 1 s, minimum 1 s, maximum at least 60 s. Production FIX links in a
 * colo usually lower the minimum (e.g. 5 ms); that is a configuration choice, not a default. */
#ifndef DP_DEF_RTO_INITIAL_US
#define DP_DEF_RTO_INITIAL_US 1000000u
#endif
#ifndef DP_DEF_RTO_MIN_US
#define DP_DEF_RTO_MIN_US 1000000u
#endif
#ifndef DP_DEF_RTO_MAX_US
#define DP_DEF_RTO_MAX_US 60000000u
#endif
#ifndef DP_DEF_RTX_MAX
#define DP_DEF_RTX_MAX 15
#endif
#ifndef DP_DEF_SYN_RETRIES
#define DP_DEF_SYN_RETRIES 6
#endif
#ifndef DP_DEF_DELACK_US
#define DP_DEF_DELACK_US 40000u
#endif
/* 2*MSL with MSL = 30 s, as Linux. */
#ifndef DP_DEF_TIME_WAIT_US
#define DP_DEF_TIME_WAIT_US 60000000u
#endif
#ifndef DP_DEF_FIN_WAIT2_US
#define DP_DEF_FIN_WAIT2_US 60000000u
#endif
#ifndef DP_DEF_KEEPALIVE_INTVL_US
#define DP_DEF_KEEPALIVE_INTVL_US 75000000u
#endif
#ifndef DP_DEF_KEEPALIVE_PROBES
#define DP_DEF_KEEPALIVE_PROBES 9
#endif
/* RFC 5961 §7 suggests a system-wide limit; Linux uses 1000/s. */
#ifndef DP_DEF_CHALLENGE_ACK_PER_S
#define DP_DEF_CHALLENGE_ACK_PER_S 1000
#endif
#ifndef DP_DEF_ARP_TIMEOUT_US
#define DP_DEF_ARP_TIMEOUT_US 60000000u
#endif
#ifndef DP_DEF_ARP_RETRY_US
#define DP_DEF_ARP_RETRY_US 1000000u
#endif
#ifndef DP_DEF_IP_TTL
#define DP_DEF_IP_TTL 64
#endif

/* Debug builds (no NDEBUG) abort on a broken invariant; release builds count it. */
#ifndef DP_CHECK_INVARIANTS_ABORT
#ifdef NDEBUG
#define DP_CHECK_INVARIANTS_ABORT 0
#else
#define DP_CHECK_INVARIANTS_ABORT 1
#endif
#endif

#endif /* DP_OPT_H */
