/*
 * stream.c — the bytes of rp-spawn-pty: the master to our stdout (and the
 * transcript), our stdin to the master (and the EOF character when it
 * ends), and the loop interest that follows the two buffers.
 *
 * Every fd here is non-blocking except a stdout that cannot be (a regular
 * file), whose writes never wait on anyone.  Nothing waits in this file:
 * each function moves what it can and returns.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "loop.h"
#include "pty.h"
#include "spawn.h"
#include "spawn_pty.h"

/* ------------------------------------------------------------- output */

static void
keep_transcript(struct session *s, const char *p, size_t n)
{
	if (s->transcript_fd < 0)
		return;
	if (rp_io_write_full(s->transcript_fd, p, n, RP_DEADLINE_NEVER) != 0) {
		cli_warn("write to transcript %s: %s", s->o->transcript,
		    strerror(errno));
		rp_fd_close(&s->transcript_fd);
		s->failed = 1;
	}
}

void
relay_master_finished(struct session *s)
{
	if (s->master_done)
		return;
	s->master_done = 1;
	if (s->pty.master >= 0)
		(void)rp_loop_del(s->loop, s->pty.master);
	s->master_ev = 0;
	if (s->drain_timer != 0)
		rp_loop_timer_cancel(s->loop, s->drain_timer);
	s->drain_timer = 0;
}

/* Read the master until it has nothing more for now, the buffer is full,
 * or the terminal is closed for good (EIO). */
void
relay_read_master(struct session *s)
{
	struct queue *q = &s->out;
	size_t start;
	ssize_t n;

	if (s->master_done)
		return;
	if (q->off == q->len) {
		q->off = q->len = 0;
	} else if (q->len == q->cap) {
		memmove(q->data, q->data + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	start = q->len;
	while (q->len < q->cap) {
		n = rp_io_read_some(s->pty.master, q->data + q->len,
		    q->cap - q->len);
		if (n > 0) {
			q->len += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			break;
		if (n < 0 && errno != EIO) {
			cli_warn("read from the terminal: %s",
			    strerror(errno));
			s->failed = 1;
		}
		relay_master_finished(s);
		break;
	}
	if (q->len > start) {
		s->bytes_out += q->len - start;
		s->drain_progress = 1;
		keep_transcript(s, q->data + start, q->len - start);
	}
}

void
relay_output_lost(struct session *s, int err)
{
	s->out_broken = 1;
	/* A reader that went away (| head) is not our failure; anything
	 * else is, and is said. */
	if (err != EPIPE) {
		cli_warn("write to stdout: %s", strerror(err));
		s->failed = 1;
	}
	/* The child's terminal is gone as far as anyone can see. */
	if (!s->ended)
		(void)rp_spawn_kill(s->pid, SIGHUP, 1);
}

void
relay_flush_out(struct session *s)
{
	struct queue *q = &s->out;
	ssize_t n;

	while (q->off < q->len) {
		if (s->out_broken) {
			q->off = q->len;
			break;
		}
		n = rp_io_write_some(s->out_fd, q->data + q->off,
		    q->len - q->off);
		if (n > 0) {
			q->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		relay_output_lost(s, n < 0 ? errno : EIO);
	}
	q->off = q->len = 0;
}

/* -------------------------------------------------------------- input */

void
relay_stop_input(struct session *s)
{
	s->in_eof = 1;
	s->want_eof = 0;
	s->in.off = s->in.len = 0;
	if (s->in_watched)
		(void)rp_loop_del(s->loop, s->in_fd);
	s->in_watched = 0;
}

/* One read from stdin.  Returns 1 when bytes arrived. */
int
relay_fill_in(struct session *s)
{
	struct queue *q = &s->in;
	ssize_t n;

	if (s->in_eof || s->in_fd < 0)
		return 0;
	if (q->off == q->len) {
		q->off = q->len = 0;
	} else if (q->len == q->cap) {
		memmove(q->data, q->data + q->off, q->len - q->off);
		q->len -= q->off;
		q->off = 0;
	}
	if (q->len == q->cap)
		return 0;
	n = rp_io_read_some(s->in_fd, q->data + q->len, q->cap - q->len);
	if (n > 0) {
		q->len += (size_t)n;
		s->last_nl = q->data[q->len - 1] == '\n';
		s->any_input = 1;
		return 1;
	}
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return 0;
	/* EIO is a terminal that hung up: an end like any other. */
	if (n < 0 && errno != EIO) {
		cli_warn("read from stdin: %s", strerror(errno));
		s->failed = 1;
	}
	s->in_eof = 1;
	/* A terminal's user types the EOF character; anyone else's end of
	 * input has to be turned into one for the child. */
	if (!s->in_is_tty)
		s->want_eof = 1;
	if (s->in_watched)
		(void)rp_loop_del(s->loop, s->in_fd);
	s->in_watched = 0;
	return 0;
}

/* The EOF character makes the child's read() return 0 only at the start
 * of a line; after a partial line the first one just ends that line. */
static void
queue_eof(struct session *s)
{
	int c = rp_pty_eof_char(s->pty.master);

	s->eof_queued = 1;
	if (c < 0)
		return;
	s->in.off = 0;
	s->in.len = 0;
	s->in.data[s->in.len++] = (char)c;
	if (s->any_input && !s->last_nl)
		s->in.data[s->in.len++] = (char)c;
}

void
relay_flush_in(struct session *s)
{
	struct queue *q = &s->in;
	ssize_t n;

	for (;;) {
		while (q->off < q->len) {
			n = rp_io_write_some(s->pty.master, q->data + q->off,
			    q->len - q->off);
			if (n > 0) {
				q->off += (size_t)n;
				if (!s->eof_queued)
					s->bytes_in += (uint64_t)n;
				continue;
			}
			if (n < 0 && errno == EINTR)
				continue;
			if (n < 0 && errno == EAGAIN)
				return;
			/* EIO: nobody has the terminal open to read it. */
			relay_stop_input(s);
			return;
		}
		q->off = q->len = 0;
		if (s->want_eof && !s->eof_queued) {
			queue_eof(s);
			continue;
		}
		/* Stdin that cannot be polled (a file, /dev/null) is read
		 * whenever the last chunk has gone: one chunk per round. */
		if (!s->in_watched)
			(void)relay_fill_in(s);
		if (q->len == 0 && s->want_eof && !s->eof_queued)
			continue;
		return;
	}
}

/* Interest follows the buffers; the session is over when the child has
 * ended, the terminal is drained and every byte is out. */
void
relay_update(struct session *s)
{
	unsigned ev;

	if (s->pty.master >= 0 && !s->master_done) {
		ev = 0;
		/* Any room at all, counting what the writes have freed
		 * (read_master moves the rest to the front). */
		if (s->out.len - s->out.off < s->out.cap)
			ev |= RP_LOOP_READ;
		if (s->in.off < s->in.len && !s->ended)
			ev |= RP_LOOP_WRITE;
		if (ev != s->master_ev &&
		    rp_loop_mod(s->loop, s->pty.master, ev) == 0)
			s->master_ev = ev;
	}
	if (s->in_watched) {
		ev = s->in.len - s->in.off < s->in.cap ? RP_LOOP_READ : 0;
		if (ev != s->in_ev && rp_loop_mod(s->loop, s->in_fd, ev) == 0)
			s->in_ev = ev;
	}
	if (s->out_watched) {
		ev = s->out.off < s->out.len ? RP_LOOP_WRITE : 0;
		if (ev != s->out_ev && rp_loop_mod(s->loop, s->out_fd, ev) == 0)
			s->out_ev = ev;
	}
	if (s->ended && (s->master_done || s->pty.master < 0) &&
	    s->out.off == s->out.len)
		rp_loop_stop(s->loop);
}

