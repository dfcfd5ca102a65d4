/*
 * handoff.c — the broker's part of 40-handoff.md: a client that sets
 * capability bit 0 gets a token in its Negotiated reply, and then its very
 * connection goes to the backend (token and fd with SCM_RIGHTS, then the
 * HandoffOffer), so it never has to dial backend_pipe.
 *
 * The path is built to cost no more wake-ups than reconnecting:
 *
 *   - one handoff connection per backend, opened on first use and kept;
 *     transfers are pipelined on it and the Acks, which come back in order,
 *     are matched to them by correlation id (= the Hello's connection id);
 *   - the Negotiated reply, the transfer and the offer are written one
 *     after the other in the same turn of the loop, and the broker's copy
 *     of the client's fd is closed at once (the kernel holds the one in
 *     flight): nobody waits for the Ack;
 *   - the backend itself writes the handoff-ready event on the adopted
 *     connection (--handoff-event backend, the default: spawned backends
 *     are told so in RP_HANDOFF_EVENT), so the Ack is only accounting,
 *     and is read lazily: while transfers are in flight the connection
 *     is not watched (the backend's Ack wakes nobody), and the Acks are
 *     read together, after ACK_BATCH transfers, ACK_SETTLE_MS after a
 *     transfer, before an admin request is answered, and before a
 *     deadline or a close would end their transfers otherwise.  Once
 *     nothing is in flight it is watched again, to hear of a hang-up.
 *
 * With --handoff-event broker the spec's own sequence is kept instead: the
 * client's fd stays open here until the Ack, the broker writes the event
 * on "accepted", then closes.
 *
 * Every failure is silent to the client: it gets no token (nothing could
 * be set up), or its connection is closed without an event (the transfer
 * failed), and it dials backend_pipe.  Each is counted (handoff_total by
 * outcome) and reported as a PROTOCOL_DOWNGRADE event.  Tokens are issued
 * from a store so that none is handed out twice while pending, and are
 * forgotten once their transfer is over: accepting each one once is the
 * backend's job (its replay cache).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

#define HPEND_MAX 1024u         /* transfers in flight to one backend */
#define RETRY_MS 1000           /* after a failed connect, before another */
#define QUIET_MS 1000           /* set-up failures: one event per this */
#define ACK_READ 4096           /* ~100 Acks of service "echo" */
#define ACK_BATCH 32            /* lazy Acks: read after this many transfers */
#define ACK_SETTLE_MS 50        /* ... or this long after one */
#define TOKENS_CAP 16384

static const char *const ho_names[HANDOFF_OUTCOMES] = {
	"accepted", "refused", "ack_timeout", "bad_ack", "backend_gone",
	"no_socket", "client_gone", "busy", "shutdown", "open_process_failed",
	"permission_denied", "duplicate_failed", "integrity_mismatch",
};

static void hconn_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg);
static void read_acks(struct broker *b, struct bkey *k);

const char *
handoff_outcome_name(unsigned o)
{
	return o < HANDOFF_OUTCOMES ? ho_names[o] : "unknown";
}

int
handoff_init(struct broker *b)
{
	if (!b->cfg.handoff)
		return 0;
	/* Pending tokens only: each is forgotten when its transfer ends, and
	 * none outlives the Ack deadline by more than a moment. */
	b->tokens = rp_token_store_new(TOKENS_CAP,
	    b->cfg.handoff_timeout_ms + 1000);
	return b->tokens == NULL ? -1 : 0;
}

/* --------------------------------------------------------- accounting */

/* Count one handoff's end; a failure is also an event.  Failures found
 * while setting up (no socket, busy) can repeat on every Hello, so their
 * events are thinned to one per QUIET_MS per backend. */
static void
count(struct broker *b, struct bkey *k, enum handoff_outcome o, uint64_t corr,
    const char *detail)
{
	struct ev_kv extra[2];
	char r[600];

	k->handoffs[o]++;
	if (o == HANDOFF_ACCEPTED)
		return;
	if (o == HANDOFF_NO_SOCKET || o == HANDOFF_BUSY) {
		int64_t now = rp_loop_now(b->loop);

		if (now < k->ho.quiet_until)
			return;
		k->ho.quiet_until = now + QUIET_MS;
	}
	rp_utf8_fmt(r, sizeof(r),
	    "no handoff of connection %" PRIu64 " to %s@%s "
	    "(%s%s%s); the client reconnects to backend_pipe",
	    corr, k->service, k->version, ho_names[o],
	    detail && *detail ? ": " : "", detail ? detail : "");
	extra[0] = (struct ev_kv){ "handoff_outcome", ho_names[o] };
	extra[1] = (struct ev_kv){ "handoff_pipe", k->hpipe };
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_PROTOCOL_DOWNGRADE,
	    EV_WARN, k->service, r, NULL, corr,
	    (uint32_t)(k->pid > 0 ? k->pid : 0), extra, 2);
}

static void hconn_timer_cb(struct rp_loop *loop, void *arg);

/* One timer per handoff connection, for the oldest transfer: deadlines
 * are all the same length, so the oldest is the first due. */
static void
arm(struct broker *b, struct bkey *k)
{
	struct hconn *hc = &k->ho;

	if (hc->timer != 0 || hc->ring.n == 0)
		return;
	hc->timer = rp_loop_timer(b->loop, hring_at(&hc->ring, 0)->deadline,
	    hconn_timer_cb, k);
}

/* ------------------------------------------------------------- endings */

/* A transfer is over: forget its token, count it, and if the broker
 * kept the client's connection for the event, write it or let go. */
static void
transfer_end(struct broker *b, struct bkey *k, struct hpend *p,
    enum handoff_outcome o, const char *detail)
{
	struct conn *c = p->c;

	p->done = 1;
	p->c = NULL;
	if (o != HANDOFF_ACCEPTED && k->ho.fd >= 0)
		/* Windows: a handle the backend did not take is closed in
		 * it (Unix: nothing to do). */
		rp_fdpass_take_back(k->ho.fd, p->value);
	(void)rp_token_store_revoke(b->tokens, p->tok);
	count(b, k, o, p->corr, detail);
	if (c == NULL)
		return;
	if (o != HANDOFF_ACCEPTED) {
		conn_close(b, c, CONN_CLOSE_HANDOFF_FAILED);
		return;
	}
	/* {1, EVENT, 0xD0FF, request_id = connection_id, the Ack}: now the
	 * connection is the backend's; what the broker writes ends here. */
	rp_buf_clear(&b->scratch);
	if (rp_wire_ack_encode(&b->scratch, RP_KIND_EVENT, p->corr, p->tok,
	    RP_TOKEN_LEN, 1, NULL, p->corr) < 0) {
		conn_close(b, c, CONN_CLOSE_HANDOFF_FAILED);
		return;
	}
	(void)conn_reply(b, c, &b->scratch, CONN_THEN_HANDED_OFF);
}

void
handoff_key_close(struct broker *b, struct bkey *k, enum handoff_outcome why,
    const char *detail)
{
	struct hconn *hc = &k->ho;
	struct hpend p;
	uint32_t i;

	/* Acks that came and were not read yet (lazy) end their transfers
	 * as they say, not as why (unless this is the reading itself). */
	if (hc->fd >= 0 && k->event_backend && hc->ring.n > 0 && !hc->reading)
		read_acks(b, k);
	if (hc->fd >= 0) {
		/* Windows: what was given for transfers that end here goes
		 * back first, while the backend can still be named. */
		for (i = 0; i < hc->ring.n; i++)
			if (!hring_at(&hc->ring, i)->done)
				rp_fdpass_take_back(hc->fd,
				    hring_at(&hc->ring, i)->value);
		if (hc->in_loop)
			(void)rp_loop_del(b->loop, hc->fd);
		rp_fd_close(&hc->fd);
		b->nhconns--;
	}
	hc->in_loop = 0;
	hc->events = 0;
	rp_frame_decoder_reset(&hc->dec);
	rp_buf_clear(&hc->out);
	if (hc->timer != 0) {
		rp_loop_timer_cancel(b->loop, hc->timer);
		hc->timer = 0;
	}
	if (hc->settle != 0) {
		rp_loop_timer_cancel(b->loop, hc->settle);
		hc->settle = 0;
	}
	hc->unread = 0;
	hc->retry_at = 0;
	/* Each is taken off the ring before it is finished: finishing one
	 * may close connections and start a stop that comes back here. */
	while (hring_pop(&hc->ring, &p))
		if (!p.done)
			transfer_end(b, k, &p, why, detail);
}

void
handoff_close_all(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		handoff_key_close(b, k, HANDOFF_SHUTDOWN,
		    "the broker is stopping");
}

void
handoff_key_free(struct bkey *k)
{
	rp_fd_close(&k->ho.fd);
	rp_frame_decoder_reset(&k->ho.dec);
	rp_buf_free(&k->ho.out);
	hring_free(&k->ho.ring);
}

/* ---------------------------------------------------------------- Acks */

/* One Ack.  Returns 0, or -1 when the connection was closed. */
static int
ack(struct broker *b, struct bkey *k, uint8_t *body, size_t len)
{
	struct hconn *hc = &k->ho;
	Rp__HandoffAck *a;
	struct hpend *p = NULL;
	const char *why = NULL;
	char msg[128];

	/* Any request_id: Acks come in the order the backend answers. */
	a = rp_wire_ack_parse(body, len, RP_KIND_RESPONSE, 0, 0, &why);
	free(body);
	if (a != NULL && (p = hring_find(&hc->ring, a->correlation_id)) ==
	    NULL) {
		rp_utf8_fmt(msg, sizeof(msg), "an Ack for no transfer in "
		    "flight (correlation_id %" PRIu64 ")", a->correlation_id);
		why = msg;
	} else if (a != NULL) {
		/* The Ack must name the very token of that transfer. */
		if (a->token.len != RP_TOKEN_LEN ||
		    !rp_token_equal(a->token.data, p->tok))
			transfer_end(b, k, p, HANDOFF_BAD_ACK,
			    "the Ack carries another token");
		else if (!a->accepted) {
			k->refusals[refusal_of(a->error_detail)]++;
			transfer_end(b, k, p, HANDOFF_REFUSED, a->error_detail);
		}
		else
			transfer_end(b, k, p, HANDOFF_ACCEPTED, NULL);
		rp_wire_free(a);
		hring_trim(&hc->ring);
		return 0;
	}
	rp_wire_free(a);
	/* A backend that answers out of turn cannot be trusted with the
	 * transfers still in flight either. */
	handoff_key_close(b, k, HANDOFF_BAD_ACK, why);
	return -1;
}

static void watch(struct broker *b, struct bkey *k);

/*
 * One read of Acks: 1 when it filled the buffer (more may be there), 0
 * when it did not, -1 when the connection was closed.
 */
static int
read_some_acks(struct broker *b, struct bkey *k)
{
	struct hconn *hc = &k->ho;
	enum rp_frame_status st;
	uint8_t buf[ACK_READ], *body;
	size_t off = 0, used, len;
	ssize_t n;

	do
		n = rp_io_recv_nowait(hc->fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return 0;
	if (n <= 0) {
		char why[128];

		rp_utf8_fmt(why, sizeof(why), "%s%s", n == 0 ?
		    "the backend closed its handoff connection" :
		    "the handoff connection failed: ",
		    n == 0 ? "" : strerror(errno));
		handoff_key_close(b, k, HANDOFF_BACKEND_GONE, why);
		return -1;
	}
	while (off < (size_t)n) {
		st = rp_frame_decoder_feed(&hc->dec, buf + off, (size_t)n - off,
		    &used);
		off += used;
		if (st == RP_FRAME_MORE)
			continue;
		if (st != RP_FRAME_OK) {
			handoff_key_close(b, k, HANDOFF_BAD_ACK,
			    rp_frame_status_str(st));
			return -1;
		}
		body = rp_frame_decoder_take(&hc->dec, &len);
		if (ack(b, k, body, len) < 0)
			return -1;
	}
	return (size_t)n == sizeof(buf);
}

/* Read what Acks there are: one read as they come (the rest, if any,
 * wakes us again); lazily, until a read leaves some room. */
static void
read_acks(struct broker *b, struct bkey *k)
{
	struct hconn *hc = &k->ho;
	int r;

	hc->reading = 1;
	hc->unread = 0;
	do
		r = read_some_acks(b, k);
	while (r == 1 && k->event_backend);
	hc->reading = 0;
	if (r >= 0 && k->event_backend)
		watch(b, k);
}

/* Acks are read as they come, except the lazy ones: those only while
 * nothing is in flight, which is when only a hang-up can come. */
static void
watch(struct broker *b, struct bkey *k)
{
	struct hconn *hc = &k->ho;
	unsigned ev = hc->out.len > 0 ? RP_LOOP_WRITE : 0;

	if (!k->event_backend || hc->ring.n == 0)
		ev |= RP_LOOP_READ;
	if (ev != hc->events && rp_loop_mod(b->loop, hc->fd, ev) == 0)
		hc->events = ev;
}

static void
settle_cb(struct rp_loop *loop, void *arg)
{
	struct bkey *k = arg;

	(void)loop;
	k->ho.settle = 0;
	read_acks(k->b, k);
	/* Some are not back yet: look again later (their deadline is
	 * the other timer's). */
	if (k->ho.fd >= 0 && k->ho.ring.n > 0)
		k->ho.settle = rp_loop_timer(k->b->loop, rp_loop_now(loop) +
		    ACK_SETTLE_MS, settle_cb, k);
}

void
handoff_settle_all(struct broker *b)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->event_backend && k->ho.fd >= 0 && k->ho.ring.n > 0)
			read_acks(b, k);
}

/* Write offer bytes the socket did not take before.  0, or -1 when the
 * connection was closed. */
static int
flush(struct broker *b, struct bkey *k)
{
	struct hconn *hc = &k->ho;
	ssize_t n;

	while (hc->out.len > 0) {
		n = rp_io_send_nowait(hc->fd, hc->out.data, hc->out.len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n < 0) {
			char why[128];

			rp_utf8_fmt(why, sizeof(why),
			    "the handoff connection failed: %s",
			    strerror(errno));
			handoff_key_close(b, k, HANDOFF_BACKEND_GONE, why);
			return -1;
		}
		memmove(hc->out.data, hc->out.data + n, hc->out.len - (size_t)n);
		hc->out.len -= (size_t)n;
	}
	watch(b, k);
	return 0;
}

static void
hconn_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct bkey *k = arg;
	struct broker *b = k->b;

	(void)loop;
	(void)fd;
	if ((ev & RP_LOOP_WRITE) && flush(b, k) < 0)
		return;
	if (ev & (RP_LOOP_READ | RP_LOOP_HUP | RP_LOOP_ERR))
		read_acks(b, k);
}

static void
hconn_timer_cb(struct rp_loop *loop, void *arg)
{
	struct bkey *k = arg;
	struct broker *b = k->b;
	struct hconn *hc = &k->ho;
	char why[96];

	hc->timer = 0;
	/* A lazy Ack may be there, unread. */
	if (k->event_backend && hc->fd >= 0 && hc->ring.n > 0)
		read_acks(b, k);
	hring_trim(&hc->ring);
	if (hc->ring.n == 0)
		return;
	if (hring_at(&hc->ring, 0)->deadline > rp_loop_now(loop)) {
		arm(b, k);
		return;
	}
	/* Acks come in order: the others are behind this one. */
	rp_utf8_fmt(why, sizeof(why), "no Ack within %" PRId64 " ms",
	    b->cfg.handoff_timeout_ms);
	handoff_key_close(b, k, HANDOFF_ACK_TIMEOUT, why);
}

/* ------------------------------------------------------------- set-up */

/* Open k's handoff connection.  0, or -1 with why filled. */
static int
hconn_open(struct broker *b, struct bkey *k, char *why, size_t whysz)
{
	struct hconn *hc = &k->ho;
	struct rp_peercred pc = { 0 };
	int64_t now = rp_loop_now(b->loop);
	int fd;

	if (now < hc->retry_at) {
		rp_utf8_fmt(why, whysz, "%s could not be reached a moment ago",
		    k->hpipe);
		return -1;
	}
	/* A Unix-socket connect completes at once or fails; a full backlog
	 * (EAGAIN) is a failure like any other here. */
	fd = rp_sock_connect(k->hpipe, 1, 0);
	if (fd < 0) {
		rp_utf8_fmt(why, whysz, "cannot connect to %s: %s", k->hpipe,
		    strerror(errno));
		hc->retry_at = now + RETRY_MS;
		return -1;
	}
	/* Only a process of our own uid may take our clients' connections. */
	if (rp_sock_peercred(fd, &pc) < 0 ||
	    !rp_peercred_allowed(&pc, NULL, 0)) {
		rp_utf8_fmt(why, whysz, "%s is served by uid %u, not ours",
		    k->hpipe, (unsigned)pc.uid);
		rp_fd_close(&fd);
		hc->retry_at = now + RETRY_MS;
		return -1;
	}
	if (rp_loop_add(b->loop, fd, RP_LOOP_READ, hconn_cb, k) < 0) {
		rp_utf8_fmt(why, whysz, "cannot watch %s: %s", k->hpipe,
		    strerror(errno));
		close(fd);
		return -1;
	}
	hc->fd = fd;
	hc->in_loop = 1;
	hc->events = RP_LOOP_READ;
	rp_frame_decoder_init(&hc->dec, RP_FRAME_SMALL_MAX);
	b->nhconns++;
	return 0;
}

int
handoff_prepare(struct broker *b, struct conn *c, struct bkey *k)
{
	struct hconn *hc = &k->ho;
	char why[400];

	if (!b->cfg.handoff || k->hpipe[0] == '\0' || c->hello == NULL ||
	    !(c->hello->client_capabilities & RP_CAP_HANDLE_PASSING))
		return 0;
	if (hc->fd < 0 && hconn_open(b, k, why, sizeof(why)) < 0) {
		count(b, k, HANDOFF_NO_SOCKET, c->corr, why);
		return 0;
	}
	/* The fd must follow every byte already queued on the connection;
	 * a backend that is not keeping up gets no more for now. */
	/* Lazy Acks may have come back for some of those in flight. */
	if (hc->ring.n >= HPEND_MAX && k->event_backend) {
		read_acks(b, k);
		if (hc->fd < 0) {
			count(b, k, HANDOFF_NO_SOCKET, c->corr,
			    "the handoff connection closed");
			return 0;
		}
	}
	if (hc->ring.n >= HPEND_MAX || hc->out.len > 0) {
		count(b, k, HANDOFF_BUSY, c->corr,
		    "the backend is not keeping up");
		return 0;
	}
	if (rp_token_store_issue(b->tokens, rp_loop_now(b->loop),
	    c->tok) < 0) {
		count(b, k, HANDOFF_BUSY, c->corr, "too many handoffs pending");
		return 0;
	}
	c->hk = k;
	k->hrefs++;
	return 1;
}

void
handoff_drop(struct broker *b, struct conn *c, enum handoff_outcome why)
{
	struct bkey *k = c->hk;

	if (k == NULL)
		return;
	c->hk = NULL;
	k->hrefs--;
	(void)rp_token_store_revoke(b->tokens, c->tok);
	if (why < HANDOFF_OUTCOMES)
		count(b, k, why, c->corr, why == HANDOFF_CLIENT_GONE ?
		    "the client left before its connection was sent" : NULL);
}

/* The transfer could not be made: the client's connection is closed
 * without a word, and it reconnects. */
static void
fail_now(struct broker *b, struct bkey *k, struct conn *c,
    enum handoff_outcome o, const char *detail)
{
	(void)rp_token_store_revoke(b->tokens, c->tok);
	count(b, k, o, c->corr, detail);
	conn_close(b, c, CONN_CLOSE_HANDOFF_FAILED);
}

/* The outcome of a handle the platform could not give (fail is one of
 * rp_fdpass_give's classes past RP_GIVE_CHANNEL). */
static enum handoff_outcome
give_outcome(enum rp_give_fail fail)
{
	switch (fail) {
	case RP_GIVE_OPEN_PROCESS:
		return HANDOFF_OPEN_PROCESS_FAILED;
	case RP_GIVE_PERMISSION_DENIED:
		return HANDOFF_PERMISSION_DENIED;
	case RP_GIVE_INTEGRITY_MISMATCH:
		return HANDOFF_INTEGRITY_MISMATCH;
	case RP_GIVE_DUPLICATE_FAILED:
	default:
		return HANDOFF_DUPLICATE_FAILED;
	}
}

void
handoff_transfer(struct broker *b, struct conn *c)
{
	struct bkey *k = c->hk;
	struct hconn *hc = &k->ho;
	struct hpend p;
	enum rp_give_fail fail;
	char why[200];
	ssize_t n;
	int keep = !k->event_backend;

	c->hk = NULL;
	k->hrefs--;
	/* Only when the reply had to wait for the client can the handoff
	 * connection have changed since handoff_prepare. */
	if (hc->fd < 0 || hc->out.len > 0) {
		fail_now(b, k, c, hc->fd < 0 ? HANDOFF_BACKEND_GONE :
		    HANDOFF_BUSY, hc->fd < 0 ?
		    "the handoff connection is gone" :
		    "the backend is not keeping up");
		return;
	}
	/* The token and the fd in one message, the offer right behind it,
	 * in one system call: the backend wakes once, with both there
	 * (Windows: the handle duplicated into the backend, then the offer
	 * that names it). */
	memset(&p, 0, sizeof(p));
	n = rp_handoff_offer_nowait(hc->fd, c->fd, c->tok, k->service, c->corr,
	    &b->scratch, &p.value, &fail, why, sizeof(why));
	if (n < 0) {
		int err = errno;

		if (err == ENOMEM) {
			fail_now(b, k, c, HANDOFF_BUSY,
			    "cannot encode the offer");
			return;
		}
		if (fail > RP_GIVE_CHANNEL) {
			/* Windows: the handle could not be given to the
			 * backend's process, for this reason. */
			fail_now(b, k, c, give_outcome(fail), why);
			return;
		}
		if (err == EAGAIN || err == EWOULDBLOCK) {
			fail_now(b, k, c, HANDOFF_BUSY,
			    "the handoff socket is full");
			return;
		}
		rp_utf8_fmt(why, sizeof(why), "sending the connection: %s",
		    strerror(err));
		fail_now(b, k, c, HANDOFF_BACKEND_GONE, why);
		handoff_key_close(b, k, HANDOFF_BACKEND_GONE, why);
		return;
	}
	p.corr = c->corr;
	p.deadline = rp_loop_now(b->loop) + b->cfg.handoff_timeout_ms;
	memcpy(p.tok, c->tok, RP_TOKEN_LEN);
	if (keep) {
		/* The spec's sequence: the event is ours to write once the
		 * backend has acked, so the connection stays, silent. */
		p.c = c;
		conn_hold(b, c);
	}
	if (hring_push(&hc->ring, &p) < 0) {
		/* The fd is on its way but cannot be accounted for: the
		 * connection to this backend starts over. */
		fail_now(b, k, c, HANDOFF_BUSY, "out of memory");
		handoff_key_close(b, k, HANDOFF_BACKEND_GONE, "out of memory");
		return;
	}
	if (!keep)
		/* The kernel holds the fd in flight; ours is not needed. */
		conn_close(b, c, CONN_CLOSE_HANDED_OFF);
	if ((size_t)n < b->scratch.len) {
		/* What of the offer the socket did not take goes when it
		 * can; nothing else may be sent before it. */
		if (rp_buf_append(&hc->out, b->scratch.data + n,
		    b->scratch.len - (size_t)n) < 0) {
			handoff_key_close(b, k, HANDOFF_BACKEND_GONE,
			    "out of memory");
			return;
		}
	}
	if (k->event_backend) {
		/* The Acks of a burst are read together, or soon after. */
		if (++hc->unread >= ACK_BATCH) {
			read_acks(b, k);
			if (hc->fd < 0)
				return;
		} else if (hc->settle == 0) {
			hc->settle = rp_loop_timer(b->loop, rp_loop_now(b->loop) +
			    ACK_SETTLE_MS, settle_cb, k);
		}
	}
	watch(b, k);
	arm(b, k);
}
