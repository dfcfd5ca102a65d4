/*
 * sock.c — Unix stream sockets by the broker's rules (see sock.h and
 * 20-broker.md "Where it listens").
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#ifdef __linux__
#include <sys/inotify.h>
#endif
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "deadline.h"
#include "err.h"
#include "fs.h"
#include "host.h"
#include "identity.h"
#include "io.h"
#include "sock.h"

/* How long rp_sock_listen / unlisten wait for the directory lock.  Its
 * holders only stat, probe, unlink and bind; a holder that keeps it this
 * long is stuck or hostile (in a shared directory such as /tmp anyone can
 * take it), and we give up rather than hang. */
#define LOCK_WAIT_MS 5000

/* Fill sun for path; ENAMETOOLONG rather than a truncated name. */
static int
make_addr(const char *path, struct sockaddr_un *sun)
{
	size_t len = strlen(path);

	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (len == 0) {
		errno = ENOENT;
		return -1;
	}
	if (len >= sizeof(sun->sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun->sun_path, path, len + 1);
	return 0;
}

/*
 * An exclusive flock on the socket's directory, the lock every
 * rp_sock_listen and rp_sock_unlisten on that directory takes around its
 * look-remove-bind sequence.  Returns the locked fd or -1.
 */
static int
lock_dir(const char *dir)
{
	int64_t deadline = rp_deadline_in(LOCK_WAIT_MS);
	long nap = 1;
	int fd, err;

	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	for (;;) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return fd;
		if (errno == EINTR)
			continue;
		if (errno != EWOULDBLOCK || rp_deadline_passed(deadline))
			break;
		rp_sleep_ms(nap);
		if (nap < 16)
			nap *= 2;
	}
	err = errno == EWOULDBLOCK ? ETIMEDOUT : errno;
	close(fd);
	errno = err;
	return -1;
}

static void
unlock_dir(int fd)
{
	int saved = errno;

	/* Closing the only fd of the open file description releases it. */
	close(fd);
	errno = saved;
}

/*
 * Does something accept connections on path?  1 yes, 0 no (refused: a
 * stale file), -1 with errno when it cannot be told.  Non-blocking, so a
 * live listener whose backlog is full (EAGAIN) counts as live instead of
 * making us wait.  The probe's connection lands in the live listener's
 * backlog and is closed at once: it reads as an empty connection.
 */
static int
probe(const struct sockaddr_un *sun)
{
	int fd, r, err;

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	r = connect(fd, (const struct sockaddr *)sun, sizeof(*sun));
	err = errno;
	close(fd);
	if (r == 0 || err == EAGAIN || err == EINPROGRESS)
		return 1;
	if (err == ECONNREFUSED)
		return 0;
	errno = err;
	return -1;
}

int
rp_sock_listen(const char *path, int dir_policy, int backlog,
    struct rp_sock_listener *out, char *why, size_t whysz)
{
	struct sockaddr_un sun;
	char dir[RP_SUN_PATH_MAX], dwhy[160];
	struct stat st;
	int dfd = -1, fd = -1, live, err;
	uid_t euid = geteuid();
	mode_t old_umask;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	rp_err_why(why, whysz, "%s", "");
	/* Length first: a doomed path must not create directories. */
	if (make_addr(path, &sun) < 0) {
		if (errno == ENAMETOOLONG)
			rp_err_why(why, whysz, "socket path is %zu bytes; "
			    "at most %zu fit sun_path", strlen(path),
			    sizeof(sun.sun_path) - 1);
		else
			rp_err_why(why, whysz, "socket path is empty");
		return -1;
	}
	if (rp_fs_dirname(path, dir, sizeof(dir)) < 0)
		return -1;
	if (rp_fs_check_dir(dir, dir_policy, dwhy, sizeof(dwhy)) < 0) {
		rp_err_why(why, whysz, "directory %s %s", dir, dwhy);
		return -1;
	}
	if ((dfd = lock_dir(dir)) < 0) {
		rp_err_why(why, whysz, "cannot lock directory %s", dir);
		return -1;
	}

	if (lstat(path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			rp_err_why(why, whysz, "%s exists and is not a socket",
			    path);
			errno = EEXIST;
			goto fail;
		}
		live = probe(&sun);
		if (live == 1) {
			rp_err_why(why, whysz,
			    "another process is listening on %s", path);
			errno = EADDRINUSE;
			goto fail;
		}
		/* Stale (or unknowable): only ever remove our own file. */
		if (st.st_uid != euid) {
			rp_err_why(why, whysz, "%s is a stale socket owned by "
			    "uid %lu, not %lu", path, (unsigned long)st.st_uid,
			    (unsigned long)euid);
			errno = EEXIST;
			goto fail;
		}
		if (live < 0) {
			rp_err_why(why, whysz, "cannot tell whether %s is live",
			    path);
			goto fail;
		}
		if (unlink(path) < 0 && errno != ENOENT) {
			rp_err_why(why, whysz, "cannot remove stale socket %s",
			    path);
			goto fail;
		}
	} else if (errno != ENOENT) {
		rp_err_why(why, whysz, "cannot examine %s", path);
		goto fail;
	}

	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		goto fail_errno;
	/*
	 * bind creates the file with 0777 & ~umask, and a chmod afterwards
	 * would leave a window in which another user (in a shared directory
	 * such as /tmp) could connect.  So the umask is narrowed around bind
	 * itself.  The umask is per process: a thread creating a file at
	 * this instant would get 0600 instead of its usual mode, which errs
	 * on the safe side.  (Linux would also honour an fchmod of the
	 * unbound socket, but that is not portable.)
	 */
	old_umask = umask(0177);
	err = bind(fd, (const struct sockaddr *)&sun, sizeof(sun));
	umask(old_umask);
	if (err < 0)
		goto fail_errno;
	if (listen(fd, backlog) < 0 || lstat(path, &st) < 0) {
		err = errno;
		unlink(path);
		rp_err_why(why, whysz, "cannot listen on %s", path);
		errno = err;
		goto fail;
	}
	/* We hold the lock, so this is our file; anything but 0600 means a
	 * file system that ignores modes, and we will not serve from it. */
	if (!S_ISSOCK(st.st_mode) || (st.st_mode & 07777) != 0600) {
		unlink(path);
		rp_err_why(why, whysz, "%s did not come out as a 0600 socket",
		    path);
		errno = EPERM;
		goto fail;
	}
	unlock_dir(dfd);
	out->fd = fd;
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->owns_path = 1;
	memcpy(out->path, sun.sun_path, strlen(sun.sun_path) + 1);
	return 0;

fail_errno:
	rp_err_why(why, whysz, "cannot bind %s", path);
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlock_dir(dfd);
	errno = err;
	return -1;
}

int
rp_sock_listen_fd(int fd, struct rp_sock_listener *out)
{
	struct sockaddr_un sun;
	socklen_t len = sizeof(sun);
	int acc = 0, type = 0;
	socklen_t olen;

	memset(out, 0, sizeof(*out));
	out->fd = -1;
	olen = sizeof(acc);
	if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &olen) < 0)
		return -1;
	olen = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &olen) < 0)
		return -1;
	memset(&sun, 0, sizeof(sun));
	if (getsockname(fd, (struct sockaddr *)&sun, &len) < 0)
		return -1;
	if (!acc || type != SOCK_STREAM || sun.sun_family != AF_UNIX) {
		errno = ENOTSOCK;
		return -1;
	}
	/* An inherited fd may have neither flag; ours always have both. */
	if (rp_fd_set_cloexec(fd, 1) < 0 || rp_fd_set_nonblock(fd, 1) < 0)
		return -1;
	out->fd = fd;
	out->owns_path = 0;
	if (len > offsetof(struct sockaddr_un, sun_path) &&
	    sun.sun_path[0] != '\0') {
		size_t n = len - offsetof(struct sockaddr_un, sun_path);

		if (n >= sizeof(out->path))
			n = sizeof(out->path) - 1;
		memcpy(out->path, sun.sun_path, n);
		out->path[n] = '\0';
	}
	return 0;
}

void
rp_sock_unlisten(struct rp_sock_listener *l)
{
	char dir[RP_SUN_PATH_MAX];
	struct stat st;
	int saved = errno, dfd = -1;

	if (l == NULL)
		return;
	/*
	 * Remove the file under the directory lock, while our socket is
	 * still open: a listener starting now either sees it live or waits
	 * for the lock, so it can never have replaced it with its own
	 * between our lstat and our unlink.  Without the lock (timed out)
	 * the dev/inode check alone still guards against the common case.
	 */
	if (l->owns_path && l->path[0] != '\0') {
		if (rp_fs_dirname(l->path, dir, sizeof(dir)) == 0)
			dfd = lock_dir(dir);
		if (lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
		    (uint64_t)st.st_dev == l->dev &&
		    (uint64_t)st.st_ino == l->ino)
			unlink(l->path);
		if (dfd >= 0)
			unlock_dir(dfd);
	}
	rp_fd_close(&l->fd);
	l->owns_path = 0;
	errno = saved;
}

/* Wait for an in-progress connect (not AF_UNIX on Linux, but elsewhere). */
static int
finish_connect(int fd, int64_t deadline)
{
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (rp_io_wait(fd, RP_IO_WRITE, deadline) < 0)
		return -1;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		return -1;
	if (soerr != 0) {
		errno = soerr;
		return -1;
	}
	return 0;
}

/*
 * On Linux a blocking AF_UNIX connect to a listener with a full backlog
 * sleeps until there is room, bounded by SO_SNDTIMEO, and fails with
 * EAGAIN when that runs out; a non-blocking one fails with EAGAIN at once
 * and nothing would wake us when room appears.  So each attempt is a
 * blocking connect with SO_SNDTIMEO set to the time left, and the option
 * is cleared afterwards so later writes are not affected.
 */
int
rp_sock_connect(const char *path, int nonblock, int64_t deadline)
{
	struct sockaddr_un sun;
	struct timeval tv;
	int fd, left, r, err;

	if (make_addr(path, &sun) < 0)
		return -1;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	for (;;) {
		left = rp_deadline_poll_ms(deadline);
		if (left == 0) {
			/* Out of time: one last non-blocking try. */
			if (rp_fd_set_nonblock(fd, 1) < 0)
				goto fail;
		} else {
			tv.tv_sec = left < 0 ? 0 : left / 1000;
			tv.tv_usec = left < 0 ? 0 : (left % 1000) * 1000;
			if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv,
			    sizeof(tv)) < 0)
				goto fail;
		}
		r = connect(fd, (const struct sockaddr *)&sun, sizeof(sun));
		if (r == 0 || errno == EISCONN)
			break;
		if (errno == EINTR)
			continue;
		if (errno == EINPROGRESS || errno == EALREADY) {
			if (finish_connect(fd, deadline) < 0)
				goto fail;
			break;
		}
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			goto fail;
		if (left == 0 || rp_deadline_passed(deadline)) {
			errno = ETIMEDOUT;
			goto fail;
		}
		/* A system that did not wait for room: do not spin. */
		rp_sleep_ms(2);
	}
	memset(&tv, 0, sizeof(tv));
	if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
	    rp_fd_set_nonblock(fd, nonblock) < 0)
		goto fail;
	return fd;
fail:
	err = errno;
	close(fd);
	errno = err;
	return -1;
}

/* Waiting for a socket to appear: the longest nap while a socket file
 * refuses (listen(2) itself leaves no trace a watch could see). */
#define WAIT_NAP_MAX_MS 100
#ifdef __linux__
#define WATCH_MASK (IN_CREATE | IN_MOVED_TO | IN_ATTRIB | IN_CLOSE | \
	IN_DELETE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR)

/*
 * Watch the nearest directory of path that exists (its own, or the
 * first parent there is), replacing the previous watch *wd.  Returns 0,
 * or -1 when nothing could be watched (*wd is then -1).
 */
static int
watch_nearest(int ifd, const char *path, int *wd)
{
	char dir[RP_SUN_PATH_MAX], up[RP_SUN_PATH_MAX];
	int w;

	if (rp_fs_dirname(path, dir, sizeof(dir)) < 0)
		return -1;
	for (;;) {
		w = inotify_add_watch(ifd, dir, WATCH_MASK);
		if (w >= 0)
			break;
		if ((errno != ENOENT && errno != ENOTDIR) ||
		    strcmp(dir, "/") == 0 || strcmp(dir, ".") == 0 ||
		    rp_fs_dirname(dir, up, sizeof(up)) < 0)
			return -1;
		memcpy(dir, up, strlen(up) + 1);
	}
	if (*wd >= 0 && *wd != w)
		(void)inotify_rm_watch(ifd, *wd);
	*wd = w;
	return 0;
}

/* Read and forget the events that are there. */
static void
drain_events(int ifd)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	while (read(ifd, buf, sizeof(buf)) > 0)
		;
}
#else
/* No inotify: nothing is watched, and the wait naps instead. */
static int
inotify_init1(int flags)
{
	(void)flags;
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

static int
watch_nearest(int ifd, const char *path, int *wd)
{
	(void)ifd;
	(void)path;
	*wd = -1;
	return -1;
}

static void
drain_events(int ifd)
{
	(void)ifd;
}

#define IN_CLOEXEC 0
#define IN_NONBLOCK 0
#endif

int
rp_sock_connect_wait(const char *path, int nonblock, int64_t deadline)
{
	struct sockaddr_un sun;
	int64_t until;
	long nap = 1;
	int ifd, wd = -1, fd, err, watched;

	if (make_addr(path, &sun) < 0)
		return -1;
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0)
		return -1;
	for (;;) {
		/* Watch first, then try: a change between the two is not
		 * missed, it wakes the wait below at once. */
		watched = watch_nearest(ifd, path, &wd) == 0;
		fd = rp_sock_connect(path, nonblock, deadline);
		if (fd >= 0)
			break;
		err = errno;
		if ((err != ENOENT && err != ENOTDIR && err != ECONNREFUSED) ||
		    rp_deadline_passed(deadline)) {
			errno = err == ENOENT || err == ENOTDIR ||
			    err == ECONNREFUSED ? ETIMEDOUT : err;
			break;
		}
		/* Missing: nothing happens there until something does.  A
		 * socket that refuses (bound, not listening yet; or stale
		 * until a new listener replaces it) is tried again soon; so
		 * is everything when the directory cannot be watched. */
		until = deadline;
		if (err == ECONNREFUSED || !watched) {
			until = rp_deadline_in(nap);
			if (until > deadline)
				until = deadline;
			if (nap < WAIT_NAP_MAX_MS)
				nap *= 2;
		}
		if (watched) {
			if (rp_io_wait(ifd, RP_IO_READ, until) < 0 &&
			    errno != ETIMEDOUT)
				break;
			drain_events(ifd);
		} else {
			rp_sleep_ms(until - rp_now_ms() > 0 ?
			    until - rp_now_ms() : 0);
		}
	}
	err = errno;
	close(ifd);
	errno = err;
	return fd;
}

int
rp_sock_accept(int lfd, int nonblock)
{
	int fd;

	do
		fd = accept4(lfd, NULL, NULL,
		    SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0));
	while (fd < 0 && errno == EINTR);
	return fd;
}

int
rp_sock_peercred(int fd, struct rp_peercred *out)
{
	memset(out, 0, sizeof(*out));
#ifdef SO_PEERCRED
	{
		struct ucred uc;
		socklen_t len = sizeof(uc);

		if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
			return -1;
		if (len != sizeof(uc)) {
			errno = EPROTO;
			return -1;
		}
		out->pid = uc.pid > 0 ? (uint32_t)uc.pid : 0;
		out->uid = (uint32_t)uc.uid;
		out->gid = (uint32_t)uc.gid;
	}
#else
	{
		uid_t uid;
		gid_t gid;

		/* The BSDs: no pid, which callers treat as "not said". */
		if (getpeereid(fd, &uid, &gid) < 0)
			return -1;
		out->uid = (uint32_t)uid;
		out->gid = (uint32_t)gid;
	}
#endif
	return 0;
}

int
rp_sock_pair(int sv[2], int nonblock)
{
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC |
	    (nonblock ? SOCK_NONBLOCK : 0), 0, sv);
}

int
rp_sock_endpoint_name(const char *path, char *out, size_t outsz)
{
	size_t n = strlen(path);

	if (n >= outsz || n > INT_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, path, n + 1);
	return (int)n;
}

int
rp_sock_endpoint_abs(const char *path, char *out, size_t outsz)
{
	char cwd[PATH_MAX];
	size_t n = strlen(path), c;

	if (path[0] == '/') {
		if (n >= outsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(out, path, n + 1);
		return 0;
	}
	if (getcwd(cwd, sizeof(cwd)) == NULL)
		return -1;
	c = strlen(cwd);
	if (c > 0 && cwd[c - 1] == '/')
		c--;
	while (n >= 2 && path[0] == '.' && path[1] == '/') {
		path += 2;
		n -= 2;
		while (*path == '/') {
			path++;
			n--;
		}
	}
	if (c + 1 + n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, cwd, c);
	out[c] = '/';
	memcpy(out + c + 1, path, n + 1);
	return 0;
}

int
rp_sock_endpoint_equal(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

int
rp_sock_path_bound(const char *path)
{
#ifdef __linux__
	size_t pl = strlen(path), cap = 0;
	char *line = NULL;
	ssize_t n;
	int found = 0;
	FILE *f;

	/* "Num RefCount Protocol Flags Type St Inode Path": the path, when
	 * there is one, last, after a space. */
	if ((f = fopen("/proc/net/unix", "re")) == NULL)
		return -1;
	while (!found && (n = getline(&line, &cap, f)) > 0) {
		if (line[n - 1] == '\n')
			line[--n] = '\0';
		found = (size_t)n > pl && line[(size_t)n - pl - 1] == ' ' &&
		    memcmp(line + (size_t)n - pl, path, pl) == 0;
	}
	if (!found && ferror(f)) {
		free(line);
		(void)fclose(f);
		errno = EIO;
		return -1;
	}
	free(line);
	(void)fclose(f);
	return found;
#else
	(void)path;
	errno = ENOTSUP;
	return -1;
#endif
}

int
rp_peercred_allowed(const struct rp_peercred *pc, const uint32_t *allow,
    size_t n)
{
	/* Asked for every connection of a daemon, whose euid does not
	 * change: taken once (sock.h says so), not a system call each. */
	static _Atomic uint32_t self = UINT32_MAX;
	uint32_t me = self;

	if (me == UINT32_MAX)
		self = me = rp_host_euid();
	return rp_identity_uid_allowed(pc->uid, me, allow, n);
}

int
rp_sock_shutdown_write(int fd)
{
	return shutdown(fd, SHUT_WR);
}

int
rp_sock_backend_endpoint(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16], int handoff)
{
	return handoff ? rp_names_backend_handoff(out, outsz, dir, hash16, rnd) :
	    rp_names_backend_endpoint(out, outsz, dir, hash16, rnd);
}

int
rp_sock_namespace(char *out, size_t outsz)
{
	if (outsz < 1) {
		errno = ENAMETOOLONG;
		return -1;
	}
	out[0] = '\0';
	return 0;
}

int
rp_sock_listener_intact(const struct rp_sock_listener *l)
{
	struct stat st;

	return lstat(l->path, &st) == 0 && S_ISSOCK(st.st_mode) &&
	    (uint64_t)st.st_ino == l->ino && (uint64_t)st.st_dev == l->dev;
}
