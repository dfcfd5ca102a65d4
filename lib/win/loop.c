/*
 * loop.c — the Windows backend of the event loop (lib/loop_impl.h): an
 * I/O completion port used as the loop's queue.
 *
 * Nothing is associated with the port (a handle handed to us may belong
 * to a file object that another process associated with its own port).
 * Readiness is wfd.c's: for an fd the loop watches, the readiness
 * operation is armed, and when it cannot be answered at once a
 * registered wait on its event posts a packet here when it ends.  The
 * events are level-triggered, as epoll's: whatever was reported is armed
 * again before the next wait, and is reported again while it holds.
 *
 * Signals: the console's control events (SetConsoleCtrlHandler: Ctrl-C
 * as SIGINT, Ctrl-Break, log-off and shut-down as SIGTERM, the console
 * closing as SIGHUP) and the end of a child that rp_spawn started
 * (SIGCHLD) are posted as packets and delivered on the loop's thread.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "loop_impl.h"

/* A packet's key: what it is (low 2 bits), then fd or signal number,
 * then the fd's loop generation (high 32 bits). */
enum { PK_READ = 0, PK_WRITE = 1, PK_SIGNAL = 2, PK_WAKE = 3 };
#define KEY(kind, n, gen) ((ULONG_PTR)(gen) << 32 | \
	(ULONG_PTR)((uint32_t)(n) & 0x3fffffffu) << 2 | (ULONG_PTR)(kind))

#define BATCH 64

struct wbd {
	HANDLE port;
	int *armq;              /* fds to arm before the next wait */
	size_t narm, armcap;
	int *repq;              /* fds with events gathered, not yet given */
	size_t nrep, repcap;
	uint32_t sigs;          /* signals arrived, to deliver (bit n) */
};

/* Which port hears each signal; the console handler and spawn.c's wait
 * threads read it, so it is locked. */
static HANDLE sig_port[RP_LOOP_NSIG];
static SRWLOCK sig_lock = SRWLOCK_INIT;
static int ctrl_installed;

static int
push(int **q, size_t *n, size_t *cap, int fd)
{
	if (rp_loop_grow((void **)q, cap, *n + 1, sizeof(**q), 64) < 0)
		return -1;
	(*q)[(*n)++] = fd;
	return 0;
}

static void
arm_later(struct wbd *bd, struct rp_wfd *wf, int fd)
{
	if (wf->armq)
		return;
	/* Out of memory here loses only a re-arm of this fd, which then
	 * goes quiet: count it as an error report instead. */
	if (push(&bd->armq, &bd->narm, &bd->armcap, fd) == 0)
		wf->armq = 1;
}

static void
report(struct wbd *bd, struct rp_wfd *wf, int fd, unsigned ev)
{
	if (ev == 0)
		return;
	if (!wf->repq) {
		if (push(&bd->repq, &bd->nrep, &bd->repcap, fd) < 0)
			return;
		wf->repq = 1;
	}
	wf->rep |= ev;
}

/* ---------------------------------------------------------- signals */

int
rp_win_signal_post(int signo)
{
	HANDLE port;

	if (signo <= 0 || signo >= RP_LOOP_NSIG)
		return 0;
	AcquireSRWLockShared(&sig_lock);
	port = sig_port[signo];
	if (port != NULL)
		PostQueuedCompletionStatus(port, 0, KEY(PK_SIGNAL, signo, 0),
		    NULL);
	ReleaseSRWLockShared(&sig_lock);
	return port != NULL;
}

void
rp_win_sigchld_post(void)
{
	(void)rp_win_signal_post(SIGCHLD);
}

/* Runs in a thread of its own, made by the system for the event. */
static BOOL WINAPI
on_ctrl(DWORD ctrl)
{
	switch (ctrl) {
	case CTRL_C_EVENT:
		return rp_win_signal_post(SIGINT);
	case CTRL_CLOSE_EVENT:
		if (rp_win_signal_post(SIGHUP))
			return TRUE;
		return rp_win_signal_post(SIGTERM);
	case CTRL_BREAK_EVENT:
	case CTRL_LOGOFF_EVENT:
	case CTRL_SHUTDOWN_EVENT:
		return rp_win_signal_post(SIGTERM);
	default:
		return FALSE;
	}
}

static int
win_sig_watch(struct rp_loop *loop, int signo)
{
	struct wbd *bd = loop->bd;
	int ok = 1;

	if (signo == SIGKILL || signo == SIGSTOP) {
		errno = EINVAL;
		return -1;
	}
	AcquireSRWLockExclusive(&sig_lock);
	if ((signo == SIGINT || signo == SIGTERM || signo == SIGHUP) &&
	    !ctrl_installed) {
		ok = SetConsoleCtrlHandler(on_ctrl, TRUE);
		ctrl_installed = ok;
	}
	/* Ctrl-C reaches a handler only where it is not ignored, and a
	 * process started in a new process group (or by cmd's start /b)
	 * begins with it ignored: watched, it is taken again. */
	if (ok && signo == SIGINT)
		(void)SetConsoleCtrlHandler(NULL, FALSE);
	if (ok)
		sig_port[signo] = bd->port;
	ReleaseSRWLockExclusive(&sig_lock);
	if (!ok)
		return rp_win_fail();
	return 0;
}

/* ----------------------------------------------------------- the fds */

static int
win_check(int fd, unsigned events)
{
	(void)events;
	return rp_wfd_get(fd) == NULL ? -1 : 0;
}

static int
win_add(struct rp_loop *loop, int fd, struct rp_loop_watch *w,
    unsigned events)
{
	struct rp_wfd *wf = rp_wfd_get(fd);

	if (wf == NULL)
		return -1;
	/* As epoll: a file that is always ready is not for a loop. */
	if (wf->kind == RP_WFD_PLAIN) {
		errno = EPERM;
		return -1;
	}
	if (wf->loop != NULL && wf->loop != loop) {
		errno = EBUSY;
		return -1;
	}
	rp_wfd_unwait(wf);
	wf->loop = loop;
	wf->lgen++;
	wf->cgen = w->gen;
	wf->lev = events;
	wf->rep = 0;
	if (events != 0)
		arm_later(loop->bd, wf, fd);
	return 0;
}

static int
win_set(struct rp_loop *loop, int fd, struct rp_loop_watch *w, unsigned old,
    unsigned events)
{
	struct rp_wfd *wf = rp_wfd_peek(fd);

	(void)w;
	(void)old;
	if (wf == NULL || wf->loop != loop) {
		errno = EBADF;
		return -1;
	}
	wf->lev = events;
	/* What is no longer wanted is dropped when it comes; what is
	 * wanted now is armed before the next wait. */
	wf->rep &= events;
	if (events != 0)
		arm_later(loop->bd, wf, fd);
	return 0;
}

static void
forget(struct rp_wfd *wf)
{
	rp_wfd_unwait(wf);
	rp_wfd_cancel_read(wf);
	wf->loop = NULL;
	wf->lgen++;
	wf->lev = 0;
	wf->rep = 0;
}

static void
win_del(struct rp_loop *loop, int fd, struct rp_loop_watch *w)
{
	struct rp_wfd *wf = rp_wfd_peek(fd);

	(void)w;
	/* The queues may still name fd: they are checked when used. */
	if (wf != NULL && wf->loop == loop)
		forget(wf);
}

/* Have a registered wait post key to our port when ev is set. */
static VOID CALLBACK
on_event(void *arg, BOOLEAN timed_out)
{
	struct rp_wpost *p = arg;

	(void)timed_out;
	PostQueuedCompletionStatus(p->port, 0, p->key, NULL);
}

static int
wait_on(struct wbd *bd, HANDLE *wait, struct rp_wpost *ctx, HANDLE ev,
    ULONG_PTR key)
{
	if (*wait != NULL)
		return 0;
	ctx->port = bd->port;
	ctx->key = key;
	if (!RegisterWaitForSingleObject(wait, ev, on_event, ctx, INFINITE,
	    WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD)) {
		*wait = NULL;
		return rp_win_fail();
	}
	return 0;
}

/* Arm what fd's interest needs; report what holds already. */
static void
arm(struct rp_loop *loop, int fd)
{
	struct wbd *bd = loop->bd;
	struct rp_wfd *wf = rp_wfd_peek(fd);
	unsigned ev = 0;
	int a;

	if (wf == NULL)
		return;
	wf->armq = 0;
	if (wf->loop != loop || wf->lev == 0)
		return;
	if ((wf->lev & RP_LOOP_READ) && wf->rwait == NULL) {
		a = rp_wfd_arm_read(wf);
		if (a < 0)
			ev |= RP_LOOP_ERR;
		else if (a > 0)
			ev |= (unsigned)a;
		else if (wait_on(bd, &wf->rwait, &wf->rctx,
		    rp_wfd_read_event(wf), KEY(PK_READ, fd, wf->lgen)) < 0)
			ev |= RP_LOOP_ERR;
	}
	if ((wf->lev & RP_LOOP_WRITE) && wf->wwait == NULL) {
		if (rp_wfd_arm_write(wf) > 0)
			ev |= RP_LOOP_WRITE;
		else if (wait_on(bd, &wf->wwait, &wf->wctx, wf->wr.ev,
		    KEY(PK_WRITE, fd, wf->lgen)) < 0)
			ev |= RP_LOOP_ERR;
	}
	report(bd, wf, fd, ev);
}

/* A packet for fd: its wait has fired. */
static void
packet(struct rp_loop *loop, ULONG_PTR key)
{
	struct wbd *bd = loop->bd;
	int kind = (int)(key & 3), fd = (int)((key >> 2) & 0x3fffffffu);
	uint32_t gen = (uint32_t)(key >> 32);
	struct rp_wfd *wf;
	HANDLE *wait;
	int a;

	if (kind == PK_SIGNAL) {
		bd->sigs |= 1u << fd;
		return;
	}
	if (kind == PK_WAKE)
		return;
	wf = rp_wfd_peek(fd);
	if (wf == NULL || wf->loop != loop || wf->lgen != gen)
		return;         /* for an fd since deleted or re-added */
	wait = kind == PK_READ ? &wf->rwait : &wf->wwait;
	if (*wait != NULL) {
		/* It has fired (once): only its handle is left to free. */
		UnregisterWaitEx(*wait, NULL);
		*wait = NULL;
	}
	if (kind == PK_READ) {
		a = rp_wfd_arm_read(wf);
		report(bd, wf, fd, a < 0 ? RP_LOOP_ERR : (unsigned)a);
	} else {
		report(bd, wf, fd, (unsigned)rp_wfd_arm_write(wf));
	}
	/* Not ready after all (or reported): ask again next round. */
	arm_later(bd, wf, fd);
}

static int
win_wait(struct rp_loop *loop, int64_t until)
{
	struct wbd *bd = loop->bd;
	OVERLAPPED_ENTRY ents[BATCH];
	struct rp_wfd *wf;
	ULONG got = 0, i;
	size_t n, k, keep;
	int64_t left;
	DWORD ms;
	int fd, signo, count = 0;
	uint32_t sigs;

	/* Arm; what is ready now is reported without waiting. */
	n = bd->narm;
	for (k = 0; k < n && k < bd->narm; k++)
		arm(loop, bd->armq[k]);
	/* Arming may queue more (nothing does yet); keep what came after. */
	memmove(bd->armq, bd->armq + n, (bd->narm - n) * sizeof(int));
	bd->narm -= n;

	if (bd->nrep > 0 || bd->sigs != 0) {
		ms = 0;
	} else if (until == RP_DEADLINE_NEVER) {
		ms = INFINITE;
	} else {
		left = until - rp_now_ms();
		ms = left <= 0 ? 0 : left > 0x7ffffffe ? 0x7ffffffe :
		    (DWORD)left;
	}
	if (!GetQueuedCompletionStatusEx(bd->port, ents, BATCH, &got, ms,
	    FALSE)) {
		if (GetLastError() != WAIT_TIMEOUT)
			return rp_win_fail();
		got = 0;
	}
	for (i = 0; i < got; i++)
		packet(loop, ents[i].lpCompletionKey);

	/* What was gathered goes to the core, checked against the watcher
	 * as it is now; the rest (more than a batch) waits its turn. */
	keep = 0;
	for (k = 0; k < bd->nrep; k++) {
		fd = bd->repq[k];
		wf = rp_wfd_peek(fd);
		if (wf == NULL || wf->loop != loop || !wf->repq)
			continue;
		if ((size_t)count >= RP_LOOP_BATCH) {
			bd->repq[keep++] = fd;
			continue;
		}
		wf->repq = 0;
		if ((wf->rep & (wf->lev | RP_LOOP_HUP | RP_LOOP_ERR)) != 0 &&
		    wf->lev != 0) {
			loop->rdy[count].fd = fd;
			loop->rdy[count].gen = wf->cgen;
			loop->rdy[count].events = wf->rep;
			count++;
		}
		wf->rep = 0;
		/* Level-triggered: ask again before the next wait. */
		arm_later(bd, wf, fd);
	}
	bd->nrep = keep;

	sigs = bd->sigs;
	bd->sigs = 0;
	for (signo = 1; signo < RP_LOOP_NSIG && signo < 32; signo++)
		if (sigs & (1u << signo))
			rp_loop_sig_deliver(loop, signo);
	return count;
}

/* ------------------------------------------------------------- setup */

static int
win_create(struct rp_loop *loop)
{
	struct wbd *bd = calloc(1, sizeof(*bd));

	if (bd == NULL)
		return -1;
	bd->port = CreateIoCompletionPort(INVALID_HANDLE_VALUE, NULL, 0, 1);
	if (bd->port == NULL) {
		free(bd);
		return rp_win_fail();
	}
	loop->bd = bd;
	return 0;
}

static void
win_free(struct rp_loop *loop)
{
	struct wbd *bd = loop->bd;
	struct rp_wfd *wf;
	size_t fd;
	int signo, any = 0;

	if (bd == NULL)
		return;
	/* No wait may post to the port once it is closed. */
	for (fd = 0; fd < loop->wcap; fd++) {
		if (loop->w[fd].fn == NULL)
			continue;
		wf = rp_wfd_peek((int)fd);
		if (wf != NULL && wf->loop == loop)
			forget(wf);
	}
	AcquireSRWLockExclusive(&sig_lock);
	for (signo = 1; signo < RP_LOOP_NSIG; signo++) {
		if (sig_port[signo] == bd->port)
			sig_port[signo] = NULL;
		if ((signo == SIGINT || signo == SIGTERM || signo == SIGHUP) &&
		    sig_port[signo] != NULL)
			any = 1;
	}
	if (ctrl_installed && !any) {
		SetConsoleCtrlHandler(on_ctrl, FALSE);
		ctrl_installed = 0;
	}
	ReleaseSRWLockExclusive(&sig_lock);
	CloseHandle(bd->port);
	free(bd->armq);
	free(bd->repq);
	free(bd);
	loop->bd = NULL;
}

static const struct rp_loop_backend rp_loop_iocp = {
	.name = "iocp",
	.create = win_create,
	.free = win_free,
	.check = win_check,
	.add = win_add,
	.set = win_set,
	.del = win_del,
	.wait = win_wait,
	.sig_watch = win_sig_watch,
};

int
rp_loop_backend_open(struct rp_loop *loop, int flags)
{
	/* One backend here: RP_LOOP_FORCE_POLL has nothing to force. */
	(void)flags;
	if (rp_loop_iocp.create(loop) < 0)
		return -1;
	loop->be = &rp_loop_iocp;
	return 0;
}
