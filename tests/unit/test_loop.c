/*
 * Unit tests for the event loop.  Every behaviour is checked on both
 * backends: each test body takes the rp_loop_new flags and runs twice.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "loop.h"
#include "t.h"

#define BOTH(name)                                                      \
	static void name##_epoll(void) { name(0); }                     \
	static void name##_poll(void) { name(RP_LOOP_FORCE_POLL); }

#define RUN_BOTH(name)                                                  \
	do {                                                            \
		T_RUN(name##_epoll);                                    \
		T_RUN(name##_poll);                                     \
	} while (0)

static struct rp_loop *
new_loop(int flags)
{
	struct rp_loop *loop = rp_loop_new(flags);

	T_OK(loop != NULL);
	if (loop == NULL)
		exit(1);
	T_STR(rp_loop_backend(loop), flags & RP_LOOP_FORCE_POLL ? "poll" :
	    "epoll");
	return loop;
}

/* A record of fd callbacks. */
struct hits {
	int n;
	int fd[64];
	unsigned ev[64];
	int64_t now[64];
};

static void
on_fd(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct hits *h = arg;

	if (h->n < 64) {
		h->fd[h->n] = fd;
		h->ev[h->n] = ev;
		h->now[h->n] = rp_loop_now(loop);
	}
	h->n++;
}

static void
drain(int fd)
{
	char b[256];

	while (read(fd, b, sizeof(b)) > 0)
		;
}

static void
t_fd_read(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct hits h = { 0 };
	int p[2];
	int64_t t0;

	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	T_EQ(rp_loop_add(loop, p[0], RP_LOOP_READ, on_fd, &h), 0);
	/* Nothing to read: run_once waits for its deadline and returns. */
	t0 = rp_now_ms();
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(40)), 0);
	T_OK(rp_now_ms() - t0 >= 40);
	T_EQ(h.n, 0);
	T_EQ(write(p[1], "x", 1), 1);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 1);
	T_EQ(h.fd[0], p[0]);
	T_UEQ(h.ev[0], RP_LOOP_READ);
	/* Level-triggered: still readable, reported again. */
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 2);
	drain(p[0]);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(20)), 0);
	T_EQ(h.n, 2);
	/* Writer gone: a hang-up is reported. */
	close(p[1]);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 3);
	T_OK(h.ev[2] & RP_LOOP_HUP);
	T_EQ(rp_loop_del(loop, p[0]), 0);
	close(p[0]);
	rp_loop_free(loop);
}
BOTH(t_fd_read)

/* rp_loop_dispatch_now: from one callback, run another fd's callback of
 * the same round at once, whichever comes first in the round; it is not
 * run again in that round, and an fd not in the round gets nothing. */
struct first {
	struct rp_loop *loop;
	int a, b, c;            /* read ends: a and b readable, c not */
	int order[8], n;
};

static void
on_now(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct first *f = arg;
	char x;
	int first;

	(void)ev;
	if (f->n < 8)
		f->order[f->n++] = fd;
	first = f->n == 1;
	T_EQ(read(fd, &x, 1), 1);
	if (fd == f->a || fd == f->b) {
		rp_loop_dispatch_now(loop, f->c);
		rp_loop_dispatch_now(loop, fd == f->a ? f->b : f->a);
		/* The other one has run by now, from in here. */
		if (first)
			T_EQ(f->n, 2);
	}
}

static void
t_dispatch_now(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct first f = { .loop = loop };
	int pa[2], pb[2], pc[2];

	T_EQ(pipe2(pa, O_CLOEXEC | O_NONBLOCK), 0);
	T_EQ(pipe2(pb, O_CLOEXEC | O_NONBLOCK), 0);
	T_EQ(pipe2(pc, O_CLOEXEC | O_NONBLOCK), 0);
	f.a = pa[0];
	f.b = pb[0];
	f.c = pc[0];
	T_EQ(rp_loop_add(loop, f.a, RP_LOOP_READ, on_now, &f), 0);
	T_EQ(rp_loop_add(loop, f.b, RP_LOOP_READ, on_now, &f), 0);
	T_EQ(rp_loop_add(loop, f.c, RP_LOOP_READ, on_now, &f), 0);
	T_EQ(write(pa[1], "a", 1), 1);
	T_EQ(write(pb[1], "b", 1), 1);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	/* Both ran once, in one round (the second one read its byte, so a
	 * second callback would fail its read), c not at all. */
	T_EQ(f.n, 2);
	T_OK((f.order[0] == f.a && f.order[1] == f.b) ||
	    (f.order[0] == f.b && f.order[1] == f.a));
	/* Outside a round: nothing. */
	rp_loop_dispatch_now(loop, f.a);
	T_EQ(f.n, 2);
	T_EQ(rp_loop_del(loop, f.a), 0);
	T_EQ(rp_loop_del(loop, f.b), 0);
	T_EQ(rp_loop_del(loop, f.c), 0);
	close(pa[0]);
	close(pa[1]);
	close(pb[0]);
	close(pb[1]);
	close(pc[0]);
	close(pc[1]);
	rp_loop_free(loop);
}
BOTH(t_dispatch_now)

static void
t_fd_write(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct hits h = { 0 };
	char buf[4096];
	int sv[2];

	memset(buf, 'w', sizeof(buf));
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0,
	    sv), 0);
	T_EQ(rp_loop_add(loop, sv[0], RP_LOOP_WRITE, on_fd, &h), 0);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 1);
	T_UEQ(h.ev[0], RP_LOOP_WRITE);
	/* Fill the socket: no more write readiness. */
	while (send(sv[0], buf, sizeof(buf), MSG_NOSIGNAL) > 0)
		;
	T_EQ(errno, EAGAIN);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(30)), 0);
	T_EQ(h.n, 1);
	/* The peer drains it: writable again. */
	drain(sv[1]);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 2);
	T_OK(h.ev[1] & RP_LOOP_WRITE);
	/* Switching interest to read: quiet until the peer writes. */
	T_EQ(rp_loop_mod(loop, sv[0], RP_LOOP_READ), 0);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(30)), 0);
	T_EQ(h.n, 2);
	T_EQ(write(sv[1], "r", 1), 1);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 3);
	T_UEQ(h.ev[2], RP_LOOP_READ);
	T_EQ(rp_loop_del(loop, sv[0]), 0);
	close(sv[0]);
	close(sv[1]);
	rp_loop_free(loop);
}
BOTH(t_fd_write)

/* A quiet watcher (events 0) gets nothing, not even a hang-up, and does
 * not make the loop spin. */
static void
t_fd_quiet(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct hits h = { 0 };
	int p[2];
	int64_t t0;

	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	T_EQ(write(p[1], "x", 1), 1);
	close(p[1]);
	T_EQ(rp_loop_add(loop, p[0], 0, on_fd, &h), 0);
	t0 = rp_now_ms();
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(40)), 0);
	T_OK(rp_now_ms() - t0 >= 40);
	T_EQ(h.n, 0);
	/* Nothing active: run() has nothing to wait for and returns. */
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(h.n, 0);
	T_EQ(rp_loop_mod(loop, p[0], RP_LOOP_READ), 0);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(h.n, 1);
	T_OK(h.ev[0] & RP_LOOP_READ);
	T_EQ(rp_loop_mod(loop, p[0], 0), 0);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(20)), 0);
	T_EQ(h.n, 1);
	T_EQ(rp_loop_del(loop, p[0]), 0);
	close(p[0]);
	rp_loop_free(loop);
}
BOTH(t_fd_quiet)

static void
t_fd_errors(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct hits h = { 0 };
	int p[2], closed;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(rp_loop_add(loop, p[0], RP_LOOP_READ, on_fd, &h), 0);
	errno = 0;
	T_EQ(rp_loop_add(loop, p[0], RP_LOOP_WRITE, on_fd, &h), -1);
	T_EQ(errno, EEXIST);
	errno = 0;
	T_EQ(rp_loop_mod(loop, p[1], RP_LOOP_READ), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_loop_del(loop, p[1]), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_loop_del(loop, 100000), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_loop_add(loop, -1, RP_LOOP_READ, on_fd, &h), -1);
	T_EQ(errno, EBADF);
	errno = 0;
	T_EQ(rp_loop_add(loop, p[1], RP_LOOP_READ, NULL, &h), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_loop_add(loop, p[1], RP_LOOP_HUP, on_fd, &h), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_loop_mod(loop, p[0], 0x10), -1);
	T_EQ(errno, EINVAL);
	/* A closed fd cannot be watched, quiet or not. */
	closed = dup(p[1]);
	T_OK(closed >= 0);
	close(closed);
	errno = 0;
	T_EQ(rp_loop_add(loop, closed, RP_LOOP_READ, on_fd, &h), -1);
	T_EQ(errno, EBADF);
	errno = 0;
	T_EQ(rp_loop_add(loop, closed, 0, on_fd, &h), -1);
	T_EQ(errno, EBADF);
	/* After del, the fd can be added again. */
	T_EQ(rp_loop_del(loop, p[0]), 0);
	T_EQ(rp_loop_add(loop, p[0], RP_LOOP_READ, on_fd, &h), 0);
	T_EQ(rp_loop_del(loop, p[0]), 0);
	errno = 0;
	T_EQ(rp_loop_timer(loop, 0, NULL, NULL), 0);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_loop_new(0x40) == NULL, 1);
	T_EQ(errno, EINVAL);
	close(p[0]);
	close(p[1]);
	rp_loop_free(loop);
	rp_loop_free(NULL);
}
BOTH(t_fd_errors)

/* Timers: an order log. */
struct tlog {
	struct rp_loop *loop;
	int n;
	int order[64];
	int64_t at[64];
	uint64_t cancel;        /* cancelled by the first callback */
	uint64_t self;          /* the id of the timer that fires first */
};

struct tctx {
	struct tlog *log;
	int tag;
	int64_t deadline;
};

static void
on_timer(struct rp_loop *loop, void *arg)
{
	struct tctx *c = arg;
	struct tlog *l = c->log;

	if (l->n < 64) {
		l->order[l->n] = c->tag;
		l->at[l->n] = rp_loop_now(loop);
	}
	l->n++;
	T_OK(rp_loop_now(loop) >= c->deadline);
	if (l->cancel != 0) {
		rp_loop_timer_cancel(loop, l->cancel);
		l->cancel = 0;
	}
	/* Cancelling a timer that is firing is a no-op. */
	if (l->self != 0) {
		rp_loop_timer_cancel(loop, l->self);
		l->self = 0;
	}
}

static void
t_timer_order(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct tlog log = { .loop = loop };
	struct tctx c[5];
	int64_t now = rp_now_ms();
	int64_t dl[5] = { now + 60, now + 20, now + 40, now + 20, now - 5 };
	int i, want[5] = { 4, 1, 3, 2, 0 };
	uint64_t id[5];

	for (i = 0; i < 5; i++) {
		c[i].log = &log;
		c[i].tag = i;
		c[i].deadline = dl[i];
		id[i] = rp_loop_timer(loop, dl[i], on_timer, &c[i]);
		T_OK(id[i] > 0);
	}
	for (i = 1; i < 5; i++)
		T_OK(id[i] != id[0]);
	log.self = id[4];
	/* No fds: run() returns once the last timer fired. */
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(log.n, 5);
	for (i = 0; i < 5; i++) {
		T_EQ(log.order[i], want[i]);
		T_OK(log.at[i] >= dl[want[i]]);
	}
	/* Fired ids are ignored. */
	for (i = 0; i < 5; i++)
		rp_loop_timer_cancel(loop, id[i]);
	rp_loop_free(loop);
}
BOTH(t_timer_order)

static void
t_timer_cancel(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct tlog log = { .loop = loop };
	struct tctx c[4];
	int64_t now = rp_now_ms();
	uint64_t id[4];
	int i;

	for (i = 0; i < 4; i++) {
		c[i].log = &log;
		c[i].tag = i;
		c[i].deadline = now + 10 * (i + 1);
		id[i] = rp_loop_timer(loop, c[i].deadline, on_timer, &c[i]);
	}
	rp_loop_timer_cancel(loop, id[1]);
	rp_loop_timer_cancel(loop, id[1]);     /* twice: ignored */
	rp_loop_timer_cancel(loop, 0);
	rp_loop_timer_cancel(loop, UINT64_MAX);
	rp_loop_timer_cancel(loop, id[3] + ((uint64_t)1 << 32)); /* wrong gen */
	rp_loop_timer_cancel(loop, 12345);
	/* The first to fire (0) cancels the last (3) from its callback. */
	log.cancel = id[3];
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(log.n, 2);
	T_EQ(log.order[0], 0);
	T_EQ(log.order[1], 2);
	/* A freed slot is reused with a new id; the old id stays dead. */
	c[1].deadline = rp_now_ms();
	T_OK(rp_loop_timer(loop, c[1].deadline, on_timer, &c[1]) != id[1]);
	/* Stale ids, one of whose slots was just reused: ignored. */
	rp_loop_timer_cancel(loop, id[0]);
	rp_loop_timer_cancel(loop, id[2]);
	rp_loop_timer_cancel(loop, id[3]);
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(log.n, 3);
	T_EQ(log.order[2], 1);
	rp_loop_free(loop);
}
BOTH(t_timer_cancel)

struct chain {
	int first, second;
	int round;
};

static void
on_second(struct rp_loop *loop, void *arg)
{
	struct chain *ch = arg;

	(void)loop;
	ch->second = ch->round;
}

static void
on_first(struct rp_loop *loop, void *arg)
{
	struct chain *ch = arg;

	ch->first = ch->round;
	/* Already due: runs, but in a later round, not this one. */
	T_OK(rp_loop_timer(loop, rp_loop_now(loop) - 1, on_second, ch) > 0);
}

static void
t_timer_from_callback(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct chain ch = { 0 };

	T_OK(rp_loop_timer(loop, rp_now_ms(), on_first, &ch) > 0);
	ch.round = 1;
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(ch.first, 1);
	T_EQ(ch.second, 0);
	ch.round = 2;
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(ch.second, 2);
	T_EQ(rp_loop_run(loop), 0);
	rp_loop_free(loop);
}
BOTH(t_timer_from_callback)

/* run_once returns by its deadline even with a later timer pending, and
 * a timer due before the deadline ends the wait early. */
static void
t_run_once_deadline(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct tlog log = { .loop = loop };
	struct tctx c = { &log, 7, 0 };
	int64_t t0 = rp_now_ms();

	c.deadline = t0 + 10000;
	T_OK(rp_loop_timer(loop, c.deadline, on_timer, &c) > 0);
	T_EQ(rp_loop_run_once(loop, t0 + 50), 0);
	T_OK(rp_now_ms() - t0 >= 50);
	T_OK(rp_now_ms() - t0 < 5000);
	T_EQ(log.n, 0);
	/* The loop's cached now was taken after the wait. */
	T_OK(rp_loop_now(loop) >= t0 + 50);
	/* A deadline already passed: one non-blocking round. */
	T_EQ(rp_loop_run_once(loop, t0), 0);
	T_EQ(log.n, 0);
	rp_loop_free(loop);

	loop = new_loop(flags);
	t0 = rp_now_ms();
	c.deadline = t0 + 30;
	T_OK(rp_loop_timer(loop, c.deadline, on_timer, &c) > 0);
	T_EQ(rp_loop_run_once(loop, RP_DEADLINE_NEVER), 0);
	T_EQ(log.n, 1);
	T_OK(rp_now_ms() - t0 >= 30);
	T_OK(rp_now_ms() - t0 < 5000);
	rp_loop_free(loop);
}
BOTH(t_run_once_deadline)

static void
on_stop(struct rp_loop *loop, void *arg)
{
	(*(int *)arg)++;
	rp_loop_stop(loop);
}

static void
t_stop(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	int stops = 0;
	struct tlog log = { .loop = loop };
	struct tctx c = { &log, 1, 0 };

	c.deadline = rp_now_ms() + 30;
	T_OK(rp_loop_timer(loop, rp_now_ms(), on_stop, &stops) > 0);
	T_OK(rp_loop_timer(loop, c.deadline, on_timer, &c) > 0);
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(stops, 1);
	T_EQ(log.n, 0);
	/* The stop was consumed: running again finishes the rest. */
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(log.n, 1);
	/* A stop requested before run() makes it return at once. */
	T_OK(rp_loop_timer(loop, rp_now_ms() + 10000, on_timer, &c) > 0);
	rp_loop_stop(loop);
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(log.n, 1);
	rp_loop_free(loop);
}
BOTH(t_stop)

/*
 * Deletion during dispatch.  Two pipes are readable in one round; the
 * first callback to run deletes the other fd, closes it, and puts a new,
 * empty pipe's read end on the same fd number with a new watcher.  The
 * event the kernel already reported for the old fd must reach neither the
 * old watcher nor the new one.
 */
struct swap {
	int a, b;               /* the two watched read ends */
	int wa, wb;             /* their write ends */
	int calls;              /* callbacks of the original watchers */
	struct hits fresh;      /* callbacks of the replacement watcher */
	int replaced;           /* the fd number that was swapped */
	int newwr;              /* write end of the replacement pipe */
};

static void
on_swap(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct swap *s = arg;
	int victim = fd == s->a ? s->b : s->a;
	int p[2];

	(void)ev;
	s->calls++;
	if (s->replaced >= 0)
		return;
	T_EQ(rp_loop_del(loop, victim), 0);
	close(victim);
	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	if (p[0] != victim) {
		T_EQ(dup3(p[0], victim, O_CLOEXEC), victim);
		close(p[0]);
	}
	s->newwr = p[1];
	s->replaced = victim;
	T_EQ(rp_loop_add(loop, victim, RP_LOOP_READ, on_fd, &s->fresh), 0);
}

static void
t_del_during_dispatch(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct swap s = { .replaced = -1, .newwr = -1 };
	int p[2], q[2];

	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	T_EQ(pipe2(q, O_CLOEXEC | O_NONBLOCK), 0);
	s.a = p[0];
	s.wa = p[1];
	s.b = q[0];
	s.wb = q[1];
	T_EQ(rp_loop_add(loop, s.a, RP_LOOP_READ, on_swap, &s), 0);
	T_EQ(rp_loop_add(loop, s.b, RP_LOOP_READ, on_swap, &s), 0);
	T_EQ(write(s.wa, "a", 1), 1);
	T_EQ(write(s.wb, "b", 1), 1);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(s.calls, 1);
	T_OK(s.replaced == s.a || s.replaced == s.b);
	T_EQ(s.fresh.n, 0);
	/* The replacement pipe is empty: still nothing for it. */
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(20)), 0);
	T_EQ(s.fresh.n, 0);
	/* Now it gets real events. */
	T_EQ(write(s.newwr, "n", 1), 1);
	T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(s.fresh.n, 1);
	T_EQ(s.fresh.fd[0], s.replaced);
	T_EQ(rp_loop_del(loop, s.a), 0);
	T_EQ(rp_loop_del(loop, s.b), 0);
	close(s.a);
	close(s.b);
	close(s.wa);
	close(s.wb);
	close(s.newwr);
	rp_loop_free(loop);
}
BOTH(t_del_during_dispatch)

/* Each callback deletes itself and quiets or deletes the others. */
struct many {
	int fds[3];
	int calls;
	int op;                 /* 0: del others, 1: mod others quiet */
};

static void
on_many(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct many *m = arg;
	int i;

	(void)ev;
	m->calls++;
	for (i = 0; i < 3; i++) {
		if (m->fds[i] == fd)
			T_EQ(rp_loop_del(loop, fd), 0);
		else if (m->op == 0)
			T_EQ(rp_loop_del(loop, m->fds[i]), 0);
		else
			T_EQ(rp_loop_mod(loop, m->fds[i], 0), 0);
	}
}

static void
t_del_others(int flags)
{
	struct many m = { .op = 0 };
	int op, i, p[3][2];

	for (op = 0; op < 2; op++) {
		struct rp_loop *loop = new_loop(flags);

		m.op = op;
		m.calls = 0;
		for (i = 0; i < 3; i++) {
			T_EQ(pipe2(p[i], O_CLOEXEC), 0);
			T_EQ(write(p[i][1], "x", 1), 1);
			m.fds[i] = p[i][0];
			T_EQ(rp_loop_add(loop, p[i][0], RP_LOOP_READ, on_many,
			    &m), 0);
		}
		T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
		T_EQ(m.calls, 1);
		for (i = 0; i < 3; i++) {
			close(p[i][0]);
			close(p[i][1]);
		}
		rp_loop_free(loop);
	}
}
BOTH(t_del_others)

struct sigrec {
	int n;
	int signo[8];
};

static void
on_signal(struct rp_loop *loop, int signo, void *arg)
{
	struct sigrec *r = arg;

	(void)loop;
	if (r->n < 8)
		r->signo[r->n] = signo;
	r->n++;
}

static int
is_blocked(int signo)
{
	sigset_t cur;

	pthread_sigmask(SIG_SETMASK, NULL, &cur);
	return sigismember(&cur, signo);
}

static void
t_signals(int flags)
{
	struct rp_loop *loop = new_loop(flags), *other;
	struct sigrec r = { 0 };
	struct sigaction sa;
	sigset_t two;
	int i, seen1 = 0, seen2 = 0;

	signal(SIGUSR1, SIG_DFL);
	signal(SIGUSR2, SIG_DFL);
	/* SIGUSR2 blocked beforehand must stay blocked after the loop. */
	sigemptyset(&two);
	sigaddset(&two, SIGUSR2);
	pthread_sigmask(SIG_BLOCK, &two, NULL);
	T_EQ(is_blocked(SIGUSR1), 0);
	T_EQ(rp_loop_signal(loop, SIGUSR1, on_signal, &r), 0);
	T_EQ(rp_loop_signal(loop, SIGUSR2, on_signal, &r), 0);
	T_EQ(is_blocked(SIGUSR1), 1);
	errno = 0;
	T_EQ(rp_loop_signal(loop, SIGKILL, on_signal, &r), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_loop_signal(loop, 0, on_signal, &r), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_loop_signal(loop, SIGUSR1, NULL, &r), -1);
	T_EQ(errno, EINVAL);
	/* One loop per signal. */
	other = new_loop(flags);
	errno = 0;
	T_EQ(rp_loop_signal(other, SIGUSR1, on_signal, &r), -1);
	T_EQ(errno, EBUSY);
	rp_loop_free(other);

	T_EQ(kill(getpid(), SIGUSR1), 0);
	T_EQ(kill(getpid(), SIGUSR2), 0);
	for (i = 0; i < 10 && r.n < 2; i++)
		T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(r.n, 2);
	for (i = 0; i < 2; i++) {
		seen1 += r.signo[i] == SIGUSR1;
		seen2 += r.signo[i] == SIGUSR2;
	}
	T_EQ(seen1, 1);
	T_EQ(seen2, 1);
	/* Still blocked while watched. */
	T_EQ(is_blocked(SIGUSR1), 1);
	rp_loop_free(loop);
	T_EQ(is_blocked(SIGUSR1), 0);
	T_EQ(is_blocked(SIGUSR2), 1);
	T_EQ(sigaction(SIGUSR1, NULL, &sa), 0);
	T_OK(sa.sa_handler == SIG_DFL);
	/* The signal is free for another loop now. */
	other = new_loop(flags);
	T_EQ(rp_loop_signal(other, SIGUSR1, on_signal, &r), 0);
	rp_loop_free(other);
}
BOTH(t_signals)

/* A signal sent by another process while the loop sleeps wakes it. */
static void
t_signal_while_waiting(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct sigrec r = { 0 };
	int go[2], st;
	pid_t pid, parent = getpid();
	char c;

	signal(SIGTERM, SIG_DFL);
	T_EQ(rp_loop_signal(loop, SIGTERM, on_signal, &r), 0);
	T_EQ(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(kill(parent, SIGTERM) == 0 ? 0 : 2);
	}
	close(go[0]);
	T_EQ(write(go[1], "g", 1), 1);
	close(go[1]);
	while (r.n == 0)
		T_EQ(rp_loop_run_once(loop, rp_deadline_in(10000)), 0);
	T_EQ(r.n, 1);
	T_EQ(r.signo[0], SIGTERM);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	rp_loop_free(loop);
}
BOTH(t_signal_while_waiting)

/* SIGCHLD set to SIG_IGN is never even generated: watching it must undo
 * that while the loop lives, and rp_loop_free must put it back. */
static void
t_sigchld_ignored(int flags)
{
	struct rp_loop *loop = new_loop(flags);
	struct sigrec r = { 0 };
	struct sigaction sa;
	int st, i;
	pid_t pid;

	signal(SIGCHLD, SIG_IGN);
	T_EQ(rp_loop_signal(loop, SIGCHLD, on_signal, &r), 0);
	pid = fork();
	if (pid == 0)
		_exit(7);
	for (i = 0; i < 10 && r.n == 0; i++)
		T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	T_EQ(r.n, 1);
	T_EQ(r.signo[0], SIGCHLD);
	/* Not auto-reaped: the exit status is ours to collect. */
	T_EQ(waitpid(pid, &st, 0), pid);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 7);
	rp_loop_free(loop);
	T_EQ(sigaction(SIGCHLD, NULL, &sa), 0);
	T_OK(sa.sa_handler == SIG_IGN);
	T_EQ(is_blocked(SIGCHLD), 0);
}
BOTH(t_sigchld_ignored)

/* 10 000 timers with clashing deadlines, a third cancelled. */
struct big {
	int64_t last_deadline;
	uint64_t last_seq;
	int fired;
	int misordered;
	int cancelled_fired;
};

struct bigt {
	struct big *b;
	int64_t deadline;
	uint64_t seq;
	int cancelled;
};

static void
on_big(struct rp_loop *loop, void *arg)
{
	struct bigt *t = arg;
	struct big *b = t->b;

	(void)loop;
	if (t->cancelled)
		b->cancelled_fired++;
	if (t->deadline < b->last_deadline ||
	    (t->deadline == b->last_deadline && t->seq < b->last_seq))
		b->misordered++;
	b->last_deadline = t->deadline;
	b->last_seq = t->seq;
	b->fired++;
}

static void
t_many_timers(int flags)
{
	enum { N = 10000 };
	struct rp_loop *loop = new_loop(flags);
	struct bigt *t = calloc(N, sizeof(*t));
	uint64_t *id = calloc(N, sizeof(*id));
	struct big b = { .last_deadline = INT64_MIN };
	int64_t base = rp_now_ms();
	uint32_t x = 12345;
	int i, live = 0;

	T_OK(t != NULL && id != NULL);
	for (i = 0; i < N; i++) {
		x = x * 1103515245u + 12345u;
		t[i].b = &b;
		t[i].deadline = base + (int64_t)((x >> 16) % 60);
		t[i].seq = (uint64_t)i;
		id[i] = rp_loop_timer(loop, t[i].deadline, on_big, &t[i]);
		T_OK(id[i] != 0);
	}
	for (i = 0; i < N; i += 3) {
		t[i].cancelled = 1;
		rp_loop_timer_cancel(loop, id[i]);
	}
	for (i = 0; i < N; i++)
		live += !t[i].cancelled;
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(b.fired, live);
	T_EQ(b.misordered, 0);
	T_EQ(b.cancelled_fired, 0);
	free(t);
	free(id);
	rp_loop_free(loop);
}
BOTH(t_many_timers)

/* 10 000 watched fds: readiness of a sparse subset is reported exactly. */
struct fdset {
	int *hit;
	int calls;
};

static void
on_set(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct fdset *s = arg;

	(void)loop;
	(void)ev;
	s->hit[fd]++;
	s->calls++;
}

static void
t_many_fds(int flags)
{
	enum { PIPES = 5000 };
	struct rp_loop *loop;
	struct rlimit rl;
	struct fdset s = { 0 };
	int (*p)[2] = calloc(PIPES, sizeof(*p));
	int i, wrote = 0, bad = 0, maxfd = 0;

	T_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur < 2 * PIPES + 64) {
		rl.rlim_cur = rl.rlim_max;
		T_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	T_OK(rl.rlim_cur >= 2 * PIPES + 64);
	loop = new_loop(flags);
	for (i = 0; i < PIPES; i++) {
		T_EQ(pipe2(p[i], O_CLOEXEC | O_NONBLOCK), 0);
		if (p[i][1] > maxfd)
			maxfd = p[i][1];
	}
	s.hit = calloc((size_t)maxfd + 1, sizeof(int));
	for (i = 0; i < PIPES; i++) {
		T_EQ(rp_loop_add(loop, p[i][0], RP_LOOP_READ, on_set, &s), 0);
		T_EQ(rp_loop_add(loop, p[i][1], 0, on_set, &s), 0);
	}
	for (i = 0; i < PIPES; i += 7) {
		T_EQ(write(p[i][1], "x", 1), 1);
		wrote++;
	}
	/* epoll hands out at most a batch per round; poll all at once. */
	while (s.calls < wrote)
		T_EQ(rp_loop_run_once(loop, rp_deadline_in(5000)), 0);
	for (i = 0; i < PIPES; i++) {
		if (s.hit[p[i][0]] == 0 && i % 7 == 0)
			bad++;
		if (s.hit[p[i][1]] != 0 || (i % 7 != 0 && s.hit[p[i][0]]))
			bad++;
	}
	T_EQ(bad, 0);
	for (i = 0; i < PIPES; i++) {
		T_EQ(rp_loop_del(loop, p[i][0]), 0);
		T_EQ(rp_loop_del(loop, p[i][1]), 0);
		close(p[i][0]);
		close(p[i][1]);
	}
	rp_loop_free(loop);
	free(s.hit);
	free(p);
}
BOTH(t_many_fds)

/* The loop's own fds are close-on-exec and released by rp_loop_free. */
static void
t_no_leak(int flags)
{
	int n0 = rp_fd_count(), fd, fresh = 0;
	char before[256];
	struct rp_loop *loop;
	struct sigrec r = { 0 };

	for (fd = 0; fd < 256; fd++)
		before[fd] = fcntl(fd, F_GETFD) >= 0;
	loop = new_loop(flags);
	T_EQ(rp_loop_signal(loop, SIGHUP, on_signal, &r), 0);
	for (fd = 0; fd < 256; fd++) {
		if (before[fd] || fcntl(fd, F_GETFD) < 0)
			continue;
		fresh++;
		T_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	}
	/* epoll + signalfd, or the self-pipe's two ends. */
	T_EQ(fresh, 2);
	T_EQ(rp_fd_count(), n0 + 2);
	rp_loop_free(loop);
	T_EQ(rp_fd_count(), n0);
}
BOTH(t_no_leak)

int
main(void)
{
	RUN_BOTH(t_fd_read);
	RUN_BOTH(t_fd_write);
	RUN_BOTH(t_fd_quiet);
	RUN_BOTH(t_fd_errors);
	RUN_BOTH(t_timer_order);
	RUN_BOTH(t_timer_cancel);
	RUN_BOTH(t_timer_from_callback);
	RUN_BOTH(t_run_once_deadline);
	RUN_BOTH(t_stop);
	RUN_BOTH(t_del_during_dispatch);
	RUN_BOTH(t_del_others);
	RUN_BOTH(t_signals);
	RUN_BOTH(t_signal_while_waiting);
	RUN_BOTH(t_sigchld_ignored);
	RUN_BOTH(t_many_timers);
	RUN_BOTH(t_many_fds);
	RUN_BOTH(t_no_leak);
	RUN_BOTH(t_dispatch_now);
	return t_done();
}
