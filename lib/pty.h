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

/*
 * Piped input as data.  A terminal gives some of the bytes it receives a
 * meaning of its own: signals (Ctrl-C), flow control (Ctrl-S stops the
 * program's output until a Ctrl-Q), line editing (erase, kill, literal
 * next), end of file; and in canonical mode it holds at most a few KiB
 * of a line (4095 bytes on Linux), dropping the rest.  Typed keys are
 * meant that way; the bytes of a pipe or a file are data, and should
 * reach the program as they are.  So, for input that is not typed:
 *
 * rp_pty_data_mode puts the terminal in a mode where fewer bytes are
 * special, before the program starts; rp_pty_feed then writes every
 * chunk for the terminal's settings of the moment (the program may
 * change them): a byte the line discipline would act on is preceded by
 * the literal-next character (VLNEXT, canonical mode with IEXTEN), and a
 * line is handed to the reader with the end-of-file character (which in
 * the middle of a line ends the read without adding anything) before it
 * can outgrow the terminal's line buffer.  A byte that no encoding can
 * bring through under the current settings (a signal or flow-control
 * character in non-canonical mode, a line too long for a terminal
 * without VEOF) is not written, and counted: the caller must say so.
 */

/* The bits of rp_pty_feed.why: what made input undeliverable. */
#define RP_PTY_LOST_SIGNAL 0x1u  /* ISIG: a signal character, unquotable */
#define RP_PTY_LOST_FLOW 0x2u    /* IXON: a flow-control character */
#define RP_PTY_LOST_EDIT 0x4u    /* canonical mode without VLNEXT/IEXTEN:
                                    an editing or end-of-file character */
#define RP_PTY_LOST_LINE 0x8u    /* canonical mode without VEOF: a line
                                    longer than the terminal holds */
#define RP_PTY_LOST_CR 0x10u     /* IGNCR: a carriage return */

struct rp_pty_feed {
	size_t line;         /* bytes of the current line in the terminal */
	uint64_t lost;       /* input bytes not written (see why) */
	unsigned why;        /* RP_PTY_LOST_* */
};

/* Set the terminal for piped data: no flow control (IXON, IXOFF), no
 * signal characters (ISIG), carriage returns left alone (ICRNL, INLCR,
 * IGNCR); canonical mode, echo and the end-of-file character stay.  fd:
 * the master or the terminal.  0, or -1 with errno. */
int rp_pty_data_mode(int fd);

/* Encode in[0..n) for writing to the master fd so that each byte reaches
 * the terminal's reader as itself, under the settings the terminal has
 * now (read from fd; when they cannot be, the bytes go as they are).  The
 * encoding goes to out (at most outsz bytes, which must be at least 3),
 * its length to *outlen; returns how many bytes of in it covers, fewer
 * than n only when out is full.  "\n" ends a line (unless INLCR turns it
 * into "\r"); f carries the line's length and the losses between calls,
 * zero-initialised at the start. */
size_t rp_pty_feed(struct rp_pty_feed *f, int fd, const void *in, size_t n,
    void *out, size_t outsz, size_t *outlen);

/* The end of the input: the bytes (1 or 2, into out, outsz >= 2) that make
 * the reader's next read() return 0 in canonical mode (the end-of-file
 * character, twice after a partial line), or the end-of-file character
 * once in non-canonical mode, where the program decides what it means.
 * Returns the count, or -1 with errno: ENOENT when the terminal has no
 * end-of-file character (VEOF disabled), or the error of reading its
 * settings. */
int rp_pty_feed_end(struct rp_pty_feed *f, int fd, void *out, size_t outsz);

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
