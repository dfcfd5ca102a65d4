/*
 * loop.h — a small event loop: fd readiness, timers on absolute deadlines,
 * signals delivered as events.  Backends: epoll (Linux) and poll (any
 * POSIX system, or on request), behind this one interface.
 * (The portable core is lib/loop.c; the backends, behind lib/loop_impl.h,
 * are lib/posix/loop_epoll.c and lib/posix/loop_poll.c.)
 *
 * Callbacks run on the loop's thread, one at a time.  A callback may add,
 * modify or delete any fd or timer, including its own; an fd deleted during
 * a dispatch round gets no further callbacks in that round.
 */
#ifndef RP_LOOP_H
#define RP_LOOP_H

#include <stdint.h>

#include "signo.h"

#define RP_LOOP_READ 0x1u
#define RP_LOOP_WRITE 0x2u
#define RP_LOOP_HUP 0x4u    /* reported only: hang-up */
#define RP_LOOP_ERR 0x8u    /* reported only: error condition */

#define RP_LOOP_FORCE_POLL 0x1 /* rp_loop_new flag: use the poll backend */

struct rp_loop;

typedef void (*rp_loop_fd_fn)(struct rp_loop *loop, int fd, unsigned events,
    void *arg);
typedef void (*rp_loop_timer_fn)(struct rp_loop *loop, void *arg);
typedef void (*rp_loop_signal_fn)(struct rp_loop *loop, int signo,
    void *arg);

/* NULL with errno on failure. */
struct rp_loop *rp_loop_new(int flags);
/* Frees the loop (not the fds it watched), restores signal masks. */
void rp_loop_free(struct rp_loop *loop);
/* "epoll" or "poll". */
const char *rp_loop_backend(const struct rp_loop *loop);

/* Watch fd for events (RP_LOOP_READ|RP_LOOP_WRITE; 0 = keep registered
 * but quiet: no callback at all, not even for a hang-up).  One
 * registration per fd: EEXIST for a second one.  HUP and ERR are reported
 * to any non-quiet watcher; on a hang-up with nothing left to read, HUP
 * may come without READ, so a reader treats HUP as readable. */
int rp_loop_add(struct rp_loop *loop, int fd, unsigned events,
    rp_loop_fd_fn fn, void *arg);
int rp_loop_mod(struct rp_loop *loop, int fd, unsigned events);
/* Stop watching fd; call before closing it.  ENOENT if not watched. */
int rp_loop_del(struct rp_loop *loop, int fd);

/* Call fn once at the absolute monotonic deadline (ms).  Returns a timer id
 * (> 0) or 0 with errno.  Timers with equal deadlines fire in the order
 * they were created; one created by a callback runs in a later round even
 * when its deadline has already passed. */
uint64_t rp_loop_timer(struct rp_loop *loop, int64_t deadline,
    rp_loop_timer_fn fn, void *arg);
/* Cancel a pending timer; unknown or fired ids are ignored. */
void rp_loop_timer_cancel(struct rp_loop *loop, uint64_t id);

/* Deliver signo as an event.  The signal is blocked for the process (so
 * call this before starting threads) and is unblocked again by
 * rp_loop_free (unless it was blocked before).  Several signals may share
 * a callback; a signal is watched by one loop at a time (EBUSY); SIGKILL
 * and SIGSTOP are EINVAL.  Signals coalesce: count nothing. */
int rp_loop_signal(struct rp_loop *loop, int signo, rp_loop_signal_fn fn,
    void *arg);

/* Dispatch until rp_loop_stop() (which is consumed: the loop can run
 * again; a stop requested before rp_loop_run makes it return at once), or
 * until nothing is left that could fire (no non-quiet fd, no timer, no
 * signal).  0, or -1 with errno on a backend failure. */
int rp_loop_run(struct rp_loop *loop);
/* Wait at most until deadline, dispatch one round.  0 or -1. */
int rp_loop_run_once(struct rp_loop *loop, int64_t deadline);
void rp_loop_stop(struct rp_loop *loop);

/* Called from a callback: when fd has an event in the round being
 * dispatched whose callback has not run yet, run that callback now (it
 * does not run again in this round); else nothing.  No system call: for
 * an fd whose news must come before what the current callback answers,
 * whatever order the round happens to be in. */
void rp_loop_dispatch_now(struct rp_loop *loop, int fd);

/* Monotonic ms, cached at the start of each dispatch round. */
int64_t rp_loop_now(const struct rp_loop *loop);

#endif
