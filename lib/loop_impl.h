/*
 * loop_impl.h — between the portable core of the event loop (lib/loop.c:
 * the fd table, the timer heap, dispatch, the signal table) and its
 * backends (lib/posix/loop_epoll.c, lib/posix/loop_poll.c; a Windows one
 * belongs in lib/win/).  Internal: not installed.
 *
 * A backend keeps the kernel's view of the fd table in step with the
 * core's (add, set, del), waits and reports what is ready in loop->rdy,
 * and brings signals to the loop as events: how is its own business (a
 * signalfd beside epoll, a self-pipe beside poll), as long as each one
 * ends in rp_loop_sig_deliver on the loop's thread.
 */
#ifndef RP_LOOP_IMPL_H
#define RP_LOOP_IMPL_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"
#include "signo.h"

/* Room for every signal number signo.h can name (Windows' NSIG is 23,
 * below SIGWINCH). */
#if defined(NSIG) && NSIG > SIGWINCH
#define RP_LOOP_NSIG NSIG
#else
#define RP_LOOP_NSIG 65
#endif

/* loop->rdy always has room for this many events. */
#define RP_LOOP_BATCH 128

/*
 * One watched fd.  fn == NULL marks a free slot.  gen changes on every
 * rp_loop_add of the slot, and every ready event carries the gen it was
 * registered with: an event fetched for an fd that was deleted and added
 * again later in the same round no longer matches and is dropped.  Packed
 * to 24 bytes on LP64, as the broker keeps one per connection.
 */
struct rp_loop_watch {
	rp_loop_fd_fn fn;
	void *arg;
	uint32_t gen : 30;
	uint32_t events : 2;    /* RP_LOOP_READ | RP_LOOP_WRITE */
	uint32_t bidx;          /* the backend's own index (poll: pollfd) */
};

#define RP_LOOP_GEN_MASK ((1u << 30) - 1)

/* What a backend's wait reports: the fd, the gen it was registered with
 * and RP_LOOP_* events. */
struct rp_loop_ready {
	int fd;
	uint32_t gen;
	unsigned events;
};

struct rp_loop_backend {
	const char *name;       /* what rp_loop_backend() returns */
	/* Set up loop->bd.  0, or -1 with errno (ENOSYS: not here). */
	int (*create)(struct rp_loop *loop);
	/* Release loop->bd, signal state included (signals are put back as
	 * they were before the loop).  Watched fds are not closed. */
	void (*free)(struct rp_loop *loop);
	/* Called before the core's table grows for fd: -1 with errno
	 * (EBADF) for an fd that add would accept although it is not open.
	 * NULL when add itself refuses such fds. */
	int (*check)(int fd, unsigned events);
	/* Register fd for events (0: quiet, never reported, not even a
	 * hang-up); w->gen already holds the new generation. */
	int (*add)(struct rp_loop *loop, int fd, struct rp_loop_watch *w,
	    unsigned events);
	/* Change fd's interest from old to events (either may be 0). */
	int (*set)(struct rp_loop *loop, int fd, struct rp_loop_watch *w,
	    unsigned old, unsigned events);
	/* Forget fd (which may be closed already); cannot fail. */
	void (*del)(struct rp_loop *loop, int fd, struct rp_loop_watch *w);
	/* Wait until something is ready or the absolute deadline `until`
	 * (EINTR waits again); fill loop->rdy.  The count, or -1. */
	int (*wait)(struct rp_loop *loop, int64_t until);
	/* Start delivering signo (in range, not another loop's: the core
	 * checked).  0, or -1 with errno (EINVAL: cannot be watched). */
	int (*sig_watch)(struct rp_loop *loop, int signo);
};

struct rp_loop_timer;
struct rp_loop_sig;

struct rp_loop {
	const struct rp_loop_backend *be;
	void *bd;               /* the backend's own state */
	int stop;
	int64_t now;

	struct rp_loop_watch *w;        /* indexed by fd */
	size_t wcap;
	size_t nactive;         /* watchers with events != 0 */

	struct rp_loop_ready *rdy;
	size_t rdycap;
	int rdy_n, rdy_next;    /* the round being dispatched: its size, and
	                           the first event not yet dispatched */

	struct rp_loop_timer *t;
	size_t nt, tcap;        /* slots handed out so far, allocated */
	uint32_t tfree;         /* head of the free-slot list */
	uint32_t *heap;         /* slot numbers, heap-ordered */
	size_t nheap, hcap;
	uint64_t seq;

	struct rp_loop_sig *sig;        /* handlers; NULL until needed */
};

/* The platform's part of rp_loop_new: pick a backend for flags and create
 * it (sets loop->be and loop->bd).  0, or -1 with errno. */
int rp_loop_backend_open(struct rp_loop *loop, int flags);

/* Grow the array *p of *cap elements of elem bytes to hold need (first
 * allocation: first elements; then doubling); new elements are zeroed.
 * 0, or -1 with ENOMEM. */
int rp_loop_grow(void **p, size_t *cap, size_t need, size_t elem,
    size_t first);

/* Run the handler of signo, if this loop has one (backends call this). */
void rp_loop_sig_deliver(struct rp_loop *loop, int signo);

#endif
