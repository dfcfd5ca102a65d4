/*
 * pty.h — pseudo-terminals: a pair opened race-free, a child started as the
 * session leader on the terminal side, the window size, the terminal's EOF
 * character, and raw mode for our own terminal, restored on every way out.
 * (lib/posix/pty.c; a ConPTY twin belongs in lib/win/ behind this same
 * interface.)
 *
 * The end of a child's output: once the child and everything else holding
 * the terminal side has closed it, reads of the master return what is
 * still buffered and then fail with EIO (Linux: the kernel flushes its
 * pending input work first, so nothing written before the last close is
 * lost).  That is why rp_pty_spawn closes our own copy of the terminal
 * side: as long as we held it, the EIO would never come.
 */
#ifndef RP_PTY_H
#define RP_PTY_H

#include <stdint.h>
#include <sys/types.h>

#include "spawn.h"

struct rp_pty_size {
	uint16_t cols;
	uint16_t rows;
};

struct rp_pty {
	int master;          /* our side (CLOEXEC, blocking as opened):
	                        read the child's output, write its input */
	int peer;            /* the terminal side (CLOEXEC); -1 once a
	                        child has been started on it */
	pid_t pid;           /* the child, 0 before one is started */
	char name[64];       /* the terminal's path, "/dev/pts/N" */
};

/* Open a PTY pair: the master with O_NOCTTY|O_CLOEXEC, the terminal side
 * opened from the master itself (TIOCGPTPEER) where the kernel can, so it
 * cannot be swapped for another terminal between naming and opening it;
 * else by name.  With size, the window size is set before anything runs
 * on it.  0, or -1 with errno (nothing is left open). */
int rp_pty_open(struct rp_pty *p, const struct rp_pty_size *size);

/* Start sp's program as the leader of a new session whose controlling
 * terminal is p's terminal side, on the child's fds 0, 1 and 2 (sp->fds
 * must be empty: EINVAL; RP_SPAWN_SETSID|RP_SPAWN_CTTY are added; every
 * other fd is closed in the child, see spawn.h).  On success the pid is
 * returned and stored in p->pid, and our copy of the terminal side is
 * closed (p->peer = -1).  On failure as rp_spawn, with p unchanged. */
pid_t rp_pty_spawn(struct rp_pty *p, const struct rp_spawn *sp,
    int *exec_failed);

/* Close whatever p still has open (the child, if any, is not touched). */
void rp_pty_close(struct rp_pty *p);

/* Window size of a terminal: the master or any terminal fd (setting it on
 * the master delivers SIGWINCH to the terminal's foreground group).
 * 0, or -1 with errno (ENOTTY). */
int rp_pty_set_size(int fd, const struct rp_pty_size *size);
int rp_pty_get_size(int fd, struct rp_pty_size *size);

/* The terminal's end-of-file character (VEOF; ^D unless changed), read
 * from the master or the terminal.  Written at the start of a line it
 * makes the child's read() return 0.  Returns 0..255, or -1 with errno
 * (ENOTTY; ENOENT when the character is disabled). */
int rp_pty_eof_char(int fd);

/* 1 when fd is a terminal, else 0. */
int rp_tty_is(int fd);

/* A descriptor for relaying output to fd (our stdout, usually) that never
 * blocks, without setting O_NONBLOCK on the open file description we share
 * with our parent and siblings (that would reach them too): a pipe, FIFO
 * or character device is opened afresh through /proc/self/fd with
 * O_NONBLOCK|O_NOCTTY; anything else (a regular file, a socket, a FIFO
 * that nobody has open for reading any more) gets a plain duplicate, where
 * a write may block (regular files do not wait on anyone).  Returns the new fd (CLOEXEC),
 * with *nonblock set to 1 when it is non-blocking, or -1 with errno. */
int rp_pty_out_fd(int fd, int *nonblock);

/*
 * Raw mode on one of our own terminals (stdin, usually), so every key
 * travels to the child's terminal unchanged (Ctrl-C included).
 */
struct rp_tty;

/* Save fd's settings and switch it to raw mode.  Returns the saved state
 * (free with rp_tty_free), or NULL with errno (ENOTTY for a non-terminal;
 * nothing is changed then). */
struct rp_tty *rp_tty_raw(int fd);

/* Put the saved settings back (again and again if asked).  Only
 * async-signal-safe calls: usable from a signal handler.  0 or -1. */
int rp_tty_restore(const struct rp_tty *t);

/* Restore on fatal signals: for every signal whose default action ends the
 * process (and that is not ignored, and not SIGKILL/SIGSTOP), a handler
 * restores t and then dies of the same signal.  Signals a program later
 * takes as events (blocked, rp_loop_signal) never reach the handler; it
 * restores on its own way out.  One tty per process: a second call
 * replaces the first.  NULL removes the guard.  0, or -1 with errno, and
 * then no guard at all: the handlers it had already installed are
 * removed again. */
int rp_tty_guard(const struct rp_tty *t);

/* Restore (when still guarded, the guard is removed first) and free. */
void rp_tty_free(struct rp_tty *t);

#endif
