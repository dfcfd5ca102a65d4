/*
 * backend.h — the backend table.  A backend key is (this broker's
 * instance, service, version): a static one registered with -b, or a
 * spawned one started from a service definition.  backend.c owns a key's
 * state; Hellos that need a key's backend wait on the key and are
 * answered together when its fate is known.
 */
#ifndef RP_BROKER_BACKEND_H
#define RP_BROKER_BACKEND_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "handoff.h"
#include "probe.h"
#include "rp.h"
#include "window.h"

struct broker;
struct conn;

enum bkey_kind {
	BKEY_SPAWNED = 0,
	BKEY_STATIC,
};

enum bkey_state {
	BKEY_IDLE = 0,     /* nothing running (spawned), in doubt (static) */
	BKEY_SPAWNING,     /* child started, waiting for its identity */
	BKEY_LIVE,         /* verified and serving */
	BKEY_PROBING,      /* static: re-verifying before use */
};

/*
 * A backend key.  A key outlives the processes spawned for it, so its
 * spawn budget and counters persist.
 */
struct bkey {
	struct bkey *next;
	struct broker *b;
	char service[RP_NAME_MAX + 1];
	char version[RP_VERSION_MAX + 1];
	uint8_t kind;                  /* enum bkey_kind */
	uint8_t state;                 /* enum bkey_state */
	pid_t pid;                     /* child (spawned) or claimed (static) */
	int stopped;                   /* spawned: the signal that stopped its
	                                  child (SIGSTOP...), 0 when running */
	char pipe[RP_SUN_PATH_MAX];
	char hpipe[RP_SUN_PATH_MAX];   /* its handoff socket, or "" */
	char binary[PATH_MAX];

	int64_t started_wall_ms;       /* when it became live */
	int64_t last_active_wall_ms;   /* last Negotiated through it */
	int64_t verified_ms;           /* monotonic, last good probe */
	int64_t last_probe_wall_ms;
	int last_probe_ok;             /* -1 never, 0 failed, 1 ok */
	char last_probe_detail[256];

	/* spawn coordination */
	int64_t spawn_deadline;
	int64_t spawn_t0_ms;
	struct prober probe;
	struct conn *wait_head, *wait_tail;
	uint32_t nwaiters;
	struct window budget;          /* spawns in the --spawn-budget window */

	/* handoff */
	struct hconn ho;
	uint8_t event_backend;         /* the backend writes the event */
	uint32_t hrefs;                /* connections preparing a handoff */

	/* counters */
	uint64_t spawn_ok, spawn_failed, negotiated;
	uint64_t deaths;
	uint64_t handoffs[HANDOFF_OUTCOMES];
	uint64_t refusals[REFUSALS];    /* the refused ones, by reason */
};

/* ---------------------------------------------------------------- keys */

/* The key of kind for service@version, or NULL. */
struct bkey *bkey_find(struct broker *b, const char *service,
    const char *version, int kind);
/* The spawned key for service@version, made if need be: NULL with
 * ENOSPC (the table is full of keys in use) or ENOMEM. */
struct bkey *bkey_get(struct broker *b, const char *service,
    const char *version);
/* 1 when -b registered some version of service. */
int bkey_static_service(struct broker *b, const char *service);

/* k made for a Hello and never used after all (refused before anything
 * ran: nothing spawned, probed, negotiated or counted): forgotten, so it
 * is no series in METRICS and no row in backend-health. */
void bkey_forget_unused(struct broker *b, struct bkey *k);
/* "idle", "spawning", "live", "probing" ("unverified": a static key in
 * doubt), "stopped" (a spawned backend stopped by a signal). */
const char *bkey_state_name(const struct bkey *k);
/* Fit to be offered: live and not stopped (a static one being
 * re-verified counts while its last probe was good). */
int bkey_healthy(const struct bkey *k);

/* How many spawned backends of service are running (starting, live or
 * stopped), against --max-backends. */
uint32_t bkey_running(const struct broker *b, const char *service);

/* The Hellos waiting for k's backend. */
void bkey_enqueue(struct bkey *k, struct conn *c);
void bkey_unqueue(struct bkey *k, struct conn *c);
/* Answer every waiter of k: negotiated (RP_REFUSE_NONE) or refused. */
void bkey_answer_all(struct broker *b, struct bkey *k, enum rp_refusal id,
    const char *detail, uint64_t retry);

/* The spawn budget: what is left (and *retry_ms until the window
 * closes), and taking one (-1 with *retry_ms when it is spent). */
uint32_t bkey_budget_left(struct broker *b, struct bkey *k,
    uint64_t *retry_ms);
int bkey_budget_take(struct broker *b, struct bkey *k, uint64_t *retry_ms);

/* ------------------------------------------------------- state changes */

/* Start def's program for k (f's trace context goes to its
 * environment): 0 with k SPAWNING, or -1 with why (k stays IDLE; a
 * failure after the attempt was announced is reported). */
int bkey_spawn(struct broker *b, struct bkey *k,
    const Rp__ServiceDefinition *def, const Rp__Frame *f, char *why,
    size_t whysz);

/* The verdict of k's identity probe (probe.c): verified (pid: the one
 * that answered), or why not; k's state follows and its waiters are
 * answered. */
void bkey_verified(struct broker *b, struct bkey *k, int ok,
    const char *why, uint32_t pid);

/* A static key to verify before use: in doubt, or verified too long ago. */
int bkey_needs_probe(struct broker *b, struct bkey *k);
/* Verify static k now (its waiters are answered when the verdict comes). */
void bkey_verify(struct broker *b, struct bkey *k);

/* k's child was stopped by signal signo, or continued (signo 0): a
 * stopped backend is not handed out (children.c saw it). */
void bkey_stopped(struct broker *b, struct bkey *k, int signo);

/* k's child ended as st says (children.c reaps it right after). */
void bkey_ended(struct broker *b, struct bkey *k,
    const struct rp_spawn_status *st);

/* ------------------------------------------------------------ the table */

/* Register a -b backend, verified now (synchronously: before serving):
 * 0, or -1 with why. */
int backends_add_static(struct broker *b, const struct config_static *s,
    char *why, size_t whysz);
/* Keys spawning or probing (a drain waits for them). */
size_t backends_in_flight(const struct broker *b);
/* Spawns and probes in flight fail (their waiters hear code 5). */
void backends_cancel_spawns(struct broker *b);
/* SIGTERM every spawned backend (SIGKILL after a grace, on the loop). */
void backends_stop_all(struct broker *b);
/* The same without the loop, reaping here (the way out). */
void backends_stop_now(struct broker *b);
/* Free every key and every record of the dying. */
void backends_free(struct broker *b);

#endif
