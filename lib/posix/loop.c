/*
 * loop.c — the POSIX part of the event loop: which backend a loop gets,
 * and the signal bookkeeping both backends share (loop_posix.h).
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <unistd.h>

#include "loop_posix.h"

int
rp_loop_backend_open(struct rp_loop *loop, int flags)
{
#ifdef __linux__
	if (!(flags & RP_LOOP_FORCE_POLL)) {
		if (rp_loop_epoll.create(loop) == 0) {
			loop->be = &rp_loop_epoll;
			return 0;
		}
		if (errno != ENOSYS)
			return -1;
	}
#else
	(void)flags;
#endif
	if (rp_loop_poll.create(loop) < 0)
		return -1;
	loop->be = &rp_loop_poll;
	return 0;
}

struct rp_loop_psig *
rp_loop_psig_new(struct rp_loop *loop, int fd, int wfd, rp_loop_fd_fn reader)
{
	struct rp_loop_psig *s;
	int err;

	if ((s = calloc(1, sizeof(*s))) == NULL)
		goto fail;
	sigemptyset(&s->watched);
	sigemptyset(&s->unblock);
	sigemptyset(&s->restore);
	s->fd = fd;
	s->wfd = wfd;
	if (rp_loop_add(loop, fd, RP_LOOP_READ, reader, NULL) < 0)
		goto fail;
	return s;
fail:
	err = errno;
	close(fd);
	if (wfd >= 0)
		close(wfd);
	free(s);
	errno = err;
	return NULL;
}

int
rp_loop_psig_check(int signo)
{
	if (signo == SIGKILL || signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	return 0;
}

int
rp_loop_psig_block(struct rp_loop_psig *s, int signo, sigset_t *old)
{
	sigset_t one;
	int err;

	sigemptyset(&one);
	sigaddset(&one, signo);
	/* Block first: from here on the signal waits for us. */
	if ((err = pthread_sigmask(SIG_BLOCK, &one, old)) != 0) {
		errno = err;
		return -1;
	}
	sigaddset(&s->watched, signo);
	return 0;
}

void
rp_loop_psig_commit(struct rp_loop_psig *s, int signo, const sigset_t *old)
{
	if (!sigismember(old, signo))
		sigaddset(&s->unblock, signo);
}

void
rp_loop_psig_undo(struct rp_loop_psig *s, int signo, const sigset_t *old)
{
	int err = errno;
	sigset_t one;

	if (sigismember(&s->restore, signo)) {
		sigaction(signo, &s->old[signo], NULL);
		sigdelset(&s->restore, signo);
	}
	sigdelset(&s->watched, signo);
	if (!sigismember(old, signo)) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	}
	errno = err;
}

void
rp_loop_psig_free(struct rp_loop_psig *s)
{
	int signo;

	if (s == NULL)
		return;
	/* The signals are still blocked here, so no handler can run while
	 * the dispositions are put back; only then are they unblocked, and
	 * one that arrived meanwhile acts as it did before the loop. */
	for (signo = 1; signo < RP_LOOP_NSIG; signo++)
		if (sigismember(&s->restore, signo))
			sigaction(signo, &s->old[signo], NULL);
	pthread_sigmask(SIG_UNBLOCK, &s->unblock, NULL);
	close(s->fd);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
}
