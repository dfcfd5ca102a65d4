/* blake3_fd.c — BLAKE3 of everything readable from an fd or a file (see
 * blake3.h). */
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>

#include "blake3.h"
#include "fs.h"
#include "io.h"

/* Large reads keep the per-syscall cost small and hand update() long runs
 * of whole chunks to hash in parallel; 1 MiB still sits in L2 on current
 * CPUs while it is hashed.  Memory mapping would save the copy but fails
 * on pipes, and a file truncated under a mapping raises SIGBUS. */
#define READ_BUF (1u << 20)

int
rp_blake3_fd(int fd, uint8_t out[32])
{
	struct rp_blake3 h;
	uint8_t *buf;
	ssize_t n;
	int saved;

	buf = malloc(READ_BUF);
	if (buf == NULL)
		return -1;
	rp_blake3_init(&h);
	while ((n = rp_io_read_some(fd, buf, READ_BUF)) > 0)
		rp_blake3_update(&h, buf, (size_t)n);
	saved = errno;
	free(buf);
	if (n < 0) {
		errno = saved;
		return -1;
	}
	rp_blake3_final(&h, out, RP_BLAKE3_OUT_LEN);
	return 0;
}

int
rp_blake3_file(const char *path, uint8_t out[32])
{
	int fd, rc;

	fd = rp_fs_open_read(path);
	if (fd < 0)
		return -1;
	rc = rp_blake3_fd(fd, out);
	rp_fd_close(&fd);
	return rc;
}
