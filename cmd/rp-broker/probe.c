/*
 * probe.c — verifying backends with the identity probe (30-identity.md),
 * on the loop: a non-blocking connect, the request, the reply read with
 * the frame decoder, then rp_probe_verify with the kernel's view of the
 * peer.  A spawned backend is probed again and again (1, 2, 4 ... 50 ms
 * apart) until it answers with the pid we started or the spawn deadline
 * passes; a static backend gets one attempt each time it is in doubt.
 *
 * This file does the asking; what the answer means for the backend (live,
 * a failed spawn, a static backend in doubt) is backend.c's, which owns
 * its state: every attempt ends in probe_end, and every verdict goes to
 * bkey_verified.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
probe_record(struct bkey *k, int ok, const char *detail)
{
	k->last_probe_ok = ok;
	k->last_probe_wall_ms = rp_wall_ms();
	rp_utf8_fmt(k->last_probe_detail, sizeof(k->last_probe_detail), "%s",
	    detail);
}

/*
 * An attempt is over: verified, or why not.  retry: it failed for want of
 * an answer, so a spawned backend is asked again, a little later, until
 * its spawn deadline; a wrong answer is final, and so is the one attempt
 * a static backend gets.  The verdict goes to backend.c.
 */
static void
probe_end(struct broker *b, struct bkey *k, int ok, int retry,
    const char *why, uint32_t pid)
{
	struct prober *p = &k->probe;
	int64_t now = rp_loop_now(b->loop), at;
	char msg[400];

	probe_close(b, k);
	probe_record(k, ok, ok ? "verified" : why);
	if (!ok && retry && k->kind == BKEY_SPAWNED) {
		if (now < k->spawn_deadline) {
			p->backoff_ms = p->backoff_ms == 0 ? 1 :
			    p->backoff_ms * 2;
			if (p->backoff_ms > BACKOFF_MAX_MS)
				p->backoff_ms = BACKOFF_MAX_MS;
			at = now + p->backoff_ms;
			if (at > k->spawn_deadline)
				at = k->spawn_deadline;
			p->timer = rp_loop_timer(b->loop, at, probe_timer_cb,
			    k);
			if (p->timer != 0)
				return;
			why = "cannot arm a timer";
		} else {
			rp_utf8_fmt(msg, sizeof(msg),
			    "no verified identity within %" PRId64
			    " ms (last attempt: %s)",
			    b->cfg.spawn_timeout_ms, why);
			why = msg;
		}
	}
	bkey_verified(b, k, ok, ok ? NULL : why, pid);
}

static void
probe_verdict(struct broker *b, struct bkey *k, uint8_t *body, size_t len)
{
	struct prober *p = &k->probe;
	struct rp_probe_expect exp;
	struct rp_probe_report *rep;
	enum rp_probe_status st;
	char why[600];
	uint32_t pid;

	rep = malloc(sizeof(*rep));
	if (rep == NULL) {
		free(body);
		probe_end(b, k, 0, 1, "out of memory", 0);
		return;
	}
	memset(&exp, 0, sizeof(exp));
	memset(rep, 0, sizeof(*rep));
	/* A spawned backend must be the very process we started: a
	 * wrapper that forks, or anyone else answering on the endpoint,
	 * is not it. */
	if (k->kind == BKEY_SPAWNED)
		exp.pid = (uint32_t)k->pid;
	st = rp_probe_verify(body, len, p->nonce, k->pipe, &p->peer, &exp, rep);
	free(body);
	if (st == RP_PROBE_OK) {
		pid = rep->id.pid;
		free(rep);
		probe_end(b, k, 1, 0, NULL, pid);
		return;
	}
	if (rep->field != NULL)
		rp_utf8_fmt(why, sizeof(why), "identity mismatch: %s: %s",
		    rep->field, rep->detail);
	else
		rp_utf8_fmt(why, sizeof(why), "identity probe failed: %s",
		    rep->detail);
	free(rep);
	probe_end(b, k, 0, 0, why, 0);
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
		rp_utf8_fmt(why, sizeof(why),
		    "identity probe failed: malformed "
		    "reply: %s",
		    rp_frame_status_str(st));
		probe_end(b, k, 0, 0, why, 0);
		return;
	default:
		rp_utf8_fmt(why, sizeof(why), "the endpoint closed the probe "
		    "connection: %s", rp_frame_status_str(st));
		probe_end(b, k, 0, 1, why, 0);
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
		rp_utf8_fmt(why, sizeof(why), "no answer to the identity probe "
		    "within %" PRId64 " ms", b->cfg.probe_timeout_ms);
		probe_end(b, k, 0, 1, why, 0);
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

	if (k->kind == BKEY_SPAWNED && now >= k->spawn_deadline) {
		/* The deadline came during a backoff: report what the last
		 * attempt saw. */
		rp_utf8_fmt(why, sizeof(why), "%s", k->last_probe_detail[0] ?
		    k->last_probe_detail : "no attempt was made");
		probe_end(b, k, 0, 1, why, 0);
		return;
	}
	p->attempts++;
	/* A deadline already passed makes this one non-blocking try:
	 * Unix-socket connects complete at once or fail (EAGAIN with a
	 * full backlog reads as ETIMEDOUT). */
	p->fd = rp_sock_connect(k->pipe, 1, 0);
	if (p->fd < 0) {
		rp_utf8_fmt(why, sizeof(why), "cannot connect to %s: %s",
		    k->pipe, strerror(errno));
		probe_end(b, k, 0, 1, why, 0);
		return;
	}
	b->nprobes++;
	if (rp_sock_peercred(p->fd, &p->peer) < 0 ||
	    rp_probe_request(p->nonce, &req) < 0) {
		rp_utf8_fmt(why, sizeof(why), "cannot prepare the probe: %s",
		    strerror(errno));
		rp_buf_free(&req);
		probe_end(b, k, 0, 1, why, 0);
		return;
	}
	do
		n = rp_io_send_nowait(p->fd, req.data, req.len);
	while (n < 0 && errno == EINTR);
	if (n < 0 || (size_t)n != req.len) {
		rp_utf8_fmt(why, sizeof(why), "cannot send the probe: %s",
		    n < 0 ? strerror(errno) : "short write");
		rp_buf_free(&req);
		probe_end(b, k, 0, 1, why, 0);
		return;
	}
	rp_buf_free(&req);
	rp_frame_decoder_init(&p->dec, PROBE_REPLY_MAX);
	if (rp_loop_add(b->loop, p->fd, RP_LOOP_READ, probe_cb, k) < 0) {
		rp_utf8_fmt(why, sizeof(why), "cannot watch the probe: %s",
		    strerror(errno));
		probe_end(b, k, 0, 1, why, 0);
		return;
	}
	p->attempt_deadline = now + b->cfg.probe_timeout_ms;
	if (k->kind == BKEY_SPAWNED && p->attempt_deadline > k->spawn_deadline)
		p->attempt_deadline = k->spawn_deadline;
	p->timer = rp_loop_timer(b->loop, p->attempt_deadline, probe_timer_cb,
	    k);
}

/* One attempt, now (a static backend in doubt). */
void
probe_once(struct broker *b, struct bkey *k)
{
	k->probe.backoff_ms = 0;
	probe_attempt(b, k);
}

/* A spawned child has only just exec'd: the first look is a moment
 * away, then attempts follow until its identity checks out or the spawn
 * deadline passes. */
int
probe_spawned(struct broker *b, struct bkey *k)
{
	k->probe.backoff_ms = 1;
	k->probe.attempts = 0;
	k->probe.timer = rp_loop_timer(b->loop, k->spawn_t0_ms + 1,
	    probe_timer_cb, k);
	return k->probe.timer == 0 ? -1 : 0;
}
