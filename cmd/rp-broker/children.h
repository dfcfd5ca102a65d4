/*
 * children.h — the processes rp-broker starts for spawned backends: their
 * environment, starting, stopping and reaping.  A stopped child is kept
 * on the dying list (SIGKILL after RP_SPAWN_STOP_GRACE_MS) until it is
 * reaped; a spawned backend that ends is reported to backend.c.
 */
#ifndef RP_BROKER_CHILDREN_H
#define RP_BROKER_CHILDREN_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "bout.h"
#include "rp.h"

struct bkey;
struct broker;

/* How often at most the bytes dropped from one backend's output are said
 * (and once more when its output ends). */
#define BPIPE_REPORT_MS 1000
/* At most this much of one backend's output is read per turn of the
 * loop, so that a flood does not keep the broker from its clients. */
#define BPIPE_TURN_MAX 65536

/* A spawned backend's stdout and stderr: a pipe the loop reads, to the
 * broker's log as whole lines under a budget (bout.h).  Kept until the
 * end of its output, which may outlast the backend (a descendant holding
 * it). */
struct bpipe {
	struct bpipe *next;
	struct broker *b;
	int fd;
	pid_t pid;
	char service[RP_NAME_MAX + 1];
	uint64_t report_timer;
	uint64_t counted;              /* of out.dropped_total, in the metric */
	struct bout out;
};

/* Bytes dropped from the output of a service's backends (the metric
 * backend_output_dropped_bytes); past BOUT_SERIES_MAX services, under
 * "~other". */
#define BOUT_SERIES_MAX 1536
struct bout_series {
	struct bout_series *next;
	char service[RP_NAME_MAX + 1];
	uint64_t dropped;
};

/* A child we stopped or gave up on, waiting to be reaped. */
struct dying {
	struct dying *next;
	pid_t pid;
	int reason;                    /* event kind when it is reaped */
	char service[RP_NAME_MAX + 1];
	char pipe[RP_SUN_PATH_MAX];
	char hpipe[RP_SUN_PATH_MAX];
	uint64_t kill_timer;
	int killed;                    /* SIGKILL sent */
};

/* Start k->binary in its own process group, its environment ours plus
 * k's endpoints, instance and f's trace context: its pid (it has
 * exec'd), or -1 with why. */
pid_t children_start(struct broker *b, struct bkey *k, const Rp__Frame *f,
    char *why, size_t whysz);

/* Stop k's child k->pid: SIGTERM to its group now, SIGKILL after a
 * grace; when it is reaped, reason (an EventKind) is reported. */
void children_stop(struct broker *b, const struct bkey *k, int reason);

/* SIGCHLD: a spawned backend that ended goes to bkey_ended; a stopped
 * child is reported and forgotten. */
void children_sigchld(struct broker *b);

/* Without the loop: wait for the dying (SIGKILL after the grace, then as
 * long again), reap and report them; one that outlasts that is left,
 * and said. */
void children_wait_all(struct broker *b);

/* The end of the backends' output: what is left in each pipe (within a
 * bound) goes to the log, and the pipes are closed.  After
 * children_wait_all, before the log ends. */
void children_output_end(struct broker *b);

/* Forget the dying and the output counters (the end). */
void children_free(struct broker *b);

/* At start: remove the backend endpoints in our private directory that
 * nobody listens on (left by a broker that was killed; its backends died
 * with it): sockets named as ours (rpb-v1-{hash16}-be-/-ho-...sock),
 * owned by our uid, refusing a connect, and bound by no live socket.
 * Another broker's live ones answer a connect, and its starting ones are
 * bound: both are left. */
void children_sweep(struct broker *b);

/* Remove a backend's endpoint, a socket in our private directory. */
void children_remove_endpoint(const char *path);

/* "exited with status N", "killed by SIGX". */
void children_describe(char *out, size_t outsz,
    const struct rp_spawn_status *st);

#endif
