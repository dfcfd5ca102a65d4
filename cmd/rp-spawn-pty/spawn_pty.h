/*
 * spawn_pty.h — what the files of rp-spawn-pty share: the options, the
 * session being supervised, and the steps main() strings together.
 */
#ifndef RP_CMD_SPAWN_PTY_H
#define RP_CMD_SPAWN_PTY_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "pty.h"
#include "spawn.h"

#define OUT_CAP (256u * 1024u)  /* output stdout has not taken yet; while
                                   it is full, the terminal is not read */
#define IN_CAP (64u * 1024u)
#define WIRE_CAP (16u * 1024u)  /* encoded input, read for the terminal's
                                   settings of the moment */

#define SPAWN_PTY_MAX_ALLOW_UIDS 16

struct opts {
	struct rp_pty_size size;
	int have_size;
	int64_t timeout_ms;        /* 0: none */
	int64_t kill_after_ms;     /* grace between SIGTERM and SIGKILL */
	const char *exit_record;
	const char *transcript;
	const char *master_to;
	const char *token_file;
	uint8_t token[16];          /* --master-to: from the file or env */
	uint32_t allow_uids[SPAWN_PTY_MAX_ALLOW_UIDS]; /* --allow-uid */
	size_t n_allow_uids;
	int raise;
	int no_stdin;
	char **argv;               /* PROG ARGS..., NULL-terminated */
};

struct rp_loop;
struct rp_tty;

/* A byte queue: data[off..len) is pending. */
struct queue {
	char *data;
	size_t off, len, cap;
};

struct session {
	const struct opts *o;
	struct rp_loop *loop;
	struct rp_pty pty;
	struct rp_pty_size size;   /* what the child started with */
	struct rp_tty *tty;        /* our stdin, raw while we relay it */

	int in_fd;                 /* 0 while we relay stdin, else -1 */
	int in_watched;            /* stdin is in the loop (pollable) */
	unsigned in_ev;            /* current interest on stdin */
	int in_is_tty;
	int in_eof;
	int want_eof;              /* stdin ended: send the EOF character */
	int eof_queued;
	struct queue in;           /* stdin, as read */
	struct queue wire;         /* in, as written to the master */
	size_t wire_raw;           /* bytes of in that wire stands for */
	struct rp_pty_feed feed;   /* piped stdin as data (not a terminal) */

	int out_fd;                /* our private fd for stdout */
	int out_watched;           /* out_fd is in the loop (non-blocking) */
	unsigned out_ev;           /* current interest on out_fd */
	int out_broken;            /* stdout is gone: output is dropped */
	int out_closed;            /* stdout was closed when we started */
	int out_sock;              /* stdout is a socket (send, not write) */
	int out_null;              /* stdout is /dev/null: nothing written */
	int out_wait;              /* stdout said EAGAIN: no more tries
	                              until it is writable */
	struct queue out;          /* master -> stdout */

	unsigned master_ev;        /* current interest on the master */
	int master_done;           /* EIO: nobody holds the terminal */
	int transcript_fd;
	int record_fd;
	int record_unwritable;     /* its directory was refused: said once */

	pid_t pid;
	int ended;                 /* the child has ended (and was reaped) */
	struct rp_spawn_status st;
	int exec_failed;
	int timed_out;
	uint64_t kill_timer, drain_timer;
	int drain_progress;
	int64_t t_start, t_end;
	uint64_t bytes_in, bytes_out;
	int failed;                /* we failed ourselves: exit 125 */
};

/* stream.c: moving bytes; each does what it can without waiting. */
void relay_read_master(struct session *s);     /* until empty or full */
void relay_flush_out(struct session *s);       /* to stdout */
void relay_output_lost(struct session *s, int err);
int relay_fill_in(struct session *s);          /* one read of stdin */
void relay_flush_in(struct session *s);        /* to the master */
void relay_stop_input(struct session *s);
/* Input that could not be delivered is said, and is our failure. */
void relay_input_report(struct session *s);
void relay_master_finished(struct session *s); /* EIO, or given up */
/* Interest follows the buffers; stops the loop when all is done. */
void relay_update(struct session *s);

/* relay.c: everything from opening the PTY to the child's exit status.
 * Returns the exit status for main (or does not return, with --raise). */
int spawn_pty_run(const struct opts *o);

/* record.c: the --exit-record JSON document.  0 or -1 with errno. */
int spawn_pty_write_record(const struct session *s, int status);

/* handoff.c: hand the master to --master-to (40-handoff.md, Unix).
 * Returns 0, or an exit status with the reason already on stderr. */
int spawn_pty_handoff(const struct opts *o, int master);

#endif
