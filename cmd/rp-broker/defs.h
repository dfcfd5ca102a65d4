/*
 * defs.h — the service definitions behind rows 19-22: each read from the
 * definition directory when a Hello first names its service, kept with
 * the file's stat, and read again when the file changes (or when it
 * changed too recently to trust its timestamps).  SIGHUP forgets them all.
 *
 * The directory is checked on every lookup: a definition in a directory
 * others can write is not one we trust (a security violation, reported
 * once until it is fixed).  Loads and changes are events.
 */
#ifndef RP_BROKER_DEFS_H
#define RP_BROKER_DEFS_H

#include <stddef.h>
#include <stdint.h>

#include "events.h"
#include "names.h"
#include "wire.h"

struct defent {
	struct defent *next;
	char service[RP_NAME_MAX + 1];
	int have;                      /* a stat was taken */
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
	uint64_t loads;                /* files read */
	char msg[512];                 /* the last lookup's why, at times */
};

/* Definitions from dir ("" for none; both kept by reference), with their
 * events to ev. */
void defs_init(struct defs *d, const char *dir, struct events *ev);

/* Forget every definition (SIGHUP, and at the end). */
void defs_flush(struct defs *d);

/*
 * The definition of service: 0 with *def (valid until the next lookup or
 * flush), ENOENT when there is none (no directory, no file), else the
 * errno of what is wrong with *why saying it (the directory is not
 * private, the file cannot be read or is not a valid definition, no
 * memory).
 */
int defs_lookup(struct defs *d, const char *service,
    const Rp__ServiceDefinition **def, const char **why);

#endif
