/*
 * loop_poll.c — the portable POSIX backend of the event loop
 * (loop_impl.h): poll(2) over an array of pollfds, signals through a
 * self-pipe written by a handler.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deadline.h"
#include "loop_posix.h"

struct pl {
	struct pollfd *pfd;     /* one entry per watcher */
	size_t npfd, pfdcap;
	struct rp_loop_psig *sig;
};

/*
 * Where the handler writes each signal: fd + 1, so that the
 * zero-initialised table means "nobody".  Process-wide by nature, as the
 * signal dispositions are.
 */
static volatile sig_atomic_t sig_wfd[RP_LOOP_NSIG];

static int
pl_create(struct rp_loop *loop)
{
	if ((loop->bd = calloc(1, sizeof(struct pl))) == NULL)
		return -1;
	return 0;
}

static void
pl_free(struct rp_loop *loop)
{
	struct pl *p = loop->bd;
	int signo;

	if (p->sig != NULL)
		for (signo = 1; signo < RP_LOOP_NSIG; signo++)
			if (sigismember(&p->sig->watched, signo))
				sig_wfd[signo] = 0;
	rp_loop_psig_free(p->sig);
	free(p->pfd);
	free(p);
	loop->bd = NULL;
}

/* poll(2) would take a bad fd and report POLLNVAL for it forever. */
static int
pl_check(int fd, unsigned events)
{
	(void)events;
	return fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

/*
 * A quiet watcher (events 0) keeps its entry, but holding ~fd, which
 * poll(2) skips (negative) and which still tells us the fd: poll reports
 * hang-ups whatever was asked for, and a quiet fd that hung up would
 * otherwise wake the loop on every round.
 */
static int
pl_set(struct rp_loop *loop, int fd, struct rp_loop_watch *w, unsigned old,
    unsigned events)
{
	struct pl *p = loop->bd;
	struct pollfd *e = &p->pfd[w->bidx];

	(void)old;
	e->fd = events != 0 ? fd : ~fd;
	e->events = (short)((events & RP_LOOP_READ ? POLLIN : 0) |
	    (events & RP_LOOP_WRITE ? POLLOUT : 0));
	e->revents = 0;
	return 0;
}

static int
pl_add(struct rp_loop *loop, int fd, struct rp_loop_watch *w,
    unsigned events)
{
	struct pl *p = loop->bd;

	if (rp_loop_grow((void **)&p->pfd, &p->pfdcap, p->npfd + 1,
	    sizeof(*p->pfd), 16) < 0)
		return -1;
	w->bidx = (uint32_t)p->npfd++;
	return pl_set(loop, fd, w, 0, events);
}

/* Swap-remove, and tell the moved watcher where it went. */
static void
pl_del(struct rp_loop *loop, int fd, struct rp_loop_watch *w)
{
	struct pl *p = loop->bd;
	struct pollfd *last = &p->pfd[--p->npfd];
	int lfd;

	(void)fd;
	if (w->bidx != p->npfd) {
		lfd = last->fd < 0 ? ~last->fd : last->fd;
		p->pfd[w->bidx] = *last;
		loop->w[lfd].bidx = w->bidx;
	}
}

static int
pl_wait(struct rp_loop *loop, int64_t until)
{
	struct pl *p = loop->bd;
	int n, i, err, masked;
	sigset_t old;
	size_t k;

	if (rp_loop_grow((void **)&loop->rdy, &loop->rdycap, p->npfd,
	    sizeof(*loop->rdy), RP_LOOP_BATCH) < 0)
		return -1;
	/*
	 * The watched signals are blocked except during the wait.
	 * Unblocking and poll are two steps, but a signal landing between
	 * them runs the handler, which writes the self-pipe, which poll then
	 * sees: no wake-up is lost.
	 */
	masked = p->sig != NULL &&
	    pthread_sigmask(SIG_UNBLOCK, &p->sig->watched, &old) == 0;
	do
		n = poll(p->pfd, (nfds_t)p->npfd, rp_deadline_poll_ms(until));
	while (n < 0 && errno == EINTR);
	err = errno;
	if (masked)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	errno = err;
	if (n <= 0)
		return n;
	i = 0;
	for (k = 0; k < p->npfd && i < n; k++) {
		struct pollfd *e = &p->pfd[k];
		short r = e->revents;

		if (e->fd < 0 || r == 0)
			continue;
		loop->rdy[i].fd = e->fd;
		loop->rdy[i].gen = loop->w[e->fd].gen;
		loop->rdy[i].events = (r & POLLIN ? RP_LOOP_READ : 0) |
		    (r & POLLOUT ? RP_LOOP_WRITE : 0) |
		    (r & POLLHUP ? RP_LOOP_HUP : 0) |
		    (r & (POLLERR | POLLNVAL) ? RP_LOOP_ERR : 0);
		i++;
	}
	return i;
}

static void
sig_handler(int signo)
{
	int saved = errno, fd;
	unsigned char c = (unsigned char)signo;
	ssize_t r;

	if (signo <= 0 || signo >= RP_LOOP_NSIG)
		return;
	fd = (int)sig_wfd[signo] - 1;
	if (fd >= 0) {
		/* A full pipe drops the byte: signals coalesce anyway. */
		r = write(fd, &c, 1);
		(void)r;
	}
	errno = saved;
}

/* One read per round: a signal storm must not starve the fds. */
static void
pl_sig_read(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	unsigned char b[64];
	ssize_t n, i;

	(void)events;
	(void)arg;
	while ((n = read(fd, b, sizeof(b))) < 0 && errno == EINTR)
		;
	for (i = 0; i < n; i++)
		rp_loop_sig_deliver(loop, b[i]);
}

static int
pl_sig_watch(struct rp_loop *loop, int signo)
{
	struct pl *p = loop->bd;
	struct rp_loop_psig *s;
	struct sigaction sa;
	sigset_t old;
	int fds[2];

	if (rp_loop_psig_check(signo) < 0)
		return -1;
	if (p->sig == NULL) {
		if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0 ||
		    (p->sig = rp_loop_psig_new(loop, fds[0], fds[1],
		    pl_sig_read)) == NULL)
			return -1;
	}
	s = p->sig;
	if (rp_loop_psig_block(s, signo, &old) < 0)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = sig_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sig_wfd[signo] = s->wfd + 1;
	if (sigaction(signo, &sa, &s->old[signo]) < 0) {
		sig_wfd[signo] = 0;
		rp_loop_psig_undo(s, signo, &old);
		return -1;
	}
	sigaddset(&s->restore, signo);
	rp_loop_psig_commit(s, signo, &old);
	return 0;
}

const struct rp_loop_backend rp_loop_poll = {
	.name = "poll",
	.create = pl_create,
	.free = pl_free,
	.check = pl_check,
	.add = pl_add,
	.set = pl_set,
	.del = pl_del,
	.wait = pl_wait,
	.sig_watch = pl_sig_watch,
};
