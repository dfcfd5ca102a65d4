/*
 * fs.h — the file-system rules the tools share: directory trust checks,
 * bounded file reads, atomic writes.  (Implemented in lib/posix/fs.c;
 * lib/win/fs.c, where owner and DACL stand in for uid and mode bits.)
 */
#ifndef RP_FS_H
#define RP_FS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* The longest file name (one path component) we make or expect: NAME_MAX
 * on POSIX, and what NTFS allows on Windows. */
#define RP_FS_NAME_MAX 255

enum rp_dir_policy {
	/* The broker's socket directory and the service-definition directory:
	 * a real directory (not a symlink), owned by our euid, no group or
	 * other permission bits, and every directory above it (resolved)
	 * owned by our euid or root and writable by nobody else unless
	 * sticky (on Windows the DACL rules below apply to dir alone).  With
	 * RP_DIR_CREATE a missing directory (and missing parents) is created
	 * 0700. */
	RP_DIR_PRIVATE = 1,
	/* A directory we only put a socket in (rp-handoff-recv SOCKET): a real
	 * directory owned by us or root, not writable by group or other unless
	 * sticky (/tmp is fine, a world-writable non-sticky one is not). */
	RP_DIR_SAFE = 2,
	/* Flag, with either policy: create a missing directory and missing
	 * parents 0700 (existing parents are left alone).  Without it a
	 * missing directory is ENOENT.  The service-definition directory is
	 * checked with plain RP_DIR_PRIVATE: never created. */
	RP_DIR_CREATE = 0x100,
};

/* Check dir against the policy.  Returns 0, or -1 with errno and a short
 * reason in why ("is a symlink", "is owned by uid 1000, not 0", "has mode
 * 0755; group/other permissions must be off", ...) that reads after the
 * directory's name.  On Windows the owner must be our SID (SAFE: or
 * SYSTEM or Administrators), a symlink is any reparse point, and the
 * DACL stands in for the mode: PRIVATE admits only our SID, SYSTEM,
 * Administrators and CREATOR OWNER; SAFE lets nobody else add or remove
 * entries.  errno: ENOENT (missing), ENOTDIR (a symlink or not a
 * directory), EPERM (owner or mode), EINVAL (bad policy), or the error of
 * lstat/mkdir. */
int rp_fs_check_dir(const char *dir, int policy, char *why, size_t whysz);

/*
 * Change notification (lib/posix/fswatch.c: inotify on Linux; elsewhere,
 * and on Windows, rp_fs_watch_open fails with ENOTSUP and the caller
 * checks every time instead).  One fd, readable when something watched
 * may have changed; the caller puts it in its loop.
 *
 * RP_FS_WATCH_DIR: the directory itself (its mode, owner, being moved or
 * removed; never through a symbolic link) and its entries (created,
 * removed, renamed, written, their mode or owner changed).
 * RP_FS_WATCH_FILE: the file a path leads to (following links): written,
 * its mode, owner or link count changed, moved or removed, by whatever
 * name.  Adding a path again is cheap and harmless.
 */
#define RP_FS_WATCH_DIR 1
#define RP_FS_WATCH_FILE 2

/* A new watch: its fd (non-blocking, close-on-exec; close it to stop),
 * or -1 with errno (ENOTSUP where there is none, EMFILE, ...). */
int rp_fs_watch_open(void);

/* Watch path as kind says.  0, or -1 with errno (ENOENT, ENOSPC: no more
 * watches allowed, ...). */
int rp_fs_watch_add(int wfd, const char *path, int kind);

/* Read what is pending: 1 when anything watched may have changed since
 * the last call (an event, or events lost to an overflow), 0 when
 * nothing was pending, -1 with errno on a read error. */
int rp_fs_watch_drain(int wfd);

/* Open path for reading: an fd (close-on-exec, never our controlling
 * terminal), or -1 with errno.  Paths are UTF-8 on every system. */
int rp_fs_open_read(const char *path);

/* Create path, or truncate it, for writing (mode 0666 less the umask
 * for a new file; Windows: the directory's inherited permissions): an
 * fd (close-on-exec), or -1 with errno. */
int rp_fs_open_write(const char *path);

/* Open path for appending (O_APPEND), creating it with mode 0600 when
 * it is missing (with excl, only creating it: EEXIST when it exists), as
 * a log is opened: an fd (close-on-exec, never our controlling
 * terminal), or -1 with errno.  Windows: FILE_APPEND_DATA, a new file
 * with the directory's inherited permissions. */
int rp_fs_open_append(const char *path, int excl);
/* The null device (/dev/null; Windows NUL) for reading: an fd
 * (close-on-exec), or -1 with errno. */
int rp_fs_open_null(void);
/* What tells a file's new version from its old one: device, inode
 * (Windows: volume serial number and file index), size, and the times
 * of its last modification and status change (Windows: the last write
 * and the change time) in nanoseconds since the epoch. */
struct rp_fs_stamp {
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
};
/* stat(2) of path (following symbolic links) into *out: 0, or -1 with
 * errno (ENOENT, ENOTDIR...). */
int rp_fs_stamp(const char *path, struct rp_fs_stamp *out);
/* 0 when dir is a directory we may create files in, else -1 with errno
 * (access(2) with W_OK | X_OK; Windows: a directory whose DACL lets us
 * add files, as far as the system says). */
int rp_fs_writable_dir(const char *dir);

/* Read a whole regular file of at most max bytes into out (appended).
 * Returns 0, or -1 with errno (EFBIG when larger than max, EISDIR/EINVAL
 * when not a regular file); on failure out is as it was. */
int rp_fs_read_file(const char *path, size_t max, struct rp_buf *out);

/* Read a file that tells us what to run (a service definition), as
 * rp_fs_read_file reads it, if a program running as our euid may trust
 * it, by the rules sshd applies to authorized_keys: owned by our euid or
 * by root, not writable by group or others, and, when the last component
 * of path is a symbolic link, one whose target (every link resolved) lies
 * inside path's own directory (resolved as well).  A link within the
 * directory is followed; nothing else is.  The directory itself is the
 * caller's to check (rp_fs_check_dir).  Returns 0, or -1 with errno and a
 * reason in why that reads after the file's name: EPERM ("owned by uid
 * 1000, not root", "writable by group or others (mode 0666)", "a symbolic
 * link leading out of its directory, to /etc/x"), EFBIG ("larger than N
 * bytes"), EISDIR, EINVAL ("not a regular file"), or the error of opening
 * or reading it (its strerror).  out is as it was on failure.  Windows:
 * the owner SID stands in for the uid (ours, SYSTEM or Administrators for
 * root) and the DACL for the mode (no allow ACE that lets another SID
 * write: "writable by S-1-1-0 (its DACL allows it 0x...)"; no DACL at
 * all is everyone's), a reparse point for the symbolic link. */
int rp_fs_read_trusted(const char *path, size_t max, struct rp_buf *out,
    char *why, size_t whysz);

/* Replace dir/name atomically: a temporary file in dir, write, fsync,
 * rename, fsync of dir.  mode is applied to the new file (whatever the
 * umask).  On failure the temporary file is removed and the old file is
 * untouched.  name is one path component (EINVAL otherwise). */
int rp_fs_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, unsigned mode);

/* Open the absolute directory dir without following a symbolic link in
 * any of its components (each one opened with O_NOFOLLOW from "/"): an
 * fd (close-on-exec), or -1 with errno: EINVAL (not absolute), ELOOP (a
 * component is a symbolic link), ENOTDIR, ENOENT, or the error of open.
 * Windows: -1 with ENOTSUP. */
int rp_fs_open_dir_nofollow(const char *dir);

/* rp_fs_write_atomic for a path a less trusted party may have prepared:
 * dir is absolute and opened with rp_fs_open_dir_nofollow (a symbolic
 * link anywhere in it is ELOOP), and an existing dir/name is replaced
 * only when it is a regular file or a symbolic link (the link itself is
 * replaced, never followed); a directory is EISDIR, anything else
 * EINVAL.  Windows: -1 with ENOTSUP (nothing there calls it yet). */
int rp_fs_write_atomic_nofollow(const char *dir, const char *name,
    const void *data, size_t len, unsigned mode);

/* The absolute path of an existing file or directory with every symlink,
 * "." and ".." resolved (realpath(3)), into out.  0, or -1 with errno
 * (ENOENT, ENAMETOOLONG when out is too small...). */
int rp_fs_realpath(const char *path, char *out, size_t outsz);

/* The directory part of path into out ("." when there is none).  Returns
 * 0 or -1 with ENAMETOOLONG. */
int rp_fs_dirname(const char *path, char *out, size_t outsz);

/* Could we run path as a program?  0 when it is (followed as execve(2)
 * follows it, symbolic links included) a regular file we may execute;
 * else -1 with errno (ENOENT, EACCES: not a regular file or not
 * executable for us, or the error of stat/access) and why, which reads
 * after the path: "does not exist", "is not a regular file", "is not
 * executable", "cannot be examined: <the system's reason>". */
int rp_fs_check_exec(const char *path, char *why, size_t whysz);

/* What identifies the contents of the open file fd, for caches that
 * must not outlive a change: the file (device and inode; volume and file
 * index) with its size, change and modification times.  Two ids compare
 * with memcmp.  0, or -1 with errno. */
struct rp_file_id {
	uint64_t w[8];
};
int rp_fs_file_id(int fd, struct rp_file_id *id);

/* The inodes of the file system that holds path: *avail (for an
 * unprivileged user) and *total.  0, or -1 with errno (ENOENT when path
 * does not exist).  *total is 0 when the file system has no fixed inode
 * table to run out of (btrfs; on Windows, every NTFS volume). */
int rp_fs_inodes(const char *path, uint64_t *avail, uint64_t *total);

/* The owner, permission bits (07777) and kind of path, following
 * symbolic links, for reports: 0, or -1 with errno; ENOTSUP on Windows,
 * where an owner SID and a DACL stand in for them (rp_fs_check_dir
 * judges those). */
int rp_fs_owner_mode(const char *path, uint32_t *uid, uint32_t *mode,
    int *isdir);

/* 1 when path (not following a final symbolic link) is a Unix domain
 * socket's file, 0 when it is something else or cannot be examined.
 * On Windows: an AF_UNIX reparse point (the broker's own endpoints there
 * are named pipes, which have no file). */
int rp_fs_is_socket(const char *path);

/* 1 for a separator of path components: '/' (and on Windows '\\'). */
int rp_fs_is_sep(char c);

/* The separator this platform writes between path components: '/'
 * (Windows: '\\'). */
char rp_fs_sep(void);

/* dir, the platform's separator and name, into out (outsz bytes): the
 * path a file name in a directory has, as the system writes it.  dir's
 * trailing separators go first, so "d/" and "d" give one path ("/" and
 * "x" give "/x"; "C:\\" and "x", "C:\\x").  Returns its length, or -1
 * with ENAMETOOLONG when it does not fit (out then holds a truncated,
 * terminated path, for a message). */
int rp_fs_join(char *out, size_t outsz, const char *dir, const char *name);

/* 1 when path is absolute: starts with '/' on POSIX; on Windows a drive
 * and a separator ("C:\\", "C:/"), or two separators (a UNC path,
 * \\\\server\\share, or \\\\?\\...). */
int rp_fs_is_absolute(const char *path);

/* The last component of path: what follows its last separator ('/', and
 * on Windows '\\' and a drive's ':' too), or path itself.  Empty for a
 * path that ends in a separator. */
const char *rp_fs_basename(const char *path);

/* 1 when a and b name the same file, however each is spelled (relative,
 * through a symbolically linked directory, a link to it: stat(2) follows
 * them all and compares device and inode), else 0, also when either
 * cannot be reached. */
int rp_fs_same_file(const char *a, const char *b);

#endif
