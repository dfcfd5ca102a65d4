/* Unit tests for io: whole reads/writes, deadlines, EOF, EPIPE. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "t.h"

static void
test_read_full_and_eof(void)
{
	int p[2];
	char buf[16];

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(write(p[1], "hello", 5), 5);
	close(p[1]);
	T_EQ(rp_io_read_full(p[0], buf, 3, rp_deadline_in(1000)), 3);
	T_MEM(buf, "hel", 3);
	/* EOF after two more bytes: a short count, not an error. */
	T_EQ(rp_io_read_full(p[0], buf, 10, rp_deadline_in(1000)), 2);
	T_EQ(rp_io_read_full(p[0], buf, 10, rp_deadline_in(1000)), 0);
	close(p[0]);
}

static void
test_read_deadline_nonblocking(void)
{
	int sv[2];
	char buf[4];
	int64_t t0 = rp_now_ms();

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(write(sv[1], "ab", 2), 2);
	errno = 0;
	T_EQ(rp_io_read_full(sv[0], buf, 4, rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 50);
	T_OK(rp_now_ms() - t0 < 2000);
	close(sv[0]);
	close(sv[1]);
}

static void
test_wait_timeout(void)
{
	int sv[2];

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	errno = 0;
	T_EQ(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(10)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_io_wait(sv[0], RP_IO_WRITE, rp_deadline_in(10)) & RP_IO_WRITE);
	close(sv[0]);
	close(sv[1]);
}

/* What comes back is in RP_IO_* terms, whatever the system calls it. */
static void
test_wait_reports(void)
{
	int sv[2], r, closed;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(write(sv[1], "x", 1), 1);
	T_EQ(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(1000)), RP_IO_READ);
	T_EQ(rp_io_wait(sv[0], RP_IO_READ | RP_IO_WRITE,
	    rp_deadline_in(1000)), RP_IO_READ | RP_IO_WRITE);
	close(sv[1]);
	r = rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(1000));
	T_OK(r > 0);
	T_OK(r & RP_IO_HUP);
	T_EQ(r & ~(RP_IO_READ | RP_IO_WRITE | RP_IO_HUP | RP_IO_ERR), 0);
	/* An fd that is not open is an error condition, not a timeout. */
	closed = sv[0];
	close(closed);
	T_EQ(rp_io_wait(closed, RP_IO_READ, rp_deadline_in(1000)), RP_IO_ERR);
}

static void
test_write_epipe_no_signal(void)
{
	int sv[2];

	/* Default SIGPIPE disposition: the write must still not kill us. */
	signal(SIGPIPE, SIG_DFL);
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[1]);
	errno = 0;
	T_EQ(rp_io_write_full(sv[0], "x", 1, rp_deadline_in(100)), -1);
	T_EQ(errno, EPIPE);
	close(sv[0]);
}

static void
test_write_full_large_nonblocking(void)
{
	int sv[2];
	static char big[1 << 20], got[1 << 20];
	pid_t pid;

	memset(big, 'q', sizeof(big));
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	pid = fork();
	if (pid == 0) {
		close(sv[0]);
		_exit(rp_io_read_full(sv[1], got, sizeof(got), rp_deadline_in(5000)) ==
		    (ssize_t)sizeof(got) && memcmp(got, big, sizeof(big)) == 0 ? 0 : 1);
	}
	close(sv[1]);
	T_EQ(rp_io_write_full(sv[0], big, sizeof(big), rp_deadline_in(5000)), 0);
	close(sv[0]);
	{
		int st;

		T_EQ(waitpid(pid, &st, 0), pid);
		T_EQ(st, 0);
	}
}

static void
test_write_to_pipe_and_deadline(void)
{
	int p[2];
	static char big[1 << 20];

	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	/* Nobody reads: the pipe fills and the deadline ends the wait. */
	errno = 0;
	T_EQ(rp_io_write_full(p[1], big, sizeof(big), rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	close(p[0]);
	close(p[1]);
}

static void
test_read_some(void)
{
	int sv[2];
	char buf[8];

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	errno = 0;
	T_EQ(rp_io_read_some(sv[0], buf, sizeof(buf)), -1);
	T_OK(errno == EAGAIN || errno == EWOULDBLOCK);
	T_EQ(write(sv[1], "abc", 3), 3);
	/* One read: what is there, never more than asked. */
	T_EQ(rp_io_read_some(sv[0], buf, 2), 2);
	T_MEM(buf, "ab", 2);
	T_EQ(rp_io_read_some(sv[0], buf, sizeof(buf)), 1);
	T_EQ(buf[0], 'c');
	close(sv[1]);
	T_EQ(rp_io_read_some(sv[0], buf, sizeof(buf)), 0);
	close(sv[0]);
}

static void
test_fd_helpers(void)
{
	int p[2], n0 = rp_fd_count(), fd;

	T_OK(n0 >= 3);
	T_EQ(pipe(p), 0);
	T_EQ(rp_fd_count(), n0 + 2);
	T_EQ(rp_fd_set_cloexec(p[0], 1), 0);
	T_OK(fcntl(p[0], F_GETFD) & FD_CLOEXEC);
	T_EQ(rp_fd_set_cloexec(p[0], 0), 0);
	T_OK(!(fcntl(p[0], F_GETFD) & FD_CLOEXEC));
	T_EQ(rp_fd_set_nonblock(p[0], 1), 0);
	T_OK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	/* Asked again, or back, it still says so (the first needs no
	 * change, the second does). */
	T_EQ(rp_fd_set_nonblock(p[0], 1), 0);
	T_OK(fcntl(p[0], F_GETFL) & O_NONBLOCK);
	T_EQ(rp_fd_set_nonblock(p[0], 0), 0);
	T_OK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	T_EQ(rp_fd_set_nonblock(p[0], 0), 0);
	T_OK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	fd = p[0];
	rp_fd_close(&fd);
	T_EQ(fd, -1);
	rp_fd_close(&fd);
	close(p[1]);
	T_EQ(rp_fd_count(), n0);
	T_EQ(rp_fd_set_nonblock(-1, 1), -1);
}

/* Blocking fds: the deadline still ends the wait (a silent peer on a
 * blocking socket, a blocking pipe nobody writes to or reads from). */
static void
test_deadline_on_blocking_fds(void)
{
	int sv[2], p[2];
	char buf[8];
	static char big[1 << 20];
	int64_t t0 = rp_now_ms();

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	errno = 0;
	T_EQ(rp_io_read_full(sv[0], buf, 4, rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	errno = 0;
	T_EQ(rp_io_write_full(sv[0], big, sizeof(big), rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	errno = 0;
	T_EQ(rp_io_read_full(p[0], buf, 4, rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	/* The fds stay blocking: we never change their flags. */
	T_OK(!(fcntl(sv[0], F_GETFL) & O_NONBLOCK));
	T_OK(!(fcntl(p[0], F_GETFL) & O_NONBLOCK));
	T_OK(rp_now_ms() - t0 < 5000);
	close(sv[0]);
	close(sv[1]);
	close(p[0]);
	close(p[1]);
}

/* What the broker's loop needs: a pipe pair, sockets told apart, sends
 * and receives that never wait. */
static void
test_pipe_and_nowait(void)
{
	int p[2], sv[2], i;
	char buf[4096];
	ssize_t n;

	T_EQ(rp_fd_pipe(p, 1), 0);
	T_EQ((int)(fcntl(p[0], F_GETFL) & O_NONBLOCK), O_NONBLOCK);
	T_EQ((int)(fcntl(p[1], F_GETFD) & FD_CLOEXEC), FD_CLOEXEC);
	T_EQ(rp_fd_is_socket(p[0]), 0);
	T_EQ(rp_io_write_some(p[1], "x", 1), 1);
	T_EQ(rp_io_read_some(p[0], buf, sizeof(buf)), 1);
	errno = 0;
	T_EQ(rp_io_read_some(p[0], buf, sizeof(buf)), -1);
	T_EQ(errno, EAGAIN);
	close(p[0]);
	close(p[1]);
	T_EQ(rp_fd_pipe(p, 0), 0);
	T_EQ((int)(fcntl(p[0], F_GETFL) & O_NONBLOCK), 0);
	/* rp_io_write_plain: a plain write; with SIGPIPE ignored (rp_init
	 * ignores it), a pipe nobody reads is EPIPE. */
	T_EQ(rp_io_write_plain(p[1], "xy", 2), 2);
	T_EQ(rp_io_read_some(p[0], buf, sizeof(buf)), 2);
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	errno = 0;
	T_EQ(rp_io_write_plain(p[1], "x", 1), -1);
	T_EQ(errno, EPIPE);
	signal(SIGPIPE, SIG_DFL);
	close(p[1]);

	/* Blocking sockets: the "no wait" calls still never wait. */
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(rp_fd_is_socket(sv[0]), 1);
	errno = 0;
	T_EQ(rp_io_recv_nowait(sv[0], buf, sizeof(buf)), -1);
	T_EQ(errno, EAGAIN);
	memset(buf, 'a', sizeof(buf));
	for (i = 0; i < 100000; i++) {
		n = rp_io_send_nowait(sv[1], buf, sizeof(buf));
		if (n < 0)
			break;
	}
	T_EQ(n, -1);
	T_EQ(errno, EAGAIN);
	T_EQ(rp_io_recv_nowait(sv[0], buf, 2), 2);
	close(sv[0]);
	/* The reader gone: EPIPE, no signal. */
	errno = 0;
	while ((n = rp_io_send_nowait(sv[1], buf, sizeof(buf))) > 0)
		;
	T_EQ(n, -1);
	T_EQ(errno, EPIPE);
	close(sv[1]);
	errno = 0;
	T_EQ(rp_fd_is_socket(sv[1]), -1);
	T_EQ(errno, EBADF);
}

int
main(void)
{
	T_RUN(test_deadline_on_blocking_fds);
	T_RUN(test_read_full_and_eof);
	T_RUN(test_read_deadline_nonblocking);
	T_RUN(test_wait_timeout);
	T_RUN(test_wait_reports);
	T_RUN(test_write_epipe_no_signal);
	T_RUN(test_write_full_large_nonblocking);
	T_RUN(test_write_to_pipe_and_deadline);
	T_RUN(test_read_some);
	T_RUN(test_fd_helpers);
	T_RUN(test_pipe_and_nowait);
	return t_done();
}
