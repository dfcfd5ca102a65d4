/*
 * connecthup.so — an LD_PRELOAD library for the bats suites: with
 * $RP_CONNECTHUP set, connect(2) on a Unix socket returns only once the
 * peer has closed its end (or after 10 s), so that the program's first
 * write meets a broker that has already answered and closed: the moment
 * a client under fd pressure can meet, made certain instead of a race.
 * Otherwise it is the C library's connect.
 */
#include <dlfcn.h>
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>

int
connect(int fd, const struct sockaddr *sa, socklen_t len)
{
	static int (*real)(int, const struct sockaddr *, socklen_t);
	struct pollfd p;
	int r, err, i;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "connect");
	r = real(fd, sa, len);
	if (r != 0 || sa == NULL || sa->sa_family != AF_UNIX ||
	    getenv("RP_CONNECTHUP") == NULL)
		return r;
	err = errno;
	for (i = 0; i < 100; i++) {
		p.fd = fd;
		p.events = POLLRDHUP;
		p.revents = 0;
		if (poll(&p, 1, 100) > 0 &&
		    (p.revents & (POLLRDHUP | POLLHUP | POLLERR)))
			break;
	}
	errno = err;
	return 0;
}
