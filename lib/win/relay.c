/*
 * relay.c — copy between a connection and local fds (see relay.h), on
 * Windows: one thread per direction, each with blocking reads and
 * writes.  A named pipe has no half-close: when in_fd ends, nothing can
 * tell the peer so (a zero-byte write does not reach a reader), so the
 * relay goes on until the peer closes; and the peer's end of data is its
 * close, after which in_fd is not waited for.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "win.h"

#include "deadline.h"
#include "io.h"
#include "relay.h"

#define RELAY_BUF (64 * 1024)

struct up {
	int conn, in_fd;
	int err;                /* errno of a failure, 0 */
	uint8_t buf[RELAY_BUF];
};

static DWORD WINAPI
up_main(void *arg)
{
	struct up *u = arg;
	ssize_t n;

	for (;;) {
		n = rp_io_read_some(u->in_fd, u->buf, sizeof(u->buf));
		if (n < 0 && errno == EAGAIN &&
		    rp_io_wait(u->in_fd, RP_IO_READ, RP_DEADLINE_NEVER) > 0)
			continue;
		if (n == 0)
			break;
		if (n < 0) {
			if (errno != EINTR)
				u->err = errno;
			break;
		}
		if (rp_io_write_full(u->conn, u->buf, (size_t)n,
		    RP_DEADLINE_NEVER) != 0) {
			/* The peer reads no more: stop sending, keep taking
			 * what it says. */
			if (errno != EPIPE && errno != ECONNRESET)
				u->err = errno;
			break;
		}
	}
	return 0;
}

/* Take back the up thread's read of in_fd, since the peer is gone. */
static void
stop_up(HANDLE th, int in_fd)
{
	HANDLE h = rp_wfd_handle(in_fd);

	if (WaitForSingleObject(th, 0) == WAIT_OBJECT_0)
		return;
	CancelSynchronousIo(th);
	if (h != INVALID_HANDLE_VALUE)
		CancelIoEx(h, NULL);
	/* Where the system cannot cancel it (Wine, for some handles), the
	 * read ends when in_fd does: as on Unix with a peer that only shut
	 * down its writing. */
	WaitForSingleObject(th, INFINITE);
}

int
rp_relay(int conn, int in_fd, int out_fd)
{
	struct rp_wfd *w = rp_wfd_get(conn);
	struct up *u = NULL;
	HANDLE th = NULL;
	uint8_t *down = NULL;
	ssize_t n;
	int err = 0;

	if (w == NULL)
		return -1;
	if ((down = malloc(RELAY_BUF)) == NULL)
		return -1;
	/* A duplex pipe is what a socket is here; anything else is only
	 * read. */
	if (w->kind == RP_WFD_PIPE && in_fd >= 0) {
		if ((u = calloc(1, sizeof(*u))) == NULL) {
			free(down);
			return -1;
		}
		u->conn = conn;
		u->in_fd = in_fd;
		th = CreateThread(NULL, 0, up_main, u, 0, NULL);
		if (th == NULL) {
			rp_win_fail();
			err = errno;
			free(u);
			free(down);
			errno = err;
			return -1;
		}
	}
	for (;;) {
		n = rp_io_read_some(conn, down, RELAY_BUF);
		if (n == 0 || (n < 0 && errno == EIO && w->pty != NULL))
			break;
		if (n < 0 && errno == EAGAIN &&
		    rp_io_wait(conn, RP_IO_READ, RP_DEADLINE_NEVER) > 0)
			continue;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			break;
		}
		if (rp_io_write_full(out_fd, down, (size_t)n,
		    RP_DEADLINE_NEVER) != 0) {
			err = errno;
			break;
		}
	}
	if (th != NULL) {
		stop_up(th, in_fd);
		CloseHandle(th);
		if (err == 0)
			err = u->err;
		free(u);
	}
	free(down);
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}
