/* token_file.c — read a handoff token from a file (see token.h). */
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <unistd.h>

#include "token.h"

/* A token file holds 32 hex digits and perhaps a newline; anything much
 * bigger is not a token file, and we will not read it all to find out. */
#define TOKEN_FILE_MAX 256

int
rp_token_read_file(const char *path, uint8_t tok[RP_TOKEN_LEN])
{
	char buf[TOKEN_FILE_MAX + 1];
	size_t have = 0;
	ssize_t n;
	int fd, rc, saved;

	/* Plain read(2) rather than a regular-file check: a token may come
	 * through a pipe (--token-file <(...)), which has no size. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	while (have < sizeof(buf)) {
		n = read(fd, buf + have, sizeof(buf) - have);
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		sodium_memzero(buf, sizeof(buf));
		errno = saved;
		return -1;
	}
	close(fd);
	if (have > TOKEN_FILE_MAX) {
		sodium_memzero(buf, sizeof(buf));
		errno = EINVAL;
		return -1;
	}
	rc = rp_token_from_hex(buf, have, tok);
	saved = errno;
	sodium_memzero(buf, sizeof(buf));
	errno = saved;
	return rc;
}

int
rp_token_read_list(const char *path, uint8_t (*toks)[RP_TOKEN_LEN],
    size_t max)
{
	size_t cap, have = 0;
	char *buf;
	ssize_t n;
	int fd, rc, saved;

	if (max == 0 || max > 1u << 20) {
		errno = EINVAL;
		return -1;
	}
	/* A line per token with room for CRLF and comments we refuse. */
	cap = 40 * max + 256;
	buf = malloc(cap + 1);
	if (buf == NULL)
		return -1;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		saved = errno;
		free(buf);
		errno = saved;
		return -1;
	}
	while (have < cap + 1) {
		n = read(fd, buf + have, cap + 1 - have);
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		saved = errno;
		close(fd);
		sodium_memzero(buf, cap + 1);
		free(buf);
		errno = saved;
		return -1;
	}
	close(fd);
	if (have > cap) {
		rc = -1;
		saved = EINVAL;
	} else {
		rc = rp_token_parse_list(buf, have, toks, max);
		saved = errno;
	}
	sodium_memzero(buf, cap + 1);
	free(buf);
	errno = saved;
	return rc;
}
