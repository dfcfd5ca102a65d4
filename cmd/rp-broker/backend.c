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
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"



#define KEYS_MAX 1024
#define ENV_PREFIX "RUNNING_PROCESS_BROKER_V1_"


const char *
bkey_state_name(const struct bkey *k)
{
	switch (k->state) {
	case BS_SPAWNING:
		return "spawning";
	case BS_LIVE:
		return "live";
	case BS_PROBING:
		return "probing";
	default:
		return k->kind == BK_STATIC ? "unverified" : "idle";
	}
}

/* ---------------------------------------------------------------- keys */

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
		if (k->kind == BK_STATIC && strcmp(k->service, service) == 0)
			return 1;
	return 0;
}

struct bkey *
bkey_new(struct broker *b, const char *service, const char *version,
    int kind)
{
	struct bkey *k = calloc(1, sizeof(*k));

	if (k == NULL)
		return NULL;
	k->b = b;
	k->kind = (uint8_t)kind;
	fmt(k->service, sizeof(k->service), "%s", service);
	fmt(k->version, sizeof(k->version), "%s", version);
	k->probe.fd = -1;
	k->ho.fd = -1;
	k->event_backend = (uint8_t)b->cfg.handoff_event_backend;
	k->last_probe_ok = -1;
	k->next = b->keys;
	b->keys = k;
	b->nkeys++;
	return k;
}

/* Forget one idle spawned key whose budget window is over: many versions
 * of a service asked for once each must not grow the table forever. */
static int
bkey_prune(struct broker *b)
{
	int64_t now = rp_loop_now(b->loop);
	int64_t window = (int64_t)b->cfg.budget_secs * 1000;
	struct bkey **pp, *k;

	for (pp = &b->keys; (k = *pp) != NULL; pp = &k->next) {
		if (k->kind != BK_SPAWNED || k->state != BS_IDLE ||
		    k->nwaiters != 0 || k->pid != 0 || k->hrefs != 0 ||
		    k->ho.fd >= 0 || window_open(&k->budget, now, window))
			continue;
		*pp = k->next;
		handoff_key_free(k);
		free(k);
		b->nkeys--;
		return 0;
	}
	return -1;
}

struct bkey *
bkey_get(struct broker *b, const char *service, const char *version)
{
	struct bkey *k = bkey_find(b, service, version, BK_SPAWNED);

	if (k != NULL)
		return k;
	if (b->nkeys >= KEYS_MAX && bkey_prune(b) < 0) {
		errno = ENOSPC;
		return NULL;
	}
	return bkey_new(b, service, version, BK_SPAWNED);
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
	    (int64_t)b->cfg.budget_secs * 1000, b->cfg.budget_n, retry_ms);
}

int
bkey_budget_take(struct broker *b, struct bkey *k, uint64_t *retry_ms)
{
	return window_take(&k->budget, rp_loop_now(b->loop),
	    (int64_t)b->cfg.budget_secs * 1000, b->cfg.budget_n, retry_ms);
}

/* -------------------------------------------------------- processes */

static void
remove_endpoint(const char *path)
{
	struct stat st;

	/* Our own private directory; only ever a socket file. */
	if (path[0] != '\0' && lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		(void)unlink(path);
}

static void
kill_timer_cb(struct rp_loop *loop, void *arg)
{
	struct dying *y = arg;

	(void)loop;
	y->kill_timer = 0;
	y->killed = 1;
	(void)rp_spawn_kill(y->pid, SIGKILL, 1);
	(void)rp_spawn_kill(y->pid, SIGKILL, 0);
}

/* Stop k's child: SIGTERM to its process group now, SIGKILL after a
 * grace; it is reaped by backends_sigchld. */
static void
to_dying(struct broker *b, struct bkey *k, int reason)
{
	struct dying *y;

	if (k->pid <= 0)
		return;
	handoff_key_close(b, k, reason ==
	    RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN ? HO_SHUTDOWN :
	    HO_BACKEND_GONE, "the backend is being stopped");
	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	y = calloc(1, sizeof(*y));
	if (y == NULL) {
		/* No room to wait politely. */
		(void)rp_spawn_kill(k->pid, SIGKILL, 1);
		(void)rp_spawn_wait(k->pid, 0, NULL);
		remove_endpoint(k->pipe);
		remove_endpoint(k->hpipe);
	} else {
		y->pid = k->pid;
		y->reason = reason;
		fmt(y->service, sizeof(y->service), "%s", k->service);
		fmt(y->pipe, sizeof(y->pipe), "%s", k->pipe);
		fmt(y->hpipe, sizeof(y->hpipe), "%s", k->hpipe);
		y->kill_timer = rp_loop_timer(b->loop, rp_loop_now(b->loop) +
		    RP_SPAWN_STOP_GRACE_MS, kill_timer_cb, y);
		y->next = b->dying;
		b->dying = y;
	}
	k->pid = 0;
	bkey_set_state(k, BS_IDLE);
}

/* A spawn attempt that was announced failed: counted, said, an event. */
static void
report_spawn_failure(struct broker *b, struct bkey *k, const char *why)
{
	struct ev_kv extra[1] = { { "outcome", "failure" } };
	char r[700];

	k->spawn_failed++;
	fmt(r, sizeof(r), "spawn of %s@%s failed: %s", k->service,
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
	if (k->pid > 0)
		to_dying(b, k, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH);
	bkey_set_state(k, BS_IDLE);
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

	bkey_set_state(k, BS_LIVE);
	k->verified_ms = rp_loop_now(b->loop);
	k->started_wall_ms = rp_wall_ms();
	k->spawn_ok++;
	/* A success starts the budget over. */
	window_reset(&k->budget);
	fmt(r, sizeof(r), "backend %s@%s is pid %ld on %s", k->service,
	    k->version, (long)k->pid, k->pipe);
	fmt(ms, sizeof(ms), "%" PRId64, took);
	fmt(pid, sizeof(pid), "%ld", (long)k->pid);
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
		bkey_set_state(k, BS_LIVE);
		k->verified_ms = rp_loop_now(b->loop);
		if (pid != 0)
			k->pid = (pid_t)pid;
		bkey_answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	} else {
		bkey_set_state(k, BS_IDLE);
		fmt(why, sizeof(why), "static backend %s failed its "
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
	if (k->kind == BK_STATIC)
		bkey_static_verified(b, k, ok, why, pid);
	else if (ok)
		bkey_spawn_succeeded(b, k);
	else
		bkey_spawn_failed(b, k, why);
}

int
bkey_needs_probe(struct broker *b, struct bkey *k)
{
	return k->kind == BK_STATIC && (k->state != BS_LIVE ||
	    rp_loop_now(b->loop) - k->verified_ms >= b->cfg.probe_interval_ms);
}

void
bkey_verify(struct broker *b, struct bkey *k)
{
	if (k->state == BS_PROBING)
		return;
	bkey_set_state(k, BS_PROBING);
	probe_once(b, k);
}

int
backends_add_static(struct broker *b, const struct static_spec *s,
    char *why, size_t whysz)
{
	struct rp_probe_report *rep;
	struct bkey *k;

	rep = calloc(1, sizeof(*rep));
	if (rep == NULL) {
		fmt(why, whysz, "out of memory");
		return -1;
	}
	if (rp_probe(s->endpoint, NULL, rp_deadline_in(b->cfg.probe_timeout_ms),
	    rep) != RP_PROBE_OK) {
		if (rep->field != NULL)
			fmt(why, whysz, "identity mismatch: %s: %s",
			    rep->field, rep->detail);
		else
			fmt(why, whysz, "identity probe failed: %s",
			    rep->detail);
		free(rep);
		return -1;
	}
	if ((k = bkey_new(b, s->service, s->version, BK_STATIC)) == NULL) {
		free(rep);
		fmt(why, whysz, "out of memory");
		return -1;
	}
	fmt(k->pipe, sizeof(k->pipe), "%s", s->endpoint);
	fmt(k->hpipe, sizeof(k->hpipe), "%s", s->handoff);
	fmt(k->binary, sizeof(k->binary), "%s", rep->id.exe_path);
	k->pid = (pid_t)rep->id.pid;
	bkey_set_state(k, BS_LIVE);
	k->verified_ms = rp_now_ms();
	k->started_wall_ms = rp_wall_ms();
	probe_record(k, 1, "verified");
	free(rep);
	return 0;
}

/* The environment of a spawned backend: ours, less what belongs to us
 * alone (socket activation, the supervisor's notify socket) and less any
 * inherited value of the variables we set, plus those. */
static char **
spawn_env(struct broker *b, struct bkey *k, const Rp__Frame *f,
    struct rp_buf *store)
{
	static const char *const drop[] = { "LISTEN_PID=", "LISTEN_FDS=",
		"LISTEN_FDNAMES=", "NOTIFY_SOCKET=", ENV_PREFIX "SERVICE_NAME=",
		ENV_PREFIX "SERVICE_VERSION=", ENV_PREFIX "BACKEND_PIPE=",
		ENV_PREFIX "BACKEND_NAMESPACE=", ENV_PREFIX "INSTANCE=",
		ENV_PREFIX "TRACEPARENT=", ENV_PREFIX "TRACESTATE=",
		ENV_PREFIX "BROKER_PID=", ENV_PREFIX "HANDOFF_PIPE=",
		"RP_HANDOFF_EVENT=" };
	const char *inst;
	size_t n = 0, i, j, nours;
	char **env;
	int r = 0;

	inst = b->cfg.iso == RP_ISOLATION_SHARED ? "shared" :
	    b->cfg.instance_name;
	r |= rp_buf_printf(store, ENV_PREFIX "SERVICE_NAME=%s%c", k->service, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "SERVICE_VERSION=%s%c", k->version,
	    0);
	r |= rp_buf_printf(store, ENV_PREFIX "BACKEND_PIPE=%s%c", k->pipe, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "BACKEND_NAMESPACE=%s%c",
	    b->cfg.instance_id, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "INSTANCE=%s%c", inst, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "BROKER_PID=%ld%c", (long)b->pid,
	    0);
	nours = 6;
	if (k->hpipe[0] != '\0') {
		/* Where the broker hands connections over, and who tells the
		 * client (rp-handoff-recv reads RP_HANDOFF_EVENT). */
		r |= rp_buf_printf(store, ENV_PREFIX "HANDOFF_PIPE=%s%c",
		    k->hpipe, 0);
		r |= rp_buf_printf(store, "RP_HANDOFF_EVENT=%s%c",
		    k->event_backend ? "backend" : "broker", 0);
		nours += 2;
	}
	if (f != NULL && f->traceparent != NULL && f->traceparent[0] != '\0') {
		r |= rp_buf_printf(store, ENV_PREFIX "TRACEPARENT=%s%c",
		    f->traceparent, 0);
		nours++;
	}
	if (f != NULL && f->tracestate != NULL && f->tracestate[0] != '\0') {
		r |= rp_buf_printf(store, ENV_PREFIX "TRACESTATE=%s%c",
		    f->tracestate, 0);
		nours++;
	}
	if (r != 0)
		return NULL;
	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + nours + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0, j = 0; i < n; i++) {
		size_t d;

		for (d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				break;
		if (d == sizeof(drop) / sizeof(drop[0]))
			env[j++] = environ[i];
	}
	/* The store does not move any more: point into it. */
	{
		char *s = (char *)store->data;
		size_t left = nours;

		while (left-- > 0) {
			env[j++] = s;
			s += strlen(s) + 1;
		}
	}
	env[j] = NULL;
	return env;
}

int
bkey_spawn(struct broker *b, struct bkey *k, const Rp__ServiceDefinition *def,
    const Rp__Frame *f, char *why, size_t whysz)
{
	struct rp_spawn_fd fds[3] = { { -1, 0 }, { 2, 1 }, { 2, 2 } };
	struct ev_kv extra[2];
	struct rp_spawn sp;
	struct rp_buf store = { 0 };
	uint8_t rnd[16];
	char bwhy[512], r[600];
	char *argv[2];
	char **env;
	int exec_failed = 0, err;
	pid_t pid;

	if (rp_servicedef_binary(def, k->version, k->binary,
	    sizeof(k->binary), bwhy, sizeof(bwhy)) < 0) {
		fmt(why, whysz, "%s", bwhy);
		return -1;
	}
	rp_token_generate(rnd);
	if (b->dir[0] == '\0' || rp_names_backend_endpoint(k->pipe,
	    sizeof(k->pipe), b->dir, b->hash16, rnd) < 0) {
		fmt(why, whysz, "no room for a backend endpoint in %s: %s",
		    b->dir[0] ? b->dir : "(no private directory)",
		    strerror(errno));
		k->pipe[0] = '\0';
		return -1;
	}
	k->hpipe[0] = '\0';
	if (b->cfg.handoff) {
		rp_token_generate(rnd);
		if (rp_names_backend_handoff(k->hpipe, sizeof(k->hpipe),
		    b->dir, b->hash16, rnd) < 0) {
			cli_warn("%s@%s: no handoff endpoint (%s); its clients "
			    "reconnect", k->service, k->version,
			    strerror(errno));
			k->hpipe[0] = '\0';
		}
	}
	extra[0] = (struct ev_kv){ "binary", k->binary };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	fmt(r, sizeof(r), "starting %s for %s@%s", k->binary, k->service,
	    k->version);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, EV_INFO,
	    k->service, r, NULL, 0, 0, extra, 2);

	env = spawn_env(b, k, f, &store);
	if (env == NULL) {
		rp_buf_free(&store);
		fmt(why, whysz, "out of memory");
		report_spawn_failure(b, k, why);
		return -1;
	}
	argv[0] = k->binary;
	argv[1] = NULL;
	memset(&sp, 0, sizeof(sp));
	sp.file = k->binary;
	sp.argv = argv;
	sp.envp = env;
	sp.fds = fds;
	sp.nfds = 3;
	/* Its own process group, so stopping it stops what it started. */
	sp.flags = RP_SPAWN_SETPGID;
	pid = rp_spawn(&sp, &exec_failed);
	err = errno;
	free(env);
	rp_buf_free(&store);
	if (pid < 0) {
		fmt(why, whysz, "%s %s: %s", exec_failed ?
		    "cannot execute" : "cannot start", k->binary, strerror(err));
		report_spawn_failure(b, k, why);
		return -1;
	}
	k->pid = pid;
	bkey_set_state(k, BS_SPAWNING);
	k->spawn_t0_ms = rp_loop_now(b->loop);
	k->spawn_deadline = k->spawn_t0_ms + b->cfg.spawn_timeout_ms;
	if (probe_spawned(b, k) < 0) {
		fmt(why, whysz, "cannot arm a timer");
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
		if (k->state == BS_SPAWNING || k->state == BS_PROBING)
			n++;
	return n;
}

static void
describe_status(char *out, size_t outsz, const struct rp_spawn_status *st)
{
	char sig[16];

	if (st->signo != 0)
		fmt(out, outsz, "killed by %s",
		    rp_spawn_signame(st->signo, sig));
	else
		fmt(out, outsz, "exited with status %d", st->code);
}

static void
child_ended(struct broker *b, struct bkey *k,
    const struct rp_spawn_status *st)
{
	char how[64], r[400], pid[16];
	struct ev_kv extra[1];
	int kind;

	describe_status(how, sizeof(how), st);
	fmt(pid, sizeof(pid), "%ld", (long)k->pid);
	fmt(r, sizeof(r), "the backend %s", how);
	handoff_key_close(b, k, HO_BACKEND_GONE, r);
	remove_endpoint(k->hpipe);
	if (k->state == BS_SPAWNING) {
		/* Reaped already: nothing left to stop but its group. */
		(void)rp_spawn_kill(k->pid, SIGTERM, 1);
		k->pid = 0;
		remove_endpoint(k->pipe);
		fmt(r, sizeof(r), "the backend %s before it was ready",
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
	fmt(r, sizeof(r), "backend %s@%s (pid %s) %s", k->service,
	    k->version, pid, how);
	cli_warn("%s", r);
	extra[0] = (struct ev_kv){ "backend_pipe", k->pipe };
	events_emit(&b->ev, (uint32_t)kind, kind ==
	    RP__EVENT_KIND__EVENT_KIND_DIED_CRASH ? EV_ERROR : EV_INFO,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 1);
	/* What it left behind in its group goes with it. */
	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	remove_endpoint(k->pipe);
	k->pid = 0;
	bkey_set_state(k, BS_IDLE);
}

void
backends_sigchld(struct broker *b)
{
	struct rp_spawn_status st;
	struct dying **pp, *y;
	struct bkey *k;
	char how[64], r[300];
	int rc;

	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BK_SPAWNED || k->pid <= 0)
			continue;
		rc = rp_spawn_wait(k->pid, RP_SPAWN_WAIT_NOHANG, &st);
		if (rc == 1)
			child_ended(b, k, &st);
	}
	for (pp = &b->dying; (y = *pp) != NULL;) {
		rc = rp_spawn_wait(y->pid, RP_SPAWN_WAIT_NOHANG, &st);
		if (rc == 0 || (rc < 0 && errno != ECHILD)) {
			pp = &y->next;
			continue;
		}
		*pp = y->next;
		if (y->kill_timer != 0)
			rp_loop_timer_cancel(b->loop, y->kill_timer);
		if (rc == 1) {
			describe_status(how, sizeof(how), &st);
			fmt(r, sizeof(r), "backend %s (pid %ld) stopped: %s",
			    y->service, (long)y->pid, how);
			if (y->reason == RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN)
				b->count.deaths_shutdown++;
			events_emit(&b->ev, (uint32_t)y->reason, EV_INFO, y->service,
			    r, NULL, 0, (uint32_t)y->pid, NULL, 0);
		}
		if (y->killed)
			(void)rp_spawn_kill(y->pid, SIGKILL, 1);
		remove_endpoint(y->pipe);
		remove_endpoint(y->hpipe);
		free(y);
	}
}

void
backends_cancel_spawns(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next) {
		if (k->state != BS_SPAWNING && k->state != BS_PROBING)
			continue;
		probe_close(b, k);
		if (k->kind == BK_SPAWNED) {
			k->spawn_failed++;
			to_dying(b, k, RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN);
		}
		bkey_set_state(k, BS_IDLE);
		bkey_answer_all(b, k, RP_REFUSE_SHUTTING_DOWN, NULL, 0);
	}
}

void
backends_stop_all(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BK_SPAWNED || k->pid <= 0)
			continue;
		probe_close(b, k);
		to_dying(b, k, RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN);
	}
}

/*
 * Without the loop (after it, or when it failed): stop what is still
 * running and reap it here.  Each spawned backend gets SIGTERM and
 * RP_SPAWN_STOP_GRACE_MS to end, then SIGKILL and as long again; each end
 * is reported as backends_sigchld reports it.  One that outlasts even that
 * (stuck in the kernel) is left, and said.
 */
void
backends_stop_now(struct broker *b)
{
	int64_t deadline;
	struct dying *y;

	backends_stop_all(b);           /* SIGTERM; onto the dying list */
	deadline = rp_deadline_in(RP_SPAWN_STOP_GRACE_MS);
	for (y = b->dying; y != NULL; y = y->next) {
		if (rp_spawn_wait_until(y->pid, RP_SPAWN_WAIT_NOWAIT, deadline,
		    NULL) != 0)
			continue;
		y->killed = 1;
		(void)rp_spawn_kill(y->pid, SIGKILL, 1);
		(void)rp_spawn_kill(y->pid, SIGKILL, 0);
	}
	deadline = rp_deadline_in(RP_SPAWN_STOP_GRACE_MS);
	for (y = b->dying; y != NULL; y = y->next)
		(void)rp_spawn_wait_until(y->pid, RP_SPAWN_WAIT_NOWAIT, deadline,
		    NULL);
	backends_sigchld(b);            /* reaps and reports each that ended */
	for (y = b->dying; y != NULL; y = y->next)
		cli_warn("backend %s (pid %ld) did not exit after SIGKILL; "
		    "leaving it", y->service, (long)y->pid);
}
