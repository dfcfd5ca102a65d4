/*
 * probe.c — verifying backends with the identity probe (30-identity.md),
 * on the loop: a non-blocking connect, the request, the reply read with
 * the frame decoder, then rp_probe_verify with the kernel's view of the
 * peer.  A spawned backend is probed again and again (1, 2, 4 ... 50 ms
 * apart) until it answers with the pid we started or the spawn deadline
 * passes; a static backend gets one attempt each time it is in doubt.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "broker.h"

#define PROBE_REPLY_MAX (16u * 1024u)
#define BACKOFF_MAX_MS 50

static void probe_attempt(struct broker *b, struct bkey *k);
static void probe_timer_cb(struct rp_loop *loop, void *arg);

void
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

void
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
	window_reset(&k->budget);
	fmt(r, sizeof(r), "backend %s@%s is pid %ld on %s", k->service,
	    k->version, (long)k->pid, k->pipe);
	fmt(ms, sizeof(ms), "%" PRId64, took);
	fmt(pid, sizeof(pid), "%ld", (long)k->pid);
	extra[0] = (struct ev_kv){ "outcome", "success" };
	extra[1] = (struct ev_kv){ "backend_pipe", k->pipe };
	extra[2] = (struct ev_kv){ "spawn_ms", ms };
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SPAWN, EV_INFO, k->service, r,
	    NULL, 0, (uint32_t)k->pid, extra, 3);
	bkey_answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
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
		bkey_answer_all(b, k, RP_REFUSE_NONE, NULL, 0);
	} else {
		k->state = BS_IDLE;
		fmt(why, sizeof(why), "static backend %s failed its "
		    "identity probe: %s", k->pipe, detail);
		cli_warn("%s@%s: %s", k->service, k->version, why);
		bkey_answer_all(b, k, RP_REFUSE_SPAWN_FAILED, why, 0);
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
	fmt(k->hpipe, sizeof(k->hpipe), "%s", s->handoff);
	fmt(k->binary, sizeof(k->binary), "%s", rep->id.exe_path);
	k->pid = (pid_t)rep->id.pid;
	k->state = BS_LIVE;
	k->verified_ms = rp_now_ms();
	k->started_wall_ms = rp_wall_ms();
	record_probe(k, 1, "verified");
	free(rep);
	return 0;
}

/* A spawned child has only just exec'd: the first look is a moment
 * away, then attempts follow until its identity checks out or the spawn
 * deadline passes. */
void
probe_spawned(struct broker *b, struct bkey *k)
{
	k->probe.backoff_ms = 1;
	k->probe.attempts = 0;
	k->probe.timer = rp_loop_timer(b->loop, k->spawn_t0_ms + 1,
	    probe_timer_cb, k);
	if (k->probe.timer == 0)
		spawn_failed(b, k, "cannot arm a timer");
}
