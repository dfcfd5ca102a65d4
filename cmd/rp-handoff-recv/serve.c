/*
 * serve.c — rp-handoff-recv --serve: a generic broker backend.
 *
 * One event loop watches the backend endpoint, the optional handoff
 * socket, the connections being looked at, the broker's handoff
 * connections, and SIGCHLD/SIGTERM/SIGINT.  Each connection accepted on
 * the endpoint is either an identity probe (answered with the identity
 * computed once at start) or a client: PROG runs on it (fds 0 and 1), or
 * with --echo the loop itself echoes what it reads (no fork).  See
 * serve.h for how connections are counted.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "serve.h"

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

int
serve_spawn(struct serve *sv, int fd, int route,
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
		cli_warn("cannot run %s: %s", sv->o->prog[0],
		    strerror(errno));
		return -1;
	}
	sv->kids[sv->nkids++] = pid;
	sv->busy++;
	return 0;
}

/*
 * Reap every child that has ended: ours (a slot frees) and any other.  A
 * wrapper may have forked children and then exec'd us; they are ours to
 * reap now, or they stay zombies for as long as we run.  Signals
 * coalesce, and such a child may have ended before we were even
 * listening for SIGCHLD: so this runs once at start as well.
 */
static void
reap(struct serve *sv)
{
	struct rp_spawn_status st;
	pid_t pid;
	size_t i;

	while ((pid = rp_spawn_reap_any(&st)) > 0) {
		for (i = 0; i < sv->nkids; i++) {
			if (sv->kids[i] == pid) {
				sv->kids[i] = sv->kids[--sv->nkids];
				sv->busy--;
				break;
			}
		}
	}
	if (pid < 0)
		cli_warn("cannot reap children: %s", strerror(errno));
}

static void
on_sigchld(struct rp_loop *loop, int signo, void *arg)
{
	struct serve *sv = arg;

	(void)loop;
	(void)signo;
	reap(sv);
	if (sv->stopping && sv->nkids == 0)
		rp_loop_stop(sv->loop);
	serve_kick(sv);
}

void
serve_kick(struct serve *sv)
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
	/* Readiness is level-triggered: whatever waited while we were full
	 * is reported again once we watch for it. */
	sv->polling = want;
	ev = want ? RP_LOOP_READ : 0;
	if (sv->ep.fd >= 0)
		(void)rp_loop_mod(sv->loop, sv->ep.fd, ev);
	if (sv->have_ho)
		(void)rp_loop_mod(sv->loop, sv->ho.fd, ev);
	for (k = sv->ctls; k != NULL; k = k->next)
		ctl_watch(k);
}

static void
resume_accepting(struct rp_loop *loop, void *arg)
{
	struct serve *sv = arg;

	(void)loop;
	sv->pause_timer = 0;
	serve_kick(sv);
}

int
serve_accept_failed(struct serve *sv)
{
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	if (errno == ECONNABORTED || errno == EPROTO || errno == EPERM)
		return 1;
	if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
	    errno == ENOMEM) {
		/* Out of fds: stop polling for a while instead of spinning
		 * on a listener that stays readable. */
		cli_warn("cannot accept: %s; pausing %d ms", strerror(errno),
		    EMFILE_PAUSE_MS);
		if (sv->pause_timer == 0)
			sv->pause_timer = rp_loop_timer(sv->loop,
			    rp_loop_now(sv->loop) + EMFILE_PAUSE_MS,
			    resume_accepting, sv);
		serve_kick(sv);
		return 0;
	}
	cli_warn("cannot accept: %s", strerror(errno));
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
			if (serve_accept_failed(sv))
				continue;
			return;
		}
		if (rp_sock_peercred(fd, &peer) != 0) {
			rp_fd_close(&fd);
			continue;
		}
		if (!recv_uid_allowed(sv->o, peer.uid)) {
			/* Closed before a byte is read or written. */
			cli_warn("refused a connection from uid %u (pid %u)",
			    (unsigned)peer.uid, (unsigned)peer.pid);
			rp_fd_close(&fd);
			continue;
		}
		conn_start(sv, fd, &peer);
		serve_kick(sv);
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
	cli_warn("%zu child(ren) did not stop within %d ms; killed",
	    sv->nkids, RP_SPAWN_STOP_GRACE_MS);
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
	if (rp_loop_timer(loop, rp_loop_now(loop) + RP_SPAWN_STOP_GRACE_MS,
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
	cli_warn("cannot listen on %s %s: %s%s%s", what, path,
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
	rp_replay_free(sv->replay);
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
		cli_warn("cannot compute our identity: %s", strerror(errno));
		free(id);
		goto out;
	}
	free(id);
	sv.kids = calloc(o->max_conns, sizeof(pid_t));
	sv.replay = rp_replay_new(RP_TOKEN_TTL_MS, RP_REPLAY_DEFAULT_MAX);
	if (sv.kids == NULL || sv.replay == NULL || make_envp(&sv) != 0) {
		cli_warn("out of memory");
		goto out;
	}
	sv.loop = rp_loop_new(0);
	if (sv.loop == NULL ||
	    rp_loop_signal(sv.loop, SIGCHLD, on_sigchld, &sv) != 0 ||
	    rp_loop_signal(sv.loop, SIGTERM, on_stop, &sv) != 0 ||
	    rp_loop_signal(sv.loop, SIGINT, on_stop, &sv) != 0) {
		cli_warn("cannot set up the event loop: %s", strerror(errno));
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
	    RP_LOOP_READ, handoff_on_accept, &sv) != 0)) {
		cli_warn("cannot watch the listeners: %s", strerror(errno));
		goto out;
	}
	sv.polling = 1;
	reap(&sv);             /* what ended before SIGCHLD was ours to see */
	recv_ready(o);
	if (rp_loop_run(sv.loop) != 0) {
		cli_warn("event loop failed: %s", strerror(errno));
		goto out;
	}
	rc = RP_EXIT_OK;
out:
	serve_free(&sv);
	return rc;
}

