/*
 * check.c — rp-servicedef check: the pre-flight for a broker's definition
 * directory.  The directory must pass the broker's trust check and every
 * *.servicedef in it must load; one line (or JSON entry) per file, and a
 * line for the directory when it is the problem.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "servicedef_tool.h"

struct entry {
	char *file;                 /* name in the directory */
	char *reason;               /* NULL when it loads */
};

struct report {
	const char *dir;
	const char *dir_reason;     /* NULL when the directory is fine */
	char dir_why[512];
	struct entry *v;
	size_t n, cap;
};

/* A definition file as the broker looks for them: NAME.servicedef.  Dot
 * files are left out, as a shell's *.servicedef leaves them out; no
 * service name starts with a dot, so the broker never reads one. */
static int
is_definition(const char *name)
{
	size_t n = strlen(name), sl = strlen(RP_SERVICEDEF_SUFFIX);

	return name[0] != '.' && n > sl &&
	    strcmp(name + n - sl, RP_SERVICEDEF_SUFFIX) == 0;
}

static int
cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;

	return strcmp(x->file, y->file);
}

/* The definition files of r->dir, sorted bytewise (readdir order is the
 * file system's).  0, -1 with errno. */
static int
list(struct report *r)
{
	struct dirent *de;
	struct entry *nv;
	DIR *dp;
	int err;

	dp = opendir(r->dir);
	if (dp == NULL)
		return -1;
	for (;;) {
		errno = 0;
		de = readdir(dp);
		if (de == NULL)
			break;
		if (!is_definition(de->d_name))
			continue;
		if (r->n == r->cap) {
			r->cap = r->cap ? r->cap * 2 : 16;
			nv = realloc(r->v, r->cap * sizeof(r->v[0]));
			if (nv == NULL)
				goto fail;
			r->v = nv;
		}
		r->v[r->n].reason = NULL;
		r->v[r->n].file = strdup(de->d_name);
		if (r->v[r->n].file == NULL)
			goto fail;
		r->n++;
	}
	if (errno != 0)
		goto fail;
	closedir(dp);
	if (r->n > 1)           /* (qsort wants a real array, even of 0) */
		qsort(r->v, r->n, sizeof(r->v[0]), cmp_entry);
	return 0;
fail:
	err = errno;
	closedir(dp);
	errno = err;
	return -1;
}

/*
 * What the broker would find at the definition's binary_path when it
 * starts it: NULL when it is a file we may execute, else why not (in
 * buf), as systemd-analyze verify flags an ExecStart= that cannot run.
 */
static const char *
binary_problem(const char *bin, char *buf, size_t bufsz)
{
	char why[256];

	if (rp_fs_check_exec(bin, why, sizeof(why)) == 0)
		return NULL;
	snprintf(buf, bufsz, "binary %s %s", bin, why);
	return buf;
}

/* Load each file as the broker would (the directory aside, which is
 * reported once), and look at the binary each names.  0, or -1 with
 * ENOMEM. */
static int
load_all(struct report *r)
{
	char path[PATH_MAX + RP_FS_NAME_MAX + 2], why[PATH_MAX + 512];
	Rp__ServiceDefinition *d;
	const char *reason;
	size_t i;

	for (i = 0; i < r->n; i++) {
		if (rp_fs_join(path, sizeof(path), r->dir, r->v[i].file) < 0) {
			reason = "the path is too long";
		} else if ((d = rp_servicedef_load_file(path, why,
		    sizeof(why))) != NULL) {
			reason = binary_problem(d->binary_path, why,
			    sizeof(why));
			rp_wire_free(d);
			if (reason == NULL)
				continue;
		} else if (errno == ENOMEM) {
			return -1;
		} else {
			reason = why;    /* "FILE: why" on the report's line */
		}
		r->v[i].reason = strdup(reason);
		if (r->v[i].reason == NULL)
			return -1;
	}
	return 0;
}

static int
ok(const struct report *r)
{
	size_t i;

	if (r->dir_reason != NULL)
		return 0;
	for (i = 0; i < r->n; i++)
		if (r->v[i].reason != NULL)
			return 0;
	return 1;
}

/* The service a file is for: its name without .servicedef. */
static void
json_stem(struct rp_json *j, const char *file)
{
	rp_json_key(j, "service");
	rp_json_strn(j, file, strlen(file) - strlen(RP_SERVICEDEF_SUFFIX));
}

static int
json_report(struct rp_buf *out, const struct report *r)
{
	struct rp_json j;
	size_t i;

	rp_json_init(&j, out, sd_json_pretty());
	rp_json_obj(&j);
	rp_json_kstr(&j, "dir", r->dir);
	rp_json_kbool(&j, "dir_ok", r->dir_reason == NULL);
	rp_json_kstr(&j, "dir_reason", r->dir_reason);
	rp_json_kbool(&j, "ok", ok(r));
	rp_json_key(&j, "files");
	rp_json_arr(&j);
	for (i = 0; i < r->n; i++) {
		rp_json_obj(&j);
		rp_json_kstr(&j, "file", r->v[i].file);
		json_stem(&j, r->v[i].file);
		rp_json_kbool(&j, "ok", r->v[i].reason == NULL);
		rp_json_kstr(&j, "reason", r->v[i].reason);
		rp_json_obj_end(&j);
	}
	rp_json_arr_end(&j);
	rp_json_obj_end(&j);
	return rp_json_finish(&j);
}

static int
plain_report(struct rp_buf *out, const struct report *r)
{
	size_t i, dl = strlen(r->dir);
	int e = 0;

	/* "DIR/" (Windows: "DIR\\"): the separator tells the directory's
	 * line from a file's, as no file name holds one. */
	if (r->dir_reason != NULL) {
		e |= cli_put_text(out, r->dir, 0);
		if (dl == 0 || !rp_fs_is_sep(r->dir[dl - 1]))
			e |= rp_buf_printf(out, "%c", rp_fs_sep());
		e |= rp_buf_puts(out, ": ");
		e |= cli_put_text(out, r->dir_reason, 0);
		e |= rp_buf_puts(out, "\n");
	}
	for (i = 0; i < r->n; i++) {
		e |= cli_put_text(out, r->v[i].file, 0);
		e |= rp_buf_puts(out, ": ");
		e |= cli_put_text(out,
		    r->v[i].reason ? r->v[i].reason : "ok", 0);
		e |= rp_buf_puts(out, "\n");
	}
	return e != 0 ? -1 : 0;
}

static int
run(struct report *r, int json)
{
	struct rp_buf out = { 0 };
	int rc, err;

	if (rp_fs_check_dir(r->dir, RP_DIR_PRIVATE, r->dir_why,
	    sizeof(r->dir_why)) != 0) {
		r->dir_reason = r->dir_why;
		err = errno;
		if (err == ENOMEM)
			return sd_oom();
		/* Missing, not a directory, the wrong owner or mode: the
		 * reason says it all.  Anything else ("cannot be examined")
		 * needs the system's word for it. */
		if (err != ENOENT && err != ENOTDIR && err != EPERM)
			snprintf(r->dir_why + strlen(r->dir_why),
			    sizeof(r->dir_why) - strlen(r->dir_why), ": %s",
			    strerror(err));
	} else {
		err = 0;
	}
	/* A directory that is there but insecure is still looked into: the
	 * report should say everything that must be fixed. */
	if (err != ENOENT && list(r) != 0) {
		if (errno == ENOMEM)
			return sd_oom();
		if (r->dir_reason == NULL) {
			snprintf(r->dir_why, sizeof(r->dir_why),
			    "cannot be listed: %s", strerror(errno));
			r->dir_reason = r->dir_why;
		}
	}
	if (load_all(r) != 0)
		return sd_oom();
	rc = json ? json_report(&out, r) : plain_report(&out, r);
	if (rc != 0) {
		rp_buf_free(&out);
		return sd_oom();
	}
	return sd_flush(&out, ok(r) ? RP_EXIT_OK : RP_EXIT_NO);
}

int
sd_cmd_check(int argc, char **argv)
{
	const char *dirflag = NULL;
	struct report r = { 0 };
	char dir[PATH_MAX];
	int json, rc;
	size_t i;

	if ((rc = sd_read_opts(argc, argv, &dirflag, &json)) >= 0)
		return rc;
	if (optind < argc)
		return cli_usage("check takes no arguments ('%s'); the "
		    "directory is --dir DIR", sd_shown(argv[optind]));
	if ((rc = sd_resolve_dir(dirflag, dir, sizeof(dir))) != 0)
		return rc;
	r.dir = dir;
	rc = run(&r, json);
	for (i = 0; i < r.n; i++) {
		free(r.v[i].file);
		free(r.v[i].reason);
	}
	free(r.v);
	return rc;
}
