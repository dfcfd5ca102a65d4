/*
 * fdpass.h — passing exactly one fd with a few data bytes over a connected
 * Unix stream socket (SCM_RIGHTS).  (Implemented in lib/posix/fdpass.c.)
 *
 * Receiving is strict, in the manner of skalibs' ancil_recv_fd: fds arrive
 * close-on-exec (MSG_CMSG_CLOEXEC), a truncated control message or any
 * number of fds other than one is a failure, and on every failure each fd
 * that did arrive is closed before returning.  Nothing leaks.
 */
#ifndef RP_FDPASS_H
#define RP_FDPASS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* Send len (1..64) data bytes and one fd in a single sendmsg (MSG_NOSIGNAL),
 * waiting for the socket to be writable until the deadline.  The caller
 * keeps its fd.  Returns 0, or -1 with errno (EPROTO for a short send,
 * ETIMEDOUT, EPIPE, ...). */
int rp_fdpass_send(int sock, int fd, const void *data, size_t len,
    int64_t deadline);

/* For a sender that never waits (non-blocking): rp_fdpass_send, then the
 * tail bytes (the offer) right behind that message, in one system call
 * where the system has one (sendmmsg), so that the receiver is woken once
 * with both there.  Returns how many tail bytes went (0..tail_len; the
 * caller writes the rest later), or -1 with errno when the fd message
 * itself did not go (EAGAIN when the socket is full, EPIPE, EPROTO for a
 * short send ...).  The caller keeps its fd. */
ssize_t rp_fdpass_send_with_tail(int sock, int fd, const void *data,
    size_t len, const void *tail, size_t tail_len);

enum rp_fdpass_status {
	RP_FDPASS_OK = 0,
	RP_FDPASS_EOF,          /* the peer closed before sending anything */
	RP_FDPASS_NO_FD,        /* data arrived without an fd */
	RP_FDPASS_TOO_MANY_FDS, /* more than one fd in the message */
	RP_FDPASS_TRUNCATED,    /* MSG_CTRUNC: the control data did not fit */
	RP_FDPASS_TIMEOUT,      /* nothing before the deadline */
	RP_FDPASS_IO,           /* recvmsg failed; errno says why */
};

/* Receive one message: up to bufsz (> 0, else IO with EINVAL) data bytes
 * into buf (*got says how many) and exactly one fd into *fd (close-on-exec,
 * owned by the caller).  On any status but OK, *fd is -1 and every fd that
 * arrived was closed; *got is still reported so callers can describe the
 * data, and so is *nfds, how many fds came with the message (up to 8 are
 * counted: TOO_MANY_FDS; more overflow the control buffer: TRUNCATED).
 * nfds may be NULL.  The count belongs to this message alone: keep it
 * with the status to describe it later (rp_fdpass_status_str).  Data
 * length is the caller's to check (a token is exactly 16 bytes): pass a
 * larger buffer so that a longer message shows as such.  The read ends
 * with the message that carried the fd, so bytes sent after it (the
 * handoff offer) stay in the socket. */
enum rp_fdpass_status rp_fdpass_recv(int sock, void *buf, size_t bufsz,
    size_t *got, int *fd, int *nfds, int64_t deadline);

/* "no fd in the message", "2 fds in one message" (nfds, as
 * rp_fdpass_recv reported it with the status, written into buf, which
 * needs RP_FDPASS_STR_MAX bytes), ...  Returns buf or a static string. */
#define RP_FDPASS_STR_MAX 48
const char *rp_fdpass_status_str(enum rp_fdpass_status st, int nfds,
    char *buf, size_t bufsz);

#endif
