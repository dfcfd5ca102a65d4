/*
 * defs.h — the service definitions behind rows 19-22: each read from the
 * definition directory when a Hello first names its service, kept with
 * the file's stat, and read again when the file changes (or when it
 * changed too recently to trust its timestamps).  SIGHUP forgets them all.
 *
 * The directory is checked too: a definition in a directory others can
 * write is not one we trust (a security violation, reported once until it
 * is fixed).  Loads and changes are events.
 *
 * Checking costs system calls (lstat of the directory, geteuid, stat of
 * the file), so where the system offers change notification (inotify) the
 * directory and each definition file are watched, and a lookup checks
 * again only after something watched changed, or when the last full check
 * is DEFS_RECHECK_MS old (a safety net for what no watch sees: a parent
 * directory renamed, a watch that could not be added).  The watch's fd is
 * in the loop, ahead of the listener; a change made before a client
 * connects is seen by that client's Hello (see defs_lookup).  Without
 * notification every lookup checks, as before.
 */
#ifndef RP_BROKER_DEFS_H
#define RP_BROKER_DEFS_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "names.h"
#include "rp.h"
#include "wire.h"

struct defent {
	struct defent *next;
	char service[RP_NAME_MAX + 1];
	int have;                      /* a stat was taken */
	uint64_t gen;                  /* defs->gen when last checked */
	int watched;                   /* its file is watched */
	uint64_t dev, ino, size;
	int64_t mtime_ns, ctime_ns;
	int64_t loaded_ns;             /* wall clock of the load */
	Rp__ServiceDefinition *def;    /* NULL when err != 0 */
	int err;
	char why[256];
};

struct defs {
	const char *dir;               /* "": none could be derived */
	struct events *ev;
	struct defent *list;
	size_t n;
	int dir_bad;                   /* reported as a security violation */
	struct rp_loop *loop;
	int wfd;                       /* the watch (-1: none, check always) */
	int armed;                     /* the directory is watched and
	                                  checked since the last change */
	uint64_t gen;                  /* bumped by every change seen */
	int64_t checked_ms;            /* the last full check (loop time) */
	uint64_t loads;                /* files read */
	char msg[512];                 /* the last lookup's why, at times */
};

/* A full check at least this often, even with nothing seen to change. */
#define DEFS_RECHECK_MS 10000

/* Definitions from dir ("" for none; both kept by reference), with their
 * events to ev; changes watched on loop where the system can. */
void defs_init(struct defs *d, const char *dir, struct events *ev,
    struct rp_loop *loop);

/* Forget every definition (SIGHUP); the next lookup checks in full. */
void defs_flush(struct defs *d);

/* Forget them and close the watch (at the end, once the loop is freed). */
void defs_close(struct defs *d);

/*
 * The definition of service: 0 with *def (valid until the next lookup or
 * flush), ENOENT when there is none (no directory, no file), else the
 * errno of what is wrong with *why saying it (the directory is not
 * private, the file cannot be read or is not a valid definition, no
 * memory).  No system call when nothing watched has changed since the
 * last check; the watch's own pending events are read first when the
 * loop has them in the round being dispatched, so that a change is never
 * answered late only because the listener came first in that round.
 */
int defs_lookup(struct defs *d, const char *service,
    const Rp__ServiceDefinition **def, const char **why);

#endif
