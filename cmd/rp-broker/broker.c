/*
 * broker.c — what concerns the broker as a whole: the file descriptors it
 * counts and the pressure they make, readiness, the signals, and the
 * drain (stop accepting, answer what was accepted, stop the backends,
 * leave the loop).
 */
#include <errno.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "broker.h"

/* ------------------------------------------------------- fds, pressure */

size_t
broker_fds_in_use(const struct broker *b)
{
	return b->fd_base + b->nconns + b->nprobes + b->nhconns +
	    b->nbpipes;
}

int
broker_fd_pressure(const struct broker *b)
{
	if (b->demoted)
		return 1;
	return b->nofile_soft != UINT64_MAX &&
	    (uint64_t)broker_fds_in_use(b) * 10 >= b->nofile_soft * 9;
}

double
broker_fd_ratio(const struct broker *b, int nfd)
{
	if (nfd < 0 || b->nofile_soft == 0 || b->nofile_soft == UINT64_MAX)
		return 0.0;
	return (double)nfd / (double)b->nofile_soft;
}

int
broker_accepting(const struct broker *b)
{
	return !b->draining && b->have_listener;
}

int
broker_ready(const struct broker *b)
{
	return !b->draining && !broker_fd_pressure(b) && !b->full;
}

int
broker_peer_allowed(const struct broker *b, const struct rp_peercred *pc)
{
	return rp_peercred_allowed(pc, b->cfg.allow_uids, b->cfg.n_allow_uids);
}

/* ------------------------------------------------------------ stopping */

static void
leave_loop(struct broker *b)
{
	if (b->done)
		return;
	b->done = 1;
	rp_loop_stop(b->loop);
}

static void
final_timer_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->final_timer = 0;
	cli_warn("backends did not all exit in time; leaving");
	leave_loop(b);
}

/* Everything accepted has been answered: stop the backends, then leave
 * once they are reaped. */
static void
stop_backends(struct broker *b)
{
	if (b->stopping)
		return;
	b->stopping = 1;
	if (b->drain_timer != 0) {
		rp_loop_timer_cancel(b->loop, b->drain_timer);
		b->drain_timer = 0;
	}
	backends_stop_all(b);
	if (b->dying == NULL) {
		leave_loop(b);
		return;
	}
	b->final_timer = rp_loop_timer(b->loop, rp_loop_now(b->loop) +
	    2 * RP_SPAWN_STOP_GRACE_MS + 1000, final_timer_cb, b);
}

void
broker_check_drained(struct broker *b)
{
	if (!b->draining)
		return;
	if (b->stopping) {
		if (b->dying == NULL)
			leave_loop(b);
		return;
	}
	if (b->nconns == 0 && backends_in_flight(b) == 0)
		stop_backends(b);
}

static void
drain_timer_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->drain_timer = 0;
	/* Out of time: spawns still in flight fail (their waiters hear
	 * code 5), and whoever is still connected is let go. */
	backends_cancel_spawns(b);
	handoff_close_all(b);
	conn_close_all(b);
	stop_backends(b);
}

void
broker_begin_drain(struct broker *b, int64_t deadline_ms, const char *why)
{
	if (b->draining)
		return;
	b->draining = 1;
	cli_warn("%s; draining", why);
	/* Connections already in the backlog were made before we stopped:
	 * take them in so their Hellos are answered (with code 5) rather
	 * than reset. */
	if (b->have_listener) {
		listen_accept_all(b);
		listen_stop(b);
		rp_sock_unlisten(&b->lst);
		b->have_listener = 0;
	}
	if (rp_daemon_notify("STOPPING=1") < 0)
		cli_warn("sd_notify STOPPING=1: %s", strerror(errno));
	b->drain_deadline = rp_loop_now(b->loop) + deadline_ms;
	b->drain_timer = rp_loop_timer(b->loop, b->drain_deadline,
	    drain_timer_cb, b);
	broker_check_drained(b);
}

static void
reopen(struct broker *b, int signo)
{
	const char *sig = signo == SIGHUP ? "SIGHUP" : signo == SIGUSR1 ?
	    "SIGUSR1" : "SIGUSR2";
	const char *defs = signo == SIGHUP ? "; service definitions will be "
	    "read again" : "";

	if (signo == SIGHUP)
		defs_flush(&b->defs);
	if (b->cfg.events_path == NULL)
		cli_warn("%s: no --events file to reopen%s", sig, defs);
	else if (events_stderr(&b->ev))
		cli_warn("%s: --events goes to standard error, nothing to "
		    "reopen%s", sig, defs);
	else if (events_reopen(&b->ev) < 0)
		cli_warn("%s: cannot reopen --events %s: %s; keeping the old "
		    "file%s", sig, b->cfg.events_path, strerror(errno), defs);
	else
		cli_warn("%s: reopened --events %s%s", sig,
		    b->cfg.events_path, defs);
}

void
broker_signal(struct rp_loop *loop, int signo, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	switch (signo) {
	case SIGCHLD:
		children_sigchld(b);
		broker_check_drained(b);
		break;
	case SIGXFSZ:
		/* A file size limit reached by the events file: the write
		 * says so (EFBIG, or short), events.c copes. */
		break;
	case SIGHUP:
	case SIGUSR1:
	case SIGUSR2:
		/* Configuration that can change under us: the event log
		 * (rotated), and on SIGHUP the definitions (re-read on next
		 * use).  logrotate scripts send any of the three. */
		reopen(b, signo);
		break;
	default:
		broker_begin_drain(b, b->cfg.drain_timeout_ms,
		    signo == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
}

/* ------------------------------------------------------ standard error */

static void log_watch(struct broker *b);

static void
log_cb(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	(void)fd;
	(void)events;
	logq_flush(&b->log);
	log_watch(b);
}

/* Poll the fd for writability exactly while bytes wait.  Where it cannot
 * be polled (epoll refuses regular files, which never wait anyway), the
 * next line flushes what is left. */
static void
log_watch(struct broker *b)
{
	int want = logq_pending(&b->log);

	if (want == b->log_watched)
		return;
	if (want) {
		if (rp_loop_add(b->loop, b->log.fd, RP_LOOP_WRITE, log_cb, b) ==
		    0)
			b->log_watched = 1;
		return;
	}
	(void)rp_loop_del(b->loop, b->log.fd);
	b->log_watched = 0;
}

static int
log_event(void *arg, const char *line, size_t len)
{
	struct broker *b = arg;
	int r = logq_put(&b->log, line, len);

	log_watch(b);
	return r;
}

static void
log_line(void *arg, const char *line, size_t len)
{
	(void)log_event(arg, line, len);
}

void
broker_log_start(struct broker *b)
{
	if (logq_open(&b->log, 2) < 0)
		return;                /* plain stderr, as before */
	b->log_on = 1;
	cli_warn_sink(log_line, b);
	events_set_sink(&b->ev, log_event, b);
}

void
broker_log_end(struct broker *b, int64_t deadline_ms)
{
	int64_t deadline = rp_now_ms() + deadline_ms;

	if (!b->log_on)
		return;
	cli_warn_sink(NULL, NULL);
	events_set_sink(&b->ev, NULL, NULL);
	if (b->log_watched && b->loop != NULL)
		(void)rp_loop_del(b->loop, b->log.fd);
	b->log_watched = 0;
	logq_flush(&b->log);
	while (logq_pending(&b->log) &&
	    rp_io_wait(b->log.fd, RP_IO_WRITE, deadline) > 0)
		logq_flush(&b->log);
	logq_close(&b->log);
	b->log_on = 0;
}
