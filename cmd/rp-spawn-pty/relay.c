/*
 * relay.c — one session of rp-spawn-pty: the PTY, the child on it, the
 * events of the relay (stream.c moves the bytes), the timeout, and the
 * end.
 *
 * The end is where the bugs of other tools live, so it goes in this
 * order: the child's exit is observed while it is still a zombie (its pid
 * and process group cannot be reused yet), its group and every process
 * re-parented to us are killed and reaped, and only then is the master
 * read until EIO — which the kernel gives once nobody holds the terminal
 * and everything written to it has been read.  A child that writes a
 * million lines and exits at once loses none of them.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "err.h"
#include "fs.h"
#include "io.h"
#include "loop.h"
#include "pty.h"
#include "rp.h"
#include "spawn.h"
#include "spawn_pty.h"

#define DRAIN_IDLE_MS 2000      /* give up on a terminal someone else holds */

/* ------------------------------------------------------------- events */

static void
on_master(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct session *s = arg;

	(void)loop;
	(void)fd;
	if (ev & (RP_LOOP_READ | RP_LOOP_HUP | RP_LOOP_ERR))
		relay_read_master(s);
	/* What stdout did not take waits for on_stdout. */
	if (!s->out_wait)
		relay_flush_out(s);
	if ((ev & RP_LOOP_WRITE) && !s->ended)
		relay_flush_in(s);
	relay_update(s);
}

static void
on_stdin(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct session *s = arg;

	(void)loop;
	(void)fd;
	(void)ev;
	if (relay_fill_in(s) || s->want_eof)
		relay_flush_in(s);
	relay_update(s);
}

static void
on_stdout(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct session *s = arg;

	(void)loop;
	(void)fd;
	if (ev & RP_LOOP_ERR) {
		relay_output_lost(s, EPIPE);
		s->out.off = s->out.len = 0;
	}
	relay_flush_out(s);
	relay_update(s);
}

static void
on_drain_timer(struct rp_loop *loop, void *arg)
{
	struct session *s = arg;

	s->drain_timer = 0;
	/* Still moving, or only waiting for stdout: wait on. */
	if (s->drain_progress || s->out.off < s->out.len) {
		s->drain_progress = 0;
		s->drain_timer = rp_loop_timer(loop,
		    rp_loop_now(loop) + DRAIN_IDLE_MS, on_drain_timer, s);
		return;
	}
	cli_warn("the terminal %s is still open in a process we did "
	    "not start; stopped reading it", s->pty.name);
	relay_master_finished(s);
	relay_update(s);
}

/* The child has ended (a zombie still): nobody else may stay behind. */
static void
child_ended(struct session *s)
{
	s->t_end = rp_now_ms();
	if (s->kill_timer != 0)
		rp_loop_timer_cancel(s->loop, s->kill_timer);
	s->kill_timer = 0;
	/* Its group id is still reserved by the zombie: safe to signal. */
	(void)rp_spawn_kill(s->pid, SIGKILL, 1);
	if (rp_spawn_kill_all() < 0) {
		cli_warn("reap the child's descendants: %s",
		    strerror(errno));
		s->failed = 1;
	}
	s->ended = 1;
	relay_stop_input(s);
	if (!s->master_done && s->pty.master >= 0) {
		s->drain_progress = 0;
		s->drain_timer = rp_loop_timer(s->loop,
		    rp_now_ms() + DRAIN_IDLE_MS, on_drain_timer, s);
	}
}

static void
on_kill_timer(struct rp_loop *loop, void *arg)
{
	struct session *s = arg;

	(void)loop;
	s->kill_timer = 0;
	if (!s->ended)
		(void)rp_spawn_kill(s->pid, SIGKILL, 1);
}

/* --timeout bounds the whole run, not only the child: output that stdout
 * still has not taken by now is dropped (and said so). */
static void
on_hard_deadline(struct rp_loop *loop, void *arg)
{
	struct session *s = arg;
	size_t left = s->out.len - s->out.off;

	(void)loop;
	if (!s->ended)
		(void)rp_spawn_kill(s->pid, SIGKILL, 1);
	if (left > 0 || (!s->master_done && s->pty.master >= 0))
		cli_warn("--timeout: stdout did not take the output in "
		    "time; %zu bytes and whatever was left in the terminal "
		    "were dropped", left);
	s->out_broken = 1;
	s->out.off = s->out.len = 0;
	relay_master_finished(s);
	relay_update(s);
}

static void
on_timeout(struct rp_loop *loop, void *arg)
{
	struct session *s = arg;

	s->kill_timer = 0;
	if (s->ended)
		return;
	s->timed_out = 1;
	(void)rp_loop_timer(loop, rp_loop_now(loop) + s->o->kill_after_ms +
	    DRAIN_IDLE_MS, on_hard_deadline, s);
	(void)rp_spawn_kill(s->pid, SIGTERM, 1);
	/* A stopped process acts on SIGTERM only once continued. */
	(void)rp_spawn_kill(s->pid, SIGCONT, 1);
	s->kill_timer = rp_loop_timer(loop,
	    rp_loop_now(loop) + s->o->kill_after_ms, on_kill_timer, s);
}

static void
on_signal(struct rp_loop *loop, int signo, void *arg)
{
	struct session *s = arg;
	struct rp_pty_size sz;
	int r;

	(void)loop;
	switch (signo) {
	case SIGCHLD:
		if (s->ended)
			break;
		r = rp_spawn_reap_others(s->pid, &s->st);
		if (r < 0) {
			cli_warn("wait for the child: %s",
			    strerror(errno));
			s->failed = 1;
			s->st.signo = 0;
			s->st.code = RP_EXIT_INTERNAL;
		}
		if (r != 0)
			child_ended(s);
		break;
	case SIGWINCH:
		/* After the end this is harmless: the master may be gone. */
		if (s->pty.master >= 0 && !s->master_done &&
		    rp_pty_get_size(0, &sz) == 0 && sz.cols > 0 && sz.rows > 0)
			(void)rp_pty_set_size(s->pty.master, &sz);
		break;
	default:
		if (!s->ended)
			(void)rp_spawn_kill(s->pid, signo, 1);
		break;
	}
	relay_update(s);
}

/* ------------------------------------------------------------ the run */

static int
open_files(struct session *s)
{
	const struct opts *o = s->o;
	char dir[4096];

	if (o->transcript != NULL) {
		s->transcript_fd = rp_fs_open_write(o->transcript);
		if (s->transcript_fd < 0) {
			cli_warn("open transcript %s: %s", o->transcript,
			    strerror(errno));
			return -1;
		}
	}
	/* The record is written whole at the end (readers never see half
	 * of it); whether its directory takes a file is checked now, before
	 * anything runs. */
	if (o->exit_record != NULL) {
		if (rp_fs_dirname(o->exit_record, dir, sizeof(dir)) != 0 ||
		    rp_fs_writable_dir(dir) != 0) {
			cli_warn("exit record %s: %s", o->exit_record,
			    strerror(errno));
			s->record_unwritable = 1;
			return -1;
		}
	}
	return 0;
}

static int
setup_loop(struct session *s)
{
	static const int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT };
	size_t i;

	s->loop = rp_loop_new(0);
	if (s->loop == NULL)
		return -1;
	/* Blocked from here on: a child that dies at once is still seen. */
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (rp_loop_signal(s->loop, sigs[i], on_signal, s) != 0)
			return -1;
	if (s->in_is_tty && s->o->master_to == NULL &&
	    rp_loop_signal(s->loop, SIGWINCH, on_signal, s) != 0)
		return -1;
	return 0;
}

static int
setup_relay(struct session *s)
{
	int nb;

	if (rp_fd_set_nonblock(s->pty.master, 1) != 0 ||
	    rp_loop_add(s->loop, s->pty.master, RP_LOOP_READ, on_master,
	    s) != 0)
		return -1;
	s->master_ev = RP_LOOP_READ;
	s->out.cap = OUT_CAP;
	s->out.data = malloc(OUT_CAP);
	s->in.cap = IN_CAP;
	s->in.data = malloc(IN_CAP);
	s->wire.cap = WIRE_CAP;
	s->wire.data = malloc(WIRE_CAP);
	if (s->out.data == NULL || s->in.data == NULL || s->wire.data == NULL)
		return -1;
	s->out_closed = rp_init_closed(1);
	s->out_fd = rp_pty_out_fd(1, &nb);
	if (s->out_fd < 0)
		return -1;
	s->out_sock = rp_fd_is_socket(s->out_fd) == 1;
	s->out_null = !s->out_closed && rp_fd_is_null(s->out_fd) == 1;
	if (nb) {
		if (rp_loop_add(s->loop, s->out_fd, 0, on_stdout, s) != 0)
			return -1;
		s->out_watched = 1;
	}
	if (s->in_fd >= 0) {
		/* epoll refuses regular files and /dev/null (EPERM): those
		 * never block, and are read as the master takes input. */
		if (rp_loop_add(s->loop, s->in_fd, RP_LOOP_READ, on_stdin,
		    s) == 0) {
			s->in_watched = 1;
			s->in_ev = RP_LOOP_READ;
		}
		else if (errno != EPERM)
			return -1;
	}
	return 0;
}

static void
default_size(struct session *s)
{
	struct rp_pty_size sz;

	if (s->o->have_size) {
		s->size = s->o->size;
		return;
	}
	s->size = (struct rp_pty_size){ 80, 24 };
	if (s->in_is_tty && rp_pty_get_size(0, &sz) == 0 && sz.cols > 0 &&
	    sz.rows > 0)
		s->size = sz;
}

/* What we exit with, before our own failures are counted. */
static int
child_status(const struct session *s)
{
	if (s->timed_out)
		return RP_EXIT_TIMEOUT;
	return rp_spawn_status_exit(&s->st);
}

static void
cleanup(struct session *s)
{
	rp_tty_free(s->tty);
	s->tty = NULL;
	rp_loop_free(s->loop);
	s->loop = NULL;
	rp_pty_close(&s->pty);
	rp_fd_close(&s->out_fd);
	free(s->in.data);
	free(s->wire.data);
	free(s->out.data);
	s->in.data = s->wire.data = s->out.data = NULL;
}

static int
finish(struct session *s, int status)
{
	if (s->transcript_fd >= 0 && close(s->transcript_fd) != 0) {
		cli_warn("write to transcript %s: %s", s->o->transcript,
		    strerror(errno));
		s->failed = 1;
	}
	s->transcript_fd = -1;
	if (s->failed)
		status = RP_EXIT_INTERNAL;
	if (s->o->exit_record != NULL && !s->record_unwritable &&
	    spawn_pty_write_record(s, status) != 0) {
		cli_warn("write exit record %s: %s", s->o->exit_record,
		    strerror(errno));
		status = RP_EXIT_INTERNAL;
	}
	if (s->o->raise && status > RP_EXIT_SIGNAL && s->st.signo != 0 &&
	    !s->timed_out && !s->failed)
		rp_spawn_die_of_signal(s->st.signo);
	return status;
}

int
spawn_pty_run(const struct opts *o)
{
	struct session s;
	struct rp_spawn sp;
	int relay_in, rc, saved;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.in_fd = s.out_fd = s.transcript_fd = -1;
	s.pty.master = s.pty.peer = -1;
	s.in_is_tty = rp_tty_is(0);
	relay_in = !o->no_stdin && o->master_to == NULL;
	if (relay_in)
		s.in_fd = 0;
	default_size(&s);

	if (open_files(&s) != 0)
		return finish(&s, RP_EXIT_INTERNAL);
	if (rp_spawn_subreaper() != 0) {
		cli_warn("become a child subreaper: %s", strerror(errno));
		return finish(&s, RP_EXIT_INTERNAL);
	}
	if (rp_pty_open(&s.pty, &s.size) != 0) {
		cli_warn("open a pseudo-terminal: %s", strerror(errno));
		return finish(&s, RP_EXIT_INTERNAL);
	}
	/* Piped input is data, not typing: set up before the program
	 * starts, so it sees those settings from the first. */
	if (relay_in && !s.in_is_tty && rp_pty_data_mode(s.pty.master) != 0) {
		cli_warn("set the terminal up for piped input: %s",
		    strerror(errno));
		cleanup(&s);
		return finish(&s, RP_EXIT_INTERNAL);
	}
	if (setup_loop(&s) != 0) {
		cli_warn("set up the event loop: %s", strerror(errno));
		cleanup(&s);
		return finish(&s, RP_EXIT_INTERNAL);
	}
	if (o->master_to != NULL) {
		rc = spawn_pty_handoff(o, s.pty.master);
		if (rc != 0) {
			cleanup(&s);
			s.failed = 0;
			return finish(&s, rc);
		}
		/* The receiver has it now; ours would only keep the
		 * terminal alive after the receiver let go. */
		rp_fd_close(&s.pty.master);
	} else if (setup_relay(&s) != 0) {
		cli_warn("set up the relay: %s", strerror(errno));
		cleanup(&s);
		return finish(&s, RP_EXIT_INTERNAL);
	}

	memset(&sp, 0, sizeof(sp));
	sp.argv = o->argv;
	s.t_start = rp_now_ms();
	s.pid = rp_pty_spawn(&s.pty, &sp, &s.exec_failed);
	if (s.pid < 0) {
		saved = errno;
		s.pid = 0;
		s.t_end = rp_now_ms();
		cleanup(&s);
		if (s.exec_failed) {
			cli_warn("cannot run %s: %s", o->argv[0],
			    strerror(saved));
			return finish(&s, rp_exit_from_exec_errno(saved));
		}
		cli_warn("start %s: %s", o->argv[0], strerror(saved));
		return finish(&s, RP_EXIT_INTERNAL);
	}

	/* Raw only now that something runs to receive the keys. */
	if (relay_in && s.in_is_tty) {
		s.tty = rp_tty_raw(0);
		if (s.tty == NULL || rp_tty_guard(s.tty) != 0) {
			cli_warn("put the terminal in raw mode: %s",
			    strerror(errno));
			s.failed = 1;
			(void)rp_spawn_kill(s.pid, SIGKILL, 1);
		}
	}
	if (o->timeout_ms > 0)
		s.kill_timer = rp_loop_timer(s.loop,
		    s.t_start + o->timeout_ms, on_timeout, &s);
	if (relay_in && !s.in_watched && !s.failed) {
		(void)relay_fill_in(&s);
		relay_flush_in(&s);
	}
	relay_update(&s);
	if (rp_loop_run(s.loop) != 0) {
		cli_warn("event loop: %s", strerror(errno));
		s.failed = 1;
	}
	relay_input_report(&s);
	if (!s.ended) {
		/* Only after a failure of ours: still nobody stays behind. */
		(void)rp_spawn_kill(s.pid, SIGKILL, 1);
		if (rp_spawn_wait(s.pid, 0, &s.st) != 1)
			s.st.code = RP_EXIT_INTERNAL;
		(void)rp_spawn_kill_all();
		s.t_end = rp_now_ms();
		s.ended = 1;
	}
	cleanup(&s);
	return finish(&s, child_status(&s));
}
