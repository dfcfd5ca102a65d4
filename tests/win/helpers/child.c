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
 * Plain Win32 and the C runtime, no librp.
 */
#include <windows.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int run(int argc, char **argv);
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
	fprintf(stderr, "child: unknown mode '%s'\n", mode);
	return 99;
}
