/* Unit tests for relay: nc -U style copying between a connection and a
 * pair of local fds. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "pty.h"
#include "relay.h"
#include "t.h"

/* Read fd to EOF into a malloc'd buffer; *len gets the size. */
static uint8_t *
slurp(int fd, size_t *len)
{
	size_t cap = 1 << 16, n = 0;
	uint8_t *b = malloc(cap);
	ssize_t r;

	for (;;) {
		if (n == cap) {
			cap *= 2;
			b = realloc(b, cap);
			if (b == NULL)
				abort();
		}
		r = read(fd, b + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	*len = n;
	return b;
}

static void
test_both_directions_and_half_close(void)
{
	int sv[2], in[2], out[2], status;
	size_t len;
	uint8_t *got;
	pid_t pid;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(pipe2(in, O_CLOEXEC), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	T_EQ(write(in[1], "hello", 5), 5);
	close(in[1]);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		/* The peer: read until our write side is shut down, answer,
		 * close. */
		size_t n;
		uint8_t *b;

		close(sv[0]);
		b = slurp(sv[1], &n);
		_exit(n == 5 && memcmp(b, "hello", 5) == 0 &&
		    write(sv[1], "world", 5) == 5 ? 0 : 1);
	}
	close(sv[1]);
	T_EQ(rp_relay(sv[0], in[0], out[1]), 0);
	close(out[1]);
	got = slurp(out[0], &len);
	T_UEQ(len, 5);
	T_MEM(got, "world", 5);
	free(got);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

/* A megabyte through an echoing peer: the relay must keep reading while
 * it sends, or both sides fill their buffers and stall. */
static void
test_echo_peer_no_deadlock(void)
{
	enum { SIZE = 1 << 20 };
	int sv[2], in[2], out[2], status;
	uint8_t *data;
	size_t len;
	pid_t writer, echo, collector;

	data = malloc(SIZE);
	T_OK(data != NULL);
	for (len = 0; len < SIZE; len++)
		data[len] = (uint8_t)(len * 7 + (len >> 9));
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(pipe2(in, O_CLOEXEC), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	writer = fork();
	T_OK(writer >= 0);
	if (writer == 0)
		_exit(rp_io_write_full(in[1], data, SIZE, RP_DEADLINE_NEVER));
	close(in[1]);
	echo = fork();
	T_OK(echo >= 0);
	if (echo == 0) {
		uint8_t b[4096];
		ssize_t n;

		close(sv[0]);
		while ((n = read(sv[1], b, sizeof(b))) > 0)
			if (rp_io_write_full(sv[1], b, (size_t)n,
			    RP_DEADLINE_NEVER) != 0)
				_exit(1);
		_exit(n == 0 ? 0 : 1);
	}
	close(sv[1]);
	/* out is read concurrently too, by a child that checks it all. */
	collector = fork();
	T_OK(collector >= 0);
	if (collector == 0) {
		size_t n;
		uint8_t *b;

		close(out[1]);
		b = slurp(out[0], &n);
		_exit(n == SIZE && memcmp(b, data, SIZE) == 0 ? 0 : 1);
	}
	close(out[0]);
	T_EQ(rp_relay(sv[0], in[0], out[1]), 0);
	close(out[1]);
	T_EQ(waitpid(collector, &status, 0), collector);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	T_EQ(waitpid(writer, &status, 0), writer);
	T_EQ(waitpid(echo, &status, 0), echo);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	free(data);
}

/* Not a socket: only read it; in_fd is left alone. */
static void
test_pipe_is_only_read(void)
{
	int p[2], in[2], out[2];
	uint8_t *got;
	size_t len;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(pipe2(in, O_CLOEXEC), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	T_EQ(write(p[1], "abc", 3), 3);
	close(p[1]);
	T_EQ(write(in[1], "never read", 10), 10);
	T_EQ(rp_relay(p[0], in[0], out[1]), 0);
	close(out[1]);
	got = slurp(out[0], &len);
	T_UEQ(len, 3);
	T_MEM(got, "abc", 3);
	free(got);
	/* in_fd still holds its bytes. */
	close(in[1]);
	got = slurp(in[0], &len);
	T_UEQ(len, 10);
	free(got);
}

static void
test_errors(void)
{
	int sv[2], out[2];

	/* out_fd's reader is gone: EPIPE (SIGPIPE ignored, as rp_init does). */
	signal(SIGPIPE, SIG_IGN);
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	close(out[0]);
	T_EQ(write(sv[1], "data", 4), 4);
	errno = 0;
	T_EQ(rp_relay(sv[0], -1, out[1]), -1);
	T_EQ(errno, EPIPE);
	/* A closed conn is EBADF. */
	errno = 0;
	T_EQ(rp_relay(-1, -1, 1), -1);
	T_EQ(errno, EBADF);
	close(sv[0]);
	close(sv[1]);
	close(out[1]);
}

/* The peer closes altogether while in_fd is still open and silent: we do
 * not wait for in_fd, and what the peer said before still arrives. */
static void
test_peer_closes_first(void)
{
	int sv[2], in[2], out[2];
	uint8_t *got;
	size_t len;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(pipe2(in, O_CLOEXEC), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	T_EQ(write(sv[1], "bye", 3), 3);
	close(sv[1]);
	T_EQ(rp_relay(sv[0], in[0], out[1]), 0);
	close(out[1]);
	got = slurp(out[0], &len);
	T_UEQ(len, 3);
	T_MEM(got, "bye", 3);
	free(got);
	close(in[1]);
	close(in[0]);
	close(sv[0]);
}

/* The peer only shuts down its writing, before we have sent a byte: it
 * still gets all of in_fd. */
static void
test_peer_half_closes_first(void)
{
	int sv[2], in[2], out[2], status;
	uint8_t *got;
	size_t len;
	pid_t pid;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(pipe2(in, O_CLOEXEC), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	T_EQ(write(sv[1], "first", 5), 5);
	T_EQ(shutdown(sv[1], SHUT_WR), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		uint8_t first[5], *b;
		size_t n;

		close(sv[0]);
		close(in[0]);
		close(out[1]);
		/* Our data comes only after the relay has passed on the
		 * peer's, by when it has usually seen its end as well. */
		if (rp_io_read_full(out[0], first, 5, rp_deadline_in(10000)) != 5 ||
		    write(in[1], "late", 4) != 4)
			_exit(1);
		close(in[1]);
		b = slurp(sv[1], &n);
		_exit(n == 4 && memcmp(b, "late", 4) == 0 ? 0 : 1);
	}
	close(sv[1]);
	close(in[1]);
	T_EQ(rp_relay(sv[0], in[0], out[1]), 0);
	close(out[1]);
	got = slurp(out[0], &len);
	free(got);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	close(in[0]);
	close(out[0]);
	close(sv[0]);
}

/* A PTY master whose terminal side has closed reads EIO: the relay takes
 * that as the end of the data, not as a failure (rp-handoff-recv copying
 * a master handed over by rp-spawn-pty --master-to). */
static void
test_pty_master_hangup_is_eof(void)
{
	struct rp_pty pty;
	int out[2];
	char buf[64];
	ssize_t n;

	T_EQ(rp_pty_open(&pty, NULL), 0);
	T_EQ(pipe2(out, O_CLOEXEC), 0);
	T_EQ(write(pty.peer, "from-pty\n", 9), 9);
	close(pty.peer);
	T_EQ(rp_relay(pty.master, -1, out[1]), 0);
	close(out[1]);
	n = read(out[0], buf, sizeof(buf) - 1);
	T_OK(n > 0);
	buf[n > 0 ? n : 0] = '\0';
	T_STR(buf, "from-pty\r\n");
	close(out[0]);
	close(pty.master);
}

int
main(void)
{
	T_RUN(test_pty_master_hangup_is_eof);
	T_RUN(test_both_directions_and_half_close);
	T_RUN(test_echo_peer_no_deadlock);
	T_RUN(test_pipe_is_only_read);
	T_RUN(test_errors);
	T_RUN(test_peer_closes_first);
	T_RUN(test_peer_half_closes_first);
	return t_done();
}
