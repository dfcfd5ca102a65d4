/*
 * host.c — the portable part of host.h: machine ids from files.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fs.h"
#include "host.h"

/* A generous cap: these files hold a line each. */
#define ID_FILE_MAX 4096

static int
is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' ||
	    c == '\v' || c == '\f';
}

int
rp_host_read_trimmed(const char *path, char *out, size_t outsz)
{
	struct rp_buf b = { 0 };
	const char *s;
	size_t len;

	if (rp_fs_read_file(path, ID_FILE_MAX, &b) < 0)
		return -1;
	s = (const char *)b.data;
	len = b.len;
	while (len > 0 && is_space(s[0])) {
		s++;
		len--;
	}
	while (len > 0 && is_space(s[len - 1]))
		len--;
	if (len == 0 || memchr(s, '\0', len) != NULL) {
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

int
rp_host_machine_id_from(const char *etc_path, const char *dbus_path,
    const char *boot_id_path, char *out, size_t outsz)
{
	char boot[128];
	int n;

	/*
	 * Each source counts only when it yields something: an image built
	 * for first boot ships an empty /etc/machine-id, and that must fall
	 * through rather than hash the empty string.  Too long for out is
	 * the caller's problem and is reported, not skipped.
	 */
	if ((n = rp_host_read_trimmed(etc_path, out, outsz)) >= 0 || errno == ERANGE)
		return n;
	if ((n = rp_host_read_trimmed(dbus_path, out, outsz)) >= 0 || errno == ERANGE)
		return n;
	if (rp_host_read_trimmed(boot_id_path, boot, sizeof(boot)) < 0)
		return -1;
	n = snprintf(out, outsz, "boot:%s", boot);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		errno = ERANGE;
		return -1;
	}
	return n;
}
