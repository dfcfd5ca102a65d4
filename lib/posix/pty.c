/* pty.c — PTY pairs, a session leader on the terminal, raw mode (see pty.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* ----------------------------------------------------- piped input */

/*
 * The longest line a canonical terminal holds before dropping bytes
 * (FEED_MAX): Linux's line discipline keeps N_TTY_BUF_SIZE (4096) bytes,
 * one of them for the line's end.  A line is handed to the reader (pushed
 * with VEOF) well before that, at FEED_PUSH bytes.
 */
#ifdef __linux__
#define FEED_MAX 4095u
#else
#define FEED_MAX ((size_t)MAX_CANON - 1)
#endif
#define FEED_PUSH (FEED_MAX > 200 ? FEED_MAX - 95 : FEED_MAX / 2)

enum feed_class {
	F_DATA = 0,          /* reaches the reader as it is */
	F_QUOTE,             /* needs VLNEXT in front */
	F_LOST,              /* cannot be brought through: why in the bits */
};

/* What each byte means to the terminal with settings t; the classes
 * follow the kernel's own table of special characters (n_tty's
 * char_map): only an enabled character (not _POSIX_VDISABLE) is special,
 * and NUL never is. */
struct feed_map {
	unsigned char cls[256];
	unsigned char why[256];
	int canon, extproc, nl_ends, parmrk;
	int lnext, eof;      /* the characters, or -1 when not usable */
};

static void
feed_special(struct feed_map *m, cc_t c, int canon_only, unsigned why)
{
	if (c == _POSIX_VDISABLE)
		return;
	if (m->canon && m->lnext >= 0) {
		if (m->cls[c] != F_LOST)
			m->cls[c] = F_QUOTE;
		return;
	}
	if (canon_only && !m->canon)
		return;
	m->cls[c] = F_LOST;
	m->why[c] |= (unsigned char)why;
}

static void
feed_map(const struct termios *t, struct feed_map *m)
{
	memset(m, 0, sizeof(*m));
	m->canon = (t->c_lflag & ICANON) != 0;
	m->extproc = 0;
#ifdef EXTPROC
	m->extproc = (t->c_lflag & EXTPROC) != 0;
#endif
	m->nl_ends = !(t->c_iflag & INLCR);
	m->parmrk = (t->c_iflag & PARMRK) && !(t->c_iflag & IGNPAR);
	m->lnext = m->canon && (t->c_lflag & IEXTEN) &&
	    t->c_cc[VLNEXT] != _POSIX_VDISABLE ? t->c_cc[VLNEXT] : -1;
	m->eof = m->canon && t->c_cc[VEOF] != _POSIX_VDISABLE ?
	    t->c_cc[VEOF] : -1;
	if (m->extproc)
		return;             /* every byte is put in as it is */
	/* Flow control acts on bytes the terminal has not taken in yet
	 * (the kernel looks ahead for them), where a VLNEXT in front does
	 * not count: never written under IXON. */
	if (t->c_iflag & IXON) {
		if (t->c_cc[VSTART] != _POSIX_VDISABLE) {
			m->cls[t->c_cc[VSTART]] = F_LOST;
			m->why[t->c_cc[VSTART]] |= RP_PTY_LOST_FLOW;
		}
		if (t->c_cc[VSTOP] != _POSIX_VDISABLE) {
			m->cls[t->c_cc[VSTOP]] = F_LOST;
			m->why[t->c_cc[VSTOP]] |= RP_PTY_LOST_FLOW;
		}
	}
	if (t->c_lflag & ISIG) {
		feed_special(m, t->c_cc[VINTR], 0, RP_PTY_LOST_SIGNAL);
		feed_special(m, t->c_cc[VQUIT], 0, RP_PTY_LOST_SIGNAL);
		feed_special(m, t->c_cc[VSUSP], 0, RP_PTY_LOST_SIGNAL);
	}
	/* A carriage return that ICRNL would turn into a line end goes
	 * quoted in canonical mode; outside it, the translation is the
	 * program's business.  IGNCR would drop it. */
	if (t->c_iflag & (IGNCR | ICRNL)) {
		if (m->canon && m->lnext >= 0)
			m->cls['\r'] = F_QUOTE;
		else if (t->c_iflag & IGNCR) {
			m->cls['\r'] = F_LOST;
			m->why['\r'] |= RP_PTY_LOST_CR;
		}
	}
	if (m->canon) {
		feed_special(m, t->c_cc[VERASE], 1, RP_PTY_LOST_EDIT);
		feed_special(m, t->c_cc[VKILL], 1, RP_PTY_LOST_EDIT);
		feed_special(m, t->c_cc[VEOF], 1, RP_PTY_LOST_EDIT);
		feed_special(m, t->c_cc[VEOL], 1, RP_PTY_LOST_EDIT);
		if (t->c_lflag & IEXTEN) {
			feed_special(m, t->c_cc[VWERASE], 1, RP_PTY_LOST_EDIT);
			feed_special(m, t->c_cc[VLNEXT], 1, RP_PTY_LOST_EDIT);
			feed_special(m, t->c_cc[VEOL2], 1, RP_PTY_LOST_EDIT);
			if (t->c_lflag & ECHO)
				feed_special(m, t->c_cc[VREPRINT], 1,
				    RP_PTY_LOST_EDIT);
		}
	}
	m->cls[0] = F_DATA;
	m->why[0] = 0;
}

int
rp_pty_data_mode(int fd)
{
	struct termios t;

	if (tcgetattr(fd, &t) != 0)
		return -1;
	t.c_iflag &= ~(tcflag_t)(IXON | IXOFF | ICRNL | INLCR | IGNCR);
	t.c_lflag &= ~(tcflag_t)ISIG;
	return tcsetattr(fd, TCSANOW, &t);
}

size_t
rp_pty_feed(struct rp_pty_feed *f, int fd, const void *in, size_t n,
    void *out, size_t outsz, size_t *outlen)
{
	const unsigned char *p = in;
	unsigned char *o = out;
	struct feed_map m;
	struct termios t;
	size_t i, k = 0;
	unsigned char c;

	*outlen = 0;
	if (tcgetattr(fd, &t) != 0) {
		/* Nothing to go by: as they are. */
		i = n < outsz ? n : outsz;
		memcpy(o, p, i);
		*outlen = i;
		return i;
	}
	feed_map(&t, &m);
	/* The terminal's current line, as far as we can know it: only in
	 * canonical mode, and a switch to it hands over what was there. */
	if (!m.canon || m.extproc)
		f->line = 0;
	for (i = 0; i < n && outsz - k >= 3; i++) {
		c = p[i];
		if (m.extproc) {
			o[k++] = c;
			continue;
		}
		if (m.cls[c] == F_LOST) {
			f->lost++;
			f->why |= m.why[c];
			continue;
		}
		if (m.canon && f->line >= FEED_PUSH &&
		    !(c == '\n' && m.nl_ends && m.cls[c] == F_DATA)) {
			if (m.eof >= 0) {
				o[k++] = (unsigned char)m.eof;  /* push it */
				f->line = 0;
			} else if (f->line >= FEED_MAX) {
				f->lost++;
				f->why |= RP_PTY_LOST_LINE;
				continue;
			}
		}
		if (m.cls[c] == F_QUOTE)
			o[k++] = (unsigned char)m.lnext;
		o[k++] = c;
		if (!m.canon)
			continue;
		if (c == '\n' && m.nl_ends && m.cls[c] == F_DATA)
			f->line = 0;
		else
			f->line += m.parmrk && c == 0xff ? 2 : 1;
	}
	*outlen = k;
	return i;
}

int
rp_pty_feed_end(struct rp_pty_feed *f, int fd, void *out, size_t outsz)
{
	unsigned char *o = out;
	struct termios t;
	int canon;

	if (outsz < 2) {
		errno = EINVAL;
		return -1;
	}
	if (tcgetattr(fd, &t) != 0)
		return -1;
	if (t.c_cc[VEOF] == _POSIX_VDISABLE) {
		errno = ENOENT;
		return -1;
	}
	canon = (t.c_lflag & ICANON) != 0;
	o[0] = t.c_cc[VEOF];
	if (canon && f->line > 0) {
		/* The first only ends the partial line. */
		o[1] = t.c_cc[VEOF];
		f->line = 0;
		return 2;
	}
	f->line = 0;
	return 1;
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
