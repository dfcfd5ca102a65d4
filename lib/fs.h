/*
 * fs.h — the file-system rules the tools share: directory trust checks,
 * bounded file reads, atomic writes.  (Implemented in lib/posix/fs.c.)
 */
#ifndef RP_FS_H
#define RP_FS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

enum rp_dir_policy {
	/* The broker's socket directory and the service-definition directory:
	 * a real directory (not a symlink), owned by our euid, no group or
	 * other permission bits.  With RP_DIR_CREATE a missing directory (and
	 * missing parents) is created 0700. */
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
 * directory's name.  errno: ENOENT (missing), ENOTDIR (a symlink or not a
 * directory), EPERM (owner or mode), EINVAL (bad policy), or the error of
 * lstat/mkdir. */
int rp_fs_check_dir(const char *dir, int policy, char *why, size_t whysz);

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
 * or reading it (its strerror).  out is as it was on failure. */
int rp_fs_read_trusted(const char *path, size_t max, struct rp_buf *out,
    char *why, size_t whysz);

/* Replace dir/name atomically: a temporary file in dir, write, fsync,
 * rename, fsync of dir.  mode is applied to the new file (whatever the
 * umask).  On failure the temporary file is removed and the old file is
 * untouched.  name is one path component (EINVAL otherwise). */
int rp_fs_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, unsigned mode);

/* The absolute path of an existing file or directory with every symlink,
 * "." and ".." resolved (realpath(3)), into out.  0, or -1 with errno
 * (ENOENT, ENAMETOOLONG when out is too small...). */
int rp_fs_realpath(const char *path, char *out, size_t outsz);

/* The directory part of path into out ("." when there is none).  Returns
 * 0 or -1 with ENAMETOOLONG. */
int rp_fs_dirname(const char *path, char *out, size_t outsz);

/* 1 when a and b name the same file, however each is spelled (relative,
 * through a symbolically linked directory, a link to it: stat(2) follows
 * them all and compares device and inode), else 0, also when either
 * cannot be reached. */
int rp_fs_same_file(const char *a, const char *b);

#endif
