/* pty.c — PTY pairs, a session leader on the terminal, raw mode (see pty.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include "io.h"
#include "pty.h"
#include "spawn.h"

int
rp_pty_open(struct rp_pty *p, const struct rp_pty_size *size)
{
	int m, s = -1, saved;

	p->master = p->peer = -1;
	p->pid = 0;
	p->name[0] = '\0';
	m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (m < 0)
		return -1;
	if (grantpt(m) != 0 || unlockpt(m) != 0)
		goto fail;
	if (ptsname_r(m, p->name, sizeof(p->name)) != 0)
		goto fail;
#ifdef TIOCGPTPEER
	/* The peer of this very master, whatever happens to the name. */
	s = ioctl(m, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0 && errno != EINVAL && errno != ENOTTY)
		goto fail;
#endif
	if (s < 0)
		s = open(p->name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0)
		goto fail;
	p->master = m;
	p->peer = s;
	if (size != NULL && rp_pty_set_size(m, size) != 0) {
		saved = errno;
		rp_pty_close(p);
		errno = saved;
		return -1;
	}
	return 0;
fail:
	saved = errno;
	close(m);
	errno = saved;
	return -1;
}

pid_t
rp_pty_spawn(struct rp_pty *p, const struct rp_spawn *sp, int *exec_failed)
{
	struct rp_spawn_fd map[3];
	struct rp_spawn s;
	pid_t pid;

	if (exec_failed != NULL)
		*exec_failed = 0;
	if (sp == NULL || sp->nfds != 0 || p->peer < 0) {
		errno = EINVAL;
		return -1;
	}
	s = *sp;
	map[0] = (struct rp_spawn_fd){ p->peer, 0 };
	map[1] = (struct rp_spawn_fd){ p->peer, 1 };
	map[2] = (struct rp_spawn_fd){ p->peer, 2 };
	s.fds = map;
	s.nfds = 3;
	s.flags |= RP_SPAWN_SETSID | RP_SPAWN_CTTY;
	pid = rp_spawn(&s, exec_failed);
	if (pid < 0)
		return -1;
	p->pid = pid;
	rp_fd_close(&p->peer);
	return pid;
}

void
rp_pty_close(struct rp_pty *p)
{
	rp_fd_close(&p->peer);
	rp_fd_close(&p->master);
}

int
rp_pty_set_size(int fd, const struct rp_pty_size *size)
{
	struct winsize ws = { 0 };

	ws.ws_col = size->cols;
	ws.ws_row = size->rows;
	return ioctl(fd, TIOCSWINSZ, &ws);
}

int
rp_pty_get_size(int fd, struct rp_pty_size *size)
{
	struct winsize ws;

	if (ioctl(fd, TIOCGWINSZ, &ws) != 0)
		return -1;
	size->cols = ws.ws_col;
	size->rows = ws.ws_row;
	return 0;
}

int
rp_pty_eof_char(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0)
		return -1;
	if (t.c_cc[VEOF] == _POSIX_VDISABLE) {
		errno = ENOENT;
		return -1;
	}
	return t.c_cc[VEOF];
}

int
rp_tty_is(int fd)
{
	return isatty(fd);
}

int
rp_pty_out_fd(int fd, int *nonblock)
{
	char path[64];
	struct stat st;
	int nfd;

	*nonblock = 0;
	if (fstat(fd, &st) != 0)
		return -1;
	if (S_ISFIFO(st.st_mode) || S_ISCHR(st.st_mode)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		nfd = open(path, O_WRONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		/* ENXIO: a FIFO without a reader; /proc missing: ENOENT. */
		if (nfd >= 0) {
			*nonblock = 1;
			return nfd;
		}
	}
	return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

struct rp_tty {
	int fd;
	struct termios saved;
};

/* The guarded tty, read by the fatal-signal handler. */
static const struct rp_tty *volatile guarded;

/* Signals whose default action ends the process.  SIGPIPE is in the list:
 * if a program left it at its default, dying of it must restore too. */
static const int fatal_signals[] = {
	SIGHUP, SIGINT, SIGQUIT, SIGILL, SIGTRAP, SIGABRT, SIGBUS, SIGFPE,
	SIGUSR1, SIGSEGV, SIGUSR2, SIGPIPE, SIGALRM, SIGTERM, SIGXCPU,
	SIGXFSZ, SIGVTALRM, SIGPROF, SIGSYS,
#ifdef SIGSTKFLT
	SIGSTKFLT,
#endif
#ifdef SIGPWR
	SIGPWR,
#endif
#ifdef SIGPOLL
	SIGPOLL,
#endif
};
#define NFATAL (sizeof(fatal_signals) / sizeof(fatal_signals[0]))

/* Which of them we took over, so the guard can be removed again. */
static unsigned char guard_installed[NFATAL];

struct rp_tty *
rp_tty_raw(int fd)
{
	struct rp_tty *t;
	struct termios raw;

	t = calloc(1, sizeof(*t));
	if (t == NULL)
		return NULL;
	t->fd = fd;
	if (tcgetattr(fd, &t->saved) != 0) {
		free(t);
		return NULL;
	}
	raw = t->saved;
	cfmakeraw(&raw);
	raw.c_cc[VMIN] = 1;
	raw.c_cc[VTIME] = 0;
	if (tcsetattr(fd, TCSANOW, &raw) != 0) {
		int saved = errno;

		free(t);
		errno = saved;
		return NULL;
	}
	return t;
}

int
rp_tty_restore(const struct rp_tty *t)
{
	int r, saved = errno;

	if (t == NULL)
		return 0;
	/* TCSANOW: waiting for output to drain (TCSADRAIN) could block for
	 * ever on a terminal stopped with ^S, and this runs on the way out. */
	do
		r = tcsetattr(t->fd, TCSANOW, &t->saved);
	while (r != 0 && errno == EINTR);
	if (r == 0)
		errno = saved;
	return r;
}

static void
fatal_handler(int sig)
{
	const struct rp_tty *t = guarded;

	if (t != NULL)
		(void)rp_tty_restore(t);
	/* SA_RESETHAND put the default back: raising again (or returning to
	 * the faulting instruction) now ends the process with sig. */
	(void)raise(sig);
}

static void
unguard(void)
{
	struct sigaction sa;
	size_t i;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < NFATAL; i++) {
		if (guard_installed[i])
			(void)sigaction(fatal_signals[i], &sa, NULL);
		guard_installed[i] = 0;
	}
	guarded = NULL;
}

int
rp_tty_guard(const struct rp_tty *t)
{
	struct sigaction sa, old;
	size_t i;
	int saved;

	unguard();
	if (t == NULL)
		return 0;
	guarded = t;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = fatal_handler;
	/* One restore is enough; a second fatal signal during it must not
	 * re-enter the handler but simply end us. */
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESETHAND;
	for (i = 0; i < NFATAL; i++) {
		if (sigaction(fatal_signals[i], NULL, &old) != 0)
			goto fail;
		/* An ignored signal was meant to be ignored (nohup). */
		if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO))
			continue;
		if (sigaction(fatal_signals[i], &sa, NULL) != 0)
			goto fail;
		guard_installed[i] = 1;
	}
	return 0;
fail:
	/* All or nothing: the handlers already installed go again (back to
	 * the default they replaced), and no tty is guarded. */
	saved = errno;
	unguard();
	errno = saved;
	return -1;
}

void
rp_tty_free(struct rp_tty *t)
{
	if (t == NULL)
		return;
	if (guarded == t)
		unguard();
	(void)rp_tty_restore(t);
	free(t);
}
