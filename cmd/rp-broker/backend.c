/*
 * backend.c — the backend table: static backends (registered with -b and
 * verified by the identity probe), spawned backends (started from a
 * service definition, verified against the pid we started), one spawn in
 * flight per key with a budget per window, deaths noticed through SIGCHLD,
 * and stopping everything on shutdown.
 *
 * The identity probe runs on the loop: a non-blocking connect, the
 * request, the reply read with the frame decoder, then rp_probe_verify
 * with the kernel's view of the peer.  A spawned backend is probed again
 * and again (1, 2, 4 ... 50 ms apart) until it answers or the spawn
 * deadline passes.
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
#define PROBE_REPLY_MAX (16u * 1024u)
#define BACKOFF_MAX_MS 50
#define STOP_GRACE_MS 2000
#define ENV_PREFIX "RUNNING_PROCESS_BROKER_V1_"

static void probe_attempt(struct broker *b, struct bkey *k);
static void probe_timer_cb(struct rp_loop *loop, void *arg);
static void spawn_failed(struct broker *b, struct bkey *k, const char *why);

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

static struct bkey *
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
		    k->nwaiters != 0 || k->pid != 0 ||
		    (k->budget_used != 0 && now - k->budget_start < window))
			continue;
		*pp = k->next;
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
static void
answer_all(struct broker *b, struct bkey *k, enum rp_refusal id,
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

static void
budget_roll(struct broker *b, struct bkey *k, int64_t now)
{
	if (k->budget_used != 0 &&
	    now - k->budget_start >= (int64_t)b->cfg.budget_secs * 1000)
		k->budget_used = 0;
}

uint32_t
bkey_budget_left(struct broker *b, struct bkey *k, uint64_t *retry_ms)
{
	int64_t now = rp_loop_now(b->loop);
	int64_t window = (int64_t)b->cfg.budget_secs * 1000;
	uint32_t used = k->budget_used;

	if (used != 0 && now - k->budget_start >= window)
		used = 0;
	if (retry_ms != NULL)
		*retry_ms = used == 0 ? 0 :
		    (uint64_t)(k->budget_start + window - now);
	return used >= b->cfg.budget_n ? 0 : b->cfg.budget_n - used;
}

int
bkey_budget_take(struct broker *b, struct bkey *k, uint64_t *retry_ms)
{
	int64_t now = rp_loop_now(b->loop);

	budget_roll(b, k, now);
	if (k->budget_used >= b->cfg.budget_n) {
		*retry_ms = k->budget_used == 0 ? 1 : (uint64_t)(k->budget_start +
		    (int64_t)b->cfg.budget_secs * 1000 - now);
		if (*retry_ms == 0)
			*retry_ms = 1;
		return -1;
	}
	if (k->budget_used == 0)
		k->budget_start = now;
	k->budget_used++;
	return 0;
}

/* -------------------------------------------------------------- probe */

static void
probe_close(struct broker *b, struct bkey *k)
{
	struct prober *p = &k->probe;

	if (p->timer != 0) {
		rp_loop_timer_cancel(b->loop, p->timer);
		p->timer = 0;
	}
	if (p->fd >= 0) {
		(void)rp_loop_del(b->loop, p->fd);
		rp_fd_close(&p->fd);
		b->nprobes--;
	}
	rp_frame_decoder_reset(&p->dec);
}

static void
record_probe(struct bkey *k, int ok, const char *detail)
{
	k->last_probe_ok = ok;
	k->last_probe_wall_ms = rp_wall_ms();
	fmt(k->last_probe_detail, sizeof(k->last_probe_detail), "%s",
	    detail);
}

static void
spawn_succeeded(struct broker *b, struct bkey *k)
{
	char r[400], ms[24], pid[16];
	struct ev_kv extra[3];
	int64_t took = rp_loop_now(b->loop) - k->spawn_t0_ms;

	k->state = BS_LIVE;
	k->verified_ms = rp_loop_now(b->loop);
	k->started_wall_ms = rp_wall_ms();
	k->spawn_ok++;
	/* A success starts the budget over. */
	k->budget_used = 0;
	fmt(r, sizeof(r), "backend %s@%s is pid %ld on %s", k->service,
	    k->version, (long)k->pid, k->pipe);
	fmt(ms, sizeof(ms), "%" PRId64, took);
	fmt(pid, sizeof(pid), "%ld", (long)k->pid);
	extra[0] = (struct ev_kv){ "outcome", "success" };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	extra[2] = (struct ev_kv){ "spawn_ms", ms };
	event_emit(b, RP__EVENT_KIND__EVENT_KIND_SPAWN, SEV_INFO, k->service, r,
	    NULL, 0, (uint32_t)k->pid, extra, 3);
	answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	broker_check_drained(b);
}

static void
static_probe_done(struct broker *b, struct bkey *k, int ok,
    const char *detail, uint32_t pid)
{
	char why[400];

	record_probe(k, ok, detail);
	if (ok) {
		k->state = BS_LIVE;
		k->verified_ms = rp_loop_now(b->loop);
		if (pid != 0)
			k->pid = (pid_t)pid;
		answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	} else {
		k->state = BS_IDLE;
		fmt(why, sizeof(why), "static backend %s failed its "
		    "identity probe: %s", k->pipe, detail);
		say(PROG ": %s@%s: %s", k->service, k->version, why);
		answer_all(b, k, RP_REFUSE_SPAWN_FAILED, why, 0);
	}
	broker_check_drained(b);
}

/* An attempt did not get an answer: try again (spawned, before the
 * deadline) or give up. */
static void
probe_retry(struct broker *b, struct bkey *k, const char *why)
{
	struct prober *p = &k->probe;
	int64_t now = rp_loop_now(b->loop), at;
	char msg[400];

	probe_close(b, k);
	if (k->kind == BK_STATIC) {
		static_probe_done(b, k, 0, why, 0);
		return;
	}
	record_probe(k, 0, why);
	if (now >= k->spawn_deadline) {
		fmt(msg, sizeof(msg), "no verified identity within %" PRId64
		    " ms (last attempt: %s)", b->cfg.spawn_timeout_ms, why);
		spawn_failed(b, k, msg);
		return;
	}
	p->backoff_ms = p->backoff_ms == 0 ? 1 : p->backoff_ms * 2;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	at = now + p->backoff_ms;
	if (at > k->spawn_deadline)
		at = k->spawn_deadline;
	p->timer = rp_loop_timer(b->loop, at, probe_timer_cb, k);
}

static void
probe_verdict(struct broker *b, struct bkey *k, uint8_t *body, size_t len)
{
	struct prober *p = &k->probe;
	struct rp_probe_expect exp;
	struct rp_probe_report *rep;
	enum rp_probe_status st;
	char why[600];

	rep = malloc(sizeof(*rep));
	if (rep == NULL) {
		free(body);
		probe_retry(b, k, "out of memory");
		return;
	}
	memset(&exp, 0, sizeof(exp));
	memset(rep, 0, sizeof(*rep));
	/* A spawned backend must be the very process we started: a
	 * wrapper that forks, or anyone else answering on the endpoint,
	 * is not it. */
	if (k->kind == BK_SPAWNED)
		exp.pid = (uint32_t)k->pid;
	st = rp_probe_verify(body, len, p->nonce, k->pipe, &p->peer, &exp, rep);
	free(body);
	probe_close(b, k);
	if (st == RP_PROBE_OK) {
		record_probe(k, 1, "verified");
		if (k->kind == BK_STATIC)
			static_probe_done(b, k, 1, "verified", rep->id.pid);
		else
			spawn_succeeded(b, k);
		free(rep);
		return;
	}
	if (rep->field != NULL)
		fmt(why, sizeof(why), "identity mismatch: %s: %s",
		    rep->field, rep->detail);
	else
		fmt(why, sizeof(why), "identity probe failed: %s",
		    rep->detail);
	free(rep);
	record_probe(k, 0, why);
	if (k->kind == BK_STATIC)
		static_probe_done(b, k, 0, why, 0);
	else
		spawn_failed(b, k, why);
}

static void
probe_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct bkey *k = arg;
	struct broker *b = k->b;
	enum rp_frame_status st;
	uint8_t *body;
	size_t len;
	char why[200];

	(void)loop;
	(void)fd;
	(void)ev;
	st = rp_frame_decoder_read(&k->probe.dec, k->probe.fd);
	switch (st) {
	case RP_FRAME_MORE:
		return;
	case RP_FRAME_OK:
		body = rp_frame_decoder_take(&k->probe.dec, &len);
		probe_verdict(b, k, body, len);
		return;
	case RP_FRAME_BAD_VERSION:
	case RP_FRAME_TOO_LARGE:
		fmt(why, sizeof(why), "identity probe failed: malformed "
		    "reply: %s", rp_frame_status_str(st));
		probe_close(b, k);
		record_probe(k, 0, why);
		if (k->kind == BK_STATIC)
			static_probe_done(b, k, 0, why, 0);
		else
			spawn_failed(b, k, why);
		return;
	default:
		fmt(why, sizeof(why), "the endpoint closed the probe "
		    "connection: %s", rp_frame_status_str(st));
		probe_retry(b, k, why);
		return;
	}
}

static void
probe_timer_cb(struct rp_loop *loop, void *arg)
{
	struct bkey *k = arg;
	struct broker *b = k->b;
	char why[200];

	(void)loop;
	k->probe.timer = 0;
	if (k->probe.fd >= 0) {
		fmt(why, sizeof(why), "no answer to the identity probe "
		    "within %" PRId64 " ms", b->cfg.probe_timeout_ms);
		probe_retry(b, k, why);
		return;
	}
	probe_attempt(b, k);
}

static void
probe_attempt(struct broker *b, struct bkey *k)
{
	struct prober *p = &k->probe;
	struct rp_buf req = { 0 };
	int64_t now = rp_loop_now(b->loop);
	char why[300];
	ssize_t n;

	if (k->kind == BK_SPAWNED && now >= k->spawn_deadline) {
		/* The deadline came during a backoff: report what the last
		 * attempt saw. */
		fmt(why, sizeof(why), "%s", k->last_probe_detail[0] ?
		    k->last_probe_detail : "no attempt was made");
		probe_retry(b, k, why);
		return;
	}
	p->attempts++;
	/* A deadline already passed makes this one non-blocking try:
	 * Unix-socket connects complete at once or fail (EAGAIN with a
	 * full backlog reads as ETIMEDOUT). */
	p->fd = rp_sock_connect(k->pipe, 1, 0);
	if (p->fd < 0) {
		fmt(why, sizeof(why), "cannot connect to %s: %s", k->pipe,
		    strerror(errno));
		probe_retry(b, k, why);
		return;
	}
	b->nprobes++;
	if (rp_sock_peercred(p->fd, &p->peer) < 0 ||
	    rp_probe_request(p->nonce, &req) < 0) {
		fmt(why, sizeof(why), "cannot prepare the probe: %s",
		    strerror(errno));
		rp_buf_free(&req);
		probe_retry(b, k, why);
		return;
	}
	do
		n = send(p->fd, req.data, req.len, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != req.len) {
		fmt(why, sizeof(why), "cannot send the probe: %s",
		    n < 0 ? strerror(errno) : "short write");
		rp_buf_free(&req);
		probe_retry(b, k, why);
		return;
	}
	rp_buf_free(&req);
	rp_frame_decoder_init(&p->dec, PROBE_REPLY_MAX);
	if (rp_loop_add(b->loop, p->fd, RP_LOOP_READ, probe_cb, k) < 0) {
		fmt(why, sizeof(why), "cannot watch the probe: %s",
		    strerror(errno));
		probe_retry(b, k, why);
		return;
	}
	p->attempt_deadline = now + b->cfg.probe_timeout_ms;
	if (k->kind == BK_SPAWNED && p->attempt_deadline > k->spawn_deadline)
		p->attempt_deadline = k->spawn_deadline;
	p->timer = rp_loop_timer(b->loop, p->attempt_deadline, probe_timer_cb,
	    k);
}

int
bkey_needs_probe(struct broker *b, struct bkey *k)
{
	return k->kind == BK_STATIC && (k->state != BS_LIVE ||
	    rp_loop_now(b->loop) - k->verified_ms >= b->cfg.probe_interval_ms);
}

void
bkey_probe_static(struct broker *b, struct bkey *k)
{
	if (k->state == BS_PROBING)
		return;
	k->state = BS_PROBING;
	k->probe.backoff_ms = 0;
	probe_attempt(b, k);
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
	fmt(k->binary, sizeof(k->binary), "%s", rep->id.exe_path);
	k->pid = (pid_t)rep->id.pid;
	k->state = BS_LIVE;
	k->verified_ms = rp_now_ms();
	k->started_wall_ms = rp_wall_ms();
	record_probe(k, 1, "verified");
	free(rep);
	return 0;
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
	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	y = calloc(1, sizeof(*y));
	if (y == NULL) {
		/* No room to wait politely. */
		(void)rp_spawn_kill(k->pid, SIGKILL, 1);
		(void)rp_spawn_wait(k->pid, 0, NULL);
		remove_endpoint(k->pipe);
	} else {
		y->pid = k->pid;
		y->reason = reason;
		fmt(y->service, sizeof(y->service), "%s", k->service);
		fmt(y->pipe, sizeof(y->pipe), "%s", k->pipe);
		y->kill_timer = rp_loop_timer(b->loop,
		    rp_loop_now(b->loop) + STOP_GRACE_MS, kill_timer_cb, y);
		y->next = b->dying;
		b->dying = y;
	}
	k->pid = 0;
	k->state = BS_IDLE;
}

static void
spawn_failed(struct broker *b, struct bkey *k, const char *why)
{
	struct ev_kv extra[1] = { { "outcome", "failure" } };
	char r[700];

	probe_close(b, k);
	k->spawn_failed++;
	fmt(r, sizeof(r), "spawn of %s@%s failed: %s", k->service,
	    k->version, why);
	say(PROG ": %s", r);
	event_emit(b, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, SEV_ERROR,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 1);
	if (k->pid > 0)
		to_dying(b, k, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH);
	k->state = BS_IDLE;
	answer_all(b, k, RP_REFUSE_SPAWN_FAILED, why, 0);
	broker_check_drained(b);
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
		ENV_PREFIX "BROKER_PID=", ENV_PREFIX "HANDOFF_PIPE=" };
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
	extra[0] = (struct ev_kv){ "binary", k->binary };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	fmt(r, sizeof(r), "starting %s for %s@%s", k->binary, k->service,
	    k->version);
	event_emit(b, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, SEV_INFO,
	    k->service, r, NULL, 0, 0, extra, 2);

	env = spawn_env(b, k, f, &store);
	if (env == NULL) {
		rp_buf_free(&store);
		fmt(why, whysz, "out of memory");
		k->spawn_failed++;
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
		k->spawn_failed++;
		fmt(why, whysz, "%s %s: %s", exec_failed ?
		    "cannot execute" : "cannot start", k->binary, strerror(err));
		fmt(r, sizeof(r), "spawn of %s@%s failed: %s", k->service,
		    k->version, why);
		say(PROG ": %s", r);
		extra[0] = (struct ev_kv){ "outcome", "failure" };
		event_emit(b, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT,
		    SEV_ERROR, k->service, r, NULL, 0, 0, extra, 1);
		return -1;
	}
	k->pid = pid;
	k->state = BS_SPAWNING;
	k->spawn_t0_ms = rp_loop_now(b->loop);
	k->spawn_deadline = k->spawn_t0_ms + b->cfg.spawn_timeout_ms;
	k->probe.backoff_ms = 1;
	k->probe.attempts = 0;
	/* It has only just exec'd: the first look is a moment away. */
	k->probe.timer = rp_loop_timer(b->loop, k->spawn_t0_ms + 1,
	    probe_timer_cb, k);
	if (k->probe.timer == 0) {
		spawn_failed(b, k, "cannot arm a timer");
		return 0;
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
	if (k->state == BS_SPAWNING) {
		/* Reaped already: nothing left to stop but its group. */
		(void)rp_spawn_kill(k->pid, SIGTERM, 1);
		k->pid = 0;
		remove_endpoint(k->pipe);
		fmt(r, sizeof(r), "the backend %s before it was ready",
		    how);
		spawn_failed(b, k, r);
		return;
	}
	kind = b->stopping ? RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN :
	    RP__EVENT_KIND__EVENT_KIND_DIED_CRASH;
	if (kind == RP__EVENT_KIND__EVENT_KIND_DIED_CRASH)
		b->m.deaths_crash++;
	else
		b->m.deaths_shutdown++;
	k->deaths++;
	fmt(r, sizeof(r), "backend %s@%s (pid %s) %s", k->service,
	    k->version, pid, how);
	say(PROG ": %s", r);
	extra[0] = (struct ev_kv){ "backend_pipe", k->pipe };
	event_emit(b, (uint32_t)kind, kind ==
	    RP__EVENT_KIND__EVENT_KIND_DIED_CRASH ? SEV_ERROR : SEV_INFO,
	    k->service, r, NULL, 0, (uint32_t)k->pid, extra, 1);
	/* What it left behind in its group goes with it. */
	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	remove_endpoint(k->pipe);
	k->pid = 0;
	k->state = BS_IDLE;
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
				b->m.deaths_shutdown++;
			event_emit(b, (uint32_t)y->reason, SEV_INFO, y->service,
			    r, NULL, 0, (uint32_t)y->pid, NULL, 0);
		}
		if (y->killed)
			(void)rp_spawn_kill(y->pid, SIGKILL, 1);
		remove_endpoint(y->pipe);
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
		k->state = BS_IDLE;
		{
			struct conn *c = k->wait_head, *n;

			k->wait_head = k->wait_tail = NULL;
			k->nwaiters = 0;
			for (; c != NULL; c = n) {
				n = c->wnext;
				c->wnext = NULL;
				c->key = NULL;
				c->state = CONN_READING;
				hello_refuse_draining(b, c);
			}
		}
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
