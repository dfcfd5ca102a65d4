/*
 * loop.c — the portable core of the event loop behind loop.h: the table
 * of watched fds, the timers, dispatch and the signal handlers.  The
 * kernel side (waiting, and bringing signals in) is a backend's, behind
 * loop_impl.h: lib/posix/loop_epoll.c and lib/posix/loop_poll.c.
 *
 * Watchers live in a table indexed by fd; timers in a slab whose slots are
 * ordered by a binary min-heap (deadline, then creation order).  Every
 * backend fills one list of ready events which the dispatcher here walks,
 * so the re-entrancy rules of loop.h are enforced in one place.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "loop.h"
#include "loop_impl.h"

#define NO_SLOT UINT32_MAX

/* A timer slot; fn == NULL when free (pos is then the next free slot). */
struct rp_loop_timer {
	int64_t deadline;
	uint64_t seq;           /* creation order: ties fire first-come */
	rp_loop_timer_fn fn;
	void *arg;
	uint32_t gen;           /* bumped on release: stale ids stop matching */
	uint32_t pos;           /* heap index, or free-list link */
};

/* The handler of each signal this loop watches (fn == NULL: none). */
struct rp_loop_sig {
	struct {
		rp_loop_signal_fn fn;
		void *arg;
	} h[RP_LOOP_NSIG];
};

/*
 * Which loop watches each signal.  Process-wide by nature; loop.h asks for
 * signals to be set up before threads start, so a plain static suffices.
 */
static struct rp_loop *sig_owner[RP_LOOP_NSIG];

/* ------------------------------------------------------------ watchers */

int
rp_loop_grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
	size_t n = *cap ? *cap : first;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need) {
		if (n > SIZE_MAX / 2 / elem) {
			errno = ENOMEM;
			return -1;
		}
		n *= 2;
	}
	if ((q = realloc(*p, n * elem)) == NULL)
		return -1;
	memset((char *)q + *cap * elem, 0, (n - *cap) * elem);
	*p = q;
	*cap = n;
	return 0;
}

static struct rp_loop_watch *
watch_get(struct rp_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->wcap || loop->w[fd].fn == NULL)
		return NULL;
	return &loop->w[fd];
}

int
rp_loop_add(struct rp_loop *loop, int fd, unsigned events, rp_loop_fd_fn fn,
    void *arg)
{
	struct rp_loop_watch *w;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (fn == NULL || (events & ~(RP_LOOP_READ | RP_LOOP_WRITE)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (watch_get(loop, fd) != NULL) {
		errno = EEXIST;
		return -1;
	}
	/* A bogus fd is refused before the table grows to its number. */
	if (loop->be->check != NULL && loop->be->check(fd, events) < 0)
		return -1;
	if (rp_loop_grow((void **)&loop->w, &loop->wcap, (size_t)fd + 1,
	    sizeof(*loop->w), 64) < 0)
		return -1;
	w = &loop->w[fd];
	w->gen = (w->gen + 1) & RP_LOOP_GEN_MASK;
	if (loop->be->add(loop, fd, w, events) < 0)
		return -1;
	w->fn = fn;
	w->arg = arg;
	w->events = events & 3;
	if (events != 0)
		loop->nactive++;
	return 0;
}

int
rp_loop_mod(struct rp_loop *loop, int fd, unsigned events)
{
	struct rp_loop_watch *w = watch_get(loop, fd);

	if (w == NULL) {
		errno = ENOENT;
		return -1;
	}
	if ((events & ~(RP_LOOP_READ | RP_LOOP_WRITE)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (loop->be->set(loop, fd, w, w->events, events) < 0)
		return -1;
	if (w->events == 0 && events != 0)
		loop->nactive++;
	else if (w->events != 0 && events == 0)
		loop->nactive--;
	w->events = events & 3;
	return 0;
}

int
rp_loop_del(struct rp_loop *loop, int fd)
{
	struct rp_loop_watch *w = watch_get(loop, fd);

	if (w == NULL) {
		errno = ENOENT;
		return -1;
	}
	loop->be->del(loop, fd, w);
	if (w->events != 0)
		loop->nactive--;
	/* gen is kept: the next add of this fd bumps it. */
	w->fn = NULL;
	w->arg = NULL;
	w->events = 0;
	return 0;
}

/* -------------------------------------------------------------- timers */

static int
timer_before(const struct rp_loop *loop, uint32_t a, uint32_t b)
{
	const struct rp_loop_timer *x = &loop->t[a], *y = &loop->t[b];

	return x->deadline < y->deadline ||
	    (x->deadline == y->deadline && x->seq < y->seq);
}

static void
heap_set(struct rp_loop *loop, size_t i, uint32_t slot)
{
	loop->heap[i] = slot;
	loop->t[slot].pos = (uint32_t)i;
}

static void
heap_up(struct rp_loop *loop, size_t i)
{
	uint32_t slot = loop->heap[i];
	size_t parent;

	while (i > 0) {
		parent = (i - 1) / 2;
		if (!timer_before(loop, slot, loop->heap[parent]))
			break;
		heap_set(loop, i, loop->heap[parent]);
		i = parent;
	}
	heap_set(loop, i, slot);
}

static void
heap_down(struct rp_loop *loop, size_t i)
{
	uint32_t slot = loop->heap[i];
	size_t c;

	for (;;) {
		c = 2 * i + 1;
		if (c >= loop->nheap)
			break;
		if (c + 1 < loop->nheap &&
		    timer_before(loop, loop->heap[c + 1], loop->heap[c]))
			c++;
		if (!timer_before(loop, loop->heap[c], slot))
			break;
		heap_set(loop, i, loop->heap[c]);
		i = c;
	}
	heap_set(loop, i, slot);
}

static void
heap_remove(struct rp_loop *loop, size_t i)
{
	uint32_t last = loop->heap[--loop->nheap];

	if (i == loop->nheap)
		return;
	heap_set(loop, i, last);
	if (i > 0 && timer_before(loop, last, loop->heap[(i - 1) / 2]))
		heap_up(loop, i);
	else
		heap_down(loop, i);
}

static void
timer_release(struct rp_loop *loop, uint32_t slot)
{
	struct rp_loop_timer *t = &loop->t[slot];

	t->fn = NULL;
	t->arg = NULL;
	t->gen++;
	t->pos = loop->tfree;
	loop->tfree = slot;
}

uint64_t
rp_loop_timer(struct rp_loop *loop, int64_t deadline, rp_loop_timer_fn fn,
    void *arg)
{
	struct rp_loop_timer *t;
	uint32_t slot;

	if (fn == NULL) {
		errno = EINVAL;
		return 0;
	}
	if (loop->tfree != NO_SLOT) {
		slot = loop->tfree;
		loop->tfree = loop->t[slot].pos;
	} else {
		if (loop->nt >= NO_SLOT - 1) {
			errno = ENOMEM;
			return 0;
		}
		/* The heap never holds more entries than there are slots:
		 * growing it here means pushing below cannot fail. */
		if (rp_loop_grow((void **)&loop->heap, &loop->hcap,
		    loop->nt + 1, sizeof(*loop->heap), 64) < 0 ||
		    rp_loop_grow((void **)&loop->t, &loop->tcap, loop->nt + 1,
		    sizeof(*loop->t), 64) < 0)
			return 0;
		slot = (uint32_t)loop->nt++;
	}
	t = &loop->t[slot];
	t->deadline = deadline;
	t->seq = loop->seq++;
	t->fn = fn;
	t->arg = arg;
	loop->heap[loop->nheap++] = slot;
	heap_up(loop, loop->nheap - 1);
	/* The id names the slot and its generation: once the timer fires
	 * or is cancelled, the slot's generation moves on and the old id
	 * matches nothing (until 2^32 reuses of that one slot). */
	return (uint64_t)t->gen << 32 | ((uint64_t)slot + 1);
}

void
rp_loop_timer_cancel(struct rp_loop *loop, uint64_t id)
{
	uint64_t low = id & 0xffffffffu;
	struct rp_loop_timer *t;

	if (low == 0 || low > loop->nt)
		return;
	t = &loop->t[low - 1];
	if (t->fn == NULL || t->gen != (uint32_t)(id >> 32))
		return;
	heap_remove(loop, t->pos);
	timer_release(loop, (uint32_t)(low - 1));
}

/*
 * Fire what is due.  Only timers that existed when the round began: one
 * added by a callback with a deadline already passed runs next round, so a
 * callback that re-arms itself for "now" cannot hold the loop here.
 */
static void
run_timers(struct rp_loop *loop)
{
	uint64_t limit = loop->seq;
	rp_loop_timer_fn fn;
	struct rp_loop_timer *t;
	uint32_t slot;
	void *arg;

	while (loop->nheap > 0) {
		slot = loop->heap[0];
		t = &loop->t[slot];
		if (t->deadline > loop->now || t->seq >= limit)
			break;
		fn = t->fn;
		arg = t->arg;
		heap_remove(loop, 0);
		timer_release(loop, slot);
		fn(loop, arg);
	}
}

/* ------------------------------------------------------------- signals */

int
rp_loop_signal(struct rp_loop *loop, int signo, rp_loop_signal_fn fn,
    void *arg)
{
	if (signo <= 0 || signo >= RP_LOOP_NSIG || fn == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (sig_owner[signo] != NULL && sig_owner[signo] != loop) {
		errno = EBUSY;
		return -1;
	}
	if (loop->sig == NULL &&
	    (loop->sig = calloc(1, sizeof(*loop->sig))) == NULL)
		return -1;
	if (loop->sig->h[signo].fn == NULL) {
		if (loop->be->sig_watch(loop, signo) < 0)
			return -1;
		sig_owner[signo] = loop;
	}
	loop->sig->h[signo].fn = fn;
	loop->sig->h[signo].arg = arg;
	return 0;
}

void
rp_loop_sig_deliver(struct rp_loop *loop, int signo)
{
	struct rp_loop_sig *s = loop->sig;

	if (s != NULL && signo > 0 && signo < RP_LOOP_NSIG &&
	    s->h[signo].fn != NULL)
		s->h[signo].fn(loop, signo, s->h[signo].arg);
}

/* ------------------------------------------------------------ the loop */

struct rp_loop *
rp_loop_new(int flags)
{
	struct rp_loop *loop;

	if ((flags & ~RP_LOOP_FORCE_POLL) != 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((loop = calloc(1, sizeof(*loop))) == NULL)
		return NULL;
	loop->tfree = NO_SLOT;
	loop->now = rp_now_ms();
	if (rp_loop_grow((void **)&loop->rdy, &loop->rdycap, RP_LOOP_BATCH,
	    sizeof(*loop->rdy), RP_LOOP_BATCH) < 0 ||
	    rp_loop_backend_open(loop, flags) < 0) {
		rp_loop_free(loop);
		return NULL;
	}
	return loop;
}

void
rp_loop_free(struct rp_loop *loop)
{
	int saved = errno, signo;

	if (loop == NULL)
		return;
	/* The backend puts the signals back as they were (its internal
	 * watchers go with the table below). */
	if (loop->be != NULL)
		loop->be->free(loop);
	if (loop->sig != NULL) {
		for (signo = 1; signo < RP_LOOP_NSIG; signo++)
			if (sig_owner[signo] == loop)
				sig_owner[signo] = NULL;
		free(loop->sig);
	}
	free(loop->w);
	free(loop->rdy);
	free(loop->t);
	free(loop->heap);
	free(loop);
	errno = saved;
}

const char *
rp_loop_backend(const struct rp_loop *loop)
{
	return loop->be->name;
}

/*
 * Each event is checked against the watcher as it is now, not as it was
 * when the kernel reported it: a watcher deleted earlier in this round is
 * gone, one re-added has a new gen, and one modified is filtered by its
 * new interest (quiet means no callback at all).
 */
/* The event r, if its watcher still wants it. */
static void
dispatch_one(struct rp_loop *loop, const struct rp_loop_ready *r)
{
	struct rp_loop_watch *w;
	rp_loop_fd_fn fn;
	unsigned ev;
	void *arg;

	if ((w = watch_get(loop, r->fd)) == NULL || w->gen != r->gen ||
	    w->events == 0)
		return;
	ev = r->events & (w->events | RP_LOOP_HUP | RP_LOOP_ERR);
	if (ev == 0)
		return;
	fn = w->fn;
	arg = w->arg;
	/* May add, del or grow anything, including loop->w. */
	fn(loop, r->fd, ev, arg);
}

static void
dispatch(struct rp_loop *loop, int n)
{
	loop->rdy_n = n;
	for (loop->rdy_next = 0; loop->rdy_next < loop->rdy_n;)
		dispatch_one(loop, &loop->rdy[loop->rdy_next++]);
	loop->rdy_n = loop->rdy_next = 0;
}

void
rp_loop_dispatch_now(struct rp_loop *loop, int fd)
{
	struct rp_loop_ready r;
	int i;

	for (i = loop->rdy_next; i < loop->rdy_n; i++) {
		if (loop->rdy[i].fd != fd)
			continue;
		r = loop->rdy[i];
		loop->rdy[i].fd = -1;  /* not again in this round */
		dispatch_one(loop, &r);
		return;
	}
}

int
rp_loop_run_once(struct rp_loop *loop, int64_t deadline)
{
	int64_t until = deadline;
	int n;

	if (loop->nheap > 0 && loop->t[loop->heap[0]].deadline < until)
		until = loop->t[loop->heap[0]].deadline;
	n = loop->be->wait(loop, until);
	if (n < 0)
		return -1;
	loop->now = rp_now_ms();
	dispatch(loop, n);
	run_timers(loop);
	return 0;
}

/*
 * Returns when rp_loop_stop() was called (the request is consumed, so
 * the loop can run again), or when nothing is left that could ever fire:
 * no active watcher, no timer, no signal.
 */
int
rp_loop_run(struct rp_loop *loop)
{
	int rc = 0;

	while (!loop->stop && (loop->nactive > 0 || loop->nheap > 0)) {
		if ((rc = rp_loop_run_once(loop, RP_DEADLINE_NEVER)) < 0)
			break;
	}
	loop->stop = 0;
	return rc;
}

void
rp_loop_stop(struct rp_loop *loop)
{
	loop->stop = 1;
}

int64_t
rp_loop_now(const struct rp_loop *loop)
{
	return loop->now;
}
