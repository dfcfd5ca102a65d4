/* token_file.c — read a handoff token from a file (see token.h). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>

#include "deadline.h"
#include "fs.h"
#include "io.h"
#include "token.h"

/* A token file holds 32 hex digits and perhaps a newline; anything much
 * bigger is not a token file, and we will not read it all to find out. */
#define TOKEN_FILE_MAX 256

/*
 * Read path into buf, which holds max + 1 bytes: one more than a valid
 * file has, so that a larger file is told apart without reading it all.
 * Plain read(2) to EOF rather than a regular-file check: a token may come
 * through a pipe (--token-file <(...)), which has no size.  Returns the
 * count, or -1 with errno (EINVAL for a file of more than max bytes).
 * What was read stays in buf either way, for the caller to wipe.
 */
static ssize_t
read_bounded(const char *path, char *buf, size_t max)
{
	ssize_t n;
	int fd;

	fd = rp_fs_open_read(path);
	if (fd < 0)
		return -1;
	n = rp_io_read_full(fd, buf, max + 1, RP_DEADLINE_NEVER);
	rp_fd_close(&fd);
	if (n > (ssize_t)max) {
		errno = EINVAL;
		return -1;
	}
	return n;
}

int
rp_token_read_file(const char *path, uint8_t tok[RP_TOKEN_LEN])
{
	char buf[TOKEN_FILE_MAX + 1];
	ssize_t n;
	int rc, saved;

	n = read_bounded(path, buf, TOKEN_FILE_MAX);
	rc = n < 0 ? -1 : rp_token_from_hex(buf, (size_t)n, tok);
	saved = errno;
	sodium_memzero(buf, sizeof(buf));
	errno = saved;
	return rc;
}

int
rp_token_read_list(const char *path, uint8_t (*toks)[RP_TOKEN_LEN],
    size_t max)
{
	size_t cap;
	char *buf;
	ssize_t n;
	int rc, saved;

	if (max == 0 || max > 1u << 20) {
		errno = EINVAL;
		return -1;
	}
	/* A line per token with room for CRLF and comments we refuse. */
	cap = 40 * max + 256;
	buf = malloc(cap + 1);
	if (buf == NULL)
		return -1;
	n = read_bounded(path, buf, cap);
	rc = n < 0 ? -1 : rp_token_parse_list(buf, (size_t)n, toks, max);
	saved = errno;
	sodium_memzero(buf, cap + 1);
	free(buf);
	errno = saved;
	return rc;
}
