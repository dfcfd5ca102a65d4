/*
 * loop_posix.h — what the POSIX backends of the event loop share (see
 * lib/loop_impl.h): the two backends and their signal bookkeeping.
 *
 * A watched signal is blocked for the process (so it waits for the loop
 * instead of acting) and reaches the loop through an fd the backend
 * watches: a signalfd (epoll) or a self-pipe written by a handler (poll).
 * Freeing the loop puts back the dispositions it changed and unblocks
 * what was not blocked before.
 */
#ifndef RP_LOOP_POSIX_H
#define RP_LOOP_POSIX_H

#include <signal.h>

#include "loop_impl.h"

extern const struct rp_loop_backend rp_loop_epoll;
extern const struct rp_loop_backend rp_loop_poll;

struct rp_loop_psig {
	sigset_t watched;
	sigset_t unblock;       /* what freeing must unblock again */
	sigset_t restore;       /* whose disposition it must put back */
	int fd;                 /* signalfd, or the self-pipe's read end */
	int wfd;                /* the self-pipe's write end, or -1 */
	struct sigaction old[RP_LOOP_NSIG];     /* dispositions to restore */
};

/* The signal state of a loop, watching fd (and owning wfd, or -1) with
 * reader.  On failure both fds are closed: NULL with errno. */
struct rp_loop_psig *rp_loop_psig_new(struct rp_loop *loop, int fd, int wfd,
    rp_loop_fd_fn reader);
/* Refuse what cannot be watched (SIGKILL, SIGSTOP): 0 or -1, EINVAL. */
int rp_loop_psig_check(int signo);
/* Block signo and count it watched; *old gets the previous mask. */
int rp_loop_psig_block(struct rp_loop_psig *s, int signo, sigset_t *old);
/* The backend set signo up: remember to unblock it if it was not. */
void rp_loop_psig_commit(struct rp_loop_psig *s, int signo,
    const sigset_t *old);
/* The backend failed to set signo up: undo rp_loop_psig_block (and a
 * changed disposition).  errno is kept. */
void rp_loop_psig_undo(struct rp_loop_psig *s, int signo,
    const sigset_t *old);
/* Put every watched signal back, close the fds, free s (NULL is fine). */
void rp_loop_psig_free(struct rp_loop_psig *s);

#endif
