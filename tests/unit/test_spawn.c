/*
 * Unit tests for spawn: exec errors, finding a program, fd placement, closing
 * every other fd, signal state, sessions, environment, cwd, waiting and
 * reaping.
 *
 * The child side of several tests is this very binary, re-executed through
 * /proc/self/exe with a helper verb, so what the child sees is read from
 * its own /proc entries rather than guessed from a shell.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "io.h"
#include "deadline.h"
#include "posix/spawn_int.h"
#include "spawn.h"
#include "t.h"

#define SELF "/proc/self/exe"

/* ---------------------------------------------------------- the helpers */

static int
fd_cmp(const void *a, const void *b)
{
	return *(const int *)a - *(const int *)b;
}

/* Sorted fds of this process, without the directory stream's own. */
static int
list_fds(int *out, int max)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL && n < max) {
		long v;

		if (e->d_name[0] == '.')
			continue;
		v = strtol(e->d_name, NULL, 10);
		if (v == dirfd(d))
			continue;
		out[n++] = (int)v;
	}
	closedir(d);
	qsort(out, (size_t)n, sizeof(int), fd_cmp);
	return n;
}

static void
print_fds(void)
{
	int fds[256], n, i;

	n = list_fds(fds, 256);
	for (i = 0; i < n; i++)
		printf("%s%d", i ? " " : "", fds[i]);
	printf("\n");
}

/* The hex masks of a /proc/self/status line such as "SigBlk:". */
static void
print_status_field(const char *key)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");

	if (f == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, key, strlen(key)) == 0)
			fputs(line, stdout);
	fclose(f);
}

static int
helper(int argc, char **argv)
{
	char buf[PATH_MAX];
	int fd;

	if (strcmp(argv[1], "fds") == 0) {
		print_fds();
	} else if (strcmp(argv[1], "sig") == 0) {
		print_status_field("SigBlk:");
		print_status_field("SigIgn:");
	} else if (strcmp(argv[1], "ids") == 0) {
		printf("sid=%d pgid=%d\n", getsid(0) == getpid(),
		    getpgrp() == getpid());
	} else if (strcmp(argv[1], "env") == 0 && argc > 2) {
		const char *v = getenv(argv[2]);
		int n = 0;

		while (environ[n] != NULL)
			n++;
		printf("%s n=%d\n", v ? v : "(unset)", n);
	} else if (strcmp(argv[1], "cwd") == 0) {
		printf("%s\n", getcwd(buf, sizeof(buf)) ? buf : "?");
	} else if (strcmp(argv[1], "ctty") == 0) {
		fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC);
		printf("ctty=%d leader=%d\n", fd >= 0, tcgetsid(0) == getpid());
	} else if (strcmp(argv[1], "link") == 0 && argc > 2) {
		char path[64];
		ssize_t n;

		snprintf(path, sizeof(path), "/proc/self/fd/%s", argv[2]);
		n = readlink(path, buf, sizeof(buf) - 1);
		buf[n < 0 ? 0 : n] = '\0';
		printf("%s\n", n < 0 ? "closed" : buf);
	} else {
		return 99;
	}
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------- test utilities */

/* Run SELF <verb> [arg] with stdout on a pipe plus the given flags and
 * extra mappings; return what it printed (static buffer) and check it
 * exited 0. */
static const char *
run_helper(const char *verb, const char *arg, unsigned flags,
    char *const *envp, const char *cwd)
{
	static char out[4096];
	char *argv[] = { (char *)"test_spawn", (char *)verb, (char *)arg, NULL };
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { 0 };
	struct rp_spawn_status st;
	int p[2], ef;
	ssize_t n;
	pid_t pid;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	map[0].parent_fd = p[1];
	map[0].child_fd = 1;
	sp.file = SELF;
	sp.argv = argv;
	sp.envp = envp;
	sp.fds = map;
	sp.nfds = 1;
	sp.flags = flags;
	sp.cwd = cwd;
	pid = rp_spawn(&sp, &ef);
	T_OK(pid > 0);
	close(p[1]);
	n = rp_io_read_full(p[0], out, sizeof(out) - 1, rp_deadline_in(10000));
	T_OK(n >= 0);
	out[n < 0 ? 0 : n] = '\0';
	close(p[0]);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 0);
	return out;
}

/* --------------------------------------------------------------- tests */

static void
test_exec_enoent(void)
{
	char *argv[] = { (char *)"rp-no-such-program-3f9a", NULL };
	char *argv2[] = { (char *)"/nonexistent/dir/prog", NULL };
	struct rp_spawn sp = { .argv = argv };
	int ef = -1;

	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(errno, ENOENT);
	/* The child was reaped: nothing is left to wait for. */
	T_EQ(waitpid(-1, NULL, WNOHANG), -1);
	T_EQ(errno, ECHILD);

	sp.argv = argv2;
	ef = -1;
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(errno, ENOENT);
}

static void
test_exec_eacces(void)
{
	char path[PATH_MAX];
	char *argv[] = { path, NULL };
	struct rp_spawn sp = { .argv = argv };
	int fd, ef = -1;

	/* A file without the execute bit... */
	snprintf(path, sizeof(path), "%s/not-exec", t_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	T_OK(fd >= 0);
	T_EQ(write(fd, "#!/bin/sh\nexit 0\n", 17), 17);
	close(fd);
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(errno, EACCES);
	T_EQ(waitpid(-1, NULL, WNOHANG), -1);

	/* ...and a directory. */
	snprintf(path, sizeof(path), "%s", t_tmpdir());
	ef = -1;
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(errno, EACCES);
}

/* A shell script at dir/name that prints its directory's tag. */
static void
script(const char *dir, const char *name, const char *tag, mode_t mode)
{
	char path[PATH_MAX], body[128];
	int fd, n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	n = snprintf(body, sizeof(body), "#!/bin/sh\necho %s\n", tag);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	T_OK(fd >= 0);
	T_EQ(write(fd, body, (size_t)n), n);
	close(fd);
	T_EQ(chmod(path, mode), 0);
}

/* What `name` prints when rp_spawn runs it (searched by execvpe), or
 * "exec failed: <errno>". */
static const char *
spawned_says(const char *name)
{
	static char out[128];
	char *argv[] = { (char *)name, NULL };
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 1 };
	int p[2], ef = 0;
	ssize_t n;
	pid_t pid;

	T_EQ(pipe(p), 0);
	map[0] = (struct rp_spawn_fd){ p[1], 1 };
	pid = rp_spawn(&sp, &ef);
	close(p[1]);
	if (pid < 0) {
		snprintf(out, sizeof(out), "exec failed: %d", errno);
		close(p[0]);
		return out;
	}
	n = read(p[0], out, sizeof(out) - 1);
	out[n > 0 ? n : 0] = '\0';
	close(p[0]);
	T_EQ(rp_spawn_wait(pid, 0, NULL), 1);
	return out;
}

/* rp_spawn_find finds what exec then runs, by execvpe's rules. */
static void
test_find(void)
{
	char d1[PATH_MAX], d2[PATH_MAX], out[PATH_MAX];
	char path[2 * PATH_MAX + 32], want[PATH_MAX + 32];

	snprintf(d1, sizeof(d1), "%s/d1", t_tmpdir());
	snprintf(d2, sizeof(d2), "%s/d2", t_tmpdir());
	T_EQ(mkdir(d1, 0700), 0);
	T_EQ(mkdir(d2, 0700), 0);
	script(d1, "prog", "d1", 0644);         /* found, not executable */
	script(d2, "prog", "d2", 0755);

	/* Skipped as execvpe skips it: the next one is the program. */
	snprintf(path, sizeof(path), "%s:%s", d1, d2);
	T_EQ(setenv("PATH", path, 1), 0);
	T_EQ(rp_spawn_find("prog", out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s/prog", d2);
	T_STR(out, want);
	T_STR(spawned_says("prog"), "d2\n");
	/* Only that one: not executable. */
	T_EQ(setenv("PATH", d1, 1), 0);
	errno = 0;
	T_EQ(rp_spawn_find("prog", out, sizeof(out)), -1);
	T_EQ(errno, EACCES);
	snprintf(want, sizeof(want), "exec failed: %d", EACCES);
	T_STR(spawned_says("prog"), want);
	/* Nowhere. */
	errno = 0;
	T_EQ(rp_spawn_find("rp-no-such-program-3f9a", out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_spawn_find("", out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);

	/* An empty element, or an empty PATH, is the current directory. */
	T_EQ(chdir(d2), 0);
	snprintf(path, sizeof(path), "%s::/nonexistent", d1);
	T_EQ(setenv("PATH", path, 1), 0);
	T_EQ(rp_spawn_find("prog", out, sizeof(out)), 0);
	T_STR(out, "./prog");
	T_STR(spawned_says("prog"), "d2\n");
	T_EQ(setenv("PATH", "", 1), 0);
	T_EQ(rp_spawn_find("prog", out, sizeof(out)), 0);
	T_STR(out, "./prog");
	T_STR(spawned_says("prog"), "d2\n");

	/* Unset: the system's standard path. */
	T_EQ(unsetenv("PATH"), 0);
	T_EQ(rp_spawn_find("sh", out, sizeof(out)), 0);
	T_OK(strcmp(out, "/bin/sh") == 0 || strcmp(out, "/usr/bin/sh") == 0);
	errno = 0;
	T_EQ(rp_spawn_find("prog", out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);

	/* With a '/', no search: the file itself. */
	snprintf(path, sizeof(path), "%s/prog", d2);
	T_EQ(rp_spawn_find(path, out, sizeof(out)), 0);
	T_STR(out, path);
	snprintf(path, sizeof(path), "%s/prog", d1);
	errno = 0;
	T_EQ(rp_spawn_find(path, out, sizeof(out)), -1);
	T_EQ(errno, EACCES);
	errno = 0;
	T_EQ(rp_spawn_find(d1, out, sizeof(out)), -1);   /* a directory */
	T_EQ(errno, EACCES);
	errno = 0;
	T_EQ(rp_spawn_find("/nonexistent/prog", out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_spawn_find("./prog", out, 4), -1);
	T_EQ(errno, ENAMETOOLONG);
}

static void
test_exit_codes_and_signals(void)
{
	char *a3[] = { (char *)"sh", (char *)"-c", (char *)"exit 3", NULL };
	char *ak[] = { (char *)"sh", (char *)"-c", (char *)"kill -KILL $$", NULL };
	char *as[] = { (char *)"sleep", (char *)"30", NULL };
	struct rp_spawn sp = { .argv = a3 };
	struct rp_spawn_status st;
	pid_t pid;

	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 3);
	T_EQ(rp_spawn_status_exit(&st), 3);

	sp.argv = ak;
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.signo, SIGKILL);
	T_EQ(rp_spawn_status_exit(&st), 137);

	/* NOHANG while it runs; NOWAIT observes without reaping. */
	sp.argv = as;
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOHANG, &st), 0);
	T_EQ(rp_spawn_kill(pid, SIGTERM, 0), 0);
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOWAIT, &st), 1);
	T_EQ(st.signo, SIGTERM);
	T_EQ(kill(pid, 0), 0);            /* still a zombie of ours */
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_wait(pid, 0, &st), -1);
	T_EQ(errno, ECHILD);
}

/* Waiting with a deadline: 0 while it runs on past it (no sooner), then
 * its end once it comes; nothing to wait for is ECHILD. */
static void
test_wait_until(void)
{
	char *as[] = { (char *)"sleep", (char *)"30", NULL };
	char *a5[] = { (char *)"sh", (char *)"-c", (char *)"exit 5", NULL };
	struct rp_spawn sp = { .argv = as };
	struct rp_spawn_status st;
	int64_t t0;
	pid_t pid;

	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	t0 = rp_now_ms();
	T_EQ(rp_spawn_wait_until(pid, 0, t0 + 100, &st), 0);
	T_OK(rp_now_ms() - t0 >= 100);
	T_EQ(rp_spawn_kill(pid, SIGTERM, 0), 0);
	T_EQ(rp_spawn_wait_until(pid, RP_SPAWN_WAIT_NOWAIT,
	    rp_deadline_in(10000), &st), 1);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_wait_until(pid, 0, rp_deadline_in(10000), &st), 1);
	T_EQ(rp_spawn_wait_until(pid, 0, rp_deadline_in(10000), &st), -1);
	T_EQ(errno, ECHILD);

	sp.argv = a5;
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	/* A deadline already past still looks once. */
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOWAIT, NULL), 1);
	T_EQ(rp_spawn_wait_until(pid, 0, 0, &st), 1);
	T_EQ(st.code, 5);
}

static void
test_fd_mapping(void)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"echo out; echo err >&2; echo five >&5", NULL };
	struct rp_spawn_fd map[3];
	struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 3 };
	struct rp_spawn_status st;
	int o[2], e[2], f[2];
	char buf[64];
	pid_t pid;
	ssize_t n;

	T_EQ(pipe2(o, O_CLOEXEC), 0);
	T_EQ(pipe2(e, O_CLOEXEC), 0);
	T_EQ(pipe2(f, O_CLOEXEC), 0);
	map[0] = (struct rp_spawn_fd){ o[1], 1 };
	map[1] = (struct rp_spawn_fd){ e[1], 2 };
	map[2] = (struct rp_spawn_fd){ f[1], 5 };
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	close(o[1]);
	close(e[1]);
	close(f[1]);
	n = rp_io_read_full(o[0], buf, sizeof(buf), rp_deadline_in(10000));
	T_EQ(n, 4);
	T_MEM(buf, "out\n", 4);
	n = rp_io_read_full(e[0], buf, sizeof(buf), rp_deadline_in(10000));
	T_EQ(n, 4);
	T_MEM(buf, "err\n", 4);
	n = rp_io_read_full(f[0], buf, sizeof(buf), rp_deadline_in(10000));
	T_EQ(n, 5);
	T_MEM(buf, "five\n", 5);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.code, 0);
	/* The parent's fds are untouched (and still close-on-exec). */
	T_EQ(fcntl(o[0], F_GETFD), FD_CLOEXEC);
	close(o[0]);
	close(e[0]);
	close(f[0]);
}

/* {a->1, b->0} with a == 0 and b == 1: a one-phase dup2 would make both
 * the child's 0 and 1 the same pipe end. */
static void
test_fd_mapping_swapped(void)
{
	char *argv[] = { (char *)"cat", NULL };
	struct rp_spawn_fd map[2] = { { 0, 1 }, { 1, 0 } };
	struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 2 };
	struct rp_spawn_status st;
	int x[2], y[2], saved_out, saved_in;
	char buf[64];
	ssize_t n;
	pid_t pid;

	T_EQ(pipe2(x, O_CLOEXEC), 0);   /* the child writes, we read x[0] */
	T_EQ(pipe2(y, O_CLOEXEC), 0);   /* we write y[1], the child reads */
	saved_out = fcntl(1, F_DUPFD_CLOEXEC, 10);
	saved_in = fcntl(0, F_DUPFD_CLOEXEC, 10);
	T_OK(saved_out >= 0 && saved_in >= 0);
	/* Our fd 0 is where the child must write, our fd 1 where it reads. */
	T_EQ(dup2(x[1], 0), 0);
	T_EQ(dup2(y[0], 1), 1);
	pid = rp_spawn(&sp, NULL);
	dup2(saved_out, 1);
	dup2(saved_in, 0);
	T_OK(pid > 0);
	close(x[1]);
	close(y[0]);
	T_EQ(write(y[1], "swap\n", 5), 5);
	close(y[1]);
	n = rp_io_read_full(x[0], buf, sizeof(buf), rp_deadline_in(10000));
	T_EQ(n, 5);
	T_MEM(buf, "swap\n", 5);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.code, 0);
	close(x[0]);
}

static void
test_fd_mapping_invalid(void)
{
	char *argv[] = { (char *)"true", NULL };
	struct rp_spawn_fd dup[2] = { { -1, 3 }, { -1, 3 } };
	struct rp_spawn_fd neg[1] = { { -1, -2 } };
	struct rp_spawn sp = { .argv = argv, .fds = dup, .nfds = 2 };
	char *noargv[] = { NULL };
	int ef = -1;

	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(errno, EINVAL);
	T_EQ(ef, 0);
	sp.fds = neg;
	sp.nfds = 1;
	errno = 0;
	T_EQ(rp_spawn(&sp, NULL), -1);
	T_EQ(errno, EINVAL);
	sp.nfds = 0;
	sp.argv = noargv;
	errno = 0;
	T_EQ(rp_spawn(&sp, NULL), -1);
	T_EQ(errno, EINVAL);
	/* A bad source fd is the child's setup failure, reported as such. */
	neg[0] = (struct rp_spawn_fd){ 999, 4 };
	sp.argv = argv;
	sp.fds = neg;
	sp.nfds = 1;
	ef = -1;
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 0);
	T_EQ(errno, EBADF);
	T_EQ(waitpid(-1, NULL, WNOHANG), -1);
}

/* Leaked fds of every kind (not close-on-exec, high numbers, a gap) are
 * gone in the child; only 0-2 and the mapped ones remain. */
static void
test_other_fds_closed(void)
{
	int a, b, p[2];

	a = open("/dev/null", O_RDONLY);        /* no CLOEXEC: would leak */
	T_OK(a >= 0);
	b = dup2(a, 200);
	T_EQ(b, 200);
	T_EQ(pipe(p), 0);
	T_STR(run_helper("fds", NULL, 0, NULL, NULL), "0 1 2\n");
	T_STR(run_helper("fds", NULL, RP_SPAWN_KEEP_STD, NULL, NULL),
	    "0 1 2\n");
	close(a);
	close(b);
	close(p[0]);
	close(p[1]);
}

static void
test_mapped_high_fd_kept(void)
{
	char *argv[] = { (char *)"test_spawn", (char *)"fds", NULL };
	int o[2], leak;
	struct rp_spawn_fd map[2];
	struct rp_spawn sp = { .file = SELF, .argv = argv, .fds = map,
		.nfds = 2 };
	char buf[256];
	ssize_t n;
	pid_t pid;

	leak = dup2(2, 40);
	T_EQ(leak, 40);
	T_EQ(pipe2(o, O_CLOEXEC), 0);
	map[0] = (struct rp_spawn_fd){ o[1], 1 };
	map[1] = (struct rp_spawn_fd){ -1, 77 };
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	close(o[1]);
	n = rp_io_read_full(o[0], buf, sizeof(buf) - 1, rp_deadline_in(10000));
	T_OK(n > 0);
	buf[n < 0 ? 0 : n] = '\0';
	T_STR(buf, "0 1 2 77\n");
	T_EQ(rp_spawn_wait(pid, 0, NULL), 1);
	close(o[0]);
	close(leak);
}

/* The fallback of the close step, run here directly. */
static void
test_close_scan(void)
{
	int keep[] = { 0, 1, 2, 7 };
	int fds[64], n, x;

	T_EQ(dup2(2, 5), 5);
	T_EQ(dup2(2, 7), 7);
	T_EQ(dup2(2, 90), 90);
	x = open("/dev/null", O_RDONLY);
	T_OK(x >= 0);
	T_EQ(rp_spawn_close_scan(keep, 4), 0);
	n = list_fds(fds, 64);
	T_EQ(n, 4);
	T_EQ(fds[0], 0);
	T_EQ(fds[1], 1);
	T_EQ(fds[2], 2);
	T_EQ(fds[3], 7);
	T_EQ(fcntl(90, F_GETFD), -1);
}

static void
test_std_fds_default_devnull(void)
{
	const char *s;

	/* Without KEEP_STD an unmapped fd 2 is /dev/null... */
	s = run_helper("link", "2", 0, NULL, NULL);
	T_STR(s, "/dev/null\n");
	/* ...with it, ours (a pipe from the test harness or a tty, but
	 * never /dev/null unless ours is). */
	T_EQ(dup2(open("/dev/zero", O_RDONLY | O_CLOEXEC), 2), 2);
	s = run_helper("link", "2", RP_SPAWN_KEEP_STD, NULL, NULL);
	T_STR(s, "/dev/zero\n");
}

static void
handler(int sig)
{
	(void)sig;
}

static void
test_signals_reset(void)
{
	struct sigaction sa = { 0 };
	sigset_t set;
	const char *s;

	sa.sa_handler = SIG_IGN;
	T_EQ(sigaction(SIGUSR2, &sa, NULL), 0);   /* survives exec */
	T_EQ(sigaction(SIGINT, &sa, NULL), 0);
	sa.sa_handler = handler;
	T_EQ(sigaction(SIGTERM, &sa, NULL), 0);
	sigemptyset(&set);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGCHLD);
	T_EQ(sigprocmask(SIG_BLOCK, &set, NULL), 0);
#if defined(SYS_rt_sigaction) && !defined(__mips__)
	{
		/* glibc's own signals 32 and 33, ignored the way GNU make
		 * leaves them (sigaction() refuses them: the system call). */
		unsigned long ksa[8] = { (unsigned long)SIG_IGN };

		T_EQ(syscall(SYS_rt_sigaction, 32, ksa, NULL,
		    (size_t)((NSIG - 1) / 8)), 0);
		T_EQ(syscall(SYS_rt_sigaction, 33, ksa, NULL,
		    (size_t)((NSIG - 1) / 8)), 0);
	}
#endif
	s = run_helper("sig", NULL, 0, NULL, NULL);
	T_STR(s, "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000000\n");
	/* And our own mask is as it was. */
	T_EQ(sigprocmask(SIG_BLOCK, NULL, &set), 0);
	T_EQ(sigismember(&set, SIGUSR1), 1);
	T_EQ(sigismember(&set, SIGTERM), 0);
}

static void
test_session_and_group(void)
{
	T_STR(run_helper("ids", NULL, 0, NULL, NULL), "sid=0 pgid=0\n");
	T_STR(run_helper("ids", NULL, RP_SPAWN_SETPGID, NULL, NULL),
	    "sid=0 pgid=1\n");
	T_STR(run_helper("ids", NULL, RP_SPAWN_SETSID, NULL, NULL),
	    "sid=1 pgid=1\n");
}

static void
test_controlling_tty(void)
{
	char *argv[] = { (char *)"test_spawn", (char *)"ctty", NULL };
	struct rp_spawn_fd map[3];
	struct rp_spawn sp = { .file = SELF, .argv = argv, .fds = map,
		.nfds = 3 };
	char buf[128];
	int m, s, o[2], ef;
	ssize_t n;
	pid_t pid;

	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	T_OK(m >= 0);
	T_EQ(grantpt(m), 0);
	T_EQ(unlockpt(m), 0);
	s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
	T_OK(s >= 0);
	T_EQ(pipe2(o, O_CLOEXEC), 0);
	map[0] = (struct rp_spawn_fd){ s, 0 };
	map[1] = (struct rp_spawn_fd){ o[1], 1 };
	map[2] = (struct rp_spawn_fd){ s, 2 };

	sp.flags = RP_SPAWN_SETSID | RP_SPAWN_CTTY;
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	close(o[1]);
	n = rp_io_read_full(o[0], buf, sizeof(buf) - 1, rp_deadline_in(10000));
	buf[n < 0 ? 0 : n] = '\0';
	T_STR(buf, "ctty=1 leader=1\n");
	T_EQ(rp_spawn_wait(pid, 0, NULL), 1);
	close(o[0]);

	/* Without CTTY the session has no terminal. */
	T_EQ(pipe2(o, O_CLOEXEC), 0);
	map[1].parent_fd = o[1];
	sp.flags = RP_SPAWN_SETSID;
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	close(o[1]);
	n = rp_io_read_full(o[0], buf, sizeof(buf) - 1, rp_deadline_in(10000));
	buf[n < 0 ? 0 : n] = '\0';
	T_STR(buf, "ctty=0 leader=0\n");
	T_EQ(rp_spawn_wait(pid, 0, NULL), 1);
	close(o[0]);

	/* TIOCSCTTY on something that is not a terminal fails in the
	 * child, and that is reported as a setup failure. */
	map[0].parent_fd = -1;
	sp.flags = RP_SPAWN_SETSID | RP_SPAWN_CTTY;
	ef = -1;
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 0);
	T_EQ(errno, ENOTTY);
	close(s);
	close(m);
}

static void
test_envp(void)
{
	char *envp[] = { (char *)"RP_T=xyz", (char *)"OTHER=1", NULL };

	T_STR(run_helper("env", "RP_T", 0, envp, NULL), "xyz n=2\n");
	/* NULL: our own environment. */
	T_EQ(setenv("RP_T", "ours", 1), 0);
	T_OK(strncmp(run_helper("env", "RP_T", 0, NULL, NULL), "ours n=",
	    7) == 0);
}

static void
test_cwd(void)
{
	char want[PATH_MAX + 2];
	char *argv[] = { (char *)"true", NULL };
	struct rp_spawn sp = { .argv = argv, .cwd = "/nonexistent/dir" };
	char real[PATH_MAX];
	int ef = -1;

	T_OK(realpath(t_tmpdir(), real) != NULL);
	snprintf(want, sizeof(want), "%s\n", real);
	T_STR(run_helper("cwd", NULL, 0, NULL, t_tmpdir()), want);
	errno = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 0);
	T_EQ(errno, ENOENT);
	T_EQ(waitpid(-1, NULL, WNOHANG), -1);
}

static void
test_signame(void)
{
	char buf[16];

	T_STR(rp_spawn_signame(SIGKILL, buf), "SIGKILL");
	T_STR(rp_spawn_signame(SIGSEGV, buf), "SIGSEGV");
	T_STR(rp_spawn_signame(SIGTERM, buf), "SIGTERM");
	T_STR(rp_spawn_signame(0, buf), "SIG0");
	T_STR(rp_spawn_signame(1000, buf), "SIG1000");
}

/* A child that leaves a grandchild behind: with a subreaper the orphan is
 * ours, found, killed and reaped. */
static void
test_subreaper_kill_all(void)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"sleep 300 & echo $!; exec sleep 300", NULL };
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 1,
		.flags = RP_SPAWN_SETSID };
	struct rp_spawn_status st;
	char buf[64];
	int o[2];
	ssize_t n;
	long orphan;
	pid_t pid;

	T_EQ(rp_spawn_subreaper(), 0);
	T_EQ(pipe2(o, O_CLOEXEC), 0);
	map[0] = (struct rp_spawn_fd){ o[1], 1 };
	pid = rp_spawn(&sp, NULL);
	T_OK(pid > 0);
	close(o[1]);
	n = 0;
	while (n < (ssize_t)sizeof(buf) - 1) {
		ssize_t r = read(o[0], buf + n, 1);

		if (r <= 0 || buf[n] == '\n')
			break;
		n++;
	}
	buf[n] = '\0';
	orphan = strtol(buf, NULL, 10);
	T_OK(orphan > 1);
	/* Kill the child only: its background sleep is orphaned to us. */
	T_EQ(rp_spawn_kill(pid, SIGKILL, 0), 0);
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOWAIT, &st), 1);
	T_EQ(rp_spawn_reap_others(pid, &st), 1);
	T_EQ(st.signo, SIGKILL);
	T_EQ(rp_spawn_wait(pid, 0, NULL), 1);
	/* The orphan is still alive, and now our child. */
	T_EQ(kill((pid_t)orphan, 0), 0);
	T_EQ(rp_spawn_reap_others(pid, NULL), -1);   /* pid is gone */
	T_OK(rp_spawn_kill_children(0) >= 1);
	T_EQ(rp_spawn_kill_all(), 1);
	T_EQ(kill((pid_t)orphan, 0), -1);
	T_EQ(errno, ESRCH);
	T_EQ(waitpid(-1, NULL, WNOHANG), -1);
	T_EQ(errno, ECHILD);
	close(o[0]);
}

static void
test_reap_others(void)
{
	char *quick[] = { (char *)"true", NULL };
	char *slow[] = { (char *)"sleep", (char *)"300", NULL };
	struct rp_spawn sp = { .argv = quick };
	struct rp_spawn_status st;
	pid_t q, s;

	s = (sp.argv = slow, rp_spawn(&sp, NULL));
	T_OK(s > 0);
	sp.argv = quick;
	q = rp_spawn(&sp, NULL);
	T_OK(q > 0);
	/* Wait for q to end without reaping it, then let reap_others take
	 * it while keeping s. */
	T_EQ(rp_spawn_wait(q, RP_SPAWN_WAIT_NOWAIT, NULL), 1);
	T_EQ(rp_spawn_reap_others(s, &st), 0);
	T_EQ(waitpid(q, NULL, WNOHANG), -1);
	T_EQ(errno, ECHILD);
	T_EQ(rp_spawn_kill(s, SIGTERM, 0), 0);
	T_EQ(rp_spawn_wait(s, RP_SPAWN_WAIT_NOWAIT, NULL), 1);
	T_EQ(rp_spawn_reap_others(s, &st), 1);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_kill_all(), 1);
}

static void
test_reap_any(void)
{
	char *quick[] = { (char *)"sh", (char *)"-c", (char *)"exit 7", NULL };
	char *slow[] = { (char *)"sleep", (char *)"300", NULL };
	struct rp_spawn sp = { .argv = quick };
	struct rp_spawn_status st;
	pid_t q, r, s;

	/* No child at all: nothing to reap, not an error. */
	T_EQ(rp_spawn_reap_any(&st), 0);
	s = (sp.argv = slow, rp_spawn(&sp, NULL));
	T_OK(s > 0);
	/* One that runs: nothing has ended. */
	T_EQ(rp_spawn_reap_any(&st), 0);
	sp.argv = quick;
	q = rp_spawn(&sp, NULL);
	T_OK(q > 0);
	T_EQ(rp_spawn_wait(q, RP_SPAWN_WAIT_NOWAIT, NULL), 1);
	memset(&st, 0, sizeof(st));
	T_EQ(rp_spawn_reap_any(&st), q);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 7);
	T_EQ(waitpid(q, NULL, WNOHANG), -1);
	T_EQ(errno, ECHILD);
	T_EQ(rp_spawn_reap_any(NULL), 0);
	T_EQ(rp_spawn_kill(s, SIGTERM, 0), 0);
	T_EQ(rp_spawn_wait(s, RP_SPAWN_WAIT_NOWAIT, NULL), 1);
	r = rp_spawn_reap_any(&st);
	T_EQ(r, s);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_reap_any(&st), 0);
}

/* Stops and continues are reported once each with WAIT_STOPS, and leave
 * the end alone; without it, only ends, NOWAIT leaving a zombie. */
static void
test_wait_any_stops(void)
{
	char *slow[] = { (char *)"sleep", (char *)"300", NULL };
	struct rp_spawn sp = { .argv = slow };
	struct rp_spawn_status st;
	pid_t s;

	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_NOHANG, &st), 0);
	s = rp_spawn(&sp, NULL);
	T_OK(s > 0);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS | RP_SPAWN_WAIT_NOHANG,
	    &st), 0);
	T_EQ(kill(s, SIGSTOP), 0);
	memset(&st, 0xff, sizeof(st));
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS, &st), s);
	T_EQ(st.event, RP_SPAWN_STOPPED);
	T_EQ(st.signo, SIGSTOP);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS | RP_SPAWN_WAIT_NOHANG,
	    &st), 0);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_NOHANG, &st), 0);
	T_EQ(kill(s, SIGCONT), 0);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS, &st), s);
	T_EQ(st.event, RP_SPAWN_CONTINUED);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS | RP_SPAWN_WAIT_NOHANG,
	    &st), 0);
	T_EQ(kill(s, SIGTERM), 0);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_NOWAIT, &st), s);
	T_EQ(st.event, RP_SPAWN_ENDED);
	T_EQ(st.signo, SIGTERM);
	T_EQ(kill(s, 0), 0);              /* a zombie still */
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_STOPS | RP_SPAWN_WAIT_NOHANG,
	    &st), 0);
	T_EQ(rp_spawn_wait_any(0, &st), s);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_wait_any(RP_SPAWN_WAIT_NOHANG, NULL), 0);
}

/* A child started with PDEATHSIG dies of SIGKILL when its parent is
 * killed; without it, it runs on.  The middle process here is killed; we
 * are a subreaper, so its orphan comes to us to be waited for. */
static pid_t
orphan_of_killed_parent(unsigned flags)
{
	char *slow[] = { (char *)"sleep", (char *)"300", NULL };
	struct rp_spawn sp = { .argv = slow, .flags = flags };
	int pfd[2];
	pid_t mid, pid = 0;

	if (pipe(pfd) != 0)
		return -1;
	mid = fork();
	if (mid == 0) {
		pid = rp_spawn(&sp, NULL);
		(void)!write(pfd[1], &pid, sizeof(pid));
		pause();
		_exit(0);
	}
	close(pfd[1]);
	if (mid < 0 || read(pfd[0], &pid, sizeof(pid)) != sizeof(pid))
		pid = -1;
	close(pfd[0]);
	if (mid > 0) {
		(void)kill(mid, SIGKILL);
		(void)waitpid(mid, NULL, 0);
	}
	return pid;
}

static void
test_pdeathsig(void)
{
	struct rp_spawn_status st;
	pid_t pid;

	T_EQ(rp_spawn_subreaper(), 0);
	pid = orphan_of_killed_parent(RP_SPAWN_PDEATHSIG);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait_until(pid, 0, rp_deadline_in(5000), &st), 1);
	T_EQ(st.signo, SIGKILL);
	pid = orphan_of_killed_parent(0);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait_until(pid, 0, rp_deadline_in(200), &st), 0);
	T_EQ(kill(pid, SIGKILL), 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
}

static void
test_die_of_signal(void)
{
	struct sigaction sa = { 0 };
	sigset_t set;
	int status;
	pid_t pid;

	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		/* Even ignored and blocked, it kills us. */
		sa.sa_handler = SIG_IGN;
		sigaction(SIGTERM, &sa, NULL);
		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigprocmask(SIG_BLOCK, &set, NULL);
		rp_spawn_die_of_signal(SIGTERM);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFSIGNALED(status));
	T_EQ(WTERMSIG(status), SIGTERM);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		rp_spawn_die_of_signal(SIGSEGV);
		_exit(0);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFSIGNALED(status));
	T_EQ(WTERMSIG(status), SIGSEGV);
	T_OK(!WCOREDUMP(status));
}

/*
 * A /dev/null mapping next to one whose target is the lowest free fd:
 * {pipe->1, pipe->3, /dev/null->0} with fd 3 free.  /dev/null opens on 3;
 * were it used from there, the mapping to 3 would replace it before it
 * reached 0.  Both the forked and the in-place paths must give 0 /dev/null.
 */
static void
test_devnull_beside_low_target(void)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"readlink /proc/self/fd/0", NULL };
	struct rp_spawn_fd map[3];
	struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 3 };
	struct rp_spawn_status st;
	int p[2], status, round;
	char buf[128];
	ssize_t n;
	pid_t pid;

	for (round = 0; round < 2; round++) {
		T_EQ(pipe2(p, O_CLOEXEC), 0);
		map[0] = (struct rp_spawn_fd){ p[1], 1 };
		map[1] = (struct rp_spawn_fd){ p[1], 3 };
		map[2] = (struct rp_spawn_fd){ -1, 0 };
		pid = fork();
		T_OK(pid >= 0);
		if (pid == 0) {
			close(3);
			if (round == 0) {
				pid = rp_spawn(&sp, NULL);
				_exit(pid > 0 && rp_spawn_wait(pid, 0, &st) == 1 ?
				    st.code : 99);
			}
			(void)rp_spawn_exec(&sp);
			_exit(98);
		}
		close(p[1]);
		n = rp_io_read_full(p[0], buf, sizeof(buf) - 1,
		    rp_deadline_in(10000));
		T_OK(n > 0);
		buf[n > 0 ? n : 0] = '\0';
		T_STR(buf, "/dev/null\n");
		T_EQ(waitpid(pid, &status, 0), pid);
		T_OK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		close(p[0]);
	}
}

/* Fork, and in the child set up odd signal state and become SELF verb arg
 * through rp_spawn_exec with stdout on a pipe (and fd 6 on `six` when >=
 * 0).  Returns what it printed. */
static const char *
exec_in_place(const char *verb, const char *arg, int six)
{
	static char out[4096];
	char *argv[] = { (char *)"test_spawn", (char *)verb, (char *)arg, NULL };
	struct rp_spawn_fd map[2];
	struct rp_spawn sp = { .file = SELF, .argv = argv, .fds = map };
	struct sigaction sa = { 0 };
	sigset_t set;
	int p[2], status;
	ssize_t n;
	pid_t pid;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		sa.sa_handler = SIG_IGN;
		sigaction(SIGPIPE, &sa, NULL);    /* as rp_init does */
		sigaction(SIGUSR2, &sa, NULL);    /* inherited: stays */
		sigemptyset(&set);
		sigaddset(&set, SIGUSR1);
		sigprocmask(SIG_BLOCK, &set, NULL);
		map[0] = (struct rp_spawn_fd){ p[1], 1 };
		map[1] = (struct rp_spawn_fd){ six, 6 };
		sp.nfds = six >= 0 ? 2 : 1;
		rp_spawn_exec(&sp);
		_exit(100 + errno % 100);
	}
	close(p[1]);
	n = rp_io_read_full(p[0], out, sizeof(out) - 1, rp_deadline_in(10000));
	out[n < 0 ? 0 : n] = '\0';
	close(p[0]);
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	return out;
}

/* The signals this process ignores, from /proc/self/status. */
static unsigned long long
own_ignored(void)
{
	char line[256];
	unsigned long long v = 0;
	FILE *f = fopen("/proc/self/status", "r");

	T_OK(f != NULL);
	while (f != NULL && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "SigIgn: %llx", &v) == 1)
			break;
	if (f != NULL)
		fclose(f);
	return v;
}

static void
test_exec_in_place(void)
{
	char *argv[] = { (char *)"no-such-program-here", NULL };
	struct rp_spawn sp = { .argv = argv };
	char want[128];
	const char *s;
	int sv[2], status;
	pid_t pid;

	/* The mask is cleared and SIGPIPE is back to default; an ignored
	 * SIGUSR2 is inherited as exec inherits it, and so is whatever we
	 * were started with ignored. */
	s = exec_in_place("sig", NULL, -1);
	snprintf(want, sizeof(want), "SigBlk:\t0000000000000000\n"
	    "SigIgn:\t%016llx\n", (own_ignored() |
	    1ull << (SIGUSR2 - 1)) & ~(1ull << (SIGPIPE - 1)));
	T_STR(s, want);
	/* fd 6 is placed, and survives the exec (no close-on-exec). */
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	s = exec_in_place("link", "6", sv[1]);
	T_OK(strncmp(s, "socket:[", 8) == 0);
	close(sv[0]);
	close(sv[1]);
	/* A failed exec comes back as -1 with exec's errno. */
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		errno = 0;
		_exit(rp_spawn_exec(&sp) == -1 && errno == ENOENT ? 0 : 1);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFEXITED(status));
	T_EQ(WEXITSTATUS(status), 0);
	errno = 0;
	T_EQ(rp_spawn_exec(NULL), -1);
	T_EQ(errno, EINVAL);
}

int
main(int argc, char **argv)
{
	if (argc > 1)
		return helper(argc, argv);
	T_RUN(test_exec_enoent);
	T_RUN(test_exec_eacces);
	T_RUN(test_find);
	T_RUN(test_exit_codes_and_signals);
	T_RUN(test_wait_until);
	T_RUN(test_fd_mapping);
	T_RUN(test_fd_mapping_swapped);
	T_RUN(test_fd_mapping_invalid);
	T_RUN(test_other_fds_closed);
	T_RUN(test_mapped_high_fd_kept);
	T_RUN(test_close_scan);
	T_RUN(test_std_fds_default_devnull);
	T_RUN(test_signals_reset);
	T_RUN(test_session_and_group);
	T_RUN(test_controlling_tty);
	T_RUN(test_envp);
	T_RUN(test_cwd);
	T_RUN(test_signame);
	T_RUN(test_subreaper_kill_all);
	T_RUN(test_reap_others);
	T_RUN(test_reap_any);
	T_RUN(test_wait_any_stops);
	T_RUN(test_pdeathsig);
	T_RUN(test_die_of_signal);
	T_RUN(test_exec_in_place);
	T_RUN(test_devnull_beside_low_target);
	return t_done();
}
