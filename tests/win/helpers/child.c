/*
 * child.exe MODE [ARG] — what the Windows end-to-end tests run as PROG:
 *   exit N       exit with status N
 *   sleep MS     sleep, exit 0
 *   conout N     write N numbered lines through CONOUT$ (what reaches a
 *                pseudo console under Wine), exit 3 at once
 *   stdout N     the same on stdout
 *   cat          copy stdin to stdout until its end
 *   args ...     each argument on a line of its own
 *   hello        "hello from PID" and the RP_ROUTE it was given on
 *                stdout, then one line of stdin back, and exit
 *   broker FILE  a stand-in broker for one request: read one v1 frame
 *                from stdin, answer with FILE's bytes (a HelloReply or an
 *                AdminReply built by the test) as the payload of a
 *                RESPONSE frame echoing the request's payload_protocol and
 *                request_id, and exit
 *   sid          the SID of this process's token (TokenUser) on stdout,
 *                as ConvertSidToStringSidA writes it (S-1-5-21-...)
 *   alive PID    exit 0 when process PID runs, 1 when it has ended or
 *                no such process exists (OpenProcess, GetExitCodeProcess)
 *   ctrl EVENT PIPE OUT PROG [ARG...]
 *                run PROG in a process group of its own, sharing our
 *                console, its stdout and stderr into the file OUT; once
 *                the named pipe PIPE exists, send its group EVENT
 *                (break: CTRL_BREAK_EVENT, c: CTRL_C_EVENT) with
 *                GenerateConsoleCtrlEvent, and wait (10 s) for it to
 *                end: exit with its exit status; 99 when it did not end
 *                (then killed), 98 when PIPE never came, 97 when it
 *                could not run or the event could not be sent (said on
 *                stderr and in OUT).  Under Wine we need a console of
 *                our own (run by start /wait), and only Ctrl-C
 *                travels.
 * Plain Win32 and the C runtime, no librp.
 */
#include <windows.h>
#include <sddl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(int argc, char **argv);
static int broker(const char *file);
static int ctrl(int argc, char **argv);
int wmain(int argc, wchar_t **wargv);

/* The arguments as UTF-8, as rp's programs see theirs. */
int
wmain(int argc, wchar_t **wargv)
{
	char *argv[64];
	int i, n;

	if (argc > 63)
		argc = 63;
	for (i = 0; i < argc; i++) {
		n = WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, NULL, 0, NULL,
		    NULL);
		if (n <= 0 || (argv[i] = malloc((size_t)n)) == NULL)
			return 98;
		WideCharToMultiByte(CP_UTF8, 0, wargv[i], -1, argv[i], n, NULL,
		    NULL);
	}
	argv[argc] = NULL;
	return run(argc, argv);
}

static int
run(int argc, char **argv)
{
	static char buf[1 << 16];
	const char *mode = argc > 1 ? argv[1] : "";
	int n = argc > 2 ? atoi(argv[2]) : 0, i;
	DWORD r, w;

	if (strcmp(mode, "exit") == 0)
		return n;
	if (strcmp(mode, "sleep") == 0) {
		Sleep((DWORD)n);
		return 0;
	}
	if (strcmp(mode, "conout") == 0) {
		HANDLE h = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
		    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
		    NULL);

		if (h == INVALID_HANDLE_VALUE)
			return 10;
		for (i = 0; i < n; i++) {
			int len = snprintf(buf, sizeof(buf), "line %05d\r\n", i);

			if (!WriteFile(h, buf, (DWORD)len, &w, NULL))
				return 11;
		}
		return 3;
	}
	if (strcmp(mode, "stdout") == 0) {
		for (i = 0; i < n; i++)
			printf("line %05d\n", i);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strcmp(mode, "args") == 0) {
		for (i = 2; i < argc; i++)
			printf("%s\n", argv[i]);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strcmp(mode, "hello") == 0) {
		HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
		HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);
		const char *route = getenv("RP_ROUTE");
		size_t have = 0;
		int len = snprintf(buf, sizeof(buf), "hello from %lu, route %s\n",
		    GetCurrentProcessId(), route != NULL ? route : "-");

		if (!WriteFile(out, buf, (DWORD)len, &w, NULL))
			return 1;
		while (have < sizeof(buf) && ReadFile(in, buf + have, 1, &r,
		    NULL) && r == 1)
			if (buf[have++] == '\n')
				break;
		return WriteFile(out, buf, (DWORD)have, &w, NULL) ? 0 : 1;
	}
	if (strcmp(mode, "cat") == 0) {
		HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
		HANDLE out = GetStdHandle(STD_OUTPUT_HANDLE);

		while (ReadFile(in, buf, sizeof(buf), &r, NULL) && r > 0)
			if (!WriteFile(out, buf, r, &w, NULL) || w != r)
				return 1;
		return 0;
	}
	if (strcmp(mode, "broker") == 0 && argc > 2)
		return broker(argv[2]);
	if (strcmp(mode, "alive") == 0) {
		HANDLE h = OpenProcess(PROCESS_QUERY_LIMITED_INFORMATION, FALSE,
		    (DWORD)n);

		if (h == NULL)
			return 1;
		if (!GetExitCodeProcess(h, &r))
			r = 0;
		CloseHandle(h);
		return r == STILL_ACTIVE ? 0 : 1;
	}
	if (strcmp(mode, "ctrl") == 0 && argc > 5)
		return ctrl(argc - 2, argv + 2);
	if (strcmp(mode, "sid") == 0) {
		union { TOKEN_USER tu; char b[256]; } u;
		HANDLE tok;
		char *s;

		if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &tok) ||
		    !GetTokenInformation(tok, TokenUser, u.b, sizeof(u.b), &r) ||
		    !ConvertSidToStringSidA(u.tu.User.Sid, &s))
			return 1;
		printf("%s\n", s);
		LocalFree(s);
		CloseHandle(tok);
		return 0;
	}
	fprintf(stderr, "child: unknown mode '%s'\n", mode);
	return 99;
}

/* ---------------------------------------------- the stand-in broker */

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

/* A varint at p[0..n): its length, or 0. */
static size_t
get_varint(const unsigned char *p, size_t n, unsigned long long *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n && i < 10; i++) {
		*v |= (unsigned long long)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0)
			return i + 1;
	}
	return 0;
}

static size_t
put_varint(unsigned char *p, unsigned long long v)
{
	size_t i = 0;

	while (v >= 0x80) {
		p[i++] = (unsigned char)(v | 0x80);
		v >>= 7;
	}
	p[i++] = (unsigned char)v;
	return i;
}

static int
broker(const char *file)
{
	static unsigned char in[1 << 16], pay[1 << 16], out[(1 << 16) + 64];
	HANDLE hin = GetStdHandle(STD_INPUT_HANDLE);
	HANDLE hout = GetStdHandle(STD_OUTPUT_HANDLE);
	unsigned long long key, v, proto = 0, rid = 0;
	size_t off = 0, k, m = 5, npay;
	DWORD len, w;
	FILE *f;

	if (read_all(hin, in, 5) != 0 || in[0] != 1)
		return 20;
	len = (DWORD)in[1] | (DWORD)in[2] << 8 | (DWORD)in[3] << 16 |
	    (DWORD)in[4] << 24;
	if (len > sizeof(in) || read_all(hin, in, len) != 0)
		return 21;
	while (off < len) {
		if ((k = get_varint(in + off, len - off, &key)) == 0)
			return 22;
		off += k;
		switch (key & 7) {
		case 0:
			if ((k = get_varint(in + off, len - off, &v)) == 0)
				return 22;
			if (key >> 3 == 3)
				proto = v;
			if (key >> 3 == 5)
				rid = v;
			off += k;
			break;
		case 1:
			off += 8;
			break;
		case 5:
			off += 4;
			break;
		case 2:
			if ((k = get_varint(in + off, len - off, &v)) == 0)
				return 22;
			off += k + (size_t)v;
			break;
		default:
			return 22;
		}
	}
	if ((f = fopen(file, "rb")) == NULL)
		return 23;
	npay = fread(pay, 1, sizeof(pay), f);
	fclose(f);
	/* Frame{envelope_version 1, kind RESPONSE, payload_protocol,
	 * payload, request_id}, fields in order as any encoder writes. */
	out[m++] = 0x08;
	out[m++] = 0x01;
	out[m++] = 0x10;
	out[m++] = 0x01;
	if (proto != 0) {
		out[m++] = 0x18;
		m += put_varint(out + m, proto);
	}
	if (npay > 0) {
		out[m++] = 0x22;
		m += put_varint(out + m, npay);
		memcpy(out + m, pay, npay);
		m += npay;
	}
	if (rid != 0) {
		out[m++] = 0x28;
		m += put_varint(out + m, rid);
	}
	out[0] = 1;
	out[1] = (unsigned char)(m - 5);
	out[2] = (unsigned char)((m - 5) >> 8);
	out[3] = (unsigned char)((m - 5) >> 16);
	out[4] = (unsigned char)((m - 5) >> 24);
	return WriteFile(hout, out, (DWORD)m, &w, NULL) && w == m ? 0 : 24;
}

/* ------------------------------------------------- console control */

static int
ctrl(int argc, char **argv)
{
	static wchar_t cmd[8192], pipe[300], out[MAX_PATH];
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, TRUE };
	STARTUPINFOW si;
	PROCESS_INFORMATION pi;
	DWORD ev = strcmp(argv[0], "c") == 0 ? CTRL_C_EVENT : CTRL_BREAK_EVENT;
	DWORD code = 0, start;
	HANDLE f;
	char msg[96];
	size_t off = 0;
	int i, len;

	if (MultiByteToWideChar(CP_UTF8, 0, argv[1], -1, pipe + 9, 290) <= 0 ||
	    MultiByteToWideChar(CP_UTF8, 0, argv[2], -1, out, MAX_PATH) <= 0)
		return 97;
	memcpy(pipe, L"\\\\.\\pipe\\", 9 * sizeof(wchar_t));
	for (i = 3; i < argc; i++) {
		/* Our tests' arguments hold no quotes. */
		cmd[off++] = L'"';
		off += (size_t)MultiByteToWideChar(CP_UTF8, 0, argv[i], -1,
		    cmd + off, (int)(8000 - off)) - 1;
		cmd[off++] = L'"';
		cmd[off++] = L' ';
		if (off > 7900)
			return 97;
	}
	cmd[off] = 0;
	f = CreateFileW(out, GENERIC_WRITE, FILE_SHARE_READ | FILE_SHARE_WRITE,
	    &sa, CREATE_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
	if (f == INVALID_HANDLE_VALUE)
		return 97;
	/* A console to share: the events travel through it. */
	if (GetConsoleWindow() == NULL && !AllocConsole())
		fprintf(stderr, "child: AllocConsole: error %lu\n",
		    GetLastError());
	memset(&si, 0, sizeof(si));
	si.cb = sizeof(si);
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdInput = GetStdHandle(STD_INPUT_HANDLE);
	si.hStdOutput = f;
	si.hStdError = f;
	if (!CreateProcessW(NULL, cmd, NULL, NULL, TRUE,
	    CREATE_NEW_PROCESS_GROUP, NULL, NULL, &si, &pi))
		return 97;
	start = GetTickCount();
	while (!WaitNamedPipeW(pipe, 100)) {
		if (GetTickCount() - start > 20000 ||
		    WaitForSingleObject(pi.hProcess, 0) == WAIT_OBJECT_0) {
			TerminateProcess(pi.hProcess, 99);
			return 98;
		}
		Sleep(10);
	}
	/* Its group alone (its id is its pid); a Ctrl-C there reaches it
	 * once it took Ctrl-C back from the new group's default. */
	if (!GenerateConsoleCtrlEvent(ev, pi.dwProcessId)) {
		/* Said in OUT too: our console may be one nobody sees. */
		len = snprintf(msg, sizeof(msg), "child: "
		    "GenerateConsoleCtrlEvent: error %lu\n", GetLastError());
		fputs(msg, stderr);
		WriteFile(f, msg, (DWORD)len, &code, NULL);
		TerminateProcess(pi.hProcess, 99);
		return 97;
	}
	if (WaitForSingleObject(pi.hProcess, 10000) != WAIT_OBJECT_0) {
		TerminateProcess(pi.hProcess, 99);
		return 99;
	}
	GetExitCodeProcess(pi.hProcess, &code);
	return (int)code;
}
