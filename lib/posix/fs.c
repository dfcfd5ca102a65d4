/*
 * fs.c — directory trust checks, bounded reads and atomic writes (see
 * fs.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include "deadline.h"
#include "err.h"
#include "fs.h"
#include "io.h"

/*
 * mkdir -p with mode 0700 for every directory we create.  An existing
 * component is left as it is (the final one is checked by the caller);
 * one we create is chmod-ed so that neither the umask nor a set-group-ID
 * parent leaves it with other bits than 0700.
 */
static int
make_dirs(const char *dir)
{
	char p[PATH_MAX];
	size_t len = strlen(dir), i;

	if (len == 0 || len >= sizeof(p)) {
		errno = len ? ENAMETOOLONG : ENOENT;
		return -1;
	}
	memcpy(p, dir, len + 1);
	for (i = 1; i <= len; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		if (p[i - 1] == '/')
			continue;
		p[i] = '\0';
		if (mkdir(p, 0700) == 0) {
			if (chmod(p, 0700) < 0)
				return -1;
		} else if (errno != EEXIST) {
			return -1;
		}
		p[i] = dir[i];
	}
	return 0;
}

/*
 * Every directory above a private one, as the system resolves them: owned
 * by euid or root, and writable by nobody else unless sticky (/tmp).
 * Whoever may rename entries of a parent may swap our directory for one
 * of theirs (sshd's StrictModes asks the same of a home directory).
 */
static int
check_ancestors(const char *dir, uid_t euid, char *why, size_t whysz)
{
	char parent[PATH_MAX], real[PATH_MAX];
	struct stat st;
	char *slash;

	if (rp_fs_dirname(dir, parent, sizeof(parent)) < 0 ||
	    realpath(parent, real) == NULL) {
		rp_err_why(why, whysz, "has a parent that cannot be examined");
		return -1;
	}
	for (;;) {
		if (lstat(real, &st) < 0) {
			rp_err_why(why, whysz, "has a parent that cannot be "
			    "examined");
			return -1;
		}
		if (st.st_uid != euid && st.st_uid != 0) {
			rp_err_why(why, whysz, "is inside %s, owned by uid "
			    "%lu (not %lu or root), who could swap it for "
			    "another", real, (unsigned long)st.st_uid,
			    (unsigned long)euid);
			errno = EPERM;
			return -1;
		}
		if ((st.st_mode & 022) != 0 && !(st.st_mode & S_ISVTX)) {
			rp_err_why(why, whysz, "is inside %s, of mode %04o "
			    "(writable by group/other without the sticky "
			    "bit): others could swap it for another", real,
			    (unsigned)(st.st_mode & 07777));
			errno = EPERM;
			return -1;
		}
		if (strcmp(real, "/") == 0)
			return 0;
		slash = strrchr(real, '/');
		if (slash == real)
			slash[1] = '\0';
		else
			*slash = '\0';
	}
}

int
rp_fs_check_dir(const char *dir, int policy, char *why, size_t whysz)
{
	int kind = policy & 0xff;
	uid_t euid = geteuid();
	char last[PATH_MAX];
	struct stat st;
	size_t len;
	mode_t perm;

	rp_err_why(why, whysz, "%s", "");
	if (dir == NULL || *dir == '\0' ||
	    (kind != RP_DIR_PRIVATE && kind != RP_DIR_SAFE) ||
	    (policy & ~(0xff | RP_DIR_CREATE)) != 0) {
		rp_err_why(why, whysz, "invalid directory or policy");
		errno = EINVAL;
		return -1;
	}
	/* lstat: the directory itself must not be a symlink, which an
	 * attacker could later point elsewhere.  Without its trailing
	 * slashes: lstat("link/") follows the link ("/" stays "/"). */
	len = strlen(dir);
	while (len > 1 && dir[len - 1] == '/')
		len--;
	if (len >= sizeof(last)) {
		rp_err_why(why, whysz, "cannot be examined");
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(last, dir, len);
	last[len] = '\0';
	if (lstat(last, &st) < 0) {
		if (errno != ENOENT || !(policy & RP_DIR_CREATE)) {
			rp_err_why(why, whysz, "%s", errno == ENOENT ?
			    "does not exist" : errno == ENOTDIR ?
			    "has a parent that is not a directory" :
			    "cannot be examined");
			return -1;
		}
		if (make_dirs(dir) < 0 || lstat(last, &st) < 0) {
			rp_err_why(why, whysz, "cannot be created");
			return -1;
		}
	}
	if (S_ISLNK(st.st_mode)) {
		rp_err_why(why, whysz, "is a symlink");
		errno = ENOTDIR;
		return -1;
	}
	if (!S_ISDIR(st.st_mode)) {
		rp_err_why(why, whysz, "is not a directory");
		errno = ENOTDIR;
		return -1;
	}
	perm = st.st_mode & 07777;
	if (kind == RP_DIR_PRIVATE) {
		if (st.st_uid != euid) {
			rp_err_why(why, whysz, "is owned by uid %lu, not %lu",
			    (unsigned long)st.st_uid, (unsigned long)euid);
			errno = EPERM;
			return -1;
		}
		if ((perm & 077) != 0) {
			rp_err_why(why, whysz, "has mode %04o; group/other "
			    "permissions must be off", (unsigned)perm);
			errno = EPERM;
			return -1;
		}
		return check_ancestors(last, euid, why, whysz);
	}
	if (st.st_uid != euid && st.st_uid != 0) {
		rp_err_why(why, whysz, "is owned by uid %lu, not %lu or root",
		    (unsigned long)st.st_uid, (unsigned long)euid);
		errno = EPERM;
		return -1;
	}
	/* Others may write only where the sticky bit stops them from
	 * removing or renaming what is ours (/tmp). */
	if ((perm & 022) != 0 && !(perm & S_ISVTX)) {
		rp_err_why(why, whysz, "has mode %04o; writable by group/other "
		    "without the sticky bit", (unsigned)perm);
		errno = EPERM;
		return -1;
	}
	return 0;
}

int
rp_fs_open_read(const char *path)
{
	return open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
}

int
rp_fs_open_append(const char *path, int excl)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | (excl ? O_EXCL : 0) |
	    O_CLOEXEC | O_NOCTTY, 0600);
}

int
rp_fs_open_null(void)
{
	return open("/dev/null", O_RDONLY | O_CLOEXEC);
}

int
rp_fs_stamp(const char *path, struct rp_fs_stamp *out)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return -1;
	out->dev = (uint64_t)st.st_dev;
	out->ino = (uint64_t)st.st_ino;
	out->size = (uint64_t)st.st_size;
	out->mtime_ns = (int64_t)st.st_mtim.tv_sec * 1000000000 +
	    st.st_mtim.tv_nsec;
	out->ctime_ns = (int64_t)st.st_ctim.tv_sec * 1000000000 +
	    st.st_ctim.tv_nsec;
	return 0;
}

int
rp_fs_open_write(const char *path)
{
	return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOCTTY,
	    0666);
}

int
rp_fs_writable_dir(const char *dir)
{
	return access(dir, W_OK | X_OK);
}

/* Read the open regular file fd (at most max bytes) into out; fd stays
 * open.  0, or -1 with errno, out as it was. */
static int
read_open(int fd, size_t max, struct rp_buf *out)
{
	size_t start = out->len, room;
	ssize_t n;

	/* st_size is only a hint (0 for /proc files; a file may grow):
	 * read to EOF, but never keep more than max bytes. */
	for (;;) {
		if (rp_buf_reserve(out, 4096) < 0)
			goto fail;
		room = out->cap - out->len - 1;
		n = read(fd, out->data + out->len, room);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		if (out->len - start > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return -1;
}

/* What every read of ours wants of the file before its bytes: a regular
 * file of at most max bytes.  0, or -1 with errno. */
static int
check_regular(const struct stat *st, size_t max)
{
	if (!S_ISREG(st->st_mode)) {
		errno = S_ISDIR(st->st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	if (st->st_size < 0 || (uintmax_t)st->st_size > max) {
		errno = EFBIG;
		return -1;
	}
	return 0;
}

/* O_NONBLOCK: opening a FIFO must not wait for a writer before we get to
 * refuse it.  It means nothing for the regular file we read. */
#define READ_FLAGS (O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK)

int
rp_fs_read_file(const char *path, size_t max, struct rp_buf *out)
{
	struct stat st;
	int fd, err;

	fd = open(path, READ_FLAGS);
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || check_regular(&st, max) < 0 ||
	    read_open(fd, max, out) < 0) {
		err = errno;
		close(fd);
		errno = err;
		return -1;
	}
	close(fd);
	return 0;
}

/* 1 when the resolved path p is dir or below it (dir resolved too). */
static int
inside(const char *p, const char *dir)
{
	size_t dl = strlen(dir);

	if (dl == 1 && dir[0] == '/')
		return p[0] == '/';
	return strncmp(p, dir, dl) == 0 && (p[dl] == '/' || p[dl] == '\0');
}

/*
 * The last component is a symbolic link: open what it leads to, if that
 * stays inside the directory path names.  Between resolving and opening,
 * only someone who may write in that directory could swap a component
 * below it, and the directory's own trust (checked by our callers: the
 * definition directory is ours alone, mode 0700) is what keeps others
 * out; the last component is opened without following, so it is at
 * least not a link again.  fd, or -1 with errno (and why for EPERM).
 */
static int
open_link(const char *path, char *why, size_t whysz)
{
	char dir[PATH_MAX], rdir[PATH_MAX], rfile[PATH_MAX];

	if (rp_fs_dirname(path, dir, sizeof(dir)) != 0 ||
	    rp_fs_realpath(dir, rdir, sizeof(rdir)) != 0 ||
	    rp_fs_realpath(path, rfile, sizeof(rfile)) != 0)
		return -1;
	if (!inside(rfile, rdir)) {
		rp_err_why(why, whysz, "a symbolic link leading out of its "
		    "directory, to %s", rfile);
		errno = EPERM;
		return -1;
	}
	return open(rfile, READ_FLAGS | O_NOFOLLOW);
}

int
rp_fs_read_trusted(const char *path, size_t max, struct rp_buf *out,
    char *why, size_t whysz)
{
	uid_t euid = geteuid();
	struct stat st;
	int fd, err;

	rp_err_why(why, whysz, "%s", "");
	fd = open(path, READ_FLAGS | O_NOFOLLOW);
	if (fd < 0 && errno == ELOOP)
		fd = open_link(path, why, whysz);
	if (fd < 0)
		goto fail;
	if (fstat(fd, &st) < 0 || check_regular(&st, max) < 0)
		goto fail;
	/* The rules sshd applies to authorized_keys and s6 to its run
	 * directories: what we act on is written by us or by root only. */
	if (st.st_uid != euid && st.st_uid != 0) {
		if (euid == 0)
			rp_err_why(why, whysz, "owned by uid %lu, not root",
			    (unsigned long)st.st_uid);
		else
			rp_err_why(why, whysz, "owned by uid %lu, not %lu or "
			    "root", (unsigned long)st.st_uid,
			    (unsigned long)euid);
		errno = EPERM;
		goto fail;
	}
	if ((st.st_mode & 022) != 0) {
		rp_err_why(why, whysz, "writable by group or others "
		    "(mode %04o)", (unsigned)(st.st_mode & 07777));
		errno = EPERM;
		goto fail;
	}
	if (read_open(fd, max, out) < 0)
		goto fail;
	close(fd);
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	if (why != NULL && whysz > 0 && why[0] == '\0') {
		if (err == EFBIG)
			rp_err_why(why, whysz, "larger than %zu bytes", max);
		else if (err == EINVAL)
			rp_err_why(why, whysz, "not a regular file");
		else
			rp_err_why(why, whysz, "%s", strerror(err));
	}
	errno = err;
	return -1;
}

/* write_atomic's work in the directory open as dfd (closed here). */
static int
write_atomic_at(int dfd, const char *name, const void *data, size_t len,
    unsigned mode)
{
	/* Atomic: the broker writes from a thread of its own. */
	static atomic_uint counter;
	char tmp[NAME_MAX + 1];
	int fd = -1, err, tries;

	/* O_EXCL on a name nobody else can guess well enough to pre-empt:
	 * a pre-existing file, symlink included, is never written through. */
	for (tries = 0; tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), ".%s.%08lx%08x%08lx", name,
		    (unsigned long)getpid() & 0xffffffffUL,
		    (unsigned)atomic_fetch_add(&counter, 1u),
		    (unsigned long)rp_now_ns() & 0xffffffffUL);
		fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC |
		    O_NOFOLLOW | O_NOCTTY, 0600);
		if (fd >= 0 || errno != EEXIST)
			break;
	}
	if (fd < 0) {
		err = errno;
		close(dfd);
		errno = err;
		return -1;
	}
	/* fchmod, not the open mode: the umask must not change it. */
	if (rp_io_write_full(fd, data, len, RP_DEADLINE_NEVER) < 0 ||
	    fchmod(fd, mode & 07777) < 0 || fsync(fd) < 0)
		goto fail;
	if (close(fd) < 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	/* rename(2) replaces the name itself: a symlink there is replaced,
	 * never followed. */
	if (renameat(dfd, tmp, dfd, name) < 0)
		goto fail;
	/* The rename is durable only once the directory is. */
	if (fsync(dfd) < 0) {
		err = errno;
		close(dfd);
		errno = err;
		return -1;
	}
	close(dfd);
	return 0;
fail:
	err = errno;
	if (fd >= 0)
		close(fd);
	unlinkat(dfd, tmp, 0);
	close(dfd);
	errno = err;
	return -1;
}

static int
check_name(const char *name, const void *data, size_t len)
{
	size_t nlen;

	if (name == NULL || (nlen = strlen(name)) == 0 ||
	    strchr(name, '/') != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || (data == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	/* ".{name}.{24 hex}" must still be a valid file name. */
	if (nlen + 26 > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return 0;
}

int
rp_fs_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, unsigned mode)
{
	int dfd;

	if (check_name(name, data, len) < 0)
		return -1;
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	return write_atomic_at(dfd, name, data, len, mode);
}

int
rp_fs_open_dir_nofollow(const char *dir)
{
	char comp[NAME_MAX + 1];
	const char *p = dir, *e;
	size_t n;
	int dfd, next, err;

	if (dir == NULL || dir[0] != '/') {
		errno = EINVAL;
		return -1;
	}
	if ((dfd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	for (;;) {
		while (*p == '/')
			p++;
		if (*p == '\0')
			return dfd;
		e = strchr(p, '/');
		n = e != NULL ? (size_t)(e - p) : strlen(p);
		if (n > NAME_MAX) {
			close(dfd);
			errno = ENAMETOOLONG;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		p += n;
		/* O_NOFOLLOW: a symlink is ELOOP (O_DIRECTORY: ENOTDIR on
		 * some systems), never walked through. */
		next = openat(dfd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		    O_CLOEXEC);
		err = errno;
		close(dfd);
		if (next < 0) {
			errno = err == ENOTDIR || err == ELOOP ? ELOOP : err;
			return -1;
		}
		dfd = next;
	}
}

int
rp_fs_write_atomic_nofollow(const char *dir, const char *name,
    const void *data, size_t len, unsigned mode)
{
	struct stat st;
	int dfd;

	if (check_name(name, data, len) < 0)
		return -1;
	if ((dfd = rp_fs_open_dir_nofollow(dir)) < 0)
		return -1;
	/* Only a regular file (or nothing) is replaced: never a device, a
	 * FIFO, a socket or a directory someone put under that name. */
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    !S_ISREG(st.st_mode) && !S_ISLNK(st.st_mode)) {
		close(dfd);
		errno = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
		return -1;
	}
	return write_atomic_at(dfd, name, data, len, mode);
}

int
rp_fs_dirname(const char *path, char *out, size_t outsz)
{
	size_t len = strlen(path);
	const char *res = path;

	/* Trailing slashes belong to the last component ("a/b/" -> "a"). */
	while (len > 1 && path[len - 1] == '/')
		len--;
	while (len > 0 && path[len - 1] != '/')
		len--;
	if (len == 0) {
		res = ".";
		len = 1;
	} else {
		while (len > 1 && path[len - 1] == '/')
			len--;
	}
	if (len >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, res, len);
	out[len] = '\0';
	return 0;
}

int
rp_fs_is_sep(char c)
{
	return c == '/';
}

char
rp_fs_sep(void)
{
	return '/';
}

int
rp_fs_is_absolute(const char *path)
{
	return path[0] == '/';
}

const char *
rp_fs_basename(const char *path)
{
	const char *p = strrchr(path, '/');

	return p != NULL ? p + 1 : path;
}

int
rp_fs_same_file(const char *a, const char *b)
{
	struct stat sa, sb;
	int saved = errno;

	if (stat(a, &sa) != 0 || stat(b, &sb) != 0) {
		errno = saved;
		return 0;
	}
	return sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

int
rp_fs_realpath(const char *path, char *out, size_t outsz)
{
	char *r = realpath(path, NULL);
	size_t len;

	if (r == NULL)
		return -1;
	len = strlen(r);
	if (len >= outsz) {
		free(r);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, r, len + 1);
	free(r);
	return 0;
}

int
rp_fs_check_exec(const char *path, char *why, size_t whysz)
{
	struct stat st;
	int err;

	rp_err_why(why, whysz, "%s", "");
	if (stat(path, &st) != 0) {
		err = errno;
		if (err == ENOENT)
			rp_err_why(why, whysz, "does not exist");
		else
			rp_err_why(why, whysz, "cannot be examined: %s",
			    strerror(err));
		errno = err;
		return -1;
	}
	if (!S_ISREG(st.st_mode)) {
		rp_err_why(why, whysz, "is not a regular file");
		errno = EACCES;
		return -1;
	}
	if (access(path, X_OK) != 0) {
		err = errno;
		if (err == EACCES)
			rp_err_why(why, whysz, "is not executable");
		else
			rp_err_why(why, whysz, "cannot be examined: %s",
			    strerror(err));
		errno = err;
		return -1;
	}
	return 0;
}

int
rp_fs_inodes(const char *path, uint64_t *avail, uint64_t *total)
{
	struct statvfs sv;

	if (statvfs(path, &sv) != 0)
		return -1;
	*avail = (uint64_t)sv.f_favail;
	*total = (uint64_t)sv.f_files;
	return 0;
}

int
rp_fs_file_id(int fd, struct rp_file_id *id)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	*id = (struct rp_file_id){ { (uint64_t)st.st_dev,
		(uint64_t)st.st_ino, (uint64_t)st.st_size,
		(uint64_t)st.st_ctim.tv_sec, (uint64_t)st.st_ctim.tv_nsec,
		(uint64_t)st.st_mtim.tv_sec, (uint64_t)st.st_mtim.tv_nsec, 0 } };
	return 0;
}

int
rp_fs_is_socket(const char *path)
{
	struct stat st;
	int saved = errno, r;

	r = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
	errno = saved;
	return r;
}

int
rp_fs_owner_mode(const char *path, uint32_t *uid, uint32_t *mode, int *isdir)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1;
	*uid = (uint32_t)st.st_uid;
	*mode = (uint32_t)(st.st_mode & 07777);
	*isdir = S_ISDIR(st.st_mode);
	return 0;
}
