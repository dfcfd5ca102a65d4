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

/* Something watched changed (or events were lost): check again. */
static void
defs_watch_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct defs *d = arg;

	(void)loop;
	(void)ev;
	if (rp_fs_watch_drain(fd) != 0) {
		d->armed = 0;
		d->gen++;
	}
}

void
defs_init(struct defs *d, const char *dir, struct events *ev,
    struct rp_loop *loop)
{
	memset(d, 0, sizeof(*d));
	d->dir = dir;
	d->ev = ev;
	d->loop = loop;
	d->wfd = -1;
	if (dir[0] == '\0' || (d->wfd = rp_fs_watch_open()) < 0)
		return;
	if (rp_loop_add(loop, d->wfd, RP_LOOP_READ, defs_watch_cb, d) < 0)
		rp_fd_close(&d->wfd);
}

void
defs_close(struct defs *d)
{
	defs_flush(d);
	if (d->loop != NULL)           /* else never initialised */
		rp_fd_close(&d->wfd);
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
	d->armed = 0;
	d->gen++;
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

/*
 * The directory check, and its watch (added first, so that no change
 * after the check goes unseen).  0, or an errno with *why set.
 */
static int
defs_check_dir(struct defs *d, const char *service, int64_t now,
    const char **why)
{
	char dwhy[256];
	int err, watched;

	watched = d->wfd >= 0 &&
	    rp_fs_watch_add(d->wfd, d->dir, RP_FS_WATCH_DIR) == 0;
	/* A definition in a directory others can write is not one we
	 * trust. */
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
	d->armed = watched;
	d->checked_ms = now;
	d->gen++;      /* every entry is checked again once */
	return 0;
}

int
defs_lookup(struct defs *d, const char *service,
    const Rp__ServiceDefinition **def, const char **why)
{
	char path[PATH_MAX];
	struct defent *e;
	struct rp_fs_stamp st;
	int64_t now;
	int err, watched;

	*def = NULL;
	*why = NULL;
	if (d->dir[0] == '\0')
		return ENOENT;
	/* A change the loop has in this round, behind the listener, is
	 * news for this Hello: take it first. */
	if (d->wfd >= 0)
		rp_loop_dispatch_now(d->loop, d->wfd);
	now = rp_loop_now(d->loop);
	if (!d->armed || now - d->checked_ms >= DEFS_RECHECK_MS ||
	    now < d->checked_ms) {
		if ((err = defs_check_dir(d, service, now, why)) != 0)
			return err;
	}
	e = defs_find(d, service);
	if (e != NULL && e->have && e->watched && e->gen == d->gen &&
	    d->armed) {
		/* Watched, and nothing has changed since it was checked. */
		if (e->def == NULL) {
			*why = e->why;
			return e->err;
		}
		*def = e->def;
		return 0;
	}
	if (rp_servicedef_path(path, sizeof(path), d->dir, service) < 0)
		return ENOENT;
	/* Watched before it is looked at, for the same reason. */
	watched = d->wfd >= 0 &&
	    rp_fs_watch_add(d->wfd, path, RP_FS_WATCH_FILE) == 0;
	if (rp_fs_stamp(path, &st) < 0) {
		err = errno;
		if (err == ENOENT || err == ENOTDIR)
			return ENOENT;
		rp_utf8_fmt(d->msg, sizeof(d->msg), "%s: %s", path,
		    strerror(err));
		*why = d->msg;
		return err;
	}
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
	e->watched = watched;
	e->gen = d->gen;
	if (!e->have || e->dev != st.dev || e->ino != st.ino ||
	    e->size != st.size || e->mtime_ns != st.mtime_ns ||
	    e->ctime_ns != st.ctime_ns) {
		defs_load(d, e, path, &st);
	} else if (e->loaded_ns - e->mtime_ns < RACY_NS ||
	    e->loaded_ns - e->ctime_ns < RACY_NS) {
		/* Same stat, but too fresh to trust it: re-read quietly.
		 * (Watched, it is read again only after a change.) */
		defs_read(d, e, path);
	}
	if (e->def == NULL) {
		*why = e->why;
		return e->err;
	}
	*def = e->def;
	return 0;
}
