/*
 * handoff-client.exe NAME HELLOFILE DATA — a client of a broker's
 * handoff that is not ours: plain Win32 calls, no librp.  It connects
 * to the named pipe \\.\pipe\NAME (NAME may be the full name), writes
 * HELLOFILE's bytes (a Hello frame the test built), and copies to its
 * stdout the reply frame and then the next frame (the handoff event),
 * each as it came (header and body); then, on the same pipe, it writes
 * DATA and copies what comes back until as many bytes came.  Nothing is
 * sent before the event arrived, as 40-handoff.md asks of a client.
 * On stderr: "server-pid N" for the pipe's server at the start (the
 * broker) and at the end (GetNamedPipeServerProcessId: still the
 * broker's, whose instance it is).  Exit 0; 3 when the pipe did not
 * come within 10 s; 1 when the pipe ended early (after what came is
 * written out: a broker that fell back closes after its reply), or an
 * I/O failure.
 */
#include <windows.h>
#include <stdio.h>
#include <string.h>
#include <wchar.h>

int wmain(int argc, wchar_t **argv);

static int
read_all(HANDLE h, unsigned char *p, DWORD n)
{
	DWORD r;

	while (n > 0) {
		if (!ReadFile(h, p, n, &r, NULL) || r == 0)
			return -1;
		p += r;
		n -= r;
	}
	return 0;
}

static int
write_all(HANDLE h, const void *p, DWORD n)
{
	DWORD w;

	return WriteFile(h, p, n, &w, NULL) && w == n ? 0 : -1;
}

/* One v1 frame from p to out, whole.  0, or -1. */
static int
copy_frame(HANDLE p, HANDLE out)
{
	static unsigned char buf[1 << 16];
	DWORD len;

	if (read_all(p, buf, 5) != 0 || buf[0] != 1)
		return -1;
	len = (DWORD)buf[1] | (DWORD)buf[2] << 8 | (DWORD)buf[3] << 16 |
	    (DWORD)buf[4] << 24;
	if (len > sizeof(buf) - 5 || read_all(p, buf + 5, len) != 0)
		return -1;
	return write_all(out, buf, len + 5);
}

int
wmain(int argc, wchar_t **argv)
{
	static unsigned char buf[1 << 16];
	wchar_t name[300];
	HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
	HANDLE f, p = INVALID_HANDLE_VALUE;
	DWORD n, start = GetTickCount(), dlen;
	ULONG pid = 0;
	char data[1024];

	if (argc != 4)
		return 2;
	if (wcsncmp(argv[1], L"\\\\.\\pipe\\", 9) == 0)
		_snwprintf(name, 300, L"%ls", argv[1]);
	else
		_snwprintf(name, 300, L"\\\\.\\pipe\\%ls", argv[1]);
	name[299] = 0;
	if (WideCharToMultiByte(CP_UTF8, 0, argv[3], -1, data, sizeof(data),
	    NULL, NULL) <= 0)
		return 2;
	dlen = (DWORD)strlen(data);
	f = CreateFileW(argv[2], GENERIC_READ, FILE_SHARE_READ, NULL,
	    OPEN_EXISTING, 0, NULL);
	if (f == INVALID_HANDLE_VALUE || !ReadFile(f, buf, sizeof(buf), &n,
	    NULL))
		return 1;
	CloseHandle(f);
	while (p == INVALID_HANDLE_VALUE) {
		p = CreateFileW(name, GENERIC_READ | GENERIC_WRITE, 0, NULL,
		    OPEN_EXISTING, 0, NULL);
		if (p != INVALID_HANDLE_VALUE)
			break;
		if (GetTickCount() - start > 10000)
			return 3;
		if (GetLastError() == ERROR_PIPE_BUSY)
			WaitNamedPipeW(name, 1000);
		else
			Sleep(10);
	}
	if (GetNamedPipeServerProcessId(p, &pid))
		fprintf(stderr, "server-pid %lu\n", pid);
	if (write_all(p, buf, n) != 0 || copy_frame(p, out) != 0 ||
	    copy_frame(p, out) != 0 || write_all(p, data, dlen) != 0 ||
	    read_all(p, buf, dlen) != 0 || write_all(out, buf, dlen) != 0)
		return 1;
	if (GetNamedPipeServerProcessId(p, &pid))
		fprintf(stderr, "server-pid %lu\n", pid);
	CloseHandle(p);
	return 0;
}
