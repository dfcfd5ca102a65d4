/*
 * listen.c — the listening socket (see listen.h).
 *
 * Peer credentials come first: another uid is closed without a byte read
 * or written.  When accept runs out of file descriptors, the oldest
 * silent connections are evicted to make room; with none left, the
 * reserve fd is given up so that what is waiting can be accepted and
 * refused with code 9 (each refusal frees its slot for the next).  The
 * broker is not ready until usage falls below 80 %.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

#define ACCEPT_BATCH BURST_MAX
#define PRESSURE_BATCH 64
#define PRESSURE_BACKOFF_MS 50
/* Lines about peers of another uid: at most this many per window; the
 * rest are summed up in one line when the window ends. */
#define REJECT_LINES 10
#define REJECT_WINDOW_MS 5000

static void
resume_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->resume_timer = 0;
	if (b->have_listener && b->listening)
		(void)rp_loop_mod(b->loop, b->lst.fd, RP_LOOP_READ);
	listen_pressure_check(b);
}

/* Stop polling the listener for a moment: the cure for a busy loop when
 * accept cannot make progress. */
static void
listen_backoff(struct broker *b)
{
	if (b->resume_timer != 0 || !b->listening)
		return;
	(void)rp_loop_mod(b->loop, b->lst.fd, 0);
	b->resume_timer = rp_loop_timer(b->loop,
	    rp_loop_now(b->loop) + PRESSURE_BACKOFF_MS, resume_cb, b);
	if (b->resume_timer == 0)
		(void)rp_loop_mod(b->loop, b->lst.fd, RP_LOOP_READ);
}

void
listen_pressure_check(struct broker *b)
{
	char r[160];

	if (b->full && b->nconns < b->cfg.max_clients)
		b->full = 0;
	if (!b->demoted || b->resume_timer != 0)
		return;
	if (b->nofile_soft != UINT64_MAX &&
	    (uint64_t)broker_fds_in_use(b) * 10 >= b->nofile_soft * 8)
		return;
	b->demoted = 0;
	rp_utf8_fmt(r, sizeof(r), "file descriptors available again (%zu of "
	    "%llu in use); ready", broker_fds_in_use(b),
	    (unsigned long long)b->nofile_soft);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_RESOURCE_PRESSURE,
	    EV_INFO, NULL, r, NULL, 0, 0, NULL, 0);
}

static void
enter_pressure(struct broker *b, int err)
{
	char r[200];

	if (b->demoted)
		return;
	b->demoted = 1;
	b->demoted_since_wall_ms = rp_wall_ms();
	b->pressure_episodes++;
	rp_utf8_fmt(r, sizeof(r), "accept failed: %s; evicting silent "
	    "connections, refusing new ones with code 9 when none is left, "
	    "until fds are free", strerror(err));
	cli_warn("%s", r);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_RESOURCE_PRESSURE,
	    EV_WARN, NULL, r, NULL, 0, 0, NULL, 0);
}

/* "N more ..." for the refusals not logged one by one, if any. */
static void
reject_summary(struct broker *b)
{
	char r[160];
	char n[24];
	struct ev_kv kv[1];

	if (b->reject_unlogged == 0)
		return;
	snprintf(n, sizeof(n), "%llu", (unsigned long long)b->reject_unlogged);
	rp_utf8_fmt(r, sizeof(r), "%llu more connections from other uids "
	    "refused (not logged one by one)",
	    (unsigned long long)b->reject_unlogged);
	b->reject_unlogged = 0;
	kv[0] = (struct ev_kv){ "suppressed", n };
	if (!events_stderr(&b->ev))
		cli_warn("%s", r);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SECURITY_VIOLATION,
	    EV_WARN, NULL, r, NULL, 0, 0, kv, 1);
}

static void
reject_timer_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->reject_timer = 0;
	reject_summary(b);
}

/* A peer of another uid was refused: a line on stderr and an event, at
 * most REJECT_LINES per window; the rest counted and summed up when the
 * window ends (or the listener stops). */
static void
reject_log(struct broker *b, uint32_t uid, uint32_t pid)
{
	int64_t now = rp_loop_now(b->loop);
	uint64_t retry;
	char r[96];

	if (!window_open(&b->reject_log, now, REJECT_WINDOW_MS))
		reject_summary(b);
	if (window_take(&b->reject_log, now, REJECT_WINDOW_MS, REJECT_LINES,
	    &retry) < 0) {
		b->reject_unlogged++;
		if (b->reject_timer == 0)
			b->reject_timer = rp_loop_timer(b->loop, now +
			    (int64_t)retry, reject_timer_cb, b);
		return;
	}
	rp_utf8_fmt(r, sizeof(r), "connection from uid %u refused",
	    (unsigned)uid);
	if (!events_stderr(&b->ev))    /* else the event is the line */
		cli_warn("%s (pid %u)", r, (unsigned)pid);
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_SECURITY_VIOLATION,
	    EV_WARN, NULL, r, NULL, 0, pid, NULL, 0);
}

/*
 * A connection has been accepted.  Peer credentials come first: another
 * uid is closed without a byte read or written.  `pressure` marks a
 * connection taken only to be refused with code 9 (no fds, or
 * --max-clients reached); it still gets one immediate read so that an
 * admin request (readyz) or a Hello already sent is answered properly.
 */
static void
accepted(struct broker *b, int fd, int pressure)
{
	struct rp_peercred pc = { 0 };

	b->count.accepted++;
	if (rp_sock_peercred(fd, &pc) < 0 || !broker_peer_allowed(b, &pc)) {
		rp_fd_close(&fd);
		b->count.peer_rejected++;
		b->count.closed[CONN_CLOSE_PEER_REJECTED]++;
		reject_log(b, pc.uid, pc.pid);
		return;
	}
	if (!pressure && b->nconns >= b->cfg.max_clients &&
	    !conn_evict_oldest(b, 0)) {
		/* Every slot is doing real work: this one is refused, and
		 * the broker is not ready until a slot frees. */
		pressure = 1;
		b->full = 1;
		b->count.accept_refused_max_clients++;
	}
	if (conn_accept(b, fd, pc.pid, pc.uid, pressure) < 0) {
		close(fd);
		b->count.closed[CONN_CLOSE_REFUSED_AT_ACCEPT]++;
	}
}

/*
 * accept ran out of fds.  First, as at --max-clients, the oldest
 * connections that have sent nothing give their fds up (code 9, for want
 * of fds) and what is waiting is accepted as usual, so that silent
 * connections cannot lock out clients that ask something.  With none left
 * to evict: give the reserve fd up, accept-and-refuse what is waiting
 * (each refused connection frees its slot for the next), take the
 * reserve back.  Every round does real work, so the listener stays
 * polled; only when not even the reserve's slot lets accept through
 * (ENFILE, or fds taken elsewhere) is it paused for a moment, which is
 * what keeps a full process from spinning on a readable listener.
 */
static void
accept_pressure(struct broker *b, int err)
{
	int fd, i, n = 0;

	b->count.accept_emfile++;
	enter_pressure(b, err);
	for (i = 0; i < PRESSURE_BATCH && conn_evict_oldest(b, 1); i++) {
		fd = rp_sock_accept(b->lst.fd, 1);
		if (fd >= 0) {
			accepted(b, fd, 0);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno != EMFILE && errno != ENFILE) {
			b->count.accept_errors++;
			return;
		}
		b->count.accept_emfile++;
	}
	if (i == PRESSURE_BATCH)
		return;                 /* more next turn */
	rp_fd_close(&b->reserve_fd);
	for (i = 0; i < PRESSURE_BATCH; i++) {
		fd = rp_sock_accept(b->lst.fd, 1);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE)
				b->count.accept_emfile++;
			break;
		}
		n++;
		b->count.accept_refused_emfile++;
		/* Refused at once: the slot it holds is the reserve's. */
		accepted(b, fd, 2);
	}
	b->reserve_fd = rp_fs_open_null();
	if (n == 0 || b->reserve_fd < 0)
		listen_backoff(b);
}

/* Accept up to max connections: 1 when it stopped before max (the queue
 * ran dry, or accepting cannot go on now), else 0. */
static int
accept_batch(struct broker *b, int max)
{
	int fd, i;

	for (i = 0; i < max && b->have_listener; i++) {
		fd = rp_sock_accept(b->lst.fd, 1);
		if (fd >= 0) {
			accepted(b, fd, 0);
			continue;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return 1;
		switch (errno) {
		case EMFILE:
		case ENFILE:
			accept_pressure(b, errno);
			return 1;
		case ECONNABORTED:
		case EPROTO:
		case EPERM:
			/* That connection is gone; the next may be fine. */
			b->count.accept_errors++;
			continue;
		default:
			/* ENOBUFS, ENOMEM...: give the system a moment. */
			b->count.accept_errors++;
			listen_backoff(b);
			return 1;
		}
	}
	return i < max;
}

/* The listener is readable: accept as many as burst.h says, not until
 * EAGAIN (a failed accept on every wake-up); the listener is
 * level-triggered, so what is left brings the loop back. */
static void
listen_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct broker *b = arg;
	int want = burst_want(&b->accept_burst);

	(void)loop;
	(void)fd;
	(void)ev;
	burst_done(&b->accept_burst, want, accept_batch(b, want));
}

/* Take in everything already waiting (used when the drain starts). */
void
listen_accept_all(struct broker *b)
{
	size_t guard = (size_t)b->cfg.max_clients + 4096;

	while (guard-- > 0 && b->have_listener) {
		uint64_t before = b->count.accepted;

		(void)accept_batch(b, ACCEPT_BATCH);
		if (b->count.accepted == before || b->resume_timer != 0)
			break;
	}
}

void
listen_start(struct broker *b)
{
	if (b->listening || !b->have_listener)
		return;
	if (rp_loop_add(b->loop, b->lst.fd, RP_LOOP_READ, listen_cb,
	    b) == 0)
		b->listening = 1;
}

void
listen_stop(struct broker *b)
{
	if (b->resume_timer != 0) {
		rp_loop_timer_cancel(b->loop, b->resume_timer);
		b->resume_timer = 0;
	}
	if (b->reject_timer != 0) {
		rp_loop_timer_cancel(b->loop, b->reject_timer);
		b->reject_timer = 0;
	}
	reject_summary(b);
	if (!b->listening)
		return;
	(void)rp_loop_del(b->loop, b->lst.fd);
	b->listening = 0;
}
