/*
 * wfd.c — the side table of C runtime descriptors and the readiness of
 * what they wrap (see win.h): zero-byte reads on overlapped pipes,
 * ConnectNamedPipe on listeners, a reader thread for synchronous pipes
 * and consoles, the write behind.
 */
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "io.h"

/* NtQueryInformationFile's FileModeInformation: whether a handle was
 * opened for synchronous I/O (then it cannot be waited for). */
#define FILE_MODE_INFORMATION_CLASS 16
#define MODE_SYNCHRONOUS (0x10u | 0x20u)

typedef LONG (WINAPI *ntqif_fn)(HANDLE, void *, void *, ULONG, ULONG);

static struct rp_wfd **tab;
static size_t tabcap;
static SRWLOCK tablock = SRWLOCK_INIT;

/* --------------------------------------------------------------- ops */

int
rp_wop_init(struct rp_wop *op)
{
	HANDLE tagged;

	if (op->ev != NULL)
		return 0;
	if ((op->ev = rp_win_event(&tagged)) == NULL)
		return -1;
	memset(&op->ov, 0, sizeof(op->ov));
	op->ov.hEvent = tagged;
	return 0;
}

int
rp_wop_reap(struct rp_wop *op, int wait)
{
	DWORD n = 0;

	if (op->state != RP_WOP_PENDING)
		return 1;
	if (WaitForSingleObject(op->ev, wait ? INFINITE : 0) != WAIT_OBJECT_0)
		return 0;
	if (GetOverlappedResult(op->h, &op->ov, &n, FALSE)) {
		op->err = 0;
	} else {
		op->err = GetLastError();
		/* Still running after all (the event was set by hand). */
		if (op->err == ERROR_IO_INCOMPLETE)
			return 0;
	}
	op->n = n;
	op->state = RP_WOP_DONE;
	return 1;
}

void
rp_wop_free(struct rp_wop *op)
{
	if (op->ev != NULL)
		CloseHandle(op->ev);
	op->ev = NULL;
	free(op->buf);
	op->buf = NULL;
	op->cap = 0;
	op->state = RP_WOP_IDLE;
}

/* -------------------------------------------------------- the reader */

#define READER_BUF 65536

/*
 * A synchronous handle cannot be waited for, so a thread reads it ahead:
 * one buffer, refilled when it has been taken.  The thread works on a
 * handle of its own, so closing the fd does not pull the handle from
 * under a read in progress; a detached reader (its fd closed) frees
 * itself when its read returns.
 */
struct rp_wreader {
	CRITICAL_SECTION mu;
	HANDLE h;               /* ours (a duplicate) */
	HANDLE thread;
	HANDLE ready;           /* manual-reset: data, end or error there */
	HANDLE want;            /* auto-reset: the buffer was taken */
	size_t off, len;
	int eof;
	int err;                /* errno of a failed read */
	int detached;
	uint8_t buf[READER_BUF];
};

static void
reader_free(struct rp_wreader *r)
{
	if (r->h != NULL)
		CloseHandle(r->h);
	if (r->thread != NULL)
		CloseHandle(r->thread);
	CloseHandle(r->ready);
	CloseHandle(r->want);
	DeleteCriticalSection(&r->mu);
	free(r);
}

static DWORD WINAPI
reader_main(void *arg)
{
	struct rp_wreader *r = arg;
	DWORD n, err;
	BOOL ok;
	int done, detached;

	for (;;) {
		n = 0;
		ok = ReadFile(r->h, r->buf, READER_BUF, &n, NULL);
		err = ok ? 0 : GetLastError();
		EnterCriticalSection(&r->mu);
		if (ok && n > 0) {
			r->off = 0;
			r->len = n;
		} else if (ok || err == ERROR_BROKEN_PIPE ||
		    err == ERROR_HANDLE_EOF || err == ERROR_PIPE_NOT_CONNECTED) {
			/* A synchronous read of nothing is the end (a file,
			 * NUL, a console's Ctrl-Z). */
			r->eof = 1;
		} else {
			r->err = rp_win_errno(err);
		}
		done = r->eof || r->err != 0;
		detached = r->detached;
		SetEvent(r->ready);
		LeaveCriticalSection(&r->mu);
		if (detached || done)
			break;
		WaitForSingleObject(r->want, INFINITE);
		EnterCriticalSection(&r->mu);
		detached = r->detached;
		LeaveCriticalSection(&r->mu);
		if (detached)
			break;
	}
	EnterCriticalSection(&r->mu);
	detached = r->detached;
	/* From now on whoever detaches frees. */
	r->detached = 1;
	LeaveCriticalSection(&r->mu);
	if (detached)
		reader_free(r);
	return 0;
}

static struct rp_wreader *
reader_start(HANDLE h)
{
	struct rp_wreader *r = calloc(1, sizeof(*r));
	HANDLE self = GetCurrentProcess();

	if (r == NULL)
		return NULL;
	InitializeCriticalSection(&r->mu);
	r->ready = CreateEventW(NULL, TRUE, FALSE, NULL);
	r->want = CreateEventW(NULL, FALSE, FALSE, NULL);
	if (r->ready == NULL || r->want == NULL ||
	    !DuplicateHandle(self, h, self, &r->h, 0, FALSE,
	    DUPLICATE_SAME_ACCESS)) {
		rp_win_fail();
		r->h = NULL;
		goto fail;
	}
	r->thread = CreateThread(NULL, 64 * 1024, reader_main, r, 0, NULL);
	if (r->thread == NULL) {
		rp_win_fail();
		goto fail;
	}
	return r;
fail:
	if (r->ready != NULL)
		CloseHandle(r->ready);
	if (r->want != NULL)
		CloseHandle(r->want);
	if (r->h != NULL)
		CloseHandle(r->h);
	DeleteCriticalSection(&r->mu);
	free(r);
	return NULL;
}

/* Let go of the reader: the thread frees it when it is done. */
static void
reader_detach(struct rp_wreader *r)
{
	int done;

	EnterCriticalSection(&r->mu);
	done = r->detached;     /* the thread has ended already */
	r->detached = 1;
	LeaveCriticalSection(&r->mu);
	if (done) {
		WaitForSingleObject(r->thread, INFINITE);
		reader_free(r);
		return;
	}
	/* A read in progress ends with ERROR_OPERATION_ABORTED where the
	 * system can cancel it; else when its data comes. */
	CancelSynchronousIo(r->thread);
	SetEvent(r->want);
}

/* Take up to len buffered bytes: the count, 0 at the end, or -1 with
 * errno (EAGAIN: nothing yet). */
static ssize_t
reader_take(struct rp_wreader *r, void *buf, size_t len)
{
	ssize_t n = -1;

	EnterCriticalSection(&r->mu);
	if (r->len > r->off) {
		if (len > r->len - r->off)
			len = r->len - r->off;
		memcpy(buf, r->buf + r->off, len);
		r->off += len;
		n = (ssize_t)len;
		if (r->off == r->len) {
			r->off = r->len = 0;
			if (!r->eof && r->err == 0) {
				ResetEvent(r->ready);
				SetEvent(r->want);
			}
		}
	} else if (r->eof) {
		n = 0;
	} else if (r->err != 0) {
		errno = r->err;
	} else {
		errno = EAGAIN;
	}
	LeaveCriticalSection(&r->mu);
	return n;
}

static unsigned
reader_ready(struct rp_wreader *r)
{
	unsigned ev = 0;

	EnterCriticalSection(&r->mu);
	if (r->len > r->off)
		ev = RP_IO_READ;
	else if (r->eof)
		ev = RP_IO_READ | RP_IO_HUP;
	else if (r->err != 0)
		ev = RP_IO_READ | RP_IO_ERR;
	LeaveCriticalSection(&r->mu);
	return ev;
}

/* ------------------------------------------------------------ table */

static int
classify(HANDLE h)
{
	static ntqif_fn qif;
	struct {
		void *status;
		ULONG_PTR info;
	} iosb;
	ULONG mode = 0;
	DWORD type, cmode;

	type = GetFileType(h);
	if (type == FILE_TYPE_UNKNOWN && GetLastError() != NO_ERROR)
		return -1;
	if (type == FILE_TYPE_CHAR && GetConsoleMode(h, &cmode))
		return RP_WFD_SYNC;
	if (type != FILE_TYPE_PIPE)
		return RP_WFD_PLAIN;
	if (qif == NULL)
		qif = (ntqif_fn)(void (*)(void))GetProcAddress(
		    GetModuleHandleW(L"ntdll.dll"), "NtQueryInformationFile");
	if (qif == NULL || qif(h, &iosb, &mode, sizeof(mode),
	    FILE_MODE_INFORMATION_CLASS) != 0)
		return RP_WFD_SYNC;
	return (mode & MODE_SYNCHRONOUS) ? RP_WFD_SYNC : RP_WFD_PIPE;
}

/* An entry whose fd now wraps another handle: its fd was closed without
 * rp_fd_close.  What it held goes, as far as that is safe. */
static void
drop_stale(struct rp_wfd *w)
{
	rp_wfd_unwait(w);
	if (w->rd.state == RP_WOP_PENDING)
		rp_wop_reap(&w->rd, 1);
	if (w->wr.state == RP_WOP_PENDING)
		rp_wop_reap(&w->wr, 1);
	/* The spares' waits use the read event: they go first. */
	if (w->ls != NULL)
		rp_wlisten_free(w->ls);
	rp_wop_free(&w->rd);
	rp_wop_free(&w->wr);
	if (w->rt != NULL)
		reader_detach(w->rt);
	if (w->pty != NULL)
		rp_win_pty_release(w);
	if (w->hw != NULL)
		CloseHandle(w->hw);
	free(w);
}

static int
tab_grow(size_t need)
{
	size_t n = tabcap ? tabcap : 64;
	struct rp_wfd **t;

	while (n < need)
		n *= 2;
	if (n == tabcap)
		return 0;
	if ((t = realloc(tab, n * sizeof(*t))) == NULL)
		return -1;
	memset(t + tabcap, 0, (n - tabcap) * sizeof(*t));
	tab = t;
	tabcap = n;
	return 0;
}

struct rp_wfd *
rp_wfd_peek(int fd)
{
	struct rp_wfd *w = NULL;
	HANDLE h;

	if (fd < 0)
		return NULL;
	h = (HANDLE)_get_osfhandle(fd);
	AcquireSRWLockShared(&tablock);
	if ((size_t)fd < tabcap && tab[fd] != NULL && tab[fd]->h == h)
		w = tab[fd];
	ReleaseSRWLockShared(&tablock);
	return w;
}

/* Put w in the table at fd (lock held), dropping a stale entry. */
static int
tab_put(int fd, struct rp_wfd *w)
{
	if (tab_grow((size_t)fd + 1) < 0)
		return -1;
	if (tab[fd] != NULL && tab[fd] != w)
		drop_stale(tab[fd]);
	tab[fd] = w;
	return 0;
}

struct rp_wfd *
rp_wfd_get(int fd)
{
	struct rp_wfd *w;
	HANDLE h;
	int kind;

	if (fd < 0) {
		errno = EBADF;
		return NULL;
	}
	if ((w = rp_wfd_peek(fd)) != NULL)
		return w;
	h = (HANDLE)_get_osfhandle(fd);
	if (h == INVALID_HANDLE_VALUE || h == NULL) {
		errno = EBADF;
		return NULL;
	}
	if ((kind = classify(h)) < 0) {
		errno = EBADF;
		return NULL;
	}
	if ((w = calloc(1, sizeof(*w))) == NULL)
		return NULL;
	w->h = h;
	w->kind = kind;
	AcquireSRWLockExclusive(&tablock);
	if ((size_t)fd < tabcap && tab[fd] != NULL && tab[fd]->h == h) {
		/* Another thread made it meanwhile. */
		free(w);
		w = tab[fd];
	} else if (tab_put(fd, w) < 0) {
		free(w);
		w = NULL;
	}
	ReleaseSRWLockExclusive(&tablock);
	return w;
}

int
rp_wfd_open(HANDLE h, int kind, int nonblock)
{
	struct rp_wfd *w;
	int fd, err;

	if (kind < 0 && (kind = classify(h)) < 0)
		kind = RP_WFD_PLAIN;
	if ((w = calloc(1, sizeof(*w))) == NULL) {
		CloseHandle(h);
		return -1;
	}
	fd = _open_osfhandle((intptr_t)h, _O_BINARY | _O_NOINHERIT);
	if (fd < 0) {
		err = errno;
		CloseHandle(h);
		free(w);
		errno = err ? err : EMFILE;
		return -1;
	}
	w->h = h;
	w->kind = kind;
	w->nonblock = nonblock;
	AcquireSRWLockExclusive(&tablock);
	err = tab_put(fd, w);
	ReleaseSRWLockExclusive(&tablock);
	if (err < 0) {
		free(w);
		_close(fd);
		errno = ENOMEM;
		return -1;
	}
	return fd;
}

HANDLE
rp_wfd_handle(int fd)
{
	HANDLE h = fd < 0 ? INVALID_HANDLE_VALUE : (HANDLE)_get_osfhandle(fd);

	if (h == INVALID_HANDLE_VALUE)
		errno = EBADF;
	return h;
}

/* -------------------------------------------------------- readiness */

/* A write behind that ended lingers on its own handle until it is done
 * (a socket's close does not throw away what is still buffered). */
struct linger {
	HANDLE h, wait;
	struct rp_wop op;
};

static VOID CALLBACK
linger_done(void *arg, BOOLEAN timed_out)
{
	struct linger *l = arg;

	(void)timed_out;
	/* Allowed here: returns at once, the wait goes once we return. */
	UnregisterWait(l->wait);
	CloseHandle(l->h);
	rp_wop_free(&l->op);
	free(l);
}

static void
linger_start(HANDLE h, struct rp_wop *op)
{
	HANDLE self = GetCurrentProcess();
	struct linger *l = calloc(1, sizeof(*l));

	if (l != NULL && DuplicateHandle(self, h, self, &l->h, 0, FALSE,
	    DUPLICATE_SAME_ACCESS)) {
		l->op = *op;
		memset(op, 0, sizeof(*op));
		if (RegisterWaitForSingleObject(&l->wait, l->op.ev,
		    linger_done, l, INFINITE,
		    WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
			return;
		/* No thread to finish it: finish it here. */
		*op = l->op;
		CloseHandle(l->h);
	}
	free(l);
	rp_wop_reap(op, 1);
}

void
rp_wfd_cancel_read(struct rp_wfd *w)
{
	if (w->rd.state != RP_WOP_PENDING)
		return;
	CancelIoEx(w->rd.h, &w->rd.ov);
	rp_wop_reap(&w->rd, 1);
	/* What it found is not looked at: the next arm asks again. */
	w->rd.state = RP_WOP_IDLE;
}

void
rp_wfd_unwait(struct rp_wfd *w)
{
	if (w->rwait != NULL)
		UnregisterWaitEx(w->rwait, INVALID_HANDLE_VALUE);
	if (w->wwait != NULL)
		UnregisterWaitEx(w->wwait, INVALID_HANDLE_VALUE);
	w->rwait = w->wwait = NULL;
}

void
rp_wfd_release(int fd)
{
	struct rp_wfd *w;
	HANDLE h;

	if (fd < 0)
		return;
	h = (HANDLE)_get_osfhandle(fd);
	AcquireSRWLockExclusive(&tablock);
	w = (size_t)fd < tabcap ? tab[fd] : NULL;
	if (w != NULL)
		tab[fd] = NULL;
	ReleaseSRWLockExclusive(&tablock);
	if (w == NULL)
		return;
	/* A loop still watching it (which it should not): its waits go. */
	rp_wfd_unwait(w);
	if (w->h != h) {
		drop_stale(w);
		return;
	}
	rp_wfd_cancel_read(w);
	if (w->wr.state == RP_WOP_PENDING)
		linger_start(w->hw != NULL ? w->hw : w->h, &w->wr);
	if (w->ls != NULL)
		rp_wlisten_free(w->ls);
	rp_wop_free(&w->rd);
	rp_wop_free(&w->wr);
	if (w->rt != NULL)
		reader_detach(w->rt);
	if (w->pty != NULL)
		rp_win_pty_release(w);
	if (w->hw != NULL)
		CloseHandle(w->hw);
	free(w);
}

/* What a finished readiness read found. */
static int
read_result(struct rp_wfd *w)
{
	DWORD err = w->rd.err;

	w->rd.state = RP_WOP_IDLE;
	if (err == 0 || err == ERROR_MORE_DATA)
		return RP_IO_READ;
	if (err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED ||
	    err == ERROR_HANDLE_EOF) {
		w->eof = 1;
		return RP_IO_READ | RP_IO_HUP;
	}
	if (err == ERROR_OPERATION_ABORTED)
		return 0;
	return RP_IO_READ | RP_IO_ERR;
}

static int
arm_pipe(struct rp_wfd *w)
{
	static uint8_t nothing;
	DWORD n, err;
	int r;

	for (;;) {
		if (w->rd.state == RP_WOP_PENDING && !rp_wop_reap(&w->rd, 0))
			return 0;
		if (w->rd.state == RP_WOP_DONE) {
			if ((r = read_result(w)) != 0)
				return r;
			continue;       /* cancelled: ask again */
		}
		if (w->eof)
			return RP_IO_READ | RP_IO_HUP;
		if (rp_wop_init(&w->rd) < 0)
			return -1;
		w->rd.h = w->h;
		/* Zero bytes: completes when there is something to read
		 * (or the end), and takes nothing. */
		if (ReadFile(w->h, &nothing, 0, &n, &w->rd.ov))
			return RP_IO_READ;
		err = GetLastError();
		if (err == ERROR_IO_PENDING) {
			w->rd.state = RP_WOP_PENDING;
			return 0;
		}
		w->rd.err = err;
		w->rd.state = RP_WOP_DONE;
	}
}

void
rp_wlisten_free(struct rp_wlisten *ls)
{
	DWORD n;
	int i;

	for (i = 0; i < RP_WLISTEN_SPARES; i++) {
		if (ls->spare[i] == NULL)
			continue;
		if (!ls->sready[i] && CancelIoEx(ls->spare[i], &ls->sov[i]))
			(void)GetOverlappedResult(ls->spare[i], &ls->sov[i], &n,
			    TRUE);
		CloseHandle(ls->spare[i]);
	}
	if (ls->inst != NULL)
		CloseHandle(ls->inst);
	free(ls->name);
	free(ls);
}

/* Keep the spare instances waiting for clients: each made when missing,
 * its ConnectNamedPipe on the listener's read event.  1 when one has a
 * client. */
static int
spares_arm(struct rp_wfd *w)
{
	struct rp_wlisten *ls = w->ls;
	DWORD n, err;
	int i, ready = 0;

	for (i = 0; i < RP_WLISTEN_SPARES; i++) {
		if (ls->spare[i] != NULL && !ls->sready[i] &&
		    HasOverlappedIoCompleted(&ls->sov[i])) {
			if (GetOverlappedResult(ls->spare[i], &ls->sov[i], &n,
			    FALSE)) {
				ls->sready[i] = 1;
			} else {
				/* Made again below. */
				CloseHandle(ls->spare[i]);
				ls->spare[i] = NULL;
			}
		}
		if (ls->spare[i] == NULL &&
		    (ls->spare[i] = rp_win_pipe_instance(ls->name, 0)) != NULL) {
			memset(&ls->sov[i], 0, sizeof(ls->sov[i]));
			ls->sov[i].hEvent = (HANDLE)((uintptr_t)w->rd.ev | 1);
			err = ConnectNamedPipe(ls->spare[i], &ls->sov[i]) ? 0 :
			    GetLastError();
			if (err == 0 || err == ERROR_PIPE_CONNECTED) {
				ls->sready[i] = 1;
			} else if (err != ERROR_IO_PENDING) {
				/* A client that came and went, or worse: the
				 * next arming makes another. */
				CloseHandle(ls->spare[i]);
				ls->spare[i] = NULL;
			}
		}
		ready |= ls->sready[i];
	}
	return ready;
}

static int
arm_listen(struct rp_wfd *w)
{
	struct rp_wlisten *ls = w->ls;
	DWORD err;

	for (;;) {
		if (w->rd.state == RP_WOP_PENDING) {
			/* The event is shared with the spares: cleared, then
			 * every operation looked at (one that ends from now
			 * on sets it again). */
			ResetEvent(w->rd.ev);
			if (HasOverlappedIoCompleted(&w->rd.ov))
				SetEvent(w->rd.ev);
			if (!rp_wop_reap(&w->rd, 0))
				return spares_arm(w) ? RP_IO_READ : 0;
		}
		if (w->rd.state == RP_WOP_DONE) {
			if (w->rd.err == 0)
				return RP_IO_READ;
			if (w->rd.err != ERROR_OPERATION_ABORTED)
				return RP_IO_READ | RP_IO_ERR;
			w->rd.state = RP_WOP_IDLE;
		}
		if (ls->inst == NULL) {
			ls->inst = rp_win_pipe_instance(ls->name, 0);
			if (ls->inst == NULL) {
				ls->inst_err = GetLastError();
				return RP_IO_READ | RP_IO_ERR;
			}
		}
		w->rd.h = ls->inst;
		ResetEvent(w->rd.ev);
		if (ConnectNamedPipe(ls->inst, &w->rd.ov)) {
			/* Not for an overlapped call, but if it happens it
			 * means what ERROR_PIPE_CONNECTED does. */
			err = 0;
		} else {
			err = GetLastError();
		}
		if (err == ERROR_IO_PENDING) {
			w->rd.state = RP_WOP_PENDING;
			return spares_arm(w) ? RP_IO_READ : 0;
		}
		if (err == ERROR_NO_DATA) {
			/* A client came and went before we looked: the
			 * instance is free again once disconnected. */
			DisconnectNamedPipe(ls->inst);
			continue;
		}
		w->rd.err = err == ERROR_PIPE_CONNECTED ? 0 : err;
		w->rd.state = RP_WOP_DONE;
		SetEvent(w->rd.ev);
	}
}

int
rp_wfd_arm_read(struct rp_wfd *w)
{
	switch (w->kind) {
	case RP_WFD_PIPE:
		return arm_pipe(w);
	case RP_WFD_LISTEN:
		return arm_listen(w);
	case RP_WFD_SYNC:
		if (w->rt == NULL && (w->rt = reader_start(w->h)) == NULL)
			return -1;
		return (int)reader_ready(w->rt);
	default:
		return RP_IO_READ;
	}
}

HANDLE
rp_wfd_read_event(struct rp_wfd *w)
{
	if (w->kind == RP_WFD_SYNC && w->rt != NULL)
		return w->rt->ready;
	return w->rd.ev;
}

int
rp_wfd_arm_write(struct rp_wfd *w)
{
	if (w->wr.state == RP_WOP_PENDING && !rp_wop_reap(&w->wr, 0))
		return 0;
	if (w->wr.state == RP_WOP_DONE) {
		w->wr.state = RP_WOP_IDLE;
		if (w->wr.err != 0 && w->wr_err == 0)
			w->wr_err = rp_win_errno(w->wr.err);
	}
	return RP_IO_WRITE;
}

/* ------------------------------------------- for io.c: the reader */

ssize_t
rp_wfd_reader_take(struct rp_wfd *w, void *buf, size_t len, int wait)
{
	ssize_t n;

	for (;;) {
		n = reader_take(w->rt, buf, len);
		if (n >= 0 || errno != EAGAIN || !wait)
			return n;
		WaitForSingleObject(w->rt->ready, INFINITE);
	}
}
