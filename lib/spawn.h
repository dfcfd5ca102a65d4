/*
 * spawn.h — start a child process cleanly: the fork hygiene of tmux's
 * spawn.c and the exec-error pipe of libuv.  (lib/posix/spawn.c.)
 *
 * In the child: signals blocked across fork, then every disposition reset
 * to default and the mask cleared; optional setsid / own process group /
 * controlling terminal; the requested fds placed; every other fd closed;
 * exec (PATH search when file has no '/').  If exec fails, its errno
 * travels back over a close-on-exec pipe, the child is reaped, and
 * rp_spawn fails with that errno, so "not found" and "not executable" are
 * real errors in the parent rather than a mystery exit status.
 *
 * Also here: waiting for children in the shell's terms (exit code or
 * signal), and the "no orphans" tools of a supervisor (child subreaper,
 * killing and reaping everything left below us).
 */
#ifndef RP_SPAWN_H
#define RP_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#include "signo.h"

#define RP_SPAWN_SETSID 0x1u   /* new session (and process group) */
#define RP_SPAWN_SETPGID 0x2u  /* own process group only */
#define RP_SPAWN_CTTY 0x4u     /* with SETSID: child fd 0 becomes the
                                  controlling terminal (TIOCSCTTY) */
#define RP_SPAWN_KEEP_STD 0x8u /* keep fds 0-2 unless mapped (else they are
                                  /dev/null unless mapped) */
#define RP_SPAWN_PDEATHSIG 0x10u /* the child is sent SIGKILL when the
                                  thread that started it ends, however it
                                  ends (Linux PR_SET_PDEATHSIG, set before
                                  exec; a child whose parent is already
                                  gone by then exits instead of running the
                                  program).  Windows: every child is in a
                                  Job Object that dies with us already. */

/* How long a supervisor of ours gives a child between SIGTERM and SIGKILL
 * (rp-broker's backends, rp-handoff-recv --serve's programs). */
#define RP_SPAWN_STOP_GRACE_MS 2000

/* Place parent_fd at child_fd in the child; parent_fd -1 means /dev/null.
 * The parent's fds are untouched.  Mappings are applied as if all at once
 * (each source is duplicated out of the way first), so {a->1, b->0} with
 * a == 0 and b == 1 swaps the two.  A child_fd may appear only once. */
struct rp_spawn_fd {
	int parent_fd;
	int child_fd;
};

struct rp_spawn {
	const char *file;               /* argv[0] when NULL */
	char *const *argv;              /* NULL-terminated, argv[0] required */
	char *const *envp;              /* NULL: our environment */
	const struct rp_spawn_fd *fds;
	size_t nfds;
	unsigned flags;                 /* RP_SPAWN_* */
	const char *cwd;                /* NULL: ours */
};

/*
 * Where exec finds file, searched as rp_spawn and rp_spawn_exec search for
 * it (they call execvpe): a name with a '/' is not searched; else each
 * element of $PATH in turn (confstr's _CS_PATH, "/bin:/usr/bin", when
 * PATH is unset; an empty element, or an empty PATH, is the current
 * directory), the first regular file there that we may execute.  A file
 * found but not executable is skipped as execvpe skips it, and reported
 * only when nothing better comes.  Into out: 0, or -1 with errno ENOENT
 * (nowhere, or file is ""), EACCES (only files we may not execute),
 * ENAMETOOLONG, or the error that would end execvpe's search (ELOOP...).
 * Checking a program before running it this way cannot disagree with
 * where it then runs from, but for what changes in between.
 */
int rp_spawn_find(const char *file, char *out, size_t outsz);

/* Start the child and wait until it has exec'd.  Returns its pid, or -1:
 * with *exec_failed = 1 and errno = exec's errno when the program could not
 * be run (the child is already reaped), or *exec_failed = 0 and errno when
 * we could not even start it.  A failure while preparing the child (chdir
 * to cwd, TIOCSCTTY, placing an fd) is reported the second way, with the
 * child's errno, and its child reaped too.  EINVAL for a bad request (no
 * argv[0], a negative or repeated child_fd).  exec_failed may be NULL. */
pid_t rp_spawn(const struct rp_spawn *sp, int *exec_failed);

/*
 * Become the program, in this process (no fork): the UCSPI way of handing
 * fds on.  The fds are placed as rp_spawn places them (all at once, the
 * targets without close-on-exec), fds 0-2 stay as they are unless mapped
 * (flags are ignored but for that), every other fd stays as it is (ours
 * are close-on-exec), the signal mask is cleared and SIGPIPE, which
 * rp_init() ignores, is back to its default; other dispositions are kept,
 * as exec keeps them (a shell's ignored SIGINT stays ignored).  Returns
 * only on failure: -1 with errno (EINVAL for a bad request, else the
 * error of placing an fd, chdir or exec); by then fds may have been
 * placed, so the caller reports and exits.
 */
int rp_spawn_exec(const struct rp_spawn *sp);

/* How a child ended, in the shell's terms. */
struct rp_spawn_status {
	int signo;      /* 0: it exited with `code`; else killed by signo
	                   (with RP_SPAWN_STOPPED: the signal that stopped it) */
	int code;       /* exit code 0..255 (when signo == 0) */
	int core;       /* 1 when it dumped core */
	int event;      /* RP_SPAWN_ENDED, or with RP_SPAWN_WAIT_STOPS
	                   RP_SPAWN_STOPPED / RP_SPAWN_CONTINUED */
};

enum { RP_SPAWN_ENDED = 0, RP_SPAWN_STOPPED, RP_SPAWN_CONTINUED };

#define RP_SPAWN_WAIT_NOHANG 0x1u /* return 0 at once if still running */
#define RP_SPAWN_WAIT_NOWAIT 0x2u /* observe the end, leave it a zombie
                                     (its pid and group stay reserved) */
#define RP_SPAWN_WAIT_STOPS 0x4u  /* rp_spawn_wait_any: report a child
                                     stopped or continued, not ended */

/* Wait for child pid to end (EINTR is retried).  Returns 1 with *st filled,
 * 0 (NOHANG) when it is still running, or -1 with errno (ECHILD). */
int rp_spawn_wait(pid_t pid, unsigned flags, struct rp_spawn_status *st);

/* Reap one child of ours that has ended, whichever it is: a process that
 * may have inherited children it never started (a wrapper forked them,
 * then exec'd us) must reap those too, or they stay zombies for our whole
 * life.  Returns its pid with *st filled (st may be NULL), 0 when no child
 * has ended (or there is none), -1 with errno. */
pid_t rp_spawn_reap_any(struct rp_spawn_status *st);

/* Any child of ours (NOHANG, NOWAIT as above): one that ended, or with
 * RP_SPAWN_WAIT_STOPS instead one that was stopped or continued by a
 * signal since last asked (st->event says which; each stop and continue
 * is reported once).  Returns its pid with *st filled (st may be NULL), 0
 * when there is nothing to report (or no child at all), -1 with errno.
 * Windows has no stopped processes: STOPS always returns 0 there. */
pid_t rp_spawn_wait_any(unsigned flags, struct rp_spawn_status *st);

/* rp_spawn_wait until an absolute deadline (deadline.h): 1 with *st filled
 * once pid has ended (NOWAIT in flags leaves it a zombie), 0 when it is
 * still running at the deadline, -1 with errno (ECHILD).  For a caller
 * without an event loop (a supervisor on its way out): it looks at pid
 * alone, in growing steps of at most 50 ms, and consumes no SIGCHLD. */
int rp_spawn_wait_until(pid_t pid, unsigned flags, int64_t deadline,
    struct rp_spawn_status *st);

/* The shell's $? for st: code, or 128 + signo. */
int rp_spawn_status_exit(const struct rp_spawn_status *st);

/* "SIGKILL" for 9 ...; "SIG<n>" for numbers without a name (written into
 * buf, which needs 16 bytes).  Returns buf or a static string. */
const char *rp_spawn_signame(int signo, char buf[16]);

/* Send sig to pid, or to its process group when group is set.  0 or -1
 * with errno (ESRCH when nobody is left). */
int rp_spawn_kill(pid_t pid, int sig, int group);

/* Become a child subreaper: descendants orphaned below us are re-parented
 * to us rather than to init, so they can be found and reaped.  0 or -1
 * with errno (ENOSYS where the system has no such thing). */
int rp_spawn_subreaper(void);

/* Reap every child of ours that has ended, except `keep`, which is only
 * observed (left a zombie).  Returns 1 with *st filled when keep has
 * ended, 0 when it has not, -1 with errno on failure (ECHILD when keep is
 * not, or no longer, our child). */
int rp_spawn_reap_others(pid_t keep, struct rp_spawn_status *st);

/* Send sig to every current child of this process (including re-parented
 * orphans).  Returns how many were signalled, or -1 with errno. */
int rp_spawn_kill_children(int sig);

/* The end of supervision: SIGKILL every child we have, reap it, and repeat
 * until none is left (the orphans of a killed child are re-parented to a
 * subreaper and killed in the next round).  Returns how many processes
 * were reaped, or -1 with errno. */
int rp_spawn_kill_all(void);

/* Die of signal sig: default disposition, unblocked, raised (no core file
 * is written for us).  Returns only when that did not kill us. */
void rp_spawn_die_of_signal(int sig);

#endif
