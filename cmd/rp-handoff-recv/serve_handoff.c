/*
 * serve_handoff.c — transfers from the broker on --handoff SOCKET: only
 * from the broker's uid (and pid), any number back to back on one
 * connection, each one answered; an accepted connection is served like a
 * client with RP_ROUTE=handoff.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

/* ------------------------------------------------------ handoff intake */

/*
 * An accepted transfer: serve the received fd like a client.  With
 * --handoff-event backend the client first hears from us that the handoff
 * happened; in echo mode that event and the answer to a request the
 * client already sent go out in one write.
 */
static void
adopt(struct serve *sv, int fd, uint64_t correlation_id,
    const uint8_t tok[RP_TOKEN_LEN])
{
	struct rp_peercred peer;
	struct rp_buf ev = { 0 };
	struct conn *c;
	int have_peer = 0;

	if (sv->o->event_backend && rp_wire_ack_encode(&ev, RP_KIND_EVENT,
	    correlation_id, tok, RP_TOKEN_LEN, 1, NULL, correlation_id) != 0) {
		cli_warn("cannot encode the handoff event: %s",
		    strerror(errno));
		rp_fd_close(&fd);
		return;
	}
	if (sv->o->echo && sv->busy < sv->o->max_conns &&
	    ev.len <= sizeof(c->buf)) {
		/* The peer's identity only matters to PROG's environment.
		 * Nothing is asked of the system for the fd: it came
		 * close-on-exec (MSG_CMSG_CLOEXEC), it is read and written
		 * with MSG_DONTWAIT whatever flags its sender gave it, and
		 * the loop is told of it only when it has to wait. */
		if ((c = conn_new(sv, fd, C_ECHO, 1)) == NULL) {
			cli_warn("cannot take a handed-off connection: %s",
			    strerror(errno));
			rp_buf_free(&ev);
			rp_fd_close(&fd);
			return;
		}
		c->route = ROUTE_HANDOFF;
		c->nowait = 1;
		c->classified = 1;   /* a handed-off client is never a probe */
		if (ev.len > 0) {
			memcpy(c->buf, ev.data, ev.len);
			c->len = (uint32_t)ev.len;
			c->fill = 1;
		}
		rp_buf_free(&ev);
		echo_start(c);
		return;
	}
	/* We tell the client ourselves, before anything else is written on
	 * the connection. */
	if (ev.len > 0 && rp_io_write_full(fd, ev.data, ev.len,
	    rp_loop_now(sv->loop) + sv->o->timeout_ms) != 0) {
		cli_warn("cannot write the handoff event: %s",
		    strerror(errno));
		rp_buf_free(&ev);
		rp_fd_close(&fd);
		return;
	}
	rp_buf_free(&ev);
	if (!sv->o->echo)
		have_peer = rp_sock_peercred(fd, &peer) == 0;
	if (!sv->o->echo && sv->busy < sv->o->max_conns) {
		(void)serve_spawn(sv, fd, ROUTE_HANDOFF, &peer, have_peer);
		return;
	}
	if (rp_fd_set_nonblock(fd, 1) != 0 ||
	    (c = conn_new(sv, fd, C_CLASSIFY, 0)) == NULL) {
		cli_warn("cannot take a handed-off connection: %s",
		    strerror(errno));
		rp_fd_close(&fd);
		return;
	}
	c->route = ROUTE_HANDOFF;
	if (have_peer)
		c->peer = peer;
	c->have_peer = (uint8_t)have_peer;
	c->classified = 1;
	conn_serve(c);
}

void
ctl_watch(struct ctl *k)
{
	struct serve *sv = k->sv;
	unsigned ev = 0;

	if (sv->polling && k->out.len < CTL_OUT_HIGH)
		ev |= RP_LOOP_READ;
	if (k->out.len > 0)
		ev |= RP_LOOP_WRITE;
	if (ev != k->events && rp_loop_mod(sv->loop, k->fd, ev) == 0)
		k->events = ev;
}

/* Write what Acks we can; 0, or -1 when the connection is gone. */
static int
ctl_flush(struct ctl *k)
{
	ssize_t n;

	while (k->out.len > 0) {
		n = rp_io_write_some(k->fd, k->out.data, k->out.len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return -1;
		}
		memmove(k->out.data, k->out.data + n, k->out.len - (size_t)n);
		k->out.len -= (size_t)n;
	}
	ctl_watch(k);
	return 0;
}

static void
ctl_offer_timeout(struct rp_loop *loop, void *arg)
{
	struct ctl *k = arg;

	(void)loop;
	k->timer = 0;
	cli_warn("handoff: the offer did not arrive in time; closing the "
	    "received fd");
	ctl_close(k);
}

/* A whole offer frame arrived: judge the transfer and answer it.
 * Returns 0 to go on with the connection, -1 when it was closed. */
static int
ctl_offer(struct ctl *k, uint8_t *body, size_t len)
{
	struct serve *sv = k->sv;
	Rp__HandoffOffer *offer;
	const char *why = NULL, *detail;
	char msg[96];
	int rfd = k->rfd, ok;

	k->rfd = -1;
	offer = rp_wire_offer_parse(body, len, &why);
	free(body);
	if (offer == NULL) {
		/* Nothing to correlate an Ack with, but the sender hears no
		 * anyway; a peer that sends such a thing is broken, and the
		 * connection goes. */
		cli_warn("handoff: malformed offer (%s); closing the received "
		    "fd", why ? why : "bad frame");
		rp_fd_close(&rfd);
		if (rp_wire_ack_encode(&k->out, RP_KIND_RESPONSE, 0, NULL, 0, 0,
		    why, 0) == 0)
			(void)ctl_flush(k);
		ctl_close(k);
		return -1;
	}
	detail = rp_handoff_judge_replay(k->fst, k->nfds, k->side, k->got,
	    offer, sv->replay, rp_loop_now(sv->loop), msg, sizeof(msg));
	ok = detail == NULL;
	if (rp_wire_ack_encode(&k->out, RP_KIND_RESPONSE,
	    offer->correlation_id, offer->token.data, offer->token.len, ok,
	    detail, offer->correlation_id) != 0) {
		cli_warn("handoff: cannot encode the ack: %s",
		    strerror(errno));
		rp_fd_close(&rfd);
		rp_wire_free(offer);
		ctl_close(k);
		return -1;
	}
	if (ok) {
		uint8_t tok[RP_TOKEN_LEN];
		uint64_t corr = offer->correlation_id;

		memcpy(tok, offer->token.data, RP_TOKEN_LEN);
		rp_wire_free(offer);
		/* When the broker writes the event, it waits for this Ack;
		 * when we do, the client waits for us and the Ack is only
		 * the broker's accounting: it goes after (ctl_run). */
		if (!sv->o->event_backend && ctl_flush(k) != 0) {
			/* The broker is gone and will not tell the client;
			 * the client falls back to reconnecting. */
			rp_fd_close(&rfd);
			ctl_close(k);
			return -1;
		}
		adopt(sv, rfd, corr, tok);
		return 0;
	}
	cli_warn("handoff: rejected a transfer: %s", detail);
	rp_fd_close(&rfd);
	rp_wire_free(offer);
	if (ctl_flush(k) != 0) {
		ctl_close(k);
		return -1;
	}
	return 0;
}

/*
 * The offer's frame announced more than the cap.  The transfer is refused
 * whatever the offer says, so the fd that came with it is closed now; the
 * body is read to its end (rest: bytes of it already read) and dropped as
 * it streams past, and answered once it is all there (ctl_scan).  Past
 * RP_FRAME_MAX it cannot be a frame at all: answered at once, and the
 * connection, which can no longer be read in step, is closed.  0 to go
 * on, -1 when the connection was closed.
 */
static int
ctl_too_large(struct ctl *k, const uint8_t *rest, size_t nrest)
{
	uint32_t len = k->dec.len;

	rp_frame_decoder_reset(&k->dec);
	rp_fd_close(&k->rfd);
	cli_warn("handoff: an offer frame of %lu bytes, more than %u; "
	    "closing the received fd", (unsigned long)len,
	    RP_FRAME_SMALL_MAX);
	if (len > RP_FRAME_MAX) {
		if (rp_handoff_ack_too_large(&k->out, NULL, k->side,
		    k->got) == 0)
			(void)ctl_flush(k);
		ctl_close(k);
		return -1;
	}
	k->state = CTL_TOO_LARGE;
	rp_framescan_init(&k->scan, len);
	if (nrest > 0)
		(void)rp_framescan_feed(&k->scan, rest, nrest);
	return 0;
}

/*
 * Read more of an offer over the cap, a bounded amount per call (a
 * readable socket brings us back); once it has all been read, queue its
 * Ack.  1 when the frame is done, 0 to wait for more, -1 when the
 * connection was closed.
 */
static int
ctl_scan(struct ctl *k)
{
	uint8_t buf[16384];
	uint64_t left;
	ssize_t n;
	int i;

	for (i = 0; i < SCAN_ROUNDS; i++) {
		left = rp_framescan_left(&k->scan);
		if (left == 0)
			break;
		n = rp_io_read_some(k->fd, buf, left < sizeof(buf) ?
		    (size_t)left : sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return 0;
		if (n <= 0) {
			cli_warn("handoff: reading the offer: %s", n == 0 ?
			    rp_frame_status_str(RP_FRAME_INCOMPLETE) :
			    strerror(errno));
			ctl_close(k);
			return -1;
		}
		(void)rp_framescan_feed(&k->scan, buf, (size_t)n);
	}
	if (rp_framescan_left(&k->scan) > 0)
		return 0;
	rp_loop_timer_cancel(k->sv->loop, k->timer);
	k->timer = 0;
	k->state = CTL_SIDEBAND;
	if (rp_handoff_ack_too_large(&k->out, &k->scan, k->side,
	    k->got) != 0) {
		cli_warn("handoff: cannot encode the ack: %s",
		    strerror(errno));
		ctl_close(k);
		return -1;
	}
	rp_framescan_free(&k->scan);
	return 1;
}

/*
 * The bytes read with the sideband past its 16 (a sideband without an
 * fd running on into the offer, or the offer sent in the fd's very
 * message, as rp-broker does) go to the offer's decoder.  1 when they
 * hold the whole offer, 0 when more is to be read, -1 when the
 * connection was closed.
 */
static int
ctl_spill(struct ctl *k)
{
	size_t spill = rp_handoff_sideband_spill(k->fst, k->side, k->got);
	size_t used;
	enum rp_frame_status st;

	if (spill == 0)
		return 0;
	k->got = RP_TOKEN_LEN;
	st = rp_frame_decoder_feed(&k->dec, k->side + RP_TOKEN_LEN, spill,
	    &used);
	if (st == RP_FRAME_MORE && used == spill)
		return 0;
	if (st == RP_FRAME_OK && used == spill)
		return 1;
	if (st == RP_FRAME_TOO_LARGE)
		return ctl_too_large(k, k->side + RP_TOKEN_LEN + used,
		    spill - used) == 0 ? 0 : -1;
	cli_warn("handoff: %s", st == RP_FRAME_OK ? "bytes after the offer "
	    "in the transfer's message" :
	    "a transfer without an fd, and no offer after it");
	ctl_close(k);
	return -1;
}

/*
 * A transfer was taken: look for another at once (a recvmsg, which fails
 * when there is none), or leave that to the loop's next wait?  In a
 * burst, several are queued and looking pays (their Acks go out in one
 * write); one at a time, it is a failed call per transfer.  So look
 * when the last look found one, and every PROBE_EVERY transfers anyway,
 * so that a burst is noticed.  Readiness brings back whatever is left.
 */
static int
ctl_more(struct ctl *k)
{
	return k->busy || ++k->rounds % PROBE_EVERY == 0;
}

/*
 * Take transfers from one handoff connection: sideband (token + fd), then
 * the offer frame, read exactly, then the next transfer, for as long as
 * the broker keeps sending and we have room to hold what we adopt.
 */
void
ctl_run(struct ctl *k)
{
	struct serve *sv = k->sv;
	enum rp_frame_status st;
	uint8_t *body;
	size_t len;
	int round, r, taken = 0;

	for (round = 0; round < ACCEPT_BATCH; round++) {
		if (!sv->polling || k->out.len >= CTL_OUT_HIGH)
			break;
		if (k->state == CTL_TOO_LARGE) {
			r = ctl_scan(k);
			if (r < 0)
				return;
			if (r == 0)
				break;
			continue;
		}
		if (k->state == CTL_SIDEBAND) {
			/* A deadline in the past: never wait, only look. */
			if (taken > 0 && !ctl_more(k))
				break;
			k->fst = rp_fdpass_recv(k->fd, k->side, sizeof(k->side),
			    &k->got, &k->rfd, &k->nfds, 0);
			if (k->fst == RP_FDPASS_TIMEOUT) {
				if (taken > 0)
					k->busy = 0;
				break;
			}
			if (taken > 0)
				k->busy = 1;
			if (k->fst == RP_FDPASS_EOF || k->fst == RP_FDPASS_IO) {
				ctl_close(k);
				return;
			}
			k->state = CTL_OFFER;
			rp_frame_decoder_init(&k->dec, RP_FRAME_SMALL_MAX);
			if ((r = ctl_spill(k)) < 0)
				return;
			if (r == 1) {
				/* The whole offer came with the fd (from
				 * rp-broker, always): no timer, no read. */
				k->state = CTL_SIDEBAND;
				body = rp_frame_decoder_take(&k->dec, &len);
				if (ctl_offer(k, body, len) != 0)
					return;
				taken++;
				continue;
			}
			k->timer = rp_loop_timer(sv->loop, rp_loop_now(sv->loop) +
			    sv->o->timeout_ms, ctl_offer_timeout, k);
			if (k->timer == 0) {
				ctl_close(k);
				return;
			}
			if (k->state != CTL_OFFER)
				continue;       /* the spill began one too large */
		}
		st = rp_frame_decoder_read(&k->dec, k->fd);
		if (st == RP_FRAME_MORE)
			break;
		if (st == RP_FRAME_TOO_LARGE) {
			if (ctl_too_large(k, NULL, 0) != 0)
				return;
			continue;
		}
		if (st != RP_FRAME_OK) {
			cli_warn("handoff: reading the offer: %s; closing the "
			    "received fd", st == RP_FRAME_IO ? strerror(errno) :
			    rp_frame_status_str(st));
			ctl_close(k);
			return;
		}
		rp_loop_timer_cancel(sv->loop, k->timer);
		k->timer = 0;
		k->state = CTL_SIDEBAND;
		body = rp_frame_decoder_take(&k->dec, &len);
		if (ctl_offer(k, body, len) != 0)
			return;
		taken++;
	}
	/* The Acks of this round, together, once their clients are served
	 * (or the broker, which waits for them, has had each already). */
	if (k->out.len > 0) {
		if (ctl_flush(k) != 0)
			ctl_close(k);
		return;
	}
	ctl_watch(k);
}

static void
ctl_fd_cb(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	struct ctl *k = arg;

	(void)loop;
	(void)fd;
	if ((events & RP_LOOP_WRITE) && ctl_flush(k) != 0) {
		ctl_close(k);
		return;
	}
	if (events & (RP_LOOP_READ | RP_LOOP_HUP | RP_LOOP_ERR))
		ctl_run(k);
}

void
ctl_close(struct ctl *k)
{
	struct serve *sv = k->sv;

	rp_loop_del(sv->loop, k->fd);
	rp_loop_timer_cancel(sv->loop, k->timer);
	rp_fd_close(&k->fd);
	rp_fd_close(&k->rfd);
	rp_frame_decoder_reset(&k->dec);
	rp_framescan_free(&k->scan);
	rp_buf_free(&k->out);
	if (k->prev != NULL)
		k->prev->next = k->next;
	else
		sv->ctls = k->next;
	if (k->next != NULL)
		k->next->prev = k->prev;
	sv->nctls--;
	free(k);
}

/* Only the broker may hand us connections: its uid, and its pid when we
 * were told which process it is. */
static int
broker_peer_ok(const struct serve *sv, const struct rp_peercred *peer)
{
	if (peer->uid != sv->o->broker_uid)
		return 0;
	return sv->o->broker_pid == 0 || peer->pid == sv->o->broker_pid;
}

void
handoff_on_accept(struct rp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct serve *sv = arg;
	struct rp_peercred peer;
	struct ctl *k;
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH && sv->polling; i++) {
		fd = rp_sock_accept(lfd, 1);
		if (fd < 0) {
			if (serve_accept_failed(sv))
				continue;
			return;
		}
		if (rp_sock_peercred(fd, &peer) != 0 ||
		    !broker_peer_ok(sv, &peer)) {
			cli_warn("handoff: refused a connection from uid %u "
			    "(pid %u): not the broker", (unsigned)peer.uid,
			    (unsigned)peer.pid);
			rp_fd_close(&fd);
			continue;
		}
		if (sv->nctls >= MAX_CTLS) {
			cli_warn("handoff: too many handoff connections");
			rp_fd_close(&fd);
			continue;
		}
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			rp_fd_close(&fd);
			continue;
		}
		k->sv = sv;
		k->fd = fd;
		k->rfd = -1;
		k->state = CTL_SIDEBAND;
		if (rp_loop_add(loop, fd, RP_LOOP_READ, ctl_fd_cb, k) != 0) {
			cli_warn("cannot watch a handoff connection: %s",
			    strerror(errno));
			rp_fd_close(&fd);
			free(k);
			continue;
		}
		k->events = RP_LOOP_READ;
		k->next = sv->ctls;
		if (sv->ctls != NULL)
			sv->ctls->prev = k;
		sv->ctls = k;
		sv->nctls++;
		ctl_run(k);
	}
}

