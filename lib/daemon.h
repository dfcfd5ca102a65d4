/*
 * daemon.h — what a long-running service needs from its supervisor's
 * world: readiness and stopping notices (sd_notify), and room for its
 * file descriptors.  (Implemented in lib/posix/daemon.c.)
 */
#ifndef RP_DAEMON_H
#define RP_DAEMON_H

#include <stdint.h>

/*
 * Send one sd_notify datagram ("READY=1", "STOPPING=1", ...) to the socket
 * named by NOTIFY_SOCKET ("@name" is an abstract socket).  Returns 1 when
 * sent, 0 when NOTIFY_SOCKET is unset or empty (nothing to do), -1 with
 * errno (ENAMETOOLONG, ECONNREFUSED...) when it could not be sent.  The
 * datagram socket is created and closed within the call.
 */
int rp_daemon_notify(const char *state);

/* The same with the socket path given (NULL or "" = nothing to do). */
int rp_daemon_notify_to(const char *path, const char *state);

/*
 * The readiness fd (s6 style, --ready-fd): write one newline to *fd, then
 * close it and set *fd to -1; nothing when *fd < 0.  A reader that does
 * not take the byte within a second is not waited for.  0, or -1 with
 * errno from the write (the fd is closed all the same).
 */
int rp_daemon_ready_fd(int *fd);

/* Forget socket activation once taken: LISTEN_PID, LISTEN_FDS and
 * LISTEN_FDNAMES removed from our environment, so that no child of ours
 * takes them for its own. */
void rp_daemon_forget_activation(void);

/*
 * Make room for `want` open files: raise the soft RLIMIT_NOFILE to
 * min(want, hard) when it is below that (never lowers it).  The limits in
 * force afterwards go to *soft and *hard (either may be NULL; RLIM_INFINITY
 * is reported as UINT64_MAX).  0, or -1 with errno when the limits cannot
 * be read; a refused raise is not an error (the caller sees *soft).
 */
int rp_daemon_nofile(uint64_t want, uint64_t *soft, uint64_t *hard);

/* How many fds a process can hold at all, whatever its limits are set
 * to: on Windows the C runtime's descriptor table (2048); UINT64_MAX on
 * Unix, where the hard RLIMIT_NOFILE is the administrator's to raise. */
uint64_t rp_daemon_fd_ceiling(void);

#endif
