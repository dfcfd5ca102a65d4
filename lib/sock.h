/*
 * sock.h — local stream endpoints: listening by the broker's rules,
 * connecting under a deadline, peer credentials.  Unix stream sockets
 * (lib/posix/sock.c); on Windows, named pipes (lib/win/sock.c), where a
 * path is a pipe name: \\.\pipe\NAME, or a bare NAME that gets the
 * prefix (70-windows.md "Endpoints").
 */
#ifndef RP_SOCK_H
#define RP_SOCK_H

#include <stddef.h>
#include <stdint.h>

#include "names.h"

struct rp_sock_listener {
	int fd;                          /* listening, CLOEXEC, non-blocking */
	uint64_t dev, ino;               /* the socket file we created */
	int owns_path;                   /* 0 for inherited (activation) fds */
	char path[RP_SUN_PATH_MAX];
};

/* Listen on path by the rules of 20-broker.md:
 *   - the directory is checked with dir_policy (fs.h; RP_DIR_PRIVATE |
 *     RP_DIR_CREATE for the broker), failing with that errno and why;
 *   - a path that does not fit sun_path fails with ENAMETOOLONG;
 *   - if something answers on path: EADDRINUSE (a live peer; never stolen);
 *   - if path exists and nobody answers: removed only when it is a socket
 *     owned by us (else EEXIST, with why), then bound;
 *   - the check-remove-bind-listen sequence holds an exclusive lock on the
 *     directory, so of several racing listeners exactly one wins and the
 *     others see EADDRINUSE; none removes the winner's socket.
 * The socket file gets mode 0600.  Returns 0 or -1 with errno. */
int rp_sock_listen(const char *path, int dir_policy, int backlog,
    struct rp_sock_listener *out, char *why, size_t whysz);

/* Adopt an inherited listening fd (socket activation); nothing is removed
 * on close.  Fails with ENOTSOCK if fd is not a listening Unix socket. */
int rp_sock_listen_fd(int fd, struct rp_sock_listener *out);

/* Close the listener; remove its socket file only when the path still
 * names the socket we created (same dev/inode). */
void rp_sock_unlisten(struct rp_sock_listener *l);

/* 1 when the listener's path still names the socket it created (same
 * device and inode: not removed, not replaced), else 0.  Windows: 1 (a
 * pipe's name lives as long as its instances, which the listener holds). */
int rp_sock_listener_intact(const struct rp_sock_listener *l);

/* Connect to path before the deadline.  Returns the fd (CLOEXEC; left
 * non-blocking when nonblock, else blocking) or -1 with errno (ENOENT,
 * ECONNREFUSED, EACCES, ETIMEDOUT, ENAMETOOLONG...). */
int rp_sock_connect(const char *path, int nonblock, int64_t deadline);

/*
 * Connect to path before the deadline, waiting for a listener to come up
 * there: while path (or a directory on the way) is missing, the nearest
 * directory that exists is watched (inotify), so nothing is polled and a
 * socket that appears is dialled at once; a socket file that refuses
 * (bound but not listening yet, or stale until a new listener replaces
 * it) is tried again at growing intervals up to 100 ms, as listen(2)
 * leaves no trace a watch sees.  Returns the fd as rp_sock_connect does,
 * or -1 with errno: ETIMEDOUT when the deadline passed first, or the
 * error of a connect that waiting cannot mend (EACCES, ENAMETOOLONG...).
 */
int rp_sock_connect_wait(const char *path, int nonblock, int64_t deadline);

/* accept4 with CLOEXEC (and NONBLOCK when nonblock).  -1 with errno;
 * EAGAIN when nothing is pending. */
int rp_sock_accept(int lfd, int nonblock);

#define RP_SID_MAX 68             /* SECURITY_MAX_SID_SIZE */

struct rp_peercred {
	uint32_t pid;   /* 0 when the kernel did not say */
	uint32_t uid;   /* Windows: the last part (RID) of the user's SID */
	uint32_t gid;   /* Windows: 0 */
	uint8_t sidlen; /* Windows: the user's SID, sid[0..sidlen) */
	uint8_t sid[RP_SID_MAX];
};

/* SO_PEERCRED of a connected socket.  On Windows the other end's pid
 * (GetNamedPipeClientProcessId, or ...ServerProcessId from a client) and
 * the user of that process's token.  0 or -1 with errno. */
int rp_sock_peercred(int fd, struct rp_peercred *out);

/* 1 when the peer runs as our own user (POSIX: pc->uid is our euid;
 * Windows: the SID of its token is ours, EqualSid), or, where users are
 * uids (pc->sidlen == 0), as one of the uids allow[0..n); else 0.  A
 * Windows peer is never admitted by a uid of allow (a RID names no user
 * by itself).  Our euid is taken at the first call: a process that
 * changes it later must not rely on this. */
int rp_peercred_allowed(const struct rp_peercred *pc, const uint32_t *allow,
    size_t n);

/* No more writes on this connection: shutdown(2) SHUT_WR, so the peer
 * reads the end of stream after what was written while we may still
 * read.  0, or -1 with errno.  Windows: -1 with ENOTSUP (a named pipe
 * has no half-close). */
int rp_sock_shutdown_write(int fd);

/* The endpoint of a broker's backend (handoff 0) or its handoff
 * listener (handoff 1), for rnd: on Unix rp_names_backend_endpoint and
 * rp_names_backend_handoff in dir (the broker's private directory); on
 * Windows the named pipe \\.\pipe\rpb-v1-{hash16}-be-{32 hex} (-ho-),
 * whatever dir is.  Length, or -1 with errno as those. */
int rp_sock_backend_endpoint(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16], int handoff);

/* Where a broker's backends' endpoints live when they need no
 * directory: "" on Unix (length 0: the caller picks a private
 * directory); on Windows "\\.\pipe", the pipe namespace (its length).
 * -1 with ENAMETOOLONG when it does not fit out. */
int rp_sock_namespace(char *out, size_t outsz);

/* A connected socketpair (CLOEXEC), for tests and in-process plumbing.
 * (Windows: the two ends of a fresh pipe of a random name.) */
int rp_sock_pair(int sv[2], int nonblock);

/* An endpoint's name as it is served and claimed: path itself on Unix;
 * on Windows the full pipe name (\\.\pipe\ added to a bare name).
 * Into out: its length, or -1 with errno (EINVAL, ENAMETOOLONG). */
int rp_sock_endpoint_name(const char *path, char *out, size_t outsz);

/* A socket path as clients elsewhere can use it: a relative one joined to
 * the working directory (no link resolved); on Windows, where endpoints
 * are pipe names, unchanged.  Into out: 0, or -1 with errno (ENAMETOOLONG
 * when it does not fit outsz, or getcwd's). */
int rp_sock_endpoint_abs(const char *path, char *out, size_t outsz);

/* 1 when the endpoint names a and b are the same as strings go: equal
 * (Windows: as full pipe names, case-insensitively, a bare name with its
 * prefix), else 0. */
int rp_sock_endpoint_equal(const char *a, const char *b);

/* Whether a live socket is bound to the filesystem name path, listening
 * or not yet (between bind(2) and listen(2), when a connect is refused
 * as it is at a stale one): 1 when one is, 0 when none is, -1 with errno
 * when it cannot be known.  (Linux: /proc/net/unix, which lists the
 * sockets of our network namespace; elsewhere, and on Windows, -1 with
 * ENOTSUP.) */
int rp_sock_path_bound(const char *path);

#endif
