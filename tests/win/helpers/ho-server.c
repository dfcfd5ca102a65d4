/*
 * ho-server.exe MODE NAME — a backend's handoff pipe \\.\pipe\NAME served
 * so that the broker cannot give it a client's handle: the failure
 * classes of 40-handoff.md "The transfer on Windows".  One instance, its
 * one client (the broker's handoff connection) read and never answered,
 * until it closes; then exit 0.  Plain Win32, no librp.  MODE:
 *   deny    the serving process first sets its own DACL to let its user
 *           query it and nothing more (no PROCESS_DUP_HANDLE): the
 *           broker's OpenProcess is denied (permission_denied)
 *   orphan  the process that creates the instance (the pipe's server
 *           process, as GetNamedPipeServerProcessId names it) hands it
 *           to a child that serves it, and exits once the child has read
 *           the first offer: the broker's next transfer finds the
 *           server's process gone (open_process_failed)
 *   zombie  as orphan, and the child also holds a handle to its parent,
 *           so that the parent's process object outlives its end: the
 *           broker opens it, and duplicating into it fails
 * On stderr: "server-pid N" for the process that created the instance.
 * Exit 2 on a usage error, 1 on any failure; a child left alone ends
 * after 60 s.
 */
#include <windows.h>
#include <aclapi.h>
#include <stdio.h>
#include <stdlib.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv);

/* Anything we start or serve ends within this, whatever the test did. */
#define LIFETIME_MS 60000

static DWORD WINAPI
watchdog(void *arg)
{
	(void)arg;
	Sleep(LIFETIME_MS);
	ExitProcess(5);
	return 0;
}

/* Read what comes on the connected instance p until it ends; signal ev
 * (when not NULL) once the first bytes came. */
static int
drain(HANDLE p, HANDLE ev)
{
	static unsigned char buf[4096];
	DWORD n;

	if (!ConnectNamedPipe(p, NULL) &&
	    GetLastError() != ERROR_PIPE_CONNECTED)
		return 1;
	while (ReadFile(p, buf, sizeof(buf), &n, NULL) && n > 0)
		if (ev != NULL) {
			SetEvent(ev);
			ev = NULL;
		}
	return 0;
}

/* Our own process's DACL: our user may query it, wait for it and read
 * its security, nothing else. */
static int
deny_dup(void)
{
	union { TOKEN_USER tu; char b[256]; } u;
	EXPLICIT_ACCESSW ea;
	HANDLE tok;
	PACL acl = NULL;
	DWORD n;

	if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) ||
	    !GetTokenInformation(tok, TokenUser, u.b, sizeof(u.b), &n))
		return -1;
	CloseHandle(tok);
	memset(&ea, 0, sizeof(ea));
	ea.grfAccessPermissions = PROCESS_QUERY_LIMITED_INFORMATION |
	    SYNCHRONIZE | READ_CONTROL;
	ea.grfAccessMode = SET_ACCESS;
	ea.grfInheritance = NO_INHERITANCE;
	ea.Trustee.TrusteeForm = TRUSTEE_IS_SID;
	ea.Trustee.TrusteeType = TRUSTEE_IS_USER;
	ea.Trustee.ptstrName = (LPWSTR)u.tu.User.Sid;
	if (SetEntriesInAclW(1, &ea, NULL, &acl) != ERROR_SUCCESS)
		return -1;
	n = SetSecurityInfo(GetCurrentProcess(), SE_KERNEL_OBJECT,
	    DACL_SECURITY_INFORMATION | PROTECTED_DACL_SECURITY_INFORMATION,
	    NULL, NULL, acl, NULL);
	LocalFree(acl);
	return n == ERROR_SUCCESS ? 0 : -1;
}

static HANDLE
instance(const wchar_t *name, int inherit)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, inherit };

	return CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX,
	    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT, 1, 65536, 65536,
	    0, &sa);
}

/* The creator of the instance: a child serves it, and we end once the
 * child has read the first offer. */
static int
orphan(const wchar_t *name, int zombie)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	HANDLE p, ev, me = NULL;
	wchar_t self[MAX_PATH], cmd[600];
	DWORD n = GetModuleFileNameW(NULL, self, MAX_PATH);

	if (n == 0 || n >= MAX_PATH ||
	    (p = instance(name, 1)) == INVALID_HANDLE_VALUE ||
	    (ev = CreateEventW(&sa, TRUE, FALSE, NULL)) == NULL)
		return 1;
	if (zombie && !DuplicateHandle(GetCurrentProcess(),
	    GetCurrentProcess(), GetCurrentProcess(), &me,
	    PROCESS_QUERY_LIMITED_INFORMATION, TRUE, 0))
		return 1;
	_snwprintf(cmd, 600, L"\"%ls\" hold %llu %llu %llu", self,
	    (unsigned long long)(uintptr_t)p,
	    (unsigned long long)(uintptr_t)ev,
	    (unsigned long long)(uintptr_t)me);
	cmd[599] = 0;
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE, 0, NULL, NULL, &si,
	    &pi))
		return 1;
	CloseHandle(pi.hThread);
	CloseHandle(pi.hProcess);
	CloseHandle(p);
	if (me != NULL)
		CloseHandle(me);
	return WaitForSingleObject(ev, LIFETIME_MS) == WAIT_OBJECT_0 ? 0 : 1;
}

int
wmain(int argc, wchar_t **argv)
{
	wchar_t name[300];
	HANDLE p;

	CloseHandle(CreateThread(NULL, 0, watchdog, NULL, 0, NULL));
	if (argc == 5 && wcscmp(argv[1], L"hold") == 0)
		/* The orphan's child: the instance, the event, its parent
		 * (held, never used: 0 for none). */
		return drain((HANDLE)(uintptr_t)_wcstoui64(argv[2], NULL, 10),
		    (HANDLE)(uintptr_t)_wcstoui64(argv[3], NULL, 10));
	if (argc != 3) {
		fputs("usage: ho-server deny|orphan|zombie NAME\n", stderr);
		return 2;
	}
	if (wcsncmp(argv[2], L"\\\\.\\pipe\\", 9) == 0)
		_snwprintf(name, 300, L"%ls", argv[2]);
	else
		_snwprintf(name, 300, L"\\\\.\\pipe\\%ls", argv[2]);
	name[299] = 0;
	fprintf(stderr, "server-pid %lu\n", GetCurrentProcessId());
	fflush(stderr);
	if (wcscmp(argv[1], L"deny") == 0) {
		if (deny_dup() != 0 ||
		    (p = instance(name, 0)) == INVALID_HANDLE_VALUE)
			return 1;
		return drain(p, NULL);
	}
	if (wcscmp(argv[1], L"orphan") == 0 || wcscmp(argv[1], L"zombie") == 0)
		return orphan(name, wcscmp(argv[1], L"zombie") == 0);
	fputs("usage: ho-server deny|orphan|zombie NAME\n", stderr);
	return 2;
}
