/*
 * spawn.c — fork hygiene, the exec-error pipe, waiting and reaping (see
 * spawn.h).
 *
 * Everything the child needs is allocated in the parent before fork: after
 * fork the child of a threaded parent may only call async-signal-safe
 * functions, so it allocates nothing, and it reads /proc with getdents64
 * into a stack buffer instead of opendir.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "deadline.h"
#include "fs.h"
#include "spawn.h"
#include "spawn_int.h"

/* What the child sends back when it cannot get as far as running the
 * program: the step that failed and its errno. */
enum { STAGE_SETUP = 1, STAGE_EXEC = 2 };
struct child_err {
	int stage;
	int err;
};

/* The child's working memory, prepared by the parent. */
struct prep {
	int *tmp;       /* per mapping: the source, duplicated out of the way */
	int *keep;      /* sorted fds that survive the close-everything step */
	size_t nkeep;
	int floor;      /* above every child_fd: where temporaries live */
	pid_t parent;   /* who started the child (RP_SPAWN_PDEATHSIG) */
};

static void
report(int fd, int stage, int err)
{
	struct child_err ce = { .stage = stage, .err = err };
	ssize_t n;

	/* 8 bytes into a pipe: atomic, and the parent reads exactly this. */
	do
		n = write(fd, &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
}

/* Insertion sort: qsort may allocate, which a forked child must not. */
static void
sort_fds(int *v, size_t n)
{
	size_t i, j;
	int x;

	for (i = 1; i < n; i++) {
		x = v[i];
		for (j = i; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static int
is_kept(const int *keep, size_t n, int fd)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return 1;
	return 0;
}

int
rp_spawn_close_scan(const int *keep, size_t nkeep)
{
	/* 4 KiB of dirents on the stack: no allocation, safe after fork. */
	union {
		char buf[4096];
		struct dirent64 align;
	} u;
	int dfd, fd;
	long n, off;
	struct dirent64 *d;
	const char *p;
	char *end;
	long v;

	dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return -1;
	for (;;) {
		n = (long)getdents64(dfd, u.buf, sizeof(u.buf));
		if (n < 0) {
			close(dfd);
			return -1;
		}
		if (n == 0)
			break;
		/* Closing entries while iterating is fine: the directory
		 * offset of /proc/self/fd is the fd number. */
		for (off = 0; off < n; off += d->d_reclen) {
			d = (struct dirent64 *)(void *)(u.buf + off);
			p = d->d_name;
			if (*p < '0' || *p > '9')
				continue;
			errno = 0;
			v = strtol(p, &end, 10);
			if (*end != '\0' || errno != 0 || v < 0 || v > INT_MAX)
				continue;
			fd = (int)v;
			if (fd == dfd || is_kept(keep, nkeep, fd))
				continue;
			close(fd);
		}
	}
	close(dfd);
	return 0;
}

/* Close every fd not in the sorted keep list. */
static void
close_others(const int *keep, size_t nkeep)
{
	struct rlimit rl;
	unsigned lo = 0;
	size_t i;
	int fd, max;

#ifdef SYS_close_range
	for (i = 0; i <= nkeep; i++) {
		unsigned hi = i < nkeep ? (unsigned)keep[i] : ~0u;

		if (hi > lo && syscall(SYS_close_range, lo, hi - 1, 0) != 0)
			goto fallback;
		if (i < nkeep)
			lo = (unsigned)keep[i] + 1;
	}
	return;
fallback:
#endif
	if (rp_spawn_close_scan(keep, nkeep) == 0)
		return;
	/* No /proc: the slow way, bounded by the fd limit. */
	max = 1 << 20;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (fd = 0; fd < max; fd++)
		if (!is_kept(keep, nkeep, fd))
			close(fd);
}

/*
 * glibc keeps two real-time signals for itself (32 and 33) and refuses
 * sigaction() on them, yet an ignored disposition of theirs survives exec
 * like any other (GNU make, for one, starts its children so).  Reset them
 * with the system call: an all-zero kernel sigaction is SIG_DFL with no
 * flags and an empty mask whatever the architecture's field order.
 */
static void
default_disposition(int sig, const struct sigaction *dfl)
{
	if (sigaction(sig, dfl, NULL) == 0 || errno != EINVAL)
		return;
#ifdef SYS_rt_sigaction
	{
		unsigned long ksa[8] = { 0 };

		(void)syscall(SYS_rt_sigaction, sig, ksa, NULL,
		    (size_t)((NSIG - 1) / 8));
	}
#endif
}

/*
 * Every mapping into place, in this process (a forked child, or one about
 * to exec).  Phase 1: every source (or /dev/null) to a temporary above all
 * targets, so no target overwrites a source still needed ({0->1, 1->0}
 * swaps, or /dev/null opened on a target's number).  Phase 2: into place;
 * dup2 leaves the target without CLOEXEC.  -1 with errno on failure, the
 * temporaries closed.
 */
static int
place_fds(const struct rp_spawn *sp, struct prep *pr)
{
	size_t i, made;
	int fd, nul, saved;

	for (made = 0; made < sp->nfds; made++) {
		fd = sp->fds[made].parent_fd;
		nul = -1;
		if (fd < 0) {
			nul = open("/dev/null", O_RDWR | O_CLOEXEC);
			if (nul < 0)
				goto fail;
			fd = nul;
		}
		pr->tmp[made] = fcntl(fd, F_DUPFD_CLOEXEC, pr->floor);
		saved = errno;
		if (nul >= 0)
			close(nul);
		errno = saved;
		if (pr->tmp[made] < 0)
			goto fail;
	}
	for (i = 0; i < sp->nfds; i++) {
		if (dup2(pr->tmp[i], sp->fds[i].child_fd) < 0)
			goto fail;
		close(pr->tmp[i]);
		pr->tmp[i] = -1;
	}
	return 0;
fail:
	saved = errno;
	for (i = 0; i < made; i++)
		if (pr->tmp[i] >= 0)
			close(pr->tmp[i]);
	errno = saved;
	return -1;
}

static void __attribute__((noreturn))
child(const struct rp_spawn *sp, struct prep *pr, int errfd)
{
	struct sigaction sa;
	sigset_t none;
	char *const *envp = sp->envp ? sp->envp : environ;
	size_t i;
	int sig, fd, nul, t;

	/* Dispositions first, while every signal is still blocked: a handler
	 * inherited from the parent must never run in the child. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (sig = 1; sig < NSIG; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			default_disposition(sig, &sa);

	/* Dying with the parent: armed, then the race checked, for a
	 * parent already gone (we were re-parented) is never signalled. */
	if (sp->flags & RP_SPAWN_PDEATHSIG) {
		if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0)
			goto setup_failed;
		if (getppid() != pr->parent)
			_exit(127);
	}
	if ((sp->flags & RP_SPAWN_SETSID) && setsid() < 0)
		goto setup_failed;
	if ((sp->flags & (RP_SPAWN_SETSID | RP_SPAWN_SETPGID)) ==
	    RP_SPAWN_SETPGID && setpgid(0, 0) != 0)
		goto setup_failed;

	/* The error pipe must not sit where a mapping goes. */
	if (errfd < pr->floor) {
		t = fcntl(errfd, F_DUPFD_CLOEXEC, pr->floor);
		if (t < 0)
			goto setup_failed;
		close(errfd);
		errfd = t;
	}

	if (place_fds(sp, pr) != 0)
		goto setup_failed;
	for (fd = 0; fd <= 2; fd++) {
		int mapped = 0;

		for (i = 0; i < sp->nfds; i++)
			if (sp->fds[i].child_fd == fd)
				mapped = 1;
		if (mapped)
			continue;
		if (sp->flags & RP_SPAWN_KEEP_STD) {
			/* Kept means kept across exec too. */
			(void)fcntl(fd, F_SETFD, 0);
			continue;
		}
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0)
			goto setup_failed;
		if (nul != fd) {
			if (dup2(nul, fd) < 0)
				goto setup_failed;
			close(nul);
		} else {
			(void)fcntl(fd, F_SETFD, 0);
		}
	}

	if ((sp->flags & (RP_SPAWN_SETSID | RP_SPAWN_CTTY)) ==
	    (RP_SPAWN_SETSID | RP_SPAWN_CTTY) && ioctl(0, TIOCSCTTY, 0) != 0)
		goto setup_failed;

	/* keep[] has a slot reserved for the error pipe; sorted again now
	 * that its number is known. */
	pr->keep[pr->nkeep++] = errfd;
	sort_fds(pr->keep, pr->nkeep);
	close_others(pr->keep, pr->nkeep);

	if (sp->cwd != NULL && chdir(sp->cwd) != 0)
		goto setup_failed;

	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(sp->file ? sp->file : sp->argv[0], sp->argv, envp);
	report(errfd, STAGE_EXEC, errno);
	_exit(127);

setup_failed:
	report(errfd, STAGE_SETUP, errno);
	_exit(127);
}

static int
prepare(const struct rp_spawn *sp, struct prep *pr)
{
	size_t i, j;
	int maxfd = 2;

	memset(pr, 0, sizeof(*pr));
	if (sp->nfds > 0 && sp->fds == NULL)
		goto inval;
	for (i = 0; i < sp->nfds; i++) {
		if (sp->fds[i].child_fd < 0 || sp->fds[i].parent_fd < -1 ||
		    sp->fds[i].child_fd >= INT_MAX - 1)
			goto inval;
		for (j = 0; j < i; j++)
			if (sp->fds[j].child_fd == sp->fds[i].child_fd)
				goto inval;
		if (sp->fds[i].child_fd > maxfd)
			maxfd = sp->fds[i].child_fd;
	}
	pr->floor = maxfd + 1;
	pr->parent = getpid();
	pr->tmp = calloc(sp->nfds + 1, sizeof(int));
	pr->keep = calloc(sp->nfds + 4, sizeof(int));
	if (pr->tmp == NULL || pr->keep == NULL) {
		free(pr->tmp);
		free(pr->keep);
		errno = ENOMEM;
		return -1;
	}
	for (i = 0; i < sp->nfds; i++)
		pr->keep[pr->nkeep++] = sp->fds[i].child_fd;
	for (i = 0; i <= 2; i++)
		if (!is_kept(pr->keep, pr->nkeep, (int)i))
			pr->keep[pr->nkeep++] = (int)i;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

int
rp_spawn_exec(const struct rp_spawn *sp)
{
	struct sigaction sa;
	struct prep pr;
	sigset_t none;
	int saved;

	if (sp == NULL || sp->argv == NULL || sp->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (prepare(sp, &pr) != 0)
		return -1;
	if (place_fds(sp, &pr) != 0)
		goto fail;
	if (sp->cwd != NULL && chdir(sp->cwd) != 0)
		goto fail;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(SIGPIPE, &sa, NULL);
	sigemptyset(&none);
	(void)sigprocmask(SIG_SETMASK, &none, NULL);
	execvpe(sp->file ? sp->file : sp->argv[0], sp->argv,
	    sp->envp ? sp->envp : environ);
fail:
	saved = errno;
	free(pr.tmp);
	free(pr.keep);
	errno = saved;
	return -1;
}

/* What execve would say of path: 0 when it would run it (as a program
 * or, ENOEXEC, as a script), else its errno. */
static int
exec_verdict(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return errno;
	if (!S_ISREG(st.st_mode) || access(path, X_OK) != 0)
		return EACCES;
	return 0;
}

int
rp_spawn_find(const char *file, char *out, size_t outsz)
{
	const char *path, *p, *end;
	char def[64];
	size_t dl, fl = file != NULL ? strlen(file) : 0;
	int err, seen_eacces = 0;

	if (fl == 0) {
		errno = ENOENT;
		return -1;
	}
	if (strchr(file, '/') != NULL) {
		if (fl >= outsz) {
			errno = ENAMETOOLONG;
			return -1;
		}
		if ((err = exec_verdict(file)) != 0) {
			errno = err;
			return -1;
		}
		memcpy(out, file, fl + 1);
		return 0;
	}
	if (fl > NAME_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	path = getenv("PATH");
	if (path == NULL) {
		/* execvpe's default: the system's standard utilities. */
		if (confstr(_CS_PATH, def, sizeof(def)) == 0 ||
		    strlen(def) >= sizeof(def) - 1)
			snprintf(def, sizeof(def), "/bin:/usr/bin");
		path = def;
	}
	for (p = path;; p = end + 1) {
		end = strchr(p, ':');
		if (end == NULL)
			end = p + strlen(p);
		dl = (size_t)(end - p);
		/* An empty element is the current directory: "./file",
		 * which exec runs without a search of its own. */
		if ((dl ? dl : 1) + 1 + fl >= outsz || dl > INT_MAX) {
			err = ENAMETOOLONG;
		} else {
			snprintf(out, outsz, "%.*s/%s", (int)(dl ? dl : 1),
			    dl ? p : ".", file);
			err = exec_verdict(out);
		}
		switch (err) {
		case 0:
			return 0;
		case EACCES:
			seen_eacces = 1;
			break;
		case ENOENT:
		case ENOTDIR:
		case ESTALE:
		case ENODEV:
		case ETIMEDOUT:
			break;
		default:
			/* execvpe stops here, with this error. */
			if (outsz > 0)
				out[0] = '\0';
			errno = err;
			return -1;
		}
		if (*end == '\0')
			break;
	}
	if (outsz > 0)
		out[0] = '\0';
	errno = seen_eacces ? EACCES : ENOENT;
	return -1;
}

static pid_t
waitpid_eintr(pid_t pid, int *status, int options)
{
	pid_t r;

	do
		r = waitpid(pid, status, options);
	while (r < 0 && errno == EINTR);
	return r;
}

pid_t
rp_spawn(const struct rp_spawn *sp, int *exec_failed)
{
	struct prep pr;
	struct child_err ce;
	sigset_t all, old;
	int pfd[2], saved;
	ssize_t n;
	pid_t pid;

	if (exec_failed != NULL)
		*exec_failed = 0;
	if (sp == NULL || sp->argv == NULL || sp->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	if (prepare(sp, &pr) != 0)
		return -1;
	if (pipe2(pfd, O_CLOEXEC) != 0) {
		saved = errno;
		goto fail_free;
	}

	/* No signal may reach the child between fork and the reset of its
	 * dispositions: a parent's handler would run in the child. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		child(sp, &pr, pfd[1]);
	}
	saved = errno;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	close(pfd[1]);
	free(pr.tmp);
	free(pr.keep);
	if (pid < 0) {
		close(pfd[0]);
		errno = saved;
		return -1;
	}

	/* EOF: the write end went away with a successful exec. */
	do
		n = read(pfd[0], &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	saved = errno;
	close(pfd[0]);
	if (n == 0)
		return pid;
	waitpid_eintr(pid, NULL, 0);
	if (n != (ssize_t)sizeof(ce)) {
		errno = n < 0 ? saved : EPROTO;
		return -1;
	}
	if (exec_failed != NULL)
		*exec_failed = ce.stage == STAGE_EXEC;
	errno = ce.err;
	return -1;

fail_free:
	free(pr.tmp);
	free(pr.keep);
	errno = saved;
	return -1;
}

static void
fill_status(const siginfo_t *si, struct rp_spawn_status *st)
{
	memset(st, 0, sizeof(*st));
	if (si->si_code == CLD_STOPPED || si->si_code == CLD_TRAPPED) {
		st->event = RP_SPAWN_STOPPED;
		st->signo = si->si_status;
	} else if (si->si_code == CLD_CONTINUED) {
		st->event = RP_SPAWN_CONTINUED;
	} else if (si->si_code == CLD_EXITED) {
		st->code = si->si_status & 0xff;
	} else {
		st->signo = si->si_status;
		st->core = si->si_code == CLD_DUMPED;
	}
}

/*
 * One waitid(2) for idtype/id with the rp_spawn_wait flags, retried on
 * EINTR: the pid reported (its status in *st), 0 when WNOHANG found
 * nothing or (any_child) there is no child at all, -1 with errno.
 */
static pid_t
wait_one(idtype_t idtype, id_t id, int any_child, unsigned flags,
    struct rp_spawn_status *st)
{
	siginfo_t si;
	int opt;

	opt = (flags & RP_SPAWN_WAIT_STOPS) ? WSTOPPED | WCONTINUED : WEXITED;
	if (flags & RP_SPAWN_WAIT_NOHANG)
		opt |= WNOHANG;
	if (flags & RP_SPAWN_WAIT_NOWAIT)
		opt |= WNOWAIT;
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(idtype, id, &si, opt) == 0)
			break;
		if (any_child && errno == ECHILD)
			return 0;
		if (errno != EINTR)
			return -1;
	}
	/* WNOHANG with nothing to report leaves si_pid zero. */
	if (si.si_pid == 0)
		return 0;
	if (st != NULL)
		fill_status(&si, st);
	return si.si_pid;
}

int
rp_spawn_wait(pid_t pid, unsigned flags, struct rp_spawn_status *st)
{
	pid_t r = wait_one(P_PID, (id_t)pid, 0,
	    flags & ~(unsigned)RP_SPAWN_WAIT_STOPS, st);

	return r < 0 ? -1 : r > 0;
}

pid_t
rp_spawn_reap_any(struct rp_spawn_status *st)
{
	return wait_one(P_ALL, 0, 1, RP_SPAWN_WAIT_NOHANG, st);
}

pid_t
rp_spawn_wait_any(unsigned flags, struct rp_spawn_status *st)
{
	return wait_one(P_ALL, 0, 1, flags, st);
}

int
rp_spawn_wait_until(pid_t pid, unsigned flags, int64_t deadline,
    struct rp_spawn_status *st)
{
	int64_t step = 1, left;
	struct timespec ts;
	int r;

	for (;;) {
		r = rp_spawn_wait(pid, flags | RP_SPAWN_WAIT_NOHANG, st);
		if (r != 0)
			return r;
		left = deadline - rp_now_ms();
		if (left <= 0)
			return 0;
		if (step > left)
			step = left;
		ts.tv_sec = (time_t)(step / 1000);
		ts.tv_nsec = (long)(step % 1000) * 1000000L;
		(void)nanosleep(&ts, NULL);
		if (step < 50)
			step *= 2;
	}
}

int
rp_spawn_status_exit(const struct rp_spawn_status *st)
{
	return st->signo ? 128 + st->signo : st->code;
}

const char *
rp_spawn_signame(int signo, char buf[16])
{
	const char *ab = signo > 0 ? sigabbrev_np(signo) : NULL;

	if (ab != NULL)
		snprintf(buf, 16, "SIG%s", ab);
	else
		snprintf(buf, 16, "SIG%d", signo);
	return buf;
}

int
rp_spawn_kill(pid_t pid, int sig, int group)
{
	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	return kill(group ? -pid : pid, sig);
}

int
rp_spawn_subreaper(void)
{
	return prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
}

int
rp_spawn_reap_others(pid_t keep, struct rp_spawn_status *st)
{
	siginfo_t si;

	/* Peek at each ended child without reaping it; reap it only when it
	 * is not keep.  keep stays a zombie, so its pid and process group
	 * cannot be reused while we still signal them. */
	for (;;) {
		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) != 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (si.si_pid == 0) {
			/* Nothing ended; but keep must still be ours. */
			memset(&si, 0, sizeof(si));
			while (waitid(P_PID, (id_t)keep, &si,
			    WEXITED | WNOHANG | WNOWAIT) != 0)
				if (errno != EINTR)
					return -1;
			return 0;
		}
		if (si.si_pid == keep) {
			if (st != NULL)
				fill_status(&si, st);
			return 1;
		}
		waitpid_eintr(si.si_pid, NULL, WNOHANG);
	}
}

/* Call fn for each child of ours, listed in /proc/self/task/<tid>/children;
 * returns how many, or -1 when those files are not available. */
static int
each_child_task(void (*fn)(pid_t, void *), void *arg)
{
	struct rp_buf b = { 0 };
	char path[300], *p, *end;
	DIR *d;
	struct dirent *e;
	int count = 0, any = 0;
	long v;

	d = opendir("/proc/self/task");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/self/task/%s/children",
		    e->d_name);
		rp_buf_clear(&b);
		if (rp_fs_read_file(path, 1 << 20, &b) != 0)
			continue;
		any = 1;
		for (p = (char *)(void *)b.data; p != NULL && *p != '\0'; p = end) {
			while (*p == ' ' || *p == '\n')
				p++;
			if (*p == '\0')
				break;
			errno = 0;
			v = strtol(p, &end, 10);
			if (end == p || errno != 0 || v <= 0 || v > INT_MAX)
				break;
			fn((pid_t)v, arg);
			count++;
		}
	}
	closedir(d);
	rp_buf_free(&b);
	return any ? count : -1;
}

/* The same from /proc/<pid>/stat: every process whose parent is us. */
static int
each_child_scan(void (*fn)(pid_t, void *), void *arg)
{
	char path[300], buf[512], *p, *end;
	DIR *d;
	struct dirent *e;
	pid_t me = getpid();
	ssize_t n;
	long v;
	int fd, count = 0;

	d = opendir("/proc");
	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/stat", e->d_name);
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		if (n <= 0)
			continue;
		buf[n] = '\0';
		/* "pid (comm) S ppid ...": comm may hold anything, so parse
		 * from the last ')'. */
		p = strrchr(buf, ')');
		if (p == NULL || p[1] != ' ' || p[2] == '\0' || p[3] != ' ')
			continue;
		errno = 0;
		v = strtol(p + 4, &end, 10);
		if (end == p + 4 || errno != 0 || v != me)
			continue;
		errno = 0;
		v = strtol(e->d_name, &end, 10);
		if (*end != '\0' || errno != 0 || v <= 0)
			continue;
		fn((pid_t)v, arg);
		count++;
	}
	closedir(d);
	return count;
}

static int
each_child(void (*fn)(pid_t, void *), void *arg)
{
	int n = each_child_task(fn, arg);

	return n >= 0 ? n : each_child_scan(fn, arg);
}

static void
kill_one(pid_t pid, void *arg)
{
	/* Our child cannot be recycled before we reap it: the pid is safe. */
	(void)kill(pid, *(int *)arg);
}

int
rp_spawn_kill_children(int sig)
{
	return each_child(kill_one, &sig);
}

int
rp_spawn_kill_all(void)
{
	struct timespec pause = { 0, 1000000 };
	int sig = SIGKILL, reaped = 0, idle = 0;
	pid_t r;

	for (;;) {
		if (each_child(kill_one, &sig) < 0)
			return -1;
		r = waitpid_eintr(-1, NULL, WNOHANG);
		if (r > 0) {
			reaped++;
			idle = 0;
			/* Drain the zombies already there before listing. */
			while ((r = waitpid_eintr(-1, NULL, WNOHANG)) > 0)
				reaped++;
		}
		if (r < 0) {
			if (errno == ECHILD)
				return reaped;
			return -1;
		}
		/* Children remain that are still dying (or were just
		 * re-parented to us and not yet listed): look again soon.
		 * SIGKILL cannot be refused, so this ends. */
		if (idle++ > 0)
			nanosleep(&pause, NULL);
	}
}

void
rp_spawn_die_of_signal(int sig)
{
	struct sigaction sa;
	struct rlimit rl = { 0, 0 };
	sigset_t set;

	/* We did not crash; do not leave a core file that says we did. */
	(void)setrlimit(RLIMIT_CORE, &rl);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	(void)sigaction(sig, &sa, NULL);
	(void)raise(sig);
	sigemptyset(&set);
	sigaddset(&set, sig);
	(void)sigprocmask(SIG_UNBLOCK, &set, NULL);
}
