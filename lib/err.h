/*
 * err.h — the toolkit's one exit-status table (spec 00-overview.md) and the
 * one place where an errno becomes an exit status.
 *
 * errno conventions used across librp, so that the mapping below holds:
 *   ETIMEDOUT      a deadline passed
 *   EPROTO         the peer sent something malformed or unexpected
 *   EMSGSIZE       a frame or message exceeded its cap (a protocol error)
 *   EBADMSG        a control message was truncated or carried the wrong fds
 *   ECONNRESET,
 *   EPIPE          the peer went away in the middle of an exchange
 *   ENOENT, ECONNREFUSED, EACCES, EPERM, ENOTSOCK, ENOTDIR, EHOSTUNREACH
 *                  the peer cannot be reached at all
 */
#ifndef RP_ERR_H
#define RP_ERR_H

#include <stddef.h>
#include <stdint.h>

#include "cdefs.h"

enum rp_exit {
	RP_EXIT_OK = 0,          /* success */
	RP_EXIT_NO = 1,          /* a definite "no": rejected, mismatch, not ready */
	RP_EXIT_USAGE = 2,       /* bad option or value */
	RP_EXIT_UNREACHABLE = 3, /* no socket, connection refused, permission */
	RP_EXIT_DEADLINE = 4,    /* deadline passed */
	RP_EXIT_PROTOCOL = 5,    /* the peer sent something malformed */
	RP_EXIT_REFUSED = 10,    /* 10 + ErrorCode of a Hello refusal */
	RP_EXIT_TIMEOUT = 124,   /* rp-spawn-pty --timeout expired */
	RP_EXIT_INTERNAL = 125,  /* the program itself failed */
	RP_EXIT_NOEXEC = 126,    /* found but not executable */
	RP_EXIT_NOTFOUND = 127,  /* not found */
	RP_EXIT_SIGNAL = 128,    /* 128 + N: killed by signal N */
};

/* Exit status for a failure that left errno == err (see the table above;
 * anything not listed is RP_EXIT_INTERNAL). */
int rp_exit_from_errno(int err);

/* 10 + code for a Hello refused with ErrorCode `code` (0..9); codes outside
 * the defined range map to RP_EXIT_PROTOCOL. */
int rp_exit_from_refusal(uint32_t code);

/* Exit status for an exec failure errno: 127 for ENOENT/ENOTDIR/ENAMETOOLONG
 * (not found), 126 for everything else (found but could not be run). */
int rp_exit_from_exec_errno(int err);

/* Put a reason, formatted as by snprintf, into a caller's optional
 * (why, whysz) pair, the way rp_fs_check_dir and rp_sock_listen report
 * theirs: nothing happens when why is NULL or whysz is 0, and a long
 * reason is cut to fit (always NUL-terminated).  errno is left as it
 * was, so a caller can report it after.  Never prints. */
void rp_err_why(char *why, size_t whysz, const char *fmt, ...)
	RP_PRINTF(3, 4);

#endif
