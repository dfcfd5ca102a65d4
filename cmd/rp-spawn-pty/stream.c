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
#include <stdio.h>
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

/* The transcript is a file we opened (never a socket): written whole,
 * each write(2) as it comes. */
static void
keep_transcript(struct session *s, const char *p, size_t n)
{
	ssize_t k;

	while (s->transcript_fd >= 0 && n > 0) {
		k = rp_io_write_plain(s->transcript_fd, p, n);
		if (k > 0) {
			p += k;
			n -= (size_t)k;
			continue;
		}
		cli_warn("write to transcript %s: %s", s->o->transcript,
		    k < 0 ? strerror(errno) : "nothing written");
		rp_fd_close(&s->transcript_fd);
		s->failed = 1;
	}
}

/* One write to stdout: send(2) only to a socket. */
static ssize_t
out_write(struct session *s, const char *p, size_t n)
{
	return s->out_sock ? rp_io_write_some(s->out_fd, p, n) :
	    rp_io_write_plain(s->out_fd, p, n);
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

/*
 * Read the master until it has nothing more for now, the buffer is full,
 * or the terminal is closed for good (EIO).  Each piece goes on at once
 * (to the transcript, and to stdout unless it is waiting for room): a
 * read of the master gives at most what the line discipline holds (4
 * KiB), and a read that comes before the kernel has moved in the next
 * piece sleeps until it has; writing meanwhile is time that sleep would
 * have taken, and the next read more often finds its piece there.
 */
void
relay_read_master(struct session *s)
{
	struct queue *q = &s->out;
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
	while (q->len < q->cap) {
		n = rp_io_read_some(s->pty.master, q->data + q->len,
		    q->cap - q->len);
		if (n > 0) {
			keep_transcript(s, q->data + q->len, (size_t)n);
			q->len += (size_t)n;
			s->bytes_out += (size_t)n;
			s->drain_progress = 1;
			if (!s->out_wait)
				relay_flush_out(s);
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
		/* Our stdout was closed (it is /dev/null since rp_init):
		 * the output cannot go anywhere, as with a full disk. */
		if (s->out_closed) {
			relay_output_lost(s, EBADF);
			continue;
		}
		/* A stdout that is the null device takes everything and
		 * keeps nothing: counted (bytes_out), not written. */
		if (s->out_null) {
			q->off = q->len;
			break;
		}
		n = out_write(s, q->data + q->off, q->len - q->off);
		if (n > 0) {
			q->off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			/* Until stdout says it has room (on_stdout). */
			s->out_wait = 1;
			return;
		}
		relay_output_lost(s, n < 0 ? errno : EIO);
	}
	q->off = q->len = 0;
	s->out_wait = 0;
}

/* -------------------------------------------------------------- input */

void
relay_stop_input(struct session *s)
{
	s->in_eof = 1;
	s->want_eof = 0;
	s->in.off = s->in.len = 0;
	s->wire.off = s->wire.len = 0;
	s->wire_raw = 0;
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

/*
 * The next piece for the master, into the empty wire queue: a terminal's
 * keys as they are; piped bytes encoded as data for the settings the
 * program's terminal has at this moment (rp_pty_feed), so that no byte
 * turns into a signal, a pause of the output, an edit or an end of file,
 * and no line outgrows the terminal; then, once stdin has ended, the end
 * of file.  Returns 1 when it took something.
 */
static int
next_wire(struct session *s)
{
	struct queue *q = &s->in, *w = &s->wire;
	uint64_t lost = s->feed.lost;
	size_t used, n;
	int r;

	w->off = w->len = 0;
	if (q->off < q->len) {
		if (s->in_is_tty) {
			used = q->len - q->off < w->cap ? q->len - q->off :
			    w->cap;
			memcpy(w->data, q->data + q->off, used);
			n = used;
		} else {
			used = rp_pty_feed(&s->feed, s->pty.master,
			    q->data + q->off, q->len - q->off, w->data, w->cap,
			    &n);
		}
		q->off += used;
		w->len = n;
		s->wire_raw = used - (size_t)(s->feed.lost - lost);
		return 1;
	}
	if (s->want_eof && !s->eof_queued) {
		s->eof_queued = 1;
		s->wire_raw = 0;
		r = rp_pty_feed_end(&s->feed, s->pty.master, w->data, w->cap);
		if (r > 0)
			w->len = (size_t)r;
		else if (errno == ENOENT)
			cli_warn("stdin ended, but the program's terminal has "
			    "no end-of-file character (VEOF): it was not told");
		return 1;
	}
	return 0;
}

void
relay_flush_in(struct session *s)
{
	struct queue *w = &s->wire;
	ssize_t n;

	for (;;) {
		while (w->off < w->len) {
			/* A terminal: never a socket. */
			n = rp_io_write_plain(s->pty.master, w->data + w->off,
			    w->len - w->off);
			if (n > 0) {
				w->off += (size_t)n;
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
		s->bytes_in += s->wire_raw;
		s->wire_raw = 0;
		if (next_wire(s))
			continue;
		/* Stdin that cannot be polled (a file, /dev/null) is read
		 * whenever the last chunk has gone: one chunk per round. */
		if (!s->in_watched)
			(void)relay_fill_in(s);
		if (s->in.off == s->in.len && s->want_eof && !s->eof_queued)
			continue;
		return;
	}
}

void
relay_input_report(struct session *s)
{
	static const struct {
		unsigned bit;
		const char *what;
	} why[] = {
		{ RP_PTY_LOST_SIGNAL, "signal characters (ISIG)" },
		{ RP_PTY_LOST_FLOW, "flow-control characters (IXON)" },
		{ RP_PTY_LOST_EDIT, "line-editing characters, with no "
		    "literal-next character to quote them (VLNEXT, IEXTEN)" },
		{ RP_PTY_LOST_LINE, "a line longer than the terminal holds, "
		    "with no end-of-file character to hand it over (VEOF)" },
		{ RP_PTY_LOST_CR, "carriage returns the terminal ignores "
		    "(IGNCR)" },
	};
	char reasons[512];
	size_t i, k = 0;

	if (s->feed.lost == 0)
		return;
	reasons[0] = '\0';
	for (i = 0; i < sizeof(why) / sizeof(why[0]); i++) {
		if (!(s->feed.why & why[i].bit))
			continue;
		k += (size_t)snprintf(reasons + k, sizeof(reasons) - k, "%s%s",
		    k ? "; " : "", why[i].what);
		if (k >= sizeof(reasons))
			break;
	}
	cli_warn("stdin: %llu byte%s not delivered: the program's terminal "
	    "settings give %s another meaning: %s",
	    (unsigned long long)s->feed.lost, s->feed.lost == 1 ? " was" :
	    "s were", s->feed.lost == 1 ? "it" : "them", reasons);
	s->failed = 1;
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
		if ((s->in.off < s->in.len || s->wire.off < s->wire.len) &&
		    !s->ended)
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

