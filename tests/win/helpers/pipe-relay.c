/*
 * pipe-relay.exe NAME [TIMEOUT_MS [EXPECT]] — a named-pipe client that is
 * not ours: plain Win32 calls, no librp.  It waits for the pipe
 * \\.\pipe\NAME (NAME may be the full name) to exist, connects, writes
 * everything on its stdin to the pipe, then copies what the pipe says to
 * its stdout until the server closes it, or (EXPECT) until that many
 * bytes came: a pipe has no half-close to say "that is all" with.  On stderr: "server-pid N" (the pipe
 * server's process, GetNamedPipeServerProcessId).  Exit 0, or 3 when the
 * pipe did not come before the timeout (default 10 s), 1 on an I/O
 * failure.  For the Windows interop tests: the bytes it carries are
 * built and checked on the Linux side.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv);

int
wmain(int argc, wchar_t **argv)
{
	wchar_t name[300];
	static char buf[1 << 16];
	HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
	HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
	HANDLE p = INVALID_HANDLE_VALUE;
	ULONG pid = 0;
	DWORD n, w, timeout = 10000, start = GetTickCount();
	unsigned long expect = 0, got = 0;

	if (argc < 2) {
		fputs("usage: pipe-relay NAME [TIMEOUT_MS]\n", stderr);
		return 2;
	}
	if (argc > 2)
		timeout = (DWORD)wcstoul(argv[2], NULL, 10);
	if (argc > 3)
		expect = wcstoul(argv[3], NULL, 10);
	if (wcsncmp(argv[1], L"\\\\.\\pipe\\", 9) == 0)
		swprintf(name, 300, L"%ls", argv[1]);
	else
		swprintf(name, 300, L"\\\\.\\pipe\\%ls", argv[1]);
	for (;;) {
		p = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
		    OPEN_EXISTING, 0, NULL);
		if (p != INVALID_HANDLE_VALUE)
			break;
		if (GetTickCount() - start > timeout) {
			fprintf(stderr, "pipe-relay: %ls did not come: %lu\n",
			    name, GetLastError());
			return 3;
		}
		if (GetLastError() == ERROR_PIPE_BUSY)
			WaitNamedPipeW(name, 100);
		else
			Sleep(20);
	}
	if (GetNamedPipeServerProcessId(p, &pid))
		fprintf(stderr, "server-pid %lu\n", pid);
	fflush(stderr);
	while (ReadFile(in, buf, sizeof(buf), &n, NULL) && n > 0)
		if (!WriteFile(p, buf, n, &w, NULL) || w != n)
			return 1;
	while ((expect == 0 || got < expect) &&
	    ReadFile(p, buf, expect == 0 || expect - got > sizeof(buf) ?
	    sizeof(buf) : (DWORD)(expect - got), &n, NULL) && n > 0) {
		if (!WriteFile(out, buf, n, &w, NULL) || w != n)
			return 1;
		got += n;
	}
	CloseHandle(p);
	return 0;
}
