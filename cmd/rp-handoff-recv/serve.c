/*
 * serve.c — rp-handoff-recv --serve: a generic broker backend.
 *
 * One event loop watches the backend endpoint, the optional handoff
 * socket, the connections being looked at, the broker's handoff
 * connections, and SIGCHLD/SIGTERM/SIGINT.  Each connection accepted on
 * the endpoint is either an identity probe (answered here, with the
 * identity computed once at start) or a client: PROG runs on it (fds 0 and
 * 1), or with --echo the loop itself echoes what it reads (no fork).
 *
 * Counting, so that nothing is ever dropped:
 *   busy  = running PROG children + echo connections, at most --max-conns;
 *   held  = connections accepted but not (yet) served: being classified,
 *           being answered as a probe, or queued for a free slot; at most
 *           --max-conns or RECV_HOLD_MIN, whichever is more.
 * When held is full the listeners and the handoff connections are no
 * longer polled, so further clients wait in the kernel's backlog (or the
 * broker's socket buffer) until a slot frees.  Probes keep being answered
 * while clients are queued, so a saturated backend still proves it is
 * alive.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "rp.h"
#include "recv.h"

#define ECHO_BUF 8192
#define ACCEPT_BATCH 32
#define ECHO_ROUNDS 16
#define MAX_CTLS 16               /* handoff connections from the broker */
#define CTL_OUT_HIGH (64u * 1024u) /* unread Acks before we stop reading */
#define EMFILE_PAUSE_MS 100
#define STOP_GRACE_MS 2000
#define TOKEN_STORE_CAP 16384
#define SIDEBAND_BUF 64

/*
 * The first 11 bytes of every probe request: the framing byte, four
 * length bytes (anything), then envelope_version 1 (08 01) and
 * payload_protocol 0xB232 (18 b2 e4 02); kind REQUEST is the proto3
 * default and so is never written.
 */
#define PROBE_SIG_LEN 11
static const uint8_t probe_sig[6] = { 0x08, 0x01, 0x18, 0xb2, 0xe4, 0x02 };

enum route { ROUTE_RECONNECT = 0, ROUTE_HANDOFF = 1 };

enum cstate {
	C_FREE = 0,
	C_CLASSIFY,   /* held: is it a probe? */
	C_PROBE,      /* held: reading the probe request */
	C_QUEUED,     /* held: a client waiting for a slot */
	C_ECHO,       /* busy: echoed by the loop */
};

struct serve;

struct conn {
	struct serve *sv;
	struct conn *next;          /* free list or wait queue */
	struct conn *prev_all, *next_all;
	int fd;
	enum cstate state;
	uint8_t route;
	uint8_t classified;         /* echo: first bytes looked at */
	uint8_t rd_eof;
	uint8_t have_peer;
	unsigned events;            /* what the loop watches (0: nothing) */
	int watched;
	uint64_t timer;
	int64_t window_end;         /* classification gives up here */
	int64_t backoff_ms;
	struct rp_peercred peer;
	struct rp_frame_decoder dec;
	uint32_t off, len;          /* buf[off..len): bytes to write */
	uint8_t buf[ECHO_BUF];
};

enum ctlstate { CTL_SIDEBAND, CTL_OFFER };

/* A handoff connection from the broker (transfers back to back). */
struct ctl {
	struct serve *sv;
	struct ctl *prev, *next;
	int fd;
	enum ctlstate state;
	unsigned events;
	uint64_t timer;
	int rfd;                          /* the fd that came with the token */
	enum rp_fdpass_status fst;
	size_t got;
	uint8_t side[SIDEBAND_BUF];
	struct rp_frame_decoder dec;
	struct rp_buf out;                /* Acks not yet written */
};

struct serve {
	struct recv_opts *o;
	struct rp_loop *loop;
	struct rp_sock_listener ep, ho;
	int have_ho;
	int polling;                /* listeners are being watched */
	int stopping;
	uint64_t pause_timer;
	struct rp_buf daemon;       /* our DaemonProcess, encoded once */
	struct rp_token_store *tokens;

	char **envp;                /* environ + RP_ROUTE, RP_PEER_PID/UID */
	size_t env_slot;
	char env_route[32], env_pid[32], env_uid[32];

	pid_t *kids;
	size_t nkids;
	unsigned busy, held;
	unsigned hold_max;

	struct conn *free_conns;
	struct conn *all;
	struct conn *q_head, *q_tail;
	struct ctl *ctls;
	unsigned nctls;
	int rc;
};

static void conn_close(struct conn *c);
static void conn_serve(struct conn *c);
static void echo_run(struct conn *c);
static void probe_read(struct conn *c);
static void kick(struct serve *sv);
static void ctl_close(struct ctl *k);
static void ctl_run(struct ctl *k);

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

/* Change what the loop watches on c.  MOD of a registered fd does not
 * fail in practice; if it ever did, the connection's timer (or the
 * peer's hang-up) still ends it, so we only say so. */
static void
watch(struct conn *c, unsigned events)
{
	if (c->events == events)
		return;
	if (rp_loop_mod(c->sv->loop, c->fd, events) != 0) {
		recv_warn("cannot watch a connection: %s", strerror(errno));
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
		recv_warn("cannot set a timer: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------ the pool */

static void
conn_fd_cb(struct rp_loop *loop, int fd, unsigned events, void *arg);

static struct conn *
conn_new(struct serve *sv, int fd, enum cstate s)
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
	if (rp_loop_add(sv->loop, fd, 0, conn_fd_cb, c) != 0) {
		c->next = sv->free_conns;
		sv->free_conns = c;
		return NULL;
	}
	c->watched = 1;
	c->next_all = sv->all;
	if (sv->all != NULL)
		sv->all->prev_all = c;
	sv->all = c;
	set_state(c, s);
	return c;
}

/* Release c; the fd is closed unless it was handed on (c->fd == -1). */
static void
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

static void
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
	kick(sv);
}

/* ------------------------------------------------------------ children */

static void
env_set_peer(struct serve *sv, int route, const struct rp_peercred *peer,
    int have_peer)
{
	char **e = sv->envp + sv->env_slot;

	snprintf(sv->env_route, sizeof(sv->env_route), "RP_ROUTE=%s",
	    route == ROUTE_HANDOFF ? "handoff" : "reconnect");
	e[0] = sv->env_route;
	if (have_peer) {
		snprintf(sv->env_pid, sizeof(sv->env_pid), "RP_PEER_PID=%u",
		    (unsigned)peer->pid);
		snprintf(sv->env_uid, sizeof(sv->env_uid), "RP_PEER_UID=%u",
		    (unsigned)peer->uid);
		e[1] = sv->env_pid;
		e[2] = sv->env_uid;
	} else {
		e[1] = NULL;
	}
}

/* Run PROG on fd (ours to close).  Returns 0 when a child runs. */
static int
spawn_prog(struct serve *sv, int fd, int route,
    const struct rp_peercred *peer, int have_peer)
{
	struct rp_spawn_fd map[2] = { { fd, 0 }, { fd, 1 } };
	struct rp_spawn sp = {
		.argv = sv->o->prog,
		.fds = map,
		.nfds = 2,
		.flags = RP_SPAWN_KEEP_STD,
	};
	int exec_failed = 0;
	pid_t pid;

	/* The descriptor may come from a peer that made it non-blocking;
	 * PROG expects an ordinary blocking stdin/stdout. */
	(void)rp_fd_set_nonblock(fd, 0);
	env_set_peer(sv, route, peer, have_peer);
	sp.envp = sv->envp;
	pid = rp_spawn(&sp, &exec_failed);
	rp_fd_close(&fd);
	if (pid < 0) {
		recv_warn("cannot run %s: %s", sv->o->prog[0],
		    strerror(errno));
		return -1;
	}
	sv->kids[sv->nkids++] = pid;
	sv->busy++;
	return 0;
}

static void
on_sigchld(struct rp_loop *loop, int signo, void *arg)
{
	struct serve *sv = arg;
	struct rp_spawn_status st;
	size_t i = 0;

	(void)loop;
	(void)signo;
	/* Signals coalesce: look at every child we have. */
	while (i < sv->nkids) {
		if (rp_spawn_wait(sv->kids[i], RP_SPAWN_WAIT_NOHANG, &st) != 0) {
			sv->kids[i] = sv->kids[--sv->nkids];
			sv->busy--;
			continue;
		}
		i++;
	}
	if (sv->stopping && sv->nkids == 0)
		rp_loop_stop(sv->loop);
	kick(sv);
}

/* ------------------------------------------------------ serving clients */

/* c is a client: serve it now, or queue it for a free slot. */
static void
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
	(void)spawn_prog(sv, fd, c->route, &c->peer, c->have_peer);
	conn_release(c);
}

/* Serve queued clients while there are slots; poll the listeners only
 * while there is room to hold more. */
static void
kick(struct serve *sv)
{
	struct conn *c;
	struct ctl *k;
	unsigned ev;
	int want;

	while (!sv->stopping && sv->q_head != NULL &&
	    sv->busy < sv->o->max_conns) {
		c = sv->q_head;
		sv->q_head = c->next;
		if (sv->q_head == NULL)
			sv->q_tail = NULL;
		c->next = NULL;
		conn_serve(c);
	}
	want = !sv->stopping && sv->pause_timer == 0 &&
	    sv->held < sv->hold_max;
	if (want == sv->polling)
		return;
	sv->polling = want;
	ev = want ? RP_LOOP_READ : 0;
	(void)rp_loop_mod(sv->loop, sv->ep.fd, ev);
	if (sv->have_ho)
		(void)rp_loop_mod(sv->loop, sv->ho.fd, ev);
	for (k = sv->ctls; k != NULL; k = k->next) {
		unsigned kev = (want ? RP_LOOP_READ : 0) |
		    (k->out.len ? RP_LOOP_WRITE : 0);

		if (k->out.len >= CTL_OUT_HIGH)
			kev &= ~RP_LOOP_READ;
		if (kev != k->events && rp_loop_mod(sv->loop, k->fd, kev) == 0)
			k->events = kev;
	}
	/* Transfers may have waited in a socket buffer while we were full. */
	if (want)
		for (k = sv->ctls; k != NULL; k = k->next)
			if (k->events & RP_LOOP_READ)
				ctl_run(k);
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
 * Echo what arrives.  Reads only when everything read before has been
 * written, so one connection holds one buffer and a client that does not
 * read its replies stops being read (no unbounded buffering).
 */
static void
echo_run(struct conn *c)
{
	ssize_t n;
	int round;

	for (round = 0; round < ECHO_ROUNDS; round++) {
		/* Known to be a client but held (no free slot yet): the
		 * bytes read so far wait in buf until it is served. */
		if (c->classified && c->state != C_ECHO) {
			conn_serve(c);
			return;
		}
		if (c->classified && c->off < c->len) {
			n = write(c->fd, c->buf + c->off, c->len - c->off);
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
		}
		if (c->rd_eof) {
			conn_close(c);
			return;
		}
		n = read(c->fd, c->buf + c->len, sizeof(c->buf) - c->len);
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

	do
		n = recv(c->fd, p, sizeof(p), MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
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

/* A new client connection on the endpoint. */
static void
conn_start(struct serve *sv, int fd, const struct rp_peercred *peer)
{
	struct conn *c;
	int64_t now = rp_loop_now(sv->loop);

	/* With a free slot an echo connection is served at once and looks
	 * at its first bytes as it reads them; otherwise it is held. */
	if (sv->o->echo && sv->busy < sv->o->max_conns)
		c = conn_new(sv, fd, C_ECHO);
	else
		c = conn_new(sv, fd, C_CLASSIFY);
	if (c == NULL) {
		recv_warn("cannot take a connection: %s", strerror(errno));
		close(fd);
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

static void
resume_accepting(struct rp_loop *loop, void *arg)
{
	struct serve *sv = arg;

	(void)loop;
	sv->pause_timer = 0;
	kick(sv);
}

/* accept failed with errno: 1 to keep going, 0 to stop this round. */
static int
accept_failed(struct serve *sv)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == ECONNABORTED || errno == EPROTO || errno == EPERM)
		return 1;
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* Out of fds: stop polling for a while instead of spinning
		 * on a listener that stays readable. */
		recv_warn("cannot accept: %s; pausing %d ms", strerror(errno),
		    EMFILE_PAUSE_MS);
		if (sv->pause_timer == 0)
			sv->pause_timer = rp_loop_timer(sv->loop,
			    rp_loop_now(sv->loop) + EMFILE_PAUSE_MS,
			    resume_accepting, sv);
		kick(sv);
		return 0;
	}
	recv_warn("cannot accept: %s", strerror(errno));
	return 0;
}

static void
on_endpoint(struct rp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct serve *sv = arg;
	struct rp_peercred peer;
	int i, fd;

	(void)loop;
	(void)events;
	for (i = 0; i < ACCEPT_BATCH && sv->polling; i++) {
		fd = rp_sock_accept(lfd, 1);
		if (fd < 0) {
			if (accept_failed(sv))
				continue;
			return;
		}
		if (rp_sock_peercred(fd, &peer) != 0) {
			close(fd);
			continue;
		}
		if (!recv_uid_allowed(sv->o, peer.uid)) {
			/* Closed before a byte is read or written. */
			recv_warn("refused a connection from uid %u (pid %u)",
			    (unsigned)peer.uid, (unsigned)peer.pid);
			close(fd);
			continue;
		}
		conn_start(sv, fd, &peer);
		kick(sv);
	}
}

/* ------------------------------------------------------ handoff intake */

/* An accepted transfer: serve the received fd like a client. */
static void
adopt(struct serve *sv, int fd, uint64_t correlation_id,
    const uint8_t tok[RP_TOKEN_LEN])
{
	struct rp_peercred peer;
	struct rp_buf ev = { 0 };
	struct conn *c;
	int have_peer;

	have_peer = rp_sock_peercred(fd, &peer) == 0;
	if (sv->o->event_backend) {
		/* We tell the client ourselves that the handoff happened,
		 * before anything else is written on the connection. */
		if (rp_wire_ack_encode(&ev, RP_KIND_EVENT, correlation_id, tok,
		    RP_TOKEN_LEN, 1, NULL, correlation_id) != 0 ||
		    rp_io_write_full(fd, ev.data, ev.len,
		    rp_loop_now(sv->loop) + sv->o->timeout_ms) != 0) {
			recv_warn("cannot write the handoff event: %s",
			    strerror(errno));
			rp_buf_free(&ev);
			close(fd);
			return;
		}
		rp_buf_free(&ev);
	}
	if (!sv->o->echo && sv->busy < sv->o->max_conns) {
		(void)spawn_prog(sv, fd, ROUTE_HANDOFF, &peer, have_peer);
		return;
	}
	if (rp_fd_set_nonblock(fd, 1) != 0 ||
	    (c = conn_new(sv, fd, C_CLASSIFY)) == NULL) {
		recv_warn("cannot take a handed-off connection: %s",
		    strerror(errno));
		close(fd);
		return;
	}
	c->route = ROUTE_HANDOFF;
	c->peer = peer;
	c->have_peer = (uint8_t)have_peer;
	c->classified = 1;       /* a handed-off client is never a probe */
	conn_serve(c);
}

static void
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
		n = send(k->fd, k->out.data, k->out.len,
		    MSG_NOSIGNAL | MSG_DONTWAIT);
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
	recv_warn("handoff: the offer did not arrive in time; closing the "
	    "received fd");
	ctl_close(k);
}

/* The sideband's verdict, before the offer is looked at (NULL: fine). */
static const char *
sideband_fault(struct ctl *k, char *buf, size_t bufsz)
{
	if (k->fst != RP_FDPASS_OK)
		return rp_fdpass_status_str(k->fst);
	if (k->got != RP_TOKEN_LEN)
		return rp_token_verdict_str(rp_token_check_len(k->got), k->got,
		    buf, bufsz);
	return NULL;
}

/* A whole offer frame arrived: judge the transfer and answer it.
 * Returns 0 to go on with the connection, -1 when it was closed. */
static int
ctl_offer(struct ctl *k, uint8_t *body, size_t len)
{
	struct serve *sv = k->sv;
	Rp__HandoffOffer *offer;
	enum rp_token_verdict v;
	const char *why = NULL, *detail;
	char msg[96];
	int rfd = k->rfd, ok;

	k->rfd = -1;
	offer = rp_wire_offer_parse(body, len, &why);
	free(body);
	if (offer == NULL) {
		/* Without an offer there is nothing to correlate an Ack
		 * with; a peer that sends such a thing is broken. */
		recv_warn("handoff: malformed offer (%s); closing the received "
		    "fd", why ? why : "bad frame");
		rp_fd_close(&rfd);
		ctl_close(k);
		return -1;
	}
	detail = sideband_fault(k, msg, sizeof(msg));
	if (detail == NULL && offer->token.len != RP_TOKEN_LEN)
		detail = rp_token_verdict_str(
		    rp_token_check_len(offer->token.len), offer->token.len,
		    msg, sizeof(msg));
	if (detail == NULL && !rp_token_equal(offer->token.data, k->side))
		detail = "handoff token mismatch";
	if (detail == NULL) {
		v = rp_token_store_remember(sv->tokens, offer->token.data,
		    offer->token.len, rp_loop_now(sv->loop));
		if (v != RP_TOKEN_OK)
			detail = rp_token_verdict_str(v, offer->token.len, msg,
			    sizeof(msg));
	}
	ok = detail == NULL;
	if (rp_wire_ack_encode(&k->out, RP_KIND_RESPONSE,
	    offer->correlation_id, offer->token.data, offer->token.len, ok,
	    detail, offer->correlation_id) != 0) {
		recv_warn("handoff: cannot encode the ack: %s",
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
		if (ctl_flush(k) != 0) {
			/* The broker is gone and will not tell the client;
			 * the client falls back to reconnecting. */
			rp_fd_close(&rfd);
			ctl_close(k);
			return -1;
		}
		adopt(sv, rfd, corr, tok);
		return 0;
	}
	recv_warn("handoff: rejected a transfer: %s", detail);
	rp_fd_close(&rfd);
	rp_wire_free(offer);
	if (ctl_flush(k) != 0) {
		ctl_close(k);
		return -1;
	}
	return 0;
}

/*
 * Take transfers from one handoff connection: sideband (token + fd), then
 * the offer frame, read exactly, then the next transfer, for as long as
 * the broker keeps sending and we have room to hold what we adopt.
 */
static void
ctl_run(struct ctl *k)
{
	struct serve *sv = k->sv;
	enum rp_frame_status st;
	uint8_t *body;
	size_t len;
	int round;

	for (round = 0; round < ACCEPT_BATCH; round++) {
		if (!sv->polling || k->out.len >= CTL_OUT_HIGH) {
			ctl_watch(k);
			return;
		}
		if (k->state == CTL_SIDEBAND) {
			/* A deadline in the past: never wait, only look. */
			k->fst = rp_fdpass_recv(k->fd, k->side, sizeof(k->side),
			    &k->got, &k->rfd, 0);
			if (k->fst == RP_FDPASS_TIMEOUT)
				return;
			if (k->fst == RP_FDPASS_EOF || k->fst == RP_FDPASS_IO) {
				ctl_close(k);
				return;
			}
			k->state = CTL_OFFER;
			rp_frame_decoder_init(&k->dec, RP_FRAME_SMALL_MAX);
			k->timer = rp_loop_timer(sv->loop, rp_loop_now(sv->loop) +
			    sv->o->timeout_ms, ctl_offer_timeout, k);
			if (k->timer == 0) {
				ctl_close(k);
				return;
			}
		}
		st = rp_frame_decoder_read(&k->dec, k->fd);
		if (st == RP_FRAME_MORE)
			return;
		if (st != RP_FRAME_OK) {
			recv_warn("handoff: reading the offer: %s; closing the "
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
	}
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

static void
ctl_close(struct ctl *k)
{
	struct serve *sv = k->sv;

	rp_loop_del(sv->loop, k->fd);
	rp_loop_timer_cancel(sv->loop, k->timer);
	rp_fd_close(&k->fd);
	rp_fd_close(&k->rfd);
	rp_frame_decoder_reset(&k->dec);
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

static void
on_handoff(struct rp_loop *loop, int lfd, unsigned events, void *arg)
{
	struct serve *sv = arg;
	struct rp_peercred peer;
	struct ctl *k;
	int i, fd;

	(void)events;
	for (i = 0; i < ACCEPT_BATCH && sv->polling; i++) {
		fd = rp_sock_accept(lfd, 1);
		if (fd < 0) {
			if (accept_failed(sv))
				continue;
			return;
		}
		if (rp_sock_peercred(fd, &peer) != 0 ||
		    !broker_peer_ok(sv, &peer)) {
			recv_warn("handoff: refused a connection from uid %u "
			    "(pid %u): not the broker", (unsigned)peer.uid,
			    (unsigned)peer.pid);
			close(fd);
			continue;
		}
		if (sv->nctls >= MAX_CTLS) {
			recv_warn("handoff: too many handoff connections");
			close(fd);
			continue;
		}
		if ((k = calloc(1, sizeof(*k))) == NULL) {
			close(fd);
			continue;
		}
		k->sv = sv;
		k->fd = fd;
		k->rfd = -1;
		k->state = CTL_SIDEBAND;
		if (rp_loop_add(loop, fd, RP_LOOP_READ, ctl_fd_cb, k) != 0) {
			recv_warn("cannot watch a handoff connection: %s",
			    strerror(errno));
			close(fd);
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

/* ------------------------------------------------------------ stopping */

static void
stop_grace_over(struct rp_loop *loop, void *arg)
{
	struct serve *sv = arg;
	struct rp_spawn_status st;
	size_t i;

	for (i = 0; i < sv->nkids; i++) {
		(void)rp_spawn_kill(sv->kids[i], SIGKILL, 0);
		(void)rp_spawn_wait(sv->kids[i], 0, &st);
	}
	recv_warn("%zu child(ren) did not stop within %d ms; killed",
	    sv->nkids, STOP_GRACE_MS);
	sv->busy -= (unsigned)sv->nkids;
	sv->nkids = 0;
	rp_loop_stop(loop);
}

/* Stop listening (the socket files go), drop what is not being served,
 * ask the children to stop, and leave once they have. */
static void
on_stop(struct rp_loop *loop, int signo, void *arg)
{
	struct serve *sv = arg;
	size_t i;

	(void)signo;
	if (sv->stopping)
		return;
	sv->stopping = 1;
	rp_loop_del(loop, sv->ep.fd);
	rp_sock_unlisten(&sv->ep);
	if (sv->have_ho) {
		rp_loop_del(loop, sv->ho.fd);
		rp_sock_unlisten(&sv->ho);
		sv->have_ho = 0;
	}
	if (sv->pause_timer != 0) {
		rp_loop_timer_cancel(loop, sv->pause_timer);
		sv->pause_timer = 0;
	}
	while (sv->ctls != NULL)
		ctl_close(sv->ctls);
	sv->q_head = sv->q_tail = NULL;
	while (sv->all != NULL) {
		/* Nothing is queued any more: release directly. */
		if (sv->all->state == C_QUEUED)
			sv->all->state = C_CLASSIFY;
		conn_release(sv->all);
	}
	for (i = 0; i < sv->nkids; i++)
		(void)rp_spawn_kill(sv->kids[i], SIGTERM, 0);
	if (sv->nkids == 0) {
		rp_loop_stop(loop);
		return;
	}
	if (rp_loop_timer(loop, rp_loop_now(loop) + STOP_GRACE_MS,
	    stop_grace_over, sv) == 0)
		stop_grace_over(loop, sv);
}

/* ---------------------------------------------------------------- setup */

/* Our environment without RP_ROUTE / RP_PEER_PID / RP_PEER_UID, plus
 * three slots for them (set per child) and the terminating NULL. */
static int
make_envp(struct serve *sv)
{
	size_t n = 0, i, j = 0;

	while (environ[n] != NULL)
		n++;
	sv->envp = calloc(n + 4, sizeof(char *));
	if (sv->envp == NULL)
		return -1;
	for (i = 0; i < n; i++) {
		if (strncmp(environ[i], "RP_ROUTE=", 9) == 0 ||
		    strncmp(environ[i], "RP_PEER_PID=", 12) == 0 ||
		    strncmp(environ[i], "RP_PEER_UID=", 12) == 0)
			continue;
		sv->envp[j++] = environ[i];
	}
	sv->env_slot = j;
	return 0;
}

static int
listen_on(const char *path, struct rp_sock_listener *l, const char *what)
{
	char why[256];

	if (rp_sock_listen(path, RP_DIR_SAFE, 128, l, why, sizeof(why)) == 0)
		return 0;
	recv_warn("cannot listen on %s %s: %s%s%s", what, path,
	    strerror(errno), why[0] ? ": " : "", why);
	return -1;
}

static void
serve_free(struct serve *sv)
{
	struct conn *c;

	while (sv->ctls != NULL)
		ctl_close(sv->ctls);
	while (sv->all != NULL) {
		if (sv->all->state == C_QUEUED)
			sv->all->state = C_CLASSIFY;
		conn_release(sv->all);
	}
	while ((c = sv->free_conns) != NULL) {
		sv->free_conns = c->next;
		free(c);
	}
	if (sv->loop != NULL)
		rp_loop_free(sv->loop);
	rp_sock_unlisten(&sv->ep);
	if (sv->have_ho)
		rp_sock_unlisten(&sv->ho);
	rp_token_store_free(sv->tokens);
	rp_buf_free(&sv->daemon);
	free(sv->envp);
	free(sv->kids);
}

int
recv_serve(struct recv_opts *o)
{
	struct serve sv;
	struct rp_identity *id;
	int rc = RP_EXIT_INTERNAL;

	memset(&sv, 0, sizeof(sv));
	sv.o = o;
	sv.ep.fd = sv.ho.fd = -1;
	sv.hold_max = o->max_conns > RECV_HOLD_MIN ? o->max_conns :
	    RECV_HOLD_MIN;

	/* Who we are, computed (and the executable hashed) once. */
	id = malloc(sizeof(*id));
	if (id == NULL || rp_identity_self(id, o->namespace_id,
	    o->endpoint) != 0 || rp_identity_encode(id, &sv.daemon) != 0) {
		recv_warn("cannot compute our identity: %s", strerror(errno));
		free(id);
		goto out;
	}
	free(id);
	sv.kids = calloc(o->max_conns, sizeof(pid_t));
	sv.tokens = rp_token_store_new(TOKEN_STORE_CAP, RP_TOKEN_TTL_MS);
	if (sv.kids == NULL || sv.tokens == NULL || make_envp(&sv) != 0) {
		recv_warn("out of memory");
		goto out;
	}
	sv.loop = rp_loop_new(0);
	if (sv.loop == NULL ||
	    rp_loop_signal(sv.loop, SIGCHLD, on_sigchld, &sv) != 0 ||
	    rp_loop_signal(sv.loop, SIGTERM, on_stop, &sv) != 0 ||
	    rp_loop_signal(sv.loop, SIGINT, on_stop, &sv) != 0) {
		recv_warn("cannot set up the event loop: %s", strerror(errno));
		goto out;
	}
	if (listen_on(o->endpoint, &sv.ep, "endpoint") != 0) {
		rc = rp_exit_from_errno(errno);
		goto out;
	}
	if (o->handoff != NULL) {
		if (listen_on(o->handoff, &sv.ho, "handoff socket") != 0) {
			rc = rp_exit_from_errno(errno);
			goto out;
		}
		sv.have_ho = 1;
	}
	if (rp_loop_add(sv.loop, sv.ep.fd, RP_LOOP_READ, on_endpoint,
	    &sv) != 0 || (sv.have_ho && rp_loop_add(sv.loop, sv.ho.fd,
	    RP_LOOP_READ, on_handoff, &sv) != 0)) {
		recv_warn("cannot watch the listeners: %s", strerror(errno));
		goto out;
	}
	sv.polling = 1;
	recv_ready(o);
	if (rp_loop_run(sv.loop) != 0) {
		recv_warn("event loop failed: %s", strerror(errno));
		goto out;
	}
	rc = RP_EXIT_OK;
out:
	serve_free(&sv);
	return rc;
}
