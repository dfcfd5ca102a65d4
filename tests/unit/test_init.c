/* Unit tests for init: rp_init's start-up, in children of their own (its
 * state is the process's). */
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rp.h"
#include "t.h"

/* 1 when fd is open on /dev/null. */
static int
is_devnull(int fd)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat("/dev/null", &b) == 0 &&
	    S_ISCHR(a.st_mode) && a.st_rdev == b.st_rdev;
}

/* In a child: close the fds of mask (bit N: fd N), run rp_init, and exit
 * with a bit set for every check that failed. */
static int
closed_in_child(unsigned mask)
{
	pid_t pid;
	int st, fd, bad;

	pid = fork();
	if (pid == 0) {
		for (fd = 0; fd <= 2; fd++)
			if (mask & (1u << fd))
				close(fd);
		if (rp_init() != 0)
			_exit(64);
		bad = 0;
		for (fd = 0; fd <= 2; fd++) {
			if (rp_init_closed(fd) != !!(mask & (1u << fd)))
				bad |= 1 << fd;
			if ((mask & (1u << fd)) && !is_devnull(fd))
				bad |= 8 << fd;
		}
		if (rp_init_closed(-1) || rp_init_closed(3))
			bad |= 64;
		_exit(bad);
	}
	T_OK(pid > 0);
	T_EQ(waitpid(pid, &st, 0), pid);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
}

static void
test_closed(void)
{
	T_EQ(closed_in_child(0), 0);
	T_EQ(closed_in_child(2), 0);    /* stdout alone */
	T_EQ(closed_in_child(5), 0);    /* stdin and stderr */
	T_EQ(closed_in_child(7), 0);
}

int
main(void)
{
	T_RUN(test_closed);
	return t_done();
}
