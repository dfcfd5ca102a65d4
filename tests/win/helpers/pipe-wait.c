/*
 * pipe-wait.exe NAME [TIMEOUT_MS] — wait until the named pipe
 * \\.\pipe\NAME exists, without connecting to it (WaitNamedPipeW): the
 * readiness of a server under test, since Wine passes a program no fd but
 * 0-2 (so no --ready-fd).  Exit 0 once it does, 4 when the timeout
 * (default 10 s) came first.
 */
#include <windows.h>
#include <stdio.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv);

int
wmain(int argc, wchar_t **argv)
{
	wchar_t name[300];
	DWORD timeout = 10000, start = GetTickCount();

	if (argc < 2) {
		fputs("usage: pipe-wait NAME [TIMEOUT_MS]\n", stderr);
		return 2;
	}
	if (argc > 2)
		timeout = (DWORD)wcstoul(argv[2], NULL, 10);
	if (wcsncmp(argv[1], L"\\\\.\\pipe\\", 9) == 0)
		swprintf(name, 300, L"%ls", argv[1]);
	else
		swprintf(name, 300, L"\\\\.\\pipe\\%ls", argv[1]);
	for (;;) {
		/* Busy (every instance taken) is there all the same. */
		if (WaitNamedPipeW(name, 50) ||
		    GetLastError() != ERROR_FILE_NOT_FOUND)
			return 0;
		if (GetTickCount() - start > timeout)
			return 4;
		Sleep(10);
	}
}
