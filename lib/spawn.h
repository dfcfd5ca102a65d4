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
 */
#ifndef RP_SPAWN_H
#define RP_SPAWN_H

#include <stddef.h>
#include <sys/types.h>

#define RP_SPAWN_SETSID 0x1u   /* new session (and process group) */
#define RP_SPAWN_SETPGID 0x2u  /* own process group only */
#define RP_SPAWN_CTTY 0x4u     /* with SETSID: child fd 0 becomes the
                                  controlling terminal (TIOCSCTTY) */
#define RP_SPAWN_KEEP_STD 0x8u /* keep fds 0-2 unless mapped (else they are
                                  /dev/null unless mapped) */

/* Place parent_fd at child_fd in the child; parent_fd -1 means /dev/null.
 * The parent's fds are untouched. */
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

/* Start the child and wait until it has exec'd.  Returns its pid, or -1:
 * with *exec_failed = 1 and errno = exec's errno when the program could not
 * be run (the child is already reaped), or *exec_failed = 0 and errno when
 * we could not even start it.  exec_failed may be NULL. */
pid_t rp_spawn(const struct rp_spawn *sp, int *exec_failed);

#endif
