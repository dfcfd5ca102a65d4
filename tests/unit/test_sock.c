/*
 * Unit tests for sock: listening by the broker's rules (directory checks,
 * stale and live sockets, racing listeners, removal of only our own
 * file), connecting under a deadline, accept, peer credentials — with the
 * other uid played by 65534.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deadline.h"
#include "fs.h"
#include "io.h"
#include "sock.h"
#include "t.h"

#define NOBODY 65534
#define BROKER (RP_DIR_PRIVATE | RP_DIR_CREATE)

static char *
path(const char *name)
{
	static char p[8][512];
	static int k;
	char *r = p[k++ % 8];

	snprintf(r, 512, "%s/%s", t_tmpdir(), name);
	return r;
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return (mode_t)-1;
	return st.st_mode;
}

/* A socket bound at p by hand; listening when backlog >= 0.  Returns the
 * fd. */
static int
raw_bind(const char *p, int backlog)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	T_OK(fd >= 0);
	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	T_EQ(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	if (backlog >= 0)
		T_EQ(listen(fd, backlog), 0);
	return fd;
}

/* Connect to l, accept, exchange a byte each way.  Connections a failed
 * rp_sock_listen left by probing (empty, closed) are skipped. */
static void
roundtrip(const char *p, int lfd)
{
	int c, s = -1, tries;
	char b = 0;

	c = rp_sock_connect(p, 0, rp_deadline_in(5000));
	T_OK(c >= 0);
	T_EQ(write(c, "p", 1), 1);
	for (tries = 0; tries < 8; tries++) {
		T_OK(rp_io_wait(lfd, RP_IO_READ, rp_deadline_in(5000)) > 0);
		s = rp_sock_accept(lfd, 0);
		T_OK(s >= 0);
		if (rp_io_read_full(s, &b, 1, rp_deadline_in(5000)) == 1)
			break;
		close(s);
	}
	T_EQ(b, 'p');
	T_EQ(write(s, "q", 1), 1);
	T_EQ(rp_io_read_full(c, &b, 1, rp_deadline_in(5000)), 1);
	T_EQ(b, 'q');
	close(c);
	close(s);
}

static void
test_listen_happy(void)
{
	struct rp_sock_listener l;
	char why[256];
	const char *p = path("run/rp/broker/b.sock");
	struct stat st;

	/* umask 0 would make a plain bind 0777: the socket is 0600 anyway. */
	umask(0);
	T_EQ(rp_sock_listen(p, BROKER, 16, &l, why, sizeof(why)), 0);
	umask(022);
	T_OK(l.fd >= 0);
	T_OK(fcntl(l.fd, F_GETFD) & FD_CLOEXEC);
	T_OK(fcntl(l.fd, F_GETFL) & O_NONBLOCK);
	T_EQ(l.owns_path, 1);
	T_STR(l.path, p);
	T_EQ(mode_of(p), S_IFSOCK | 0600);
	T_EQ(mode_of(path("run")), S_IFDIR | 0700);
	T_EQ(mode_of(path("run/rp")), S_IFDIR | 0700);
	T_EQ(mode_of(path("run/rp/broker")), S_IFDIR | 0700);
	T_EQ(lstat(p, &st), 0);
	T_UEQ(l.dev, st.st_dev);
	T_UEQ(l.ino, st.st_ino);
	/* Nothing pending yet. */
	errno = 0;
	T_EQ(rp_sock_accept(l.fd, 1), -1);
	T_EQ(errno, EAGAIN);
	roundtrip(p, l.fd);
	rp_sock_unlisten(&l);
	T_EQ(l.fd, -1);
	T_EQ(mode_of(p), (mode_t)-1);
	/* The directory stays. */
	T_EQ(mode_of(path("run/rp/broker")), S_IFDIR | 0700);
}

static void
expect_listen_fails(const char *p, int policy, int err, const char *why_want)
{
	struct rp_sock_listener l;
	char why[256] = "";

	errno = 0;
	T_EQ(rp_sock_listen(p, policy, 16, &l, why, sizeof(why)), -1);
	T_EQ(errno, err);
	T_EQ(l.fd, -1);
	T_STR(why, why_want);
}

static void
test_listen_bad_dirs(void)
{
	char want[512];

	T_EQ(mkdir(path("open"), 0755), 0);
	snprintf(want, sizeof(want), "directory %s has mode 0755; "
	    "group/other permissions must be off", path("open"));
	expect_listen_fails(path("open/b.sock"), BROKER, EPERM, want);
	T_EQ(mode_of(path("open/b.sock")), (mode_t)-1);

	T_EQ(mkdir(path("real"), 0700), 0);
	T_EQ(symlink(path("real"), path("link")), 0);
	snprintf(want, sizeof(want), "directory %s is a symlink",
	    path("link"));
	expect_listen_fails(path("link/b.sock"), BROKER, ENOTDIR, want);
	T_EQ(mode_of(path("real/b.sock")), (mode_t)-1);

	T_EQ(mkdir(path("theirs"), 0700), 0);
	T_EQ(chown(path("theirs"), NOBODY, NOBODY), 0);
	snprintf(want, sizeof(want), "directory %s is owned by uid 65534, "
	    "not 0", path("theirs"));
	expect_listen_fails(path("theirs/b.sock"), BROKER, EPERM, want);
	T_EQ(mode_of(path("theirs/b.sock")), (mode_t)-1);

	snprintf(want, sizeof(want), "directory %s does not exist",
	    path("absent"));
	expect_listen_fails(path("absent/b.sock"), RP_DIR_PRIVATE, ENOENT,
	    want);
}

static void
test_listen_too_long(void)
{
	char p[300], want[128];
	size_t n;

	snprintf(p, sizeof(p), "%s/", path("deep"));
	n = strlen(p);
	while (n < 108)
		p[n++] = 'x';
	p[n] = '\0';
	snprintf(want, sizeof(want), "socket path is %zu bytes; at most 107 "
	    "fit sun_path", n);
	expect_listen_fails(p, BROKER, ENAMETOOLONG, want);
	/* Refused before anything was created. */
	T_EQ(mode_of(path("deep")), (mode_t)-1);
	errno = 0;
	T_EQ(rp_sock_connect(p, 0, rp_deadline_in(100)), -1);
	T_EQ(errno, ENAMETOOLONG);
	/* 107 bytes fit. */
	p[107] = '\0';
	T_EQ(rp_names_sun_path_fits(p), 0);
}

static void
test_listen_stale_and_live(void)
{
	struct rp_sock_listener l, l2;
	const char *p = path("d/b.sock");
	char why[256], want[512];
	struct stat st0;
	int fd;

	T_EQ(mkdir(path("d"), 0700), 0);
	/* A stale socket of ours (a crashed broker): replaced. */
	fd = raw_bind(p, 4);
	close(fd);
	T_EQ(lstat(p, &st0), 0);
	errno = 0;
	T_EQ(rp_sock_connect(p, 0, rp_deadline_in(1000)), -1);
	T_EQ(errno, ECONNREFUSED);
	T_EQ(rp_sock_listen(p, BROKER, 16, &l, why, sizeof(why)), 0);
	/* A live one: never stolen. */
	snprintf(want, sizeof(want), "another process is listening on %s", p);
	expect_listen_fails(p, BROKER, EADDRINUSE, want);
	T_EQ(lstat(p, &st0), 0);
	T_UEQ(st0.st_ino, l.ino);
	roundtrip(p, l.fd);
	rp_sock_unlisten(&l);

	/* Live with its backlog full still counts as live. */
	fd = raw_bind(p, 0);
	{
		int c[8], i, n = 0;

		for (i = 0; i < 8; i++) {
			c[i] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
			    SOCK_NONBLOCK, 0);
			struct sockaddr_un sun = { .sun_family = AF_UNIX };

			snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
			if (connect(c[i], (struct sockaddr *)&sun,
			    sizeof(sun)) < 0) {
				T_EQ(errno, EAGAIN);
				close(c[i]);
				c[i] = -1;
				break;
			}
			n++;
		}
		T_OK(n < 8);
		expect_listen_fails(p, BROKER, EADDRINUSE, want);
		for (i = 0; i < n; i++)
			close(c[i]);
	}
	close(fd);
	unlink(p);

	/* Something else at the path: not ours to remove. */
	fd = open(p, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	close(fd);
	snprintf(want, sizeof(want), "%s exists and is not a socket", p);
	expect_listen_fails(p, BROKER, EEXIST, want);
	T_OK(S_ISREG(mode_of(p)));
	unlink(p);

	/* A stale socket of another uid: not ours either. */
	fd = raw_bind(p, 4);
	close(fd);
	T_EQ(lchown(p, NOBODY, NOBODY), 0);
	snprintf(want, sizeof(want), "%s is a stale socket owned by uid 65534, "
	    "not 0", p);
	expect_listen_fails(p, BROKER, EEXIST, want);
	T_OK(S_ISSOCK(mode_of(p)));
	unlink(p);

	/* A directory at the path. */
	T_EQ(mkdir(p, 0700), 0);
	snprintf(want, sizeof(want), "%s exists and is not a socket", p);
	expect_listen_fails(p, BROKER, EEXIST, want);
	rmdir(p);

	/* No stray listener left behind by any of the failures. */
	T_EQ(rp_sock_listen(p, BROKER, 16, &l2, why, sizeof(why)), 0);
	rp_sock_unlisten(&l2);
}

/*
 * 16 processes race for one path.  Exactly one wins; the others see
 * EADDRINUSE; the winner's socket still answers afterwards.
 */
static void
race_child(const char *p, int go, int res, int done)
{
	struct rp_sock_listener l;
	char why[256], c, buf[4];
	int s;

	if (read(go, &c, 1) != 0)
		_exit(2);
	if (rp_sock_listen(p, BROKER, 64, &l, why, sizeof(why)) < 0) {
		c = errno == EADDRINUSE ? 'L' : 'E';
		_exit(write(res, &c, 1) == 1 ? 0 : 3);
	}
	c = 'W';
	if (write(res, &c, 1) != 1)
		_exit(3);
	/* Losers' probes arrive as empty connections; answer the ping. */
	for (;;) {
		if (rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(20000)) < 0)
			_exit(4);
		if ((s = rp_sock_accept(l.fd, 0)) < 0)
			continue;
		if (rp_io_read_full(s, buf, 4, rp_deadline_in(20000)) == 4 &&
		    memcmp(buf, "ping", 4) == 0) {
			if (write(s, "pong", 4) != 4)
				_exit(5);
			close(s);
			break;
		}
		close(s);
	}
	if (read(done, &c, 1) != 0)
		_exit(6);
	rp_sock_unlisten(&l);
	_exit(0);
}

static void
listen_race(int stale)
{
	enum { N = 16 };
	const char *p = path("race/broker/b.sock");
	int go[2], res[2], done[2], i, st, c, wins = 0, losses = 0;
	pid_t pid[N];
	char r[N], buf[4];

	/* With a stale socket in place every racer may find it dead; the
	 * directory lock is what keeps a late one from removing the
	 * winner's fresh socket and binding its own. */
	if (stale) {
		T_EQ(rp_fs_check_dir(path("race/broker"), BROKER, NULL, 0), 0);
		close(raw_bind(p, 1));
	}

	T_EQ(pipe2(go, O_CLOEXEC), 0);
	T_EQ(pipe2(res, O_CLOEXEC), 0);
	T_EQ(pipe2(done, O_CLOEXEC), 0);
	for (i = 0; i < N; i++) {
		pid[i] = fork();
		T_OK(pid[i] >= 0);
		if (pid[i] == 0) {
			close(go[1]);
			close(res[0]);
			close(done[1]);
			race_child(p, go[0], res[1], done[0]);
		}
	}
	close(go[0]);
	close(res[1]);
	close(done[0]);
	/* Closing the go pipe releases all of them at once. */
	close(go[1]);
	T_EQ(rp_io_read_full(res[0], r, N, rp_deadline_in(30000)), N);
	for (i = 0; i < N; i++) {
		wins += r[i] == 'W';
		losses += r[i] == 'L';
	}
	T_EQ(wins, 1);
	T_EQ(losses, N - 1);
	T_OK(S_ISSOCK(mode_of(p)));
	c = rp_sock_connect(p, 0, rp_deadline_in(10000));
	T_OK(c >= 0);
	T_EQ(write(c, "ping", 4), 4);
	T_EQ(rp_io_read_full(c, buf, 4, rp_deadline_in(10000)), 4);
	T_MEM(buf, "pong", 4);
	close(c);
	close(done[1]);
	for (i = 0; i < N; i++) {
		T_EQ(waitpid(pid[i], &st, 0), pid[i]);
		T_EQ(st, 0);
	}
	close(res[0]);
	/* The winner removed its socket on the way out. */
	T_EQ(mode_of(p), (mode_t)-1);
}

static void
test_listen_race(void)
{
	listen_race(0);
}

static void
test_listen_race_stale(void)
{
	int i;

	for (i = 0; i < 5; i++)
		listen_race(1);
}

static void
test_unlisten_only_ours(void)
{
	struct rp_sock_listener l;
	const char *p = path("u/b.sock");
	char why[256];
	struct stat st;
	int other;

	T_EQ(rp_sock_listen(p, BROKER, 16, &l, why, sizeof(why)), 0);
	/* Someone removed our file and bound another socket there. */
	T_EQ(unlink(p), 0);
	other = raw_bind(p, 4);
	T_EQ(lstat(p, &st), 0);
	rp_sock_unlisten(&l);
	T_EQ(l.fd, -1);
	T_OK(S_ISSOCK(mode_of(p)));
	{
		struct stat st2;

		T_EQ(lstat(p, &st2), 0);
		T_UEQ(st2.st_ino, st.st_ino);
	}
	roundtrip(p, other);
	close(other);
	unlink(p);
	/* Unlisten of an already closed listener is harmless. */
	rp_sock_unlisten(&l);
}

static void
test_listen_fd(void)
{
	struct rp_sock_listener l;
	const char *p = path("act.sock");
	int fd, sv[2], dg, tcp;
	struct sockaddr_in sin = { .sin_family = AF_INET };

	/* An inherited (socket-activation) fd: blocking, no CLOEXEC. */
	fd = raw_bind(p, 8);
	T_EQ(rp_fd_set_cloexec(fd, 0), 0);
	T_EQ(rp_sock_listen_fd(fd, &l), 0);
	T_EQ(l.fd, fd);
	T_EQ(l.owns_path, 0);
	T_STR(l.path, p);
	T_OK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	T_OK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	roundtrip(p, fd);
	rp_sock_unlisten(&l);
	/* Not ours: the file stays. */
	T_OK(S_ISSOCK(mode_of(p)));
	T_EQ(fcntl(fd, F_GETFD), -1);

	T_EQ(rp_sock_pair(sv, 0), 0);
	errno = 0;
	T_EQ(rp_sock_listen_fd(sv[0], &l), -1);
	T_EQ(errno, ENOTSOCK);
	close(sv[0]);
	close(sv[1]);
	T_EQ(pipe2(sv, O_CLOEXEC), 0);
	errno = 0;
	T_EQ(rp_sock_listen_fd(sv[0], &l), -1);
	T_EQ(errno, ENOTSOCK);
	close(sv[0]);
	close(sv[1]);
	dg = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	errno = 0;
	T_EQ(rp_sock_listen_fd(dg, &l), -1);
	T_EQ(errno, ENOTSOCK);
	close(dg);
	/* A listening socket, but not a Unix one. */
	tcp = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_OK(tcp >= 0);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	T_EQ(bind(tcp, (struct sockaddr *)&sin, sizeof(sin)), 0);
	T_EQ(listen(tcp, 1), 0);
	errno = 0;
	T_EQ(rp_sock_listen_fd(tcp, &l), -1);
	T_EQ(errno, ENOTSOCK);
	close(tcp);
}

static void
test_connect_errors(void)
{
	const char *p = path("c.sock");
	int fd, c;

	errno = 0;
	T_EQ(rp_sock_connect(path("nothing.sock"), 0, rp_deadline_in(1000)),
	    -1);
	T_EQ(errno, ENOENT);
	fd = raw_bind(p, -1);     /* bound, never listening */
	errno = 0;
	T_EQ(rp_sock_connect(p, 0, rp_deadline_in(1000)), -1);
	T_EQ(errno, ECONNREFUSED);
	close(fd);
	errno = 0;
	T_EQ(rp_sock_connect(p, 1, rp_deadline_in(1000)), -1);
	T_EQ(errno, ECONNREFUSED);
	unlink(p);
	errno = 0;
	T_EQ(rp_sock_connect("", 0, rp_deadline_in(1000)), -1);
	T_EQ(errno, ENOENT);
	/* Connected fds: CLOEXEC, blocking or not as asked. */
	fd = raw_bind(p, 8);
	c = rp_sock_connect(p, 1, rp_deadline_in(1000));
	T_OK(c >= 0);
	T_OK(fcntl(c, F_GETFD) & FD_CLOEXEC);
	T_OK(fcntl(c, F_GETFL) & O_NONBLOCK);
	close(c);
	c = rp_sock_connect(p, 0, rp_deadline_in(1000));
	T_OK(c >= 0);
	T_OK(!(fcntl(c, F_GETFL) & O_NONBLOCK));
	close(c);
	close(fd);
}

/* Fill a backlog-0 listener; return how many connections queued. */
static int
fill_backlog(const char *p, int *c, int max)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int n = 0;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", p);
	while (n < max) {
		c[n] = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		if (connect(c[n], (struct sockaddr *)&sun, sizeof(sun)) < 0) {
			T_EQ(errno, EAGAIN);
			close(c[n]);
			break;
		}
		n++;
	}
	T_OK(n < max);
	return n;
}

static void
test_connect_full_backlog(void)
{
	const char *p = path("full.sock");
	int lfd, c[16], n, i, fd, go[2], st;
	int64_t t0;
	pid_t pid;
	char b;

	lfd = raw_bind(p, 0);
	n = fill_backlog(p, c, 16);
	t0 = rp_now_ms();
	errno = 0;
	T_EQ(rp_sock_connect(p, 0, t0 + 100), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 100);
	T_OK(rp_now_ms() - t0 < 5000);
	/* A deadline already passed: one try, then ETIMEDOUT. */
	errno = 0;
	T_EQ(rp_sock_connect(p, 0, t0), -1);
	T_EQ(errno, ETIMEDOUT);

	/* Room appears while we wait: the connect goes through. */
	T_EQ(pipe2(go, O_CLOEXEC), 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &b, 1) != 1)
			_exit(1);
		_exit(accept(lfd, NULL, NULL) >= 0 ? 0 : 2);
	}
	close(go[0]);
	T_EQ(write(go[1], "g", 1), 1);
	fd = rp_sock_connect(p, 0, rp_deadline_in(10000));
	T_OK(fd >= 0);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	close(fd);
	close(go[1]);
	for (i = 0; i < n; i++)
		close(c[i]);
	close(lfd);
}

static void
test_peercred_self(void)
{
	struct rp_peercred pc;
	struct rp_sock_listener l;
	char why[256];
	int sv[2], c, s;

	T_EQ(rp_sock_pair(sv, 1), 0);
	T_OK(fcntl(sv[0], F_GETFD) & FD_CLOEXEC);
	T_OK(fcntl(sv[1], F_GETFL) & O_NONBLOCK);
	T_EQ(rp_sock_peercred(sv[0], &pc), 0);
	T_UEQ(pc.pid, (uint32_t)getpid());
	T_UEQ(pc.uid, 0);
	T_UEQ(pc.gid, 0);
	close(sv[0]);
	close(sv[1]);

	T_EQ(rp_sock_listen(path("pc/b.sock"), BROKER, 4, &l, why,
	    sizeof(why)), 0);
	c = rp_sock_connect(path("pc/b.sock"), 0, rp_deadline_in(1000));
	T_OK(c >= 0);
	T_OK(rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(5000)) > 0);
	s = rp_sock_accept(l.fd, 1);
	T_OK(s >= 0);
	T_OK(fcntl(s, F_GETFD) & FD_CLOEXEC);
	T_OK(fcntl(s, F_GETFL) & O_NONBLOCK);
	T_EQ(rp_sock_peercred(s, &pc), 0);
	T_UEQ(pc.pid, (uint32_t)getpid());
	T_UEQ(pc.uid, geteuid());
	close(c);
	close(s);
	rp_sock_unlisten(&l);
	errno = 0;
	T_EQ(rp_sock_peercred(-1, &pc), -1);
	T_EQ(errno, EBADF);
}

/* Child: become 65534, connect to p, report errno as the exit status or
 * wait for the parent to hang up. */
static pid_t
nobody_connects(const char *p)
{
	pid_t pid = fork();
	int c;
	char b;

	if (pid != 0)
		return pid;
	if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0 ||
	    setresuid(NOBODY, NOBODY, NOBODY) < 0)
		_exit(99);
	c = rp_sock_connect(p, 0, rp_deadline_in(10000));
	if (c < 0)
		_exit(errno == EACCES ? 13 : 98);
	if (read(c, &b, 1) != 0)
		_exit(97);
	_exit(0);
}

static void
test_peercred_other_uid(void)
{
	struct rp_sock_listener l;
	struct rp_peercred pc;
	const char *p = path("pub/b.sock");
	char why[256];
	int st, s;
	pid_t pid;

	T_EQ(chmod(t_tmpdir(), 0711), 0);
	T_EQ(mkdir(path("pub"), 0700), 0);
	T_EQ(chmod(path("pub"), 01777), 0);
	T_EQ(rp_sock_listen(p, RP_DIR_SAFE, 4, &l, why, sizeof(why)), 0);
	/* 0600: another uid cannot even connect. */
	pid = nobody_connects(p);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_OK(WIFEXITED(st));
	T_EQ(WEXITSTATUS(st), 13);
	errno = 0;
	T_EQ(rp_sock_accept(l.fd, 0), -1);
	T_EQ(errno, EAGAIN);
	/* Opened up, the kernel tells us who it is. */
	T_EQ(chmod(p, 0666), 0);
	pid = nobody_connects(p);
	T_OK(rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(10000)) > 0);
	s = rp_sock_accept(l.fd, 0);
	T_OK(s >= 0);
	T_EQ(rp_sock_peercred(s, &pc), 0);
	T_UEQ(pc.pid, (uint32_t)pid);
	T_UEQ(pc.uid, NOBODY);
	T_UEQ(pc.gid, NOBODY);
	close(s);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	rp_sock_unlisten(&l);
}

/* Does process pid hold an inotify watch (a line "inotify wd:" in the
 * fdinfo of one of its fds)? */
static int
has_watch(pid_t pid)
{
	char d[64], f[384], line[256];
	DIR *dp;
	struct dirent *de;
	FILE *fp;
	int found = 0;

	snprintf(d, sizeof(d), "/proc/%d/fdinfo", (int)pid);
	if ((dp = opendir(d)) == NULL)
		return 0;
	while (!found && (de = readdir(dp)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(f, sizeof(f), "%s/%s", d, de->d_name);
		if ((fp = fopen(f, "r")) == NULL)
			continue;
		while (!found && fgets(line, sizeof(line), fp) != NULL)
			found = strncmp(line, "inotify wd:", 11) == 0;
		fclose(fp);
	}
	closedir(dp);
	return found;
}

/* Child: once the parent is waiting on a watch (up to 10 s, looking every
 * millisecond), run make(arg), then accept one connection and echo a
 * byte back.  Exits 0, or the step that failed. */
static pid_t
comes_up_later(void (*make)(const char *), const char *arg, int *lfd)
{
	struct timespec ms = { 0, 1000000 };
	pid_t parent = getpid(), pid;
	int i, c;
	char b;

	pid = fork();
	if (pid != 0)
		return pid;
	for (i = 0; i < 10000 && !has_watch(parent); i++)
		nanosleep(&ms, NULL);
	if (i == 10000)
		_exit(90);
	make(arg);
	if (*lfd < 0)
		_exit(91);
	c = accept(*lfd, NULL, NULL);
	if (c < 0 || read(c, &b, 1) != 1 || write(c, &b, 1) != 1)
		_exit(92);
	_exit(0);
}

static int later_fd = -1;

/* The directories of the path, then a listening socket. */
static void
make_tree_and_listen(const char *p)
{
	char d[512];

	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	*strrchr(d, '/') = '\0';
	if (mkdir(d, 0700) != 0)
		_exit(93);
	snprintf(d, sizeof(d), "%s", p);
	*strrchr(d, '/') = '\0';
	if (mkdir(d, 0700) != 0)
		_exit(94);
	later_fd = raw_bind(p, 8);
}

/* The socket was bound already: now it listens. */
static void
start_listening(const char *p)
{
	(void)p;
	if (listen(later_fd, 8) != 0)
		_exit(95);
}

static int
fd_count(void)
{
	DIR *dp = opendir("/proc/self/fd");
	int n = 0;

	while (dp != NULL && readdir(dp) != NULL)
		n++;
	if (dp != NULL)
		closedir(dp);
	return n;
}

/* CPU time this process has used, in milliseconds. */
static long
cpu_ms(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec * 1000 + ru.ru_utime.tv_usec / 1000 +
	    ru.ru_stime.tv_sec * 1000 + ru.ru_stime.tv_usec / 1000;
}

static void
echo_through(int c)
{
	char b = 'w';

	T_EQ(write(c, &b, 1), 1);
	b = 0;
	T_EQ(rp_io_read_full(c, &b, 1, rp_deadline_in(5000)), 1);
	T_EQ(b, 'w');
}

static void
test_connect_wait_for_a_tree(void)
{
	const char *p = path("a/b/w.sock");
	int c, st, n0 = fd_count();
	long cpu0 = cpu_ms();
	pid_t pid;

	/* Nothing of a/b/ yet: the watch is on the test's directory, then
	 * on each directory as it appears, then the socket is dialled. */
	pid = comes_up_later(make_tree_and_listen, p, &later_fd);
	c = rp_sock_connect_wait(p, 0, rp_deadline_in(10000));
	T_OK(c >= 0);
	T_OK(fcntl(c, F_GETFD) & FD_CLOEXEC);
	echo_through(c);
	close(c);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	T_EQ(fd_count(), n0);           /* the inotify fd is gone too */
	T_OK(cpu_ms() - cpu0 < 200);
}

static void
test_connect_wait_for_listen(void)
{
	const char *p = path("l.sock");
	int c, st;
	pid_t pid;

	/* Bound, not listening: refused until it listens. */
	later_fd = raw_bind(p, -1);
	pid = comes_up_later(start_listening, p, &later_fd);
	c = rp_sock_connect_wait(p, 1, rp_deadline_in(10000));
	T_OK(c >= 0);
	T_OK(fcntl(c, F_GETFL) & O_NONBLOCK);
	T_EQ(rp_fd_set_nonblock(c, 0), 0);
	echo_through(c);
	close(c);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	close(later_fd);
}

static void
test_connect_wait_deadline(void)
{
	const char *p = path("never/n.sock"), *r = path("r.sock");
	int64_t t0;
	long cpu0;
	int n0 = fd_count(), fd;

	/* Nothing comes: ETIMEDOUT at the deadline, without spinning. */
	t0 = rp_now_ms();
	cpu0 = cpu_ms();
	errno = 0;
	T_EQ(rp_sock_connect_wait(p, 0, rp_deadline_in(300)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 300);
	T_OK(rp_now_ms() - t0 < 3000);
	T_OK(cpu_ms() - cpu0 < 50);
	/* A socket that keeps refusing: retried, not spun on. */
	fd = raw_bind(r, -1);
	t0 = rp_now_ms();
	cpu0 = cpu_ms();
	errno = 0;
	T_EQ(rp_sock_connect_wait(r, 0, rp_deadline_in(500)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 500);
	T_OK(cpu_ms() - cpu0 < 50);
	close(fd);
	/* What waiting cannot mend is said at once. */
	t0 = rp_now_ms();
	errno = 0;
	T_EQ(rp_sock_connect_wait("/x/../../../../../../../../../../../../"
	    "../../../../../../../../../../../../../../../../../../../../../"
	    "../../../../../../too-long.sock", 0, rp_deadline_in(5000)), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_OK(rp_now_ms() - t0 < 1000);
	T_EQ(fd_count(), n0);
}

/* A socket bound and not yet listening is refused a connect as a stale
 * file is; /proc/net/unix tells them apart. */
static void
test_path_bound(void)
{
	struct sockaddr_un sa;
	char path[512];
	int fd, c;

	snprintf(path, sizeof(path), "%s/b.sock", t_tmpdir());
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	T_EQ(rp_sock_path_bound(path), 0);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	T_OK(fd >= 0);
	T_EQ(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* bound, not listening: refused, yet bound */
	c = rp_sock_connect(path, 0, rp_deadline_in(1000));
	T_EQ(c, -1);
	T_EQ(errno, ECONNREFUSED);
	T_EQ(rp_sock_path_bound(path), 1);
	T_EQ(listen(fd, 1), 0);
	T_EQ(rp_sock_path_bound(path), 1);
	/* closed: the file stays, nobody has it */
	close(fd);
	T_OK(access(path, F_OK) == 0);
	T_EQ(rp_sock_path_bound(path), 0);
	/* a name that only ends like it is not it */
	snprintf(path, sizeof(path), "%s/xb.sock", t_tmpdir());
	T_EQ(rp_sock_path_bound(path), 0);
}

/* The broker's portable names and rules for peers and backends. */
static void
test_broker_helpers(void)
{
	static const uint8_t rnd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	struct rp_peercred pc = { 0 };
	uint32_t allow[1] = { 4242 };
	char out[128];
	int sv[2];
	char c;

	pc.uid = (uint32_t)geteuid();
	T_EQ(rp_peercred_allowed(&pc, NULL, 0), 1);
	pc.uid = 4242;
	T_EQ(rp_peercred_allowed(&pc, NULL, 0), (uint32_t)geteuid() == 4242);
	T_EQ(rp_peercred_allowed(&pc, allow, 1), 1);
	T_EQ(rp_sock_backend_endpoint(out, sizeof(out), "/run/d",
	    "0123456789abcdef", rnd, 0), (int)strlen(out));
	T_STR(out, "/run/d/rpb-v1-0123456789abcdef-be-"
	    "000102030405060708090a0b0c0d0e0f.sock");
	T_OK(rp_sock_backend_endpoint(out, sizeof(out), "/run/d",
	    "0123456789abcdef", rnd, 1) > 0);
	T_STR(out, "/run/d/rpb-v1-0123456789abcdef-ho-"
	    "000102030405060708090a0b0c0d0e0f.sock");
	T_EQ(rp_sock_namespace(out, sizeof(out)), 0);
	T_STR(out, "");
	T_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(rp_sock_shutdown_write(sv[0]), 0);
	T_EQ(read(sv[1], &c, 1), 0);          /* the end of stream */
	T_EQ(write(sv[1], "y", 1), 1);        /* the other way still works */
	T_EQ(read(sv[0], &c, 1), 1);
	close(sv[0]);
	close(sv[1]);
}

int
main(void)
{
	signal(SIGPIPE, SIG_IGN);
	T_RUN(test_listen_happy);
	T_RUN(test_broker_helpers);
	T_RUN(test_listen_bad_dirs);
	T_RUN(test_listen_too_long);
	T_RUN(test_listen_stale_and_live);
	T_RUN(test_listen_race);
	T_RUN(test_listen_race_stale);
	T_RUN(test_unlisten_only_ours);
	T_RUN(test_listen_fd);
	T_RUN(test_connect_errors);
	T_RUN(test_connect_full_backlog);
	T_RUN(test_peercred_self);
	T_RUN(test_peercred_other_uid);
	T_RUN(test_connect_wait_for_a_tree);
	T_RUN(test_connect_wait_for_listen);
	T_RUN(test_connect_wait_deadline);
	T_RUN(test_path_bound);
	return t_done();
}
