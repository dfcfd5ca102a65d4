/*
 * broker.h — struct broker, the one object every room of rp-broker works
 * on, and what concerns the broker as a whole (broker.c): file
 * descriptors, readiness, the drain.  Each room has its own header with
 * its struct and functions; doc/ARCHITECTURE.md says which owns what.
 *
 * One thread and one rp_loop.  Nothing blocks for longer than a bounded,
 * small time: sockets are non-blocking, backend identity probes are
 * asynchronous, and every wait is an absolute deadline on the loop.
 */
#ifndef RP_BROKER_H
#define RP_BROKER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "admin.h"
#include "backend.h"
#include "burst.h"
#include "children.h"
#include "cli.h"
#include "config.h"
#include "conn.h"
#include "defs.h"
#include "events.h"
#include "handoff.h"
#include "hello.h"
#include "listen.h"
#include "logq.h"
#include "metrics.h"
#include "probe.h"
#include "ratelimit.h"
#include "rp.h"
#include "window.h"

/* File descriptors for what is not a client: listener, loop, signals,
 * events, the reserve, probes, spawning.  The soft RLIMIT_NOFILE should be
 * at least --max-clients plus this (warned at start, in DIAGNOSE). */
#define BROKER_FD_SLACK 64

/* What the rooms count besides the Hello series (metrics.h), the events
 * (events.h), the definitions (defs.h) and each backend's own counters;
 * shown by METRICS and DUMP. */
struct counters {
	uint64_t accepted;
	uint64_t closed[CONN_CLOSES];
	uint64_t peer_rejected;
	uint64_t accept_emfile;
	uint64_t accept_refused_emfile;
	uint64_t accept_refused_max_clients;
	uint64_t evicted;              /* silent, evicted when full */
	uint64_t accept_errors;
	uint64_t admin[32];            /* by verb (0..21, others at 31) */
	uint64_t deaths_crash, deaths_shutdown;
};

struct broker {
	struct config cfg;
	struct rp_loop *loop;
	char dir[PATH_MAX];            /* where backend endpoints go */
	char hash16[17];
	char machine_id[128];
	uint32_t euid;
	pid_t pid;
	int64_t started_wall_ms, started_ms;

	/* the listener (listen.c) */
	struct rp_sock_listener lst;
	int have_listener;
	int listening;                 /* polled by the loop */
	int reserve_fd;                /* spare fd for accept-and-refuse */
	int demoted;                   /* out of fds: not ready */
	int full;                      /* --max-clients reached with nothing
	                                  to evict: not ready */
	int64_t demoted_since_wall_ms;
	uint64_t resume_timer;
	uint64_t pressure_episodes;
	struct window reject_log;      /* lines about refused other uids */
	uint64_t reject_unlogged;      /* refused since, not yet summed up */
	uint64_t reject_timer;         /* says "N more" when the window ends */
	struct burst accept_burst;     /* how many per wake-up (burst.h) */

	/* connections (conn.c) */
	struct conn_queue q_hello;     /* --hello-timeout from accept */
	struct conn_queue q_grace;     /* over --max-clients: a moment to
	                                  send the frame, then code 9 */
	struct conn *free_conns;
	size_t nfree;
	size_t nconns;
	size_t out_pending;            /* reply bytes kept for slow readers */
	uint64_t next_connection_id;   /* consumed by each Negotiated */

	/* file descriptors (broker.c) */
	uint64_t nofile_soft, nofile_hard;
	size_t fd_base;                /* fds open besides those counted */
	size_t nprobes;                /* probe.c's */
	size_t nhconns;                /* handoff.c's */

	/* stopping (broker.c) */
	int draining;
	int stopping;                  /* backends being stopped */
	int done;
	int64_t drain_deadline;
	uint64_t drain_timer;
	uint64_t final_timer;

	struct rp_buf scratch;         /* replies are encoded here */
	struct metrics_queue mq;       /* METRICS answered in turns (admin.c) */

	/* backends (backend.c) */
	struct bkey *keys;
	size_t nkeys;
	struct dying *dying;
	struct bpipe *bpipes;          /* backends' output (children.c) */
	size_t nbpipes;
	struct bout_series *bout_series;
	size_t nbout_series;

	struct defs defs;
	struct ratelimit rl;
	struct metrics m;
	struct counters count;
	struct events ev;
	struct rp_token_store *tokens; /* handoff tokens issued, pending */

	/* standard error once serving (broker.c, logq.h) */
	int log_on;                    /* cli_warn's lines go to log */
	int log_watched;               /* log.fd polled for writability */
	struct logq log;
};

/* fds in use by what the broker counts (clients, probes, handoff
 * connections, and what it had open when it started). */
size_t broker_fds_in_use(const struct broker *b);
/* fd pressure (code 9 for Hellos): above 90 % of the soft limit, or out
 * of fds at accept and not yet recovered. */
int broker_fd_pressure(const struct broker *b);
/* nfd open over the soft limit (0 when either is unknown). */
double broker_fd_ratio(const struct broker *b, int nfd);
/* Accepting Hellos: listening and not draining. */
int broker_accepting(const struct broker *b);
/* READYZ and the ready gauge: not draining, no fd pressure, not at
 * --max-clients with nothing to evict. */
int broker_ready(const struct broker *b);
/* Our own user or one of --allow-uid (rp_peercred_allowed). */
int broker_peer_allowed(const struct broker *b, const struct rp_peercred *pc);

/* Stop taking connections and answer what was accepted, then stop the
 * backends and leave the loop; deadline_ms bounds all of it. */
void broker_begin_drain(struct broker *b, int64_t deadline_ms,
    const char *why);
/* After anything that may end a drain stage (a connection closed, a
 * spawn settled, a child reaped): go on to the next stage. */
void broker_check_drained(struct broker *b);
/* The signals the broker handles: SIGTERM, SIGINT (drain), SIGHUP
 * (reopen --events, forget the definitions), SIGCHLD. */
void broker_signal(struct rp_loop *loop, int signo, void *arg);

/* From now on, standard error (cli_warn, --events -) goes through a
 * bounded queue that never blocks the loop; broker_log_end writes what
 * is left, waiting at most deadline_ms, and goes back to plain stderr. */
void broker_log_start(struct broker *b);
void broker_log_end(struct broker *b, int64_t deadline_ms);

#endif
