/* Unit tests for servicedef: the directory, validation, load, atomic
 * write, per-version binaries. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "servicedef.h"
#include "t.h"
#include "wire.h"

static Rp__ServiceDefinition *
good(void)
{
	static Rp__ServiceDefinition d;
	static char *allow[] = { (char *)"1.0.0", (char *)"1.2.0-rc.1" };

	rp__service_definition__init(&d);
	d.service_name = (char *)"echo";
	d.binary_path = (char *)"/usr/bin/cat";
	d.isolation = RP__BROKER_ISOLATION__BROKER_ISOLATION_SHARED_BROKER;
	d.min_version = (char *)"1.0.0";
	d.version_allow_list = allow;
	d.n_version_allow_list = 2;
	return &d;
}

static void
test_dir(void)
{
	char out[PATH_MAX];

	T_EQ(rp_servicedef_dir(out, sizeof(out), "/f", "/e", "/x", "/h"), 2);
	T_STR(out, "/f");
	T_OK(rp_servicedef_dir(out, sizeof(out), "", "/e", "/x", "/h") > 0);
	T_STR(out, "/e");
	T_OK(rp_servicedef_dir(out, sizeof(out), NULL, NULL, "/x", "/h") > 0);
	T_STR(out, "/x/running-process/services");
	T_OK(rp_servicedef_dir(out, sizeof(out), NULL, "", "", "/h") > 0);
	T_STR(out, "/h/.config/running-process/services");
	errno = 0;
	T_EQ(rp_servicedef_dir(out, sizeof(out), NULL, NULL, NULL, NULL), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_servicedef_dir(out, 4, "/long/path", NULL, NULL, NULL), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_OK(rp_servicedef_path(out, sizeof(out), "/d", "echo") > 0);
	T_STR(out, "/d/echo.servicedef");
	T_EQ(rp_servicedef_path(out, sizeof(out), "/d", "Echo"), -1);
	T_EQ(errno, EINVAL);
	/* A directory given with a trailing slash (a shell completion) does
	 * not double it in the path we print. */
	T_EQ(rp_servicedef_path(out, sizeof(out), "/d/", "echo"), 18);
	T_STR(out, "/d/echo.servicedef");
	T_OK(rp_servicedef_path(out, sizeof(out), "rel//", "echo") > 0);
	T_STR(out, "rel/echo.servicedef");
	T_OK(rp_servicedef_path(out, sizeof(out), "/", "echo") > 0);
	T_STR(out, "/echo.servicedef");
	T_OK(rp_servicedef_path(out, sizeof(out), "///", "echo") > 0);
	T_STR(out, "/echo.servicedef");
	T_EQ(rp_servicedef_path(out, 18, "/d/", "echo"), -1);
	T_EQ(errno, ENAMETOOLONG);
}

#define BAD(field_set, text)                                            \
	do {                                                            \
		Rp__ServiceDefinition *d = good();                      \
		char bwhy[256] = "";                                    \
		field_set;                                              \
		T_EQ(rp_servicedef_validate(d, NULL, bwhy, sizeof(bwhy)), -1); \
		T_OK(strstr(bwhy, text) != NULL);                       \
	} while (0)

static void
test_validate(void)
{
	char why[256];
	static char *bad_allow[] = { (char *)"1.0" };

	T_EQ(rp_servicedef_validate(good(), NULL, why, sizeof(why)), 0);
	T_EQ(rp_servicedef_validate(good(), "echo", why, sizeof(why)), 0);
	T_EQ(rp_servicedef_validate(good(), "other", why, sizeof(why)), -1);
	T_OK(strstr(why, "defines \"echo\"") != NULL);
	BAD(d->service_name = (char *)"Echo", "service_name");
	BAD(d->service_name = (char *)"", "service_name");
	BAD(d->binary_path = (char *)"", "binary_path is empty");
	BAD(d->binary_path = (char *)"bin/cat", "not absolute");
	BAD(d->per_version_binary_dir = (char *)"rel", "per_version_binary_dir");
	BAD(d->min_version = (char *)"v1", "min_version");
	BAD((d->version_allow_list = bad_allow, d->n_version_allow_list = 1),
	    "version_allow_list");
	BAD(d->explicit_instance = (char *)"x", "explicit_instance is set");
	BAD(d->isolation =
	    RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE,
	    "explicit_instance is empty");
	BAD((d->isolation =
	    RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE,
	    d->explicit_instance = (char *)"Bad!"), "explicit_instance");
	BAD(d->isolation = 7, "isolation 7");
	{
		Rp__ServiceDefinition *d = good();

		d->isolation =
		    RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE;
		d->explicit_instance = (char *)"team-a";
		T_EQ(rp_servicedef_validate(d, NULL, why, sizeof(why)), 0);
	}
}

/* Strings a strict decoder refuses are invalid: a definition written with
 * one could never be read back, by us or by a running-process broker. */
static void
test_validate_utf8(void)
{
	Rp__ServiceDefinition__LabelsEntry e = RP__SERVICE_DEFINITION__LABELS_ENTRY__INIT;
	Rp__ServiceDefinition__LabelsEntry *ep[] = { &e };
	char why[256];

	BAD(d->binary_path = (char *)"/opt/\xff", "binary_path");
	BAD(d->binary_path = (char *)"/opt/\xc0\xaf", "UTF-8");
	BAD(d->per_version_binary_dir = (char *)"/v/\xed\xa0\x80", "UTF-8");
	BAD((e.key = (char *)"k\xff", d->labels = ep, d->n_labels = 1),
	    "label key");
	BAD((e.key = (char *)"k", e.value = (char *)"\xe2\x82",
	    d->labels = ep, d->n_labels = 1), "label \"k\"");
	{
		Rp__ServiceDefinition *d = good();

		/* Any UTF-8 is fine, odd labels too: the broker ignores them. */
		d->binary_path = (char *)"/opt/\xc3\xa9t\xc3\xa9/bin";
		e.key = (char *)"";
		e.value = (char *)"a\nb";
		d->labels = ep;
		d->n_labels = 1;
		T_EQ(rp_servicedef_validate(d, NULL, why, sizeof(why)), 0);
		d->labels = NULL;
		d->n_labels = 0;
	}
}

static void
test_label_check(void)
{
	static char longkey[RP_SERVICEDEF_LABEL_KEY_MAX + 2];
	static char longval[RP_SERVICEDEF_LABEL_VALUE_MAX + 2];
	char why[256];

	T_EQ(rp_servicedef_label_check("team", "platform", why, sizeof(why)),
	    0);
	T_EQ(rp_servicedef_label_check("app.example.com/tier", "", why,
	    sizeof(why)), 0);
	T_EQ(rp_servicedef_label_check("caf\xc3\xa9", "d\xc3\xa9j\xc3\xa0 vu, a=b",
	    why, sizeof(why)), 0);
	memset(longkey, 'k', RP_SERVICEDEF_LABEL_KEY_MAX);
	memset(longval, 'v', RP_SERVICEDEF_LABEL_VALUE_MAX);
	T_EQ(rp_servicedef_label_check(longkey, longval, why, sizeof(why)), 0);
	longkey[RP_SERVICEDEF_LABEL_KEY_MAX] = 'k';
	errno = 0;
	T_EQ(rp_servicedef_label_check(longkey, "v", why, sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	T_OK(strstr(why, "longer than 128") != NULL);
	longval[RP_SERVICEDEF_LABEL_VALUE_MAX] = 'v';
	T_EQ(rp_servicedef_label_check("k", longval, why, sizeof(why)), -1);
	T_OK(strstr(why, "longer than 1024") != NULL);
#define LBAD(k, v, text)                                                \
	do {                                                            \
		why[0] = '\0';                                          \
		T_EQ(rp_servicedef_label_check(k, v, why, sizeof(why)), -1); \
		if (strstr(why, text) == NULL)                          \
			t_fail(__FILE__, __LINE__, "%s: \"%s\"", text, why); \
	} while (0)
	LBAD("", "v", "empty");
	LBAD("a=b", "v", "'='");
	LBAD("a b", "v", "space");
	LBAD("a\tb", "v", "control");
	LBAD("a\x7f", "v", "control");
	LBAD("a\xc2\x85", "v", "control");     /* NEL, a C1 control */
	LBAD("k", "line1\nline2", "control");
	LBAD("k", "\x1b[31m", "control");
	LBAD("k", "\xc2\x9b", "control");      /* CSI, a C1 control */
	/* The messages that quote the key come after those that do not, so
	 * a key with a control character is never echoed. */
	LBAD("a b=c\n", "v", "control");
	LBAD("k\xff", "v", "UTF-8");
	LBAD("k", "\xc0\xaf", "UTF-8");
	LBAD(NULL, "v", "empty");
#undef LBAD
	/* A NULL value is the empty one. */
	T_EQ(rp_servicedef_label_check("k", NULL, why, sizeof(why)), 0);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	T_OK(fd >= 0);
	T_EQ(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void
test_write_and_load(void)
{
	char dir[PATH_MAX], path[PATH_MAX], why[256];
	Rp__ServiceDefinition *d;
	struct stat st;

	snprintf(dir, sizeof(dir), "%s/a/services", t_tmpdir());
	T_EQ(rp_servicedef_write(dir, good(), path, sizeof(path), why,
	    sizeof(why)), 0);
	T_OK(strstr(path, "/a/services/echo.servicedef") != NULL);
	T_EQ(stat(dir, &st), 0);
	T_EQ(st.st_mode & 07777, 0700);
	T_EQ(stat(path, &st), 0);
	T_EQ(st.st_mode & 07777, 0600);
	d = rp_servicedef_load(dir, "echo", why, sizeof(why));
	T_OK(d != NULL);
	if (d != NULL) {
		T_STR(d->binary_path, "/usr/bin/cat");
		T_EQ(d->n_version_allow_list, 2);
		T_STR(d->version_allow_list[1], "1.2.0-rc.1");
		rp_wire_free(d);
	}
	/* Replacing keeps one file and no temporaries. */
	d = good();
	d->binary_path = (char *)"/usr/bin/tee";
	T_EQ(rp_servicedef_write(dir, d, path, sizeof(path), why,
	    sizeof(why)), 0);
	d = rp_servicedef_load(dir, "echo", why, sizeof(why));
	T_OK(d != NULL && strcmp(d->binary_path, "/usr/bin/tee") == 0);
	rp_wire_free(d);
	{
		char cmd[PATH_MAX + 32];
		FILE *p;
		int n = 0;

		snprintf(cmd, sizeof(cmd), "ls -A '%s'", dir);
		p = popen(cmd, "r");
		while (fgets(cmd, sizeof(cmd), p) != NULL)
			n++;
		pclose(p);
		T_EQ(n, 1);
	}
	/* Invalid input writes nothing. */
	d = good();
	d->binary_path = (char *)"relative";
	T_EQ(rp_servicedef_write(dir, d, path, sizeof(path), why,
	    sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	d = rp_servicedef_load(dir, "echo", why, sizeof(why));
	T_OK(d != NULL && strcmp(d->binary_path, "/usr/bin/tee") == 0);
	rp_wire_free(d);
}

/* What write refuses, it refuses before touching the disk: no directory
 * is created, an existing file stays as it was. */
static void
test_write_refusals(void)
{
	static Rp__ServiceDefinition__LabelsEntry e[80];
	static Rp__ServiceDefinition__LabelsEntry *ep[80];
	static char keys[80][8], val[1001];
	char dir[PATH_MAX], path[PATH_MAX], why[256];
	Rp__ServiceDefinition *d;
	struct stat st;
	size_t i;

	snprintf(dir, sizeof(dir), "%s/new/services", t_tmpdir());
	/* Not UTF-8: it used to be written, then no reader could load it. */
	d = good();
	d->binary_path = (char *)"/opt/\xff/bin";
	errno = 0;
	T_EQ(rp_servicedef_write(dir, d, path, sizeof(path), why,
	    sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	T_OK(strstr(why, "UTF-8") != NULL);
	T_EQ(stat(dir, &st), -1);
	/* Larger than any reader loads. */
	memset(val, 'v', sizeof(val) - 1);
	for (i = 0; i < 80; i++) {
		rp__service_definition__labels_entry__init(&e[i]);
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		e[i].key = keys[i];
		e[i].value = val;
		ep[i] = &e[i];
	}
	d = good();
	d->labels = ep;
	d->n_labels = 80;
	errno = 0;
	T_EQ(rp_servicedef_write(dir, d, path, sizeof(path), why,
	    sizeof(why)), -1);
	T_EQ(errno, EFBIG);
	T_OK(strstr(why, "65536") != NULL);
	T_EQ(stat(dir, &st), -1);
	/* Just under the cap is written and loads back. */
	d->n_labels = 64;
	T_EQ(rp_servicedef_write(dir, d, path, sizeof(path), why,
	    sizeof(why)), 0);
	T_EQ(stat(path, &st), 0);
	T_OK(st.st_size > 60000 && st.st_size <= RP_SERVICEDEF_MAX);
	d = rp_servicedef_load(dir, "echo", why, sizeof(why));
	T_OK(d != NULL && d->n_labels == 64);
	rp_wire_free(d);
	d = good();
	d->labels = NULL;
	d->n_labels = 0;
}

static void
test_load_failures(void)
{
	char dir[PATH_MAX], path[PATH_MAX + 32], why[256];
	struct rp_buf b = { 0 };

	snprintf(dir, sizeof(dir), "%s/s", t_tmpdir());
	T_EQ(mkdir(dir, 0700), 0);
	/* Not there at all: ENOENT, the "not found" row. */
	errno = 0;
	T_OK(rp_servicedef_load(dir, "echo", why, sizeof(why)) == NULL);
	T_EQ(errno, ENOENT);
	/* Corrupt bytes. */
	snprintf(path, sizeof(path), "%s/echo.servicedef", dir);
	write_file(path, "\xff\xff\xff\xff", 4);
	T_OK(rp_servicedef_load(dir, "echo", why, sizeof(why)) == NULL);
	T_OK(errno != ENOENT);
	T_OK(strstr(why, "not a ServiceDefinition") != NULL);
	/* A valid definition that names another service. */
	{
		Rp__ServiceDefinition *o = good();

		o->service_name = (char *)"other";
		T_EQ(rp_wire_pack(&b, &o->base), 0);
	}
	write_file(path, b.data, b.len);
	T_OK(rp_servicedef_load(dir, "echo", why, sizeof(why)) == NULL);
	T_OK(strstr(why, "defines \"other\"") != NULL);
	rp_buf_clear(&b);
	T_EQ(rp_wire_pack(&b, &good()->base), 0);
	write_file(path, b.data, b.len);
	{
		Rp__ServiceDefinition *d = rp_servicedef_load(dir, "echo", why,
		    sizeof(why));

		if (d == NULL)
			t_fail(__FILE__, __LINE__, "load: %s", why);
		rp_wire_free(d);
	}
	/* The same file in a group-writable directory is refused. */
	T_EQ(chmod(dir, 0770), 0);
	errno = 0;
	T_OK(rp_servicedef_load(dir, "echo", why, sizeof(why)) == NULL);
	T_OK(errno != ENOENT);
	T_OK(strstr(why, dir) != NULL);
	T_EQ(chmod(dir, 0700), 0);
	/* Too large a file. */
	{
		static char big[RP_SERVICEDEF_MAX + 1];

		write_file(path, big, sizeof(big));
		T_OK(rp_servicedef_load(dir, "echo", why, sizeof(why)) == NULL);
		T_OK(strstr(why, "larger than") != NULL);
	}
	/* A bad file name for load_file. */
	T_OK(rp_servicedef_load_file("/tmp/x.txt", why, sizeof(why)) == NULL);
	T_EQ(errno, EINVAL);
	rp_buf_free(&b);
	rp_wire_free(NULL);
}

/* load_file's reasons never name the file: each reads after "PATH: ",
 * where a caller puts the name once (or not at all). */
static void
test_load_file_reasons(void)
{
	static char big[RP_SERVICEDEF_MAX + 1];
	char dir[PATH_MAX], path[PATH_MAX + 32], why[512];
	struct rp_buf b = { 0 };
	Rp__ServiceDefinition *o = good();

	snprintf(dir, sizeof(dir), "%s/r", t_tmpdir());
	T_EQ(mkdir(dir, 0700), 0);
#define REASON(p, want, err) do {					\
		errno = 0;						\
		T_OK(rp_servicedef_load_file((p), why, sizeof(why)) == NULL); \
		T_EQ(errno, (err));					\
		T_STR(why, (want));					\
	} while (0)
	snprintf(path, sizeof(path), "%s/echo.txt", dir);
	REASON(path, "not named <service>.servicedef", EINVAL);
	snprintf(path, sizeof(path), "%s/echo.servicedef", dir);
	REASON(path, "No such file or directory", ENOENT);
	write_file(path, "\xff\xff\xff", 3);
	REASON(path, "not a ServiceDefinition", EINVAL);
	write_file(path, big, sizeof(big));
	REASON(path, "larger than 65536 bytes", EFBIG);
	o->service_name = (char *)"other";
	T_EQ(rp_wire_pack(&b, &o->base), 0);
	write_file(path, b.data, b.len);
	REASON(path, "the file is named for \"echo\" but defines \"other\"",
	    EINVAL);
	/* A file the broker may not trust: refused by load_file (as the
	 * broker loads), decoded by decode_file (to look at it). */
	rp_buf_clear(&b);
	T_EQ(rp_wire_pack(&b, &good()->base), 0);
	write_file(path, b.data, b.len);
	T_EQ(chmod(path, 0666), 0);
	REASON(path, "writable by group or others (mode 0666)", EPERM);
	{
		Rp__ServiceDefinition *d = rp_servicedef_decode_file(path, why,
		    sizeof(why));

		T_OK(d != NULL && strcmp(d->binary_path, "/usr/bin/cat") == 0);
		rp_wire_free(d);
	}
	T_EQ(chmod(path, 0600), 0);
	T_EQ(chown(path, 65534, 65534), 0);
	REASON(path, "owned by uid 65534, not root", EPERM);
	T_EQ(unlink(path), 0);
	T_EQ(mkfifo(path, 0600), 0);
	REASON(path, "not a regular file", EINVAL);
	T_EQ(unlink(path), 0);
	T_EQ(mkdir(path, 0700), 0);
	REASON(path, "Is a directory", EISDIR);
#undef REASON
	rp_buf_free(&b);
}

static void
test_binary(void)
{
	char base[PATH_MAX], vdir[PATH_MAX + 16], bin[PATH_MAX + 32];
	char out[PATH_MAX], why[256], outside[PATH_MAX + 16];
	Rp__ServiceDefinition *d = good();

	snprintf(base, sizeof(base), "%s/versions", t_tmpdir());
	T_EQ(mkdir(base, 0700), 0);
	snprintf(vdir, sizeof(vdir), "%s/2.0.0", base);
	T_EQ(mkdir(vdir, 0700), 0);
	snprintf(bin, sizeof(bin), "%s/cat", vdir);
	write_file(bin, "#!/bin/sh\n", 10);
	d->binary_path = (char *)"/usr/bin/cat";
	d->per_version_binary_dir = base;
	T_EQ(rp_servicedef_binary(d, "2.0.0", out, sizeof(out), why,
	    sizeof(why)), 0);
	T_STR(out, bin);
	/* No such version directory: the plain binary. */
	T_EQ(rp_servicedef_binary(d, "3.0.0", out, sizeof(out), why,
	    sizeof(why)), 0);
	T_STR(out, "/usr/bin/cat");
	/* A symlink leading out of the directory is refused. */
	snprintf(vdir, sizeof(vdir), "%s/4.0.0", base);
	T_EQ(mkdir(vdir, 0700), 0);
	snprintf(bin, sizeof(bin), "%s/cat", vdir);
	snprintf(outside, sizeof(outside), "%s/evil", t_tmpdir());
	write_file(outside, "x", 1);
	T_EQ(symlink(outside, bin), 0);
	errno = 0;
	T_EQ(rp_servicedef_binary(d, "4.0.0", out, sizeof(out), why,
	    sizeof(why)), -1);
	T_EQ(errno, EPERM);
	T_OK(strstr(why, "outside") != NULL);
	/* "../" in a version is not a valid version: never a path. */
	T_EQ(rp_servicedef_binary(d, "../../etc", out, sizeof(out), why,
	    sizeof(why)), 0);
	T_STR(out, "/usr/bin/cat");
	d->per_version_binary_dir = (char *)"";
}

int
main(void)
{
	T_RUN(test_dir);
	T_RUN(test_validate);
	T_RUN(test_validate_utf8);
	T_RUN(test_label_check);
	T_RUN(test_write_and_load);
	T_RUN(test_write_refusals);
	T_RUN(test_load_failures);
	T_RUN(test_load_file_reasons);
	T_RUN(test_binary);
	return t_done();
}
