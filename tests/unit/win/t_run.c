/*
 * The unit-test harness on Windows (see t.h): there is no fork, so each
 * test runs in this process, one after the other, with a private
 * directory made on first use and removed after the test.  A test that
 * crashes ends the executable: the exception is reported as that test's
 * failure first, and the runner counts the exit status.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <windows.h>

#include "../t.h"

static char t_dir[MAX_PATH];
static const char *t_current;

const char *
t_tmpdir(void)
{
	static unsigned serial;
	char base[MAX_PATH];
	DWORD n;
	int i;

	if (t_dir[0] != '\0')
		return t_dir;
	n = GetTempPathA(sizeof(base), base);
	if (n == 0 || n >= sizeof(base)) {
		fprintf(stderr, "t_tmpdir: GetTempPath failed (%lu)\n",
		    GetLastError());
		exit(99);
	}
	for (i = 0; i < 1000; i++) {
		snprintf(t_dir, sizeof(t_dir), "%srp-unit-%lu-%u", base,
		    GetCurrentProcessId(), serial++);
		if (CreateDirectoryA(t_dir, NULL))
			return t_dir;
		if (GetLastError() != ERROR_ALREADY_EXISTS)
			break;
	}
	fprintf(stderr, "t_tmpdir: cannot create %s (%lu)\n", t_dir,
	    GetLastError());
	exit(99);
}

/* Remove dir and everything in it; a link is removed, never followed. */
static void
rm_tree(const char *dir)
{
	WIN32_FIND_DATAA e;
	char pat[MAX_PATH + 2], p[2 * MAX_PATH];
	HANDLE h;

	snprintf(pat, sizeof(pat), "%s\\*", dir);
	h = FindFirstFileA(pat, &e);
	if (h != INVALID_HANDLE_VALUE) {
		do {
			if (strcmp(e.cFileName, ".") == 0 ||
			    strcmp(e.cFileName, "..") == 0)
				continue;
			snprintf(p, sizeof(p), "%s\\%s", dir, e.cFileName);
			if ((e.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) &&
			    !(e.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT))
				rm_tree(p);
			else if (e.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY)
				RemoveDirectoryA(p);
			else
				DeleteFileA(p);
		} while (FindNextFileA(h, &e));
		FindClose(h);
	}
	RemoveDirectoryA(dir);
}

static LONG WINAPI
on_crash(EXCEPTION_POINTERS *ep)
{
	char why[64];

	snprintf(why, sizeof(why), "crashed: exception 0x%08lx",
	    (unsigned long)ep->ExceptionRecord->ExceptionCode);
	t_report(t_current ? t_current : "(between tests)", 0, why);
	return EXCEPTION_EXECUTE_HANDLER;
}

void
t_run(const char *name, void (*fn)(void))
{
	SetUnhandledExceptionFilter(on_crash);
	fflush(stdout);
	t_current = name;
	t_failed_here = 0;
	fn();
	fflush(stdout);
	t_current = NULL;
	if (t_dir[0] != '\0') {
		rm_tree(t_dir);
		t_dir[0] = '\0';
	}
	t_report(name, !t_failed_here, NULL);
}
