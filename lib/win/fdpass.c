/*
 * fdpass.c — the handoff transfer on Windows (40-handoff.md "The transfer
 * on Windows", 70-windows.md "Handoff: DuplicateHandle"; see fdpass.h).
 *
 * There is no sideband: the sender duplicates its handle into the
 * receiver's process and names the value in the offer.  Who closes that
 * value in the receiver must be one side only, or a value the receiver
 * freed and reused for something else could be closed by the sender:
 *   - the receiver works on a duplicate of its own, made when it first
 *     looks at the offer, and leaves the original alone;
 *   - accepted: the receiver closes the original (rp_fdpass_settle);
 *   - anything else (refused, no Ack, the offer never sent): the sender
 *     closes it (rp_fdpass_take_back, DUPLICATE_CLOSE_SOURCE, duplicated
 *     back into the sender: the form with no target process fails under
 *     Wine and is not needed).
 * A sender that dies before it takes back leaves one handle in the
 * receiver until it exits, as running-process does on every failure.
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "err.h"
#include "fdpass.h"
#include "frame.h"
#include "io.h"
#include "sock.h"
#include "wire.h"

/* Originals of handles we looked at and have not settled (at most this
 * many; beyond it the oldest is forgotten, left to its sender). */
#define PENDING_MAX 64

static HANDLE pending[PENDING_MAX];
static size_t npending;
static SRWLOCK pending_lock = SRWLOCK_INIT;

static int
pending_has(HANDLE v)
{
	size_t i;

	for (i = 0; i < npending; i++)
		if (pending[i] == v)
			return 1;
	return 0;
}

int
rp_fdpass_send(int sock, int fd, const void *data, size_t len,
    int64_t deadline)
{
	/* No sideband on Windows: rp_fdpass_give. */
	(void)sock;
	(void)fd;
	(void)data;
	(void)len;
	(void)deadline;
	errno = ENOTSUP;
	return -1;
}

ssize_t
rp_fdpass_send_with_tail(int sock, int fd, const void *data, size_t len,
    const void *tail, size_t tail_len)
{
	(void)sock;
	(void)fd;
	(void)data;
	(void)len;
	(void)tail;
	(void)tail_len;
	errno = ENOTSUP;
	return -1;
}

int
rp_fdpass_has_sideband(void)
{
	return 0;
}

/* The mandatory label of a process's token (its integrity level RID),
 * or -1 when it cannot be read. */
static long
integrity(HANDLE proc)
{
	union {
		TOKEN_MANDATORY_LABEL l;
		uint8_t b[sizeof(TOKEN_MANDATORY_LABEL) + SECURITY_MAX_SID_SIZE];
	} u;
	HANDLE tok;
	DWORD len;
	long r = -1;

	if (!OpenProcessToken(proc, TOKEN_QUERY, &tok))
		return -1;
	if (GetTokenInformation(tok, TokenIntegrityLevel, u.b, sizeof(u.b),
	    &len))
		r = (long)rp_win_sid_rid(u.l.Label.Sid);
	CloseHandle(tok);
	return r;
}

/* Access denied to process pid: is it above us? */
static int
integrity_mismatch(DWORD pid)
{
	HANDLE p = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	long theirs, ours = integrity(GetCurrentProcess());

	if (p == NULL)
		return 0;
	theirs = integrity(p);
	CloseHandle(p);
	return theirs >= 0 && ours >= 0 && theirs > ours;
}

/* OpenProcess(PROCESS_DUP_HANDLE) of the receiver failed with err: which
 * class, said in why, errno set. */
static enum rp_give_fail
open_failed(DWORD pid, DWORD err, char *why, size_t whysz)
{
	if (err == ERROR_ACCESS_DENIED && integrity_mismatch(pid)) {
		rp_err_why(why, whysz, "integrity mismatch: process %lu runs "
		    "at a higher integrity level", (unsigned long)pid);
		errno = EACCES;
		return RP_GIVE_INTEGRITY_MISMATCH;
	}
	if (err == ERROR_ACCESS_DENIED) {
		rp_err_why(why, whysz, "permission denied opening process %lu",
		    (unsigned long)pid);
		errno = EACCES;
		return RP_GIVE_PERMISSION_DENIED;
	}
	rp_err_why(why, whysz, "cannot open process %lu (Win32 error %lu)",
	    (unsigned long)pid, (unsigned long)err);
	errno = err == ERROR_INVALID_PARAMETER ? ESRCH : rp_win_errno(err);
	return RP_GIVE_OPEN_PROCESS;
}

enum rp_give_fail
rp_fdpass_give(int sock, int fd, const uint8_t tok[16], uint64_t *value,
    int64_t deadline, char *why, size_t whysz)
{
	struct rp_wfd *w;
	HANDLE h, proc, v = NULL;
	DWORD pid, err;

	(void)tok;
	(void)deadline;
	*value = 0;
	rp_err_why(why, whysz, "%s", "");
	if ((h = rp_wfd_handle(fd)) == INVALID_HANDLE_VALUE) {
		rp_err_why(why, whysz, "fd %d is not open", fd);
		return RP_GIVE_DUPLICATE_FAILED;
	}
	/* One handle goes in an offer; a pseudo console's master is two
	 * (its output and its input pipe). */
	if ((w = rp_wfd_peek(fd)) != NULL && w->hw != NULL) {
		rp_err_why(why, whysz, "a pseudo console's master is two pipes "
		    "and cannot be handed over as one handle");
		errno = ENOTSUP;
		return RP_GIVE_DUPLICATE_FAILED;
	}
	/* Only its pid: the process behind it is looked at once, here. */
	if (rp_win_pipe_peer_pid(sock, &pid, NULL) != 0) {
		rp_err_why(why, whysz, "cannot learn the receiver's process");
		return RP_GIVE_CHANNEL;
	}
	proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
	if (proc == NULL)
		return open_failed(pid, GetLastError(), why, whysz);
	if (!DuplicateHandle(GetCurrentProcess(), h, proc, &v, 0, FALSE,
	    DUPLICATE_SAME_ACCESS)) {
		/* Taken at once: anything in between may overwrite it. */
		err = GetLastError();
		CloseHandle(proc);
		(void)rp_win_fail_err(err);
		if (err == ERROR_ACCESS_DENIED) {
			rp_err_why(why, whysz, "permission denied duplicating "
			    "the handle into process %lu", (unsigned long)pid);
			return RP_GIVE_PERMISSION_DENIED;
		}
		rp_err_why(why, whysz, "DuplicateHandle into process %lu "
		    "failed (Win32 error %lu)", (unsigned long)pid,
		    (unsigned long)err);
		return RP_GIVE_DUPLICATE_FAILED;
	}
	CloseHandle(proc);
	*value = (uint64_t)(uintptr_t)v;
	return RP_GIVE_OK;
}

void
rp_fdpass_take_back(int sock, uint64_t value)
{
	HANDLE proc, tmp;
	DWORD pid;
	int saved = errno;

	if (value == 0 || rp_win_pipe_peer_pid(sock, &pid, NULL) != 0)
		goto out;
	proc = OpenProcess(PROCESS_DUP_HANDLE, FALSE, pid);
	if (proc == NULL)
		goto out;
	/* Out of the receiver, into us, closed. */
	if (DuplicateHandle(proc, (HANDLE)(uintptr_t)value,
	    GetCurrentProcess(), &tmp, 0, FALSE,
	    DUPLICATE_CLOSE_SOURCE | DUPLICATE_SAME_ACCESS))
		CloseHandle(tmp);
	CloseHandle(proc);
out:
	errno = saved;
}

void
rp_fdpass_settle(uint64_t value, int accepted)
{
	HANDLE v = (HANDLE)(uintptr_t)value;
	size_t i;
	int found = 0;

	AcquireSRWLockExclusive(&pending_lock);
	for (i = 0; i < npending; i++) {
		if (pending[i] == v) {
			pending[i] = pending[--npending];
			found = 1;
			break;
		}
	}
	ReleaseSRWLockExclusive(&pending_lock);
	/* Ours now (we work on our duplicate); a refused one is the
	 * sender's to take back. */
	if (found && accepted)
		CloseHandle(v);
}

/* The handle an offer names, if it may be adopted: a pipe or a disk
 * file, none of our fds, not one we hold already.  Its duplicate as a
 * new fd, or -1. */
static int
adopt(uint64_t value)
{
	HANDLE v = (HANDLE)(uintptr_t)value, dup, self = GetCurrentProcess();
	DWORD flags, type;
	int fd;

	/* Handle values are multiples of 4 and fit 32 bits. */
	if (value == 0 || value > 0xffffffffu || (value & 3) != 0)
		return -1;
	if (!GetHandleInformation(v, &flags))
		return -1;
	for (fd = 0; fd < 2048; fd++)
		if (_get_osfhandle(fd) == (intptr_t)v)
			return -1;
	type = GetFileType(v);
	if (type != FILE_TYPE_PIPE && type != FILE_TYPE_DISK)
		return -1;
	AcquireSRWLockExclusive(&pending_lock);
	if (pending_has(v) || !DuplicateHandle(self, v, self, &dup, 0, FALSE,
	    DUPLICATE_SAME_ACCESS)) {
		ReleaseSRWLockExclusive(&pending_lock);
		return -1;
	}
	if (npending == PENDING_MAX) {
		memmove(pending, pending + 1, (PENDING_MAX - 1) *
		    sizeof(pending[0]));
		npending--;
	}
	pending[npending++] = v;
	ReleaseSRWLockExclusive(&pending_lock);
	if ((fd = rp_wfd_open(dup, -1, 0)) < 0) {
		rp_fdpass_settle(value, 0);
		return -1;
	}
	return fd;
}

enum rp_fdpass_status
rp_fdpass_recv(int sock, void *buf, size_t bufsz, size_t *got, int *fd,
    int *nfds, int64_t deadline)
{
	uint8_t frame[RP_FRAME_HEADER + RP_FRAME_SMALL_MAX];
	Rp__HandoffOffer *offer;
	const char *why = NULL;
	HANDLE h;
	DWORD n = 0, avail = 0, err;
	uint32_t len;
	size_t tl;

	*got = 0;
	*fd = -1;
	if (nfds != NULL)
		*nfds = 0;
	if (bufsz == 0) {
		errno = EINVAL;
		return RP_FDPASS_IO;
	}
	if ((h = rp_wfd_handle(sock)) == INVALID_HANDLE_VALUE)
		return RP_FDPASS_IO;
	for (;;) {
		/* Look, do not take: the caller reads the offer itself. */
		if (!PeekNamedPipe(h, frame, sizeof(frame), &n, &avail, NULL)) {
			err = GetLastError();
			if (err == ERROR_BROKEN_PIPE ||
			    err == ERROR_PIPE_NOT_CONNECTED)
				return RP_FDPASS_EOF;
			rp_win_fail_err(err);
			return RP_FDPASS_IO;
		}
		if (n >= RP_FRAME_HEADER) {
			len = (uint32_t)frame[1] | (uint32_t)frame[2] << 8 |
			    (uint32_t)frame[3] << 16 | (uint32_t)frame[4] << 24;
			/* Not an offer frame at all: the caller's reading of
			 * it says what is wrong. */
			if (frame[0] != RP_FRAME_VERSION ||
			    len > RP_FRAME_SMALL_MAX)
				return RP_FDPASS_NO_FD;
			if (n >= RP_FRAME_HEADER + len)
				break;
		}
		if (deadline != RP_DEADLINE_NEVER && rp_deadline_passed(deadline))
			return RP_FDPASS_TIMEOUT;
		if (n > 0)
			Sleep(1);       /* the rest of one write is coming */
		else if (rp_io_wait(sock, RP_IO_READ, deadline) < 0)
			return errno == ETIMEDOUT ? RP_FDPASS_TIMEOUT :
			    RP_FDPASS_IO;
	}
	offer = rp_wire_offer_parse(frame + RP_FRAME_HEADER, len, &why);
	if (offer == NULL)
		return RP_FDPASS_NO_FD;
	tl = offer->token.len < bufsz ? offer->token.len : bufsz;
	if (tl > 0)
		memcpy(buf, offer->token.data, tl);
	*got = tl;
	*fd = adopt(offer->handle_value);
	rp_wire_free(offer);
	if (*fd < 0) {
		/* The offer is still there to read: none of it may count as
		 * bytes that ran on past the sideband (sideband_spill). */
		if (*got > 16)
			*got = 16;
		return RP_FDPASS_NO_FD;
	}
	if (nfds != NULL)
		*nfds = 1;
	return RP_FDPASS_OK;
}
