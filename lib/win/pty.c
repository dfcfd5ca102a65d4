/*
 * pty.c — pseudo consoles (ConPTY) behind pty.h, and our own console in
 * raw mode (50-pty.md "Windows (ConPTY)").
 *
 * The master is one fd over two pipes: reads come from the pseudo
 * console's output pipe, writes go to its input pipe (the fd's entry
 * holds the second handle).  Our ends are overlapped named pipes; the
 * pseudo console's ends are synchronous, as it wants them, and are closed
 * here once the child runs, so that the output pipe ends exactly when the
 * pseudo console does.  ConPTY says nothing when the child's output is
 * complete: when the child has ended (rp_spawn_wait and friends tell us),
 * the pseudo console is closed on a thread of its own (closing can wait
 * for its output to be read, which is our loop's job) and the output is
 * read until the pipe breaks: nothing is lost.  That end reads as EIO,
 * as a Unix master does.
 *
 * The first cursor-position query (ESC [ 6 n) that comes through within
 * DSR_WINDOW_MS of the start is answered once with ESC [ 1 ; 1 R, so that
 * a child waiting for it (PowerShell) does not hang; the query may come
 * split across reads.
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "io.h"
#include "pty.h"
#include "spawn.h"

/* PSEUDOCONSOLE_PASSTHROUGH_MODE (Windows 11 22H2 on): the child's VT
 * reaches us as it wrote it, its cursor queries included.  Not
 * PSEUDOCONSOLE_INHERIT_CURSOR: Wine's conhost refuses to start with it,
 * and a child's own query (PowerShell's) is what needs the answer. */
#define PC_PASSTHROUGH 0x8u
#define DSR_WINDOW_MS 5000

typedef HRESULT (WINAPI *create_fn)(COORD, HANDLE, HANDLE, DWORD, void **);
typedef HRESULT (WINAPI *resize_fn)(void *, COORD);
typedef void (WINAPI *close_fn)(void *);

static struct {
	create_fn create;
	resize_fn resize;
	close_fn close;
	int looked;
} api;

struct rp_wpty {
	struct rp_wpty *next;
	void *hpc;              /* NULL once closed */
	pid_t pid;
	HANDLE in_r, out_w;     /* the pseudo console's ends, until it runs */
	HANDLE in_w;            /* our input end (the master's hw), not ours
	                           to close */
	DWORD flags;
	struct rp_pty_size size;
	int64_t dsr_until;      /* 0: not watching for the query */
	int dsr_match;          /* bytes of ESC [ 6 n seen so far */
	HANDLE closer;          /* the thread closing the pseudo console */
};

static struct rp_wpty *ptys;
static SRWLOCK ptys_lock = SRWLOCK_INIT;

static int
load_api(void)
{
	HMODULE k;

	if (!api.looked) {
		k = GetModuleHandleW(L"kernel32.dll");
		if (k != NULL) {
			api.create = (create_fn)(void (*)(void))GetProcAddress(k,
			    "CreatePseudoConsole");
			api.resize = (resize_fn)(void (*)(void))GetProcAddress(k,
			    "ResizePseudoConsole");
			api.close = (close_fn)(void (*)(void))GetProcAddress(k,
			    "ClosePseudoConsole");
		}
		api.looked = 1;
	}
	if (api.create == NULL || api.close == NULL) {
		/* Before Windows 10 1809. */
		errno = ENOSYS;
		return -1;
	}
	return 0;
}

/* ClosePseudoConsole may wait for its output to be read: off the loop's
 * thread, which is the one reading it. */
static DWORD WINAPI
closer_main(void *hpc)
{
	api.close(hpc);
	return 0;
}

static void
close_hpc(struct rp_wpty *t)
{
	if (t->hpc == NULL)
		return;
	t->closer = CreateThread(NULL, 64 * 1024, closer_main, t->hpc, 0, NULL);
	if (t->closer == NULL)
		api.close(t->hpc);      /* no thread: as well as we can */
	t->hpc = NULL;
}

/* Read (and drop) up to avail bytes of an overlapped pipe that has them:
 * 1 when some were read. */
static int
pipe_drop(HANDLE h, char *buf, DWORD bufsz, DWORD avail)
{
	OVERLAPPED ov;
	HANDLE ev;
	DWORD n = 0;
	BOOL ok;

	memset(&ov, 0, sizeof(ov));
	if ((ev = rp_win_event(&ov.hEvent)) == NULL)
		return 0;
	ok = ReadFile(h, buf, avail < bufsz ? avail : bufsz, &n, &ov);
	if (!ok && GetLastError() == ERROR_IO_PENDING)
		ok = rp_win_ov_wait(h, &ov, ev, &n, rp_deadline_in(100));
	CloseHandle(ev);
	return ok && n > 0;
}

/* One pipe: our overlapped end (inbound: we read) and its synchronous
 * other end for the pseudo console. */
static int
pipe_pair(int inbound, HANDLE *ours, HANDLE *theirs)
{
	static LONG counter;
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	wchar_t name[96];
	OVERLAPPED ov;
	HANDLE ev;
	DWORD n, err;

	if ((sa.lpSecurityDescriptor = rp_win_private_sd(0)) == NULL)
		return -1;
	swprintf(name, 96, L"\\\\.\\pipe\\rp-conpty-%lu-%ld-%llx",
	    GetCurrentProcessId(), InterlockedIncrement(&counter),
	    (unsigned long long)rp_now_ns());
	*ours = CreateNamedPipeW(name, (inbound ? PIPE_ACCESS_INBOUND :
	    PIPE_ACCESS_OUTBOUND) | FILE_FLAG_OVERLAPPED |
	    FILE_FLAG_FIRST_PIPE_INSTANCE, PIPE_TYPE_BYTE | PIPE_READMODE_BYTE |
	    PIPE_WAIT | PIPE_REJECT_REMOTE_CLIENTS, 1, RP_WIN_PIPE_BUF,
	    RP_WIN_PIPE_BUF, 0, &sa);
	if (*ours == INVALID_HANDLE_VALUE)
		return rp_win_fail();
	*theirs = CreateFileW(name, inbound ? GENERIC_WRITE : GENERIC_READ, 0,
	    NULL, OPEN_EXISTING, 0, NULL);
	if (*theirs == INVALID_HANDLE_VALUE) {
		err = GetLastError();
		CloseHandle(*ours);
		return rp_win_fail_err(err);
	}
	memset(&ov, 0, sizeof(ov));
	if ((ev = rp_win_event(&ov.hEvent)) == NULL)
		goto fail;
	if (!ConnectNamedPipe(*ours, &ov)) {
		err = GetLastError();
		if (err == ERROR_IO_PENDING &&
		    rp_win_ov_wait(*ours, &ov, ev, &n, RP_DEADLINE_NEVER))
			err = ERROR_PIPE_CONNECTED;
		if (err != ERROR_PIPE_CONNECTED) {
			CloseHandle(ev);
			rp_win_fail_err(err);
			goto fail;
		}
	}
	CloseHandle(ev);
	return 0;
fail:
	CloseHandle(*ours);
	CloseHandle(*theirs);
	return -1;
}

static COORD
coord(const struct rp_pty_size *s)
{
	COORD c;

	c.X = (SHORT)(s->cols > 32767 ? 32767 : s->cols);
	c.Y = (SHORT)(s->rows > 32767 ? 32767 : s->rows);
	return c;
}

/* A pseudo console on t's ends: with the flags asked, else fewer. */
static int
make_hpc(struct rp_wpty *t, DWORD flags)
{
	static const DWORD tries[] = { PC_PASSTHROUGH, 0 };
	HRESULT hr = E_FAIL;
	size_t i;

	for (i = 0; i < sizeof(tries) / sizeof(tries[0]); i++) {
		if ((tries[i] & ~flags) != 0)
			continue;
		hr = api.create(coord(&t->size), t->in_r, t->out_w, tries[i],
		    &t->hpc);
		if (SUCCEEDED(hr)) {
			t->flags = tries[i];
			return 0;
		}
		t->hpc = NULL;
	}
	return rp_win_fail_err((DWORD)hr == (DWORD)E_OUTOFMEMORY ?
	    ERROR_OUTOFMEMORY : ERROR_INVALID_PARAMETER);
}

int
rp_pty_open(struct rp_pty *p, const struct rp_pty_size *size)
{
	struct rp_wpty *t;
	struct rp_wfd *w;
	HANDLE out_r = NULL, in_w = NULL;
	int fd, saved;

	p->master = p->peer = -1;
	p->pid = 0;
	snprintf(p->name, sizeof(p->name), "(a pseudo console)");
	if (load_api() < 0)
		return -1;
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return -1;
	t->size = size != NULL ? *size : (struct rp_pty_size){ 80, 24 };
	if (t->size.cols == 0 || t->size.rows == 0) {
		free(t);
		errno = EINVAL;
		return -1;
	}
	if (pipe_pair(1, &out_r, &t->out_w) < 0)
		goto fail;
	if (pipe_pair(0, &in_w, &t->in_r) < 0)
		goto fail;
	/* The pseudo console itself comes with the child (rp_pty_spawn),
	 * once the program is known to be there. */
	fd = rp_wfd_open(out_r, RP_WFD_PIPE, 0);
	out_r = NULL;           /* the fd's, or closed */
	if (fd < 0 || (w = rp_wfd_peek(fd)) == NULL)
		goto fail;
	w->hw = in_w;
	w->pty = t;
	t->in_w = in_w;
	AcquireSRWLockExclusive(&ptys_lock);
	t->next = ptys;
	ptys = t;
	ReleaseSRWLockExclusive(&ptys_lock);
	p->master = fd;
	return 0;
fail:
	saved = errno;
	if (t->hpc != NULL)
		api.close(t->hpc);
	if (out_r != NULL)
		CloseHandle(out_r);
	if (in_w != NULL)
		CloseHandle(in_w);
	if (t->in_r != NULL)
		CloseHandle(t->in_r);
	if (t->out_w != NULL)
		CloseHandle(t->out_w);
	free(t);
	errno = saved;
	return -1;
}

pid_t
rp_pty_spawn(struct rp_pty *p, const struct rp_spawn *sp, int *exec_failed)
{
	struct rp_wfd *w = rp_wfd_get(p->master);
	struct rp_win_start ws;
	struct rp_wpty *t;
	char why[200];
	pid_t pid;
	DWORD err;
	int ef = 0;

	if (exec_failed != NULL)
		*exec_failed = 0;
	if (sp == NULL || sp->nfds != 0 || sp->argv == NULL ||
	    sp->argv[0] == NULL || w == NULL || (t = w->pty) == NULL ||
	    t->in_r == NULL || t->pid != 0) {
		errno = EINVAL;
		return -1;
	}
	/* A program that is not there is said before anything is made. */
	if (rp_win_find_exe(sp->file != NULL ? sp->file : sp->argv[0], why,
	    sizeof(why)) != 0) {
		if (exec_failed != NULL)
			*exec_failed = 1;
		return -1;
	}
	if (t->hpc == NULL && make_hpc(t, PC_PASSTHROUGH) < 0)
		return -1;
	memset(&ws, 0, sizeof(ws));
	ws.file = sp->file;
	ws.argv = sp->argv;
	ws.envp = sp->envp;
	ws.cwd = sp->cwd;
	ws.hpc = t->hpc;
	pid = rp_win_start(&ws, &ef, why, sizeof(why));
	err = GetLastError();
	if (pid < 0 && !ef && err == ERROR_INVALID_PARAMETER &&
	    (t->flags & PC_PASSTHROUGH)) {
		/* This system takes the flag but not a child on it: the
		 * pseudo console again, without passthrough. */
		api.close(t->hpc);
		t->hpc = NULL;
		if (make_hpc(t, 0) < 0)
			return -1;
		ws.hpc = t->hpc;
		pid = rp_win_start(&ws, &ef, why, sizeof(why));
	}
	if (exec_failed != NULL)
		*exec_failed = ef;
	if (pid < 0) {
		err = (DWORD)errno;
		if (t->hpc != NULL)
			api.close(t->hpc);
		t->hpc = NULL;
		errno = (int)err;
		return -1;
	}
	/* The pseudo console has its own copies: ours would keep the
	 * output pipe open after it is gone. */
	CloseHandle(t->in_r);
	CloseHandle(t->out_w);
	t->in_r = t->out_w = NULL;
	t->pid = pid;
	t->dsr_until = rp_now_ms() + DSR_WINDOW_MS;
	p->pid = pid;
	p->peer = -1;
	return pid;
}

void
rp_pty_close(struct rp_pty *p)
{
	rp_fd_close(&p->master);
	rp_fd_close(&p->peer);
}

static struct rp_wpty *
find_pty(pid_t pid)
{
	struct rp_wpty *t;

	AcquireSRWLockShared(&ptys_lock);
	for (t = ptys; t != NULL && t->pid != pid; t = t->next)
		;
	ReleaseSRWLockShared(&ptys_lock);
	return t;
}

void
rp_win_pty_release(struct rp_wfd *w)
{
	struct rp_wpty *t = w->pty, **pp;

	AcquireSRWLockExclusive(&ptys_lock);
	for (pp = &ptys; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == t) {
			*pp = t->next;
			break;
		}
	}
	ReleaseSRWLockExclusive(&ptys_lock);
	/*
	 * The pseudo console is closed, and that close waited for, before
	 * we go: one left half-closed when the process ends can take its
	 * console's other processes along.  What it still writes meanwhile
	 * is read and dropped, so that a full pipe cannot keep it waiting.
	 */
	close_hpc(t);
	if (t->closer != NULL) {
		int64_t until = rp_now_ms() + 5000;
		char junk[4096];
		DWORD avail;

		while (WaitForSingleObject(t->closer, 10) == WAIT_TIMEOUT &&
		    rp_now_ms() < until) {
			while (PeekNamedPipe(w->h, NULL, 0, NULL, &avail, NULL) &&
			    avail > 0 && pipe_drop(w->h, junk,
			    sizeof(junk), avail))
				;
		}
		CloseHandle(t->closer);
	}
	if (t->in_r != NULL)
		CloseHandle(t->in_r);
	if (t->out_w != NULL)
		CloseHandle(t->out_w);
	free(t);
	w->pty = NULL;
}

void
rp_win_pty_child_ended(pid_t pid)
{
	struct rp_wpty *t = find_pty(pid);

	if (t != NULL)
		close_hpc(t);
}

/* Write all of buf to t's input (it is ours only to write to). */
static int
pty_input(struct rp_wpty *t, const char *buf, DWORD len)
{
	OVERLAPPED ov;
	HANDLE ev;
	DWORD n = 0;
	BOOL ok;

	memset(&ov, 0, sizeof(ov));
	if ((ev = rp_win_event(&ov.hEvent)) == NULL)
		return -1;
	ok = WriteFile(t->in_w, buf, len, &n, &ov);
	if (!ok && GetLastError() == ERROR_IO_PENDING)
		ok = rp_win_ov_wait(t->in_w, &ov, ev, &n, rp_deadline_in(1000));
	CloseHandle(ev);
	return ok ? 0 : rp_win_fail();
}

int
rp_win_pty_interrupt(pid_t pid)
{
	struct rp_wpty *t = find_pty(pid);

	if (t == NULL)
		return 0;
	return pty_input(t, "\x03", 1) == 0 ? 1 : -1;
}

int
rp_win_dsr_match(int *state, const uint8_t *data, size_t n)
{
	static const char q[] = "\x1b[6n";
	size_t i;

	for (i = 0; i < n; i++) {
		if ((char)data[i] == q[*state]) {
			if (++*state == 4) {
				*state = 0;
				return 1;
			}
		} else {
			*state = (char)data[i] == q[0];
		}
	}
	return 0;
}

void
rp_win_pty_scan(struct rp_wfd *w, const uint8_t *data, size_t n)
{
	struct rp_wpty *t = w->pty;

	if (t == NULL || t->dsr_until == 0)
		return;
	if (rp_now_ms() > t->dsr_until) {
		t->dsr_until = 0;
		return;
	}
	if (rp_win_dsr_match(&t->dsr_match, data, n)) {
		t->dsr_until = 0;
		(void)pty_input(t, "\x1b[1;1R", 6);
	}
}

/* ----------------------------------------------------------- sizes */

/* Our console's screen buffer for a console handle of fd (input or
 * output); NULL when fd is no console. */
static HANDLE
console_out(int fd, int *opened)
{
	HANDLE h = rp_wfd_handle(fd);
	DWORD mode;

	*opened = 0;
	if (h == INVALID_HANDLE_VALUE || !GetConsoleMode(h, &mode))
		return NULL;
	if (GetFileType(h) == FILE_TYPE_CHAR) {
		CONSOLE_SCREEN_BUFFER_INFO bi;

		if (GetConsoleScreenBufferInfo(h, &bi))
			return h;
	}
	/* An input handle: the screen is CONOUT$. */
	h = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return NULL;
	*opened = 1;
	return h;
}

int
rp_pty_set_size(int fd, const struct rp_pty_size *size)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	HRESULT hr;

	if (w == NULL)
		return -1;
	if (w->pty == NULL) {
		errno = ENOTTY;
		return -1;
	}
	w->pty->size = *size;
	/* After the end, harmless: there is nothing left to resize. */
	if (w->pty->hpc == NULL || api.resize == NULL)
		return 0;
	hr = api.resize(w->pty->hpc, coord(size));
	if (SUCCEEDED(hr))
		return 0;
	errno = hr == E_NOTIMPL ? ENOSYS : EINVAL;
	return -1;
}

int
rp_pty_get_size(int fd, struct rp_pty_size *size)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	CONSOLE_SCREEN_BUFFER_INFO bi;
	HANDLE h;
	int opened, ok;

	if (w == NULL)
		return -1;
	if (w->pty != NULL) {
		*size = w->pty->size;
		return 0;
	}
	if ((h = console_out(fd, &opened)) == NULL) {
		errno = ENOTTY;
		return -1;
	}
	ok = GetConsoleScreenBufferInfo(h, &bi);
	if (opened)
		CloseHandle(h);
	if (!ok) {
		errno = ENOTTY;
		return -1;
	}
	size->cols = (uint16_t)(bi.srWindow.Right - bi.srWindow.Left + 1);
	size->rows = (uint16_t)(bi.srWindow.Bottom - bi.srWindow.Top + 1);
	return 0;
}

/* fd is a pseudo console's master (or a console of ours): 0, else -1
 * with errno. */
static int
is_console(int fd)
{
	struct rp_wfd *w = rp_wfd_get(fd);

	if (w == NULL)
		return -1;
	if (w->pty == NULL && !rp_tty_is(fd)) {
		errno = ENOTTY;
		return -1;
	}
	return 0;
}

int
rp_pty_eof_char(int fd)
{
	if (is_console(fd) != 0)
		return -1;
	/* Ctrl-Z: a console reader's end of input. */
	return 0x1a;
}

/*
 * Piped data on Windows: a pseudo console has no line discipline of ours
 * to set or to read.  Flow control does not exist there, and how a byte
 * is taken (cooked or raw, Ctrl-C as a byte or as a CTRL_C_EVENT) is the
 * program's own console mode (SetConsoleMode, ENABLE_LINE_INPUT and
 * ENABLE_PROCESSED_INPUT), which only the program may see.  So the bytes
 * go as they are, and nothing is counted as lost; the end of input is
 * Ctrl-Z (twice after a partial line: the first ends the line).
 */
int
rp_pty_data_mode(int fd)
{
	return is_console(fd);
}

size_t
rp_pty_feed(struct rp_pty_feed *f, int fd, const void *in, size_t n,
    void *out, size_t outsz, size_t *outlen)
{
	const unsigned char *p = in;
	size_t i, take = n < outsz ? n : outsz;

	(void)fd;
	memcpy(out, in, take);
	for (i = 0; i < take; i++)
		f->line = p[i] == '\n' ? 0 : f->line + 1;
	*outlen = take;
	return take;
}

int
rp_pty_feed_end(struct rp_pty_feed *f, int fd, void *out, size_t outsz)
{
	unsigned char *o = out;
	int c;

	if (outsz < 2) {
		errno = EINVAL;
		return -1;
	}
	if ((c = rp_pty_eof_char(fd)) < 0)
		return -1;
	o[0] = o[1] = (unsigned char)c;
	if (f->line > 0) {
		f->line = 0;
		return 2;
	}
	return 1;
}

int
rp_tty_is(int fd)
{
	struct rp_wfd *w = rp_wfd_peek(fd);
	HANDLE h = fd < 0 ? INVALID_HANDLE_VALUE : rp_wfd_handle(fd);
	DWORD mode;
	int saved = errno;

	errno = saved;
	if (w != NULL && w->pty != NULL)
		return 1;
	return h != INVALID_HANDLE_VALUE && GetConsoleMode(h, &mode) ? 1 : 0;
}

int
rp_pty_out_fd(int fd, int *nonblock)
{
	HANDLE self = GetCurrentProcess(), h = rp_wfd_handle(fd), d;

	*nonblock = 0;
	if (h == INVALID_HANDLE_VALUE)
		return -1;
	/* Writes to it wait as they must (a console, a pipe, a file): our
	 * own descriptor, nothing shared is changed. */
	if (!DuplicateHandle(self, h, self, &d, 0, FALSE, DUPLICATE_SAME_ACCESS))
		return rp_win_fail();
	return rp_wfd_open(d, -1, 0);
}

/* ------------------------------------------------------- raw mode */

struct rp_tty {
	HANDLE in, out;         /* ours (duplicates), out may be NULL */
	DWORD in_mode, out_mode;
	UINT in_cp, out_cp;
};

static const struct rp_tty *guarded;

int
rp_tty_restore(const struct rp_tty *t)
{
	int rc = 0;

	if (!SetConsoleMode(t->in, t->in_mode))
		rc = -1;
	if (t->out != NULL && !SetConsoleMode(t->out, t->out_mode))
		rc = -1;
	if (t->in_cp != 0)
		SetConsoleCP(t->in_cp);
	if (t->out_cp != 0)
		SetConsoleOutputCP(t->out_cp);
	return rc;
}

struct rp_tty *
rp_tty_raw(int fd)
{
	HANDLE self = GetCurrentProcess(), h = rp_wfd_handle(fd);
	struct rp_tty *t;
	DWORD mode;

	if (h == INVALID_HANDLE_VALUE)
		return NULL;
	if (!GetConsoleMode(h, &mode)) {
		errno = ENOTTY;
		return NULL;
	}
	if ((t = calloc(1, sizeof(*t))) == NULL)
		return NULL;
	if (!DuplicateHandle(self, h, self, &t->in, 0, FALSE,
	    DUPLICATE_SAME_ACCESS)) {
		free(t);
		rp_win_fail();
		return NULL;
	}
	t->in_mode = mode;
	t->in_cp = GetConsoleCP();
	t->out_cp = GetConsoleOutputCP();
	t->out = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	if (t->out == INVALID_HANDLE_VALUE || !GetConsoleMode(t->out,
	    &t->out_mode)) {
		if (t->out != INVALID_HANDLE_VALUE)
			CloseHandle(t->out);
		t->out = NULL;
	}
	/* Keys as VT sequences, nothing cooked, nothing echoed, Ctrl-C a
	 * byte; what the child writes rendered as VT; all of it UTF-8. */
	if (!SetConsoleMode(t->in, ENABLE_VIRTUAL_TERMINAL_INPUT) ||
	    (t->out != NULL && !SetConsoleMode(t->out, t->out_mode |
	    ENABLE_PROCESSED_OUTPUT | ENABLE_VIRTUAL_TERMINAL_PROCESSING |
	    DISABLE_NEWLINE_AUTO_RETURN))) {
		rp_win_fail();
		(void)rp_tty_restore(t);
		rp_tty_free(t);
		return NULL;
	}
	SetConsoleCP(CP_UTF8);
	SetConsoleOutputCP(CP_UTF8);
	return t;
}

/* A crash restores the console before the process goes. */
static LONG WINAPI
on_crash(EXCEPTION_POINTERS *e)
{
	(void)e;
	if (guarded != NULL)
		(void)rp_tty_restore(guarded);
	return EXCEPTION_CONTINUE_SEARCH;
}

int
rp_tty_guard(const struct rp_tty *t)
{
	/* No signals to die of here: Ctrl-C is a byte in raw mode, and the
	 * console's other events reach the loop (loop.c); what is left is
	 * a crash. */
	guarded = t;
	SetUnhandledExceptionFilter(t != NULL ? on_crash : NULL);
	return 0;
}

void
rp_tty_free(struct rp_tty *t)
{
	if (t == NULL)
		return;
	if (guarded == t)
		(void)rp_tty_guard(NULL);
	(void)rp_tty_restore(t);
	CloseHandle(t->in);
	if (t->out != NULL)
		CloseHandle(t->out);
	free(t);
}
