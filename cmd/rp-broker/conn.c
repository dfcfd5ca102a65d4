/*
 * conn.c — a connection through its one exchange (see conn.h): read one
 * frame under the deadline, hand it to hello.c or admin.c, write the
 * reply, close or hand it on.  Accepting is listen.c's.
 *
 * Deadlines: every connection is on a deadline queue (connq.c) while it
 * reads or writes; one loop timer per queue, for its head.
 *
 * Fast path: a client usually writes its Hello right after connect, so a
 * new connection is read at once, before it is registered with the loop;
 * when the frame is already there, it is answered and closed without a
 * single epoll_ctl.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

#define FREE_CONNS_MAX 1024
/* A connection over --max-clients gets this long to send its frame, so
 * that its refusal can echo its request id (and an admin request, such as
 * readyz, is answered); at most GRACE_MAX of them at once. */
#define GRACE_MS 250
#define GRACE_MAX 64
/* A first frame over 64 KiB is read this much at a time, at most
 * BIG_STEP_MAX per readiness event, so that other clients are served in
 * between; after its reply, up to DRAIN_MAX more bytes are read and
 * dropped. */
#define BIG_CHUNK 16384
#define BIG_STEP_MAX (1u << 20)
#define DRAIN_MAX RP_FRAME_MAX
/* What the socket did not take of a reply is kept until the peer reads
 * it: at most --max-unread bytes for one connection and
 * --max-unread-total for all of them, so clients that ask and never read
 * cannot make the broker grow; past either, the connection is closed
 * (output_budget). */
/* Under fd pressure a request that came whole may evict this many silent
 * connections to get under 90 % of RLIMIT_NOFILE (conn_make_room). */
#define ROOM_EVICT_MAX 64

/* Without --handoff nothing after a connection's frame is anyone's, so
 * the frame is read with one read into this buffer (one thread), bytes
 * past it and all; with --handoff they belong to the backend and stay in
 * the socket: the header is read, then exactly the body (two reads). */
static uint8_t read_ahead[RP_FRAME_HEADER + RP_FRAME_HELLO_MAX];

static void conn_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg);
static void conn_step(struct broker *b, struct conn *c);
static void big_step(struct broker *b, struct conn *c);
static void drain_begin(struct broker *b, struct conn *c);
static void drain_step(struct broker *b, struct conn *c);

/* ------------------------------------------------------- deadline queues */

#define CONN_OF(l) \
	((struct conn *)(void *)((char *)(l) - offsetof(struct conn, link)))

static void deadline_cb(struct rp_loop *loop, void *arg);

void
conn_queues_init(struct broker *b)
{
	b->q_hello.b = b;
	connq_init(&b->q_hello.q, b->cfg.hello_timeout_ms);
	b->q_grace.b = b;
	connq_init(&b->q_grace.q, GRACE_MS < b->cfg.hello_timeout_ms ?
	    GRACE_MS : b->cfg.hello_timeout_ms);
}

/* One loop timer per queue, for its head.  A head that left before it
 * fires just has the timer re-armed for the new one. */
static void
arm_deadline(struct broker *b, struct conn_queue *cq)
{
	if (cq->q.head == NULL || cq->timer != 0)
		return;
	cq->timer = rp_loop_timer(b->loop, cq->q.head->deadline, deadline_cb,
	    cq);
}

static void
fifo_append_q(struct broker *b, struct conn_queue *cq, struct conn *c)
{
	connq_push(&cq->q, &c->link, rp_loop_now(b->loop));
	arm_deadline(b, cq);
}

static void
fifo_append(struct broker *b, struct conn *c)
{
	fifo_append_q(b, &b->q_hello, c);
}

static void
fifo_remove(struct broker *b, struct conn *c)
{
	(void)b;
	connq_remove(&c->link);
}

static void
deadline_cb(struct rp_loop *loop, void *arg)
{
	struct conn_queue *cq = arg;
	struct broker *b = cq->b;
	int64_t now = rp_loop_now(loop);
	struct connq_link *l;
	struct conn *c;

	cq->timer = 0;
	while ((l = connq_due(&cq->q, now)) != NULL) {
		c = CONN_OF(l);
		connq_remove(l);
		if (c->state == CONN_DRAINING)
			/* The reply went out; the peer just did not close. */
			conn_close(b, c, CONN_CLOSE_REPLIED);
		else if (c->state != CONN_READING)
			conn_close(b, c, CONN_CLOSE_TIMEOUT);
		else if (c->pressure)
			/* Over --max-clients and no frame in time: code 9. */
			hello_refuse_pressure_now(b, c);
		else
			/* The whole frame did not arrive in time: a read
			 * that ended mid-frame (row 3), answered once. */
			hello_refuse_frame_status(b, c, RP_FRAME_TIMEOUT);
	}
	arm_deadline(b, cq);
}

/* ----------------------------------------------------------- lifecycle */

static struct conn *
conn_new(struct broker *b)
{
	struct conn *c = b->free_conns;

	if (c != NULL) {
		b->free_conns = c->wnext;
		b->nfree--;
		memset(c, 0, sizeof(*c));
	} else if ((c = calloc(1, sizeof(*c))) == NULL) {
		return NULL;
	}
	c->b = b;
	c->fd = -1;
	rp_frame_decoder_init(&c->dec, RP_FRAME_HELLO_MAX);
	return c;
}

static void
conn_recycle(struct broker *b, struct conn *c)
{
	if (b->nfree >= FREE_CONNS_MAX) {
		free(c);
		return;
	}
	c->wnext = b->free_conns;
	b->free_conns = c;
	b->nfree++;
}

void
conn_close(struct broker *b, struct conn *c, enum conn_close why)
{
	/* A handoff prepared and never made: the client did not take its
	 * reply, or we are stopping. */
	if (c->hk != NULL)
		handoff_drop(b, c, why == CONN_CLOSE_DRAIN ? HANDOFF_SHUTDOWN :
		    HANDOFF_CLIENT_GONE);
	if (c->in_loop)
		(void)rp_loop_del(b->loop, c->fd);
	rp_fd_close(&c->fd);
	fifo_remove(b, c);
	if (c->key != NULL)
		bkey_unqueue(c->key, c);
	if (c->work != NULL)
		admin_work_forget(c);
	if (c->in_mq)
		admin_metrics_forget(b, c);
	rp_frame_decoder_reset(&c->dec);
	if (c->scan != NULL) {
		rp_framescan_free(c->scan);
		free(c->scan);
	}
	hello_free_request(c);
	b->out_pending -= c->out_len - c->out_off;
	free(c->out);
	b->nconns--;
	/* However its code 9 went (written or not), it is an eviction. */
	b->count.closed[c->evicted ? CONN_CLOSE_EVICTED : why]++;
	conn_recycle(b, c);
	listen_pressure_check(b);
	broker_check_drained(b);
}

void
conn_close_all(struct broker *b)
{
	admin_metrics_end(b, CONN_CLOSE_DRAIN);
	while (b->q_hello.q.head != NULL)
		conn_close(b, CONN_OF(b->q_hello.q.head), CONN_CLOSE_DRAIN);
	while (b->q_grace.q.head != NULL)
		conn_close(b, CONN_OF(b->q_grace.q.head), CONN_CLOSE_DRAIN);
}

static int
conn_watch(struct broker *b, struct conn *c, unsigned events)
{
	if (c->in_loop)
		return rp_loop_mod(b->loop, c->fd, events);
	if (rp_loop_add(b->loop, c->fd, events, conn_cb, c) < 0)
		return -1;
	c->in_loop = 1;
	return 0;
}

/* ---------------------------------------------------------------- state */

/* The one writer of a connection's state. */
static void
conn_set_state(struct conn *c, enum conn_state st)
{
	c->state = (uint8_t)st;
}

void
conn_wait(struct broker *b, struct conn *c, struct bkey *k)
{
	(void)b;
	conn_set_state(c, CONN_WAITING);
	bkey_enqueue(k, c);
}

void
conn_park(struct broker *b, struct conn *c)
{
	(void)b;
	conn_set_state(c, CONN_WAITING);
}

void
conn_hold(struct broker *b, struct conn *c)
{
	conn_set_state(c, CONN_HANDOFF);
	if (c->in_loop)
		(void)rp_loop_mod(b->loop, c->fd, 0);
}

/* ---------------------------------------------------------------- I/O */

/* The whole reply is written: close, or hand the connection on. */
static void
conn_done(struct broker *b, struct conn *c)
{
	if (c->then == CONN_THEN_TRANSFER) {
		b->out_pending -= c->out_len - c->out_off;
		free(c->out);
		c->out = NULL;
		c->out_len = c->out_off = 0;
		fifo_remove(b, c);
		handoff_transfer(b, c);
		return;
	}
	if (c->linger) {
		drain_begin(b, c);
		return;
	}
	conn_close(b, c, c->then == CONN_THEN_HANDED_OFF ?
	    CONN_CLOSE_HANDED_OFF : CONN_CLOSE_REPLIED);
}

/* As much of p as the socket takes now: the count, or -1 when the
 * connection failed. */
static ssize_t
send_some(int fd, const uint8_t *p, size_t len)
{
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = rp_io_send_nowait(fd, p + off, len - off);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return -1;
	}
	return (ssize_t)off;
}

static void
conn_flush(struct broker *b, struct conn *c)
{
	ssize_t n;

	n = send_some(c->fd, c->out + c->out_off, c->out_len - c->out_off);
	if (n < 0) {
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return;
	}
	c->out_off += (uint32_t)n;
	b->out_pending -= (size_t)n;
	if (c->out_off == c->out_len)
		conn_done(b, c);
}

int
conn_reply(struct broker *b, struct conn *c, const struct rp_buf *out,
    enum conn_then then)
{
	ssize_t n;
	size_t off;

	conn_set_state(c, CONN_WRITING);
	c->then = (uint8_t)then;
	n = send_some(c->fd, out->data, out->len);
	if (n < 0) {
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return 0;
	}
	off = (size_t)n;
	if (off == out->len) {
		conn_done(b, c);
		return 0;
	}
	if (out->len - off > b->cfg.max_unread ||
	    b->out_pending + (out->len - off) > b->cfg.max_unread_total) {
		conn_close(b, c, CONN_CLOSE_OUT_BUDGET);
		return 0;
	}
	c->out = malloc(out->len - off);
	if (c->out == NULL) {
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return 0;
	}
	c->out_len = (uint32_t)(out->len - off);
	c->out_off = 0;
	b->out_pending += c->out_len;
	memcpy(c->out, out->data + off, c->out_len);
	if (c->link.q == NULL)
		fifo_append(b, c);
	if (conn_watch(b, c, RP_LOOP_WRITE) < 0) {
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return 0;
	}
	return 1;
}

static void
conn_step(struct broker *b, struct conn *c)
{
	enum rp_frame_status st;
	uint8_t *body;
	size_t len, extra = 0;

	if (b->cfg.handoff)
		st = rp_frame_decoder_read(&c->dec, c->fd);
	else
		st = rp_frame_decoder_read_ahead(&c->dec, c->fd, read_ahead,
		    sizeof(read_ahead), &extra);
	switch (st) {
	case RP_FRAME_MORE:
		if (c->pressure == 2) {
			/* Accepted only to be refused, with no room to wait
			 * for its frame. */
			fifo_remove(b, c);
			hello_refuse_pressure_now(b, c);
			return;
		}
		if (!c->in_loop && conn_watch(b, c, RP_LOOP_READ) < 0)
			conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return;
	case RP_FRAME_TOO_LARGE:
		/* Over 64 KiB.  Up to 16 MiB running-process v1 reads the
		 * body and answers from it: so do we, as it streams past
		 * (big_step).  Past that it refuses at once, request_id 0;
		 * so do we, then drain, so the peer reads the refusal.
		 * Either way under the connection's deadline: it stays on
		 * its queue. */
		if (c->dec.len <= RP_FRAME_MAX) {
			c->scan = malloc(sizeof(*c->scan));
			if (c->scan == NULL) {
				conn_close(b, c, CONN_CLOSE_NO_MEMORY);
				return;
			}
			rp_framescan_init(c->scan, c->dec.len);
			rp_frame_decoder_reset(&c->dec);
			/* The start of its body, read ahead. */
			(void)rp_framescan_feed(c->scan, read_ahead, extra);
			big_step(b, c);
			return;
		}
		c->linger = 1;
		hello_refuse_frame_status(b, c, st);
		return;
	case RP_FRAME_OK:
		body = rp_frame_decoder_take(&c->dec, &len);
		/* Nothing more is read from this socket: with --handoff what
		 * follows the frame belongs to whoever gets the connection
		 * next; without, bytes read past it (extra) are dropped, as
		 * closing would drop them. */
		if (c->in_loop && rp_loop_mod(b->loop, c->fd, 0) < 0) {
			free(body);
			conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
			return;
		}
		fifo_remove(b, c);
		c->t0_ns = rp_now_ns();
		hello_frame(b, c, body, len);
		return;
	default:
		/* Including an end of stream before the first byte (a
		 * liveness check, such as another broker probing our socket):
		 * running-process v1 answers that too, "incomplete Hello
		 * frame", and so do we; a peer that is gone just does not
		 * read it. */
		fifo_remove(b, c);
		hello_refuse_frame_status(b, c, st);
		return;
	}
}

/*
 * A first frame over 64 KiB: read what has come of its body and let the
 * scanner look at it, keeping nothing but what the reply needs; once it
 * is all there, hello.c answers.  The end of stream before that is an
 * incomplete frame (row 3), request_id 0, as upstream answers it.
 */
static void
big_step(struct broker *b, struct conn *c)
{
	uint8_t buf[BIG_CHUNK];
	size_t want, done = 0;
	ssize_t n;

	while (rp_framescan_left(c->scan) > 0) {
		if (done >= BIG_STEP_MAX) {
			/* Enough for one turn; the loop brings us back. */
			if (!c->in_loop && conn_watch(b, c, RP_LOOP_READ) < 0)
				conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
			return;
		}
		want = rp_framescan_left(c->scan) < sizeof(buf) ?
		    (size_t)rp_framescan_left(c->scan) : sizeof(buf);
		n = rp_io_read_some(c->fd, buf, want);
		if (n > 0) {
			(void)rp_framescan_feed(c->scan, buf, (size_t)n);
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (c->pressure == 2) {
				/* No fd to spare for waiting. */
				fifo_remove(b, c);
				hello_refuse_pressure_now(b, c);
				return;
			}
			if (!c->in_loop && conn_watch(b, c, RP_LOOP_READ) < 0)
				conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
			return;
		}
		fifo_remove(b, c);
		hello_refuse_frame_status(b, c, n == 0 ? RP_FRAME_INCOMPLETE :
		    RP_FRAME_IO);
		return;
	}
	/* All of it: nothing more is read until the reply is out. */
	if (c->in_loop && rp_loop_mod(b->loop, c->fd, 0) < 0) {
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return;
	}
	c->t0_ns = rp_now_ns();
	c->linger = 1;
	hello_big_frame(b, c);
}

/*
 * The reply to a frame over 64 KiB is written.  Closing now, with what
 * the peer sent after the frame (or, past 16 MiB, the frame itself)
 * unread, would reset the connection, and a peer still writing would
 * never read the reply.  So our side is shut down (the peer reads the
 * reply, then the end of stream) and what it still sends is read and
 * dropped until it closes: at most DRAIN_MAX bytes, within the
 * connection's deadline.
 */
static void
drain_begin(struct broker *b, struct conn *c)
{
	c->linger = 0;
	if (c->pressure == 2 || rp_sock_shutdown_write(c->fd) < 0) {
		/* Accepted only to be refused: no fd to keep for this. */
		conn_close(b, c, CONN_CLOSE_REPLIED);
		return;
	}
	conn_set_state(c, CONN_DRAINING);
	c->drain_left = DRAIN_MAX;
	if (c->link.q == NULL)
		fifo_append(b, c);
	if (conn_watch(b, c, RP_LOOP_READ) < 0) {
		conn_close(b, c, CONN_CLOSE_REPLIED);
		return;
	}
	drain_step(b, c);
}

static void
drain_step(struct broker *b, struct conn *c)
{
	uint8_t buf[BIG_CHUNK];
	size_t done = 0;
	ssize_t n;

	while (done < BIG_STEP_MAX) {
		n = rp_io_read_some(c->fd, buf, c->drain_left < sizeof(buf) ?
		    c->drain_left : sizeof(buf));
		if (n > 0) {
			c->drain_left -= (uint32_t)n;
			done += (size_t)n;
			if (c->drain_left == 0)
				break;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		/* The end of stream (the peer read the reply and closed),
		 * or an error. */
		break;
	}
	if (done >= BIG_STEP_MAX && c->drain_left > 0)
		return;
	conn_close(b, c, CONN_CLOSE_REPLIED);
}

static void
conn_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct broker *b;
	struct conn *c = arg;

	(void)loop;
	(void)fd;
	b = c->b;
	if (c->state == CONN_READING && c->scan != NULL)
		big_step(b, c);
	else if (c->state == CONN_READING)
		conn_step(b, c);
	else if (c->state == CONN_WRITING && (ev & (RP_LOOP_WRITE |
	    RP_LOOP_HUP | RP_LOOP_ERR)))
		conn_flush(b, c);
	else if (c->state == CONN_DRAINING)
		drain_step(b, c);
}

/* ------------------------------------------------------------- accept */

/*
 * The table is full (--max-clients): make room as a load balancer does,
 * by evicting the oldest connection that has not completed its frame
 * (answered code 9, "at its connection limit", request_id 0).  Oldest
 * first: q_hello is in accept order, so its READING entries are the ones
 * that have held a slot longest without asking anything; a client that
 * writes its Hello at connect is answered before it could be one.
 * Returns 1 when a slot was freed.
 */
int
conn_evict_oldest(struct broker *b, int for_fds)
{
	struct connq_link *l;
	struct conn *c;

	for (l = b->q_hello.q.head; l != NULL; l = l->next) {
		c = CONN_OF(l);
		if (c->state != CONN_READING || c->pressure)
			continue;
		connq_remove(l);
		arm_deadline(b, &b->q_hello);
		/* The reason its code 9 gives: the limit, or fds. */
		c->pressure = for_fds ? 2 : 1;
		c->evicted = 1;
		b->count.evicted++;
		hello_refuse_pressure_now(b, c);
		return 1;
	}
	return 0;
}

int
conn_make_room(struct broker *b)
{
	int i;

	for (i = 0; i < ROOM_EVICT_MAX; i++) {
		if (b->nofile_soft == UINT64_MAX ||
		    (uint64_t)broker_fds_in_use(b) * 10 < b->nofile_soft * 9)
			return 1;
		if (!conn_evict_oldest(b, 1))
			return 0;
	}
	return 0;
}

int
conn_accept(struct broker *b, int fd, uint32_t pid, uint32_t uid,
    int pressure)
{
	struct conn *c;

	if ((c = conn_new(b)) == NULL)
		return -1;
	c->fd = fd;
	c->pid = pid;
	c->uid = uid;
	if (pressure == 1 && b->q_grace.q.n >= GRACE_MAX)
		pressure = 2;
	c->pressure = (uint8_t)pressure;
	b->nconns++;
	fifo_append_q(b, pressure == 1 ? &b->q_grace : &b->q_hello, c);
	conn_step(b, c);
	return 0;
}

void
conn_free_all(struct broker *b)
{
	struct conn *c;

	while ((c = b->free_conns) != NULL) {
		b->free_conns = c->wnext;
		free(c);
	}
	b->nfree = 0;
}
