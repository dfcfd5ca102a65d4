/* init.c — common start-up for every rp program (see rp.h). */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <unistd.h>

#include "rp.h"

/* Which of fds 0-2 rp_init found closed (bit N for fd N). */
static unsigned closed_at_start;
static volatile unsigned long fork_gen;
static int atfork_set;

static void
forked_child(void)
{
	fork_gen++;
}

unsigned long
rp_fork_generation(void)
{
	return fork_gen;
}

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
		closed_at_start |= 1u << fd;
	}
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGPIPE, &sa, NULL) != 0)
		return -1;
	if (sodium_init() < 0) {
		errno = EIO;
		return -1;
	}
	if (!atfork_set) {
		if (pthread_atfork(NULL, NULL, forked_child) != 0) {
			errno = ENOMEM;
			return -1;
		}
		atfork_set = 1;
	}
	return 0;
}

int
rp_init_closed(int fd)
{
	return fd >= 0 && fd <= 2 && (closed_at_start & (1u << fd)) != 0;
}
