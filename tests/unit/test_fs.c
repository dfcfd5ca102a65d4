/*
 * Unit tests for fs: directory policies (with the other side of each rule
 * played by uid 65534), bounded reads, atomic writes, realpath, dirname.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "t.h"

#define NOBODY 65534

static char *
path(const char *name)
{
	static char p[8][512];
	static int k;
	char *r = p[k++ % 8];

	snprintf(r, 512, "%s/%s", t_tmpdir(), name);
	return r;
}

static void
mkdir_mode(const char *p, mode_t mode)
{
	T_EQ(mkdir(p, 0700), 0);
	T_EQ(chmod(p, mode), 0);
}

static mode_t
mode_of(const char *p)
{
	struct stat st;

	if (lstat(p, &st) < 0)
		return (mode_t)-1;
	return st.st_mode & 07777;
}

static void
expect_refused(const char *dir, int policy, int err, const char *why_want)
{
	char why[200] = "untouched";

	errno = 0;
	T_EQ(rp_fs_check_dir(dir, policy, why, sizeof(why)), -1);
	T_EQ(errno, err);
	T_STR(why, why_want);
}

static void
test_private(void)
{
	char why[200];
	int fd;

	mkdir_mode(path("good"), 0700);
	T_EQ(rp_fs_check_dir(path("good"), RP_DIR_PRIVATE, why, sizeof(why)),
	    0);
	mkdir_mode(path("open"), 0755);
	expect_refused(path("open"), RP_DIR_PRIVATE, EPERM,
	    "has mode 0755; group/other permissions must be off");
	/* Any group or other bit, execute alone included. */
	mkdir_mode(path("x"), 0701);
	expect_refused(path("x"), RP_DIR_PRIVATE, EPERM,
	    "has mode 0701; group/other permissions must be off");
	mkdir_mode(path("g"), 0740);
	expect_refused(path("g"), RP_DIR_PRIVATE | RP_DIR_CREATE, EPERM,
	    "has mode 0740; group/other permissions must be off");
	T_EQ(symlink(path("good"), path("link")), 0);
	expect_refused(path("link"), RP_DIR_PRIVATE, ENOTDIR, "is a symlink");
	expect_refused(path("link"), RP_DIR_PRIVATE | RP_DIR_CREATE, ENOTDIR,
	    "is a symlink");
	/* A trailing slash makes lstat() follow the link to the directory
	 * it names; the link is still what the path goes through. */
	expect_refused(path("link/"), RP_DIR_PRIVATE, ENOTDIR, "is a symlink");
	expect_refused(path("link//"), RP_DIR_PRIVATE | RP_DIR_CREATE, ENOTDIR,
	    "is a symlink");
	expect_refused(path("link/"), RP_DIR_SAFE, ENOTDIR, "is a symlink");
	T_EQ(rp_fs_check_dir(path("good/"), RP_DIR_PRIVATE, why, sizeof(why)),
	    0);
	T_EQ(rp_fs_check_dir(path("good//"), RP_DIR_PRIVATE, why,
	    sizeof(why)), 0);
	T_EQ(rp_fs_check_dir("/", RP_DIR_SAFE, why, sizeof(why)), 0);
	T_EQ(rp_fs_check_dir("//", RP_DIR_SAFE, why, sizeof(why)), 0);
	fd = open(path("file"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	T_OK(fd >= 0);
	close(fd);
	expect_refused(path("file"), RP_DIR_PRIVATE, ENOTDIR,
	    "is not a directory");
	expect_refused(path("file/"), RP_DIR_PRIVATE, ENOTDIR,
	    "is not a directory");
	expect_refused(path("missing"), RP_DIR_PRIVATE, ENOENT,
	    "does not exist");
	T_EQ(mode_of(path("missing")), (mode_t)-1);
	mkdir_mode(path("theirs"), 0700);
	T_EQ(chown(path("theirs"), NOBODY, NOBODY), 0);
	expect_refused(path("theirs"), RP_DIR_PRIVATE, EPERM,
	    "is owned by uid 65534, not 0");
	errno = 0;
	T_EQ(rp_fs_check_dir(path("good"), 7, why, sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_fs_check_dir("", RP_DIR_PRIVATE, why, sizeof(why)), -1);
	/* why may be absent. */
	T_EQ(rp_fs_check_dir(path("open"), RP_DIR_PRIVATE, NULL, 0), -1);
}

static void
test_create(void)
{
	char why[200];

	/* A umask that would strip the owner's write bit changes nothing. */
	umask(0277);
	T_EQ(rp_fs_check_dir(path("a/b/c"), RP_DIR_PRIVATE | RP_DIR_CREATE,
	    why, sizeof(why)), 0);
	umask(022);
	T_EQ(mode_of(path("a")), 0700);
	T_EQ(mode_of(path("a/b")), 0700);
	T_EQ(mode_of(path("a/b/c")), 0700);
	/* Trailing and doubled slashes are fine. */
	T_EQ(rp_fs_check_dir(path("d//e/"), RP_DIR_PRIVATE | RP_DIR_CREATE,
	    why, sizeof(why)), 0);
	T_EQ(mode_of(path("d/e")), 0700);
	/* An existing parent is not ours to change. */
	mkdir_mode(path("pub"), 0755);
	T_EQ(rp_fs_check_dir(path("pub/priv"), RP_DIR_PRIVATE | RP_DIR_CREATE,
	    why, sizeof(why)), 0);
	T_EQ(mode_of(path("pub")), 0755);
	T_EQ(mode_of(path("pub/priv")), 0700);
	/* A file in the way of a parent. */
	T_EQ(close(open(path("f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)), 0);
	errno = 0;
	T_EQ(rp_fs_check_dir(path("f/sub"), RP_DIR_PRIVATE | RP_DIR_CREATE,
	    why, sizeof(why)), -1);
	T_EQ(errno, ENOTDIR);
	T_STR(why, "has a parent that is not a directory");
	/* Creation failing: the parent is a dangling symlink. */
	T_EQ(symlink(path("nowhere"), path("dangling")), 0);
	errno = 0;
	T_EQ(rp_fs_check_dir(path("dangling/sub"), RP_DIR_PRIVATE |
	    RP_DIR_CREATE, why, sizeof(why)), -1);
	T_EQ(errno, ENOENT);
	T_STR(why, "cannot be created");
	T_EQ(mode_of(path("nowhere")), (mode_t)-1);
}

/* Run fn as uid/gid 65534 in a child; its exit status. */
static int
as_nobody(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		if (setgroups(0, NULL) < 0 || setresgid(NOBODY, NOBODY, NOBODY) < 0
		    || setresuid(NOBODY, NOBODY, NOBODY) < 0)
			_exit(99);
		_exit(fn());
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static int
safe_as_nobody(void)
{
	char why[200];
	int bad = 0;

	if (rp_fs_check_dir(path("rootdir"), RP_DIR_SAFE, why, sizeof(why)))
		bad |= 1;
	if (rp_fs_check_dir(path("mine"), RP_DIR_SAFE, why, sizeof(why)))
		bad |= 2;
	if (rp_fs_check_dir(path("other"), RP_DIR_SAFE, why, sizeof(why)) !=
	    -1 || errno != EPERM ||
	    strcmp(why, "is owned by uid 1000, not 65534 or root") != 0)
		bad |= 4;
	/* PRIVATE as nobody: a root-owned dir is not ours. */
	if (rp_fs_check_dir(path("rootdir"), RP_DIR_PRIVATE, why,
	    sizeof(why)) != -1 ||
	    strcmp(why, "is owned by uid 0, not 65534") != 0)
		bad |= 8;
	return bad;
}

static void
test_safe(void)
{
	char why[200];

	mkdir_mode(path("tmp"), 01777);
	T_EQ(rp_fs_check_dir(path("tmp"), RP_DIR_SAFE, why, sizeof(why)), 0);
	mkdir_mode(path("ww"), 0777);
	expect_refused(path("ww"), RP_DIR_SAFE, EPERM,
	    "has mode 0777; writable by group/other without the sticky bit");
	mkdir_mode(path("gw"), 0775);
	expect_refused(path("gw"), RP_DIR_SAFE, EPERM,
	    "has mode 0775; writable by group/other without the sticky bit");
	mkdir_mode(path("ro"), 0755);
	T_EQ(rp_fs_check_dir(path("ro"), RP_DIR_SAFE, why, sizeof(why)), 0);
	mkdir_mode(path("nob"), 0755);
	T_EQ(chown(path("nob"), NOBODY, NOBODY), 0);
	expect_refused(path("nob"), RP_DIR_SAFE, EPERM,
	    "is owned by uid 65534, not 0 or root");
	T_EQ(symlink(path("tmp"), path("l")), 0);
	expect_refused(path("l"), RP_DIR_SAFE, ENOTDIR, "is a symlink");

	/* As another uid: root's and our own are fine, a third's is not. */
	T_EQ(chmod(t_tmpdir(), 0711), 0);
	mkdir_mode(path("rootdir"), 0755);
	mkdir_mode(path("mine"), 0755);
	T_EQ(chown(path("mine"), NOBODY, NOBODY), 0);
	mkdir_mode(path("other"), 0755);
	T_EQ(chown(path("other"), 1000, 1000), 0);
	T_EQ(as_nobody(safe_as_nobody), 0);
}

static void
test_read_file(void)
{
	struct rp_buf b = { 0 };
	int fd;

	fd = open(path("f"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	T_EQ(write(fd, "0123456789", 10), 10);
	close(fd);
	T_EQ(rp_buf_puts(&b, "pre:"), 0);
	T_EQ(rp_fs_read_file(path("f"), 10, &b), 0);
	T_STR(rp_buf_str(&b), "pre:0123456789");
	/* One byte over: EFBIG, and the buffer as it was. */
	errno = 0;
	T_EQ(rp_fs_read_file(path("f"), 9, &b), -1);
	T_EQ(errno, EFBIG);
	T_STR(rp_buf_str(&b), "pre:0123456789");
	errno = 0;
	T_EQ(rp_fs_read_file(path("none"), 10, &b), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_fs_read_file(t_tmpdir(), 10, &b), -1);
	T_EQ(errno, EISDIR);
	/* A FIFO is refused, without waiting for a writer. */
	T_EQ(mkfifo(path("fifo"), 0600), 0);
	errno = 0;
	T_EQ(rp_fs_read_file(path("fifo"), 10, &b), -1);
	T_EQ(errno, EINVAL);
	T_UEQ(b.len, 14);
	/* /proc files claim size 0: read to EOF all the same. */
	rp_buf_clear(&b);
	T_EQ(rp_fs_read_file("/proc/self/status", 1 << 20, &b), 0);
	T_OK(strstr(rp_buf_str(&b), "Pid:") != NULL);
	/* ...and the bound still holds for them. */
	rp_buf_clear(&b);
	errno = 0;
	T_EQ(rp_fs_read_file("/proc/self/status", 16, &b), -1);
	T_EQ(errno, EFBIG);
	T_UEQ(b.len, 0);
	/* An empty file. */
	rp_buf_clear(&b);
	T_EQ(close(open(path("empty"), O_CREAT | O_WRONLY | O_CLOEXEC, 0600)),
	    0);
	T_EQ(rp_fs_read_file(path("empty"), 0, &b), 0);
	T_UEQ(b.len, 0);
	rp_buf_free(&b);
}

static void
put_file(const char *p, const char *text, mode_t mode)
{
	int fd = open(p, O_CREAT | O_WRONLY | O_TRUNC | O_CLOEXEC, 0600);

	T_OK(fd >= 0);
	T_EQ(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	T_EQ(chmod(p, mode), 0);
}

/* rp_fs_read_trusted on p: refused with err and exactly why_want, and the
 * buffer left as it was. */
static void
expect_untrusted(const char *p, int err, const char *why_want)
{
	struct rp_buf b = { 0 };
	char why[400] = "untouched";

	T_EQ(rp_buf_puts(&b, "pre"), 0);
	errno = 0;
	T_EQ(rp_fs_read_trusted(p, 100, &b, why, sizeof(why)), -1);
	T_EQ(errno, err);
	T_STR(why, why_want);
	T_STR(rp_buf_str(&b), "pre");
	rp_buf_free(&b);
}

static void
expect_trusted(const char *p, const char *text)
{
	struct rp_buf b = { 0 };
	char why[400] = "untouched";

	if (rp_fs_read_trusted(p, 100, &b, why, sizeof(why)) != 0)
		t_fail(__FILE__, __LINE__, "%s: %s", p, why);
	T_STR(rp_buf_str(&b), text);
	rp_buf_free(&b);
}

static int
trusted_as_nobody(void)
{
	struct rp_buf b = { 0 };
	char why[400];
	int bad = 0;

	/* Our own and root's are fine; a third uid's is not. */
	if (rp_fs_read_trusted(path("td/mine"), 100, &b, why, sizeof(why)))
		bad |= 1;
	if (rp_fs_read_trusted(path("td/roots"), 100, &b, why, sizeof(why)))
		bad |= 2;
	if (rp_fs_read_trusted(path("td/other"), 100, &b, why,
	    sizeof(why)) != -1 || errno != EPERM ||
	    strcmp(why, "owned by uid 1000, not 65534 or root") != 0)
		bad |= 4;
	rp_buf_free(&b);
	return bad;
}

static void
test_read_trusted(void)
{
	char want[PATH_MAX + 64], real[PATH_MAX];

	mkdir_mode(path("td"), 0700);
	mkdir_mode(path("td/sub"), 0700);
	mkdir_mode(path("out"), 0700);
	put_file(path("td/ok"), "ok", 0600);
	expect_trusted(path("td/ok"), "ok");
	/* Others may read it; nobody else may write it. */
	put_file(path("td/r"), "r", 0644);
	expect_trusted(path("td/r"), "r");
	put_file(path("td/ww"), "x", 0666);
	expect_untrusted(path("td/ww"), EPERM,
	    "writable by group or others (mode 0666)");
	put_file(path("td/gw"), "x", 0620);
	expect_untrusted(path("td/gw"), EPERM,
	    "writable by group or others (mode 0620)");
	put_file(path("td/nob"), "x", 0600);
	T_EQ(chown(path("td/nob"), NOBODY, NOBODY), 0);
	expect_untrusted(path("td/nob"), EPERM, "owned by uid 65534, not root");

	/* Links: followed while they stay inside the directory, however
	 * they are spelled and however many there are. */
	put_file(path("td/sub/deep"), "deep", 0600);
	T_EQ(symlink("ok", path("td/l-rel")), 0);
	expect_trusted(path("td/l-rel"), "ok");
	T_EQ(symlink(path("td/sub/deep"), path("td/l-abs")), 0);
	expect_trusted(path("td/l-abs"), "deep");
	T_EQ(symlink("sub/../l-rel", path("td/l-chain")), 0);
	expect_trusted(path("td/l-chain"), "ok");
	/* ...and the target is judged, not the link. */
	T_EQ(symlink("nob", path("td/l-nob")), 0);
	expect_untrusted(path("td/l-nob"), EPERM,
	    "owned by uid 65534, not root");
	T_EQ(symlink("ww", path("td/l-ww")), 0);
	expect_untrusted(path("td/l-ww"), EPERM,
	    "writable by group or others (mode 0666)");
	/* Out of the directory: refused, wherever it is and whoever owns
	 * it, directly, through "..", or through another link inside. */
	put_file(path("out/evil"), "evil", 0600);
	T_EQ(rp_fs_realpath(path("out/evil"), real, sizeof(real)), 0);
	snprintf(want, sizeof(want), "a symbolic link leading out of its "
	    "directory, to %s", real);
	T_EQ(symlink(path("out/evil"), path("td/l-out")), 0);
	expect_untrusted(path("td/l-out"), EPERM, want);
	T_EQ(symlink("../out/evil", path("td/l-dotdot")), 0);
	expect_untrusted(path("td/l-dotdot"), EPERM, want);
	T_EQ(symlink("l-out", path("td/l-via")), 0);
	expect_untrusted(path("td/l-via"), EPERM, want);
	T_EQ(symlink(path("out"), path("td/sub/up")), 0);
	T_EQ(symlink("sub/up/evil", path("td/l-dir")), 0);
	expect_untrusted(path("td/l-dir"), EPERM, want);
	T_EQ(symlink("/etc/passwd", path("td/l-etc")), 0);
	expect_untrusted(path("td/l-etc"), EPERM, "a symbolic link leading "
	    "out of its directory, to /etc/passwd");
	T_EQ(symlink("nowhere", path("td/l-dangling")), 0);
	expect_untrusted(path("td/l-dangling"), ENOENT,
	    "No such file or directory");
	/* The directory reached through a link: "inside" is judged on the
	 * resolved paths of both. */
	T_EQ(symlink(path("td"), path("td-link")), 0);
	expect_trusted(path("td-link/l-rel"), "ok");
	expect_untrusted(path("td-link/l-out"), EPERM, want);

	/* Not a regular file, too large, missing. */
	T_EQ(mkfifo(path("td/fifo"), 0600), 0);
	expect_untrusted(path("td/fifo"), EINVAL, "not a regular file");
	expect_untrusted(path("td/sub"), EISDIR, "Is a directory");
	put_file(path("td/big"), "0123456789", 0600);
	{
		struct rp_buf b = { 0 };
		char why[100];

		errno = 0;
		T_EQ(rp_fs_read_trusted(path("td/big"), 9, &b, why,
		    sizeof(why)), -1);
		T_EQ(errno, EFBIG);
		T_STR(why, "larger than 9 bytes");
		T_EQ(rp_fs_read_trusted(path("td/big"), 10, &b, why,
		    sizeof(why)), 0);
		T_STR(rp_buf_str(&b), "0123456789");
		rp_buf_free(&b);
	}
	expect_untrusted(path("td/none"), ENOENT, "No such file or directory");

	/* As another uid (the directory open to it). */
	T_EQ(chmod(t_tmpdir(), 0711), 0);
	T_EQ(chmod(path("td"), 0755), 0);
	put_file(path("td/mine"), "m", 0644);
	T_EQ(chown(path("td/mine"), NOBODY, NOBODY), 0);
	put_file(path("td/roots"), "r", 0644);
	put_file(path("td/other"), "o", 0644);
	T_EQ(chown(path("td/other"), 1000, 1000), 0);
	T_EQ(as_nobody(trusted_as_nobody), 0);
}

static int
count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
test_write_atomic(void)
{
	const char *dir = t_tmpdir();
	struct rp_buf b = { 0 };
	struct stat st1, st2;
	char longname[300];

	umask(077);
	T_EQ(rp_fs_write_atomic(dir, "conf", "first", 5, 0640), 0);
	umask(022);
	T_EQ(mode_of(path("conf")), 0640);
	T_EQ(rp_fs_read_file(path("conf"), 100, &b), 0);
	T_STR(rp_buf_str(&b), "first");
	T_EQ(lstat(path("conf"), &st1), 0);
	T_EQ(rp_fs_write_atomic(dir, "conf", "second!", 7, 0600), 0);
	T_EQ(lstat(path("conf"), &st2), 0);
	/* A new file took the name: readers of the old one were never
	 * shown a half-written file. */
	T_OK(st1.st_ino != st2.st_ino);
	T_EQ(mode_of(path("conf")), 0600);
	rp_buf_clear(&b);
	T_EQ(rp_fs_read_file(path("conf"), 100, &b), 0);
	T_STR(rp_buf_str(&b), "second!");
	T_EQ(count_entries(dir), 1);
	T_EQ(rp_fs_write_atomic(dir, "empty", NULL, 0, 0600), 0);
	T_EQ(count_entries(dir), 2);

	/* The rename fails (a non-empty directory holds the name): the
	 * temporary file is gone and the directory untouched. */
	T_EQ(mkdir(path("busy"), 0700), 0);
	T_EQ(mkdir(path("busy/inner"), 0700), 0);
	errno = 0;
	T_EQ(rp_fs_write_atomic(dir, "busy", "x", 1, 0600), -1);
	T_OK(errno == EISDIR || errno == ENOTEMPTY || errno == EEXIST);
	T_EQ(count_entries(dir), 3);
	T_EQ(count_entries(path("busy")), 1);

	errno = 0;
	T_EQ(rp_fs_write_atomic(path("nodir"), "x", "x", 1, 0600), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_fs_write_atomic(dir, "a/b", "x", 1, 0600), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_fs_write_atomic(dir, "..", "x", 1, 0600), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_fs_write_atomic(dir, "", "x", 1, 0600), -1);
	T_EQ(errno, EINVAL);
	memset(longname, 'n', sizeof(longname));
	longname[250] = '\0';
	errno = 0;
	T_EQ(rp_fs_write_atomic(dir, longname, "x", 1, 0600), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_EQ(count_entries(dir), 3);
	rp_buf_free(&b);
}

/* A path someone else may have prepared: no symbolic link is walked
 * through, in the directory or at the name; only a regular file (or a
 * link, itself) is replaced. */
static void
test_write_atomic_nofollow(void)
{
	const char *d = t_tmpdir();
	char dir[256], link[600], target[512], fifo[600];
	struct rp_buf b = { 0 };
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/real", d);
	T_EQ(mkdir(dir, 0700), 0);
	snprintf(target, sizeof(target), "%s/victim", d);
	T_EQ(rp_fs_write_atomic(d, "victim", "precious", 8, 0644), 0);

	/* A new file, then an atomic replace. */
	T_EQ(rp_fs_write_atomic_nofollow(dir, "out", "one", 3, 0600), 0);
	T_EQ(rp_fs_write_atomic_nofollow(dir, "out", "two", 3, 0600), 0);
	snprintf(link, sizeof(link), "%s/out", dir);
	T_EQ(rp_fs_read_file(link, 100, &b), 0);
	T_STR(rp_buf_str(&b), "two");
	T_EQ(mode_of(link), 0600);

	/* A symlink at the name is replaced, its target untouched. */
	snprintf(link, sizeof(link), "%s/planted", dir);
	T_EQ(symlink(target, link), 0);
	T_EQ(rp_fs_write_atomic_nofollow(dir, "planted", "dump", 4, 0600), 0);
	T_EQ(lstat(link, &st), 0);
	T_OK(S_ISREG(st.st_mode));
	rp_buf_clear(&b);
	T_EQ(rp_fs_read_file(target, 100, &b), 0);
	T_STR(rp_buf_str(&b), "precious");

	/* A symlink in the directory's path: ELOOP, nothing written. */
	snprintf(link, sizeof(link), "%s/dirlink", d);
	T_EQ(symlink(dir, link), 0);
	errno = 0;
	T_EQ(rp_fs_write_atomic_nofollow(link, "x", "x", 1, 0600), -1);
	T_EQ(errno, ELOOP);
	snprintf(link, sizeof(link), "%s/dirlink/.", d);
	errno = 0;
	T_EQ(rp_fs_open_dir_nofollow(link), -1);
	T_EQ(errno, ELOOP);
	errno = 0;
	T_EQ(rp_fs_open_dir_nofollow("relative/dir"), -1);
	T_EQ(errno, EINVAL);
	T_EQ(count_entries(dir), 2);

	/* Not a regular file at the name: left alone. */
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	T_EQ(mkfifo(fifo, 0600), 0);
	errno = 0;
	T_EQ(rp_fs_write_atomic_nofollow(dir, "fifo", "x", 1, 0600), -1);
	T_EQ(errno, EINVAL);
	T_EQ(lstat(fifo, &st), 0);
	T_OK(S_ISFIFO(st.st_mode));
	T_EQ(count_entries(dir), 3);
	errno = 0;
	T_EQ(rp_fs_write_atomic_nofollow(d, "real", "x", 1, 0600), -1);
	T_EQ(errno, EISDIR);
	rp_buf_free(&b);
}

/* Names of one file, spelled every way a path to a socket may come:
 * absolute, relative, through a linked directory, a link to the file;
 * another file (even of the same name elsewhere) is not it. */
static void
test_same_file(void)
{
	const char *d = t_tmpdir();
	char real[512], other[512], viadir[512], vialink[512], cwd[512];
	char dirlink[512], rel[512], dir[512];

	snprintf(dir, sizeof(dir), "%s/real", d);
	T_EQ(mkdir(dir, 0700), 0);
	T_EQ(rp_fs_write_atomic(dir, "be.sock", "x", 1, 0600), 0);
	snprintf(dir, sizeof(dir), "%s/other", d);
	T_EQ(mkdir(dir, 0700), 0);
	T_EQ(rp_fs_write_atomic(dir, "be.sock", "x", 1, 0600), 0);
	snprintf(real, sizeof(real), "%s/real/be.sock", d);
	snprintf(other, sizeof(other), "%s/other/be.sock", d);
	snprintf(dirlink, sizeof(dirlink), "%s/link", d);
	T_EQ(symlink("real", dirlink), 0);
	snprintf(viadir, sizeof(viadir), "%s/link/./be.sock", d);
	snprintf(vialink, sizeof(vialink), "%s/alias.sock", d);
	T_EQ(symlink("real/be.sock", vialink), 0);
	snprintf(rel, sizeof(rel), "%s/real/../real/be.sock", d);

	T_EQ(rp_fs_same_file(real, real), 1);
	T_EQ(rp_fs_same_file(real, viadir), 1);
	T_EQ(rp_fs_same_file(vialink, real), 1);
	T_EQ(rp_fs_same_file(rel, real), 1);
	T_OK(getcwd(cwd, sizeof(cwd)) != NULL);
	T_EQ(chdir(dirlink), 0);
	T_EQ(rp_fs_same_file("be.sock", real), 1);
	T_EQ(rp_fs_same_file("be.sock", other), 0);
	T_EQ(chdir(cwd), 0);
	T_EQ(rp_fs_same_file(real, other), 0);
	/* What cannot be reached is not the same, and errno is kept. */
	errno = EINTR;
	T_EQ(rp_fs_same_file(real, "/nonexistent/be.sock"), 0);
	T_EQ(rp_fs_same_file("/nonexistent/be.sock", "/nonexistent/be.sock"),
	    0);
	T_EQ(errno, EINTR);
}

static void
test_realpath(void)
{
	char dir[PATH_MAX], in[PATH_MAX + 64], want[PATH_MAX + 64];
	char out[PATH_MAX + 64];
	size_t n;

	/* t_tmpdir may itself sit behind a symlink: compare with realpath. */
	T_OK(realpath(t_tmpdir(), dir) != NULL);
	snprintf(in, sizeof(in), "%s/d", dir);
	T_EQ(mkdir(in, 0700), 0);
	snprintf(in, sizeof(in), "%s/link", dir);
	T_EQ(symlink("d", in), 0);
	/* A symlink, "." and ".." and doubled slashes, all resolved. */
	snprintf(in, sizeof(in), "%s/link/.//../link", dir);
	snprintf(want, sizeof(want), "%s/d", dir);
	T_EQ(rp_fs_realpath(in, out, sizeof(out)), 0);
	T_STR(out, want);
	/* Exactly big enough, and one byte short. */
	n = strlen(want) + 1;
	T_EQ(rp_fs_realpath(in, out, n), 0);
	T_STR(out, want);
	errno = 0;
	T_EQ(rp_fs_realpath(in, out, n - 1), -1);
	T_EQ(errno, ENAMETOOLONG);
	snprintf(in, sizeof(in), "%s/missing", dir);
	errno = 0;
	T_EQ(rp_fs_realpath(in, out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
}

static void
test_dirname(void)
{
	static const char *cases[][2] = {
		{ "/a/b/c.sock", "/a/b" }, { "a/b", "a" }, { "a", "." },
		{ "", "." }, { "/", "/" }, { "/a", "/" }, { "a/b/", "a" },
		{ "a//b", "a" }, { "//a", "/" }, { "a/", "." },
		{ "/x/y//", "/x" },
	};
	char out[64];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ(rp_fs_dirname(cases[i][0], out, sizeof(out)), 0);
		T_STR(out, cases[i][1]);
	}
	errno = 0;
	T_EQ(rp_fs_dirname("/abcdef/g", out, 7), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_EQ(rp_fs_dirname("/abcdef/g", out, 8), 0);
	T_STR(out, "/abcdef");
}

static void
test_check_exec(void)
{
	char p[PATH_MAX], why[256];
	int fd, st;
	pid_t pid;

	snprintf(p, sizeof(p), "%s/run", t_tmpdir());
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0755);
	T_OK(fd >= 0);
	close(fd);
	T_EQ(rp_fs_check_exec(p, why, sizeof(why)), 0);
	T_STR(why, "");
	/* Through a symbolic link, as execve follows it. */
	snprintf(p, sizeof(p), "%s/link", t_tmpdir());
	T_EQ(symlink("run", p), 0);
	T_EQ(rp_fs_check_exec(p, why, sizeof(why)), 0);
	snprintf(p, sizeof(p), "%s/absent", t_tmpdir());
	errno = 0;
	T_EQ(rp_fs_check_exec(p, why, sizeof(why)), -1);
	T_EQ(errno, ENOENT);
	T_STR(why, "does not exist");
	T_EQ(rp_fs_check_exec(t_tmpdir(), why, sizeof(why)), -1);
	T_EQ(errno, EACCES);
	T_STR(why, "is not a regular file");
	snprintf(p, sizeof(p), "%s/run/x", t_tmpdir());
	T_EQ(rp_fs_check_exec(p, why, sizeof(why)), -1);
	T_EQ(errno, ENOTDIR);
	T_STR(why, "cannot be examined: Not a directory");
	/* No x bit at all: not even root may run it. */
	snprintf(p, sizeof(p), "%s/plain", t_tmpdir());
	fd = open(p, O_WRONLY | O_CREAT | O_EXCL, 0644);
	T_OK(fd >= 0);
	close(fd);
	T_EQ(rp_fs_check_exec(p, why, sizeof(why)), -1);
	T_EQ(errno, EACCES);
	T_STR(why, "is not executable");
	/* Its owner's only: for another uid, not executable. */
	if (geteuid() != 0)
		return;
	snprintf(p, sizeof(p), "%s/run", t_tmpdir());
	T_EQ(chmod(p, 0700), 0);
	T_EQ(chmod(t_tmpdir(), 0755), 0);
	pid = fork();
	if (pid == 0) {
		if (setgroups(0, NULL) != 0 || setgid(65534) != 0 ||
		    setuid(65534) != 0)
			_exit(2);
		_exit(rp_fs_check_exec(p, why, sizeof(why)) == -1 &&
		    errno == EACCES && strcmp(why, "is not executable") == 0 ?
		    0 : 1);
	}
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
}

/* The event log's open, the reserve fd, and the definition cache's stat. */
static void
test_append_null_stamp(void)
{
	struct rp_fs_stamp a, b2;
	char *f = path("append.log");
	char buf[16];
	int fd;

	(void)unlink(f);
	T_OK((fd = rp_fs_open_append(f, 1)) >= 0);
	T_EQ(write(fd, "ab", 2), 2);
	close(fd);
	errno = 0;
	T_EQ(rp_fs_open_append(f, 1), -1);
	T_EQ(errno, EEXIST);
	T_OK((fd = rp_fs_open_append(f, 0)) >= 0);
	T_EQ((int)(fcntl(fd, F_GETFD) & FD_CLOEXEC), FD_CLOEXEC);
	T_EQ(lseek(fd, 0, SEEK_SET), 0);
	T_EQ(write(fd, "cd", 2), 2);   /* O_APPEND: at the end all the same */
	close(fd);
	T_OK((fd = open(f, O_RDONLY)) >= 0);
	T_EQ(read(fd, buf, sizeof(buf)), 4);
	T_MEM(buf, "abcd", 4);
	close(fd);
	T_EQ(rp_fs_stamp(f, &a), 0);
	T_UEQ(a.size, 4);
	T_OK(a.mtime_ns > 0 && a.ctime_ns > 0);
	T_OK((fd = rp_fs_open_append(f, 0)) >= 0);
	T_EQ(write(fd, "e", 1), 1);
	close(fd);
	T_EQ(rp_fs_stamp(f, &b2), 0);
	T_UEQ(b2.dev, a.dev);
	T_UEQ(b2.ino, a.ino);
	T_UEQ(b2.size, 5);
	T_OK(b2.mtime_ns >= a.mtime_ns);
	errno = 0;
	T_EQ(rp_fs_stamp(path("no-such-file"), &a), -1);
	T_EQ(errno, ENOENT);
	T_OK((fd = rp_fs_open_null()) >= 0);
	T_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	unlink(f);
}

int
main(void)
{
	T_RUN(test_private);
	T_RUN(test_append_null_stamp);
	T_RUN(test_create);
	T_RUN(test_safe);
	T_RUN(test_read_file);
	T_RUN(test_read_trusted);
	T_RUN(test_write_atomic);
	T_RUN(test_write_atomic_nofollow);
	T_RUN(test_realpath);
	T_RUN(test_dirname);
	T_RUN(test_same_file);
	T_RUN(test_check_exec);
	return t_done();
}
