/*
 * backend.c — the backend table: static backends (registered with -b) and
 * spawned ones (started from a service definition), one spawn in flight
 * per key with a budget per window, the spawned backend's environment,
 * deaths noticed through SIGCHLD, and stopping everything on shutdown.
 *
 * This file owns a key's state (bkey_set_state is its one writer):
 *
 *	static:  IDLE (in doubt) -> PROBING -> LIVE, or back to IDLE
 *	spawned: IDLE -> SPAWNING -> LIVE -> IDLE (it died, or was stopped)
 *	                          \-> IDLE (the spawn failed)
 *
 * Asking a backend who it is is probe.c's; its answer comes back here
 * (bkey_verified), where spawn successes and failures are both handled.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"



#define KEYS_MAX 1024


const char *
bkey_state_name(const struct bkey *k)
{
	if (k->stopped != 0 && k->pid > 0)
		return "stopped";
	switch (k->state) {
	case BKEY_SPAWNING:
		return "spawning";
	case BKEY_LIVE:
		return "live";
	case BKEY_PROBING:
		return "probing";
	default:
		return k->kind == BKEY_STATIC ? "unverified" : "idle";
	}
}

/* ---------------------------------------------------------------- keys */

int
bkey_healthy(const struct bkey *k)
{
	if (k->kind == BKEY_STATIC)
		return k->state == BKEY_LIVE || (k->state == BKEY_PROBING &&
		    k->last_probe_ok == 1);
	return k->state == BKEY_LIVE && k->stopped == 0;
}

static void
bkey_set_state(struct bkey *k, enum bkey_state st)
{
	k->state = (uint8_t)st;
}

struct bkey *
bkey_find(struct broker *b, const char *service, const char *version,
    int kind)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->kind == kind && strcmp(k->service, service) == 0 &&
		    strcmp(k->version, version) == 0)
			return k;
	return NULL;
}

int
bkey_static_service(struct broker *b, const char *service)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->kind == BKEY_STATIC && strcmp(k->service, service) == 0)
			return 1;
	return 0;
}

static struct bkey *
bkey_new(struct broker *b, const char *service, const char *version,
    int kind)
{
	struct bkey *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->b = b;
	k->kind = (uint8_t)kind;
	rp_utf8_fmt(k->service, sizeof(k->service), "%s", service);
	rp_utf8_fmt(k->version, sizeof(k->version), "%s", version);
	k->probe.fd = -1;
	k->ho.fd = -1;
	k->event_backend = (uint8_t)b->cfg.handoff_event_backend;
	k->last_probe_ok = -1;
	k->next = b->keys;
	b->keys = k;
	b->nkeys++;
	return k;
}

/* A spawned key with nothing running, waiting or in flight. */
static int
key_idle(const struct bkey *k)
{
	return k->kind == BKEY_SPAWNED && k->state == BKEY_IDLE &&
	    k->nwaiters == 0 && k->pid == 0 && k->hrefs == 0 && k->ho.fd < 0;
}

/* Unlink the key at *pp and free it. */
static void
key_drop(struct broker *b, struct bkey **pp)
{
	struct bkey *k = *pp;

	*pp = k->next;
	handoff_key_free(k);
	free(k);
	b->nkeys--;
}

/* Forget one idle spawned key whose budget window is over: many versions
 * of a service asked for once each must not grow the table forever. */
static int
bkey_prune(struct broker *b)
{
	int64_t now = rp_loop_now(b->loop);
	int64_t window = (int64_t)b->cfg.budget.secs * 1000;
	struct bkey **pp;

	for (pp = &b->keys; *pp != NULL; pp = &(*pp)->next) {
		if (!key_idle(*pp) || window_open(&(*pp)->budget, now, window))
			continue;
		key_drop(b, pp);
		return 0;
	}
	return -1;
}

void
bkey_forget_unused(struct broker *b, struct bkey *k)
{
	struct bkey **pp;
	size_t i;

	if (!key_idle(k) || k->spawn_ok != 0 || k->spawn_failed != 0 ||
	    k->negotiated != 0 || k->deaths != 0 || k->last_probe_ok != -1)
		return;
	for (i = 0; i < HANDOFF_OUTCOMES; i++)
		if (k->handoffs[i] != 0)
			return;
	for (pp = &b->keys; *pp != NULL && *pp != k; pp = &(*pp)->next)
		;
	if (*pp != NULL)
		key_drop(b, pp);
}

struct bkey *
bkey_get(struct broker *b, const char *service, const char *version)
{
	struct bkey *k = bkey_find(b, service, version, BKEY_SPAWNED);

	if (k != NULL)
		return k;
	if (b->nkeys >= KEYS_MAX && bkey_prune(b) < 0) {
		errno = ENOSPC;
		return NULL;
	}
	return bkey_new(b, service, version, BKEY_SPAWNED);
}

uint32_t
bkey_running(const struct broker *b, const char *service)
{
	const struct bkey *k;
	uint32_t n = 0;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->kind == BKEY_SPAWNED && k->pid > 0 &&
		    strcmp(k->service, service) == 0)
			n++;
	return n;
}

void
bkey_enqueue(struct bkey *k, struct conn *c)
{
	c->key = k;
	c->wnext = NULL;
	if (k->wait_tail != NULL)
		k->wait_tail->wnext = c;
	else
		k->wait_head = c;
	k->wait_tail = c;
	k->nwaiters++;
}

void
bkey_unqueue(struct bkey *k, struct conn *c)
{
	struct conn **pp, *prev = NULL;

	for (pp = &k->wait_head; *pp != NULL; pp = &(*pp)->wnext) {
		if (*pp != c) {
			prev = *pp;
			continue;
		}
		*pp = c->wnext;
		if (k->wait_tail == c)
			k->wait_tail = prev;
		k->nwaiters--;
		break;
	}
	c->wnext = NULL;
	c->key = NULL;
}

/* Answer every waiter of k (the list is taken first: answering closes
 * connections, which may start the next stage of a drain). */
void
bkey_answer_all(struct broker *b, struct bkey *k, enum rp_refusal id,
    const char *detail, uint64_t retry)
{
	struct conn *c = k->wait_head, *n;

	k->wait_head = k->wait_tail = NULL;
	k->nwaiters = 0;
	for (; c != NULL; c = n) {
		n = c->wnext;
		c->wnext = NULL;
		c->key = NULL;
		hello_answer_waiter(b, c, k, id, detail, retry);
	}
}

/* ------------------------------------------------------------- budget */

uint32_t
bkey_budget_left(struct broker *b, struct bkey *k, uint64_t *retry_ms)
{
	return window_left(&k->budget, rp_loop_now(b->loop),
	    (int64_t)b->cfg.budget.secs * 1000, b->cfg.budget.n, retry_ms);
}

int
bkey_budget_take(struct broker *b, struct bkey *k, uint64_t *retry_ms)
{
	return window_take(&k->budget, rp_loop_now(b->loop),
	    (int64_t)b->cfg.budget.secs * 1000, b->cfg.budget.n, retry_ms);
}

/* ------------------------------------------------------- state changes */

/* Stop k's child (reaped later, reported as reason); k is idle. */
static void
bkey_stop(struct broker *b, struct bkey *k, int reason)
{
	if (k->pid <= 0)
		return;
	handoff_key_close(b, k, reason ==
	    RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN ? HANDOFF_SHUTDOWN :
	    HANDOFF_BACKEND_GONE, "the backend is being stopped");
	children_stop(b, k, reason);
	k->pid = 0;
	k->stopped = 0;
	bkey_set_state(k, BKEY_IDLE);
}

/* A spawn attempt that was announced failed: counted, said, an event. */
static void
report_spawn_failure(struct broker *b, struct bkey *k, const char *why)
{
	struct ev_kv extra[1] = { { "outcome", "failure" } };
	char r[700];

	k->spawn_failed++;
	rp_utf8_fmt(r, sizeof(r), "spawn of %s@%s failed: %s", k->service,
	    k->version, why);
	cli_warn("%s", r);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, EV_ERROR,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 1);
}

/* The spawn failed, whenever it did (before, at, or after exec; its
 * identity not verified in time): its waiters are told why. */
static void
bkey_spawn_failed(struct broker *b, struct bkey *k, const char *why)
{
	probe_close(b, k);
	report_spawn_failure(b, k, why);
	/* Stopped by us, not a crash: the failure above says it all. */
	if (k->pid > 0)
		bkey_stop(b, k, RP__EVENT_KIND__EVENT_KIND_UNSPECIFIED);
	bkey_set_state(k, BKEY_IDLE);
	bkey_answer_all(b, k, RP_REFUSE_SPAWN_FAILED, why, 0);
	broker_check_drained(b);
}

/* The spawned backend proved to be the process we started: it is live,
 * and its waiters are negotiated. */
static void
bkey_spawn_succeeded(struct broker *b, struct bkey *k)
{
	char r[400], ms[24], pid[16];
	struct ev_kv extra[3];
	int64_t took = rp_loop_now(b->loop) - k->spawn_t0_ms;

	bkey_set_state(k, BKEY_LIVE);
	k->verified_ms = rp_loop_now(b->loop);
	k->started_wall_ms = rp_wall_ms();
	k->spawn_ok++;
	/* A success starts the budget over. */
	window_reset(&k->budget);
	rp_utf8_fmt(r, sizeof(r), "backend %s@%s is pid %ld on %s", k->service,
	    k->version, (long)k->pid, k->pipe);
	rp_utf8_fmt(ms, sizeof(ms), "%" PRId64, took);
	rp_utf8_fmt(pid, sizeof(pid), "%ld", (long)k->pid);
	extra[0] = (struct ev_kv){ "outcome", "success" };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	extra[2] = (struct ev_kv){ "spawn_ms", ms };
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SPAWN, EV_INFO,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 3);
	bkey_answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	broker_check_drained(b);
}

/* A static backend's probe: live (it may have been restarted, with
 * another pid), or not to be offered until it proves itself again. */
static void
bkey_static_verified(struct broker *b, struct bkey *k, int ok,
    const char *detail, uint32_t pid)
{
	char why[400];

	if (ok) {
		bkey_set_state(k, BKEY_LIVE);
		k->verified_ms = rp_loop_now(b->loop);
		if (pid != 0)
			k->pid = (pid_t)pid;
		bkey_answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	} else {
		bkey_set_state(k, BKEY_IDLE);
		rp_utf8_fmt(why, sizeof(why), "static backend %s failed its "
		    "identity probe: %s", k->pipe, detail);
		cli_warn("%s@%s: %s", k->service, k->version, why);
		bkey_answer_all(b, k, RP_REFUSE_SPAWN_FAILED, why, 0);
	}
	broker_check_drained(b);
}

void
bkey_verified(struct broker *b, struct bkey *k, int ok, const char *why,
    uint32_t pid)
{
	if (k->kind == BKEY_STATIC)
		bkey_static_verified(b, k, ok, why, pid);
	else if (ok)
		bkey_spawn_succeeded(b, k);
	else
		bkey_spawn_failed(b, k, why);
}

int
bkey_needs_probe(struct broker *b, struct bkey *k)
{
	return k->kind == BKEY_STATIC && (k->state != BKEY_LIVE ||
	    rp_loop_now(b->loop) - k->verified_ms >= b->cfg.probe_interval_ms);
}

void
bkey_verify(struct broker *b, struct bkey *k)
{
	if (k->state == BKEY_PROBING)
		return;
	bkey_set_state(k, BKEY_PROBING);
	probe_once(b, k);
}

int
backends_add_static(struct broker *b, const struct config_static *s,
    char *why, size_t whysz)
{
	struct rp_probe_report *rep;
	struct bkey *k;

	rep = calloc(1, sizeof(*rep));
	if (rep == NULL) {
		rp_utf8_fmt(why, whysz, "out of memory");
		return -1;
	}
	if (rp_probe(s->endpoint, NULL, rp_deadline_in(b->cfg.probe_timeout_ms),
	    rep) != RP_PROBE_OK) {
		if (rep->field != NULL)
			rp_utf8_fmt(why, whysz, "identity mismatch: %s: %s",
			    rep->field, rep->detail);
		else
			rp_utf8_fmt(why, whysz, "identity probe failed: %s",
			    rep->detail);
		free(rep);
		return -1;
	}
	if ((k = bkey_new(b, s->service, s->version, BKEY_STATIC)) == NULL) {
		free(rep);
		rp_utf8_fmt(why, whysz, "out of memory");
		return -1;
	}
	rp_utf8_fmt(k->pipe, sizeof(k->pipe), "%s", s->endpoint);
	rp_utf8_fmt(k->hpipe, sizeof(k->hpipe), "%s", s->handoff);
	rp_utf8_fmt(k->binary, sizeof(k->binary), "%s", rep->id.exe_path);
	k->pid = (pid_t)rep->id.pid;
	bkey_set_state(k, BKEY_LIVE);
	k->verified_ms = rp_now_ms();
	k->started_wall_ms = rp_wall_ms();
	probe_record(k, 1, "verified");
	free(rep);
	return 0;
}

int
bkey_spawn(struct broker *b, struct bkey *k, const Rp__ServiceDefinition *def,
    const Rp__Frame *f, char *why, size_t whysz)
{
	struct ev_kv extra[2];
	uint8_t rnd[16];
	char bwhy[512], r[600];
	pid_t pid;

	if (rp_servicedef_binary(def, k->version, k->binary,
	    sizeof(k->binary), bwhy, sizeof(bwhy)) < 0) {
		rp_utf8_fmt(why, whysz, "%s", bwhy);
		return -1;
	}
	rp_token_generate(rnd);
	if (b->dir[0] == '\0' || rp_sock_backend_endpoint(k->pipe,
	    sizeof(k->pipe), b->dir, b->hash16, rnd, 0) < 0) {
		rp_utf8_fmt(why, whysz,
		    "no room for a backend endpoint in %s: %s",
		    b->dir[0] ? b->dir : "(no private directory)",
		    strerror(errno));
		k->pipe[0] = '\0';
		return -1;
	}
	k->hpipe[0] = '\0';
	if (b->cfg.handoff) {
		rp_token_generate(rnd);
		if (rp_sock_backend_endpoint(k->hpipe, sizeof(k->hpipe),
		    b->dir, b->hash16, rnd, 1) < 0) {
			cli_warn("%s@%s: no handoff endpoint (%s); its clients "
			    "reconnect", k->service, k->version,
			    strerror(errno));
			k->hpipe[0] = '\0';
		}
	}
	extra[0] = (struct ev_kv){ "binary", k->binary };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	rp_utf8_fmt(r, sizeof(r), "starting %s for %s@%s", k->binary,
	    k->service, k->version);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, EV_INFO,
	    k->service, r, NULL, 0, 0, extra, 2);

	if ((pid = children_start(b, k, f, why, whysz)) < 0) {
		report_spawn_failure(b, k, why);
		return -1;
	}
	k->pid = pid;
	bkey_set_state(k, BKEY_SPAWNING);
	k->spawn_t0_ms = rp_loop_now(b->loop);
	k->spawn_deadline = k->spawn_t0_ms + b->cfg.spawn_timeout_ms;
	if (probe_spawned(b, k) < 0) {
		rp_utf8_fmt(why, whysz, "cannot arm a timer");
		bkey_spawn_failed(b, k, why);
		return -1;
	}
	return 0;
}

size_t
backends_in_flight(const struct broker *b)
{
	const struct bkey *k;
	size_t n = 0;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->state == BKEY_SPAWNING || k->state == BKEY_PROBING)
			n++;
	return n;
}

void
bkey_stopped(struct broker *b, struct bkey *k, int signo)
{
	char sig[16];

	(void)b;
	if ((signo != 0) == (k->stopped != 0))
		return;
	k->stopped = signo;
	if (signo != 0)
		cli_warn("backend %s@%s (pid %ld) was stopped by %s; it is not "
		    "handed out until it continues", k->service, k->version,
		    (long)k->pid, rp_spawn_signame(signo, sig));
	else
		cli_warn("backend %s@%s (pid %ld) continued", k->service,
		    k->version, (long)k->pid);
}

void
bkey_ended(struct broker *b, struct bkey *k, const struct rp_spawn_status *st)
{
	char how[64], r[400], pid[16];
	struct ev_kv extra[1];
	int kind;

	k->stopped = 0;
	children_describe(how, sizeof(how), st);
	rp_utf8_fmt(pid, sizeof(pid), "%ld", (long)k->pid);
	rp_utf8_fmt(r, sizeof(r), "the backend %s", how);
	handoff_key_close(b, k, HANDOFF_BACKEND_GONE, r);
	children_remove_endpoint(k->hpipe);
	if (k->state == BKEY_SPAWNING) {
		/* Reaped already: nothing left to stop but its group. */
		(void)rp_spawn_kill(k->pid, SIGTERM, 1);
		k->pid = 0;
		children_remove_endpoint(k->pipe);
		rp_utf8_fmt(r, sizeof(r), "the backend %s before it was ready",
		    how);
		bkey_spawn_failed(b, k, r);
		return;
	}
	kind = b->stopping ? RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN :
	    RP__EVENT_KIND__EVENT_KIND_DIED_CRASH;
	if (kind == RP__EVENT_KIND__EVENT_KIND_DIED_CRASH)
		b->count.deaths_crash++;
	else
		b->count.deaths_shutdown++;
	k->deaths++;
	rp_utf8_fmt(r, sizeof(r), "backend %s@%s (pid %s) %s", k->service,
	    k->version, pid, how);
	cli_warn("%s", r);
	extra[0] = (struct ev_kv){ "backend_pipe", k->pipe };
	events_emit(&b->ev, (uint32_t)kind, kind ==
	    RP__EVENT_KIND__EVENT_KIND_DIED_CRASH ? EV_ERROR : EV_INFO,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 1);
	/* What it left behind in its group goes with it. */
	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	children_remove_endpoint(k->pipe);
	k->pid = 0;
	bkey_set_state(k, BKEY_IDLE);
}

void
backends_cancel_spawns(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next) {
		if (k->state != BKEY_SPAWNING && k->state != BKEY_PROBING)
			continue;
		probe_close(b, k);
		if (k->kind == BKEY_SPAWNED) {
			k->spawn_failed++;
			bkey_stop(b, k,
			    RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN);
		}
		bkey_set_state(k, BKEY_IDLE);
		bkey_answer_all(b, k, RP_REFUSE_SHUTTING_DOWN, NULL, 0);
	}
}

void
backends_stop_all(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BKEY_SPAWNED || k->pid <= 0)
			continue;
		probe_close(b, k);
		bkey_stop(b, k, RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN);
	}
}

/*
 * Without the loop (after it, or when it failed): stop what is still
 * running and reap it here (children_wait_all).
 */
void
backends_stop_now(struct broker *b)
{
	backends_stop_all(b);
	children_wait_all(b);
}

void
backends_free(struct broker *b)
{
	struct bkey *k;

	while ((k = b->keys) != NULL) {
		b->keys = k->next;
		handoff_key_free(k);
		free(k);
	}
	b->nkeys = 0;
	children_free(b);
}
