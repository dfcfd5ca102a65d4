/*
 * Unit tests for lib/win's processes (spawn.c): the command line quoted
 * for CommandLineToArgvW and read back by a real child, exit codes and
 * the exit-status table, 126 and 127, the kill-on-close Job Object,
 * descriptors above 2 through the C runtime's block, the environment
 * block.  Children are this executable again ("--child MODE ...").
 */
#include <errno.h>
#include <fcntl.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win/win.h"
#include <shellapi.h>

#include "deadline.h"
#include "err.h"
#include "io.h"
#include "parse.h"
#include "rp.h"
#include "sock.h"
#include "spawn.h"
#include "../t.h"

/* Hostile arguments: blanks, quotes, backslashes before quotes and at
 * the end, empty ones, tabs, non-ASCII. */
static const char *const hostile[] = {
	"plain", "", "two words", "\"", "\\", "\\\\", "a\\\"b", "tail\\",
	"tail\\\\", "\"quoted\"", "in \"the\" middle", "\t", "x\ty", "\\\"",
	"\\\\\"", "a b\\", "ü ñ 中", "--", "-x", "%PATH%", "^&|<>", NULL,
};

static void
self_path(char *out, size_t outsz)
{
	wchar_t w[MAX_PATH];

	GetModuleFileNameW(NULL, w, MAX_PATH);
	T_OK(rp_win_utf8_into(w, out, outsz) > 0);
}

/* A synchronous pipe as two fds (a child's ordinary stdout). */
static void
sync_pipe(int p[2])
{
	HANDLE r, w;

	T_OK(CreatePipe(&r, &w, NULL, 0));
	p[0] = rp_wfd_open(r, -1, 0);
	p[1] = rp_wfd_open(w, -1, 0);
	T_OK(p[0] >= 0 && p[1] >= 0);
}

/* Run this executable with MODE and args; its fd 1 (or out_child) on
 * out_fd. */
static pid_t
run_child(char **extra, int out_fd, int out_child, unsigned flags, int *ef)
{
	char self[MAX_PATH * 3], opt[] = "--child";
	char *argv[64];
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { .argv = argv, .flags = flags };
	size_t n = 0;

	self_path(self, sizeof(self));
	argv[n++] = self;
	argv[n++] = opt;
	while (*extra != NULL && n < 63)
		argv[n++] = *extra++;
	argv[n] = NULL;
	if (out_fd >= 0) {
		map[0] = (struct rp_spawn_fd){ out_fd, out_child };
		sp.fds = map;
		sp.nfds = 1;
	}
	return rp_spawn(&sp, ef);
}

/* Everything a child writes on the pipe, until it ends. */
static char *
slurp(int fd)
{
	static char buf[65536];
	size_t have = 0;
	ssize_t n;

	while (have < sizeof(buf) - 1) {
		n = rp_io_read_full(fd, buf + have, sizeof(buf) - 1 - have,
		    rp_deadline_in(20000));
		if (n <= 0)
			break;
		have += (size_t)n;
	}
	buf[have] = '\0';
	return buf;
}

static void
test_cmdline_round_trips_through_CommandLineToArgvW(void)
{
	char *argv[64], prog[] = "C:\\Program Files\\x y\\p.exe", *back;
	wchar_t *line, **wv;
	int n, i, count = 0;

	argv[count++] = prog;
	for (i = 0; hostile[i] != NULL; i++)
		argv[count++] = (char *)hostile[i];
	argv[count] = NULL;
	line = rp_win_cmdline(argv);
	T_OK(line != NULL);
	wv = CommandLineToArgvW(line, &n);
	T_OK(wv != NULL);
	T_EQ(n, count);
	for (i = 0; i < n && i < count; i++) {
		back = rp_win_utf8(wv[i]);
		T_STR(back, argv[i]);
		free(back);
	}
	LocalFree(wv);
	free(line);
	/* A quote in the program name cannot be said. */
	argv[0] = (char *)"a\"b";
	argv[1] = NULL;
	T_OK(rp_win_cmdline(argv) == NULL);
	T_EQ(errno, EINVAL);
}

/* The same, read back by a real child's C runtime. */
static void
test_child_sees_the_hostile_arguments(void)
{
	struct rp_spawn_status st;
	char *extra[64], mode[] = "argv", *out, *line, hex[512];
	int p[2], ef, i, n = 0;
	pid_t pid;

	extra[n++] = mode;
	for (i = 0; hostile[i] != NULL; i++)
		extra[n++] = (char *)hostile[i];
	extra[n] = NULL;
	sync_pipe(p);
	pid = run_child(extra, p[1], 1, 0, &ef);
	T_OK(pid > 0);
	rp_fd_close(&p[1]);
	out = slurp(p[0]);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(rp_spawn_status_exit(&st), 0);
	line = strtok(out, "\n");
	for (i = 0; hostile[i] != NULL; i++) {
		T_OK(line != NULL);
		if (line == NULL)
			break;
		rp_hex_encode((const uint8_t *)hostile[i], strlen(hostile[i]),
		    hex);
		T_STR(line, hex[0] ? hex : "-");
		line = strtok(NULL, "\n");
	}
	T_OK(line == NULL);
	rp_fd_close(&p[0]);
}

static void
test_exit_codes_come_back(void)
{
	static const char *const codes[] = { "0", "1", "3", "124", "255",
		NULL };
	struct rp_spawn_status st;
	char *extra[3], mode[] = "exit", code[8];
	int i, ef;
	pid_t pid;

	extra[0] = mode;
	extra[1] = code;
	extra[2] = NULL;
	for (i = 0; codes[i] != NULL; i++) {
		snprintf(code, sizeof(code), "%s", codes[i]);
		pid = run_child(extra, -1, 0, 0, &ef);
		T_OK(pid > 0);
		T_EQ(rp_spawn_wait(pid, 0, &st), 1);
		T_EQ(st.signo, 0);
		T_EQ(st.code, atoi(codes[i]));
	}
	/* Reaped: no longer ours. */
	T_EQ(rp_spawn_wait(pid, 0, &st), -1);
	T_EQ(errno, ECHILD);
}

/* rp_spawn_reap_any: whichever of our children has ended, with its
 * status; 0 while none has (or none is left). */
static void
test_reap_any_takes_whichever_ended(void)
{
	struct rp_spawn_status st;
	char *fast[3], *slow[3], m1[] = "exit", c1[] = "7", m2[] = "sleep",
	    c2[] = "60000";
	pid_t a, b, got;
	int ef;

	fast[0] = m1;
	fast[1] = c1;
	fast[2] = NULL;
	slow[0] = m2;
	slow[1] = c2;
	slow[2] = NULL;
	T_EQ(rp_spawn_reap_any(&st), 0);
	b = run_child(slow, -1, 0, 0, &ef);
	a = run_child(fast, -1, 0, 0, &ef);
	T_OK(a > 0 && b > 0);
	/* a ends by itself; until then, nothing to reap. */
	T_EQ(rp_spawn_wait(a, RP_SPAWN_WAIT_NOWAIT, &st), 1);
	got = rp_spawn_reap_any(&st);
	T_EQ(got, a);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 7);
	T_EQ(rp_spawn_reap_any(&st), 0);
	T_EQ(rp_spawn_wait(a, 0, &st), -1);
	T_EQ(errno, ECHILD);
	T_EQ(rp_spawn_kill(b, SIGKILL, 0), 0);
	T_EQ(rp_spawn_wait(b, RP_SPAWN_WAIT_NOWAIT, &st), 1);
	T_EQ(rp_spawn_reap_any(&st), b);
	T_EQ(st.signo, SIGKILL);
	T_EQ(rp_spawn_reap_any(NULL), 0);
}

static void
test_exit_status_table(void)
{
	struct rp_spawn_status st;

	rp_win_exit_status(0xC0000005u, 0, &st);
	T_EQ(st.signo, SIGSEGV);
	T_EQ(rp_spawn_status_exit(&st), 139);
	rp_win_exit_status(0xC00000FDu, 0, &st);
	T_EQ(st.signo, SIGSEGV);
	rp_win_exit_status(0xC000001Du, 0, &st);
	T_EQ(st.signo, SIGILL);
	rp_win_exit_status(0xC0000094u, 0, &st);
	T_EQ(st.signo, SIGFPE);
	rp_win_exit_status(0xC0000091u, 0, &st);
	T_EQ(st.signo, SIGFPE);
	rp_win_exit_status(0xC000013Au, 0, &st);
	T_EQ(rp_spawn_status_exit(&st), 130);
	rp_win_exit_status(0xC0000409u, 0, &st);
	T_EQ(rp_spawn_status_exit(&st), 134);
	/* Our own kills read back as the signal; the same code otherwise
	 * is only a code. */
	rp_win_exit_status(137, SIGKILL, &st);
	T_EQ(st.signo, SIGKILL);
	rp_win_exit_status(137, 0, &st);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 137);
	rp_win_exit_status(256 + 7, 0, &st);
	T_EQ(st.code, 7);
	{
		char b[16];

		T_STR(rp_spawn_signame(SIGKILL, b), "SIGKILL");
		T_STR(rp_spawn_signame(6, b), "SIGABRT");
		T_STR(rp_spawn_signame(99, b), "SIG99");
	}
}

static void
test_a_crash_is_a_signal(void)
{
	struct rp_spawn_status st;
	char *extra[] = { (char *)"crash", NULL };
	int ef;
	pid_t pid;

	pid = run_child(extra, -1, 0, 0, &ef);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.signo, SIGSEGV);
}

static void
test_not_found_and_not_executable(void)
{
	char dir[MAX_PATH], notexe[MAX_PATH];
	char *argv[2] = { NULL, NULL };
	struct rp_spawn sp = { .argv = argv };
	int ef = 0, fd;

	argv[0] = (char *)"rp-no-such-program-anywhere";
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(rp_exit_from_exec_errno(errno), 127);
	snprintf(dir, sizeof(dir), "%s", t_tmpdir());
	argv[0] = dir;
	ef = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(rp_exit_from_exec_errno(errno), 126);
	/* Text named .exe: found, and not a program.  (Not a #! script:
	 * Wine would run that as a Unix program.) */
	snprintf(notexe, sizeof(notexe), "%s\\x.exe", dir);
	fd = rp_fs_open_write(notexe);
	T_OK(fd >= 0);
	T_EQ(rp_io_write_full(fd, "no program\n", 11, RP_DEADLINE_NEVER), 0);
	rp_fd_close(&fd);
	argv[0] = notexe;
	ef = 0;
	T_EQ(rp_spawn(&sp, &ef), -1);

	T_EQ(ef, 1);
	T_EQ(rp_exit_from_exec_errno(errno), 126);
}

static void
test_kill_ends_the_child_as_a_signal(void)
{
	struct rp_spawn_status st;
	char *extra[] = { (char *)"sleep", (char *)"60000", NULL };
	int ef;
	pid_t pid;

	pid = run_child(extra, -1, 0, 0, &ef);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOHANG, &st), 0);
	T_EQ(rp_spawn_kill(pid, 0, 0), 0);
	T_EQ(rp_spawn_kill(pid, SIGTERM, 1), 0);
	T_EQ(rp_spawn_wait_until(pid, 0, rp_deadline_in(10000), &st), 1);
	T_EQ(st.signo, SIGTERM);
	T_EQ(rp_spawn_status_exit(&st), 143);
	T_EQ(rp_spawn_kill(pid, SIGKILL, 1), -1);
	T_EQ(errno, ESRCH);
}

/* The grandchild dies with the child's Job Object. */
static void
test_job_takes_the_grandchild_along(void)
{
	struct rp_spawn_status st;
	char *extra[] = { (char *)"grandchild", NULL }, *out;
	HANDLE g;
	DWORD gpid;
	int p[2], ef;
	pid_t pid;

	sync_pipe(p);
	pid = run_child(extra, p[1], 1, 0, &ef);
	T_OK(pid > 0);
	rp_fd_close(&p[1]);
	{
		char line[32];
		ssize_t n = rp_io_read_full(p[0], line, 8,
		    rp_deadline_in(20000));

		T_EQ(n, 8);
		line[n > 0 ? n : 0] = '\0';
		gpid = (DWORD)strtoul(line, NULL, 10);
	}
	T_OK(gpid != 0);
	g = OpenProcess(SYNCHRONIZE, FALSE, gpid);
	T_OK(g != NULL);
	T_EQ(WaitForSingleObject(g, 0), WAIT_TIMEOUT);
	/* The end of supervision: everything is killed and reaped. */
	T_EQ(rp_spawn_kill_all(), 1);
	T_EQ(WaitForSingleObject(g, 10000), WAIT_OBJECT_0);
	CloseHandle(g);
	T_EQ(rp_spawn_wait(pid, 0, &st), -1);
	out = slurp(p[0]);
	(void)out;
	rp_fd_close(&p[0]);
}

static void
test_fd_above_two_reaches_the_child(void)
{
	struct rp_spawn_status st;
	char *extra[] = { (char *)"fd", (char *)"6", NULL }, *out;
	int p[2], ef;
	pid_t pid;

	sync_pipe(p);
	pid = run_child(extra, p[1], 6, RP_SPAWN_KEEP_STD, &ef);
	T_OK(pid > 0);
	rp_fd_close(&p[1]);
	out = slurp(p[0]);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(rp_spawn_status_exit(&st), 0);
	T_STR(out, "fd 6 works\n");
	rp_fd_close(&p[0]);
}

/* A connection (an overlapped pipe) as a child's stdout, as
 * rp-handoff-recv gives one to PROG. */
static void
test_overlapped_pipe_as_a_childs_stdout(void)
{
	struct rp_spawn_status st;
	char *extra[] = { (char *)"argv", (char *)"over", (char *)"lapped",
		NULL }, *out;
	int sv[2], ef;
	pid_t pid;

	T_EQ(rp_sock_pair(sv, 0), 0);
	pid = run_child(extra, sv[1], 1, 0, &ef);
	T_OK(pid > 0);
	rp_fd_close(&sv[1]);
	out = slurp(sv[0]);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(rp_spawn_status_exit(&st), 0);
	/* hex("over") hex("lapped") */
	T_STR(out, "6f766572\n6c6170706564\n");
	rp_fd_close(&sv[0]);
}

static void
test_environment_block(void)
{
	struct rp_spawn_status st;
	char self[MAX_PATH * 3], opt[] = "--child", mode[] = "env",
	    name[] = "RP_UNIT_ENV";
	char e1[] = "RP_UNIT_ENV=wert ü", e2[] = "SYSTEMROOT=C:\\windows";
	char *argv[] = { self, opt, mode, name, NULL };
	char *envp[] = { e1, e2, NULL };
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { .argv = argv, .envp = envp, .fds = map,
		.nfds = 1 };
	int p[2], ef;
	pid_t pid;
	char *out;

	self_path(self, sizeof(self));
	sync_pipe(p);
	map[0] = (struct rp_spawn_fd){ p[1], 1 };
	pid = rp_spawn(&sp, &ef);
	T_OK(pid > 0);
	rp_fd_close(&p[1]);
	out = slurp(p[0]);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_STR(out, "wert ü\n");
	rp_fd_close(&p[0]);
}

/* ------------------------------------------------------ child modes */

static int
child_main(int argc, char **argv)
{
	char hex[512];
	int i;

	if (strcmp(argv[2], "exit") == 0 && argc >= 4)
		return atoi(argv[3]);
	if (strcmp(argv[2], "argv") == 0) {
		for (i = 3; i < argc; i++) {
			rp_hex_encode((const uint8_t *)argv[i], strlen(argv[i]),
			    hex);
			printf("%s\n", hex[0] ? hex : "-");
		}
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (strcmp(argv[2], "sleep") == 0 && argc >= 4) {
		Sleep((DWORD)atoi(argv[3]));
		return 0;
	}
	if (strcmp(argv[2], "crash") == 0) {
		/* An address of no page, as the compiler cannot see. */
		volatile int *p = (volatile int *)(uintptr_t)strtoul(argc > 3 ?
		    argv[3] : "16", NULL, 10);

		*p = 1;
		return 0;
	}
	if (strcmp(argv[2], "grandchild") == 0) {
		char self[MAX_PATH * 3], opt[] = "--child", m[] = "sleep",
		    ms[] = "60000";
		char *av[] = { self, opt, m, ms, NULL };
		struct rp_spawn sp = { .argv = av };
		int ef;
		pid_t g;

		self_path(self, sizeof(self));
		g = rp_spawn(&sp, &ef);
		printf("%08lu", (unsigned long)g);
		fflush(stdout);
		Sleep(60000);
		return 0;
	}
	if (strcmp(argv[2], "fd") == 0 && argc >= 4) {
		int fd = atoi(argv[3]);

		return _write(fd, "fd 6 works\n", 11) == 11 ? 0 : 1;
	}
	if (strcmp(argv[2], "env") == 0 && argc >= 4) {
		wchar_t w[256], *wn = rp_win_wide(argv[3]);
		char *v;

		if (wn == NULL || GetEnvironmentVariableW(wn, w, 256) == 0)
			return 2;
		v = rp_win_utf8(w);
		printf("%s\n", v != NULL ? v : "?");
		return 0;
	}
	return 99;
}

int
main(int argc, char **argv)
{
	if (rp_init() != 0)
		return 125;
	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	T_RUN(test_cmdline_round_trips_through_CommandLineToArgvW);
	T_RUN(test_child_sees_the_hostile_arguments);
	T_RUN(test_exit_codes_come_back);
	T_RUN(test_reap_any_takes_whichever_ended);
	T_RUN(test_exit_status_table);
	T_RUN(test_a_crash_is_a_signal);
	T_RUN(test_not_found_and_not_executable);
	T_RUN(test_kill_ends_the_child_as_a_signal);
	T_RUN(test_job_takes_the_grandchild_along);
	T_RUN(test_fd_above_two_reaches_the_child);
	T_RUN(test_overlapped_pipe_as_a_childs_stdout);
	T_RUN(test_environment_block);
	return t_done();
}
