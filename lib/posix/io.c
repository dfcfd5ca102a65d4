/* io.c — whole reads and writes under an absolute deadline (see io.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"

int
rp_io_wait(int fd, unsigned events, int64_t deadline)
{
	struct pollfd pfd = { .fd = fd };
	short r;
	int n;

	pfd.events = (short)((events & RP_IO_READ ? POLLIN : 0) |
	    (events & RP_IO_WRITE ? POLLOUT : 0));
	for (;;) {
		n = poll(&pfd, 1, rp_deadline_poll_ms(deadline));
		if (n > 0) {
			/* Only these can come back for POLLIN|POLLOUT. */
			r = pfd.revents;
			return (r & POLLIN ? RP_IO_READ : 0) |
			    (r & POLLOUT ? RP_IO_WRITE : 0) |
			    (r & POLLHUP ? RP_IO_HUP : 0) |
			    (r & (POLLERR | POLLNVAL) ? RP_IO_ERR : 0);
		}
		if (n == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (errno != EINTR)
			return -1;
	}
}

/*
 * The deadline must hold on blocking fds too, where read(2) or write(2)
 * would wait inside the kernel for as long as the peer likes.  Sockets
 * are used with MSG_DONTWAIT, which leaves the fd's own flags alone; other
 * fds (pipes, ttys) are polled before each attempt when the deadline is
 * finite, so that plain blocking use still costs one system call.
 */
ssize_t
rp_io_read_full(int fd, void *buf, size_t len, int64_t deadline)
{
	size_t have = 0;
	ssize_t n;
	int is_sock = 1;

	while (have < len) {
		if (is_sock) {
			n = recv(fd, (char *)buf + have, len - have,
			    MSG_DONTWAIT);
			if (n < 0 && errno == ENOTSOCK) {
				is_sock = 0;
				continue;
			}
		} else {
			if (deadline != RP_DEADLINE_NEVER &&
			    rp_io_wait(fd, RP_IO_READ, deadline) < 0)
				return -1;
			n = read(fd, (char *)buf + have, len - have);
		}
		if (n > 0) {
			have += (size_t)n;
			continue;
		}
		if (n == 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (rp_io_wait(fd, RP_IO_READ, deadline) < 0)
			return -1;
	}
	return (ssize_t)have;
}

ssize_t
rp_io_read_some(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t
rp_io_recv_adopted(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t
rp_io_send_adopted(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = send(fd, buf, len, MSG_DONTWAIT | MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n;
}

ssize_t
rp_io_write_some(int fd, const void *buf, size_t len)
{
	ssize_t n;
	int is_sock = 1;

	for (;;) {
		if (is_sock) {
			n = send(fd, buf, len, MSG_NOSIGNAL);
			if (n < 0 && errno == ENOTSOCK) {
				is_sock = 0;
				continue;
			}
		} else {
			n = write(fd, buf, len);
		}
		if (n >= 0 || errno != EINTR)
			return n;
	}
}

ssize_t
rp_io_write_plain(int fd, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(fd, buf, len);
	while (n < 0 && errno == EINTR);
	return n;
}

int
rp_io_write_full(int fd, const void *buf, size_t len, int64_t deadline)
{
	size_t done = 0;
	ssize_t n;
	int is_sock = 1;

	while (done < len) {
		if (is_sock) {
			n = send(fd, (const char *)buf + done, len - done,
			    MSG_NOSIGNAL | MSG_DONTWAIT);
			if (n < 0 && errno == ENOTSOCK) {
				is_sock = 0;
				continue;
			}
		} else {
			if (deadline != RP_DEADLINE_NEVER &&
			    rp_io_wait(fd, RP_IO_WRITE, deadline) < 0)
				return -1;
			n = write(fd, (const char *)buf + done, len - done);
		}
		if (n >= 0) {
			done += (size_t)n;
			continue;
		}
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (rp_io_wait(fd, RP_IO_WRITE, deadline) < 0)
			return -1;
	}
	return 0;
}

ssize_t
rp_io_peek(int fd, void *buf, size_t len)
{
	ssize_t n;

	do
		n = recv(fd, buf, len, MSG_PEEK | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	return n;
}

int
rp_fd_mode(int fd)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	switch (fl & O_ACCMODE) {
	case O_RDONLY:
		return (int)RP_IO_READ;
	case O_WRONLY:
		return (int)RP_IO_WRITE;
	default:
		return (int)(RP_IO_READ | RP_IO_WRITE);
	}
}

int
rp_fd_set_nonblock(int fd, int on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -1;
	/* Already so: spare the second system call. */
	if (((fl & O_NONBLOCK) != 0) == (on != 0))
		return 0;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl);
}

int
rp_fd_set_cloexec(int fd, int on)
{
	int fl = fcntl(fd, F_GETFD);

	if (fl < 0)
		return -1;
	fl = on ? fl | FD_CLOEXEC : fl & ~FD_CLOEXEC;
	return fcntl(fd, F_SETFD, fl);
}

void
rp_fd_close(int *fd)
{
	int saved = errno;

	if (*fd >= 0)
		close(*fd);
	*fd = -1;
	errno = saved;
}

int
rp_fd_count(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	/* The directory stream itself was one of them. */
	return n - 1;
}

ssize_t
rp_io_send_nowait(int fd, const void *buf, size_t len)
{
	return send(fd, buf, len, MSG_NOSIGNAL | MSG_DONTWAIT);
}

ssize_t
rp_io_recv_nowait(int fd, void *buf, size_t len)
{
	return recv(fd, buf, len, MSG_DONTWAIT);
}

int
rp_fd_is_socket(int fd)
{
	struct stat st;

	if (fstat(fd, &st) != 0)
		return -1;
	return S_ISSOCK(st.st_mode) ? 1 : 0;
}

int
rp_fd_is_null(int fd)
{
	struct stat st, null;

	return fstat(fd, &st) == 0 && S_ISCHR(st.st_mode) &&
	    stat("/dev/null", &null) == 0 && S_ISCHR(null.st_mode) &&
	    st.st_rdev == null.st_rdev;
}

int
rp_fd_pipe(int fds[2], int nonblock)
{
	return pipe2(fds, O_CLOEXEC | (nonblock ? O_NONBLOCK : 0));
}
