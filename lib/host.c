/*
 * host.c — the portable part of host.h: the machine id and small files
 * read as running-process v1 reads them.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "fs.h"
#include "host.h"
#include "parse.h"

/* A generous cap: these files hold a line each. */
#define ID_FILE_MAX 4096

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
int
rp_host_read_trimmed(const char *path, char *out, size_t outsz)
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
		if ((n = rp_host_read_trimmed(files[i], out, outsz)) >= 0)
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
	n = rp_host_read_trimmed(boot_id_path, boot, sizeof(boot));
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
