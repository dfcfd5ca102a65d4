/*
 * io.h — whole reads and writes on an fd under an absolute deadline.
 *
 * Works on blocking and non-blocking fds alike: every wait is bounded by
 * the deadline, EINTR is retried, and a write to a departed peer is EPIPE,
 * never SIGPIPE.  (Implemented in lib/posix/io.c: poll(2), MSG_NOSIGNAL;
 * lib/win/io.c: overlapped ReadFile/WriteFile, readiness as lib/win/win.h
 * describes.)
 */
#ifndef RP_IO_H
#define RP_IO_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* What rp_io_wait waits for, and what it reports. */
#define RP_IO_READ 0x1u
#define RP_IO_WRITE 0x2u
#define RP_IO_HUP 0x4u          /* reported only: hang-up */
#define RP_IO_ERR 0x8u          /* reported only: error, or fd not open */

/* Wait until fd is ready for `events` (RP_IO_READ and/or RP_IO_WRITE).
 * Returns what it is ready for (RP_IO_* bits, > 0), or -1 with errno
 * (ETIMEDOUT when the deadline passes first). */
int rp_io_wait(int fd, unsigned events, int64_t deadline);

/* Read exactly len bytes.  Returns len, or fewer when EOF came first (0 on
 * EOF before any byte), or -1 with errno (ETIMEDOUT, or the read error). */
ssize_t rp_io_read_full(int fd, void *buf, size_t len, int64_t deadline);

/* One read(2) of at most len bytes, EINTR retried, never waiting.  Returns
 * the count (> 0), 0 at EOF, or -1 with errno (EAGAIN/EWOULDBLOCK when a
 * non-blocking fd has nothing yet).  For callers that must consume exactly
 * what they need and no more (frame decoders). */
ssize_t rp_io_read_some(int fd, void *buf, size_t len);

/* One write(2) of at most len bytes (send(2) with MSG_NOSIGNAL on a
 * socket), EINTR retried: the count (> 0), or -1 with errno (EAGAIN when
 * a non-blocking fd has no room now, EPIPE when the reader is gone).  It
 * waits only as the fd does: a blocking fd until some is taken. */
ssize_t rp_io_write_some(int fd, const void *buf, size_t len);

/* rp_io_write_some for an fd known not to be a socket (a file, a pipe, a
 * terminal: rp_fd_is_socket said 0): one write(2), with no send(2)
 * tried first.  SIGPIPE must be ignored (rp_init does).  Windows: the
 * same as rp_io_write_some. */
ssize_t rp_io_write_plain(int fd, const void *buf, size_t len);

/* rp_io_read_some and rp_io_write_some on a socket that never wait,
 * whatever its O_NONBLOCK says (MSG_DONTWAIT): for an fd that came from
 * another process, whose file status flags are the sender's, without
 * asking for them (fcntl) first.  -1 with ENOTSOCK when fd is not a
 * socket (always on Windows): the caller then makes it non-blocking
 * itself (rp_fd_set_nonblock) and uses the plain calls. */
ssize_t rp_io_recv_adopted(int fd, void *buf, size_t len);
ssize_t rp_io_send_adopted(int fd, const void *buf, size_t len);

/* Write all len bytes.  Returns 0, or -1 with errno (ETIMEDOUT, EPIPE...). */
int rp_io_write_full(int fd, const void *buf, size_t len, int64_t deadline);

/* Up to len bytes of what is there to read, left there (MSG_PEEK; on
 * Windows PeekNamedPipe), never waiting: the count, 0 at the peer's end,
 * or -1 with errno (EAGAIN when nothing is there yet, ENOTSOCK for an fd
 * that cannot be looked into). */
ssize_t rp_io_peek(int fd, void *buf, size_t len);

/* One send(2) that never waits, whatever fd's mode: MSG_DONTWAIT |
 * MSG_NOSIGNAL on a socket, not retried on EINTR (the caller loops).
 * The count, or -1 with errno (EAGAIN when there is no room now, EPIPE,
 * ENOTSOCK for an fd that is not a socket).  Windows: rp_io_write_some
 * on a non-blocking pipe (the write behind of lib/win/README.md). */
ssize_t rp_io_send_nowait(int fd, const void *buf, size_t len);

/* One recv(2) that never waits (MSG_DONTWAIT): the count, 0 at the
 * peer's end, or -1 with errno (EAGAIN when nothing is there yet).
 * Windows: rp_io_read_some on a non-blocking pipe. */
ssize_t rp_io_recv_nowait(int fd, void *buf, size_t len);

/* 1 when fd is a socket (S_ISSOCK of fstat(2)), 0 when it is something
 * else, -1 with errno when it is not open.  Windows: 0 (our endpoints are
 * named pipes). */
int rp_fd_is_socket(int fd);

/* 1 when fd is the null device (/dev/null: writes succeed and keep
 * nothing), else 0 (also when it cannot be told, and on Windows). */
int rp_fd_is_null(int fd);

/* A pipe, close-on-exec, both ends non-blocking when nonblock: fds[0]
 * reads what fds[1] writes (pipe2(2); Windows: a named pipe of a random
 * name, as rp_sock_pair makes it, whose ends the loop can wait for).
 * 0, or -1 with errno. */
int rp_fd_pipe(int fds[2], int nonblock);

/* What fd was opened for: RP_IO_READ and/or RP_IO_WRITE (O_ACCMODE), or
 * -1 with errno (EBADF: fd is not open). */
int rp_fd_mode(int fd);

/* Set or clear O_NONBLOCK / FD_CLOEXEC.  Return 0 or -1 with errno. */
int rp_fd_set_nonblock(int fd, int on);
int rp_fd_set_cloexec(int fd, int on);

/* close(2) that preserves errno and ignores fd < 0; sets *fd to -1. */
void rp_fd_close(int *fd);

/* Number of open fds of this process (from /proc/self/fd), or -1. */
int rp_fd_count(void);

#endif
