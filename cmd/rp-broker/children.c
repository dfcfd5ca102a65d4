/*
 * children.c — the processes rp-broker starts (see children.h): their
 * environment, starting them, stopping them (SIGTERM to the group, then
 * SIGKILL after a grace), and reaping them, spawned backends and the
 * stopped alike.  What a backend's end means for its key is backend.c's
 * (bkey_ended).
 *
 * Nothing we started outlives us: a backend dies with the broker
 * (RP_SPAWN_PDEATHSIG), even of SIGKILL; the broker is a child subreaper,
 * so a descendant that leaves its backend's process group (setsid) or is
 * orphaned comes back to us, is reaped while we run and is killed when we
 * stop; a stopped backend that has exited takes the rest of its group
 * with it (SIGKILL, while its zombie still holds the group's id).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "broker.h"

#define ENV_PREFIX "RUNNING_PROCESS_BROKER_V1_"

void
children_remove_endpoint(const char *path)
{
	/* Our own private directory; only ever a socket file. */
	if (path[0] != '\0' && rp_fs_is_socket(path))
		(void)unlink(path);
}

void
children_sweep(struct broker *b)
{
	char prefix[64], path[RP_SUN_PATH_MAX];
	struct dirent *e;
	size_t pl, nl;
	uint32_t uid, mode;
	DIR *d;
	int fd, isdir;

	if (b->dir[0] == '\0' || (d = opendir(b->dir)) == NULL)
		return;
	pl = (size_t)snprintf(prefix, sizeof(prefix), "rpb-v1-%s-", b->hash16);
	while ((e = readdir(d)) != NULL) {
		nl = strlen(e->d_name);
		if (strncmp(e->d_name, prefix, pl) != 0 || nl < pl + 8 ||
		    (strncmp(e->d_name + pl, "be-", 3) != 0 &&
		    strncmp(e->d_name + pl, "ho-", 3) != 0) ||
		    strcmp(e->d_name + nl - 5, ".sock") != 0)
			continue;
		/* Ours alone: a socket of our uid that refuses a connect
		 * and that no live socket is bound to (one between its
		 * bind and its listen, a backend of another broker of ours
		 * starting, is refused a connect too). */
		if (rp_fs_join(path, sizeof(path), b->dir, e->d_name) < 0 ||
		    !rp_fs_is_socket(path) ||
		    rp_fs_owner_mode(path, &uid, &mode, &isdir) != 0 ||
		    uid != b->euid)
			continue;
		fd = rp_sock_connect(path, 1, rp_deadline_in(100));
		if (fd >= 0) {
			rp_fd_close(&fd);
			continue;
		}
		if (errno != ECONNREFUSED || rp_sock_path_bound(path) == 1)
			continue;
		if (unlink(path) == 0)
			cli_warn("removed %s: a stale backend endpoint", path);
	}
	closedir(d);
}

void
children_describe(char *out, size_t outsz, const struct rp_spawn_status *st)
{
	char sig[16];

	if (st->signo != 0)
		rp_utf8_fmt(out, outsz, "killed by %s",
		    rp_spawn_signame(st->signo, sig));
	else
		rp_utf8_fmt(out, outsz, "exited with status %d", st->code);
}

/* A client's trace context goes into a backend's environment only as
 * trace context looks (W3C Trace Context): printable ASCII (tracestate
 * may have spaces), at most 512 bytes; anything else, a newline that
 * would make a reader of the environment see another variable, say, is
 * left out. */
static int
trace_ok(const char *v, int spaces)
{
	size_t i;

	if (v == NULL || v[0] == '\0')
		return 0;
	for (i = 0; v[i] != '\0'; i++)
		if (i >= 512 || (unsigned char)v[i] > 0x7e ||
		    (unsigned char)v[i] < (spaces ? 0x20 : 0x21))
			return 0;
	return 1;
}

/* The environment of a spawned backend: ours, less what belongs to us
 * alone (socket activation, the supervisor's notify socket) and less any
 * inherited value of the variables we set, plus those. */
static char **
spawn_env(struct broker *b, struct bkey *k, const Rp__Frame *f,
    struct rp_buf *store)
{
	static const char *const drop[] = { "LISTEN_PID=", "LISTEN_FDS=",
		"LISTEN_FDNAMES=", "NOTIFY_SOCKET=", ENV_PREFIX "SERVICE_NAME=",
		ENV_PREFIX "SERVICE_VERSION=", ENV_PREFIX "BACKEND_PIPE=",
		ENV_PREFIX "BACKEND_NAMESPACE=", ENV_PREFIX "INSTANCE=",
		ENV_PREFIX "TRACEPARENT=", ENV_PREFIX "TRACESTATE=",
		ENV_PREFIX "BROKER_PID=", ENV_PREFIX "HANDOFF_PIPE=",
		"RP_HANDOFF_EVENT=" };
	const char *inst;
	size_t n = 0, i, j, nours;
	char **env;
	int r = 0;

	inst = b->cfg.iso == RP_ISOLATION_SHARED ? "shared" :
	    b->cfg.instance_name;
	r |= rp_buf_printf(store, ENV_PREFIX "SERVICE_NAME=%s%c", k->service,
	    0);
	r |= rp_buf_printf(store, ENV_PREFIX "SERVICE_VERSION=%s%c", k->version,
	    0);
	r |= rp_buf_printf(store, ENV_PREFIX "BACKEND_PIPE=%s%c", k->pipe, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "BACKEND_NAMESPACE=%s%c",
	    b->cfg.instance_id, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "INSTANCE=%s%c", inst, 0);
	r |= rp_buf_printf(store, ENV_PREFIX "BROKER_PID=%ld%c", (long)b->pid,
	    0);
	nours = 6;
	if (k->hpipe[0] != '\0') {
		/* Where the broker hands connections over, and who tells the
		 * client (rp-handoff-recv reads RP_HANDOFF_EVENT). */
		r |= rp_buf_printf(store, ENV_PREFIX "HANDOFF_PIPE=%s%c",
		    k->hpipe, 0);
		r |= rp_buf_printf(store, "RP_HANDOFF_EVENT=%s%c",
		    k->event_backend ? "backend" : "broker", 0);
		nours += 2;
	}
	if (f != NULL && trace_ok(f->traceparent, 0)) {
		r |= rp_buf_printf(store, ENV_PREFIX "TRACEPARENT=%s%c",
		    f->traceparent, 0);
		nours++;
	}
	if (f != NULL && trace_ok(f->tracestate, 1)) {
		r |= rp_buf_printf(store, ENV_PREFIX "TRACESTATE=%s%c",
		    f->tracestate, 0);
		nours++;
	}
	if (r != 0)
		return NULL;
	while (environ != NULL && environ[n] != NULL)
		n++;
	env = calloc(n + nours + 1, sizeof(*env));
	if (env == NULL)
		return NULL;
	for (i = 0, j = 0; i < n; i++) {
		size_t d;

		for (d = 0; d < sizeof(drop) / sizeof(drop[0]); d++)
			if (strncmp(environ[i], drop[d], strlen(drop[d])) == 0)
				break;
		if (d == sizeof(drop) / sizeof(drop[0]))
			env[j++] = environ[i];
	}
	/* The store does not move any more: point into it. */
	{
		char *s = (char *)store->data;
		size_t left = nours;

		while (left-- > 0) {
			env[j++] = s;
			s += strlen(s) + 1;
		}
	}
	env[j] = NULL;
	return env;
}

/* ------------------------------------------------- a backend's output */

/* The counter of service's dropped bytes, made if need be (NULL: no
 * memory). */
static struct bout_series *
bout_series_of(struct broker *b, const char *service)
{
	struct bout_series *s;

	if (b->nbout_series >= BOUT_SERIES_MAX)
		service = "~other";
	for (s = b->bout_series; s != NULL; s = s->next)
		if (strcmp(s->service, service) == 0)
			return s;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return NULL;
	rp_utf8_fmt(s->service, sizeof(s->service), "%s", service);
	s->next = b->bout_series;
	b->bout_series = s;
	b->nbout_series++;
	return s;
}

static void
bpipe_emit(void *arg, const char *line, size_t len)
{
	struct bpipe *p = arg;

	cli_warn("backend %s[%ld]: %.*s", p->service, (long)p->pid, (int)len,
	    line);
}

/* What was dropped, in the metric at once. */
static void
bpipe_count(struct bpipe *p)
{
	struct bout_series *s;

	if (p->out.dropped_total == p->counted ||
	    (s = bout_series_of(p->b, p->service)) == NULL)
		return;
	s->dropped += p->out.dropped_total - p->counted;
	p->counted = p->out.dropped_total;
}

/* Say what was dropped since the last time. */
static void
bpipe_report(struct bpipe *p)
{
	struct broker *b = p->b;
	uint64_t n = bout_take_dropped(&p->out);

	bpipe_count(p);
	if (n == 0)
		return;
	cli_warn("dropped %" PRIu64 " bytes of output from backend %s[%ld]: "
	    "over its budget of %" PRIu32 " bytes a second (burst %" PRIu32
	    ")", n, p->service, (long)p->pid, b->cfg.bout_rate,
	    b->cfg.bout_burst);
}

static void
bpipe_report_cb(struct rp_loop *loop, void *arg)
{
	struct bpipe *p = arg;

	(void)loop;
	p->report_timer = 0;
	bpipe_report(p);
}

/* The end of p's output: its last line, what was dropped, and p. */
static void
bpipe_close(struct broker *b, struct bpipe *p)
{
	struct bpipe **pp;

	bout_end(&p->out, b->loop != NULL ? rp_loop_now(b->loop) :
	    rp_now_ms(), bpipe_emit, p);
	bpipe_report(p);
	if (p->report_timer != 0 && b->loop != NULL)
		rp_loop_timer_cancel(b->loop, p->report_timer);
	if (b->loop != NULL)
		(void)rp_loop_del(b->loop, p->fd);
	rp_fd_close(&p->fd);
	for (pp = &b->bpipes; *pp != p; pp = &(*pp)->next)
		;
	*pp = p->next;
	b->nbpipes--;
	free(p);
}

/* Read what is there, at most max bytes: 1 while the pipe stays open. */
static int
bpipe_read(struct broker *b, struct bpipe *p, size_t max)
{
	uint8_t buf[16384];
	size_t done = 0;
	ssize_t n;

	while (done < max) {
		n = rp_io_read_some(p->fd, buf, sizeof(buf));
		if (n > 0) {
			bout_feed(&p->out, buf, (size_t)n, b->loop != NULL ?
			    rp_loop_now(b->loop) : rp_now_ms(), bpipe_emit, p);
			done += (size_t)n;
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		return 0;               /* the end of its output, or an error */
	}
	bpipe_count(p);
	if (p->out.dropped > 0 && p->report_timer == 0 && b->loop != NULL)
		p->report_timer = rp_loop_timer(b->loop, rp_loop_now(b->loop) +
		    BPIPE_REPORT_MS, bpipe_report_cb, p);
	return 1;
}

static void
bpipe_cb(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	struct bpipe *p = arg;

	(void)loop;
	(void)fd;
	(void)events;
	if (!bpipe_read(p->b, p, BPIPE_TURN_MAX))
		bpipe_close(p->b, p);
}

/* Watch the read end rd of k's new child pid's output (rd is ours from
 * here on, whatever happens). */
static void
bpipe_watch(struct broker *b, const struct bkey *k, int rd, pid_t pid)
{
	struct bpipe *p = calloc(1, sizeof(*p));

	if (p == NULL || rp_loop_add(b->loop, rd, RP_LOOP_READ, bpipe_cb,
	    p) < 0) {
		/* Its output then goes nowhere: the backend gets EPIPE. */
		cli_warn("backend %s[%ld]: its output cannot be read: %s",
		    k->service, (long)pid, strerror(errno));
		free(p);
		rp_fd_close(&rd);
		return;
	}
	p->b = b;
	p->fd = rd;
	p->pid = pid;
	rp_utf8_fmt(p->service, sizeof(p->service), "%s", k->service);
	/* What bpipe_emit's line adds: "rp-broker: backend S[PID]: ". */
	bout_init(&p->out, b->cfg.bout_rate, b->cfg.bout_burst,
	    (size_t)snprintf(NULL, 0, "%s: backend %s[%ld]: ", cli_prog,
	    p->service, (long)pid), rp_loop_now(b->loop));
	p->next = b->bpipes;
	b->bpipes = p;
	b->nbpipes++;
}

void
children_output_end(struct broker *b)
{
	while (b->bpipes != NULL) {
		/* What it wrote last, within the bound of one turn. */
		(void)bpipe_read(b, b->bpipes, BPIPE_TURN_MAX);
		bpipe_close(b, b->bpipes);
	}
}

/* ------------------------------------------------------------- starting */

pid_t
children_start(struct broker *b, struct bkey *k, const Rp__Frame *f,
    char *why, size_t whysz)
{
	struct rp_spawn_fd fds[3] = { { -1, 0 }, { -1, 1 }, { -1, 2 } };
	struct rp_buf store = { 0 };
	struct rp_spawn sp;
	char *argv[2];
	char **env;
	int exec_failed = 0, err, out[2];
	pid_t pid;

	/* Its stdout and stderr: a pipe that only the loop reads. */
	if (rp_fd_pipe(out, 0) < 0 || rp_fd_set_nonblock(out[0], 1) < 0) {
		err = errno;
		rp_utf8_fmt(why, whysz, "cannot start %s: no pipe for its "
		    "output: %s", k->binary, strerror(err));
		return -1;
	}
	fds[1].parent_fd = fds[2].parent_fd = out[1];
	env = spawn_env(b, k, f, &store);
	if (env == NULL) {
		rp_buf_free(&store);
		rp_fd_close(&out[0]);
		rp_fd_close(&out[1]);
		rp_utf8_fmt(why, whysz, "out of memory");
		return -1;
	}
	argv[0] = k->binary;
	argv[1] = NULL;
	memset(&sp, 0, sizeof(sp));
	sp.file = k->binary;
	sp.argv = argv;
	sp.envp = env;
	sp.fds = fds;
	sp.nfds = 3;
	/* Its own process group, so stopping it stops what it started; it
	 * dies with us; what escapes its group comes back to us. */
	sp.flags = RP_SPAWN_SETPGID | RP_SPAWN_PDEATHSIG;
	if (rp_spawn_subreaper() != 0 && errno != ENOSYS)
		cli_warn("cannot become a child subreaper: %s", strerror(errno));
	pid = rp_spawn(&sp, &exec_failed);
	err = errno;
	free(env);
	rp_buf_free(&store);
	rp_fd_close(&out[1]);
	if (pid < 0) {
		rp_fd_close(&out[0]);
		rp_utf8_fmt(why, whysz, "%s %s: %s",
		    exec_failed ? "cannot execute" : "cannot start", k->binary,
		    strerror(err));
		return -1;
	}
	bpipe_watch(b, k, out[0], pid);
	return pid;
}

static void
kill_timer_cb(struct rp_loop *loop, void *arg)
{
	struct dying *y = arg;

	(void)loop;
	y->kill_timer = 0;
	y->killed = 1;
	(void)rp_spawn_kill(y->pid, SIGKILL, 1);
	(void)rp_spawn_kill(y->pid, SIGKILL, 0);
}

void
children_stop(struct broker *b, const struct bkey *k, int reason)
{
	struct dying *y;

	(void)rp_spawn_kill(k->pid, SIGTERM, 1);
	/* A stopped process would hold the SIGTERM until continued. */
	(void)rp_spawn_kill(k->pid, SIGCONT, 1);
	y = calloc(1, sizeof(*y));
	if (y == NULL) {
		/* No room to wait politely. */
		(void)rp_spawn_kill(k->pid, SIGKILL, 1);
		(void)rp_spawn_wait(k->pid, 0, NULL);
		children_remove_endpoint(k->pipe);
		children_remove_endpoint(k->hpipe);
	} else {
		y->pid = k->pid;
		y->reason = reason;
		rp_utf8_fmt(y->service, sizeof(y->service), "%s", k->service);
		rp_utf8_fmt(y->pipe, sizeof(y->pipe), "%s", k->pipe);
		rp_utf8_fmt(y->hpipe, sizeof(y->hpipe), "%s", k->hpipe);
		y->kill_timer = rp_loop_timer(b->loop, rp_loop_now(b->loop) +
		    RP_SPAWN_STOP_GRACE_MS, kill_timer_cb, y);
		y->next = b->dying;
		b->dying = y;
	}
}

static struct bkey *
key_of(struct broker *b, pid_t pid)
{
	struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		if (k->kind == BKEY_SPAWNED && k->pid == pid)
			return k;
	return NULL;
}

/* A child we stopped ended as st says: reported, its endpoints removed. */
static void
dying_ended(struct broker *b, struct dying *y, const struct rp_spawn_status *st)
{
	char how[64], r[300];

	if (y->kill_timer != 0)
		rp_loop_timer_cancel(b->loop, y->kill_timer);
	children_describe(how, sizeof(how), st);
	rp_utf8_fmt(r, sizeof(r), "backend %s (pid %ld) stopped: %s", y->service,
	    (long)y->pid, how);
	if (y->reason == RP__EVENT_KIND__EVENT_KIND_DIED_SHUTDOWN)
		b->count.deaths_shutdown++;
	/* UNSPECIFIED: a failed spawn's child, said with the failure. */
	if (y->reason != RP__EVENT_KIND__EVENT_KIND_UNSPECIFIED)
		events_emit(&b->ev, (uint32_t)y->reason, EV_INFO, y->service,
		    r, NULL, 0, (uint32_t)y->pid, NULL, 0);
	children_remove_endpoint(y->pipe);
	children_remove_endpoint(y->hpipe);
	free(y);
}

void
children_sigchld(struct broker *b)
{
	struct rp_spawn_status st;
	struct dying **pp, *y;
	struct bkey *k;
	pid_t pid;

	/* Stops and continues: a stopped backend is not handed out. */
	while ((pid = rp_spawn_wait_any(RP_SPAWN_WAIT_NOHANG |
	    RP_SPAWN_WAIT_STOPS, &st)) > 0)
		if ((k = key_of(b, pid)) != NULL)
			bkey_stopped(b, k, st.event == RP_SPAWN_STOPPED ?
			    st.signo : 0);
	/* Ends, each seen while it is still a zombie (its pid and group
	 * reserved), then reaped. */
	while ((pid = rp_spawn_wait_any(RP_SPAWN_WAIT_NOHANG |
	    RP_SPAWN_WAIT_NOWAIT, &st)) > 0) {
		if ((k = key_of(b, pid)) != NULL) {
			bkey_ended(b, k, &st);
			(void)rp_spawn_wait(pid, 0, NULL);
			continue;
		}
		for (pp = &b->dying; (y = *pp) != NULL; pp = &y->next)
			if (y->pid == pid)
				break;
		if (y != NULL) {
			/* We asked it to stop and it has: what is left of
			 * its group (a helper that ignores SIGTERM) goes
			 * with it. */
			(void)rp_spawn_kill(pid, SIGKILL, 1);
			(void)rp_spawn_wait(pid, 0, NULL);
			*pp = y->next;
			dying_ended(b, y, &st);
			continue;
		}
		/* An orphan that came back to us, the subreaper. */
		(void)rp_spawn_wait(pid, 0, NULL);
	}
}

/* The escaped and the orphaned that came back to us: SIGTERM, the grace,
 * then SIGKILL until none is left. */
static void
kill_the_rest(void)
{
	struct timespec nap = { 0, 10 * 1000000L };
	int64_t deadline;

	while (rp_spawn_reap_any(NULL) > 0)
		;
	if (rp_spawn_kill_children(SIGTERM) <= 0)
		return;
	(void)rp_spawn_kill_children(SIGCONT);
	deadline = rp_deadline_in(RP_SPAWN_STOP_GRACE_MS);
	while (rp_now_ms() < deadline) {
		while (rp_spawn_reap_any(NULL) > 0)
			;
		if (rp_spawn_kill_children(0) <= 0)
			return;
		(void)nanosleep(&nap, NULL);
	}
	(void)rp_spawn_kill_all();
}

void
children_wait_all(struct broker *b)
{
	int64_t deadline;
	struct dying *y;

	deadline = rp_deadline_in(RP_SPAWN_STOP_GRACE_MS);
	for (y = b->dying; y != NULL; y = y->next) {
		if (rp_spawn_wait_until(y->pid, RP_SPAWN_WAIT_NOWAIT, deadline,
		    NULL) != 0)
			continue;
		y->killed = 1;
		(void)rp_spawn_kill(y->pid, SIGKILL, 1);
		(void)rp_spawn_kill(y->pid, SIGKILL, 0);
	}
	deadline = rp_deadline_in(RP_SPAWN_STOP_GRACE_MS);
	for (y = b->dying; y != NULL; y = y->next)
		(void)rp_spawn_wait_until(y->pid, RP_SPAWN_WAIT_NOWAIT,
		    deadline, NULL);
	children_sigchld(b);            /* reaps and reports each that ended */
	for (y = b->dying; y != NULL; y = y->next)
		cli_warn("backend %s (pid %ld) did not exit after SIGKILL; "
		    "leaving it", y->service, (long)y->pid);
	if (b->dying == NULL)
		kill_the_rest();
}

void
children_free(struct broker *b)
{
	struct bout_series *s;
	struct dying *y;

	children_output_end(b);
	while ((s = b->bout_series) != NULL) {
		b->bout_series = s->next;
		free(s);
	}
	b->nbout_series = 0;

	while ((y = b->dying) != NULL) {
		b->dying = y->next;
		free(y);
	}
}
