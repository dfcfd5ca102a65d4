/*
 * util.c — what every file of lib/win needs: Win32 errors as errno, UTF-8
 * and UTF-16, SIDs, pipe names, our security descriptors, events for
 * overlapped operations (see win.h).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"
#include <sddl.h>

#include "deadline.h"

int
rp_win_errno(DWORD err)
{
	switch (err) {
	case ERROR_SUCCESS:
		return 0;
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
	case ERROR_INVALID_DRIVE:
	case ERROR_BAD_NETPATH:
	case ERROR_BAD_PATHNAME:
	case ERROR_MOD_NOT_FOUND:
		return ENOENT;
	case ERROR_ACCESS_DENIED:
	case ERROR_SHARING_VIOLATION:
	case ERROR_LOCK_VIOLATION:
	case ERROR_NETWORK_ACCESS_DENIED:
		return EACCES;
	case ERROR_PRIVILEGE_NOT_HELD:
		return EPERM;
	case ERROR_INVALID_HANDLE:
		return EBADF;
	case ERROR_NOT_ENOUGH_MEMORY:
	case ERROR_OUTOFMEMORY:
	case ERROR_NO_SYSTEM_RESOURCES:
		return ENOMEM;
	case ERROR_FILE_EXISTS:
	case ERROR_ALREADY_EXISTS:
		return EEXIST;
	case ERROR_DIRECTORY:
		return ENOTDIR;
	case ERROR_DIR_NOT_EMPTY:
		return ENOTEMPTY;
	case ERROR_BROKEN_PIPE:
	case ERROR_NO_DATA:             /* the pipe is being closed */
		return EPIPE;
	case ERROR_PIPE_NOT_CONNECTED:
	case ERROR_NETNAME_DELETED:
		return ECONNRESET;
	case ERROR_PIPE_BUSY:
		return EAGAIN;
	case ERROR_SEM_TIMEOUT:
	case ERROR_TIMEOUT:
	case WAIT_TIMEOUT:
		return ETIMEDOUT;
	case ERROR_OPERATION_ABORTED:
		return EINTR;
	case ERROR_FILENAME_EXCED_RANGE:
	case ERROR_BUFFER_OVERFLOW:
		return ENAMETOOLONG;
	case ERROR_INVALID_NAME:
	case ERROR_INVALID_PARAMETER:
	case ERROR_BAD_ARGUMENTS:
		return EINVAL;
	case ERROR_BAD_FORMAT:
	case ERROR_BAD_EXE_FORMAT:
	case ERROR_EXE_MACHINE_TYPE_MISMATCH:
	case ERROR_INVALID_EXE_SIGNATURE:
	case ERROR_EXE_MARKED_INVALID:
		return ENOEXEC;
	case ERROR_DISK_FULL:
	case ERROR_HANDLE_DISK_FULL:
		return ENOSPC;
	case ERROR_NOT_SUPPORTED:
	case ERROR_CALL_NOT_IMPLEMENTED:
		return ENOSYS;
	case ERROR_INVALID_FUNCTION:
		return EINVAL;
	case ERROR_TOO_MANY_OPEN_FILES:
		return EMFILE;
	case ERROR_NOT_READY:
	case ERROR_IO_DEVICE:
	case ERROR_CRC:
		return EIO;
	case ERROR_NO_UNICODE_TRANSLATION:
		return EILSEQ;
	case ERROR_MORE_DATA:
		return EMSGSIZE;
	default:
		return EIO;
	}
}

int
rp_win_fail_err(DWORD err)
{
	errno = rp_win_errno(err);
	return -1;
}

int
rp_win_fail(void)
{
	return rp_win_fail_err(GetLastError());
}

/* ----------------------------------------------------------------- text */

wchar_t *
rp_win_wide(const char *s)
{
	wchar_t *w;
	int n;

	if (s == NULL) {
		errno = EINVAL;
		return NULL;
	}
	n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, NULL, 0);
	if (n <= 0) {
		errno = EILSEQ;
		return NULL;
	}
	if ((w = malloc((size_t)n * sizeof(*w))) == NULL)
		return NULL;
	if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, s, -1, w,
	    n) != n) {
		free(w);
		errno = EILSEQ;
		return NULL;
	}
	return w;
}

char *
rp_win_utf8(const wchar_t *w)
{
	char *s;
	int n;

	if (w == NULL) {
		errno = EINVAL;
		return NULL;
	}
	n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, NULL, 0,
	    NULL, NULL);
	if (n <= 0) {
		errno = EILSEQ;
		return NULL;
	}
	if ((s = malloc((size_t)n)) == NULL)
		return NULL;
	if (WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, w, -1, s, n,
	    NULL, NULL) != n) {
		free(s);
		errno = EILSEQ;
		return NULL;
	}
	return s;
}

int
rp_win_utf8_into(const wchar_t *w, char *out, size_t outsz)
{
	char *s = rp_win_utf8(w);
	size_t len;

	if (s == NULL)
		return -1;
	len = strlen(s);
	if (len >= outsz || len > INT32_MAX) {
		free(s);
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, s, len + 1);
	free(s);
	return (int)len;
}

/* ----------------------------------------------------------------- SIDs */

/* The TokenUser of a token into buf: its SID, or NULL with errno. */
static PSID
token_sid(HANDLE tok, uint8_t *buf, DWORD bufsz)
{
	DWORD len = 0;

	if (!GetTokenInformation(tok, TokenUser, buf, bufsz, &len)) {
		rp_win_fail();
		return NULL;
	}
	return ((TOKEN_USER *)(void *)buf)->User.Sid;
}

PSID
rp_win_self_sid(void)
{
	/* TOKEN_USER with its SID: the SID is at most 68 bytes. */
	static union {
		TOKEN_USER tu;
		uint8_t b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE + 16];
	} u;
	static PSID sid;
	static SRWLOCK lock = SRWLOCK_INIT;
	HANDLE tok;
	PSID s;

	AcquireSRWLockExclusive(&lock);
	if (sid == NULL &&
	    OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok)) {
		s = token_sid(tok, u.b, sizeof(u.b));
		CloseHandle(tok);
		sid = s;
	} else if (sid == NULL) {
		rp_win_fail();
	}
	s = sid;
	ReleaseSRWLockExclusive(&lock);
	return s;
}

int
rp_win_process_sid(DWORD pid, uint8_t *buf, size_t bufsz)
{
	union {
		TOKEN_USER tu;
		uint8_t b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE + 16];
	} u;
	HANDLE proc, tok;
	PSID sid;
	DWORD len, err;

	proc = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE, pid);
	if (proc == NULL) {
		err = GetLastError();
		/* A pid nobody has: ERROR_INVALID_PARAMETER. */
		errno = err == ERROR_INVALID_PARAMETER ? ESRCH :
		    rp_win_errno(err);
		return -1;
	}
	if (!OpenProcessToken(proc, TOKEN_QUERY, &tok)) {
		err = GetLastError();
		CloseHandle(proc);
		return rp_win_fail_err(err);
	}
	sid = token_sid(tok, u.b, sizeof(u.b));
	CloseHandle(tok);
	CloseHandle(proc);
	if (sid == NULL)
		return -1;
	len = GetLengthSid(sid);
	if (len > bufsz) {
		errno = ERANGE;
		return -1;
	}
	memcpy(buf, sid, len);
	return (int)len;
}

int
rp_win_sid_string(PSID sid, char *out, size_t outsz)
{
	LPWSTR w = NULL;
	int r;

	if (!ConvertSidToStringSidW(sid, &w))
		return rp_win_fail();
	r = rp_win_utf8_into(w, out, outsz);
	LocalFree(w);
	return r < 0 ? -1 : 0;
}

uint32_t
rp_win_sid_rid(PSID sid)
{
	PUCHAR n;

	if (sid == NULL || !IsValidSid(sid))
		return 0;
	n = GetSidSubAuthorityCount(sid);
	if (*n == 0)
		return 0;
	return (uint32_t)*GetSidSubAuthority(sid, (DWORD)(*n - 1));
}

/* ---------------------------------------------------------- pipe names */

int
rp_win_pipe_name(const char *name, char *out, size_t outsz)
{
	const char *part = name;
	size_t plen;
	int n;

	if (name == NULL || *name == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (_strnicmp(name, RP_WIN_PIPE_PREFIX, RP_WIN_PIPE_PREFIX_LEN) == 0)
		part = name + RP_WIN_PIPE_PREFIX_LEN;
	plen = strlen(part);
	/* The name part may hold anything but a backslash (CreateNamedPipe);
	 * the whole at most 256 characters. */
	if (plen == 0 || strchr(part, '\\') != NULL) {
		errno = EINVAL;
		return -1;
	}
	if (plen + RP_WIN_PIPE_PREFIX_LEN > 256) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(out, outsz, "%s%s", RP_WIN_PIPE_PREFIX, part);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

PSECURITY_DESCRIPTOR
rp_win_private_sd(int dir)
{
	static PSECURITY_DESCRIPTOR sd[2];
	static SRWLOCK lock = SRWLOCK_INIT;
	PSECURITY_DESCRIPTOR r;
	char ssid[192];
	wchar_t sddl[320];
	PSID self;

	AcquireSRWLockExclusive(&lock);
	r = sd[dir != 0];
	if (r == NULL && (self = rp_win_self_sid()) != NULL &&
	    rp_win_sid_string(self, ssid, sizeof(ssid)) == 0) {
		/*
		 * Owner: us.  DACL, protected (nothing inherited from the
		 * parent): full access for our SID and for SYSTEM, nobody
		 * else.  A directory hands the same on to what is created in
		 * it (object and container inherit).
		 */
		swprintf(sddl, sizeof(sddl) / sizeof(sddl[0]),
		    dir ? L"O:%hsD:P(A;OICI;FA;;;%hs)(A;OICI;FA;;;SY)" :
		    L"O:%hsD:P(A;;GA;;;%hs)(A;;GA;;;SY)", ssid, ssid);
		if (ConvertStringSecurityDescriptorToSecurityDescriptorW(sddl,
		    SDDL_REVISION_1, &r, NULL))
			sd[dir != 0] = r;
		else
			rp_win_fail();
	}
	ReleaseSRWLockExclusive(&lock);
	return r;
}

/* --------------------------------------------------------------- events */

HANDLE
rp_win_event(HANDLE *tagged)
{
	HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);

	if (ev == NULL) {
		rp_win_fail();
		return NULL;
	}
	/* The low bit: no completion port is told (see win.h). */
	*tagged = (HANDLE)((ULONG_PTR)ev | 1);
	return ev;
}

BOOL
rp_win_ov_wait(HANDLE h, OVERLAPPED *ov, HANDLE ev, DWORD *n, int64_t deadline)
{
	int ms = rp_deadline_poll_ms(deadline);
	DWORD w;

	w = WaitForSingleObject(ev, ms < 0 ? INFINITE : (DWORD)ms);
	if (w == WAIT_OBJECT_0)
		return GetOverlappedResult(h, ov, n, FALSE);
	/* Out of time (or the wait failed): take the operation back and
	 * wait for it to be gone, since ov lives on our caller's stack.  A
	 * pipe write that is cancelled is withdrawn whole. */
	CancelIoEx(h, ov);
	WaitForSingleObject(ev, INFINITE);
	if (GetOverlappedResult(h, ov, n, FALSE))
		return TRUE;
	if (GetLastError() == ERROR_OPERATION_ABORTED)
		SetLastError(w == WAIT_TIMEOUT ? ERROR_TIMEOUT :
		    ERROR_OPERATION_ABORTED);
	return FALSE;
}
