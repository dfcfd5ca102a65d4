/*
 * show.c — rp-servicedef show, and how definitions and text are printed
 * for every command: "key: value" lines named after write's options with
 * control characters escaped, or JSON named after the message's fields.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "servicedef_tool.h"

enum { O_DIR = 256, O_JSON };

static const struct option read_opts[] = {
	{ "dir", required_argument, NULL, O_DIR },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

int
sd_read_opts(int argc, char **argv, const char **dirflag, int *json)
{
	int c;

	*dirflag = NULL;
	*json = 0;
	while ((c = getopt_long(argc, argv, ":h", read_opts, NULL)) != -1) {
		switch (c) {
		case O_DIR:
			if (*dirflag != NULL)
				return cli_usage("--dir given twice");
			*dirflag = optarg;
			break;
		case O_JSON:
			*json = 1;
			break;
		case 'h':
			return sd_help();
		default:
			return cli_getopt_error(c, argv, read_opts);
		}
	}
	return -1;
}

/* ------------------------------------------------------------- output */

const char *
sd_shown(const char *s)
{
	static char bufs[4][320];
	static unsigned next;
	const unsigned char *p = (const unsigned char *)s;
	char *b = bufs[next++ % 4], esc[12];
	size_t len = 0, k, el;

	/* 200 bytes of it at most: enough to recognise, short enough for
	 * one line.  The cut may split a UTF-8 character; it is a diagnostic. */
	while (*p != '\0') {
		k = cli_escape_at(p, esc);
		el = esc[0] != '\0' ? strlen(esc) : k;
		if (len + el > 200) {
			memcpy(b + len, "...", 4);
			return b;
		}
		memcpy(b + len, esc[0] != '\0' ? esc : (const char *)p, el);
		len += el;
		p += k;
	}
	b[len] = '\0';
	return b;
}

int
sd_json_pretty(void)
{
	return isatty(STDOUT_FILENO);
}

static const char *
isolation_name(Rp__BrokerIsolation iso)
{
	switch (iso) {
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_PRIVATE_BROKER:
		return "private";
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_SHARED_BROKER:
		return "shared";
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE:
		return "explicit";
	default:
		return "unknown";
	}
}

/* A label and where it stood in the file. */
struct label_at {
	const Rp__ServiceDefinition__LabelsEntry *e;
	size_t at;
};

static int
cmp_label_at(const void *a, const void *b)
{
	const struct label_at *x = a, *y = b;
	int c = strcmp(x->e->key, y->e->key);

	if (c != 0)
		return c;
	return (x->at > y->at) - (x->at < y->at);
}

/*
 * The labels as a reader sees them: a map, so one value per key, the last
 * one in the file winning (protobuf's rule for a repeated map key), in key
 * order.  A malloc'd array of *n entries (NULL when there are none), or
 * NULL with *n == SIZE_MAX when out of memory.
 */
static struct label_at *
labels_sorted(const Rp__ServiceDefinition *d, size_t *n)
{
	struct label_at *v;
	size_t i, k = 0;

	*n = 0;
	if (d->n_labels == 0)
		return NULL;
	v = calloc(d->n_labels, sizeof(v[0]));
	if (v == NULL) {
		*n = SIZE_MAX;
		return NULL;
	}
	for (i = 0; i < d->n_labels; i++) {
		v[i].e = d->labels[i];
		v[i].at = i;
	}
	qsort(v, d->n_labels, sizeof(v[0]), cmp_label_at);
	for (i = 0; i < d->n_labels; i++)
		if (i + 1 == d->n_labels ||
		    strcmp(v[i].e->key, v[i + 1].e->key) != 0)
			v[k++] = v[i];
	*n = k;
	return v;
}

static int
put_fact(struct rp_buf *out, const char *key, const char *value)
{
	if (rp_buf_puts(out, key) != 0 || rp_buf_puts(out, ": ") != 0 ||
	    cli_put_text(out, value, 0) != 0 || rp_buf_puts(out, "\n") != 0)
		return -1;
	return 0;
}

static int
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int
sd_plain_definition(struct rp_buf *out, const char *path,
    const Rp__ServiceDefinition *d)
{
	struct label_at *lab;
	size_t i, n;
	int r = 0;

	lab = labels_sorted(d, &n);
	if (n == SIZE_MAX)
		return -1;
	r |= put_fact(out, "file", path);
	r |= put_fact(out, "service", d->service_name);
	r |= put_fact(out, "binary", d->binary_path);
	r |= put_fact(out, "isolation", isolation_name(d->isolation));
	if (set(d->explicit_instance))
		r |= put_fact(out, "instance", d->explicit_instance);
	if (set(d->per_version_binary_dir))
		r |= put_fact(out, "per_version_dir", d->per_version_binary_dir);
	if (set(d->min_version))
		r |= put_fact(out, "min_version", d->min_version);
	for (i = 0; i < d->n_version_allow_list; i++)
		r |= put_fact(out, "allow_version", d->version_allow_list[i]);
	for (i = 0; i < n; i++) {
		r |= rp_buf_puts(out, "label: ");
		r |= cli_put_text(out, lab[i].e->key, 0);
		r |= rp_buf_puts(out, "=");
		r |= cli_put_text(out, lab[i].e->value, 0);
		r |= rp_buf_puts(out, "\n");
	}
	free(lab);
	return r != 0 ? -1 : 0;
}

static void
json_definition(struct rp_json *j, const Rp__ServiceDefinition *d,
    const struct label_at *lab, size_t n)
{
	size_t i;

	rp_json_obj(j);
	rp_json_kstr(j, "service_name", d->service_name);
	rp_json_kstr(j, "binary_path", d->binary_path);
	rp_json_kstr(j, "isolation", isolation_name(d->isolation));
	rp_json_kstr(j, "explicit_instance", d->explicit_instance);
	rp_json_kstr(j, "per_version_binary_dir", d->per_version_binary_dir);
	rp_json_kstr(j, "min_version", d->min_version);
	rp_json_key(j, "version_allow_list");
	rp_json_arr(j);
	for (i = 0; i < d->n_version_allow_list; i++)
		rp_json_str(j, d->version_allow_list[i]);
	rp_json_arr_end(j);
	rp_json_key(j, "labels");
	rp_json_obj(j);
	for (i = 0; i < n; i++)
		rp_json_kstr(j, lab[i].e->key, lab[i].e->value);
	rp_json_obj_end(j);
	rp_json_obj_end(j);
}

int
sd_json_definition(struct rp_buf *out, const char *path,
    const Rp__ServiceDefinition *d, int pretty)
{
	struct label_at *lab;
	struct rp_json j;
	size_t n;
	int r;

	lab = labels_sorted(d, &n);
	if (n == SIZE_MAX)
		return -1;
	rp_json_init(&j, out, pretty);
	rp_json_obj(&j);
	rp_json_kstr(&j, "path", path);
	rp_json_key(&j, "definition");
	json_definition(&j, d, lab, n);
	rp_json_obj_end(&j);
	r = rp_json_finish(&j);
	free(lab);
	return r;
}

/* --------------------------------------------------------------- show */

/* How a load failure reads: "PATH: why". */
static void
say_load_failure(const char *path, const char *why)
{
	struct rp_buf b = { 0 };

	if (cli_put_text(&b, path, 0) != 0 || rp_buf_puts(&b, ": ") != 0 ||
	    cli_put_text(&b, why, 0) != 0) {
		rp_buf_free(&b);
		sd_oom();
		return;
	}
	cli_warn("%s", rp_buf_str(&b));
	rp_buf_free(&b);
}

/* NAME or NAME.servicedef to the service name in out; 0 or -1. */
static int
name_of(const char *arg, char *out, size_t outsz)
{
	size_t n = strlen(arg), sl = strlen(RP_SERVICEDEF_SUFFIX);

	if (n > sl && strcmp(arg + n - sl, RP_SERVICEDEF_SUFFIX) == 0)
		n -= sl;
	if (n >= outsz || !rp_names_service_valid(arg, n))
		return -1;
	memcpy(out, arg, n);
	out[n] = '\0';
	return 0;
}

int
sd_cmd_show(int argc, char **argv)
{
	char dir[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 256];
	char name[RP_NAME_MAX + 1];
	const char *dirflag = NULL, *arg;
	Rp__ServiceDefinition *d;
	struct rp_buf out = { 0 };
	int json, rc;

	if ((rc = sd_read_opts(argc, argv, &dirflag, &json)) >= 0)
		return rc;
	if (optind >= argc)
		return cli_usage("show needs a FILE or a NAME");
	if (argc - optind > 1)
		return cli_usage("show takes one FILE or NAME");
	arg = argv[optind];
	if (strchr(arg, '/') != NULL) {
		/* A path, as a shell tells "./prog" from "prog". */
		if (dirflag != NULL)
			return cli_usage("--dir is for a NAME; '%s' is a "
			    "path", sd_shown(arg));
		if (strlen(arg) >= sizeof(path))
			return cli_usage("the path is too long");
		memcpy(path, arg, strlen(arg) + 1);
	} else {
		if (name_of(arg, name, sizeof(name)) != 0)
			return cli_usage("'%s' is not a service name "
			    "(1-64 of [a-z0-9-]); a file needs a '/', as in "
			    "./%s", sd_shown(arg), sd_shown(arg));
		if ((rc = sd_resolve_dir(dirflag, dir, sizeof(dir))) != 0)
			return rc;
		if (rp_servicedef_path(path, sizeof(path), dir, name) < 0)
			return cli_usage("the definition path is too long");
		/* By NAME we show what the broker would load, and it does
		 * not load from a directory others could write to. */
		if (rp_fs_check_dir(dir, RP_DIR_PRIVATE, why, sizeof(why)) != 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				cli_warn("directory %s %s", sd_shown(dir), why);
			else
				cli_warn("directory %s %s (a broker refuses "
				    "every definition in it)", sd_shown(dir),
				    why);
			return RP_EXIT_NO;
		}
	}
	/* By NAME, the file too is judged as the broker judges it; a path
	 * is only looked at. */
	d = strchr(arg, '/') != NULL ?
	    rp_servicedef_decode_file(path, why, sizeof(why)) :
	    rp_servicedef_load_file(path, why, sizeof(why));
	if (d == NULL) {
		if (errno == ENOMEM)
			return sd_oom();
		say_load_failure(path, why);
		return RP_EXIT_NO;
	}
	rc = json ? sd_json_definition(&out, path, d, sd_json_pretty()) :
	    sd_plain_definition(&out, path, d);
	rp_wire_free(d);
	if (rc != 0) {
		rp_buf_free(&out);
		return sd_oom();
	}
	return sd_flush(&out, RP_EXIT_OK);
}
