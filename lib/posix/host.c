/*
 * host.c — machine and process facts from /etc and /proc (see host.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "host.h"
#include "parse.h"
#include "servicedef.h"

#define MACHINE_ID_PATH "/etc/machine-id"
#define DBUS_MACHINE_ID_PATH "/var/lib/dbus/machine-id"
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* A generous cap: the file holds a line. */
#define STAT_FILE_MAX 65536

int
rp_host_machine_id(char *out, size_t outsz)
{
	return rp_host_machine_id_from(MACHINE_ID_PATH, DBUS_MACHINE_ID_PATH,
	    BOOT_ID_PATH, out, outsz);
}

int
rp_host_boot_id(char *out, size_t outsz)
{
	return rp_host_read_trimmed(BOOT_ID_PATH, out, outsz);
}

/* "/proc/<pid>/<what>", pid 0 meaning self. */
static void
proc_path(char *buf, size_t bufsz, uint32_t pid, const char *what)
{
	if (pid == 0)
		snprintf(buf, bufsz, "/proc/self/%s", what);
	else
		snprintf(buf, bufsz, "/proc/%lu/%s", (unsigned long)pid, what);
}

/*
 * /proc/<pid>/exe is missing both for a process that does not exist and
 * for one without an executable (a kernel thread, a zombie).  Tell them
 * apart, so that "no such process" reads as ESRCH.
 */
static int
proc_errno(uint32_t pid, int err)
{
	char dir[64];
	struct stat st;

	if (err != ENOENT)
		return err;
	proc_path(dir, sizeof(dir), pid, "");
	if (stat(dir, &st) < 0 && errno == ENOENT)
		return ESRCH;
	return err;
}

int
rp_host_exe_path(uint32_t pid, char *out, size_t outsz)
{
	char link[64], buf[PATH_MAX];
	ssize_t n;

	proc_path(link, sizeof(link), pid, "exe");
	n = readlink(link, buf, sizeof(buf));
	if (n < 0) {
		errno = proc_errno(pid, errno);
		return -1;
	}
	/* A full buffer may be a cut one.  The " (deleted)" suffix the
	 * kernel adds for an unlinked file is kept on purpose. */
	if ((size_t)n >= sizeof(buf) || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, buf, (size_t)n);
	out[n] = '\0';
	return (int)n;
}

int
rp_host_exe_open(uint32_t pid)
{
	char link[64];
	int fd;

	proc_path(link, sizeof(link), pid, "exe");
	fd = open(link, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		errno = proc_errno(pid, errno);
	return fd;
}

/*
 * Field 22 (starttime, clock ticks after boot) of a /proc/<pid>/stat
 * line.  Field 2 is "(comm)" and comm is whatever the process chose, ')'
 * and spaces included, but it cannot hide a ')' after the real one: so
 * the fields are counted from the last ')'.
 */
static int
stat_starttime(const char *line, size_t len, uint64_t *out)
{
	const char *p = NULL, *end = line + len, *tok;
	size_t i;
	int field;

	for (i = len; i > 0; i--) {
		if (line[i - 1] == ')') {
			p = line + i;
			break;
		}
	}
	if (p == NULL)
		return -1;
	/* After ')' comes field 3 (state). */
	for (field = 3; field <= 22; field++) {
		while (p < end && *p == ' ')
			p++;
		tok = p;
		while (p < end && *p != ' ' && *p != '\n')
			p++;
		if (p == tok)
			return -1;
		if (field == 22)
			return rp_parse_u64_n(tok, (size_t)(p - tok), 0,
			    UINT64_MAX, out);
	}
	return -1;
}

/* "btime N" of /proc/stat: the boot time in Unix seconds. */
static int
boot_time(uint64_t *out)
{
	struct rp_buf b = { 0 };
	const char *s, *e;
	int rc = -1;

	if (rp_fs_read_file("/proc/stat", 1 << 20, &b) < 0)
		return -1;
	s = rp_buf_str(&b);
	if (strncmp(s, "btime ", 6) != 0) {
		s = strstr(s, "\nbtime ");
		if (s != NULL)
			s++;
	}
	if (s != NULL) {
		s += 6;
		e = strchr(s, '\n');
		if (e == NULL)
			e = s + strlen(s);
		rc = rp_parse_u64_n(s, (size_t)(e - s), 0, UINT64_MAX, out);
	}
	rp_buf_free(&b);
	if (rc < 0)
		errno = EPROTO;
	return rc;
}

int
rp_host_process_start_ms(uint32_t pid, uint64_t *out)
{
	struct rp_buf b = { 0 };
	char path[64];
	uint64_t ticks, btime;
	long hz = sysconf(_SC_CLK_TCK);

	if (hz <= 0) {
		errno = EINVAL;
		return -1;
	}
	proc_path(path, sizeof(path), pid, "stat");
	if (rp_fs_read_file(path, STAT_FILE_MAX, &b) < 0) {
		errno = proc_errno(pid, errno);
		return -1;
	}
	if (stat_starttime((const char *)b.data, b.len, &ticks) < 0) {
		rp_buf_free(&b);
		errno = EPROTO;
		return -1;
	}
	rp_buf_free(&b);
	if (boot_time(&btime) < 0)
		return -1;
	/* btime is whole seconds, so this is as exact as ps(1): to the
	 * second, and stable for the life of the process. */
	*out = btime * 1000 + ticks / (uint64_t)hz * 1000 +
	    ticks % (uint64_t)hz * 1000 / (uint64_t)hz;
	return 0;
}

uint32_t
rp_host_pid(void)
{
	return (uint32_t)getpid();
}

uint32_t
rp_host_euid(void)
{
	return (uint32_t)geteuid();
}

int
rp_servicedef_default_dir(char *out, size_t outsz, const char *flag_dir)
{
	return rp_servicedef_dir(out, outsz, flag_dir,
	    getenv("RUNNING_PROCESS_SERVICE_DEF_DIR"),
	    getenv("XDG_CONFIG_HOME"), getenv("HOME"));
}

int
rp_host_broker_endpoint(char *out, size_t outsz, enum rp_isolation iso,
    const char *name)
{
	char dir[RP_SUN_PATH_MAX], mid[256], hash[17];
	uint32_t euid = rp_host_euid();

	if (rp_names_broker_dir(dir, sizeof(dir), getenv("XDG_RUNTIME_DIR"),
	    euid) < 0 || rp_host_machine_id(mid, sizeof(mid)) < 0)
		return -1;
	rp_names_user_hash(hash, euid, mid);
	return rp_names_broker_socket(out, outsz, dir, hash, iso, name);
}

int
rp_host_user_hash(char out[17], const char *machine_id)
{
	rp_names_user_hash(out, rp_host_euid(), machine_id);
	return 0;
}
