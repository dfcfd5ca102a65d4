/*
 * logq.h — the broker's standard error once it serves: lines go into a
 * bounded buffer and out as fast as the reader takes them, never waiting
 * for it.  A stalled log pipe or a journald under pressure cannot stop
 * the loop: when the buffer is full, whole lines are dropped and counted,
 * and the next line that fits is preceded by one saying how many.
 *
 * The fd written is not stderr's own open file description (setting
 * O_NONBLOCK there would reach whoever shares it): a pipe, FIFO or
 * terminal is opened afresh, non-blocking (rp_pty_out_fd); a socket (as
 * journald gives) is written with MSG_DONTWAIT; a regular file never
 * waits on anyone.
 *
 * A leaf: its own struct only; the caller watches fd for writability
 * while logq_pending() and calls logq_flush() when it is.
 */
#ifndef RP_BROKER_LOGQ_H
#define RP_BROKER_LOGQ_H

#include <stddef.h>
#include <stdint.h>

#define LOGQ_CAP 65536

struct logq {
	int fd;                        /* -1: not open (lines go nowhere) */
	int sock;                      /* fd is a socket: send MSG_DONTWAIT */
	size_t len;                    /* bytes waiting in buf */
	uint64_t dropped;              /* lines dropped, not yet reported */
	uint64_t dropped_total;
	uint64_t written;              /* lines queued and (eventually) sent */
	int broken;                    /* the reader is gone (EPIPE...) */
	char buf[LOGQ_CAP];
};

/* Write to (a non-blocking twin of) fd.  0, or -1 with errno. */
int logq_open(struct logq *q, int fd);
void logq_close(struct logq *q);

/* Queue one whole line (with its '\n') and write what can be written
 * now: 0.  A line that does not fit is dropped and counted: -1 (also when
 * the reader is gone). */
int logq_put(struct logq *q, const char *line, size_t len);

/* Write what can be written now, never waiting. */
void logq_flush(struct logq *q);

/* 1 while bytes wait for the fd to be writable. */
int logq_pending(const struct logq *q);

#endif
