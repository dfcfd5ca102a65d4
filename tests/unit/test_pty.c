/*
 * Unit tests for pty: the pair, a session leader on it, sizes, the EOF
 * character, output that outlives its writer, raw mode and its restore
 * (also from a fatal signal), and a guard that cannot be set up whole.
 */
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "buf.h"
#include "deadline.h"
#include "io.h"
#include "pty.h"
#include "spawn.h"
#include "t.h"

/*
 * sigaction as librp sees it in this test: this executable's definition
 * interposes on the C library's, so the guard's calls come here.  It is
 * the real one (the next definition, found with dlsym), except that it
 * refuses to set a disposition for refuse_signo, as a system that does
 * not let that signal be caught would.
 */
static int refuse_signo;

int
sigaction(int signo, const struct sigaction *act, struct sigaction *old)
{
	static int (*real)(int, const struct sigaction *, struct sigaction *);

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "sigaction");
	if (act != NULL && signo == refuse_signo) {
		errno = EINVAL;
		return -1;
	}
	return real(signo, act, old);
}

/* Everything the master yields until EIO (the end: no one holds the
 * terminal any more) or the deadline. */
static int
read_until_eio(int fd, struct rp_buf *out, int64_t deadline)
{
	char buf[8192];
	ssize_t n;

	for (;;) {
		n = read(fd, buf, sizeof(buf));
		if (n > 0) {
			if (rp_buf_append(out, buf, (size_t)n) != 0)
				return -1;
			continue;
		}
		if (n == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EIO)
			return 0;
		if (errno != EAGAIN)
			return -1;
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (poll(&pfd, 1, rp_deadline_poll_ms(deadline)) == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

static void
test_open_pair(void)
{
	struct rp_pty p;
	struct rp_pty_size sz = { 132, 43 }, got;
	struct stat a, b;

	T_EQ(rp_pty_open(&p, &sz), 0);
	T_OK(p.master >= 0 && p.peer >= 0);
	T_EQ(p.pid, 0);
	T_EQ(fcntl(p.master, F_GETFD), FD_CLOEXEC);
	T_EQ(fcntl(p.peer, F_GETFD), FD_CLOEXEC);
	T_OK(strncmp(p.name, "/dev/pts/", 9) == 0);
	T_EQ(rp_tty_is(p.peer), 1);
	/* The peer is the terminal that carries the name. */
	T_EQ(fstat(p.peer, &a), 0);
	T_EQ(stat(p.name, &b), 0);
	T_UEQ(a.st_rdev, b.st_rdev);
	/* The size was set before anything ran, seen from the terminal. */
	T_EQ(rp_pty_get_size(p.peer, &got), 0);
	T_EQ(got.cols, 132);
	T_EQ(got.rows, 43);
	/* Not our controlling terminal (O_NOCTTY). */
	T_OK(tcgetsid(p.peer) < 0);
	rp_pty_close(&p);
	T_EQ(p.master, -1);
	T_EQ(p.peer, -1);
}

static void
test_size_roundtrip(void)
{
	struct rp_pty p;
	struct rp_pty_size sz = { 1, 1 }, got;
	int fds[2];

	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(rp_pty_set_size(p.master, &sz), 0);
	T_EQ(rp_pty_get_size(p.peer, &got), 0);
	T_EQ(got.cols, 1);
	T_EQ(got.rows, 1);
	sz = (struct rp_pty_size){ 65535, 65535 };
	T_EQ(rp_pty_set_size(p.master, &sz), 0);
	T_EQ(rp_pty_get_size(p.master, &got), 0);
	T_EQ(got.cols, 65535);
	T_EQ(got.rows, 65535);
	T_EQ(pipe(fds), 0);
	errno = 0;
	T_EQ(rp_pty_get_size(fds[0], &got), -1);
	T_EQ(errno, ENOTTY);
	T_EQ(rp_pty_set_size(fds[0], &sz), -1);
	T_EQ(rp_tty_is(fds[0]), 0);
	close(fds[0]);
	close(fds[1]);
	rp_pty_close(&p);
}

static void
test_eof_char(void)
{
	struct rp_pty p;
	struct termios t;
	int fds[2];

	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(rp_pty_eof_char(p.master), 4);
	T_EQ(tcgetattr(p.peer, &t), 0);
	t.c_cc[VEOF] = 1;
	T_EQ(tcsetattr(p.peer, TCSANOW, &t), 0);
	/* The master reports the terminal's settings. */
	T_EQ(rp_pty_eof_char(p.master), 1);
	t.c_cc[VEOF] = _POSIX_VDISABLE;
	T_EQ(tcsetattr(p.peer, TCSANOW, &t), 0);
	errno = 0;
	T_EQ(rp_pty_eof_char(p.master), -1);
	T_EQ(errno, ENOENT);
	T_EQ(pipe(fds), 0);
	errno = 0;
	T_EQ(rp_pty_eof_char(fds[0]), -1);
	T_EQ(errno, ENOTTY);
	close(fds[0]);
	close(fds[1]);
	rp_pty_close(&p);
}

/* Run argv on a fresh PTY; return its output up to EIO and its status. */
static void
run_on_pty(char **argv, const struct rp_pty_size *sz, struct rp_buf *out,
    struct rp_spawn_status *st)
{
	struct rp_pty p;
	struct rp_spawn sp = { .argv = argv };
	pid_t pid;

	T_EQ(rp_pty_open(&p, sz), 0);
	pid = rp_pty_spawn(&p, &sp, NULL);
	T_OK(pid > 0);
	T_EQ(p.pid, pid);
	T_EQ(p.peer, -1);
	T_EQ(read_until_eio(p.master, out, rp_deadline_in(20000)), 0);
	T_EQ(rp_spawn_wait(pid, 0, st), 1);
	rp_pty_close(&p);
}

/* ------------------------------------------------------ piped input */

/* Encode in through f in small pieces (so that a piece may end anywhere),
 * write it all to the master, and return how many bytes were written. */
static size_t
feed_all(struct rp_pty *p, struct rp_pty_feed *f, const void *in, size_t n)
{
	const unsigned char *ip = in;
	unsigned char w[37];
	size_t used, len, total = 0;

	while (n > 0) {
		used = rp_pty_feed(f, p->master, ip, n, w, sizeof(w), &len);
		T_OK(used > 0 || len > 0);
		T_OK(len <= sizeof(w));
		T_EQ(rp_io_write_full(p->master, w, len, RP_DEADLINE_NEVER), 0);
		total += len;
		ip += used;
		n -= used;
	}
	return total;
}

/* Read the terminal side until want bytes came, or it reads as ended
 * (returns what came; *eof set when a read returned 0). */
static size_t
read_side(int fd, unsigned char *buf, size_t want, int *eof)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	size_t got = 0;
	ssize_t n;

	*eof = 0;
	while (got < want) {
		if (poll(&pfd, 1, 5000) != 1)
			break;
		n = read(fd, buf + got, want - got);
		if (n <= 0) {
			*eof = n == 0;
			break;
		}
		got += (size_t)n;
	}
	return got;
}

static void
no_echo(struct rp_pty *p)
{
	struct termios t;

	T_EQ(tcgetattr(p->peer, &t), 0);
	t.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
	T_EQ(tcsetattr(p->peer, TCSANOW, &t), 0);
}

/* Every byte but "\n" in one line, and "\n" at its end: the reader gets
 * them all, as they are, in data mode; and again with the signal
 * characters turned back on (then they go quoted). */
static void
test_feed_every_byte(void)
{
	unsigned char in[256], got[300];
	struct rp_pty_feed f = { 0 };
	struct rp_pty p;
	struct termios t;
	size_t i, n = 0;
	int eof, round;

	for (i = 0; i < 256; i++)
		if (i != '\n')
			in[n++] = (unsigned char)i;
	in[n++] = '\n';
	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(rp_pty_data_mode(p.master), 0);
	T_EQ(tcgetattr(p.peer, &t), 0);
	T_OK(t.c_lflag & ICANON);
	T_OK(!(t.c_lflag & ISIG) && !(t.c_iflag & (IXON | IXOFF | ICRNL)));
	T_OK(t.c_lflag & ECHO);      /* still a terminal as people know it */
	no_echo(&p);
	for (round = 0; round < 2; round++) {
		if (round == 1) {
			T_EQ(tcgetattr(p.peer, &t), 0);
			t.c_lflag |= ISIG;
			T_EQ(tcsetattr(p.peer, TCSANOW, &t), 0);
		}
		T_OK(feed_all(&p, &f, in, n) > n);   /* some went quoted */
		T_UEQ(read_side(p.peer, got, n, &eof), n);
		T_EQ(memcmp(got, in, n), 0);
		T_UEQ(f.lost, 0);
		T_UEQ(f.line, 0);
	}
	rp_pty_close(&p);
}

/* A line far longer than the terminal holds, with every kind of byte in
 * it: handed over in pieces, none lost; then the end of file. */
static void
test_feed_long_line(void)
{
	static unsigned char in[40 * 255], got[sizeof(in) + 16];
	struct rp_pty_feed f = { 0 };
	unsigned char end[4];
	struct rp_pty p;
	size_t i, n = 0;
	int eof, k;

	for (i = 0; i < 40 * 256; i++)
		if ((i & 0xff) != '\n')
			in[n++] = (unsigned char)i;
	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(rp_pty_data_mode(p.master), 0);
	no_echo(&p);
	feed_all(&p, &f, in, n);
	T_OK(f.line > 0);
	k = rp_pty_feed_end(&f, p.master, end, sizeof(end));
	T_EQ(k, 2);                 /* end the partial line, then EOF */
	T_EQ(rp_io_write_full(p.master, end, (size_t)k, RP_DEADLINE_NEVER),
	    0);
	T_UEQ(read_side(p.peer, got, sizeof(got), &eof), n);
	T_EQ(eof, 1);
	T_EQ(memcmp(got, in, n), 0);
	T_UEQ(f.lost, 0);
	/* At the start of a line one end-of-file character is enough. */
	T_EQ(rp_pty_feed_end(&f, p.master, end, sizeof(end)), 1);
	T_EQ(end[0], 4);
	rp_pty_close(&p);
}

/* encode(t) on in: the bytes written and the losses. */
static size_t
encode_under(struct rp_pty *p, const struct termios *t, const char *in,
    size_t n, unsigned char *out, size_t outsz, struct rp_pty_feed *f)
{
	size_t len, used;

	T_EQ(tcsetattr(p->peer, TCSANOW, t), 0);
	used = rp_pty_feed(f, p->master, in, n, out, outsz, &len);
	T_UEQ(used, n);
	return len;
}

/* What settings the program may choose make undeliverable: not written,
 * counted, and why. */
static void
test_feed_lost(void)
{
	static char line[5000];
	struct rp_pty_feed f;
	unsigned char out[6000];
	struct termios base, t;
	struct rp_pty p;
	size_t len;

	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(rp_pty_data_mode(p.master), 0);
	T_EQ(tcgetattr(p.peer, &base), 0);
	/* Non-canonical with ISIG: a signal character cannot be quoted. */
	t = base;
	t.c_lflag = (t.c_lflag & ~(tcflag_t)ICANON) | ISIG;
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &t, "a\003b\004", 4, out, sizeof(out), &f);
	T_UEQ(len, 3);
	T_EQ(memcmp(out, "ab\004", 3), 0);   /* VEOF means nothing here */
	T_UEQ(f.lost, 1);
	T_EQ(f.why, RP_PTY_LOST_SIGNAL);
	/* IXON: flow control is never written, in either mode. */
	t = base;
	t.c_iflag |= IXON;
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &t, "a\023\021b", 4, out, sizeof(out), &f);
	T_UEQ(len, 2);
	T_UEQ(f.lost, 2);
	T_EQ(f.why, RP_PTY_LOST_FLOW);
	/* Canonical without IEXTEN: no literal-next to quote an edit. */
	t = base;
	t.c_lflag &= ~(tcflag_t)IEXTEN;
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &t, "a\025b\n", 4, out, sizeof(out), &f);
	T_UEQ(len, 3);
	T_EQ(memcmp(out, "ab\n", 3), 0);
	T_EQ(f.why, RP_PTY_LOST_EDIT);
	/* ...and with it, quoted: ^V in front. */
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &base, "a\025b\n", 4, out, sizeof(out), &f);
	T_UEQ(len, 5);
	T_EQ(memcmp(out, "a\026\025b\n", 5), 0);
	T_UEQ(f.lost, 0);
	/* Canonical without VEOF: a line is cut where the terminal would
	 * cut it (4095 bytes), and the rest counted. */
	t = base;
	t.c_cc[VEOF] = _POSIX_VDISABLE;
	memset(line, 'x', sizeof(line));
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &t, line, sizeof(line), out, sizeof(out), &f);
	T_UEQ(len, 4095);
	T_UEQ(f.lost, sizeof(line) - 4095);
	T_EQ(f.why, RP_PTY_LOST_LINE);
	len = encode_under(&p, &t, "\n", 1, out, sizeof(out), &f);
	T_UEQ(len, 1);
	T_UEQ(f.line, 0);
	errno = 0;
	T_EQ(rp_pty_feed_end(&f, p.master, out, sizeof(out)), -1);
	T_EQ(errno, ENOENT);
	/* IGNCR outside canonical mode would drop a carriage return. */
	t = base;
	t.c_lflag &= ~(tcflag_t)ICANON;
	t.c_iflag |= IGNCR;
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &t, "a\rb", 3, out, sizeof(out), &f);
	T_UEQ(len, 2);
	T_EQ(f.why, RP_PTY_LOST_CR);
	/* With a canonical line and a VEOF, nothing is lost, however long:
	 * pushed every few KiB. */
	memset(&f, 0, sizeof(f));
	len = encode_under(&p, &base, line, sizeof(line), out, sizeof(out),
	    &f);
	T_UEQ(len, sizeof(line) + 1);
	T_UEQ(f.lost, 0);
	/* Too small a buffer for the end. */
	errno = 0;
	T_EQ(rp_pty_feed_end(&f, p.master, out, 1), -1);
	T_EQ(errno, EINVAL);
	rp_pty_close(&p);
}

static void
test_spawn_session_leader(void)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"tty; stty size; "
		"[ \"$(ps -o sid= -p $$)\" -eq $$ ] && echo leader; exit 3",
		NULL };
	struct rp_pty_size sz = { 120, 40 };
	struct rp_buf out = { 0 };
	struct rp_spawn_status st;
	struct rp_pty p;
	char want[128];

	run_on_pty(argv, &sz, &out, &st);
	T_EQ(st.signo, 0);
	T_EQ(st.code, 3);
	T_OK(strncmp(rp_buf_str(&out), "/dev/pts/", 9) == 0);
	snprintf(want, sizeof(want), "\r\n40 120\r\nleader\r\n");
	T_OK(strstr(rp_buf_str(&out), want) != NULL);
	rp_buf_free(&out);

	/* fds given by the caller are refused: the terminal goes there. */
	{
		struct rp_spawn_fd map[1] = { { -1, 5 } };
		struct rp_spawn sp = { .argv = argv, .fds = map, .nfds = 1 };

		T_EQ(rp_pty_open(&p, NULL), 0);
		errno = 0;
		T_EQ(rp_pty_spawn(&p, &sp, NULL), -1);
		T_EQ(errno, EINVAL);
		T_OK(p.peer >= 0);
		rp_pty_close(&p);
	}
}

static void
test_spawn_exec_failure(void)
{
	char *argv[] = { (char *)"rp-no-such-program-77e1", NULL };
	struct rp_spawn sp = { .argv = argv };
	struct rp_pty p;
	int ef = -1;

	T_EQ(rp_pty_open(&p, NULL), 0);
	errno = 0;
	T_EQ(rp_pty_spawn(&p, &sp, &ef), -1);
	T_EQ(ef, 1);
	T_EQ(errno, ENOENT);
	T_EQ(p.pid, 0);
	T_OK(p.peer >= 0);      /* unchanged on failure */
	rp_pty_close(&p);
}

/* The writer is gone (and reaped) before we read a single byte: every
 * byte is still there, then EIO. */
static void
test_output_outlives_writer(void)
{
	char *argv[] = { (char *)"sh", (char *)"-c",
		(char *)"i=0; while [ $i -lt 200 ]; do echo line$i; "
		"i=$((i+1)); done", NULL };
	struct rp_spawn sp = { .argv = argv };
	struct rp_buf out = { 0 };
	struct rp_spawn_status st;
	struct rp_pty p;
	const char *s;
	char want[32];
	int i;
	pid_t pid;

	T_EQ(rp_pty_open(&p, NULL), 0);
	pid = rp_pty_spawn(&p, &sp, NULL);
	T_OK(pid > 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.code, 0);
	T_EQ(read_until_eio(p.master, &out, rp_deadline_in(10000)), 0);
	s = rp_buf_str(&out);
	for (i = 0; i < 200; i++) {
		snprintf(want, sizeof(want), "line%d\r\n", i);
		T_OK(strstr(s, want) != NULL);
		s = strstr(s, want) ? strstr(s, want) + strlen(want) : s;
	}
	T_EQ(*s, '\0');
	rp_buf_free(&out);
	rp_pty_close(&p);
}

/* An EOF character at the start of a line ends cat's input. */
static void
test_eof_ends_cat(void)
{
	char *argv[] = { (char *)"cat", NULL };
	struct rp_spawn sp = { .argv = argv };
	struct rp_buf out = { 0 };
	struct rp_spawn_status st;
	struct rp_pty p;
	char in[3] = "hi\n";
	char eof;
	pid_t pid;

	T_EQ(rp_pty_open(&p, NULL), 0);
	pid = rp_pty_spawn(&p, &sp, NULL);
	T_OK(pid > 0);
	eof = (char)rp_pty_eof_char(p.master);
	T_EQ(eof, 4);
	T_EQ(write(p.master, in, 3), 3);
	T_EQ(write(p.master, &eof, 1), 1);
	T_EQ(read_until_eio(p.master, &out, rp_deadline_in(10000)), 0);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(st.code, 0);
	/* The echo of the input, then cat's copy. */
	T_STR(rp_buf_str(&out), "hi\r\nhi\r\n");
	rp_buf_free(&out);
	rp_pty_close(&p);
}

static int
termios_same(const struct termios *a, const struct termios *b)
{
	return a->c_iflag == b->c_iflag && a->c_oflag == b->c_oflag &&
	    a->c_cflag == b->c_cflag && a->c_lflag == b->c_lflag &&
	    memcmp(a->c_cc, b->c_cc, sizeof(a->c_cc)) == 0;
}

static void
test_raw_and_restore(void)
{
	struct rp_pty p;
	struct rp_tty *t;
	struct termios before, during, after;
	int fds[2];

	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(tcgetattr(p.peer, &before), 0);
	t = rp_tty_raw(p.peer);
	T_OK(t != NULL);
	T_EQ(tcgetattr(p.peer, &during), 0);
	T_EQ(during.c_lflag & (ICANON | ECHO | ISIG), 0);
	T_EQ(during.c_oflag & OPOST, 0);
	T_EQ(during.c_cc[VMIN], 1);
	T_EQ(rp_tty_restore(t), 0);
	T_EQ(tcgetattr(p.peer, &after), 0);
	T_OK(termios_same(&before, &after));
	/* Again, and through free. */
	T_EQ(rp_tty_restore(t), 0);
	rp_tty_free(t);
	t = rp_tty_raw(p.peer);
	T_OK(t != NULL);
	rp_tty_free(t);
	T_EQ(tcgetattr(p.peer, &after), 0);
	T_OK(termios_same(&before, &after));

	T_EQ(pipe(fds), 0);
	errno = 0;
	T_OK(rp_tty_raw(fds[0]) == NULL);
	T_EQ(errno, ENOTTY);
	close(fds[0]);
	close(fds[1]);
	rp_pty_close(&p);
}

/* A process that dies of a fatal signal while its terminal is raw leaves
 * it restored; without the guard it would stay raw. */
static void
fatal_case(int sig, int guard)
{
	struct rp_pty p;
	struct termios before, after;
	int status;
	pid_t pid;

	T_EQ(rp_pty_open(&p, NULL), 0);
	T_EQ(tcgetattr(p.peer, &before), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		struct rp_tty *t = rp_tty_raw(p.peer);

		if (t == NULL || (guard && rp_tty_guard(t) != 0))
			_exit(99);
		/* raise() from inside, as a real fault or abort would. */
		raise(sig);
		_exit(98);
	}
	T_EQ(waitpid(pid, &status, 0), pid);
	T_OK(WIFSIGNALED(status));
	T_EQ(WTERMSIG(status), sig);
	T_EQ(tcgetattr(p.peer, &after), 0);
	T_EQ(termios_same(&before, &after), guard);
	rp_pty_close(&p);
}

static void
test_guard_fatal_signals(void)
{
	struct sigaction cur;

	fatal_case(SIGTERM, 1);
	fatal_case(SIGABRT, 1);
	fatal_case(SIGILL, 1);
	fatal_case(SIGQUIT, 1);
	/* Under AddressSanitizer SIGSEGV has the sanitizer's handler, which
	 * the guard leaves alone (as it must any handler not its own). */
	T_EQ(sigaction(SIGSEGV, NULL, &cur), 0);
	if (cur.sa_handler == SIG_DFL && !(cur.sa_flags & SA_SIGINFO))
		fatal_case(SIGSEGV, 1);
	fatal_case(SIGTERM, 0);
}

static void
other_handler(int sig)
{
	(void)sig;
}

static void
test_guard_respects_ignored(void)
{
	struct rp_pty p;
	struct rp_tty *t;
	struct sigaction sa = { 0 }, cur;

	T_EQ(rp_pty_open(&p, NULL), 0);
	sa.sa_handler = SIG_IGN;
	T_EQ(sigaction(SIGHUP, &sa, NULL), 0);
	t = rp_tty_raw(p.peer);
	T_OK(t != NULL);
	T_EQ(rp_tty_guard(t), 0);
	T_EQ(sigaction(SIGHUP, NULL, &cur), 0);
	T_OK(cur.sa_handler == SIG_IGN);
	T_EQ(sigaction(SIGTERM, NULL, &cur), 0);
	T_OK(cur.sa_handler != SIG_DFL);
	/* A handler of someone else's is not replaced either. */
	{
		struct sigaction mine = { 0 }, got;

		T_EQ(rp_tty_guard(NULL), 0);
		mine.sa_handler = other_handler;
		T_EQ(sigaction(SIGUSR1, &mine, NULL), 0);
		T_EQ(rp_tty_guard(t), 0);
		T_EQ(sigaction(SIGUSR1, NULL, &got), 0);
		T_OK(got.sa_handler == mine.sa_handler);
	}
	/* Removing the guard gives the defaults back. */
	T_EQ(rp_tty_guard(NULL), 0);
	T_EQ(sigaction(SIGTERM, NULL, &cur), 0);
	T_OK(cur.sa_handler == SIG_DFL);
	T_EQ(rp_tty_guard(t), 0);
	rp_tty_free(t);
	T_EQ(sigaction(SIGTERM, NULL, &cur), 0);
	T_OK(cur.sa_handler == SIG_DFL);
	rp_pty_close(&p);
}

/* A guard that fails part-way (the ninth of its signals, SIGUSR1, is
 * refused) leaves every disposition as it found it: those it had already
 * taken over (SIGHUP, SIGINT, ...) are given back. */
static void
test_guard_partial_failure(void)
{
	struct sigaction before[NSIG], after;
	struct rp_pty p;
	struct rp_tty *t;
	int sig;

	T_EQ(rp_pty_open(&p, NULL), 0);
	t = rp_tty_raw(p.peer);
	T_OK(t != NULL);
	for (sig = 1; sig < NSIG; sig++)
		if (sigaction(sig, NULL, &before[sig]) != 0)
			before[sig].sa_handler = SIG_ERR;
	refuse_signo = SIGUSR1;
	errno = 0;
	T_EQ(rp_tty_guard(t), -1);
	T_EQ(errno, EINVAL);
	refuse_signo = 0;
	for (sig = 1; sig < NSIG; sig++) {
		if (before[sig].sa_handler == SIG_ERR ||
		    sigaction(sig, NULL, &after) != 0)
			continue;
		if (after.sa_handler != before[sig].sa_handler)
			t_fail(__FILE__, __LINE__, "signal %d: its disposition "
			    "was left changed", sig);
	}
	/* Nothing is guarded, and a later guard is whole again. */
	T_EQ(rp_tty_guard(t), 0);
	T_EQ(sigaction(SIGUSR1, NULL, &after), 0);
	T_OK(after.sa_handler != SIG_DFL);
	rp_tty_free(t);
	T_EQ(sigaction(SIGHUP, NULL, &after), 0);
	T_OK(after.sa_handler == SIG_DFL);
	rp_pty_close(&p);
}

/* A private non-blocking description for a pipe; the shared one keeps its
 * flags.  A regular file gets a duplicate. */
static void
test_out_fd(void)
{
	char path[512], buf[8];
	int p[2], fd, nb = -1, f;

	T_EQ(pipe2(p, O_CLOEXEC), 0);
	fd = rp_pty_out_fd(p[1], &nb);
	T_OK(fd > 2);
	T_EQ(nb, 1);
	T_EQ(fcntl(fd, F_GETFD), FD_CLOEXEC);
	T_OK(fcntl(fd, F_GETFL) & O_NONBLOCK);
	T_EQ(fcntl(p[1], F_GETFL) & O_NONBLOCK, 0);
	T_EQ(write(fd, "ab", 2), 2);
	T_EQ(read(p[0], buf, sizeof(buf)), 2);
	T_MEM(buf, "ab", 2);
	/* Full pipe: EAGAIN, never a wait. */
	for (;;) {
		static const char chunk[4096];

		if (write(fd, chunk, sizeof(chunk)) < 0)
			break;
	}
	T_EQ(errno, EAGAIN);
	close(fd);

	/* No reader any more: still ours, and EPIPE when written. */
	signal(SIGPIPE, SIG_IGN);
	close(p[0]);
	fd = rp_pty_out_fd(p[1], &nb);
	T_OK(fd > 2);
	errno = 0;
	T_EQ(write(fd, "x", 1), -1);
	T_EQ(errno, EPIPE);
	close(fd);
	close(p[1]);

	snprintf(path, sizeof(path), "%s/file", t_tmpdir());
	f = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	T_OK(f >= 0);
	fd = rp_pty_out_fd(f, &nb);
	T_OK(fd > 2);
	T_EQ(nb, 0);
	/* The same description: the offset and O_APPEND are shared. */
	T_OK(fcntl(fd, F_GETFL) & O_APPEND);
	close(fd);
	close(f);
	errno = 0;
	T_EQ(rp_pty_out_fd(f, &nb), -1);
	T_EQ(errno, EBADF);
}

int
main(void)
{
	T_RUN(test_open_pair);
	T_RUN(test_size_roundtrip);
	T_RUN(test_eof_char);
	T_RUN(test_feed_every_byte);
	T_RUN(test_feed_long_line);
	T_RUN(test_feed_lost);
	T_RUN(test_spawn_session_leader);
	T_RUN(test_spawn_exec_failure);
	T_RUN(test_output_outlives_writer);
	T_RUN(test_eof_ends_cat);
	T_RUN(test_raw_and_restore);
	T_RUN(test_guard_fatal_signals);
	T_RUN(test_guard_respects_ignored);
	T_RUN(test_guard_partial_failure);
	T_RUN(test_out_fd);
	return t_done();
}
