/*
 * serve_conn.c — one client connection of rp-handoff-recv --serve: is it
 * an identity probe (answered here) or a client (PROG, or the in-process
 * echo), and is there a slot for it now.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

/*
 * The first 11 bytes of every probe request: the framing byte, four
 * length bytes (anything), then envelope_version 1 (08 01) and
 * payload_protocol 0xB232 (18 b2 e4 02); kind REQUEST is the proto3
 * default and so is never written.
 */
#define PROBE_SIG_LEN 11
static const uint8_t probe_sig[6] = { 0x08, 0x01, 0x18, 0xb2, 0xe4, 0x02 };

static void echo_run(struct conn *c);
static void probe_read(struct conn *c);

/* ----------------------------------------------------------- accounting */

static int
is_held(enum cstate s)
{
	return s == C_CLASSIFY || s == C_PROBE || s == C_QUEUED;
}

/* Move c to state s, keeping busy and held right. */
static void
set_state(struct conn *c, enum cstate s)
{
	struct serve *sv = c->sv;

	if (is_held(c->state))
		sv->held--;
	else if (c->state == C_ECHO)
		sv->busy--;
	c->state = s;
	if (is_held(s))
		sv->held++;
	else if (s == C_ECHO)
		sv->busy++;
}

static void
conn_fd_cb(struct rp_loop *loop, int fd, unsigned events, void *arg);

/* Change what the loop watches on c.  MOD of a registered fd does not
 * fail in practice; if it ever did, the connection's timer (or the
 * peer's hang-up) still ends it, so we only say so.  A lazy connection
 * is registered here the first time it asks for events; if that fails,
 * it is closed (its callers return right after watch). */
static void
watch(struct conn *c, unsigned events)
{
	if (c->events == events)
		return;
	if (!c->watched) {
		if (rp_loop_add(c->sv->loop, c->fd, events, conn_fd_cb,
		    c) != 0) {
			cli_warn("cannot watch a connection: %s",
			    strerror(errno));
			conn_close(c);
			return;
		}
		c->watched = 1;
		c->events = events;
		return;
	}
	if (rp_loop_mod(c->sv->loop, c->fd, events) != 0) {
		cli_warn("cannot watch a connection: %s", strerror(errno));
		return;
	}
	c->events = events;
}

/* (Re)arm c's one timer.  0, or -1 (ENOMEM) and the caller closes c. */
static int
set_timer(struct conn *c, int64_t at, rp_loop_timer_fn fn)
{
	rp_loop_timer_cancel(c->sv->loop, c->timer);
	c->timer = rp_loop_timer(c->sv->loop, at, fn, c);
	if (c->timer == 0) {
		cli_warn("cannot set a timer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the pool */

struct conn *
conn_new(struct serve *sv, int fd, enum cstate s, int lazy)
{
	struct conn *c = sv->free_conns;

	/* Connections are recycled: after warm-up, accepting allocates
	 * nothing. */
	if (c != NULL)
		sv->free_conns = c->next;
	else if ((c = malloc(sizeof(*c))) == NULL)
		return NULL;
	memset(c, 0, offsetof(struct conn, buf));
	c->sv = sv;
	c->fd = fd;
	c->state = C_FREE;
	rp_frame_decoder_init(&c->dec, RP_FRAME_SMALL_MAX);
	if (!lazy && rp_loop_add(sv->loop, fd, 0, conn_fd_cb, c) != 0) {
		c->next = sv->free_conns;
		sv->free_conns = c;
		return NULL;
	}
	c->watched = !lazy;
	c->next_all = sv->all;
	if (sv->all != NULL)
		sv->all->prev_all = c;
	sv->all = c;
	set_state(c, s);
	return c;
}

void
conn_release(struct conn *c)
{
	struct serve *sv = c->sv;

	if (c->watched)
		rp_loop_del(sv->loop, c->fd);
	rp_loop_timer_cancel(sv->loop, c->timer);
	rp_fd_close(&c->fd);
	rp_frame_decoder_reset(&c->dec);
	set_state(c, C_FREE);
	if (c->prev_all != NULL)
		c->prev_all->next_all = c->next_all;
	else
		sv->all = c->next_all;
	if (c->next_all != NULL)
		c->next_all->prev_all = c->prev_all;
	c->next = sv->free_conns;
	sv->free_conns = c;
}

void
conn_close(struct conn *c)
{
	struct serve *sv = c->sv;

	/* A queued connection sits in the queue; take it out first. */
	if (c->state == C_QUEUED) {
		struct conn **pp = &sv->q_head, *prev = NULL;

		while (*pp != NULL && *pp != c) {
			prev = *pp;
			pp = &(*pp)->next;
		}
		if (*pp == c) {
			*pp = c->next;
			if (sv->q_tail == c)
				sv->q_tail = prev;
		}
	}
	conn_release(c);
	serve_kick(sv);
}

/* ------------------------------------------------------ serving clients */

void
conn_serve(struct conn *c)
{
	struct serve *sv = c->sv;
	int fd;

	if (sv->busy >= sv->o->max_conns) {
		if (c->state != C_QUEUED) {
			rp_loop_timer_cancel(sv->loop, c->timer);
			c->timer = 0;
			watch(c, 0);
			set_state(c, C_QUEUED);
			c->next = NULL;
			if (sv->q_tail != NULL)
				sv->q_tail->next = c;
			else
				sv->q_head = c;
			sv->q_tail = c;
		}
		return;
	}
	rp_loop_timer_cancel(sv->loop, c->timer);
	c->timer = 0;
	if (sv->o->echo) {
		c->classified = 1;
		set_state(c, C_ECHO);
		echo_run(c);
		return;
	}
	/* PROG takes the connection: the loop lets go of it. */
	rp_loop_del(sv->loop, c->fd);
	c->watched = 0;
	fd = c->fd;
	c->fd = -1;
	(void)serve_spawn(sv, fd, c->route, &c->peer, c->have_peer);
	conn_release(c);
}

/* --------------------------------------------------------------- echo */

/* 1 probe, 0 not a probe, -1 cannot tell yet (a prefix of one so far). */
static int
classify(const uint8_t *p, size_t n)
{
	size_t i;

	if (n == 0)
		return -1;
	if (p[0] != RP_FRAME_VERSION)
		return 0;
	for (i = 5; i < n && i < PROBE_SIG_LEN; i++)
		if (p[i] != probe_sig[i - 5])
			return 0;
	return n >= PROBE_SIG_LEN ? 1 : -1;
}

static void
classify_timeout(struct rp_loop *loop, void *arg);

/* Echo: the first bytes decide whether this is a probe.  Returns 1 when
 * c may go on echoing, 0 when it was handed elsewhere or closed. */
static int
echo_classify(struct conn *c)
{
	int k = classify(c->buf, c->len);

	if (k == 0) {
		c->classified = 1;
		return 1;
	}
	if (k == 1) {
		size_t used;
		enum rp_frame_status st;

		set_state(c, C_PROBE);
		st = rp_frame_decoder_feed(&c->dec, c->buf, c->len, &used);
		c->off = c->len = 0;
		if (st != RP_FRAME_OK && st != RP_FRAME_MORE) {
			conn_close(c);
			return 0;
		}
		if (set_timer(c, rp_loop_now(c->sv->loop) +
		    c->sv->o->timeout_ms, classify_timeout) != 0) {
			conn_close(c);
			return 0;
		}
		probe_read(c);
		return 0;
	}
	/* A strict prefix of a probe: wait for more, but not for ever. */
	if (c->timer == 0 && set_timer(c, c->window_end,
	    classify_timeout) != 0) {
		conn_close(c);
		return 0;
	}
	return 1;
}

/*
 * One read or write on c that never waits.  An adopted fd (c->nowait)
 * has the flags its sender gave it, which we do not ask for: on a socket
 * MSG_DONTWAIT makes each call non-blocking; anything else is made
 * non-blocking once, when that shows.
 */
static ssize_t
c_read(struct conn *c, void *buf, size_t len)
{
	ssize_t n;

	if (c->nowait) {
		n = rp_io_recv_adopted(c->fd, buf, len);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		c->nowait = 0;
		if (rp_fd_set_nonblock(c->fd, 1) != 0)
			return -1;
	}
	return rp_io_read_some(c->fd, buf, len);
}

static ssize_t
c_write(struct conn *c, const void *buf, size_t len)
{
	ssize_t n;

	if (c->nowait) {
		n = rp_io_send_adopted(c->fd, buf, len);
		if (n >= 0 || errno != ENOTSOCK)
			return n;
		c->nowait = 0;
		if (rp_fd_set_nonblock(c->fd, 1) != 0)
			return -1;
	}
	return rp_io_write_some(c->fd, buf, len);
}

/*
 * Echo what arrives.  Reads only when everything read before has been
 * written, so one connection holds one buffer and a client that does not
 * read its replies stops being read (no unbounded buffering).
 */
static void
echo_run(struct conn *c)
{
	size_t space;
	ssize_t n;
	int round;

	for (round = 0; round < ECHO_ROUNDS; round++) {
		/* Known to be a client but held (no free slot yet): the
		 * bytes read so far wait in buf until it is served. */
		if (c->classified && c->state != C_ECHO) {
			conn_serve(c);
			return;
		}
		if (c->fill) {
			/* An adopted connection: its client may have sent
			 * its request already; answer it together with the
			 * event in front of it. */
			c->fill = 0;
			space = sizeof(c->buf) - c->len;
			n = c_read(c, c->buf + c->len, space);
			if (n > 0)
				c->len += (uint32_t)n;
			else if (n == 0)
				c->rd_eof = 1;
			c->drained = n < (ssize_t)space;
		}
		if (c->classified && c->off < c->len) {
			n = c_write(c, c->buf + c->off, c->len - c->off);
			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK ||
				    errno == EINTR) {
					watch(c, RP_LOOP_WRITE);
					return;
				}
				conn_close(c);
				return;
			}
			c->off += (uint32_t)n;
			if (c->off < c->len) {
				watch(c, RP_LOOP_WRITE);
				return;
			}
			c->off = c->len = 0;
			/* All answered, and the socket was empty when last
			 * read: what comes next comes later, and readiness
			 * says when (a read now would only fail). */
			if (c->drained && !c->rd_eof) {
				watch(c, RP_LOOP_READ);
				return;
			}
		}
		if (c->rd_eof) {
			conn_close(c);
			return;
		}
		space = sizeof(c->buf) - c->len;
		n = c_read(c, c->buf + c->len, space);
		c->drained = n < (ssize_t)space;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				watch(c, RP_LOOP_READ);
				return;
			}
			conn_close(c);
			return;
		}
		if (n == 0) {
			c->rd_eof = 1;
			/* What is held unclassified is echoed before we go. */
			c->classified = 1;
			continue;
		}
		c->len += (uint32_t)n;
		if (!c->classified && !echo_classify(c))
			return;
		if (!c->classified) {
			watch(c, RP_LOOP_READ);
			return;
		}
	}
	/* Fair share used; level-triggered readiness brings us back. */
	watch(c, c->off < c->len ? RP_LOOP_WRITE : RP_LOOP_READ);
}

void
echo_start(struct conn *c)
{
	echo_run(c);
}

/* -------------------------------------------------------------- probes */

static void
probe_answer(struct conn *c, uint8_t *body, size_t len)
{
	struct serve *sv = c->sv;
	struct rp_buf out = { 0 };
	Rp__Frame *req;

	req = rp_wire_unpack(&rp__frame__descriptor, body, len);
	free(body);
	/* Not a valid probe after all (bad payload): no answer. */
	if (req != NULL && rp_probe_answer(req, sv->daemon.data,
	    sv->daemon.len, &out) == 0)
		(void)rp_io_write_full(c->fd, out.data, out.len,
		    rp_loop_now(sv->loop) + sv->o->timeout_ms);
	rp_wire_free(req);
	rp_buf_free(&out);
	conn_close(c);
}

static void
probe_read(struct conn *c)
{
	enum rp_frame_status st;
	uint8_t *body;
	size_t len;

	st = rp_frame_decoder_read(&c->dec, c->fd);
	if (st == RP_FRAME_MORE) {
		watch(c, RP_LOOP_READ);
		return;
	}
	if (st != RP_FRAME_OK) {
		conn_close(c);
		return;
	}
	body = rp_frame_decoder_take(&c->dec, &len);
	probe_answer(c, body, len);
}

/* ------------------------------------------------------ classification */

/* PROG mode: look without taking, so PROG gets every byte. */
static void
peek_classify(struct conn *c)
{
	struct serve *sv = c->sv;
	uint8_t p[PROBE_SIG_LEN];
	ssize_t n;
	int k;
	int64_t now = rp_loop_now(sv->loop);

	n = rp_io_peek(c->fd, p, sizeof(p));
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
		conn_close(c);
		return;
	}
	if (n == 0) {
		/* Closed (or half-closed) before a byte: not a probe, and a
		 * server-first PROG may still have something to say. */
		conn_serve(c);
		return;
	}
	k = n < 0 ? -1 : classify(p, (size_t)n);
	if (k == 1) {
		set_state(c, C_PROBE);
		if (set_timer(c, now + sv->o->timeout_ms,
		    classify_timeout) != 0) {
			conn_close(c);
			return;
		}
		probe_read(c);
		return;
	}
	if (k == 0 || now >= c->window_end) {
		conn_serve(c);
		return;
	}
	if (n < 0) {
		/* Nothing yet: readiness or the window's end wakes us. */
		watch(c, RP_LOOP_READ);
		if (c->timer == 0 && set_timer(c, c->window_end,
		    classify_timeout) != 0)
			conn_close(c);
		return;
	}
	/*
	 * A strict prefix of a probe is waiting, so the socket stays readable
	 * and watching it would spin.  Look again a little later instead
	 * (a prober sends its request in one write, so this is a trickling
	 * or odd client, and rare).
	 */
	watch(c, 0);
	c->backoff_ms = c->backoff_ms ? c->backoff_ms * 2 : 1;
	if (set_timer(c, now + c->backoff_ms < c->window_end ?
	    now + c->backoff_ms : c->window_end, classify_timeout) != 0)
		conn_close(c);
}

static void
classify_timeout(struct rp_loop *loop, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	c->timer = 0;
	if (c->state == C_PROBE) {
		/* The probe request never completed. */
		conn_close(c);
		return;
	}
	if (c->sv->o->echo) {
		/* The window ended on a prefix of a probe: it is data. */
		c->classified = 1;
		if (c->state == C_CLASSIFY)
			conn_serve(c);
		else
			echo_run(c);
		return;
	}
	peek_classify(c);
}

static void
conn_fd_cb(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	(void)fd;
	(void)events;
	switch (c->state) {
	case C_CLASSIFY:
		if (c->sv->o->echo)
			echo_run(c);
		else
			peek_classify(c);
		break;
	case C_PROBE:
		probe_read(c);
		break;
	case C_ECHO:
		echo_run(c);
		break;
	default:
		break;
	}
}

void
conn_start(struct serve *sv, int fd, const struct rp_peercred *peer)
{
	struct conn *c;
	int64_t now = rp_loop_now(sv->loop);

	/* With a free slot an echo connection is served at once and looks
	 * at its first bytes as it reads them; otherwise it is held. */
	if (sv->o->echo && sv->busy < sv->o->max_conns)
		c = conn_new(sv, fd, C_ECHO, 0);
	else
		c = conn_new(sv, fd, C_CLASSIFY, 0);
	if (c == NULL) {
		cli_warn("cannot take a connection: %s", strerror(errno));
		rp_fd_close(&fd);
		return;
	}
	c->peer = *peer;
	c->have_peer = 1;
	c->route = ROUTE_RECONNECT;
	c->window_end = now + sv->o->probe_window_ms;
	/* Read at once: a client usually has sent by the time we accept. */
	if (sv->o->echo)
		echo_run(c);
	else
		peek_classify(c);
}

