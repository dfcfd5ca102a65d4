/* defs.c — the service definitions behind rows 19-22 (see defs.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "defs.h"
#include "fs.h"
#include "parse.h"
#include "servicedef.h"

/* A definition file changed less than this long before we read it may
 * change again within the same timestamp tick; it is re-read until it is
 * older ("racily clean", as git calls it). */
#define RACY_NS INT64_C(1000000000)
#define DEFS_MAX 4096

void
defs_init(struct defs *d, const char *dir, struct events *ev)
{
	memset(d, 0, sizeof(*d));
	d->dir = dir;
	d->ev = ev;
}

static struct defent *
defs_find(struct defs *d, const char *service)
{
	struct defent *e;

	for (e = d->list; e != NULL; e = e->next)
		if (strcmp(e->service, service) == 0)
			return e;
	return NULL;
}

void
defs_flush(struct defs *d)
{
	struct defent *e;

	while ((e = d->list) != NULL) {
		d->list = e->next;
		rp_wire_free(e->def);
		free(e);
	}
	d->n = 0;
}

/* (Re)read e from path: its definition, or why not (errno in e->err). */
static void
defs_read(struct defs *d, struct defent *e, const char *path)
{
	rp_wire_free(e->def);
	e->loaded_ns = rp_wall_ms() * 1000000;
	e->why[0] = '\0';
	e->def = rp_servicedef_load_file(path, e->why, sizeof(e->why));
	e->err = e->def != NULL ? 0 : errno != 0 ? errno : EINVAL;
	if (e->err == ENOENT)
		e->err = EIO;   /* raced with a removal: not "not found" */
	d->loads++;
}

static void
defs_load(struct defs *d, struct defent *e, const char *path,
    const struct rp_fs_stamp *st)
{
	int first = !e->have, was_ok = e->def != NULL;
	char reason[400];

	e->have = 1;
	e->dev = st->dev;
	e->ino = st->ino;
	e->size = st->size;
	e->mtime_ns = st->mtime_ns;
	e->ctime_ns = st->ctime_ns;
	defs_read(d, e, path);
	if (e->def != NULL)
		rp_utf8_fmt(reason, sizeof(reason), "%s %s", path, first ?
		    "loaded" : was_ok ? "changed" : "is valid again");
	else
		rp_utf8_fmt(reason, sizeof(reason),
		    "%s could not be loaded: %s", path, e->why);
	events_emit(d->ev, first ?
	    RP__EVENT_KIND__EVENT_KIND_SERVICE_DEF_LOADED :
	    RP__EVENT_KIND__EVENT_KIND_SERVICE_DEF_CHANGED,
	    e->def != NULL ? EV_INFO : EV_WARN, e->service, reason, NULL, 0, 0,
	    NULL, 0);
}

int
defs_lookup(struct defs *d, const char *service,
    const Rp__ServiceDefinition **def, const char **why)
{
	char path[PATH_MAX], dwhy[256];
	struct defent *e;
	struct rp_fs_stamp st;
	int err;

	*def = NULL;
	*why = NULL;
	if (d->dir[0] == '\0')
		return ENOENT;
	/* The directory is checked on every Hello: a definition in a
	 * directory others can write is not one we trust. */
	if (rp_fs_check_dir(d->dir, RP_DIR_PRIVATE, dwhy, sizeof(dwhy)) < 0) {
		err = errno;
		if (err == ENOENT)
			return ENOENT;
		rp_utf8_fmt(d->msg, sizeof(d->msg), "directory %s %s", d->dir,
		    dwhy);
		if (!d->dir_bad) {
			d->dir_bad = 1;
			events_emit(d->ev,
			    RP__EVENT_KIND__EVENT_KIND_SECURITY_VIOLATION,
			    EV_ERROR, service, d->msg, NULL, 0, 0, NULL, 0);
		}
		*why = d->msg;
		return err != 0 ? err : EPERM;
	}
	d->dir_bad = 0;
	if (rp_servicedef_path(path, sizeof(path), d->dir, service) < 0)
		return ENOENT;
	if (rp_fs_stamp(path, &st) < 0) {
		err = errno;
		if (err == ENOENT || err == ENOTDIR)
			return ENOENT;
		rp_utf8_fmt(d->msg, sizeof(d->msg), "%s: %s", path,
		    strerror(err));
		*why = d->msg;
		return err;
	}
	e = defs_find(d, service);
	if (e == NULL) {
		if (d->n >= DEFS_MAX) {
			/* Only files the owner wrote get entries, so this
			 * is a very full directory; start over. */
			defs_flush(d);
		}
		if ((e = calloc(1, sizeof(*e))) == NULL) {
			*why = "out of memory";
			return ENOMEM;
		}
		rp_utf8_fmt(e->service, sizeof(e->service), "%s", service);
		e->next = d->list;
		d->list = e;
		d->n++;
	}
	if (!e->have || e->dev != st.dev || e->ino != st.ino ||
	    e->size != st.size || e->mtime_ns != st.mtime_ns ||
	    e->ctime_ns != st.ctime_ns) {
		defs_load(d, e, path, &st);
	} else if (e->loaded_ns - e->mtime_ns < RACY_NS ||
	    e->loaded_ns - e->ctime_ns < RACY_NS) {
		/* Same stat, but too fresh to trust it: re-read quietly. */
		defs_read(d, e, path);
	}
	if (e->def == NULL) {
		*why = e->why;
		return e->err;
	}
	*def = e->def;
	return 0;
}
