/* daemon.c — sd_notify and RLIMIT_NOFILE (see daemon.h). */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "deadline.h"
#include "io.h"

int
rp_daemon_notify_to(const char *path, const char *state)
{
	struct sockaddr_un sun;
	socklen_t alen;
	size_t plen, slen;
	ssize_t n;
	int fd, err;

	if (path == NULL || path[0] == '\0')
		return 0;
	if (state == NULL) {
		errno = EINVAL;
		return -1;
	}
	plen = strlen(path);
	if (plen >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, path, plen);
	/* "@name" is systemd's spelling of an abstract socket: a leading
	 * NUL, and the address length counts exactly the name's bytes. */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + plen +
	    (path[0] == '@' ? 0 : 1));
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	slen = strlen(state);
	do
		n = sendto(fd, state, slen, MSG_NOSIGNAL,
		    (const struct sockaddr *)&sun, alen);
	while (n < 0 && errno == EINTR);
	err = errno;
	close(fd);
	if (n < 0) {
		errno = err;
		return -1;
	}
	if ((size_t)n != slen) {
		errno = EMSGSIZE;
		return -1;
	}
	return 1;
}

int
rp_daemon_notify(const char *state)
{
	return rp_daemon_notify_to(getenv("NOTIFY_SOCKET"), state);
}

static uint64_t
lim64(rlim_t v)
{
	return v == RLIM_INFINITY ? UINT64_MAX : (uint64_t)v;
}

int
rp_daemon_nofile(uint64_t want, uint64_t *soft, uint64_t *hard)
{
	struct rlimit rl;
	rlim_t target;

	if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
		return -1;
	target = (rlim_t)want;
	if ((uint64_t)target != want)
		target = RLIM_INFINITY;
	if (rl.rlim_max != RLIM_INFINITY && target > rl.rlim_max)
		target = rl.rlim_max;
	if (rl.rlim_cur != RLIM_INFINITY && target > rl.rlim_cur) {
		struct rlimit nrl = { .rlim_cur = target, .rlim_max = rl.rlim_max };

		/* Linux caps the soft limit at fs.nr_open too: a refusal
		 * leaves the old limit, which the caller reads below. */
		if (setrlimit(RLIMIT_NOFILE, &nrl) == 0)
			rl.rlim_cur = target;
	}
	if (soft != NULL)
		*soft = lim64(rl.rlim_cur);
	if (hard != NULL)
		*hard = lim64(rl.rlim_max);
	return 0;
}

uint64_t
rp_daemon_fd_ceiling(void)
{
	return UINT64_MAX;
}

void
rp_daemon_forget_activation(void)
{
	(void)unsetenv("LISTEN_PID");
	(void)unsetenv("LISTEN_FDS");
	(void)unsetenv("LISTEN_FDNAMES");
}
