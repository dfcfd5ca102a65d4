/*
 * sock.h — Unix stream sockets: listening by the broker's rules,
 * connecting under a deadline, peer credentials.
 * (Implemented in lib/posix/sock.c.)
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

struct rp_peercred {
	uint32_t pid;   /* 0 when the kernel did not say */
	uint32_t uid;
	uint32_t gid;
};

/* SO_PEERCRED of a connected socket.  0 or -1 with errno. */
int rp_sock_peercred(int fd, struct rp_peercred *out);

/* A connected socketpair (CLOEXEC), for tests and in-process plumbing. */
int rp_sock_pair(int sv[2], int nonblock);

#endif
