/*
 * Unit tests for lib/win's pseudo consoles (pty.c): output drained whole
 * after the child's end (the pseudo console closed, then read until the
 * pipe breaks), termination through the Job Object, the cursor-query
 * answer, resizing, Ctrl-C as a byte.  Children are this executable
 * again ("--child MODE ...").  Some of these cannot pass under Wine 8
 * (tests/win/wine-gaps.txt says which and why).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win/win.h"

#include "deadline.h"
#include "io.h"
#include "pty.h"
#include "rp.h"
#include "spawn.h"
#include "../t.h"

#define LINES 2000

static char out[LINES * 40 + 65536];
static size_t outlen;

static void
self_path(char *buf, size_t bufsz)
{
	wchar_t w[MAX_PATH];

	GetModuleFileNameW(NULL, w, MAX_PATH);
	T_OK(rp_win_utf8_into(w, buf, bufsz) > 0);
}

/* Start this executable on a new pseudo console. */
static pid_t
start(struct rp_pty *p, const char *mode, const char *arg)
{
	char self[MAX_PATH * 3], opt[] = "--child", m[32], a[32];
	char *argv[] = { self, opt, m, a, NULL };
	struct rp_pty_size sz = { 100, 30 };
	struct rp_spawn sp = { .argv = argv };
	int ef = 0;
	pid_t pid;

	self_path(self, sizeof(self));
	snprintf(m, sizeof(m), "%s", mode);
	snprintf(a, sizeof(a), "%s", arg);
	T_EQ(rp_pty_open(p, &sz), 0);
	pid = rp_pty_spawn(p, &sp, &ef);
	T_OK(pid > 0);
	T_EQ(p->pid, pid);
	return pid;
}

/* Read the master until its end (EIO), reaping the child when it has
 * ended (which closes the pseudo console).  1 at the end, 0 when the
 * deadline came first. */
static int
drain(struct rp_pty *p, pid_t pid, struct rp_spawn_status *st, int64_t dl)
{
	int reaped = 0;
	ssize_t n;

	outlen = 0;
	while (!rp_deadline_passed(dl)) {
		if (!reaped && rp_spawn_wait(pid, RP_SPAWN_WAIT_NOHANG, st) == 1)
			reaped = 1;
		if (rp_io_wait(p->master, RP_IO_READ, rp_deadline_in(50)) < 0)
			continue;
		n = rp_io_read_some(p->master, out + outlen,
		    sizeof(out) - 1 - outlen);
		if (n > 0) {
			outlen += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EIO) {
			out[outlen] = '\0';
			if (!reaped)
				T_EQ(rp_spawn_wait(pid, 0, st), 1);
			return 1;
		}
		T_OK(n > 0);
		break;
	}
	out[outlen] = '\0';
	return 0;
}

/* How many of line 0..n-1 appear in out (the pseudo console may put
 * its own sequences around them). */
static int
count_lines(int n)
{
	char want[32];
	int i, found = 0;

	for (i = 0; i < n; i++) {
		snprintf(want, sizeof(want), "line %05d", i);
		if (strstr(out, want) != NULL)
			found++;
	}
	return found;
}

static void
test_output_is_drained_after_the_end(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	char n[16];
	pid_t pid;

	snprintf(n, sizeof(n), "%d", LINES);
	pid = start(&p, "conout", n);
	T_OK(drain(&p, pid, &st, rp_deadline_in(60000)));
	T_EQ(rp_spawn_status_exit(&st), 3);
	T_EQ(count_lines(LINES), LINES);
	rp_pty_close(&p);
	T_EQ(p.master, -1);
}

/* The same after input went to the pseudo console (as rp-spawn-pty's
 * stdin does).  Wine 8's output pipe then stays open after the pseudo
 * console is closed and its conhost has gone (wine-gaps.txt). */
static void
test_output_ends_after_input_was_written(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	pid_t pid;

	/* The child reads the line before it writes: the input has reached
	 * the pseudo console whatever the timing. */
	pid = start(&p, "conin", "10");
	T_EQ(rp_io_write_full(p.master, "hi\r", 3, rp_deadline_in(1000)), 0);
	T_OK(drain(&p, pid, &st, rp_deadline_in(30000)));
	T_EQ(count_lines(10), 10);
	rp_pty_close(&p);
}

/* An ordinary program: its standard handles are the pseudo console's.
 * Wine 8 leaves them NULL (wine-gaps.txt). */
static void
test_child_std_handles_reach_the_pseudo_console(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	pid_t pid;

	pid = start(&p, "stdout", "20");
	T_OK(drain(&p, pid, &st, rp_deadline_in(30000)));
	T_EQ(rp_spawn_status_exit(&st), 0);
	T_EQ(count_lines(20), 20);
	rp_pty_close(&p);
}

static void
test_terminate_through_the_job(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	pid_t pid;

	pid = start(&p, "sleep", "60000");
	T_EQ(rp_spawn_kill(pid, SIGTERM, 1), 0);
	T_OK(drain(&p, pid, &st, rp_deadline_in(30000)));
	T_EQ(st.signo, SIGTERM);
	/* A resize after the end is harmless. */
	{
		struct rp_pty_size sz = { 50, 10 };

		T_EQ(rp_pty_set_size(p.master, &sz), 0);
	}
	rp_pty_close(&p);
}

/* Wine 8: ResizePseudoConsole is E_NOTIMPL (wine-gaps.txt). */
static void
test_resize(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	struct rp_pty_size sz = { 132, 43 }, got;
	pid_t pid;

	pid = start(&p, "sleep", "60000");
	T_EQ(rp_pty_get_size(p.master, &got), 0);
	T_EQ(got.cols, 100);
	T_EQ(got.rows, 30);
	T_EQ(rp_pty_set_size(p.master, &sz), 0);
	T_EQ(rp_pty_get_size(p.master, &got), 0);
	T_EQ(got.cols, 132);
	T_EQ(rp_spawn_kill(pid, SIGKILL, 1), 0);
	(void)drain(&p, pid, &st, rp_deadline_in(30000));
	rp_pty_close(&p);
}

/* Ctrl-C as \x03 on the input ends a child that keeps the default
 * handler (STATUS_CONTROL_C_EXIT, read as SIGINT).  Wine 8 calls no
 * handler (wine-gaps.txt). */
static void
test_ctrl_c_reaches_the_child(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	pid_t pid;
	int r;

	pid = start(&p, "sleep", "20000");
	/* Give it time to be running before the byte comes. */
	Sleep(500);
	T_EQ(rp_spawn_kill(pid, SIGINT, 1), 0);
	r = rp_spawn_wait_until(pid, RP_SPAWN_WAIT_NOWAIT,
	    rp_deadline_in(5000), &st);
	T_EQ(r, 1);
	if (r != 1)
		(void)rp_spawn_kill(pid, SIGKILL, 1);
	(void)drain(&p, pid, &st, rp_deadline_in(30000));
	T_EQ(st.signo, SIGINT);
	rp_pty_close(&p);
}

static void
test_cursor_query_split_across_reads(void)
{
	static const char *const pieces[] = { "abc\x1b", "[", "6", "n", NULL };
	const uint8_t *d;
	int state = 0, i, hits = 0;

	for (i = 0; pieces[i] != NULL; i++) {
		d = (const uint8_t *)pieces[i];
		hits += rp_win_dsr_match(&state, d, strlen(pieces[i]));
	}
	T_EQ(hits, 1);
	/* Look-alikes are not it; a query after a false start is. */
	state = 0;
	d = (const uint8_t *)"\x1b[5n\x1b[\x1b[6n";
	T_EQ(rp_win_dsr_match(&state, d, 12), 1);
	state = 0;
	d = (const uint8_t *)"\x1b[66n";
	T_EQ(rp_win_dsr_match(&state, d, 5), 0);
}

/* PowerShell-style start-up: the child asks where the cursor is and
 * waits for the answer.  In passthrough mode the question comes through
 * to us and we answer it.  Wine 8 has no passthrough mode (it takes the
 * flag and ignores it), so the question never reaches us there
 * (wine-gaps.txt). */
static void
test_cursor_query_is_answered(void)
{
	struct rp_spawn_status st;
	struct rp_pty p;
	pid_t pid;

	pid = start(&p, "dsr", "0");
	T_OK(drain(&p, pid, &st, rp_deadline_in(10000)));
	T_EQ(rp_spawn_status_exit(&st), 0);
	T_OK(strstr(out, "\x1b[6n") != NULL);
	T_OK(strstr(out, "answered") != NULL);
	rp_pty_close(&p);
}

/* Piped data into a pseudo console: the bytes as they are (Ctrl-C and
 * all: what they do is the program's console mode), and the end of input
 * Ctrl-Z, twice after a partial line. */
static void
test_piped_data_goes_as_it_is(void)
{
	struct rp_pty p;
	struct rp_pty_feed f;
	static const char in[] = "line\n\x03\x13 partial";
	char enc[64];
	size_t n;
	int sv[2];
	struct rp_pty_size sz = { 80, 24 };

	memset(&f, 0, sizeof(f));
	T_EQ(rp_pty_open(&p, &sz), 0);
	T_EQ(rp_pty_data_mode(p.master), 0);
	T_EQ(rp_pty_feed(&f, p.master, in, sizeof(in) - 1, enc, 4, &n), 4);
	T_EQ(n, 4);
	T_EQ(rp_pty_feed(&f, p.master, in + 4, sizeof(in) - 5, enc,
	    sizeof(enc), &n), sizeof(in) - 5);
	T_EQ(n, sizeof(in) - 5);
	T_OK(memcmp(enc, in + 4, n) == 0);
	T_EQ(f.lost, 0);
	T_EQ(rp_pty_feed_end(&f, p.master, enc, sizeof(enc)), 2);
	T_OK(enc[0] == 0x1a && enc[1] == 0x1a);
	T_EQ(rp_pty_feed(&f, p.master, "x\n", 2, enc, sizeof(enc), &n), 2);
	T_EQ(rp_pty_feed_end(&f, p.master, enc, sizeof(enc)), 1);
	T_OK(enc[0] == 0x1a);
	T_EQ(rp_pty_feed_end(&f, p.master, enc, 1), -1);
	T_EQ(errno, EINVAL);
	rp_pty_close(&p);
	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_pty_data_mode(sv[0]), -1);
	T_EQ(errno, ENOTTY);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

static void
test_no_pseudo_console_is_no_tty(void)
{
	struct rp_pty_size sz;
	int sv[2];

	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_tty_is(sv[0]), 0);
	T_EQ(rp_pty_get_size(sv[0], &sz), -1);
	T_EQ(errno, ENOTTY);
	T_EQ(rp_pty_eof_char(sv[0]), -1);
	T_OK(rp_tty_raw(sv[0]) == NULL);
	T_EQ(errno, ENOTTY);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

/* ------------------------------------------------------ child modes */

/* Write through the console itself, as Wine's pseudo consoles need. */
static int
child_conout(int n)
{
	HANDLE h = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	char line[32];
	DWORD w;
	int i, len;

	if (h == INVALID_HANDLE_VALUE)
		return 10;
	for (i = 0; i < n; i++) {
		len = snprintf(line, sizeof(line), "line %05d\r\n", i);
		if (!WriteFile(h, line, (DWORD)len, &w, NULL))
			return 11;
	}
	/* At once, with everything still on its way. */
	return 3;
}

static DWORD WINAPI
watchdog(void *arg)
{
	Sleep((DWORD)(uintptr_t)arg);
	ExitProcess(12);
}

/* Ask for the cursor position; 0 once an answer came, 12 when none came
 * within 5 s. */
static int
child_dsr(void)
{
	HANDLE co = CreateFileW(L"CONOUT$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	HANDLE in = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	char buf[64];
	DWORD w, n = 0;

	if (co == INVALID_HANDLE_VALUE || in == INVALID_HANDLE_VALUE)
		return 10;
	CloseHandle(CreateThread(NULL, 0, watchdog, (void *)(uintptr_t)5000, 0,
	    NULL));
	SetConsoleMode(in, ENABLE_VIRTUAL_TERMINAL_INPUT);
	if (!WriteFile(co, "\x1b[6n", 4, &w, NULL))
		return 11;
	if (WaitForSingleObject(in, 5000) != WAIT_OBJECT_0 ||
	    !ReadFile(in, buf, sizeof(buf), &n, NULL) ||
	    memchr(buf, 'R', n) == NULL)
		return 12;
	WriteFile(co, "answered\r\n", 10, &w, NULL);
	return 0;
}

/* Read from CONIN$ until a carriage return has come (so the pseudo
 * console has taken the input in), then write n lines as conout. */
static int
child_conin(int n)
{
	HANDLE h = CreateFileW(L"CONIN$", GENERIC_READ | GENERIC_WRITE,
	    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0, NULL);
	char c;
	DWORD got;

	if (h == INVALID_HANDLE_VALUE)
		return 12;
	do {
		if (!ReadFile(h, &c, 1, &got, NULL) || got == 0)
			return 13;
	} while (c != '\r' && c != '\n');
	return child_conout(n);
}

static int
child_main(int argc, char **argv)
{
	int n = argc > 3 ? atoi(argv[3]) : 0, i;

	if (strcmp(argv[2], "conout") == 0)
		return child_conout(n);
	if (strcmp(argv[2], "dsr") == 0)
		return child_dsr();
	if (strcmp(argv[2], "conin") == 0)
		return child_conin(n);
	if (strcmp(argv[2], "stdout") == 0) {
		for (i = 0; i < n; i++)
			printf("line %05d\n", i);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strcmp(argv[2], "sleep") == 0) {
		Sleep((DWORD)n);
		return 0;
	}
	return 99;
}

int
main(int argc, char **argv)
{
	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	if (rp_init() != 0)
		return 125;
	T_RUN(test_output_is_drained_after_the_end);
	T_RUN(test_output_ends_after_input_was_written);
	T_RUN(test_child_std_handles_reach_the_pseudo_console);
	T_RUN(test_terminate_through_the_job);
	T_RUN(test_resize);
	T_RUN(test_ctrl_c_reaches_the_child);
	T_RUN(test_cursor_query_split_across_reads);
	T_RUN(test_cursor_query_is_answered);
	T_RUN(test_piped_data_goes_as_it_is);
	T_RUN(test_no_pseudo_console_is_no_tty);
	return t_done();
}
