/*
 * host.c — machine and process facts from /etc and /proc (see host.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "fs.h"
#include "host.h"
#include "parse.h"

#define MACHINE_ID_PATH "/etc/machine-id"
#define DBUS_MACHINE_ID_PATH "/var/lib/dbus/machine-id"
#define BOOT_ID_PATH "/proc/sys/kernel/random/boot_id"

/* Generous caps: these files hold a line each. */
#define ID_FILE_MAX 4096
#define STAT_FILE_MAX 65536

/* The length of the UTF-8 sequence at s[0..n) when it is one of
 * Unicode's White_Space characters (what Rust's str::trim removes), else
 * 0.  s is valid UTF-8. */
static size_t
white_space_at(const unsigned char *s, size_t n)
{
	unsigned c;

	if (s[0] == ' ' || (s[0] >= '\t' && s[0] <= '\r'))
		return 1;
	if (n >= 2 && s[0] == 0xc2 && (s[1] == 0x85 || s[1] == 0xa0))
		return 2;
	if (n < 3 || (s[0] != 0xe1 && s[0] != 0xe2 && s[0] != 0xe3))
		return 0;
	c = (unsigned)(s[0] & 0x0f) << 12 | (unsigned)(s[1] & 0x3f) << 6 |
	    (unsigned)(s[2] & 0x3f);
	if (c == 0x1680 || (c >= 0x2000 && c <= 0x200a) || c == 0x2028 ||
	    c == 0x2029 || c == 0x202f || c == 0x205f || c == 0x3000)
		return 3;
	return 0;
}

/* Where the UTF-8 sequence that ends at s[n-1] starts. */
static size_t
last_char_start(const unsigned char *s, size_t n)
{
	size_t i = n - 1;

	while (i > 0 && (s[i] & 0xc0) == 0x80)
		i--;
	return i;
}

/*
 * A small file read as running-process v1 reads it (Rust's
 * read_to_string, then trim): the whole file, which must be UTF-8 (else
 * EILSEQ; a NUL, which a C string cannot carry, is EILSEQ too), with
 * Unicode white space trimmed at both ends, into out.  Returns its
 * length, or -1 with errno: the file's own (ENOENT, EACCES, EIO, EISDIR,
 * EFBIG past ID_FILE_MAX), ENODATA when nothing but white space is left,
 * ERANGE when it does not fit out.
 */
static int
read_trimmed(const char *path, char *out, size_t outsz)
{
	struct rp_buf b = { 0 };
	const unsigned char *s;
	size_t len, k;

	if (rp_fs_read_file(path, ID_FILE_MAX, &b) < 0)
		return -1;
	s = b.data;
	len = b.len;
	if (!rp_utf8_valid(s, len)) {
		rp_buf_free(&b);
		errno = EILSEQ;
		return -1;
	}
	while (len > 0 && (k = white_space_at(s, len)) > 0) {
		s += k;
		len -= k;
	}
	while (len > 0) {
		k = last_char_start(s, len);
		if (white_space_at(s + k, len - k) != len - k)
			break;
		len = k;
	}
	if (len == 0) {
		rp_buf_free(&b);
		errno = ENODATA;
		return -1;
	}
	if (len >= outsz || len > INT_MAX) {
		rp_buf_free(&b);
		errno = ERANGE;
		return -1;
	}
	memcpy(out, s, len);
	out[len] = '\0';
	rp_buf_free(&b);
	return (int)len;
}

/* out <- s, or "" when it does not fit (for naming a file in an error). */
static void
name_in(char *out, size_t outsz, const char *s)
{
	if (outsz == 0)
		return;
	if (strlen(s) < outsz)
		memcpy(out, s, strlen(s) + 1);
	else
		out[0] = '\0';
}

int
rp_host_machine_id_from(const char *etc_path, const char *dbus_path,
    const char *boot_id_path, char *out, size_t outsz)
{
	const char *const files[] = { etc_path, dbus_path };
	char boot[128];
	size_t i;
	int n;

	/*
	 * As running-process v1 does, so that both derive one hash16 on one
	 * host: a file that is missing, or holds only white space (an image
	 * built for first boot ships an empty /etc/machine-id), falls
	 * through to the next source.  One that is there but cannot be read
	 * is an error: a sibling process of the same user may read it fine,
	 * and an identity derived from the next source would split that
	 * user across two brokers.
	 */
	for (i = 0; i < 2; i++) {
		if ((n = read_trimmed(files[i], out, outsz)) >= 0)
			return n;
		if (errno != ENOENT && errno != ENODATA) {
			int err = errno;

			name_in(out, outsz, files[i]);
			errno = err;
			return -1;
		}
	}
	/* No machine-id file at all: the boot's identity.  Its absence or
	 * failure is no reason of its own: there is no source left. */
	n = read_trimmed(boot_id_path, boot, sizeof(boot));
	if (n < 0 && errno != ERANGE) {
		name_in(out, outsz, "");
		errno = ENOENT;
		return -1;
	}
	if (n >= 0)
		n = snprintf(out, outsz, "boot:%s", boot);
	if (n < 0 || (size_t)n >= outsz) {
		name_in(out, outsz, boot_id_path);
		errno = ERANGE;
		return -1;
	}
	return n;
}

int
rp_host_machine_id(char *out, size_t outsz)
{
	return rp_host_machine_id_from(MACHINE_ID_PATH, DBUS_MACHINE_ID_PATH,
	    BOOT_ID_PATH, out, outsz);
}

int
rp_host_boot_id(char *out, size_t outsz)
{
	return read_trimmed(BOOT_ID_PATH, out, outsz);
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
