/*
 * loop_epoll.c — the Linux backend of the event loop (loop_impl.h): epoll
 * for the fds, a signalfd for the signals.
 */
#ifdef __linux__
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "deadline.h"
#include "loop_posix.h"

struct ep {
	int epfd;
	struct rp_loop_psig *sig;
};

static int
ep_create(struct rp_loop *loop)
{
	struct ep *e;
	int err;

	if ((e = calloc(1, sizeof(*e))) == NULL)
		return -1;
	if ((e->epfd = epoll_create1(EPOLL_CLOEXEC)) < 0) {
		err = errno;
		free(e);
		errno = err;
		return -1;
	}
	loop->bd = e;
	return 0;
}

static void
ep_free(struct rp_loop *loop)
{
	struct ep *e = loop->bd;

	rp_loop_psig_free(e->sig);
	close(e->epfd);
	free(e);
	loop->bd = NULL;
}

static int
ep_ctl(struct rp_loop *loop, int op, int fd, unsigned events, uint32_t gen)
{
	struct ep *e = loop->bd;
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = (events & RP_LOOP_READ ? EPOLLIN : 0) |
	    (events & RP_LOOP_WRITE ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)gen << 32 | (uint64_t)(uint32_t)fd;
	return epoll_ctl(e->epfd, op, fd, &ev);
}

/* epoll_ctl refuses a bad fd itself; a quiet one never reaches it. */
static int
ep_check(int fd, unsigned events)
{
	return events == 0 && fcntl(fd, F_GETFD) < 0 ? -1 : 0;
}

/*
 * A quiet watcher (events 0) is taken out of epoll entirely: epoll
 * reports hang-ups whatever was asked for, and a quiet fd that hung up
 * would otherwise wake the loop on every round.
 */
static int
ep_set(struct rp_loop *loop, int fd, struct rp_loop_watch *w, unsigned old,
    unsigned events)
{
	if (old == 0 && events != 0)
		return ep_ctl(loop, EPOLL_CTL_ADD, fd, events, w->gen);
	if (old != 0 && events == 0) {
		/* Fails only if fd was closed first; nothing to undo. */
		(void)ep_ctl(loop, EPOLL_CTL_DEL, fd, 0, 0);
		return 0;
	}
	if (events != 0)
		return ep_ctl(loop, EPOLL_CTL_MOD, fd, events, w->gen);
	return 0;
}

static int
ep_add(struct rp_loop *loop, int fd, struct rp_loop_watch *w,
    unsigned events)
{
	return ep_set(loop, fd, w, 0, events);
}

static void
ep_del(struct rp_loop *loop, int fd, struct rp_loop_watch *w)
{
	(void)ep_set(loop, fd, w, w->events, 0);
}

static int
ep_wait(struct rp_loop *loop, int64_t until)
{
	struct ep *e = loop->bd;
	struct epoll_event ev[RP_LOOP_BATCH];
	uint32_t x;
	int n, i;

	do
		n = epoll_wait(e->epfd, ev, RP_LOOP_BATCH,
		    rp_deadline_poll_ms(until));
	while (n < 0 && errno == EINTR);
	for (i = 0; i < n; i++) {
		x = ev[i].events;
		loop->rdy[i].fd = (int)(uint32_t)ev[i].data.u64;
		loop->rdy[i].gen = (uint32_t)(ev[i].data.u64 >> 32);
		loop->rdy[i].events = (x & EPOLLIN ? RP_LOOP_READ : 0) |
		    (x & EPOLLOUT ? RP_LOOP_WRITE : 0) |
		    (x & EPOLLHUP ? RP_LOOP_HUP : 0) |
		    (x & EPOLLERR ? RP_LOOP_ERR : 0);
	}
	return n;
}

/* One read per round: a signal storm must not starve the fds. */
static void
ep_sig_read(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	struct signalfd_siginfo si[8];
	ssize_t n, i;

	(void)events;
	(void)arg;
	while ((n = read(fd, si, sizeof(si))) < 0 && errno == EINTR)
		;
	for (i = 0; i < n / (ssize_t)sizeof(si[0]); i++)
		rp_loop_sig_deliver(loop, (int)si[i].ssi_signo);
}

static int
ep_sig_watch(struct rp_loop *loop, int signo)
{
	struct ep *e = loop->bd;
	struct rp_loop_psig *s;
	struct sigaction sa;
	sigset_t none, old;
	int fd;

	if (rp_loop_psig_check(signo) < 0)
		return -1;
	if (e->sig == NULL) {
		sigemptyset(&none);
		fd = signalfd(-1, &none, SFD_CLOEXEC | SFD_NONBLOCK);
		if (fd < 0 ||
		    (e->sig = rp_loop_psig_new(loop, fd, -1, ep_sig_read)) ==
		    NULL)
			return -1;
	}
	s = e->sig;
	if (rp_loop_psig_block(s, signo, &old) < 0)
		return -1;
	/*
	 * A blocked signal is queued whatever its disposition, with one
	 * exception: SIGCHLD set to SIG_IGN is never generated at all
	 * (children are reaped for us).  So an ignored signal is set back
	 * to the default, which cannot act while it is blocked.
	 */
	if (sigaction(signo, NULL, &s->old[signo]) < 0)
		goto undo;
	if (s->old[signo].sa_handler == SIG_IGN) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		sigemptyset(&sa.sa_mask);
		if (sigaction(signo, &sa, NULL) < 0)
			goto undo;
		sigaddset(&s->restore, signo);
	}
	if (signalfd(s->fd, &s->watched, 0) < 0)
		goto undo;
	rp_loop_psig_commit(s, signo, &old);
	return 0;
undo:
	rp_loop_psig_undo(s, signo, &old);
	return -1;
}

const struct rp_loop_backend rp_loop_epoll = {
	.name = "epoll",
	.create = ep_create,
	.free = ep_free,
	.check = ep_check,
	.add = ep_add,
	.set = ep_set,
	.del = ep_del,
	.wait = ep_wait,
	.sig_watch = ep_sig_watch,
};
#endif
