/*
 * write.c — rp-servicedef write: options to a ServiceDefinition, checked
 * as the broker checks it (and a little more, see the man page), then
 * written atomically.  Every check runs before the directory is touched:
 * invalid input exits 2 and leaves no trace.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "servicedef_tool.h"

enum {
	O_SERVICE = 256,
	O_BINARY,
	O_MIN_VERSION,
	O_ALLOW_VERSION,
	O_ISOLATION,
	O_INSTANCE,
	O_PER_VERSION_DIR,
	O_LABEL,
	O_DIR,
	O_JSON,
};

static const struct option write_opts[] = {
	{ "service", required_argument, NULL, O_SERVICE },
	{ "binary", required_argument, NULL, O_BINARY },
	{ "min-version", required_argument, NULL, O_MIN_VERSION },
	{ "allow-version", required_argument, NULL, O_ALLOW_VERSION },
	{ "isolation", required_argument, NULL, O_ISOLATION },
	{ "instance", required_argument, NULL, O_INSTANCE },
	{ "per-version-dir", required_argument, NULL, O_PER_VERSION_DIR },
	{ "label", required_argument, NULL, O_LABEL },
	{ "dir", required_argument, NULL, O_DIR },
	{ "json", no_argument, NULL, O_JSON },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct wopts {
	const char *service, *binary, *min_version, *isolation, *instance;
	const char *pvdir, *dir;
	char **allow;                 /* into argv */
	size_t n_allow;
	Rp__ServiceDefinition__LabelsEntry *lab;  /* keys ours, values argv */
	Rp__ServiceDefinition__LabelsEntry **labp;
	size_t n_labels;
	int json;
};

/* A single-valued option given twice is a mistake, not "last wins". */
static int
once(const char **slot, const char *arg, const char *name)
{
	if (*slot != NULL)
		return cli_usage("%s given twice", name);
	*slot = arg;
	return 0;
}

/* 1 when s holds a control character (C0, DEL, C1 as UTF-8). */
static int
has_control(const char *s)
{
	const unsigned char *p;

	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f ||
		    (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f))
			return 1;
	return 0;
}

/* An absolute path the broker can exec and we can print on one line. */
static int
check_path(const char *opt, const char *p)
{
	if (p[0] == '\0')
		return cli_usage("%s is empty", opt);
	if (has_control(p))
		return cli_usage("%s contains a control character", opt);
	if (!rp_wire_text_valid(p))
		return cli_usage("%s is not UTF-8 (a definition holds "
		    "only UTF-8 text)", opt);
	if (!rp_fs_is_absolute(p))
		return cli_usage("%s '%.200s' is not an absolute path",
		    opt, p);
	if (strlen(p) >= PATH_MAX)
		return cli_usage("%s is longer than %d bytes", opt,
		    PATH_MAX - 1);
	return 0;
}

static int
check_version(const char *opt, const char *v)
{
	size_t n = strlen(v);

	if (has_control(v) || !rp_wire_text_valid(v))
		return cli_usage("%s is not a version (MAJOR.MINOR.PATCH, "
		    "optionally -TAG of [a-z0-9.])", opt);
	if (!rp_names_version_valid(v, n))
		return cli_usage("%s '%.80s' is not a version "
		    "(MAJOR.MINOR.PATCH, optionally -TAG of [a-z0-9.])", opt, v);
	/* The broker would accept a longer one, but no Hello can ask for
	 * it: wanted_version is capped at RP_VERSION_MAX. */
	if (n > RP_VERSION_MAX)
		return cli_usage("%s '%.40s...' is longer than %u bytes, "
		    "more than a Hello can ask for", opt, v, RP_VERSION_MAX);
	return 0;
}

static int
check_name(const char *opt, const char *s)
{
	if (has_control(s) || !rp_wire_text_valid(s))
		return cli_usage("%s is not 1-64 characters of [a-z0-9-]",
		    opt);
	if (!rp_names_service_valid(s, strlen(s)))
		return cli_usage("%s '%.80s' is not 1-64 characters of "
		    "[a-z0-9-]", opt, s);
	return 0;
}

static int
add_label(struct wopts *o, char *arg)
{
	Rp__ServiceDefinition__LabelsEntry *e;
	char why[256], *eq = strchr(arg, '='), *key;
	size_t i;

	if (eq == NULL) {
		if (has_control(arg) || !rp_wire_text_valid(arg))
			return cli_usage("--label needs KEY=VALUE");
		return cli_usage("--label '%.80s' is not KEY=VALUE", arg);
	}
	if (o->n_labels >= RP_SERVICEDEF_LABELS_MAX)
		return cli_usage("more than %u labels",
		    RP_SERVICEDEF_LABELS_MAX);
	if ((key = malloc((size_t)(eq - arg) + 1)) == NULL)
		return sd_oom();
	memcpy(key, arg, (size_t)(eq - arg));
	key[eq - arg] = '\0';
	e = &o->lab[o->n_labels];
	rp__service_definition__labels_entry__init(e);
	e->key = key;
	e->value = eq + 1;
	o->labp[o->n_labels++] = e;       /* owned (and freed) from here on */
	if (rp_servicedef_label_check(key, e->value, why, sizeof(why)) != 0)
		return cli_usage("--label: %s", why);
	/* A map keeps one value per key: a second one would silently win. */
	for (i = 0; i + 1 < o->n_labels; i++)
		if (strcmp(o->labp[i]->key, key) == 0)
			return cli_usage("--label: key \"%s\" given twice",
			    key);
	return 0;
}

static int
cmp_label(const void *a, const void *b)
{
	const Rp__ServiceDefinition__LabelsEntry *const *x = a, *const *y = b;

	return strcmp((*x)->key, (*y)->key);
}

static int
parse(struct wopts *o, int argc, char **argv)
{
	int c, rc;

	while ((c = getopt_long(argc, argv, ":h", write_opts, NULL)) != -1) {
		rc = 0;
		switch (c) {
		case O_SERVICE:
			rc = once(&o->service, optarg, "--service");
			break;
		case O_BINARY:
			rc = once(&o->binary, optarg, "--binary");
			break;
		case O_MIN_VERSION:
			rc = once(&o->min_version, optarg, "--min-version");
			break;
		case O_ALLOW_VERSION:
			rc = check_version("--allow-version", optarg);
			if (rc == 0)
				o->allow[o->n_allow++] = optarg;
			break;
		case O_ISOLATION:
			rc = once(&o->isolation, optarg, "--isolation");
			break;
		case O_INSTANCE:
			rc = once(&o->instance, optarg, "--instance");
			break;
		case O_PER_VERSION_DIR:
			rc = once(&o->pvdir, optarg, "--per-version-dir");
			break;
		case O_LABEL:
			rc = add_label(o, optarg);
			break;
		case O_DIR:
			rc = once(&o->dir, optarg, "--dir");
			break;
		case O_JSON:
			o->json = 1;
			break;
		case 'h':
			return sd_help() == 0 ? -1 : RP_EXIT_INTERNAL;
		default:
			return cli_getopt_error(c, argv, write_opts);
		}
		if (rc != 0)
			return rc;
	}
	if (optind < argc)
		return cli_usage("write takes no arguments, only options "
		    "('%.80s')", argv[optind]);
	if (o->service == NULL)
		return cli_usage("write needs --service NAME");
	if (o->binary == NULL)
		return cli_usage("write needs --binary ABS_PATH");
	return 0;
}

/* Options to a definition; 0 or an exit status. */
static int
build(const struct wopts *o, Rp__ServiceDefinition *d)
{
	Rp__BrokerIsolation iso;
	char why[512];
	size_t size;
	int rc;

	if ((rc = check_name("--service", o->service)) != 0 ||
	    (rc = check_path("--binary", o->binary)) != 0)
		return rc;
	if (o->pvdir != NULL &&
	    (rc = check_path("--per-version-dir", o->pvdir)) != 0)
		return rc;
	if (o->min_version != NULL &&
	    (rc = check_version("--min-version", o->min_version)) != 0)
		return rc;
	if (o->min_version != NULL && o->n_allow > 0) {
		size_t i, below = 0;

		for (i = 0; i < o->n_allow; i++)
			below += rp_names_version_floor(o->allow[i],
			    o->min_version) == RP_FLOOR_BELOW;
		if (below == o->n_allow)
			return cli_usage("every --allow-version is below "
			    "--min-version %s: the definition could never "
			    "serve", o->min_version);
	}
	/* shared unless told otherwise: the instance every rp-broker serves
	 * by default.  (The proto default, 0, is PRIVATE_BROKER.) */
	if (o->isolation == NULL || strcmp(o->isolation, "shared") == 0)
		iso = RP__BROKER_ISOLATION__BROKER_ISOLATION_SHARED_BROKER;
	else if (strcmp(o->isolation, "private") == 0)
		iso = RP__BROKER_ISOLATION__BROKER_ISOLATION_PRIVATE_BROKER;
	else if (strcmp(o->isolation, "explicit") == 0)
		iso = RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE;
	else
		return cli_usage("--isolation must be private, shared or "
		    "explicit");
	if (iso == RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE) {
		if (o->instance == NULL)
			return cli_usage("--isolation explicit needs "
			    "--instance NAME");
		if ((rc = check_name("--instance", o->instance)) != 0)
			return rc;
	} else if (o->instance != NULL) {
		return cli_usage("--instance needs --isolation explicit");
	}
	d->service_name = (char *)(uintptr_t)o->service;
	d->binary_path = (char *)(uintptr_t)o->binary;
	d->isolation = iso;
	if (o->instance != NULL)
		d->explicit_instance = (char *)(uintptr_t)o->instance;
	if (o->pvdir != NULL)
		d->per_version_binary_dir = (char *)(uintptr_t)o->pvdir;
	if (o->min_version != NULL)
		d->min_version = (char *)(uintptr_t)o->min_version;
	d->version_allow_list = o->allow;
	d->n_version_allow_list = o->n_allow;
	/* Labels in key order: the same definition is the same bytes,
	 * whatever order the options came in. */
	if (o->n_labels > 1)
		qsort(o->labp, o->n_labels, sizeof(o->labp[0]), cmp_label);
	d->labels = o->labp;
	d->n_labels = o->n_labels;
	/* The broker's own rules, in case ours above ever fall behind. */
	if (rp_servicedef_validate(d, NULL, why, sizeof(why)) != 0)
		return cli_usage("invalid definition: %s", why);
	size = protobuf_c_message_get_packed_size(&d->base);
	if (size > RP_SERVICEDEF_MAX)
		return cli_usage("the definition would be %zu bytes, more "
		    "than the %u a broker reads", size, RP_SERVICEDEF_MAX);
	return 0;
}

int
sd_cmd_write(int argc, char **argv)
{
	Rp__ServiceDefinition d = RP__SERVICE_DEFINITION__INIT;
	struct rp_buf out = { 0 };
	struct wopts o = { 0 };
	char dir[PATH_MAX], path[PATH_MAX], why[PATH_MAX + 256];
	size_t i;
	int rc;

	/* Every option takes at most one argv slot: arrays of argc are
	 * enough for any command line. */
	o.allow = calloc((size_t)argc, sizeof(o.allow[0]));
	o.lab = calloc((size_t)argc, sizeof(o.lab[0]));
	o.labp = calloc((size_t)argc, sizeof(o.labp[0]));
	if (o.allow == NULL || o.lab == NULL || o.labp == NULL) {
		rc = sd_oom();
		goto done;
	}
	rc = parse(&o, argc, argv);
	if (rc == -1) {         /* --help printed */
		rc = RP_EXIT_OK;
		goto done;
	}
	if (rc != 0 || (rc = build(&o, &d)) != 0 ||
	    (rc = sd_resolve_dir(o.dir, dir, sizeof(dir))) != 0)
		goto done;
	if (rp_servicedef_write(dir, &d, path, sizeof(path), why,
	    sizeof(why)) != 0) {
		if (errno == ENOMEM) {
			rc = sd_oom();
		} else {
			cli_warn("not written: %s", why);
			rc = RP_EXIT_NO;
		}
		goto done;
	}
	if (o.json)
		rc = sd_json_definition(&out, path, &d, sd_json_pretty());
	else if (cli_put_text(&out, path, 0) != 0 || rp_buf_puts(&out, "\n") != 0)
		rc = -1;
	/* The file is written either way; only the report can fail. */
	rc = rc != 0 ? sd_oom() : sd_flush(&out, RP_EXIT_OK);
done:
	for (i = 0; o.labp != NULL && i < o.n_labels; i++)
		free(o.labp[i]->key);
	free(o.allow);
	free(o.lab);
	free(o.labp);
	rp_buf_free(&out);
	return rc;
}
