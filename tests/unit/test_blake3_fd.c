/*
 * Unit tests for rp_blake3_fd and rp_blake3_file (lib/posix/blake3_fd.c):
 * files of many sizes against b3sum, on every implementation this CPU
 * has; pipes with short reads and EINTR; offsets; error paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blake3.h"
#include "blake3_util.h"
#include "t.h"

/* ---------------------------------------------------------- b3sum peer */

static int
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* b3sum's 64 hex digits for path, or -1. */
static int
b3sum(const char *path, char out[65])
{
	char cmd[600], line[128];
	FILE *f;
	int st, ok;

	snprintf(cmd, sizeof(cmd), "b3sum --no-names '%s'", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL && strlen(line) == 65 &&
	    line[64] == '\n';
	st = pclose(f);
	if (!ok || st != 0)
		return -1;
	memcpy(out, line, 64);
	out[64] = '\0';
	return 0;
}

static void
test_files_against_b3sum(void)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 1023, 1024, 1025,
		2047, 2048, 2049, 3073, 4096 + 1, 8193, 16384 * 3 + 5, 65536,
		(1u << 20) + 13, (8u << 20) + 1, (33u << 20) + 3 };
	size_t max = (33u << 20) + 3, s, i;
	uint8_t *data = malloc(max), d[32];
	char path[512], want[65], got[65];

	T_OK(data != NULL);
	if (data == NULL)
		return;
	snprintf(path, sizeof(path), "%s/in", t_tmpdir());
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		fill_random(data, sizes[s], 100 + s);
		T_EQ(write_file(path, data, sizes[s]), 0);
		T_EQ(b3sum(path, want), 0);
		for (i = 0; i < NIMPLS; i++) {
			if (rp_blake3_set_impl(impls[i]) != 0)
				continue;
			memset(d, 0, sizeof(d));
			T_EQ(rp_blake3_file(path, d), 0);
			hex_encode(d, sizeof(d), got);
			if (strcmp(got, want) != 0)
				t_fail(__FILE__, __LINE__,
				    "%s size %zu: %s, b3sum %s", impls[i],
				    sizes[s], got, want);
		}
	}
	unlink(path);
	free(data);
}

/* ---------------------------------------------------------------- fds */

static void
on_usr1(int sig)
{
	(void)sig;
}

/*
 * rp_blake3_fd on a pipe: many short reads, and SIGUSR1 (installed
 * without SA_RESTART) sent while the reader may sit in read(2), so EINTR
 * must be retried rather than reported.
 */
static void
test_fd_pipe(void)
{
	size_t len = (2u << 20) + 777, off, n;
	uint8_t *data = malloc(len), want[32], got[32];
	struct sigaction sa;
	uint64_t seed = 6;
	pid_t pid, parent = getpid();
	int p[2], st;

	T_OK(data != NULL);
	if (data == NULL)
		return;
	fill_random(data, len, 7);
	rp_blake3(data, len, want);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (off = 0; off < len; off += n) {
			n = 1 + rnd(&seed) % 70000;
			if (n > len - off)
				n = len - off;
			kill(parent, SIGUSR1);
			if (write(p[1], data + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	memset(got, 0, sizeof(got));
	T_EQ(rp_blake3_fd(p[0], got), 0);
	T_MEM(got, want, 32);
	close(p[0]);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(data);
}

/* From the fd's current offset, not from the start of the file. */
static void
test_fd_from_offset(void)
{
	uint8_t data[10000], want[32], got[32];
	char path[512];
	int fd;

	fill_random(data, sizeof(data), 8);
	snprintf(path, sizeof(path), "%s/off", t_tmpdir());
	T_EQ(write_file(path, data, sizeof(data)), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	T_OK(fd >= 0);
	T_EQ(lseek(fd, 1234, SEEK_SET), 1234);
	T_EQ(rp_blake3_fd(fd, got), 0);
	rp_blake3(data + 1234, sizeof(data) - 1234, want);
	T_MEM(got, want, 32);
	/* At EOF now: what remains is the empty input. */
	T_EQ(rp_blake3_fd(fd, got), 0);
	rp_blake3("", 0, want);
	T_MEM(got, want, 32);
	close(fd);
	unlink(path);
}

static void
test_errors(void)
{
	char path[512];
	uint8_t d[32];
	int fd;

	snprintf(path, sizeof(path), "%s/missing", t_tmpdir());
	errno = 0;
	T_EQ(rp_blake3_file(path, d), -1);
	T_EQ(errno, ENOENT);

	errno = 0;
	T_EQ(rp_blake3_file(t_tmpdir(), d), -1);
	T_EQ(errno, EISDIR);

	errno = 0;
	T_EQ(rp_blake3_fd(-1, d), -1);
	T_EQ(errno, EBADF);

	/* Open, but not for reading. */
	snprintf(path, sizeof(path), "%s/wo", t_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	T_OK(fd >= 0);
	errno = 0;
	T_EQ(rp_blake3_fd(fd, d), -1);
	T_EQ(errno, EBADF);
	close(fd);

	/* Closed. */
	errno = 0;
	T_EQ(rp_blake3_fd(fd, d), -1);
	T_EQ(errno, EBADF);
	unlink(path);
}

int
main(void)
{
	T_RUN(test_files_against_b3sum);
	T_RUN(test_fd_pipe);
	T_RUN(test_fd_from_offset);
	T_RUN(test_errors);
	return t_done();
}
