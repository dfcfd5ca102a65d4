/*
 * echo-backend — a small service backend written on librp's public
 * interface alone, for service definitions to name directly (on Windows
 * there is no shell to start examples/echo-backend, the script, with):
 *
 *   rp-servicedef write --service echo --binary /path/to/echo-backend
 *
 * It serves the endpoint the broker gives it (its argument, else
 * RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE; a named pipe on Windows, a
 * Unix socket elsewhere) and, on every connection, answers an identity
 * probe (30-identity.md) with its own identity, or echoes back whatever
 * a client sends until the client goes.  A connection is a probe when
 * its first bytes form a probe request within 100 ms.  With
 * RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE set (a broker's --handoff) it
 * also takes clients' connections handed over there (40-handoff.md: on
 * Unix the fd with its token, on Windows a handle the broker duplicated
 * into us, named by the offer), each judged, acked and echoed; one
 * transfer is taken at a time, within 2 s, and a broker of another user
 * is not listened to.  SIGINT
 * and SIGTERM (Ctrl-C and Ctrl-Break on Windows) stop it.  With
 * RP_READY_FD=N it writes a newline to fd N and closes it once it
 * listens (for scripts and tests that start it by hand).
 *
 * Exit: 0 stopped, 2 usage, 3 the endpoint is taken or cannot be made,
 * 125 it failed itself.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rp.h"

#define BUF 8192
#define PROBE_WINDOW_MS 100
#define HANDOFF_MS 2000

struct conn {
	struct rp_loop *loop;
	struct conn *next;
	int fd;
	int echoing;            /* known not to be a probe */
	int eof;
	uint64_t timer;
	size_t off, len;        /* buf[off..len): to echo */
	uint8_t buf[BUF];
};

static struct rp_buf daemon_bytes;
static struct conn *conns;
static struct rp_token_store *tokens;   /* with a handoff endpoint */
static int event_backend;               /* RP_HANDOFF_EVENT=backend */
#define HCONNS 8
static int hconns[HCONNS] = { -1, -1, -1, -1, -1, -1, -1, -1 };

/* A handoff connection of the broker's goes (or all of them: fd -1). */
static void
hconn_close(struct rp_loop *loop, int fd)
{
	int i;

	for (i = 0; i < HCONNS; i++) {
		if (hconns[i] >= 0 && (fd < 0 || hconns[i] == fd)) {
			rp_loop_del(loop, hconns[i]);
			rp_fd_close(&hconns[i]);
		}
	}
}

static void
conn_free(struct conn *c)
{
	struct conn **pp;

	for (pp = &conns; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	rp_loop_del(c->loop, c->fd);
	rp_loop_timer_cancel(c->loop, c->timer);
	rp_fd_close(&c->fd);
	free(c);
}

/* A whole probe request at the start of buf: answer it.  1 when it was
 * one (and c is gone), 0 when it is not, -1 when it may still become
 * one. */
static int
try_probe(struct conn *c)
{
	struct rp_frame_decoder dec;
	struct rp_buf out = { 0 };
	enum rp_frame_status st;
	Rp__Frame *req;
	uint8_t *body;
	size_t used = 0, len;

	rp_frame_decoder_init(&dec, RP_FRAME_SMALL_MAX);
	st = rp_frame_decoder_feed(&dec, c->buf, c->len, &used);
	if (st == RP_FRAME_MORE) {
		rp_frame_decoder_reset(&dec);
		return -1;
	}
	if (st != RP_FRAME_OK) {
		rp_frame_decoder_reset(&dec);
		return 0;
	}
	body = rp_frame_decoder_take(&dec, &len);
	if (!rp_probe_is_request(body, len)) {
		free(body);
		return 0;
	}
	req = rp_wire_unpack(&rp__frame__descriptor, body, len);
	free(body);
	if (req != NULL && rp_probe_answer(req, daemon_bytes.data,
	    daemon_bytes.len, &out) == 0)
		(void)rp_io_write_full(c->fd, out.data, out.len,
		    rp_deadline_in(2000));
	rp_wire_free(req);
	rp_buf_free(&out);
	conn_free(c);
	return 1;
}

/* Move bytes: write what is held, read more; watch what is needed. */
static void
pump(struct conn *c)
{
	unsigned ev = 0;
	ssize_t n;

	for (;;) {
		if (c->echoing && c->off < c->len) {
			n = rp_io_write_some(c->fd, c->buf + c->off,
			    c->len - c->off);
			if (n < 0 && errno != EAGAIN) {
				conn_free(c);
				return;
			}
			if (n > 0)
				c->off += (size_t)n;
			if (c->off < c->len) {
				ev = RP_LOOP_WRITE;
				break;
			}
			c->off = c->len = 0;
		}
		if (c->eof) {
			conn_free(c);
			return;
		}
		if (c->len == sizeof(c->buf)) {
			c->echoing = 1;     /* too long for a probe */
			continue;
		}
		n = rp_io_read_some(c->fd, c->buf + c->len,
		    sizeof(c->buf) - c->len);
		if (n < 0 && errno == EAGAIN) {
			ev = RP_LOOP_READ;
			break;
		}
		if (n <= 0) {
			/* What is held is echoed before we go. */
			c->eof = 1;
			c->echoing = 1;
			continue;
		}
		c->len += (size_t)n;
		if (!c->echoing) {
			int r = try_probe(c);

			if (r == 1)
				return;
			if (r == 0)
				c->echoing = 1;
		}
	}
	if (rp_loop_mod(c->loop, c->fd, ev) != 0)
		conn_free(c);
}

static void
on_conn(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	(void)loop;
	(void)fd;
	(void)ev;
	pump(arg);
}

/* The probe window is over: whatever came is a client's. */
static void
on_window(struct rp_loop *loop, void *arg)
{
	struct conn *c = arg;

	(void)loop;
	c->timer = 0;
	if (!c->echoing) {
		c->echoing = 1;
		pump(c);
	}
}

static void
on_accept(struct rp_loop *loop, int lfd, unsigned ev, void *arg)
{
	struct conn *c;
	int fd;

	(void)ev;
	(void)arg;
	while ((fd = rp_sock_accept(lfd, 1)) >= 0) {
		if ((c = calloc(1, sizeof(*c))) == NULL) {
			rp_fd_close(&fd);
			continue;
		}
		c->loop = loop;
		c->fd = fd;
		if (rp_loop_add(loop, fd, RP_LOOP_READ, on_conn, c) != 0) {
			rp_fd_close(&fd);
			free(c);
			continue;
		}
		c->next = conns;
		conns = c;
		c->timer = rp_loop_timer(loop, rp_loop_now(loop) +
		    PROBE_WINDOW_MS, on_window, c);
		pump(c);
	}
}

/* A client's connection, handed over and accepted: echoed from the
 * start (never a probe), after the handoff event when that is ours. */
static void
adopt(struct rp_loop *loop, int fd, uint64_t corr, const uint8_t *tok)
{
	struct rp_buf ev = { 0 };
	struct conn *c;

	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    rp_fd_set_nonblock(fd, 1) != 0 || (event_backend &&
	    rp_wire_ack_encode(&ev, RP_KIND_EVENT, corr, tok, RP_TOKEN_LEN,
	    1, NULL, corr) != 0) || ev.len > sizeof(c->buf) ||
	    rp_loop_add(loop, fd, RP_LOOP_READ, on_conn, c) != 0) {
		rp_buf_free(&ev);
		rp_fd_close(&fd);
		free(c);
		return;
	}
	c->loop = loop;
	c->fd = fd;
	c->echoing = 1;
	if (ev.len > 0)
		memcpy(c->buf, ev.data, ev.len);
	c->len = ev.len;
	rp_buf_free(&ev);
	c->next = conns;
	conns = c;
	pump(c);
}

/* One transfer on the broker's handoff connection: the fd (or handle)
 * and its token, the offer, the verdict, the Ack. */
static void
on_handoff(struct rp_loop *loop, int hfd, unsigned ev, void *arg)
{
	int64_t deadline = rp_deadline_in(HANDOFF_MS);
	enum rp_fdpass_status st;
	Rp__HandoffOffer *offer = NULL;
	struct rp_buf ack = { 0 };
	/* Exactly the token with the fd: the offer behind it, which the
	 * broker sends in the same message, is read as a frame below. */
	uint8_t side[16], hdr[5], *body = NULL;
	const char *detail, *why = NULL;
	char msg[96];
	size_t got = 0, len;
	int fd = -1, nfds = 0, ok = 0;

	(void)ev;
	(void)arg;
	st = rp_fdpass_recv(hfd, side, sizeof(side), &got, &fd, &nfds,
	    deadline);
	if (st == RP_FDPASS_EOF || st == RP_FDPASS_IO ||
	    st == RP_FDPASS_TIMEOUT ||
	    rp_io_read_full(hfd, hdr, sizeof(hdr), deadline) !=
	    (ssize_t)sizeof(hdr) || hdr[0] != 1 ||
	    (len = (size_t)hdr[1] | (size_t)hdr[2] << 8 |
	    (size_t)hdr[3] << 16 | (size_t)hdr[4] << 24) >
	    RP_FRAME_SMALL_MAX || (body = malloc(len + 1)) == NULL ||
	    rp_io_read_full(hfd, body, len, deadline) != (ssize_t)len ||
	    (offer = rp_wire_offer_parse(body, len, &why)) == NULL) {
		/* The broker is gone or does not speak the protocol. */
		free(body);
		rp_fd_close(&fd);
		hconn_close(loop, hfd);
		return;
	}
	free(body);
	detail = rp_handoff_judge(st, nfds, side, got, offer, tokens,
	    RP_HANDOFF_REPLAY, rp_loop_now(loop), msg, sizeof(msg));
	ok = detail == NULL;
	if (rp_wire_ack_encode(&ack, RP_KIND_RESPONSE, offer->correlation_id,
	    offer->token.data, offer->token.len, ok, detail,
	    offer->correlation_id) != 0 ||
	    rp_io_write_full(hfd, ack.data, ack.len, deadline) != 0) {
		hconn_close(loop, hfd);
		ok = 0;
	}
	if (ok)
		adopt(loop, fd, offer->correlation_id, offer->token.data);
	else
		rp_fd_close(&fd);
	rp_buf_free(&ack);
	rp_wire_free(offer);
}

/* The broker connects to the handoff endpoint once and keeps it. */
static void
on_handoff_accept(struct rp_loop *loop, int lfd, unsigned ev, void *arg)
{
	struct rp_peercred pc;
	int fd, i;

	(void)ev;
	(void)arg;
	while ((fd = rp_sock_accept(lfd, 1)) >= 0) {
		for (i = 0; i < HCONNS && hconns[i] >= 0; i++)
			;
		if (i == HCONNS || rp_sock_peercred(fd, &pc) != 0 ||
		    !rp_peercred_allowed(&pc, NULL, 0) ||
		    rp_loop_add(loop, fd, RP_LOOP_READ, on_handoff, NULL) != 0)
			rp_fd_close(&fd);
		else
			hconns[i] = fd;
	}
}

static void
on_stop(struct rp_loop *loop, int signo, void *arg)
{
	(void)signo;
	(void)arg;
	rp_loop_stop(loop);
}

int
main(int argc, char **argv)
{
	struct rp_sock_listener l, hl = { .fd = -1 };
	struct rp_identity id;
	struct rp_loop *loop;
	const char *ep = argc > 1 ? argv[1] :
	    getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE");
	const char *ns = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE");
	const char *hp = argc > 1 ? NULL :
	    getenv("RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE");
	const char *evw = getenv("RP_HANDOFF_EVENT");
	char why[256];
	int rc;

	if (rp_init() != 0) {
		fprintf(stderr, "echo-backend: start-up: %s\n", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	if (argc > 2 || ep == NULL || *ep == '\0' ||
	    (argc > 1 && argv[1][0] == '-')) {
		fprintf(stderr, "usage: echo-backend [ENDPOINT] (else "
		    "RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE)\n");
		return RP_EXIT_USAGE;
	}
	if (rp_identity_self(&id, ns != NULL ? ns : "", ep) != 0 ||
	    rp_identity_encode(&id, &daemon_bytes) != 0) {
		fprintf(stderr, "echo-backend: cannot compute our identity: "
		    "%s\n", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	if ((loop = rp_loop_new(0)) == NULL ||
	    rp_loop_signal(loop, SIGINT, on_stop, NULL) != 0 ||
	    rp_loop_signal(loop, SIGTERM, on_stop, NULL) != 0) {
		fprintf(stderr, "echo-backend: event loop: %s\n",
		    strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	if (rp_sock_listen(ep, RP_DIR_SAFE, 128, &l, why, sizeof(why)) != 0) {
		rc = rp_exit_from_errno(errno);
		fprintf(stderr, "echo-backend: cannot listen on %s: %s%s%s\n",
		    ep, strerror(errno), why[0] ? ": " : "", why);
		rp_loop_free(loop);
		return rc;
	}
	if (hp != NULL && *hp != '\0') {
		event_backend = evw != NULL && strcmp(evw, "backend") == 0;
		if ((tokens = rp_token_store_new(1024, HANDOFF_MS)) == NULL ||
		    rp_sock_listen(hp, RP_DIR_SAFE, 16, &hl, why,
		    sizeof(why)) != 0 || rp_loop_add(loop, hl.fd,
		    RP_LOOP_READ, on_handoff_accept, NULL) != 0) {
			rc = rp_exit_from_errno(errno);
			fprintf(stderr, "echo-backend: cannot listen on %s: "
			    "%s\n", hp, strerror(errno));
			if (hl.fd >= 0)
				rp_sock_unlisten(&hl);
			rp_sock_unlisten(&l);
			rp_token_store_free(tokens);
			rp_loop_free(loop);
			return rc;
		}
	}
	rc = RP_EXIT_OK;
	if (getenv("RP_READY_FD") != NULL) {
		uint64_t v;
		int rfd;

		if (rp_parse_u64(getenv("RP_READY_FD"), 0, 1023, &v) == 0) {
			rfd = (int)v;
			(void)rp_daemon_ready_fd(&rfd);
		}
	}
	if (rp_loop_add(loop, l.fd, RP_LOOP_READ, on_accept, NULL) != 0 ||
	    rp_loop_run(loop) != 0) {
		fprintf(stderr, "echo-backend: event loop: %s\n",
		    strerror(errno));
		rc = RP_EXIT_INTERNAL;
	}
	while (conns != NULL)
		conn_free(conns);
	rp_loop_del(loop, l.fd);
	rp_sock_unlisten(&l);
	hconn_close(loop, -1);
	if (hl.fd >= 0) {
		rp_loop_del(loop, hl.fd);
		rp_sock_unlisten(&hl);
	}
	rp_token_store_free(tokens);
	rp_loop_free(loop);
	rp_buf_free(&daemon_bytes);
	return rc;
}
