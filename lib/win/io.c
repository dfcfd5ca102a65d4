/*
 * io.c — whole reads and writes under an absolute deadline (see io.h), on
 * Windows: ReadFile/WriteFile on the handle behind the fd, overlapped on
 * pipes that were opened so, the readiness of wfd.c for waiting.
 */
#include <errno.h>
#include <io.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "io.h"
#include "sock.h"

#define WRITE_BEHIND_MAX (64u * 1024u)

int
rp_io_wait(int fd, unsigned events, int64_t deadline)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	HANDLE hs[2];
	DWORD n, r;
	int ms, a;
	unsigned ready;

	if (w == NULL)
		return RP_IO_ERR;       /* as poll(2)'s POLLNVAL */
	for (;;) {
		ready = 0;
		if (events & RP_IO_READ) {
			if ((a = rp_wfd_arm_read(w)) < 0)
				return -1;
			ready |= (unsigned)a;
		}
		if (events & RP_IO_WRITE)
			ready |= (unsigned)rp_wfd_arm_write(w);
		if (ready != 0)
			return (int)ready;
		n = 0;
		if (events & RP_IO_READ)
			hs[n++] = rp_wfd_read_event(w);
		if ((events & RP_IO_WRITE) && w->wr.state == RP_WOP_PENDING)
			hs[n++] = w->wr.ev;
		if (n == 0) {
			errno = EINVAL;
			return -1;
		}
		ms = rp_deadline_poll_ms(deadline);
		r = WaitForMultipleObjects(n, hs, FALSE,
		    ms < 0 ? INFINITE : (DWORD)ms);
		if (r == WAIT_TIMEOUT) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (r == WAIT_FAILED)
			return rp_win_fail();
	}
}

/* A pipe's end as the read functions say it: 1 for an error that is the
 * end of the data. */
static int
is_eof_err(DWORD err)
{
	return err == ERROR_BROKEN_PIPE || err == ERROR_PIPE_NOT_CONNECTED ||
	    err == ERROR_HANDLE_EOF;
}

/* One read of an overlapped pipe.  Non-blocking: only what is there. */
static ssize_t
pipe_read(struct rp_wfd *w, void *buf, size_t len, int nonblock)
{
	OVERLAPPED ov;
	HANDLE ev;
	DWORD avail = 0, n = 0, err;
	BOOL ok;

	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	for (;;) {
		if (nonblock) {
			if (!PeekNamedPipe(w->h, NULL, 0, NULL, &avail, NULL)) {
				err = GetLastError();
				if (is_eof_err(err))
					return 0;
				return rp_win_fail_err(err);
			}
			if (avail == 0) {
				errno = EAGAIN;
				return -1;
			}
			if (len > avail)
				len = avail;
		}
		memset(&ov, 0, sizeof(ov));
		if ((ev = rp_win_event(&ov.hEvent)) == NULL)
			return -1;
		ok = ReadFile(w->h, buf, (DWORD)len, &n, &ov);
		err = ok ? 0 : GetLastError();
		if (!ok && err == ERROR_IO_PENDING) {
			ok = rp_win_ov_wait(w->h, &ov, ev, &n,
			    RP_DEADLINE_NEVER);
			err = ok ? 0 : GetLastError();
		}
		CloseHandle(ev);
		if (ok || err == ERROR_MORE_DATA) {
			/* Nothing is a zero-length write of the peer, not
			 * the end: read on. */
			if (n > 0)
				return (ssize_t)n;
			continue;
		}
		if (is_eof_err(err))
			return 0;
		return rp_win_fail_err(err);
	}
}

static ssize_t
plain_read(HANDLE h, void *buf, size_t len)
{
	DWORD n = 0, err;

	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	if (ReadFile(h, buf, (DWORD)len, &n, NULL))
		return (ssize_t)n;
	err = GetLastError();
	if (is_eof_err(err))
		return 0;
	return rp_win_fail_err(err);
}

/* One read as read(2) would do it, nonblock or not; a pseudo console's
 * master answers the cursor query and ends with EIO (pty.h). */
static ssize_t
read_one(struct rp_wfd *w, void *buf, size_t len, int nonblock)
{
	ssize_t n;

	if (len == 0)
		return 0;
	switch (w->kind) {
	case RP_WFD_PIPE:
		n = pipe_read(w, buf, len, nonblock);
		break;
	case RP_WFD_SYNC:
		if (w->rt != NULL)
			n = rp_wfd_reader_take(w, buf, len, !nonblock);
		else
			n = plain_read(w->h, buf, len);
		break;
	case RP_WFD_LISTEN:
		errno = ENOTCONN;
		return -1;
	default:
		n = plain_read(w->h, buf, len);
		break;
	}
	if (w->pty != NULL) {
		if (n > 0)
			rp_win_pty_scan(w, buf, (size_t)n);
		else if (n == 0) {
			errno = EIO;
			return -1;
		}
	}
	return n;
}

/* No socket here is an fd: the caller takes the plain path. */
ssize_t
rp_io_recv_adopted(int fd, void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOTSOCK;
	return -1;
}

ssize_t
rp_io_send_adopted(int fd, const void *buf, size_t len)
{
	(void)fd;
	(void)buf;
	(void)len;
	errno = ENOTSOCK;
	return -1;
}

ssize_t
rp_io_read_some(int fd, void *buf, size_t len)
{
	struct rp_wfd *w = rp_wfd_get(fd);

	if (w == NULL)
		return -1;
	return read_one(w, buf, len, w->nonblock);
}

ssize_t
rp_io_read_full(int fd, void *buf, size_t len, int64_t deadline)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	size_t have = 0;
	ssize_t n;
	int timed = deadline != RP_DEADLINE_NEVER;

	if (w == NULL)
		return -1;
	while (have < len) {
		/* With a deadline, wait first and then take only what is
		 * there, so no read can outlast it. */
		if ((timed || w->nonblock) &&
		    rp_io_wait(fd, RP_IO_READ, deadline) < 0)
			return -1;
		n = read_one(w, (char *)buf + have, len - have,
		    timed || w->nonblock);
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno != EAGAIN)
			return -1;
	}
	return (ssize_t)have;
}

/* Where writes to w go. */
static HANDLE
write_handle(const struct rp_wfd *w)
{
	return w->hw != NULL ? w->hw : w->h;
}

static int
write_err(DWORD err)
{
	/* A reader that went away, however the pipe says it. */
	if (err == ERROR_BROKEN_PIPE || err == ERROR_NO_DATA ||
	    err == ERROR_PIPE_NOT_CONNECTED) {
		errno = EPIPE;
		return -1;
	}
	return rp_win_fail_err(err);
}

/* The error a finished write behind left for the next write, if any. */
static int
write_behind_err(struct rp_wfd *w)
{
	int err;

	(void)rp_wfd_arm_write(w);
	if (w->wr_err == 0)
		return 0;
	err = w->wr_err;
	w->wr_err = 0;
	errno = err == EPIPE || err == ECONNRESET ? EPIPE : err;
	return -1;
}

/* One overlapped write of len bytes, waited for until deadline. */
static ssize_t
pipe_write(struct rp_wfd *w, const void *buf, size_t len, int64_t deadline)
{
	HANDLE h = write_handle(w), ev;
	OVERLAPPED ov;
	DWORD n = 0, err;
	BOOL ok;

	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	memset(&ov, 0, sizeof(ov));
	if ((ev = rp_win_event(&ov.hEvent)) == NULL)
		return -1;
	ok = WriteFile(h, buf, (DWORD)len, &n, &ov);
	err = ok ? 0 : GetLastError();
	if (!ok && err == ERROR_IO_PENDING) {
		ok = rp_win_ov_wait(h, &ov, ev, &n, deadline);
		err = ok ? 0 : GetLastError();
	}
	CloseHandle(ev);
	if (!ok) {
		if (err == ERROR_TIMEOUT) {
			errno = ETIMEDOUT;
			return -1;
		}
		return write_err(err);
	}
	return (ssize_t)n;
}

/* Take len bytes into the write behind (none may be in flight). */
static ssize_t
write_behind(struct rp_wfd *w, const void *buf, size_t len)
{
	struct rp_wop *op = &w->wr;
	DWORD n = 0, err;

	if (rp_wop_init(op) < 0)
		return -1;
	if (len > WRITE_BEHIND_MAX)
		len = WRITE_BEHIND_MAX;
	if (op->buf == NULL) {
		if ((op->buf = malloc(WRITE_BEHIND_MAX)) == NULL)
			return -1;
		op->cap = WRITE_BEHIND_MAX;
	}
	memcpy(op->buf, buf, len);
	op->h = write_handle(w);
	if (WriteFile(op->h, op->buf, (DWORD)len, &n, &op->ov))
		return (ssize_t)len;
	err = GetLastError();
	if (err == ERROR_IO_PENDING) {
		/* Taken: the bytes are ours to deliver now, as a socket
		 * buffer's would be. */
		op->state = RP_WOP_PENDING;
		return (ssize_t)len;
	}
	return write_err(err);
}

static ssize_t
plain_write(HANDLE h, const void *buf, size_t len)
{
	DWORD n = 0;

	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	if (!WriteFile(h, buf, (DWORD)len, &n, NULL))
		return write_err(GetLastError());
	return (ssize_t)n;
}

ssize_t
rp_io_write_some(int fd, const void *buf, size_t len)
{
	struct rp_wfd *w = rp_wfd_get(fd);

	if (w == NULL)
		return -1;
	if (len == 0)
		return 0;
	switch (w->kind) {
	case RP_WFD_PIPE:
		if (w->wr.state == RP_WOP_PENDING &&
		    !rp_wop_reap(&w->wr, !w->nonblock)) {
			errno = EAGAIN;
			return -1;
		}
		if (write_behind_err(w) < 0)
			return -1;
		if (w->nonblock)
			return write_behind(w, buf, len);
		return pipe_write(w, buf, len, RP_DEADLINE_NEVER);
	case RP_WFD_LISTEN:
		errno = ENOTCONN;
		return -1;
	default:
		return plain_write(write_handle(w), buf, len);
	}
}

int
rp_io_write_full(int fd, const void *buf, size_t len, int64_t deadline)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	size_t done = 0;
	ssize_t n;

	if (w == NULL)
		return -1;
	if (w->kind == RP_WFD_PIPE && w->wr.state == RP_WOP_PENDING) {
		/* What was written behind goes first. */
		if (rp_io_wait(fd, RP_IO_WRITE, deadline) < 0)
			return -1;
	}
	if (w->kind == RP_WFD_PIPE && write_behind_err(w) < 0)
		return -1;
	while (done < len) {
		if (w->kind == RP_WFD_PIPE)
			n = pipe_write(w, (const char *)buf + done, len - done,
			    deadline);
		else if (w->kind == RP_WFD_LISTEN) {
			errno = ENOTCONN;
			return -1;
		} else
			n = plain_write(write_handle(w),
			    (const char *)buf + done, len - done);
		if (n < 0)
			return -1;
		done += (size_t)n;
	}
	return 0;
}

ssize_t
rp_io_peek(int fd, void *buf, size_t len)
{
	struct rp_wfd *w = rp_wfd_get(fd);
	DWORD n = 0, avail = 0, err;

	if (w == NULL)
		return -1;
	if (w->kind != RP_WFD_PIPE && w->kind != RP_WFD_SYNC) {
		errno = ENOTSOCK;
		return -1;
	}
	if (len > UINT32_MAX / 2)
		len = UINT32_MAX / 2;
	if (!PeekNamedPipe(w->h, buf, (DWORD)len, &n, &avail, NULL)) {
		err = GetLastError();
		if (is_eof_err(err))
			return 0;
		return rp_win_fail_err(err);
	}
	if (n == 0) {
		errno = EAGAIN;
		return -1;
	}
	return (ssize_t)n;
}

typedef LONG (WINAPI *ntqo_fn)(HANDLE, int, void *, ULONG, ULONG *);

int
rp_fd_mode(int fd)
{
	static ntqo_fn qo;
	struct {
		ULONG attributes;
		ACCESS_MASK granted;
		ULONG rest[20];
	} info;
	HANDLE h = rp_wfd_handle(fd);
	ULONG len;
	int mode = 0;

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	/* What the handle was granted: NtQueryObject's basic information
	 * (ObjectBasicInformation, class 0). */
	if (qo == NULL)
		qo = (ntqo_fn)(void (*)(void))GetProcAddress(
		    GetModuleHandleW(L"ntdll.dll"), "NtQueryObject");
	if (qo == NULL || qo(h, 0, &info, sizeof(info), &len) != 0)
		return (int)(RP_IO_READ | RP_IO_WRITE);
	if (info.granted & (FILE_READ_DATA | GENERIC_READ | GENERIC_ALL))
		mode |= (int)RP_IO_READ;
	if (info.granted & (FILE_WRITE_DATA | FILE_APPEND_DATA |
	    GENERIC_WRITE | GENERIC_ALL))
		mode |= (int)RP_IO_WRITE;
	return mode != 0 ? mode : (int)(RP_IO_READ | RP_IO_WRITE);
}

int
rp_fd_set_nonblock(int fd, int on)
{
	struct rp_wfd *w = rp_wfd_get(fd);

	if (w == NULL)
		return -1;
	w->nonblock = on != 0;
	return 0;
}

int
rp_fd_set_cloexec(int fd, int on)
{
	struct rp_wfd *w = rp_wfd_get(fd);

	/* Children inherit only what rp_spawn lists (HANDLE_LIST); the
	 * flag is kept right all the same. */
	if (w == NULL)
		return -1;
	if (!SetHandleInformation(w->h, HANDLE_FLAG_INHERIT,
	    on ? 0 : HANDLE_FLAG_INHERIT))
		return rp_win_fail();
	return 0;
}

void
rp_fd_close(int *fd)
{
	int saved = errno;

	if (*fd >= 0) {
		rp_wfd_release(*fd);
		_close(*fd);
	}
	*fd = -1;
	errno = saved;
}

int
rp_fd_count(void)
{
	int fd, n = 0;

	/* msvcrt.dll has room for 2048. */
	for (fd = 0; fd < 2048; fd++)
		if (_get_osfhandle(fd) != -1)
			n++;
	return n;
}

ssize_t
rp_io_send_nowait(int fd, const void *buf, size_t len)
{
	return rp_io_write_some(fd, buf, len);
}

ssize_t
rp_io_write_plain(int fd, const void *buf, size_t len)
{
	return rp_io_write_some(fd, buf, len);
}

ssize_t
rp_io_recv_nowait(int fd, void *buf, size_t len)
{
	return rp_io_read_some(fd, buf, len);
}

int
rp_fd_is_socket(int fd)
{
	if (_get_osfhandle(fd) == -1) {
		errno = EBADF;
		return -1;
	}
	return 0;
}

int
rp_fd_is_null(int fd)
{
	(void)fd;
	return 0;
}

int
rp_fd_pipe(int fds[2], int nonblock)
{
	return rp_sock_pair(fds, nonblock);
}
