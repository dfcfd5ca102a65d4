/* daemon.c — what a service needs from its supervisor's world, on
 * Windows (see daemon.h): no sd_notify and no RLIMIT_NOFILE here. */
#include <errno.h>
#include <stdlib.h>

#include "win.h"

#include "daemon.h"
#include "deadline.h"
#include "io.h"

int
rp_daemon_notify_to(const char *path, const char *state)
{
	if (path == NULL || path[0] == '\0')
		return 0;
	if (state == NULL) {
		errno = EINVAL;
		return -1;
	}
	/* NOTIFY_SOCKET names a Unix datagram socket: none here. */
	errno = ENOSYS;
	return -1;
}

int
rp_daemon_notify(const char *state)
{
	return rp_daemon_notify_to(getenv("NOTIFY_SOCKET"), state);
}

/* The C runtime's descriptor table (msvcrt.dll): what an fd count can
 * reach.  Handles have no per-process limit to raise. */
#define CRT_FDS 2048

int
rp_daemon_nofile(uint64_t want, uint64_t *soft, uint64_t *hard)
{
	(void)want;
	if (soft != NULL)
		*soft = CRT_FDS;
	if (hard != NULL)
		*hard = CRT_FDS;
	return 0;
}

uint64_t
rp_daemon_fd_ceiling(void)
{
	return CRT_FDS;
}

void
rp_daemon_forget_activation(void)
{
	/* An empty value removes the variable. */
	(void)_putenv_s("LISTEN_PID", "");
	(void)_putenv_s("LISTEN_FDS", "");
	(void)_putenv_s("LISTEN_FDNAMES", "");
}
