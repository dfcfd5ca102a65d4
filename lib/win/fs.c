/*
 * fs.c — directory trust checks, bounded reads and atomic writes on
 * Windows (see fs.h): the owner and the DACL stand in for uid and mode
 * bits, reparse points for symlinks, MoveFileExW for rename(2).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"
#include <aclapi.h>

#include "deadline.h"
#include "err.h"
#include "fs.h"
#include "io.h"

#define NAME_MAX_WIN 255

static int
is_sep(char c)
{
	return c == '/' || c == '\\';
}

/* Where the root of path ends: "C:\" 3, "C:" 2, "\x" or "/x" 1, "\\x" 2,
 * a relative path 0. */
static size_t
root_len(const char *path)
{
	size_t r = 0;

	if (((path[0] >= 'A' && path[0] <= 'Z') ||
	    (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':')
		r = 2;
	while (r < 2 + (r == 2) && is_sep(path[r]))
		r++;
	return r;
}

/* path without its trailing separators (a root keeps its own). */
static wchar_t *
wide_dir(const char *path)
{
	size_t len = strlen(path), root = root_len(path);
	char *p;
	wchar_t *w;

	while (len > root && is_sep(path[len - 1]))
		len--;
	if ((p = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(p, path, len);
	p[len] = '\0';
	w = rp_win_wide(p);
	free(p);
	return w;
}

/* ------------------------------------------------------------ SIDs */

static int
sid_is(PSID sid, WELL_KNOWN_SID_TYPE t)
{
	uint8_t buf[SECURITY_MAX_SID_SIZE];
	DWORD n = sizeof(buf);

	return CreateWellKnownSid(t, NULL, (PSID)buf, &n) &&
	    EqualSid(sid, (PSID)buf);
}

static int
sid_trusted(PSID sid, PSID self)
{
	return EqualSid(sid, self) || sid_is(sid, WinLocalSystemSid) ||
	    sid_is(sid, WinBuiltinAdministratorsSid) ||
	    sid_is(sid, WinCreatorOwnerSid);
}

/* -------------------------------------------------------- check_dir */

/* Create dir and its missing parents with our private descriptor. */
static int
make_dirs(const char *dir)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	size_t len = strlen(dir), i, root = root_len(dir);
	char *p;
	wchar_t *w;
	DWORD err;

	if ((sa.lpSecurityDescriptor = rp_win_private_sd(1)) == NULL)
		return -1;
	if ((p = malloc(len + 1)) == NULL)
		return -1;
	memcpy(p, dir, len + 1);
	for (i = root + 1; i <= len; i++) {
		if (!is_sep(p[i]) && p[i] != '\0')
			continue;
		if (is_sep(p[i - 1]))
			continue;
		p[i] = '\0';
		w = rp_win_wide(p);
		if (w == NULL) {
			free(p);
			return -1;
		}
		if (!CreateDirectoryW(w, &sa) &&
		    (err = GetLastError()) != ERROR_ALREADY_EXISTS) {
			free(w);
			free(p);
			return rp_win_fail_err(err);
		}
		free(w);
		p[i] = dir[i];
	}
	free(p);
	return 0;
}

#define WRITE_BITS (FILE_ADD_FILE | FILE_ADD_SUBDIRECTORY | \
	FILE_DELETE_CHILD | GENERIC_WRITE | GENERIC_ALL | WRITE_DAC | \
	WRITE_OWNER | DELETE)

/* The owner and DACL of w against the policy's kind; why as fs.h. */
static int
check_security(const wchar_t *w, int kind, char *why, size_t whysz)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PSID owner = NULL, self = rp_win_self_sid(), sid;
	PACL dacl = NULL;
	ACCESS_ALLOWED_ACE *ace;
	char a[192], b[192];
	DWORD r, i;
	int rc = -1;

	if (self == NULL) {
		rp_err_why(why, whysz, "cannot be examined");
		return -1;
	}
	r = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
	    OWNER_SECURITY_INFORMATION | DACL_SECURITY_INFORMATION, &owner,
	    NULL, &dacl, NULL, &sd);
	if (r != ERROR_SUCCESS) {
		rp_err_why(why, whysz, "cannot be examined");
		return rp_win_fail_err(r);
	}
	if (owner == NULL || !(EqualSid(owner, self) ||
	    (kind == RP_DIR_SAFE && (sid_is(owner, WinLocalSystemSid) ||
	    sid_is(owner, WinBuiltinAdministratorsSid))))) {
		if (owner == NULL || rp_win_sid_string(owner, a, sizeof(a)) != 0)
			snprintf(a, sizeof(a), "nobody");
		if (rp_win_sid_string(self, b, sizeof(b)) != 0)
			snprintf(b, sizeof(b), "us");
		rp_err_why(why, whysz, kind == RP_DIR_SAFE ?
		    "is owned by %s, not %s, SYSTEM or Administrators" :
		    "is owned by %s, not %s", a, b);
		errno = EPERM;
		goto out;
	}
	if (dacl == NULL) {
		rp_err_why(why, whysz, "has no DACL: everyone may do anything "
		    "in it");
		errno = EPERM;
		goto out;
	}
	for (i = 0; i < dacl->AceCount; i++) {
		if (!GetAce(dacl, i, (void **)&ace))
			continue;
		/* Only what allows, and only what applies to the directory
		 * itself (not merely inherited by what is made in it). */
		if (ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE ||
		    (ace->Header.AceFlags & INHERIT_ONLY_ACE))
			continue;
		sid = (PSID)&ace->SidStart;
		if (sid_trusted(sid, self))
			continue;
		if (kind == RP_DIR_SAFE && (ace->Mask & WRITE_BITS) == 0)
			continue;
		if (rp_win_sid_string(sid, a, sizeof(a)) != 0)
			snprintf(a, sizeof(a), "another SID");
		rp_err_why(why, whysz, kind == RP_DIR_SAFE ?
		    "lets %s add or remove entries" :
		    "grants access to %s; only we, SYSTEM and Administrators "
		    "may have any", a);
		errno = EPERM;
		goto out;
	}
	rc = 0;
out:
	LocalFree(sd);
	return rc;
}

int
rp_fs_check_dir(const char *dir, int policy, char *why, size_t whysz)
{
	int kind = policy & 0xff, rc;
	wchar_t *w;
	DWORD attrs, err;

	rp_err_why(why, whysz, "%s", "");
	if (dir == NULL || *dir == '\0' ||
	    (kind != RP_DIR_PRIVATE && kind != RP_DIR_SAFE) ||
	    (policy & ~(0xff | RP_DIR_CREATE)) != 0) {
		rp_err_why(why, whysz, "invalid directory or policy");
		errno = EINVAL;
		return -1;
	}
	if ((w = wide_dir(dir)) == NULL) {
		rp_err_why(why, whysz, "cannot be examined");
		return -1;
	}
	attrs = GetFileAttributesW(w);
	if (attrs == INVALID_FILE_ATTRIBUTES) {
		err = GetLastError();
		if ((err != ERROR_FILE_NOT_FOUND &&
		    err != ERROR_PATH_NOT_FOUND) || !(policy & RP_DIR_CREATE)) {
			rp_err_why(why, whysz, "%s",
			    err == ERROR_FILE_NOT_FOUND ? "does not exist" :
			    err == ERROR_PATH_NOT_FOUND ?
			    "has a parent that does not exist" :
			    "cannot be examined");
			free(w);
			return rp_win_fail_err(err);
		}
		if (make_dirs(dir) < 0 ||
		    (attrs = GetFileAttributesW(w)) == INVALID_FILE_ATTRIBUTES) {
			rp_err_why(why, whysz, "cannot be created");
			free(w);
			if (attrs == INVALID_FILE_ATTRIBUTES && errno == 0)
				rp_win_fail();
			return -1;
		}
	}
	if (attrs & FILE_ATTRIBUTE_REPARSE_POINT) {
		rp_err_why(why, whysz, "is a symlink");
		free(w);
		errno = ENOTDIR;
		return -1;
	}
	if (!(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
		rp_err_why(why, whysz, "is not a directory");
		free(w);
		errno = ENOTDIR;
		return -1;
	}
	rc = check_security(w, kind, why, whysz);
	free(w);
	return rc;
}

/* ------------------------------------------------------- open, read */

static HANDLE
open_path(const char *path, DWORD access, DWORD share, DWORD disp,
    DWORD flags, SECURITY_ATTRIBUTES *sa)
{
	wchar_t *w = rp_win_wide(path);
	HANDLE h;
	DWORD err;

	if (w == NULL)
		return INVALID_HANDLE_VALUE;
	h = CreateFileW(w, access, share, sa, disp, flags, NULL);
	err = GetLastError();
	free(w);
	if (h == INVALID_HANDLE_VALUE)
		rp_win_fail_err(err);
	return h;
}

int
rp_fs_open_read(const char *path)
{
	HANDLE h = open_path(path, GENERIC_READ, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, OPEN_EXISTING,
	    FILE_ATTRIBUTE_NORMAL, NULL);

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	return rp_wfd_open(h, -1, 0);
}

int
rp_fs_open_append(const char *path, int excl)
{
	/* Without FILE_WRITE_DATA every write goes to the end. */
	HANDLE h = open_path(path, FILE_APPEND_DATA | FILE_READ_ATTRIBUTES |
	    SYNCHRONIZE, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
	    excl ? CREATE_NEW : OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	return rp_wfd_open(h, -1, 0);
}

int
rp_fs_open_null(void)
{
	HANDLE h = CreateFileW(L"NUL", GENERIC_READ, FILE_SHARE_READ |
	    FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);

	if (h == INVALID_HANDLE_VALUE)
		return rp_win_fail();
	return rp_wfd_open(h, -1, 0);
}

/* A FILETIME (100 ns since 1601) as nanoseconds since 1970. */
static int64_t
filetime_ns(LARGE_INTEGER t)
{
	return (t.QuadPart - 116444736000000000LL) * 100;
}

int
rp_fs_stamp(const char *path, struct rp_fs_stamp *out)
{
	BY_HANDLE_FILE_INFORMATION bi;
	FILE_BASIC_INFO basic;
	HANDLE h = open_path(path, FILE_READ_ATTRIBUTES, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, OPEN_EXISTING,
	    FILE_FLAG_BACKUP_SEMANTICS, NULL);
	DWORD err;

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	if (!GetFileInformationByHandle(h, &bi) ||
	    !GetFileInformationByHandleEx(h, FileBasicInfo, &basic,
	    sizeof(basic))) {
		err = GetLastError();
		CloseHandle(h);
		return rp_win_fail_err(err);
	}
	CloseHandle(h);
	out->dev = bi.dwVolumeSerialNumber;
	out->ino = (uint64_t)bi.nFileIndexHigh << 32 | bi.nFileIndexLow;
	out->size = (uint64_t)bi.nFileSizeHigh << 32 | bi.nFileSizeLow;
	out->mtime_ns = filetime_ns(basic.LastWriteTime);
	out->ctime_ns = filetime_ns(basic.ChangeTime);
	return 0;
}

int
rp_fs_open_write(const char *path)
{
	HANDLE h = open_path(path, GENERIC_WRITE, FILE_SHARE_READ |
	    FILE_SHARE_DELETE, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	return rp_wfd_open(h, -1, 0);
}

int
rp_fs_writable_dir(const char *dir)
{
	GENERIC_MAPPING map = { FILE_GENERIC_READ, FILE_GENERIC_WRITE,
		FILE_GENERIC_EXECUTE, FILE_ALL_ACCESS };
	PSECURITY_DESCRIPTOR sd = NULL;
	PRIVILEGE_SET ps;
	DWORD attrs, r, granted = 0, pslen = sizeof(ps);
	BOOL ok = FALSE;
	HANDLE tok;
	wchar_t *w;

	if ((w = wide_dir(dir)) == NULL)
		return -1;
	attrs = GetFileAttributesW(w);
	if (attrs == INVALID_FILE_ATTRIBUTES) {
		free(w);
		return rp_win_fail();
	}
	if (!(attrs & FILE_ATTRIBUTE_DIRECTORY)) {
		free(w);
		errno = ENOTDIR;
		return -1;
	}
	r = GetNamedSecurityInfoW(w, SE_FILE_OBJECT,
	    OWNER_SECURITY_INFORMATION | GROUP_SECURITY_INFORMATION |
	    DACL_SECURITY_INFORMATION, NULL, NULL, NULL, NULL, &sd);
	free(w);
	if (r != ERROR_SUCCESS)
		return rp_win_fail_err(r);
	/* AccessCheck wants an impersonation token: ourselves. */
	if (ImpersonateSelf(SecurityIdentification)) {
		if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE,
		    &tok)) {
			if (!AccessCheck(sd, tok, FILE_ADD_FILE, &map, &ps,
			    &pslen, &granted, &ok))
				ok = FALSE;
			CloseHandle(tok);
		}
		RevertToSelf();
	}
	LocalFree(sd);
	if (!ok) {
		errno = EACCES;
		return -1;
	}
	return 0;
}

/* Read the open file h to its end into out, at most max bytes.  0, or -1
 * with errno, out as it was; h stays open. */
static int
read_handle(HANDLE h, size_t max, struct rp_buf *out)
{
	size_t start = out->len, room;
	LARGE_INTEGER size;
	DWORD n;

	if (!GetFileSizeEx(h, &size)) {
		rp_win_fail();
		goto fail;
	}
	if (size.QuadPart < 0 || (uint64_t)size.QuadPart > max) {
		errno = EFBIG;
		goto fail;
	}
	for (;;) {
		if (rp_buf_reserve(out, 4096) < 0)
			goto fail;
		room = out->cap - out->len - 1;
		if (room > 1u << 30)
			room = 1u << 30;
		if (!ReadFile(h, out->data + out->len, (DWORD)room, &n, NULL)) {
			rp_win_fail();
			goto fail;
		}
		if (n == 0)
			break;
		out->len += n;
		if (out->len - start > max) {
			errno = EFBIG;
			goto fail;
		}
	}
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return 0;
fail:
	out->len = start;
	if (out->data != NULL)
		out->data[out->len] = '\0';
	return -1;
}

int
rp_fs_read_file(const char *path, size_t max, struct rp_buf *out)
{
	wchar_t *w;
	HANDLE h;
	DWORD attrs;
	int err;

	if ((w = rp_win_wide(path)) == NULL)
		return -1;
	attrs = GetFileAttributesW(w);
	free(w);
	if (attrs != INVALID_FILE_ATTRIBUTES &&
	    (attrs & FILE_ATTRIBUTE_DIRECTORY)) {
		errno = EISDIR;
		return -1;
	}
	h = open_path(path, GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
	if (h == INVALID_HANDLE_VALUE)
		return -1;
	if (GetFileType(h) != FILE_TYPE_DISK) {
		errno = EINVAL;
		goto fail;
	}
	if (read_handle(h, max, out) < 0)
		goto fail;
	CloseHandle(h);
	return 0;
fail:
	err = errno;
	CloseHandle(h);
	errno = err;
	return -1;
}

/* ---------------------------------------------------- read_trusted */

/* What lets a SID change a file's bytes, or give itself the right to. */
#define FILE_WRITE_BITS (FILE_WRITE_DATA | FILE_APPEND_DATA | GENERIC_WRITE | \
	GENERIC_ALL | WRITE_DAC | WRITE_OWNER)

/* The file open as h may be trusted by us, by the rule rp_fs_read_trusted
 * applies on POSIX with the owner SID for the uid and the DACL for the
 * mode bits: owned by us, SYSTEM or Administrators (Windows' root), and
 * no ACE that allows writing to anyone else.  A missing (NULL) DACL lets
 * everyone do anything.  Deny ACEs are not weighed: an allow to another
 * SID refuses the file even where a deny before it would win. */
static int
judge_file(HANDLE h, char *why, size_t whysz)
{
	PSECURITY_DESCRIPTOR sd = NULL;
	PSID owner = NULL, self = rp_win_self_sid(), sid;
	PACL dacl = NULL;
	ACCESS_ALLOWED_ACE *ace;
	char a[192], b[192];
	DWORD r, i;
	int rc = -1;

	if (self == NULL)
		return -1;
	r = GetSecurityInfo(h, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION |
	    DACL_SECURITY_INFORMATION, &owner, NULL, &dacl, NULL, &sd);
	if (r != ERROR_SUCCESS)
		return rp_win_fail_err(r);
	if (owner == NULL || !(EqualSid(owner, self) ||
	    sid_is(owner, WinLocalSystemSid) ||
	    sid_is(owner, WinBuiltinAdministratorsSid))) {
		if (owner == NULL || rp_win_sid_string(owner, a, sizeof(a)) != 0)
			snprintf(a, sizeof(a), "nobody");
		if (rp_win_sid_string(self, b, sizeof(b)) != 0)
			snprintf(b, sizeof(b), "us");
		rp_err_why(why, whysz, "owned by %s, not %s, SYSTEM or "
		    "Administrators", a, b);
		errno = EPERM;
		goto out;
	}
	if (dacl == NULL) {
		rp_err_why(why, whysz, "writable by everyone (no DACL)");
		errno = EPERM;
		goto out;
	}
	for (i = 0; i < dacl->AceCount; i++) {
		if (!GetAce(dacl, i, (void **)&ace))
			continue;
		/* A callback ACE is an allow with a condition: as strict. */
		if ((ace->Header.AceType != ACCESS_ALLOWED_ACE_TYPE &&
		    ace->Header.AceType != ACCESS_ALLOWED_CALLBACK_ACE_TYPE) ||
		    (ace->Header.AceFlags & INHERIT_ONLY_ACE) ||
		    (ace->Mask & FILE_WRITE_BITS) == 0)
			continue;
		sid = (PSID)&ace->SidStart;
		if (sid_trusted(sid, self))
			continue;
		if (rp_win_sid_string(sid, a, sizeof(a)) != 0)
			snprintf(a, sizeof(a), "another SID");
		rp_err_why(why, whysz, "writable by %s (its DACL allows it "
		    "0x%08lx)", a, (unsigned long)ace->Mask);
		errno = EPERM;
		goto out;
	}
	rc = 0;
out:
	LocalFree(sd);
	return rc;
}

/* 1 when the resolved path p is dir or below it (dir resolved too), as
 * Windows compares names: without regard to case. */
static int
inside(const char *p, const char *dir)
{
	size_t dl = strlen(dir);

	while (dl > 0 && is_sep(dir[dl - 1]))
		dl--;
	return _strnicmp(p, dir, dl) == 0 && (is_sep(p[dl]) || p[dl] == '\0');
}

/* path itself, not what a reparse point there leads to; a directory too,
 * so that it can be refused as one. */
static HANDLE
open_self(const char *path)
{
	return open_path(path, GENERIC_READ | READ_CONTROL, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, OPEN_EXISTING,
	    FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

int
rp_fs_read_trusted(const char *path, size_t max, struct rp_buf *out,
    char *why, size_t whysz)
{
	char dir[4096], rdir[4096], rfile[4096];
	BY_HANDLE_FILE_INFORMATION fi;
	HANDLE h;
	int err;

	rp_err_why(why, whysz, "%s", "");
	h = open_self(path);
	if (h == INVALID_HANDLE_VALUE)
		goto fail;
	if (!GetFileInformationByHandle(h, &fi)) {
		rp_win_fail();
		goto fail;
	}
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
		/* A symbolic link (or junction): followed only to a file
		 * inside path's own directory, as on POSIX. */
		CloseHandle(h);
		h = INVALID_HANDLE_VALUE;
		if (rp_fs_dirname(path, dir, sizeof(dir)) != 0 ||
		    rp_fs_realpath(dir, rdir, sizeof(rdir)) != 0 ||
		    rp_fs_realpath(path, rfile, sizeof(rfile)) != 0)
			goto fail;
		if (!inside(rfile, rdir)) {
			rp_err_why(why, whysz, "a symbolic link leading out "
			    "of its directory, to %s", rfile);
			errno = EPERM;
			goto fail;
		}
		h = open_self(rfile);
		if (h == INVALID_HANDLE_VALUE)
			goto fail;
		if (!GetFileInformationByHandle(h, &fi)) {
			rp_win_fail();
			goto fail;
		}
		if (fi.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) {
			rp_err_why(why, whysz, "a symbolic link that changed "
			    "while it was followed");
			errno = EPERM;
			goto fail;
		}
	}
	if (fi.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) {
		errno = EISDIR;
		goto fail;
	}
	if (GetFileType(h) != FILE_TYPE_DISK) {
		errno = EINVAL;
		goto fail;
	}
	if (judge_file(h, why, whysz) != 0 || read_handle(h, max, out) != 0)
		goto fail;
	CloseHandle(h);
	return 0;
fail:
	err = errno;
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	if (why != NULL && whysz > 0 && why[0] == '\0') {
		if (err == EFBIG)
			rp_err_why(why, whysz, "larger than %zu bytes", max);
		else if (err == EINVAL)
			rp_err_why(why, whysz, "not a regular file");
		else
			rp_err_why(why, whysz, "%s", strerror(err));
	}
	errno = err;
	return -1;
}

/* ------------------------------------------- write_atomic_nofollow */

/* Not needed on Windows yet (rp-broker, its one caller, is not built
 * there: issue 15): documented as ENOTSUP in fs.h. */
int
rp_fs_open_dir_nofollow(const char *dir)
{
	(void)dir;
	errno = ENOTSUP;
	return -1;
}

int
rp_fs_write_atomic_nofollow(const char *dir, const char *name,
    const void *data, size_t len, unsigned mode)
{
	(void)dir;
	(void)name;
	(void)data;
	(void)len;
	(void)mode;
	errno = ENOTSUP;
	return -1;
}

/* ----------------------------------------------------- write_atomic */

int
rp_fs_write_atomic(const char *dir, const char *name, const void *data,
    size_t len, unsigned mode)
{
	static LONG counter;
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	char tmp[4096], final[4096];
	wchar_t *wtmp = NULL, *wfinal = NULL;
	size_t nlen, done = 0;
	HANDLE h = INVALID_HANDLE_VALUE;
	DWORD n, chunk;
	int tries, err;

	if (name == NULL || (nlen = strlen(name)) == 0 ||
	    strpbrk(name, "/\\:") != NULL || strcmp(name, ".") == 0 ||
	    strcmp(name, "..") == 0 || (data == NULL && len > 0)) {
		errno = EINVAL;
		return -1;
	}
	if (nlen + 26 > NAME_MAX_WIN) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (snprintf(final, sizeof(final), "%s\\%s", dir, name) >=
	    (int)sizeof(final)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* No group or other bits asked: only we (and SYSTEM) get in. */
	if ((mode & 077) == 0 &&
	    (sa.lpSecurityDescriptor = rp_win_private_sd(0)) == NULL)
		return -1;
	for (tries = 0; tries < 100; tries++) {
		snprintf(tmp, sizeof(tmp), "%s\\.%s.%08lx%08lx%08lx", dir, name,
		    (unsigned long)GetCurrentProcessId(),
		    (unsigned long)InterlockedIncrement(&counter),
		    (unsigned long)(rp_now_ns() & 0xffffffffu));
		free(wtmp);
		if ((wtmp = rp_win_wide(tmp)) == NULL)
			return -1;
		/* CREATE_NEW: a file already there (a link included) is
		 * never written through. */
		h = CreateFileW(wtmp, GENERIC_WRITE | DELETE, 0, &sa, CREATE_NEW,
		    FILE_ATTRIBUTE_NORMAL, NULL);
		if (h != INVALID_HANDLE_VALUE ||
		    GetLastError() != ERROR_FILE_EXISTS)
			break;
	}
	if (h == INVALID_HANDLE_VALUE) {
		rp_win_fail();
		free(wtmp);
		return -1;
	}
	while (done < len) {
		chunk = len - done > (1u << 30) ? (1u << 30) : (DWORD)(len - done);
		if (!WriteFile(h, (const char *)data + done, chunk, &n, NULL)) {
			rp_win_fail();
			goto fail;
		}
		done += n;
	}
	if (!FlushFileBuffers(h)) {
		rp_win_fail();
		goto fail;
	}
	CloseHandle(h);
	h = INVALID_HANDLE_VALUE;
	if ((wfinal = rp_win_wide(final)) == NULL)
		goto fail;
	/* Replaced in one step, and on disk before we say so. */
	if (!MoveFileExW(wtmp, wfinal, MOVEFILE_REPLACE_EXISTING |
	    MOVEFILE_WRITE_THROUGH)) {
		rp_win_fail();
		goto fail;
	}
	free(wtmp);
	free(wfinal);
	return 0;
fail:
	err = errno;
	if (h != INVALID_HANDLE_VALUE)
		CloseHandle(h);
	DeleteFileW(wtmp);
	free(wtmp);
	free(wfinal);
	errno = err;
	return -1;
}

/* ------------------------------------------------------------ names */

int
rp_fs_dirname(const char *path, char *out, size_t outsz)
{
	size_t len = strlen(path), root = root_len(path);
	const char *res = path;

	/* Trailing separators belong to the last component. */
	while (len > root && is_sep(path[len - 1]))
		len--;
	while (len > root && !is_sep(path[len - 1]))
		len--;
	while (len > root && is_sep(path[len - 1]))
		len--;
	if (len == 0) {
		res = ".";
		len = 1;
	}
	if (len >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, res, len);
	out[len] = '\0';
	return 0;
}

int
rp_fs_is_sep(char c)
{
	return is_sep(c);
}

char
rp_fs_sep(void)
{
	return '\\';
}

int
rp_fs_is_absolute(const char *path)
{
	if (((path[0] >= 'A' && path[0] <= 'Z') ||
	    (path[0] >= 'a' && path[0] <= 'z')) && path[1] == ':' &&
	    is_sep(path[2]))
		return 1;
	return is_sep(path[0]) && is_sep(path[1]);
}

const char *
rp_fs_basename(const char *path)
{
	const char *p, *base = path;

	for (p = path; *p != '\0'; p++)
		if (is_sep(*p) || (*p == ':' && p == path + 1))
			base = p + 1;
	return base;
}

/* A handle to path that does not mind what it is (a directory too). */
static HANDLE
open_any(const char *path)
{
	return open_path(path, 0, FILE_SHARE_READ | FILE_SHARE_WRITE |
	    FILE_SHARE_DELETE, OPEN_EXISTING, FILE_FLAG_BACKUP_SEMANTICS, NULL);
}

int
rp_fs_same_file(const char *a, const char *b)
{
	BY_HANDLE_FILE_INFORMATION fa, fb;
	HANDLE ha, hb;
	int saved = errno, same = 0;

	ha = open_any(a);
	hb = open_any(b);
	if (ha != INVALID_HANDLE_VALUE && hb != INVALID_HANDLE_VALUE &&
	    GetFileInformationByHandle(ha, &fa) &&
	    GetFileInformationByHandle(hb, &fb))
		same = fa.dwVolumeSerialNumber == fb.dwVolumeSerialNumber &&
		    fa.nFileIndexHigh == fb.nFileIndexHigh &&
		    fa.nFileIndexLow == fb.nFileIndexLow;
	if (ha != INVALID_HANDLE_VALUE)
		CloseHandle(ha);
	if (hb != INVALID_HANDLE_VALUE)
		CloseHandle(hb);
	errno = saved;
	return same;
}

int
rp_fs_realpath(const char *path, char *out, size_t outsz)
{
	HANDLE h = open_any(path);
	wchar_t *w, *p;
	DWORD n;
	int r;

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	if ((w = malloc(32768 * sizeof(*w))) == NULL) {
		CloseHandle(h);
		return -1;
	}
	n = GetFinalPathNameByHandleW(h, w, 32768,
	    FILE_NAME_NORMALIZED | VOLUME_NAME_DOS);
	CloseHandle(h);
	if (n == 0 || n >= 32768) {
		free(w);
		return n == 0 ? rp_win_fail() : (errno = ENAMETOOLONG, -1);
	}
	/* \\?\C:\x is C:\x; \\?\UNC\server\share is \\server\share. */
	p = w;
	if (wcsncmp(p, L"\\\\?\\UNC\\", 8) == 0) {
		p += 6;
		p[0] = L'\\';
	} else if (wcsncmp(p, L"\\\\?\\", 4) == 0) {
		p += 4;
	}
	r = rp_win_utf8_into(p, out, outsz);
	free(w);
	return r < 0 ? -1 : 0;
}

/* ------------------------------------------------ examining, for doctor */

int
rp_fs_check_exec(const char *path, char *why, size_t whysz)
{
	wchar_t *w;
	DWORD attr, err;
	HANDLE h;

	rp_err_why(why, whysz, "%s", "");
	if ((w = rp_win_wide(path)) == NULL) {
		err = (DWORD)errno;
		rp_err_why(why, whysz, "cannot be examined: %s",
		    strerror((int)err));
		errno = (int)err;
		return -1;
	}
	attr = GetFileAttributesW(w);
	err = GetLastError();
	free(w);
	if (attr == INVALID_FILE_ATTRIBUTES) {
		rp_win_fail_err(err);
		if (errno == ENOENT)
			rp_err_why(why, whysz, "does not exist");
		else
			rp_err_why(why, whysz, "cannot be examined: %s",
			    strerror(errno));
		return -1;
	}
	if (attr & FILE_ATTRIBUTE_DIRECTORY) {
		rp_err_why(why, whysz, "is not a regular file");
		errno = EACCES;
		return -1;
	}
	/* CreateProcessW needs the file's FILE_EXECUTE right (and read);
	 * whether it holds an image is for CreateProcessW to say. */
	h = open_path(path, FILE_EXECUTE | FILE_READ_DATA, FILE_SHARE_READ |
	    FILE_SHARE_WRITE | FILE_SHARE_DELETE, OPEN_EXISTING, 0, NULL);
	if (h == INVALID_HANDLE_VALUE) {
		if (errno == EACCES)
			rp_err_why(why, whysz, "is not executable");
		else
			rp_err_why(why, whysz, "cannot be examined: %s",
			    strerror(errno));
		return -1;
	}
	CloseHandle(h);
	return 0;
}

int
rp_fs_inodes(const char *path, uint64_t *avail, uint64_t *total)
{
	wchar_t *w = rp_win_wide(path);
	DWORD attr, err;

	if (w == NULL)
		return -1;
	attr = GetFileAttributesW(w);
	err = GetLastError();
	free(w);
	if (attr == INVALID_FILE_ATTRIBUTES)
		return rp_win_fail_err(err);
	/* NTFS grows its master file table as files are made: there is no
	 * inode count to run out of. */
	*avail = 0;
	*total = 0;
	return 0;
}

#ifndef IO_REPARSE_TAG_AF_UNIX
#define IO_REPARSE_TAG_AF_UNIX 0x80000023u
#endif

/* On NTFS a file's contents are identified by its volume serial, file
 * index, size and last write time (no change time is kept apart). */
int
rp_fs_file_id(int fd, struct rp_file_id *id)
{
	BY_HANDLE_FILE_INFORMATION fi;

	if (!GetFileInformationByHandle(rp_wfd_handle(fd), &fi))
		return rp_win_fail();
	*id = (struct rp_file_id){ { fi.dwVolumeSerialNumber,
		((uint64_t)fi.nFileIndexHigh << 32) | fi.nFileIndexLow,
		((uint64_t)fi.nFileSizeHigh << 32) | fi.nFileSizeLow,
		((uint64_t)fi.ftLastWriteTime.dwHighDateTime << 32) |
		    fi.ftLastWriteTime.dwLowDateTime, 0, 0, 0, 0 } };
	return 0;
}

int
rp_fs_is_socket(const char *path)
{
	WIN32_FIND_DATAW fd;
	wchar_t *w;
	HANDLE h;
	int saved = errno, r = 0;

	if ((w = rp_win_wide(path)) == NULL) {
		errno = saved;
		return 0;
	}
	h = FindFirstFileW(w, &fd);
	free(w);
	if (h != INVALID_HANDLE_VALUE) {
		/* For a reparse point, dwReserved0 holds its tag. */
		r = (fd.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 &&
		    fd.dwReserved0 == IO_REPARSE_TAG_AF_UNIX;
		FindClose(h);
	}
	errno = saved;
	return r;
}

int
rp_fs_owner_mode(const char *path, uint32_t *uid, uint32_t *mode, int *isdir)
{
	(void)path;
	(void)uid;
	(void)mode;
	(void)isdir;
	errno = ENOTSUP;
	return -1;
}
