/* relay.c — copy between a connection and local fds (see relay.h). */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "relay.h"

#define RELAY_BUF (64 * 1024)

static ssize_t
read_eintr(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	/* A terminal whose other side has gone (a PTY master after the last
	 * holder of its slave closed it) reads EIO: that is its end of
	 * file, not a failure. */
	if (n < 0 && errno == EIO && isatty(fd))
		n = 0;
	return n;
}

int
rp_relay(int conn, int in_fd, int out_fd)
{
	struct pollfd p[2];
	struct stat st;
	uint8_t *up, *down;
	size_t up_off = 0, up_len = 0;
	int is_sock, in_open, conn_eof = 0, r = -1, err = 0, np;
	ssize_t n;

	if (fstat(conn, &st) != 0)
		return -1;
	is_sock = S_ISSOCK(st.st_mode);
	in_open = is_sock && in_fd >= 0;
	up = malloc(RELAY_BUF);
	down = malloc(RELAY_BUF);
	if (up == NULL || down == NULL)
		goto out;
	for (;;) {
		/* Both directions closed: done. */
		if (conn_eof && !in_open && up_off == up_len) {
			r = 0;
			goto out;
		}
		p[0].fd = conn;
		p[0].events = (conn_eof ? 0 : POLLIN) |
		    (up_len > up_off ? POLLOUT : 0);
		p[0].revents = 0;
		np = 1;
		/* Read more of in_fd only once the last of it has gone. */
		if (in_open && up_len == up_off) {
			p[1].fd = in_fd;
			p[1].events = POLLIN;
			p[1].revents = 0;
			np = 2;
		}
		if (poll(p, (nfds_t)np, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = errno;
			goto out;
		}
		if (!conn_eof && (p[0].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read_eintr(conn, down, RELAY_BUF);
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				err = errno;
				goto out;
			}
			if (n == 0)
				conn_eof = 1;
			else if (n > 0 && rp_io_write_full(out_fd, down,
			    (size_t)n, RP_DEADLINE_NEVER) != 0) {
				err = errno;
				goto out;
			}
		}
		/*
		 * After its end of data, a peer that only shut down its
		 * writing still reads what we send (until in_fd ends); one
		 * that is gone altogether (a hang-up: both directions shut)
		 * reads nothing more, and we do not wait for in_fd.
		 */
		if (conn_eof && (p[0].revents & (POLLHUP | POLLERR)) &&
		    !(p[0].revents & POLLIN)) {
			up_off = up_len = 0;
			in_open = 0;
			continue;
		}
		if ((p[0].revents & POLLOUT) && up_len > up_off) {
			n = send(conn, up + up_off, up_len - up_off,
			    MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n > 0) {
				up_off += (size_t)n;
			} else if (n < 0 && errno != EINTR && errno != EAGAIN &&
			    errno != EWOULDBLOCK) {
				if (errno != EPIPE && errno != ECONNRESET) {
					err = errno;
					goto out;
				}
				/* The peer will read no more: stop sending,
				 * keep taking what it still says. */
				up_off = up_len = 0;
				in_open = 0;
			}
		}
		if (np == 2 && (p[1].revents & (POLLIN | POLLHUP | POLLERR))) {
			n = read_eintr(in_fd, up, RELAY_BUF);
			if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
				err = errno;
				goto out;
			}
			if (n == 0) {
				in_open = 0;
				/* Tell the peer that is all; ENOTCONN when it
				 * already left is fine. */
				(void)shutdown(conn, SHUT_WR);
			} else if (n > 0) {
				up_off = 0;
				up_len = (size_t)n;
			}
		}
	}
out:
	free(up);
	free(down);
	if (r != 0)
		errno = err ? err : ENOMEM;
	return r;
}
