/* init.c — common start-up for every rp program (see rp.h). */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include "rp.h"

int
rp_init(void)
{
	struct sigaction sa = { .sa_handler = SIG_IGN };
	int fd;

	/* A closed 0, 1 or 2 would be reused by the next open(), and then a
	 * diagnostic could land in a socket or a token file. */
	for (;;) {
		fd = open("/dev/null", O_RDWR);
		if (fd < 0)
			return -1;
		if (fd > 2) {
			close(fd);
			break;
		}
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	if (sodium_init() < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}
