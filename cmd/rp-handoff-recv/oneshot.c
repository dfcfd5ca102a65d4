/*
 * oneshot.c — rp-handoff-recv SOCKET: take --count transfers, one
 * connection at a time, each judged by 40-handoff.md; use the fds.  The
 * run stops at the first transfer that fails.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rp.h"
#include "recv.h"

#define SIDEBAND_BUF 64

/* Put the received fd where PROG expects it: --fd N, else by what the fd
 * can do: a readable and writable one (a socket) on 0 and 1, a read-only
 * one on 0, a write-only one on 1, so `-- cat` works for each. */
static size_t
place_fd(const struct recv_opts *o, int fd, struct rp_spawn_fd map[2])
{
	int mode = rp_fd_mode(fd);
	size_t n = 0;

	if (o->fd >= 0) {
		map[n++] = (struct rp_spawn_fd){ fd, o->fd };
		return n;
	}
	if (mode < 0 || (mode & RP_IO_READ))
		map[n++] = (struct rp_spawn_fd){ fd, 0 };
	if (mode < 0 || (mode & RP_IO_WRITE))
		map[n++] = (struct rp_spawn_fd){ fd, 1 };
	return n;
}

/*
 * An offer frame of len bytes, more than the cap: refused, but answered
 * (40-handoff.md step 4).  Up to RP_FRAME_MAX its body (rest: the part
 * already read) is read to its end under the deadline, dropped as it
 * streams past, so that the Ack can echo its request_id; past that nothing
 * is read.  Returns the exit status.
 */
static int
offer_too_large(int cfd, uint32_t len, const uint8_t *rest, size_t nrest,
    const uint8_t *side, size_t got, int64_t deadline)
{
	struct rp_framescan scan;
	struct rp_buf ack = { 0 };
	uint8_t buf[16384];
	uint64_t left;
	ssize_t n;
	int read_all = len <= RP_FRAME_MAX;

	cli_warn("the offer frame of %lu bytes is more than %u; closed the "
	    "received fd", (unsigned long)len, RP_FRAME_SMALL_MAX);
	rp_framescan_init(&scan, read_all ? len : 0);
	if (read_all && nrest > 0)
		(void)rp_framescan_feed(&scan, rest, nrest);
	while ((left = rp_framescan_left(&scan)) > 0) {
		if (rp_io_wait(cfd, RP_IO_READ, deadline) < 0) {
			cli_warn("the rest of the offer did not arrive before "
			    "the deadline");
			rp_framescan_free(&scan);
			return RP_EXIT_DEADLINE;
		}
		n = rp_io_read_some(cfd, buf, left < sizeof(buf) ?
		    (size_t)left : sizeof(buf));
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			continue;
		if (n <= 0) {
			cli_warn("reading the offer: %s", n == 0 ?
			    rp_frame_status_str(RP_FRAME_INCOMPLETE) :
			    strerror(errno));
			rp_framescan_free(&scan);
			return RP_EXIT_PROTOCOL;
		}
		(void)rp_framescan_feed(&scan, buf, (size_t)n);
	}
	if (rp_handoff_ack_too_large(&ack, read_all ? &scan : NULL, side,
	    got) != 0 ||
	    rp_io_write_full(cfd, ack.data, ack.len, deadline) != 0)
		cli_warn("cannot send the ack: %s", strerror(errno));
	rp_buf_free(&ack);
	rp_framescan_free(&scan);
	return RP_EXIT_PROTOCOL;
}

/* The offer that follows the sideband (side, got bytes), under the
 * deadline.  Returns the frame body (malloc'd) or NULL with the exit
 * status in *rc. */
static uint8_t *
read_offer(int cfd, const uint8_t *spill, size_t nspill,
    const uint8_t *side, size_t got, int64_t deadline, size_t *len, int *rc)
{
	struct rp_frame_decoder dec;
	enum rp_frame_status st;
	size_t used = 0;
	uint8_t *body;

	*rc = RP_EXIT_INTERNAL;
	rp_frame_decoder_init(&dec, RP_FRAME_SMALL_MAX);
	st = nspill ? rp_frame_decoder_feed(&dec, spill, nspill, &used) :
	    RP_FRAME_MORE;
	while (st == RP_FRAME_MORE) {
		if (rp_io_wait(cfd, RP_IO_READ, deadline) < 0) {
			cli_warn("the offer did not arrive before the "
			    "deadline; closed the received fd");
			rp_frame_decoder_reset(&dec);
			*rc = RP_EXIT_DEADLINE;
			return NULL;
		}
		st = rp_frame_decoder_read(&dec, cfd);
	}
	if (st == RP_FRAME_TOO_LARGE) {
		*rc = offer_too_large(cfd, dec.len, spill + used,
		    nspill - used, side, got, deadline);
		rp_frame_decoder_reset(&dec);
		return NULL;
	}
	if (st != RP_FRAME_OK || used != nspill) {
		cli_warn("reading the offer: %s; closed the received fd",
		    st == RP_FRAME_IO ? strerror(errno) :
		    st == RP_FRAME_OK ? "bytes after it" :
		    rp_frame_status_str(st));
		*rc = st == RP_FRAME_IO ? rp_exit_from_errno(errno) :
		    RP_EXIT_PROTOCOL;
		rp_frame_decoder_reset(&dec);
		return NULL;
	}
	body = rp_frame_decoder_take(&dec, len);
	if (body == NULL && *len == 0)
		body = calloc(1, 1);    /* an empty frame is still a frame */
	return body;
}

/*
 * Accept one connection and take one transfer from it.  Returns 0 with
 * the accepted fd in *out (close-on-exec), or the exit status; every fd
 * received on the way is closed on failure.
 */
static int
take_one(const struct recv_opts *o, int lfd, struct rp_token_store *store,
    int64_t deadline, int *out)
{
	struct rp_peercred peer;
	struct rp_buf ack = { 0 };
	enum rp_fdpass_status fst;
	Rp__HandoffOffer *offer = NULL;
	const char *detail, *why = NULL;
	uint8_t side[SIDEBAND_BUF], *body;
	char msg[96];
	size_t got, len, spill;
	int cfd, rfd = -1, nfds, rc;

	*out = -1;
	for (;;) {
		if (rp_io_wait(lfd, RP_IO_READ, deadline) < 0) {
			cli_warn("no transfer arrived before the deadline");
			return RP_EXIT_DEADLINE;
		}
		cfd = rp_sock_accept(lfd, 0);
		if (cfd >= 0)
			break;
		if (errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != ECONNABORTED) {
			cli_warn("cannot accept: %s", strerror(errno));
			return RP_EXIT_INTERNAL;
		}
	}
	if (rp_sock_peercred(cfd, &peer) != 0 ||
	    !recv_uid_allowed(o, peer.uid)) {
		cli_warn("refused a connection from uid %u (pid %u)",
		    (unsigned)peer.uid, (unsigned)peer.pid);
		rp_fd_close(&cfd);
		return RP_EXIT_NO;
	}
	fst = rp_fdpass_recv(cfd, side, sizeof(side), &got, &rfd, &nfds,
	    deadline);
	switch (fst) {
	case RP_FDPASS_TIMEOUT:
		cli_warn("nothing was sent before the deadline");
		rp_fd_close(&cfd);
		return RP_EXIT_DEADLINE;
	case RP_FDPASS_EOF:
		cli_warn("the sender closed the connection without sending");
		rp_fd_close(&cfd);
		return RP_EXIT_PROTOCOL;
	case RP_FDPASS_IO:
		rc = rp_exit_from_errno(errno);
		cli_warn("receiving: %s", strerror(errno));
		rp_fd_close(&cfd);
		return rc;
	default:
		break;
	}
	if (!o->raw) {
		spill = rp_handoff_sideband_spill(fst, side, got);
		if (spill)
			got = RP_TOKEN_LEN;
		body = read_offer(cfd, side + RP_TOKEN_LEN, spill, side, got,
		    deadline, &len, &rc);
		if (body == NULL) {
			rp_fd_close(&rfd);
			rp_fd_close(&cfd);
			return rc;
		}
		offer = rp_wire_offer_parse(body, len, &why);
		free(body);
		if (offer == NULL) {
			cli_warn("malformed offer: %s; closed the received fd",
			    why ? why : "bad frame");
			/* Nothing to correlate with, but say no anyway. */
			if (rp_wire_ack_encode(&ack, RP_KIND_RESPONSE, 0, NULL,
			    0, 0, why, 0) == 0)
				(void)rp_io_write_full(cfd, ack.data, ack.len,
				    deadline);
			rp_buf_free(&ack);
			rp_fd_close(&rfd);
			rp_fd_close(&cfd);
			return RP_EXIT_PROTOCOL;
		}
	}
	detail = rp_handoff_judge(fst, nfds, side, got, offer, store,
	    RP_HANDOFF_EXPECT, rp_now_ms(), msg, sizeof(msg));
	rc = detail == NULL ? RP_EXIT_OK : RP_EXIT_NO;
	if (offer != NULL) {
		if (rp_wire_ack_encode(&ack, RP_KIND_RESPONSE,
		    offer->correlation_id, offer->token.data, offer->token.len,
		    detail == NULL, detail, offer->correlation_id) != 0 ||
		    rp_io_write_full(cfd, ack.data, ack.len, deadline) != 0) {
			/* The sender will not learn it was accepted, and so
			 * will not count on it: neither do we. */
			cli_warn("cannot send the ack: %s; closed the received "
			    "fd", strerror(errno));
			if (rc == RP_EXIT_OK)
				rc = rp_exit_from_errno(errno);
		}
		rp_buf_free(&ack);
		rp_wire_free(offer);
	}
	rp_fd_close(&cfd);
	if (detail != NULL)
		cli_warn("rejected a transfer: %s; closed the received fd",
		    detail);
	if (rc != RP_EXIT_OK) {
		rp_fd_close(&rfd);
		return rc;
	}
	*out = rfd;
	return RP_EXIT_OK;
}

/* No PROG: what the fd yields goes to stdout (and stdin to it when it is
 * a socket); a write-only fd gets stdin. */
static int
copy_fd(int fd)
{
	int mode = rp_fd_mode(fd);
	int r;

	if (mode >= 0 && !(mode & RP_IO_READ))
		r = rp_relay(STDIN_FILENO, -1, fd);
	else
		r = rp_relay(fd, STDIN_FILENO, STDOUT_FILENO);
	if (r != 0) {
		cli_warn("copying: %s", strerror(errno));
		return errno == EPIPE ? RP_EXIT_PROTOCOL : RP_EXIT_INTERNAL;
	}
	return RP_EXIT_OK;
}

/* Exec PROG on fd, in this process (count 1). */
static int
exec_prog(const struct recv_opts *o, int fd)
{
	struct rp_spawn_fd map[2];
	struct rp_spawn sp = { .argv = o->prog, .fds = map };

	sp.nfds = place_fd(o, fd, map);
	if (rp_spawn_exec(&sp) != 0) {
		cli_warn("cannot run %s: %s", o->prog[0], strerror(errno));
		return rp_exit_from_exec_errno(errno);
	}
	return RP_EXIT_INTERNAL;
}

/* Start PROG on fd (count > 1); the fd is closed here. */
static pid_t
start_prog(const struct recv_opts *o, int fd, int *rc)
{
	struct rp_spawn_fd map[2];
	struct rp_spawn sp = { .argv = o->prog, .fds = map,
		.flags = RP_SPAWN_KEEP_STD };
	int exec_failed = 0;
	pid_t pid;

	sp.nfds = place_fd(o, fd, map);
	pid = rp_spawn(&sp, &exec_failed);
	if (pid < 0) {
		cli_warn("cannot run %s: %s", o->prog[0], strerror(errno));
		*rc = exec_failed ? rp_exit_from_exec_errno(errno) :
		    RP_EXIT_INTERNAL;
	}
	rp_fd_close(&fd);
	return pid;
}

int
recv_oneshot(struct recv_opts *o)
{
	struct rp_sock_listener l;
	struct rp_token_store *store;
	struct rp_spawn_status st;
	int64_t deadline = rp_deadline_in(o->timeout_ms), ttl;
	pid_t *kids;
	unsigned i, nkids = 0;
	char why[256];
	int rc = RP_EXIT_OK, fd;

	/* An expected token lives as long as the run may (and at least as
	 * long as the spec's 30 s). */
	ttl = o->timeout_ms + 1 > RP_TOKEN_TTL_MS ? o->timeout_ms + 1 :
	    RP_TOKEN_TTL_MS;
	store = rp_token_store_new(o->ntokens, ttl);
	kids = calloc(o->count, sizeof(pid_t));
	if (store == NULL || kids == NULL) {
		cli_warn("out of memory");
		rp_token_store_free(store);
		free(kids);
		return RP_EXIT_INTERNAL;
	}
	for (i = 0; i < o->ntokens; i++)
		(void)rp_token_store_expect(store, o->tokens[i], rp_now_ms());
	if (rp_sock_listen(o->socket, RP_DIR_SAFE, 16, &l, why,
	    sizeof(why)) != 0) {
		rc = rp_exit_from_errno(errno);
		cli_warn("cannot listen on %s: %s%s%s", o->socket,
		    strerror(errno), why[0] ? ": " : "", why);
		goto out;
	}
	recv_ready(o);
	for (i = 0; i < o->count && rc == RP_EXIT_OK; i++) {
		rc = take_one(o, l.fd, store, deadline, &fd);
		if (rc != RP_EXIT_OK)
			break;
		/* A peer that made it non-blocking shares it with us;
		 * programs and copying expect a blocking fd. */
		(void)rp_fd_set_nonblock(fd, 0);
		if (o->prog == NULL) {
			rc = copy_fd(fd);
			rp_fd_close(&fd);
		} else if (o->count == 1) {
			rp_sock_unlisten(&l);
			rp_token_store_free(store);
			store = NULL;
			free(kids);
			rc = exec_prog(o, fd);
			rp_fd_close(&fd);
			return rc;
		} else {
			kids[nkids] = start_prog(o, fd, &rc);
			if (kids[nkids] > 0)
				nkids++;
		}
	}
	rp_sock_unlisten(&l);
out:
	/* Every run started is waited for; the first failure, in order,
	 * is the status when all transfers went well. */
	for (i = 0; i < nkids; i++)
		if (rp_spawn_wait(kids[i], 0, &st) == 1 && rc == RP_EXIT_OK)
			rc = rp_spawn_status_exit(&st);
	rp_token_store_free(store);
	free(kids);
	return rc;
}
