/*
 * events.h — lifecycle events: JSON lines appended to --events FILE, and
 * a ring of the recent ones for DUMP.
 *
 * Each line is written with one write(2) of at most 4096 bytes to a file
 * opened O_APPEND, so lines from several writers never interleave: an
 * over-long reason is cut (then the extra fields dropped) to fit.  A line
 * written short (a full disk) is cut off the file again, and the next
 * line that is written whole says how many were lost (extra.events_lost).  Nothing
 * is formatted without --events; the ring keeps plain structs, and
 * acceptances stay out of it (they would be all of it on a busy broker;
 * they are in the metrics, and in --events).
 *
 * A leaf: the file, the ring and their counters only.
 */
#ifndef RP_BROKER_EVENTS_H
#define RP_BROKER_EVENTS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "json.h"
#include "names.h"
#include "wire.h"           /* the EventKind values */

/* severity_number, as OpenTelemetry numbers them */
#define EV_INFO 9
#define EV_WARN 13
#define EV_ERROR 17
#define EV_RING 256

struct ev_rec {
	int64_t ts_ms;
	uint32_t kind;
	uint32_t pid;
	uint32_t severity;
	uint64_t connection_id;
	char service[RP_NAME_MAX + 1];
	char request_id[65];
	char reason[200];
};

struct events {
	int fd;                        /* --events file, or -1 */
	/* --events -: each whole line to this (the broker's stderr queue) */
	int (*sink)(void *arg, const char *line, size_t len);
	void *sink_arg;
	const char *path;              /* NULL: no --events */
	const char *instance;          /* every line's broker_instance */
	struct rp_buf line;
	struct ev_rec ring[EV_RING];
	size_t ring_n;                 /* total ever recorded */
	uint64_t written, failed;      /* lines */
	uint64_t lost;                 /* lines failed since the last written
	                                  (its extra.events_lost) */
	int created;                   /* events_open made the file */
	int torn;                      /* a fragment could not be cut off:
	                                  the next line starts with '\n' */
};

/* One key=value of an event's "extra" object. */
struct ev_kv {
	const char *k;
	const char *v;
};

/* Start with path (NULL: no file, the ring only; "-": the lines go to
 * sink(sink_arg, line, len), which must not wait:
 * 0 when it took the line, -1 when it dropped it); instance is kept by
 * reference.  0, or -1 with errno when the file
 * cannot be opened. */
int events_open(struct events *ev, const char *path, const char *instance);
void events_set_sink(struct events *ev,
    int (*sink)(void *arg, const char *line, size_t len), void *arg);

/* 1 when the lines go to standard error (--events -). */
int events_stderr(const struct events *ev);

/* SIGHUP: open the file again (it may have been rotated away).  0, or
 * -1 with errno, and the old file is kept. */
int events_reopen(struct events *ev);

/* Start-up failed: a file that events_open created and nothing was
 * written to is removed again (a failed start leaves nothing behind). */
void events_abandon(struct events *ev);

void events_close(struct events *ev);

/* 1 when events go to a file (worth formatting what only it shows). */
int events_on(const struct events *ev);

/* Record one event; any string may be NULL (as ""). */
void events_emit(struct events *ev, uint32_t kind, uint32_t severity,
    const char *service, const char *reason, const char *request_id,
    uint64_t connection_id, uint32_t pid, const struct ev_kv *extra,
    size_t nextra);

/* The ring, oldest first, as a JSON array (for DUMP). */
void events_json(const struct events *ev, struct rp_json *j);

#endif
