/* Unit tests for rp-broker's standard-error queue (cmd/rp-broker/logq.c):
 * lines pass through at once while the reader keeps up; a stalled pipe
 * never blocks a put; whole lines are dropped and counted when the queue
 * is full, and the count comes first once the reader is back; a socket
 * (journald's kind of stderr) behaves the same; a reader that is gone
 * drops everything without an error. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "logq.h"
#include "t.h"

/* Everything readable on fd now (fd non-blocking), appended to out. */
static size_t
slurp(int fd, char *out, size_t cap, size_t have)
{
	ssize_t n;

	while (have < cap && (n = read(fd, out + have, cap - have)) > 0)
		have += (size_t)n;
	return have;
}

static void
test_passes_through(void)
{
	struct logq *q = calloc(1, sizeof(*q));
	int p[2];
	char got[256];
	size_t n;

	T_OK(q != NULL);
	T_EQ(pipe(p), 0);
	T_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	T_EQ(logq_open(q, p[1]), 0);
	T_OK(q->fd != p[1]);
	T_EQ(logq_put(q, "a: one\n", 7), 0);
	T_EQ(logq_put(q, "a: two\n", 7), 0);
	T_EQ(logq_pending(q), 0);
	n = slurp(p[0], got, sizeof(got), 0);
	T_EQ(n, 14);
	T_OK(memcmp(got, "a: one\na: two\n", 14) == 0);
	/* our own description is non-blocking, the one we share is not */
	T_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	logq_close(q);
	close(p[0]);
	close(p[1]);
	free(q);
}

/* A stalled reader: puts return at once; the queue fills, then lines are
 * dropped whole; read again, the count comes first, then the next line. */
static void
stalled(int rd, int wr)
{
	struct logq *q = calloc(1, sizeof(*q));
	char line[100], *got = malloc(1 << 20);
	size_t n = 0, i, taken = 0, dropped = 0;
	const char *note;

	T_OK(q != NULL && got != NULL);
	T_EQ(logq_open(q, wr), 0);
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = '\n';
	for (i = 0; i < 4000; i++) {
		if (logq_put(q, line, sizeof(line)) == 0)
			taken++;
		else
			dropped++;
	}
	T_OK(dropped > 0);
	T_UEQ(q->dropped, dropped);
	T_UEQ(q->dropped_total, dropped);
	T_EQ(logq_pending(q), 1);
	/* the reader comes back */
	while (logq_pending(q)) {
		n = slurp(rd, got, 1 << 20, n);
		logq_flush(q);
	}
	n = slurp(rd, got, 1 << 20, n);
	T_UEQ(n, taken * sizeof(line));
	T_EQ(logq_put(q, "a: back\n", 8), 0);
	n = slurp(rd, got, 1 << 20, n);
	got[n] = '\0';
	note = got + taken * sizeof(line);
	T_OK(strncmp(note, "rp-broker: ", 11) == 0);
	T_EQ(strtoull(note + 11, NULL, 10), dropped);
	T_OK(strstr(note, " log lines dropped: standard error was not read "
	    "fast enough\na: back\n") != NULL);
	T_UEQ(q->dropped, 0);
	logq_close(q);
	free(got);
	free(q);
}

static void
test_stalled_pipe(void)
{
	int p[2];

	T_EQ(pipe(p), 0);
	T_EQ(fcntl(p[0], F_SETFL, O_NONBLOCK), 0);
	stalled(p[0], p[1]);
	close(p[0]);
	close(p[1]);
}

static void
test_stalled_socket(void)
{
	int s[2], sz = 4096;

	T_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, s), 0);
	T_EQ(setsockopt(s[1], SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz)), 0);
	T_EQ(fcntl(s[0], F_SETFL, O_NONBLOCK), 0);
	stalled(s[0], s[1]);
	/* the shared description stayed blocking */
	T_EQ(fcntl(s[1], F_GETFL) & O_NONBLOCK, 0);
	close(s[0]);
	close(s[1]);
}

/* Nobody reads any more: lines go nowhere, no error, no SIGPIPE. */
static void
test_reader_gone(void)
{
	struct logq *q = calloc(1, sizeof(*q));
	int p[2];

	T_OK(q != NULL);
	/* as in the broker (rp_init): a write to a departed reader is EPIPE */
	T_OK(signal(SIGPIPE, SIG_IGN) != SIG_ERR);
	T_EQ(pipe(p), 0);
	T_EQ(logq_open(q, p[1]), 0);
	close(p[0]);
	T_EQ(logq_put(q, "a: lost\n", 8), 0);
	T_EQ(q->broken, 1);
	T_EQ(logq_pending(q), 0);
	T_EQ(logq_put(q, "a: lost\n", 8), -1);
	logq_close(q);
	close(p[1]);
	free(q);
}

int
main(void)
{
	T_RUN(test_passes_through);
	T_RUN(test_stalled_pipe);
	T_RUN(test_stalled_socket);
	T_RUN(test_reader_gone);
	return t_done();
}
