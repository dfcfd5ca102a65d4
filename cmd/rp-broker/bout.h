/*
 * bout.h — a spawned backend's output on its way to the broker's log.
 * Bytes read from the backend's pipe become whole lines of text: at most
 * BOUT_LINE_MAX bytes each (a longer line is cut into pieces, each a line
 * of its own), with backslashes (but where they separate path
 * components: Windows), control characters (C0, DEL, C1) and bytes that
 * are not UTF-8 escaped as \\, \t, \r, \xHH, and a "\r\n" end taken as
 * "\n".  A token bucket lets lines through: rate bytes of text a
 * second, up to burst at once; a line it cannot pay for is dropped whole,
 * its bytes (as the backend wrote them) counted; while the bucket could
 * not pay even for an empty line, lines are skipped at the cost of
 * looking for their newlines.
 *
 * A leaf: its own struct only.  The caller reads the pipe, feeds the
 * bytes with the loop's clock, and writes each line handed to emit.
 */
#ifndef RP_BROKER_BOUT_H
#define RP_BROKER_BOUT_H

#include <stddef.h>
#include <stdint.h>

#define BOUT_LINE_MAX 1024          /* bytes of text in one line */

typedef void (*bout_emit_fn)(void *arg, const char *line, size_t len);

struct bout {
	uint64_t rate;                 /* bytes a second */
	uint64_t burst;                /* the bucket's size, bytes */
	uint64_t milli;                /* what is in it, in 1/1000 bytes */
	int64_t refill_ms;
	char line[BOUT_LINE_MAX];      /* the line being made, as text */
	size_t len;
	size_t cr;                     /* len before a trailing "\r", + 1 */
	uint64_t raw;                  /* its bytes as written */
	uint64_t skip;                 /* skipping a line over the budget:
	                                  bytes skipped so far, + 1 */
	uint8_t carry[4];              /* a character cut by the read */
	size_t ncarry;
	uint64_t dropped;              /* bytes dropped, not yet reported */
	uint64_t dropped_total;
	uint64_t lines;                /* lines let through */
	size_t overhead;               /* what each line costs in the log
	                                  beyond its text (its prefix) */
};

/* A bucket that starts full; each line it lets through costs its text,
 * its newline and overhead bytes (what the log adds to each line), so
 * that short lines cannot write more than the rate into the log. */
void bout_init(struct bout *o, uint64_t rate, uint64_t burst, size_t overhead,
    int64_t now_ms);

/* n bytes of output at now_ms: each line completed goes to emit (without
 * its '\n'), or is dropped and counted. */
void bout_feed(struct bout *o, const uint8_t *p, size_t n, int64_t now_ms,
    bout_emit_fn emit, void *arg);

/* The end of the output: a last line without its newline (and a
 * character cut short) goes out as the others. */
void bout_end(struct bout *o, int64_t now_ms, bout_emit_fn emit, void *arg);

/* The bytes dropped since the last call (for the "dropped N bytes"
 * line). */
uint64_t bout_take_dropped(struct bout *o);

#endif
