/*
 * Unit tests for fdpass: the happy path, every hostile message a peer can
 * send (no fd, two fds, a flood, odd lengths, EOF, silence), proof that
 * nothing leaks in any of them, and interop with Python's
 * socket.send_fds / socket.recv_fds as an independent peer.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "fdpass.h"
#include "io.h"
#include "t.h"

static const char token[16] = "0123456789abcdef";

static void
pair(int sv[2])
{
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
}

/* A pipe whose read end yields `text` and then EOF; returns the read
 * end (the write end is closed). */
static int
pipe_with(const char *text)
{
	int p[2];

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(write(p[1], text, strlen(text)), (ssize_t)strlen(text));
	close(p[1]);
	return p[0];
}

/* An independent sender: nfds fds in ncmsg control messages. */
static void
raw_send(int sock, const void *data, size_t len, const int *fds, int nfds,
    int ncmsg)
{
	static union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * 128) * 2];
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	struct cmsghdr *c;
	int per = ncmsg > 1 ? nfds / ncmsg : nfds, i, done = 0;

	memset(&ctl, 0, sizeof(ctl));
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	if (nfds > 0) {
		msg.msg_control = ctl.buf;
		msg.msg_controllen = 0;
		for (i = 0; i < ncmsg; i++)
			msg.msg_controllen += CMSG_SPACE(sizeof(int) *
			    (size_t)(i == ncmsg - 1 ? nfds - done : per));
		c = CMSG_FIRSTHDR(&msg);
		for (i = 0; i < ncmsg; i++) {
			int k = i == ncmsg - 1 ? nfds - done : per;

			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)k);
			memcpy(CMSG_DATA(c), fds + done, sizeof(int) * (size_t)k);
			done += k;
			c = CMSG_NXTHDR(&msg, c);
		}
	}
	T_EQ(sendmsg(sock, &msg, MSG_NOSIGNAL), (ssize_t)len);
}

static void
test_happy_path(void)
{
	int sv[2], fd, r, n0, nfds = -1;
	char buf[64], text[64];
	size_t got = 99;

	pair(sv);
	n0 = rp_fd_count();
	r = pipe_with("through the passed fd");
	T_EQ(rp_fdpass_send(sv[0], r, token, sizeof(token),
	    rp_deadline_in(1000)), 0);
	/* The sender keeps its fd: closing it does not affect the copy. */
	T_OK(fcntl(r, F_GETFD) >= 0);
	close(r);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	T_MEM(buf, token, 16);
	T_OK(fd >= 0);
	T_EQ(nfds, 1);
	T_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	memset(text, 0, sizeof(text));
	T_EQ(rp_io_read_full(fd, text, sizeof(text) - 1, rp_deadline_in(1000)),
	    21);
	T_STR(text, "through the passed fd");
	close(fd);
	T_EQ(rp_fd_count(), n0);
	T_STR(rp_fdpass_status_str(RP_FDPASS_OK, 1, NULL, 0), "ok");
	close(sv[0]);
	close(sv[1]);
}

static void
test_no_fd(void)
{
	int sv[2], fd = 42, n0, nfds = -1;
	char buf[64];
	size_t got;

	pair(sv);
	n0 = rp_fd_count();
	raw_send(sv[0], token, 16, NULL, 0, 0);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_NO_FD);
	T_EQ(fd, -1);
	T_EQ(nfds, 0);
	T_UEQ(got, 16);
	T_EQ(rp_fd_count(), n0);
	T_STR(rp_fdpass_status_str(RP_FDPASS_NO_FD, 0, NULL, 0),
	    "no fd in the message");
	close(sv[0]);
	close(sv[1]);
}

static void
test_two_fds(void)
{
	int sv[2], fd = 42, n0, fds[2], ncmsg, nfds;
	char buf[64], text[RP_FDPASS_STR_MAX];
	size_t got;

	pair(sv);
	fds[0] = pipe_with("a");
	fds[1] = pipe_with("b");
	n0 = rp_fd_count();
	/* Both in one control message, then split over two. */
	for (ncmsg = 1; ncmsg <= 2; ncmsg++) {
		raw_send(sv[0], token, 16, fds, 2, ncmsg);
		T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &nfds,
		    rp_deadline_in(1000)), RP_FDPASS_TOO_MANY_FDS);
		T_EQ(fd, -1);
		T_UEQ(got, 16);
		T_EQ(nfds, 2);
		T_STR(rp_fdpass_status_str(RP_FDPASS_TOO_MANY_FDS, nfds, text,
		    sizeof(text)), "2 fds in one message");
		/* Both that arrived were closed. */
		T_EQ(rp_fd_count(), n0);
	}
	close(fds[0]);
	close(fds[1]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_flood_truncated(void)
{
	int sv[2], fd = 42, n0, fds[64], i, r, nfds;
	char buf[64];
	size_t got;

	pair(sv);
	r = pipe_with("flood");
	for (i = 0; i < 64; i++)
		fds[i] = r;
	n0 = rp_fd_count();
	raw_send(sv[0], token, 16, fds, 64, 1);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_TRUNCATED);
	T_EQ(nfds, 8);          /* what fitted, all closed */
	T_EQ(fd, -1);
	T_UEQ(got, 16);
	T_EQ(rp_fd_count(), n0);
	T_OK(strstr(rp_fdpass_status_str(RP_FDPASS_TRUNCATED, nfds, NULL, 0),
	    "truncated") != NULL);
	/* A handful still fits the buffer: reported by count, not cut. */
	raw_send(sv[0], token, 16, fds, 5, 1);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_TOO_MANY_FDS);
	T_EQ(nfds, 5);
	T_EQ(rp_fd_count(), n0);
	close(r);
	close(sv[0]);
	close(sv[1]);
}

/*
 * The count travels with its own message: a status kept from one receive
 * (as rp-handoff-recv --serve keeps it until the offer comes) is described
 * by that receive's count, whatever was received after it.
 */
static void
test_count_kept_with_status(void)
{
	int sv[2], fd, fds[5], i, first_n, second_n;
	enum rp_fdpass_status first, second;
	char buf[64], a[RP_FDPASS_STR_MAX], b[RP_FDPASS_STR_MAX];
	size_t got;

	pair(sv);
	for (i = 0; i < 5; i++)
		fds[i] = pipe_with("x");
	raw_send(sv[0], token, 16, fds, 2, 1);
	raw_send(sv[0], token, 16, fds, 5, 1);
	first = rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &first_n,
	    rp_deadline_in(1000));
	second = rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, &second_n,
	    rp_deadline_in(1000));
	T_EQ(first, RP_FDPASS_TOO_MANY_FDS);
	T_EQ(second, RP_FDPASS_TOO_MANY_FDS);
	T_STR(rp_fdpass_status_str(first, first_n, a, sizeof(a)),
	    "2 fds in one message");
	T_STR(rp_fdpass_status_str(second, second_n, b, sizeof(b)),
	    "5 fds in one message");
	/* Each description lives in its caller's buffer. */
	T_STR(a, "2 fds in one message");
	for (i = 0; i < 5; i++)
		close(fds[i]);
	close(sv[0]);
	close(sv[1]);
}

static void
test_data_lengths(void)
{
	int sv[2], fd, r, n0;
	char buf[64];
	static const char twenty[20] = "0123456789abcdefWXYZ";
	size_t got;

	pair(sv);
	r = pipe_with("x");
	n0 = rp_fd_count();
	/* The length is reported, not judged. */
	T_EQ(rp_fdpass_send(sv[0], r, twenty, 20, rp_deadline_in(1000)), 0);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 20);
	T_MEM(buf, twenty, 20);
	close(fd);
	T_EQ(rp_fdpass_send(sv[0], r, "abc", 3, rp_deadline_in(1000)), 0);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 3);
	close(fd);
	/* What follows the fd message (the handoff offer) is not read with
	 * it: the kernel ends a read at the message that carried fds. */
	T_EQ(rp_fdpass_send(sv[0], r, token, 16, rp_deadline_in(1000)), 0);
	T_EQ(write(sv[0], "OFFER", 5), 5);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	close(fd);
	T_EQ(rp_io_read_full(sv[1], buf, 5, rp_deadline_in(1000)), 5);
	T_MEM(buf, "OFFER", 5);
	/* Stray bytes before the fd message are glued to it: the length
	 * shows it, so the caller's 16-byte check rejects it. */
	T_EQ(write(sv[0], "junk", 4), 4);
	T_EQ(rp_fdpass_send(sv[0], r, token, 16, rp_deadline_in(1000)), 0);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 20);
	close(fd);
	T_EQ(rp_fd_count(), n0);
	/* Send-side limits. */
	errno = 0;
	T_EQ(rp_fdpass_send(sv[0], r, token, 0, rp_deadline_in(1000)), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_fdpass_send(sv[0], r, buf, 65, rp_deadline_in(1000)), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_fdpass_send(sv[0], -1, token, 16, rp_deadline_in(1000)), -1);
	T_EQ(errno, EBADF);
	errno = 0;
	T_EQ(rp_fdpass_recv(sv[1], buf, 0, &got, &fd, NULL, rp_deadline_in(10)),
	    RP_FDPASS_IO);
	T_EQ(errno, EINVAL);
	close(r);
	close(sv[0]);
	close(sv[1]);
}

static void
test_eof_and_errors(void)
{
	int sv[2], fd = 42, p[2];
	char buf[64], why[64];
	size_t got = 7;
	uint64_t value = 7;

	pair(sv);
	close(sv[0]);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_EOF);
	T_EQ(fd, -1);
	T_UEQ(got, 0);
	close(sv[1]);

	/* A sender whose peer left: EPIPE, and no SIGPIPE. */
	signal(SIGPIPE, SIG_DFL);
	pair(sv);
	close(sv[1]);
	errno = 0;
	T_EQ(rp_fdpass_send(sv[0], 0, token, 16, rp_deadline_in(1000)), -1);
	T_EQ(errno, EPIPE);
	/* The handoff's first step says so as a failure of the channel: the
	 * classes of a handle that cannot be given are Windows'. */
	errno = 0;
	T_EQ(rp_fdpass_give(sv[0], 0, (const uint8_t *)token, &value,
	    rp_deadline_in(1000), why, sizeof(why)), RP_GIVE_CHANNEL);
	T_EQ(errno, EPIPE);
	T_UEQ(value, 0);
	T_STR(why, "cannot send the fd");
	close(sv[0]);

	/* Not a socket. */
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	errno = 0;
	T_EQ(rp_fdpass_recv(p[0], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_IO);
	T_EQ(errno, ENOTSOCK);
	errno = 0;
	T_EQ(rp_fdpass_send(p[1], 0, token, 16, rp_deadline_in(1000)), -1);
	T_EQ(errno, ENOTSOCK);
	close(p[0]);
	close(p[1]);
}

static void
test_deadlines(void)
{
	int sv[2], fd = 42, nb;
	char buf[64];
	static char fill[65536];
	size_t got;
	int64_t t0;

	/* Receiving: silence until the deadline, blocking or not. */
	for (nb = 0; nb < 2; nb++) {
		T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    (nb ? SOCK_NONBLOCK : 0), 0, sv), 0);
		t0 = rp_now_ms();
		T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
		    t0 + 50), RP_FDPASS_TIMEOUT);
		T_OK(rp_now_ms() - t0 >= 50);
		T_OK(rp_now_ms() - t0 < 5000);
		T_EQ(fd, -1);
		T_UEQ(got, 0);
		close(sv[0]);
		close(sv[1]);
	}
	/* Sending to a full socket (blocking fd): the deadline ends it. */
	pair(sv);
	T_EQ(rp_fd_set_nonblock(sv[0], 1), 0);
	while (send(sv[0], fill, sizeof(fill), MSG_NOSIGNAL) > 0)
		;
	T_EQ(rp_fd_set_nonblock(sv[0], 0), 0);
	t0 = rp_now_ms();
	errno = 0;
	T_EQ(rp_fdpass_send(sv[0], 0, token, 16, t0 + 50), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 50);
	close(sv[0]);
	close(sv[1]);
}

/* Run /usr/bin/python3 -c script with sock on its fd 3; returns the pid. */
static pid_t
python(const char *script, int sock)
{
	pid_t pid = fork();

	T_OK(pid >= 0);
	if (pid == 0) {
		if (dup2(sock, 3) != 3)
			_exit(90);
		execl("/usr/bin/python3", "python3", "-c", script, (char *)NULL);
		_exit(91);
	}
	return pid;
}

static int
wait_status(pid_t pid)
{
	int st;

	T_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void
test_python_sends(void)
{
	static const char script[] =
	    "import os, socket\n"
	    "s = socket.socket(fileno=3)\n"
	    "r, w = os.pipe()\n"
	    "os.write(w, b'from python')\n"
	    "os.close(w)\n"
	    "socket.send_fds(s, [b'0123456789abcdef'], [r])\n";
	int sv[2], fd, n0;
	char buf[64], text[32];
	size_t got;
	pid_t pid;

	pair(sv);
	n0 = rp_fd_count();
	pid = python(script, sv[1]);
	T_EQ(rp_fdpass_recv(sv[0], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(20000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	T_MEM(buf, token, 16);
	memset(text, 0, sizeof(text));
	T_EQ(rp_io_read_full(fd, text, sizeof(text) - 1,
	    rp_deadline_in(20000)), 11);
	T_STR(text, "from python");
	close(fd);
	T_EQ(wait_status(pid), 0);
	T_EQ(rp_fd_count(), n0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_python_receives(void)
{
	static const char script[] =
	    "import os, socket, sys\n"
	    "s = socket.socket(fileno=3)\n"
	    "msg, fds, flags, addr = socket.recv_fds(s, 64, 4)\n"
	    "if msg != b'0123456789abcdef': sys.exit(3)\n"
	    "if len(fds) != 1 or flags & socket.MSG_CTRUNC: sys.exit(4)\n"
	    "if os.read(fds[0], 64) != b'from C': sys.exit(5)\n";
	int sv[2], r;
	pid_t pid;

	pair(sv);
	r = pipe_with("from C");
	pid = python(script, sv[1]);
	close(sv[1]);
	T_EQ(rp_fdpass_send(sv[0], r, token, 16, rp_deadline_in(20000)), 0);
	close(r);
	T_EQ(wait_status(pid), 0);
	close(sv[0]);
}

/* The fd, the data and the bytes behind it in one message: a receiver
 * with room takes all of them in one recvmsg; one that reads exactly the
 * 16 bytes with the fd finds the tail behind them as plain bytes. */
static void
test_send_with_tail(void)
{
	static const char tail[] = "the offer behind it";
	int sv[2], fd, r, n0, i;
	char buf[64], text[64];
	size_t got;
	ssize_t n;

	pair(sv);
	n0 = rp_fd_count();
	T_OK(rp_fd_set_nonblock(sv[0], 1) == 0);
	r = pipe_with("via the tail call");
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, tail,
	    sizeof(tail) - 1), (ssize_t)sizeof(tail) - 1);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16 + sizeof(tail) - 1);
	T_MEM(buf, token, 16);
	T_MEM(buf + 16, tail, sizeof(tail) - 1);
	/* Nothing else was left in the socket. */
	T_EQ(recv(sv[1], text, sizeof(text), MSG_DONTWAIT), -1);
	T_OK(errno == EAGAIN || errno == EWOULDBLOCK);
	memset(text, 0, sizeof(text));
	T_EQ(rp_io_read_full(fd, text, 17, rp_deadline_in(1000)), 17);
	T_STR(text, "via the tail call");
	close(fd);

	/* The same stream, read as two sends would be: 16 bytes with the
	 * fd, then the tail. */
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, tail,
	    sizeof(tail) - 1), (ssize_t)sizeof(tail) - 1);
	T_EQ(rp_fdpass_recv(sv[1], buf, 16, &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	T_MEM(buf, token, 16);
	memset(text, 0, sizeof(text));
	T_EQ(rp_io_read_full(sv[1], text, sizeof(tail) - 1,
	    rp_deadline_in(1000)), (ssize_t)sizeof(tail) - 1);
	T_STR(text, tail);
	close(fd);

	/* No tail: just the message. */
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, NULL, 0), 0);
	T_EQ(rp_fdpass_recv(sv[1], buf, sizeof(buf), &got, &fd, NULL,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	close(fd);

	/* Bad requests. */
	errno = 0;
	T_EQ(rp_fdpass_send_with_tail(sv[0], -1, token, 16, tail, 3), -1);
	T_EQ(errno, EBADF);
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 0, tail, 3), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 65, tail, 3), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, NULL, 3), -1);
	T_EQ(errno, EINVAL);

	/* A full socket: the fd does not go (EAGAIN), and nothing leaks. */
	memset(text, 'x', sizeof(text));
	for (i = 0; i < 1000000; i++) {
		n = send(sv[0], text, sizeof(text), MSG_DONTWAIT);
		if (n < 0)
			break;
	}
	T_OK(n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK));
	errno = 0;
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, tail, 3), -1);
	T_OK(errno == EAGAIN || errno == EWOULDBLOCK);

	/* A peer gone: EPIPE, no signal. */
	close(sv[1]);
	errno = 0;
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, tail, 3), -1);
	T_EQ(errno, EPIPE);
	close(r);
	close(sv[0]);
	T_EQ(rp_fd_count(), n0 - 2);
}

/* Python reads what each call sent: with room, the 16 bytes, the fd
 * and the tail in ONE recv_fds; with exactly 16 bytes of room, the
 * token and the fd, then the tail from the stream. */
static void
test_python_receives_tail(void)
{
	static const char script[] =
	    "import os, socket, sys\n"
	    "s = socket.socket(fileno=3)\n"
	    "msg, fds, flags, addr = socket.recv_fds(s, 64, 4)\n"
	    "if msg != b'0123456789abcdeftail bytes': sys.exit(3)\n"
	    "if len(fds) != 1 or flags & socket.MSG_CTRUNC: sys.exit(4)\n"
	    "if os.read(fds[0], 64) != b'from C': sys.exit(6)\n"
	    "msg, fds, flags, addr = socket.recv_fds(s, 16, 4)\n"
	    "if msg != b'0123456789abcdef' or len(fds) != 1: sys.exit(7)\n"
	    "if s.recv(64) != b'tail bytes': sys.exit(5)\n"
	    "if os.read(fds[0], 64) != b'again': sys.exit(8)\n";
	int sv[2], r;
	pid_t pid;

	pair(sv);
	r = pipe_with("from C");
	pid = python(script, sv[1]);
	close(sv[1]);
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, "tail bytes", 10),
	    10);
	close(r);
	r = pipe_with("again");
	T_EQ(rp_fdpass_send_with_tail(sv[0], r, token, 16, "tail bytes", 10),
	    10);
	close(r);
	T_EQ(wait_status(pid), 0);
	close(sv[0]);
}

int
main(void)
{
	T_RUN(test_happy_path);
	T_RUN(test_no_fd);
	T_RUN(test_two_fds);
	T_RUN(test_flood_truncated);
	T_RUN(test_count_kept_with_status);
	T_RUN(test_data_lengths);
	T_RUN(test_eof_and_errors);
	T_RUN(test_deadlines);
	T_RUN(test_python_sends);
	T_RUN(test_python_receives);
	T_RUN(test_send_with_tail);
	T_RUN(test_python_receives_tail);
	return t_done();
}
