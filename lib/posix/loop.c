/*
 * loop.c — the event loop behind loop.h.
 *
 * Watchers live in a table indexed by fd; timers in a slab whose slots are
 * ordered by a binary min-heap (deadline, then creation order); signals
 * arrive through a signalfd (epoll backend) or a self-pipe (poll backend).
 * Both backends fill one list of ready events which a common dispatcher
 * walks, so the re-entrancy rules of loop.h are enforced in one place.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/epoll.h>
#include <sys/signalfd.h>
#define HAVE_EPOLL 1
#endif

#include "deadline.h"
#include "loop.h"

#ifdef NSIG
#define RP_NSIG NSIG
#else
#define RP_NSIG 65
#endif

#define EPOLL_BATCH 128
#define NO_SLOT UINT32_MAX

enum backend {
	BACKEND_EPOLL,
	BACKEND_POLL,
};

/*
 * One watched fd.  fn == NULL marks a free slot.  gen changes on every
 * rp_loop_add of the slot, and every ready event carries the gen it was
 * registered with: an event fetched for an fd that was deleted and added
 * again later in the same round no longer matches and is dropped.  Packed
 * to 24 bytes on LP64, as the broker keeps one per connection.
 */
struct watch {
	rp_loop_fd_fn fn;
	void *arg;
	uint32_t gen : 30;
	uint32_t events : 2;    /* RP_LOOP_READ | RP_LOOP_WRITE */
	uint32_t pidx;          /* index in the pollfd array (poll backend) */
};

#define GEN_MASK ((1u << 30) - 1)

struct ready {
	int fd;
	uint32_t gen;
	unsigned events;
};

/* A timer slot; fn == NULL when free (pos is then the next free slot). */
struct timer {
	int64_t deadline;
	uint64_t seq;           /* creation order: ties fire first-come */
	rp_loop_timer_fn fn;
	void *arg;
	uint32_t gen;           /* bumped on release: stale ids stop matching */
	uint32_t pos;           /* heap index, or free-list link */
};

struct sigstate {
	sigset_t watched;
	sigset_t unblock;       /* what rp_loop_free must unblock again */
	int fd;                 /* signalfd, or the self-pipe's read end */
	int wfd;                /* the self-pipe's write end (poll) */
	struct {
		rp_loop_signal_fn fn;
		void *arg;
	} h[RP_NSIG];
	struct sigaction old[RP_NSIG];  /* poll: dispositions to restore */
};

struct rp_loop {
	enum backend backend;
	int epfd;
	int stop;
	int64_t now;

	struct watch *w;        /* indexed by fd */
	size_t wcap;
	size_t nactive;         /* watchers with events != 0 */

	struct pollfd *pfd;     /* poll backend: one entry per watcher */
	size_t npfd, pfdcap;

	struct ready *rdy;
	size_t rdycap;

	struct timer *t;
	size_t nt, tcap;        /* slots handed out so far, allocated */
	uint32_t tfree;         /* head of the free-slot list */
	uint32_t *heap;         /* slot numbers, heap-ordered */
	size_t nheap, hcap;
	uint64_t seq;

	struct sigstate *sig;
};

/*
 * Who watches each signal, and (poll backend) where its handler writes.
 * Process-wide by nature; loop.h asks for signals to be set up before
 * threads start, so plain statics suffice.  sig_wfd holds fd + 1 so that
 * the zero-initialised table means "nobody".
 */
static struct rp_loop *sig_owner[RP_NSIG];
static volatile sig_atomic_t sig_wfd[RP_NSIG];

/* ------------------------------------------------------------ watchers */

static int
grow(void **p, size_t *cap, size_t need, size_t elem, size_t first)
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

static struct watch *
watch_get(struct rp_loop *loop, int fd)
{
	if (fd < 0 || (size_t)fd >= loop->wcap || loop->w[fd].fn == NULL)
		return NULL;
	return &loop->w[fd];
}

#ifdef HAVE_EPOLL
static int
ep_ctl(struct rp_loop *loop, int op, int fd, unsigned events, uint32_t gen)
{
	struct epoll_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.events = (events & RP_LOOP_READ ? EPOLLIN : 0) |
	    (events & RP_LOOP_WRITE ? EPOLLOUT : 0);
	ev.data.u64 = (uint64_t)gen << 32 | (uint64_t)(uint32_t)fd;
	return epoll_ctl(loop->epfd, op, fd, &ev);
}
#endif

static short
poll_events(unsigned events)
{
	return (short)((events & RP_LOOP_READ ? POLLIN : 0) |
	    (events & RP_LOOP_WRITE ? POLLOUT : 0));
}

/*
 * A quiet watcher (events 0) is taken out of the kernel's view entirely:
 * both epoll and poll report hang-ups whatever was asked for, and a quiet
 * fd that hung up would otherwise wake the loop on every round.  For poll
 * the entry stays but holds ~fd, which poll(2) skips (negative) and which
 * still tells us the fd.
 */
static int
backend_set(struct rp_loop *loop, int fd, struct watch *w, unsigned old,
    unsigned events)
{
	struct pollfd *p;

	switch (loop->backend) {
#ifdef HAVE_EPOLL
	case BACKEND_EPOLL:
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
#endif
	default:
		p = &loop->pfd[w->pidx];
		p->fd = events != 0 ? fd : ~fd;
		p->events = poll_events(events);
		p->revents = 0;
		return 0;
	}
}

int
rp_loop_add(struct rp_loop *loop, int fd, unsigned events, rp_loop_fd_fn fn,
    void *arg)
{
	struct watch *w;

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
	/* epoll validates the fd itself; a quiet add or poll would not. */
	if ((loop->backend == BACKEND_POLL || events == 0) &&
	    fcntl(fd, F_GETFD) < 0)
		return -1;
	if (grow((void **)&loop->w, &loop->wcap, (size_t)fd + 1,
	    sizeof(*loop->w), 64) < 0)
		return -1;
	if (loop->backend == BACKEND_POLL &&
	    grow((void **)&loop->pfd, &loop->pfdcap, loop->npfd + 1,
	    sizeof(*loop->pfd), 16) < 0)
		return -1;
	w = &loop->w[fd];
	w->gen = (w->gen + 1) & GEN_MASK;
	if (loop->backend == BACKEND_POLL)
		w->pidx = (uint32_t)loop->npfd++;
	if (backend_set(loop, fd, w, 0, events) < 0) {
		if (loop->backend == BACKEND_POLL)
			loop->npfd--;
		return -1;
	}
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
	struct watch *w = watch_get(loop, fd);

	if (w == NULL) {
		errno = ENOENT;
		return -1;
	}
	if ((events & ~(RP_LOOP_READ | RP_LOOP_WRITE)) != 0) {
		errno = EINVAL;
		return -1;
	}
	if (backend_set(loop, fd, w, w->events, events) < 0)
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
	struct watch *w = watch_get(loop, fd);
	struct pollfd *last;
	int lfd;

	if (w == NULL) {
		errno = ENOENT;
		return -1;
	}
	if (loop->backend == BACKEND_POLL) {
		/* Swap-remove, and tell the moved watcher where it went. */
		last = &loop->pfd[--loop->npfd];
		if (w->pidx != loop->npfd) {
			lfd = last->fd < 0 ? ~last->fd : last->fd;
			loop->pfd[w->pidx] = *last;
			loop->w[lfd].pidx = w->pidx;
		}
	} else {
		(void)backend_set(loop, fd, w, w->events, 0);
	}
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
	const struct timer *x = &loop->t[a], *y = &loop->t[b];

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
	struct timer *t = &loop->t[slot];

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
	struct timer *t;
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
		if (grow((void **)&loop->heap, &loop->hcap, loop->nt + 1,
		    sizeof(*loop->heap), 64) < 0 ||
		    grow((void **)&loop->t, &loop->tcap, loop->nt + 1,
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
	struct timer *t;

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
	struct timer *t;
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

static void
sig_handler(int signo)
{
	int saved = errno, fd;
	unsigned char c = (unsigned char)signo;
	ssize_t r;

	if (signo <= 0 || signo >= RP_NSIG)
		return;
	fd = (int)sig_wfd[signo] - 1;
	if (fd >= 0) {
		/* A full pipe drops the byte: signals coalesce anyway. */
		r = write(fd, &c, 1);
		(void)r;
	}
	errno = saved;
}

static void
sig_deliver(struct rp_loop *loop, int signo)
{
	struct sigstate *s = loop->sig;

	if (signo > 0 && signo < RP_NSIG && sigismember(&s->watched, signo) &&
	    s->h[signo].fn != NULL)
		s->h[signo].fn(loop, signo, s->h[signo].arg);
}

/* One read per round: a signal storm must not starve the fds. */
static void
sig_readable(struct rp_loop *loop, int fd, unsigned events, void *arg)
{
	ssize_t n, i;

	(void)events;
	(void)arg;
#ifdef HAVE_EPOLL
	if (loop->backend == BACKEND_EPOLL) {
		struct signalfd_siginfo si[8];

		while ((n = read(fd, si, sizeof(si))) < 0 && errno == EINTR)
			;
		for (i = 0; i < n / (ssize_t)sizeof(si[0]); i++)
			sig_deliver(loop, (int)si[i].ssi_signo);
		return;
	}
#endif
	{
		unsigned char b[64];

		while ((n = read(fd, b, sizeof(b))) < 0 && errno == EINTR)
			;
		for (i = 0; i < n; i++)
			sig_deliver(loop, b[i]);
	}
}

static int
sig_init(struct rp_loop *loop)
{
	struct sigstate *s;
	int p[2];

	if (loop->sig != NULL)
		return 0;
	if ((s = calloc(1, sizeof(*s))) == NULL)
		return -1;
	sigemptyset(&s->watched);
	sigemptyset(&s->unblock);
	s->fd = s->wfd = -1;
#ifdef HAVE_EPOLL
	if (loop->backend == BACKEND_EPOLL) {
		s->fd = signalfd(-1, &s->watched, SFD_CLOEXEC | SFD_NONBLOCK);
		if (s->fd < 0)
			goto fail;
	} else
#endif
	{
		if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
			goto fail;
		s->fd = p[0];
		s->wfd = p[1];
	}
	if (rp_loop_add(loop, s->fd, RP_LOOP_READ, sig_readable, NULL) < 0)
		goto fail;
	loop->sig = s;
	return 0;
fail:
	if (s->fd >= 0)
		close(s->fd);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
	return -1;
}

int
rp_loop_signal(struct rp_loop *loop, int signo, rp_loop_signal_fn fn,
    void *arg)
{
	struct sigstate *s;
	struct sigaction sa;
	sigset_t one, old;
	int err;

	if (signo <= 0 || signo >= RP_NSIG || fn == NULL || signo == SIGKILL ||
	    signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	if (sig_owner[signo] != NULL && sig_owner[signo] != loop) {
		errno = EBUSY;
		return -1;
	}
	if (sig_init(loop) < 0)
		return -1;
	s = loop->sig;
	if (!sigismember(&s->watched, signo)) {
		sigemptyset(&one);
		sigaddset(&one, signo);
		/* Block first: from here on the signal waits for us. */
		if ((err = pthread_sigmask(SIG_BLOCK, &one, &old)) != 0) {
			errno = err;
			return -1;
		}
		sigaddset(&s->watched, signo);
#ifdef HAVE_EPOLL
		if (loop->backend == BACKEND_EPOLL) {
			if (signalfd(s->fd, &s->watched, 0) < 0)
				goto undo;
		} else
#endif
		{
			memset(&sa, 0, sizeof(sa));
			sa.sa_handler = sig_handler;
			sigfillset(&sa.sa_mask);
			sa.sa_flags = SA_RESTART;
			sig_wfd[signo] = s->wfd + 1;
			if (sigaction(signo, &sa, &s->old[signo]) < 0) {
				sig_wfd[signo] = 0;
				goto undo;
			}
		}
		if (!sigismember(&old, signo))
			sigaddset(&s->unblock, signo);
		sig_owner[signo] = loop;
	}
	s->h[signo].fn = fn;
	s->h[signo].arg = arg;
	return 0;
undo:
	err = errno;
	sigdelset(&s->watched, signo);
	if (!sigismember(&old, signo))
		pthread_sigmask(SIG_UNBLOCK, &one, NULL);
	errno = err;
	return -1;
}

static void
sig_free(struct rp_loop *loop)
{
	struct sigstate *s = loop->sig;
	int signo;

	if (s == NULL)
		return;
	/* The signals are still blocked here, so no handler can run while
	 * the dispositions are put back; only then are they unblocked, and
	 * one that arrived meanwhile acts as it did before the loop. */
	for (signo = 1; signo < RP_NSIG; signo++) {
		if (!sigismember(&s->watched, signo))
			continue;
		if (loop->backend == BACKEND_POLL) {
			sig_wfd[signo] = 0;
			sigaction(signo, &s->old[signo], NULL);
		}
		sig_owner[signo] = NULL;
	}
	pthread_sigmask(SIG_UNBLOCK, &s->unblock, NULL);
	close(s->fd);
	if (s->wfd >= 0)
		close(s->wfd);
	free(s);
	loop->sig = NULL;
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
	loop->epfd = -1;
	loop->tfree = NO_SLOT;
	loop->now = rp_now_ms();
	loop->backend = BACKEND_POLL;
#ifdef HAVE_EPOLL
	if (!(flags & RP_LOOP_FORCE_POLL)) {
		loop->epfd = epoll_create1(EPOLL_CLOEXEC);
		if (loop->epfd >= 0)
			loop->backend = BACKEND_EPOLL;
		else if (errno != ENOSYS)
			goto fail;
	}
#endif
	if (grow((void **)&loop->rdy, &loop->rdycap, EPOLL_BATCH,
	    sizeof(*loop->rdy), EPOLL_BATCH) < 0)
		goto fail;
	return loop;
fail:
	rp_loop_free(loop);
	return NULL;
}

void
rp_loop_free(struct rp_loop *loop)
{
	int saved = errno;

	if (loop == NULL)
		return;
	if (loop->sig != NULL) {
		/* The internal watcher goes with the table below. */
		sig_free(loop);
	}
	if (loop->epfd >= 0)
		close(loop->epfd);
	free(loop->w);
	free(loop->pfd);
	free(loop->rdy);
	free(loop->t);
	free(loop->heap);
	free(loop);
	errno = saved;
}

const char *
rp_loop_backend(const struct rp_loop *loop)
{
	return loop->backend == BACKEND_EPOLL ? "epoll" : "poll";
}

/* Wait until something is ready or `until`; fill loop->rdy.  Returns the
 * number of ready entries or -1.  EINTR waits again for what is left. */
static int
backend_wait(struct rp_loop *loop, int64_t until)
{
	int n, i, err, masked;
	sigset_t old;
	size_t k;

	switch (loop->backend) {
#ifdef HAVE_EPOLL
	case BACKEND_EPOLL: {
		struct epoll_event ev[EPOLL_BATCH];
		uint32_t e;

		do
			n = epoll_wait(loop->epfd, ev, EPOLL_BATCH,
			    rp_deadline_poll_ms(until));
		while (n < 0 && errno == EINTR);
		for (i = 0; i < n; i++) {
			e = ev[i].events;
			loop->rdy[i].fd = (int)(uint32_t)ev[i].data.u64;
			loop->rdy[i].gen = (uint32_t)(ev[i].data.u64 >> 32);
			loop->rdy[i].events =
			    (e & EPOLLIN ? RP_LOOP_READ : 0) |
			    (e & EPOLLOUT ? RP_LOOP_WRITE : 0) |
			    (e & EPOLLHUP ? RP_LOOP_HUP : 0) |
			    (e & EPOLLERR ? RP_LOOP_ERR : 0);
		}
		return n;
	}
#endif
	default:
		if (grow((void **)&loop->rdy, &loop->rdycap, loop->npfd,
		    sizeof(*loop->rdy), EPOLL_BATCH) < 0)
			return -1;
		/*
		 * The watched signals are blocked except during the wait.
		 * Unblocking and poll are two steps, but a signal landing
		 * between them runs the handler, which writes the self-pipe,
		 * which poll then sees: no wake-up is lost.
		 */
		masked = loop->sig != NULL &&
		    pthread_sigmask(SIG_UNBLOCK, &loop->sig->watched, &old) == 0;
		do
			n = poll(loop->pfd, (nfds_t)loop->npfd,
			    rp_deadline_poll_ms(until));
		while (n < 0 && errno == EINTR);
		err = errno;
		if (masked)
			pthread_sigmask(SIG_SETMASK, &old, NULL);
		errno = err;
		if (n <= 0)
			return n;
		i = 0;
		for (k = 0; k < loop->npfd && i < n; k++) {
			struct pollfd *p = &loop->pfd[k];
			short r = p->revents;

			if (p->fd < 0 || r == 0)
				continue;
			loop->rdy[i].fd = p->fd;
			loop->rdy[i].gen = loop->w[p->fd].gen;
			loop->rdy[i].events =
			    (r & POLLIN ? RP_LOOP_READ : 0) |
			    (r & POLLOUT ? RP_LOOP_WRITE : 0) |
			    (r & POLLHUP ? RP_LOOP_HUP : 0) |
			    (r & (POLLERR | POLLNVAL) ? RP_LOOP_ERR : 0);
			i++;
		}
		return i;
	}
}

/*
 * Each event is checked against the watcher as it is now, not as it was
 * when the kernel reported it: a watcher deleted earlier in this round is
 * gone, one re-added has a new gen, and one modified is filtered by its
 * new interest (quiet means no callback at all).
 */
static void
dispatch(struct rp_loop *loop, int n)
{
	struct ready *r;
	struct watch *w;
	rp_loop_fd_fn fn;
	unsigned ev;
	void *arg;
	int i;

	for (i = 0; i < n; i++) {
		r = &loop->rdy[i];
		if ((w = watch_get(loop, r->fd)) == NULL || w->gen != r->gen ||
		    w->events == 0)
			continue;
		ev = r->events & (w->events | RP_LOOP_HUP | RP_LOOP_ERR);
		if (ev == 0)
			continue;
		fn = w->fn;
		arg = w->arg;
		/* May add, del or grow anything, including loop->w. */
		fn(loop, r->fd, ev, arg);
	}
}

int
rp_loop_run_once(struct rp_loop *loop, int64_t deadline)
{
	int64_t until = deadline;
	int n;

	if (loop->nheap > 0 && loop->t[loop->heap[0]].deadline < until)
		until = loop->t[loop->heap[0]].deadline;
	n = backend_wait(loop, until);
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
