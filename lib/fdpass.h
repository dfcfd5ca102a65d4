/*
 * fdpass.h — passing exactly one fd with a few data bytes over a connected
 * Unix stream socket (SCM_RIGHTS).  (Implemented in lib/posix/fdpass.c;
 * lib/win/fdpass.c does the Windows transfer of 40-handoff.md, which has
 * no sideband: see rp_fdpass_give and rp_fdpass_recv there.)
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

/* For a sender that never waits (non-blocking): the data bytes, the fd
 * and the tail bytes (the offer) right behind them, in ONE sendmsg, so
 * that the receiver is woken once and one recvmsg with room for them
 * takes everything (the byte stream is the same as rp_fdpass_send
 * followed by a write of the tail: a receiver that reads exactly len
 * bytes with the fd finds the tail behind them).  Returns how many tail
 * bytes went (0..tail_len; the caller writes the rest later), or -1 with
 * errno when the fd message itself did not go (EAGAIN when the socket is
 * full, EPIPE, EPROTO when not all len data bytes went ...).  The caller
 * keeps its fd. */
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
 * handoff offer) stay in the socket, and bytes sent in the same message
 * (rp_fdpass_send_with_tail) come with it when bufsz has room for them. */
/*
 * On Windows, where the fd comes as a handle_value in the offer frame,
 * this looks at that frame without taking it (PeekNamedPipe: the caller
 * reads it afterwards as on Unix): the offer's token is the data (16
 * bytes), and the handle it names, when it is a pipe or a disk file and
 * none of ours already, is duplicated into a new fd.  An offer that does
 * not parse is NO_FD with *got = 0; one whose handle does not qualify,
 * NO_FD with the token as data.
 */
enum rp_fdpass_status rp_fdpass_recv(int sock, void *buf, size_t bufsz,
    size_t *got, int *fd, int *nfds, int64_t deadline);

/* "no fd in the message", "2 fds in one message" (nfds, as
 * rp_fdpass_recv reported it with the status, written into buf, which
 * needs RP_FDPASS_STR_MAX bytes), ...  Returns buf or a static string. */
#define RP_FDPASS_STR_MAX 48
const char *rp_fdpass_status_str(enum rp_fdpass_status st, int nfds,
    char *buf, size_t bufsz);

/*
 * Why a transfer could not be given (rp_fdpass_give): the failure classes
 * of 40-handoff.md on Windows, where the handle is duplicated into the
 * receiver's process.  On Unix only RP_GIVE_CHANNEL occurs: the sideband
 * is a send on the connection, and fails as the connection does.
 */
enum rp_give_fail {
	RP_GIVE_OK = 0,
	RP_GIVE_CHANNEL,            /* the connection failed, or the process
	                               at its other end cannot be learnt
	                               (errno says why) */
	RP_GIVE_OPEN_PROCESS,       /* the receiver's process cannot be
	                               opened: gone (ESRCH), or another
	                               Win32 error (in why) */
	RP_GIVE_PERMISSION_DENIED,  /* access denied opening the receiver's
	                               process or duplicating into it */
	RP_GIVE_INTEGRITY_MISMATCH, /* denied, and the receiver runs at a
	                               higher integrity level than we do */
	RP_GIVE_DUPLICATE_FAILED,   /* DuplicateHandle failed otherwise (the
	                               Win32 error in why), or fd is no
	                               handle that can go as one */
};

/*
 * The first step of a handoff transfer (40-handoff.md), as the platform
 * makes it.  Unix: the sideband (the 16 token bytes with fd as
 * SCM_RIGHTS, rp_fdpass_send); *value = 0.  Windows: nothing is sent:
 * fd's handle is duplicated into the process at the other end of sock
 * (DuplicateHandle), and *value is its value there, for the offer's
 * handle_value.  The caller keeps its fd.  RP_GIVE_OK (0), or the class
 * of the failure with errno and a reason in why ("cannot open process N
 * (Win32 error E)", "permission denied ...", "integrity mismatch ...",
 * "DuplicateHandle into process N failed (Win32 error E)").
 */
enum rp_give_fail rp_fdpass_give(int sock, int fd, const uint8_t tok[16],
    uint64_t *value, int64_t deadline, char *why, size_t whysz);

/* A transfer given with rp_fdpass_give that the receiver did not accept
 * (a refusal, no Ack, no offer sent): Windows closes the duplicate in the
 * receiver (DUPLICATE_CLOSE_SOURCE); Unix has nothing to do. */
void rp_fdpass_take_back(int sock, uint64_t value);

/* The receiver's verdict on a transfer whose offer named value
 * (rp_handoff_judge calls it): Windows closes the receiver's original of
 * an accepted handle (it works on its own duplicate from rp_fdpass_recv)
 * and leaves a refused one to the sender's rp_fdpass_take_back; Unix has
 * nothing to do. */
void rp_fdpass_settle(uint64_t value, int accepted);

/* 1 where transfers have a sideband (Unix), so that --raw means
 * something; 0 on Windows. */
int rp_fdpass_has_sideband(void);

#endif
