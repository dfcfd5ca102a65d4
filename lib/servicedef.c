/* servicedef.c — service definitions (see servicedef.h). */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cdefs.h"
#include "fs.h"
#include "names.h"
#include "servicedef.h"

static int
fail(char *why, size_t whysz, int err, const char *fmt, ...)
	RP_PRINTF(4, 5);

static int
fail(char *why, size_t whysz, int err, const char *fmt, ...)
{
	va_list ap;

	if (why != NULL && whysz > 0) {
		va_start(ap, fmt);
		vsnprintf(why, whysz, fmt, ap);
		va_end(ap);
	}
	errno = err;
	return -1;
}

static int
set(const char *s)
{
	return s != NULL && s[0] != '\0';
}

int
rp_servicedef_dir(char *out, size_t outsz, const char *flag_dir,
    const char *env_dir, const char *xdg_config_home, const char *home)
{
	int n;

	if (set(flag_dir))
		n = snprintf(out, outsz, "%s", flag_dir);
	else if (set(env_dir))
		n = snprintf(out, outsz, "%s", env_dir);
	else if (set(xdg_config_home))
		n = snprintf(out, outsz, "%s/running-process/services",
		    xdg_config_home);
	else if (set(home))
		n = snprintf(out, outsz, "%s/.config/running-process/services",
		    home);
	else {
		errno = ENOENT;
		return -1;
	}
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

int
rp_servicedef_path(char *out, size_t outsz, const char *dir,
    const char *service)
{
	char leaf[RP_NAME_MAX + sizeof(RP_SERVICEDEF_SUFFIX)];

	if (!rp_names_service_valid(service, strlen(service))) {
		errno = EINVAL;
		return -1;
	}
	/* "d/" and "d" name the same directory; the path we hand back (and
	 * a tool prints) should not depend on how it was typed, and reads
	 * as the system writes it (C:\\d\\echo.servicedef on Windows). */
	snprintf(leaf, sizeof(leaf), "%s%s", service, RP_SERVICEDEF_SUFFIX);
	return rp_fs_join(out, outsz, dir, leaf);
}

static int
version_ok(const char *v)
{
	return rp_names_version_valid(v, strlen(v));
}

int
rp_servicedef_validate(const Rp__ServiceDefinition *d, const char *stem,
    char *why, size_t whysz)
{
	const char *name = d->service_name ? d->service_name : "";
	size_t i;

	if (!rp_names_service_valid(name, strlen(name)))
		return fail(why, whysz, EINVAL,
		    "service_name \"%.80s\" is not 1-64 characters of [a-z0-9-]",
		    name);
	if (stem != NULL && strcmp(stem, name) != 0)
		return fail(why, whysz, EINVAL,
		    "the file is named for \"%.80s\" but defines \"%s\"", stem,
		    name);
	if (!set(d->binary_path))
		return fail(why, whysz, EINVAL, "binary_path is empty");
	if (!rp_fs_is_absolute(d->binary_path))
		return fail(why, whysz, EINVAL,
		    "binary_path \"%.200s\" is not absolute", d->binary_path);
	/* Not what the broker checks but what decoding does: a string that
	 * is not UTF-8 makes the whole file unreadable, to us and to a
	 * running-process broker alike. */
	if (!rp_wire_text_valid(d->binary_path))
		return fail(why, whysz, EINVAL, "binary_path is not UTF-8");
	if (set(d->per_version_binary_dir) &&
	    !rp_fs_is_absolute(d->per_version_binary_dir))
		return fail(why, whysz, EINVAL,
		    "per_version_binary_dir \"%.200s\" is not absolute",
		    d->per_version_binary_dir);
	if (!rp_wire_text_valid(d->per_version_binary_dir))
		return fail(why, whysz, EINVAL,
		    "per_version_binary_dir is not UTF-8");
	for (i = 0; i < d->n_labels; i++) {
		if (d->labels[i] == NULL)
			continue;
		if (!rp_wire_text_valid(d->labels[i]->key))
			return fail(why, whysz, EINVAL,
			    "label key #%zu is not UTF-8", i + 1);
		if (!rp_wire_text_valid(d->labels[i]->value))
			return fail(why, whysz, EINVAL,
			    "label \"%.80s\" has a value that is not UTF-8",
			    d->labels[i]->key ? d->labels[i]->key : "");
	}
	if (set(d->min_version) && !version_ok(d->min_version))
		return fail(why, whysz, EINVAL,
		    "min_version \"%.80s\" is not a valid version",
		    d->min_version);
	for (i = 0; i < d->n_version_allow_list; i++)
		if (!version_ok(d->version_allow_list[i] ?
		    d->version_allow_list[i] : ""))
			return fail(why, whysz, EINVAL,
			    "version_allow_list entry \"%.80s\" is not a valid "
			    "version", d->version_allow_list[i]);
	switch (d->isolation) {
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_PRIVATE_BROKER:
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_SHARED_BROKER:
		if (set(d->explicit_instance))
			return fail(why, whysz, EINVAL,
			    "explicit_instance is set but isolation is not "
			    "EXPLICIT_INSTANCE");
		break;
	case RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE:
		if (!set(d->explicit_instance))
			return fail(why, whysz, EINVAL,
			    "isolation is EXPLICIT_INSTANCE but "
			    "explicit_instance is empty");
		if (!rp_names_instance_valid(d->explicit_instance,
		    strlen(d->explicit_instance)))
			return fail(why, whysz, EINVAL,
			    "explicit_instance \"%.80s\" is not 1-64 "
			    "characters of [a-z0-9-]", d->explicit_instance);
		break;
	default:
		return fail(why, whysz, EINVAL, "isolation %d is unknown",
		    (int)d->isolation);
	}
	return 0;
}

/* The stem of a definition file name: "x" for ".../x.servicedef". */
static int
file_stem(const char *path, char *out, size_t outsz)
{
	const char *base = rp_fs_basename(path);
	size_t n, sl = strlen(RP_SERVICEDEF_SUFFIX);

	n = strlen(base);
	if (n <= sl || strcmp(base + n - sl, RP_SERVICEDEF_SUFFIX) != 0 ||
	    n - sl >= outsz)
		return -1;
	memcpy(out, base, n - sl);
	out[n - sl] = '\0';
	return 0;
}

/* The bytes of path: trusted, by rp_fs_read_trusted's rules, or any
 * file.  0, or -1 with errno and why. */
static int
read_def(const char *path, int trusted, struct rp_buf *b, char *why,
    size_t whysz)
{
	int err;

	if (trusted)
		return rp_fs_read_trusted(path, RP_SERVICEDEF_MAX, b, why,
		    whysz);
	if (rp_fs_read_file(path, RP_SERVICEDEF_MAX, b) == 0)
		return 0;
	err = errno;
	if (err == EFBIG)
		return fail(why, whysz, err, "larger than %u bytes",
		    RP_SERVICEDEF_MAX);
	if (err == EINVAL)
		return fail(why, whysz, err, "not a regular file");
	return fail(why, whysz, err, "%s", strerror(err));
}

static Rp__ServiceDefinition *
load(const char *path, int trusted, char *why, size_t whysz)
{
	struct rp_buf b = { 0 };
	Rp__ServiceDefinition *d;
	char stem[RP_NAME_MAX + 8];

	/* Every reason reads after the file's name ("PATH: why"), which
	 * only the caller puts in front, once. */
	if (file_stem(path, stem, sizeof(stem)) != 0) {
		fail(why, whysz, EINVAL, "not named <service>%s",
		    RP_SERVICEDEF_SUFFIX);
		return NULL;
	}
	if (read_def(path, trusted, &b, why, whysz) != 0) {
		rp_buf_free(&b);
		return NULL;
	}
	d = rp_wire_unpack(&rp__service_definition__descriptor, b.data, b.len);
	rp_buf_free(&b);
	if (d == NULL) {
		if (errno == ENOMEM)
			fail(why, whysz, ENOMEM, "out of memory");
		else
			fail(why, whysz, EINVAL, "not a ServiceDefinition");
		return NULL;
	}
	if (rp_servicedef_validate(d, stem, why, whysz) != 0) {
		rp_wire_free(d);
		errno = EINVAL;
		return NULL;
	}
	return d;
}

Rp__ServiceDefinition *
rp_servicedef_load_file(const char *path, char *why, size_t whysz)
{
	return load(path, 1, why, whysz);
}

Rp__ServiceDefinition *
rp_servicedef_decode_file(const char *path, char *why, size_t whysz)
{
	return load(path, 0, why, whysz);
}

Rp__ServiceDefinition *
rp_servicedef_load(const char *dir, const char *service, char *why,
    size_t whysz)
{
	char path[PATH_MAX], dwhy[256];
	Rp__ServiceDefinition *d;

	if (rp_servicedef_path(path, sizeof(path), dir, service) < 0) {
		fail(why, whysz, errno, "no definition path for \"%.80s\"",
		    service);
		return NULL;
	}
	/* The directory is checked on every load: a definition from a
	 * directory others can write is not a definition we trust. */
	if (rp_fs_check_dir(dir, RP_DIR_PRIVATE, dwhy, sizeof(dwhy)) != 0) {
		if (errno == ENOENT)
			fail(why, whysz, ENOENT, "%s does not exist", dir);
		else
			fail(why, whysz, EPERM, "directory %s %s", dir, dwhy);
		return NULL;
	}
	d = rp_servicedef_load_file(path, why, whysz);
	return d;
}

int
rp_servicedef_write(const char *dir, const Rp__ServiceDefinition *d,
    char *path_out, size_t path_outsz, char *why, size_t whysz)
{
	struct rp_buf b = { 0 };
	char name[RP_NAME_MAX + 16], dwhy[256];
	int r;

	if (rp_servicedef_validate(d, NULL, why, whysz) != 0)
		return -1;
	if (rp_servicedef_path(path_out, path_outsz, dir, d->service_name) < 0)
		return fail(why, whysz, errno, "%s%c%s%s: %s", dir,
		    rp_fs_sep(), d->service_name, RP_SERVICEDEF_SUFFIX,
		    strerror(errno));
	/* Everything about the bytes is settled before the directory is
	 * touched (and perhaps created): a refusal leaves no trace. */
	if (rp_wire_pack(&b, &d->base) != 0)
		return fail(why, whysz, errno, "cannot encode: %s",
		    strerror(errno));
	if (b.len > RP_SERVICEDEF_MAX) {
		fail(why, whysz, EFBIG, "the definition would be %zu bytes, "
		    "more than the %u a reader loads", b.len,
		    RP_SERVICEDEF_MAX);
		rp_buf_free(&b);
		return -1;
	}
	if (rp_fs_check_dir(dir, RP_DIR_PRIVATE | RP_DIR_CREATE, dwhy,
	    sizeof(dwhy)) != 0) {
		fail(why, whysz, errno, "directory %s %s", dir, dwhy);
		rp_buf_free(&b);
		return -1;
	}
	snprintf(name, sizeof(name), "%s%s", d->service_name,
	    RP_SERVICEDEF_SUFFIX);
	r = rp_fs_write_atomic(dir, name, b.data, b.len, 0600);
	if (r != 0)
		fail(why, whysz, errno, "%s: %s", path_out, strerror(errno));
	rp_buf_free(&b);
	return r;
}

/* Length of the control character (C0, DEL, or C1 as UTF-8) at p, or 0.
 * p is valid UTF-8. */
static size_t
control_at(const unsigned char *p)
{
	if (p[0] < 0x20 || p[0] == 0x7f)
		return 1;
	if (p[0] == 0xc2 && p[1] >= 0x80 && p[1] <= 0x9f)
		return 2;
	return 0;
}

int
rp_servicedef_label_check(const char *key, const char *value, char *why,
    size_t whysz)
{
	const unsigned char *p;

	if (value == NULL)
		value = "";
	if (key == NULL || key[0] == '\0')
		return fail(why, whysz, EINVAL, "label key is empty");
	/* Encoding and control characters first: the messages after these
	 * quote the key, which must then be safe to print. */
	if (!rp_wire_text_valid(key))
		return fail(why, whysz, EINVAL, "label key is not UTF-8");
	for (p = (const unsigned char *)key; *p != '\0'; p++)
		if (control_at(p) != 0)
			return fail(why, whysz, EINVAL,
			    "label key contains a control character");
	if (strlen(key) > RP_SERVICEDEF_LABEL_KEY_MAX)
		return fail(why, whysz, EINVAL,
		    "label key \"%.40s...\" is longer than %u bytes", key,
		    RP_SERVICEDEF_LABEL_KEY_MAX);
	if (strchr(key, ' ') != NULL)
		return fail(why, whysz, EINVAL,
		    "label key \"%s\" contains a space", key);
	if (strchr(key, '=') != NULL)
		return fail(why, whysz, EINVAL,
		    "label key \"%s\" contains '='", key);
	if (!rp_wire_text_valid(value))
		return fail(why, whysz, EINVAL,
		    "label \"%s\" has a value that is not UTF-8", key);
	for (p = (const unsigned char *)value; *p != '\0'; p++)
		if (control_at(p) != 0)
			return fail(why, whysz, EINVAL,
			    "label \"%s\" has a value with a control "
			    "character", key);
	if (strlen(value) > RP_SERVICEDEF_LABEL_VALUE_MAX)
		return fail(why, whysz, EINVAL,
		    "label \"%s\" has a value longer than %u bytes", key,
		    RP_SERVICEDEF_LABEL_VALUE_MAX);
	return 0;
}

int
rp_servicedef_binary(const Rp__ServiceDefinition *d, const char *version,
    char *out, size_t outsz, char *why, size_t whysz)
{
	char vdir[PATH_MAX], cand[PATH_MAX], real[PATH_MAX], realdir[PATH_MAX];
	const char *base;
	size_t dl;

	if (set(d->per_version_binary_dir) && version != NULL &&
	    rp_names_version_valid(version, strlen(version))) {
		base = rp_fs_basename(d->binary_path);
		if (rp_fs_join(vdir, sizeof(vdir), d->per_version_binary_dir,
		    version) >= 0 &&
		    rp_fs_join(cand, sizeof(cand), vdir, base) >= 0 &&
		    rp_fs_realpath(cand, real, sizeof(real)) == 0) {
			/* Resolve both: a symlink inside the directory must not
			 * lead out of it. */
			if (rp_fs_realpath(d->per_version_binary_dir, realdir,
			    sizeof(realdir)) != 0)
				return fail(why, whysz, errno,
				    "per_version_binary_dir %s: %s",
				    d->per_version_binary_dir, strerror(errno));
			dl = strlen(realdir);
			if (strncmp(real, realdir, dl) != 0 ||
			    (!rp_fs_is_sep(real[dl]) && dl != 1))
				return fail(why, whysz, EPERM,
				    "%s resolves to %s, outside %s", cand, real,
				    realdir);
			if (strlen(real) >= outsz)
				return fail(why, whysz, ENAMETOOLONG,
				    "%s: path too long", real);
			memcpy(out, real, strlen(real) + 1);
			return 0;
		}
	}
	if (strlen(d->binary_path) >= outsz)
		return fail(why, whysz, ENAMETOOLONG, "binary_path too long");
	memcpy(out, d->binary_path, strlen(d->binary_path) + 1);
	return 0;
}
