/*
 * daemon.c — what the daemons' start-up shares on every platform (see
 * daemon.h); the rest is in lib/<platform>/daemon.c.
 */
#include "daemon.h"
#include "deadline.h"
#include "io.h"

int
rp_daemon_ready_fd(int *fd)
{
	int r;

	if (*fd < 0)
		return 0;
	r = rp_io_write_full(*fd, "\n", 1, rp_deadline_in(1000));
	rp_fd_close(fd);
	return r;
}
