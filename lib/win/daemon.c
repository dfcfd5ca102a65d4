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

int
rp_daemon_nofile(uint64_t want, uint64_t *soft, uint64_t *hard)
{
	/* Handles have no per-process limit to raise; the C runtime's
	 * descriptor table (msvcrt.dll) holds 2048, and that is what an fd
	 * count can reach. */
	(void)want;
	if (soft != NULL)
		*soft = 2048;
	if (hard != NULL)
		*hard = 2048;
	return 0;
}

void
rp_daemon_forget_activation(void)
{
	/* An empty value removes the variable. */
	(void)_putenv_s("LISTEN_PID", "");
	(void)_putenv_s("LISTEN_FDS", "");
	(void)_putenv_s("LISTEN_FDNAMES", "");
}
