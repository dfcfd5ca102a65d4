/*
 * fdpass.c — one fd and a few bytes over a Unix stream socket (see
 * fdpass.h).  Strict on receipt: whatever arrives in excess or damaged is
 * closed before we return, so a hostile sender cannot make us leak fds.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "deadline.h"
#include "err.h"
#include "fdpass.h"
#include "io.h"

/*
 * Room for a handful of fds.  One is what we want; a few more still fit,
 * so "2 fds" is reported as such (and each is closed) rather than as a
 * truncation.  Beyond that the kernel sets MSG_CTRUNC, installs what fits
 * (we close those) and disposes of the rest itself.
 */
#define RECV_FDS 8

/* A control buffer with room for the one fd we send, aligned for cmsghdr. */
union fd_ctl {
	struct cmsghdr align;
	char buf[CMSG_SPACE(sizeof(int))];
};

/* Make the zeroed msg carry the one buffer iov and, as SCM_RIGHTS in ctl,
 * the fd: the fd travels with the first byte of that buffer. */
static void
attach_fd(struct msghdr *msg, struct iovec *iov, union fd_ctl *ctl, int fd)
{
	struct cmsghdr *c;

	memset(ctl, 0, sizeof(*ctl));
	msg->msg_iov = iov;
	msg->msg_iovlen = 1;
	msg->msg_control = ctl->buf;
	msg->msg_controllen = sizeof(ctl->buf);
	c = CMSG_FIRSTHDR(msg);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
}

int
rp_fdpass_send(int sock, int fd, const void *data, size_t len,
    int64_t deadline)
{
	union fd_ctl ctl;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (data == NULL || len == 0 || len > 64) {
		errno = EINVAL;
		return -1;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = (void *)(uintptr_t)data;
	iov.iov_len = len;
	attach_fd(&msg, &iov, &ctl, fd);

	for (;;) {
		/* MSG_DONTWAIT even on a blocking socket: the wait belongs
		 * to the deadline, not to the kernel. */
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return -1;
		if (rp_deadline_passed(deadline)) {
			errno = ETIMEDOUT;
			return -1;
		}
		if (rp_io_wait(sock, RP_IO_WRITE, deadline) < 0)
			return -1;
	}
	/* The fd travelled with the first byte; the rest cannot be sent on
	 * its own without the receiver seeing two messages. */
	if ((size_t)n != len) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

ssize_t
rp_fdpass_send_with_tail(int sock, int fd, const void *data, size_t len,
    const void *tail, size_t tail_len)
{
	union fd_ctl ctl;
	struct msghdr msg;
	struct iovec iov[2];
	ssize_t n;

	if (fd < 0) {
		errno = EBADF;
		return -1;
	}
	if (data == NULL || len == 0 || len > 64 ||
	    (tail == NULL && tail_len > 0)) {
		errno = EINVAL;
		return -1;
	}
	iov[0].iov_base = (void *)(uintptr_t)data;
	iov[0].iov_len = len;
	iov[1].iov_base = (void *)(uintptr_t)tail;
	iov[1].iov_len = tail_len;
	/* One message: the fd travels with its first byte, and a reader
	 * whose buffer is large enough takes the data, the fd and the tail
	 * in one recvmsg.  The byte stream is the same as with two sends,
	 * so a reader that takes exactly len bytes with the fd finds the
	 * tail behind them as before. */
	memset(&msg, 0, sizeof(msg));
	attach_fd(&msg, &iov[0], &ctl, fd);
	msg.msg_iovlen = tail_len > 0 ? 2 : 1;
	do
		n = sendmsg(sock, &msg, MSG_NOSIGNAL | MSG_DONTWAIT);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -1;
	/* A socket with room for only part of the data bytes: the fd went
	 * with a cut token, which no receiver can take. */
	if ((size_t)n < len) {
		errno = EPROTO;
		return -1;
	}
	/* A tail that did not all go is the caller's to write. */
	return n - (ssize_t)len;
}

/*
 * Gather the fds of every SCM_RIGHTS message in msg (a sender may split
 * them over several) into fds[0..max); any past max are closed at once.
 * Returns how many there were in all.
 */
static int
gather_fds(struct msghdr *msg, int *fds, int max)
{
	const char *end = (const char *)msg->msg_control + msg->msg_controllen;
	const char *data;
	struct cmsghdr *c;
	size_t bytes, i;
	int count = 0, fd;

	for (c = CMSG_FIRSTHDR(msg); c != NULL; c = CMSG_NXTHDR(msg, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		data = (const char *)CMSG_DATA(c);
		bytes = c->cmsg_len - CMSG_LEN(0);
		/* Never trust a length past what the kernel filled in. */
		if (data > end)
			continue;
		if (bytes > (size_t)(end - data))
			bytes = (size_t)(end - data);
		for (i = 0; i + sizeof(int) <= bytes; i += sizeof(int)) {
			memcpy(&fd, data + i, sizeof(int));
			if (fd < 0)
				continue;
			if (count < max)
				fds[count] = fd;
			else
				close(fd);
			count++;
		}
	}
	return count;
}

static void
close_fds(const int *fds, int n, int max)
{
	int saved = errno, i;

	for (i = 0; i < n && i < max; i++)
		close(fds[i]);
	errno = saved;
}

enum rp_fdpass_status
rp_fdpass_recv(int sock, void *buf, size_t bufsz, size_t *got, int *fd,
    int *nfds_out, int64_t deadline)
{
	union {
		struct cmsghdr align;
		char buf[CMSG_SPACE(sizeof(int) * RECV_FDS)];
	} ctl;
	struct msghdr msg;
	struct iovec iov;
	ssize_t n;
	int fds[RECV_FDS], nfds;

	*fd = -1;
	*got = 0;
	if (nfds_out != NULL)
		*nfds_out = 0;
	/* With no room for data, a message would read as EOF. */
	if (buf == NULL || bufsz == 0) {
		errno = EINVAL;
		return RP_FDPASS_IO;
	}
	memset(&msg, 0, sizeof(msg));
	iov.iov_base = buf;
	iov.iov_len = bufsz;
	msg.msg_iov = &iov;
	msg.msg_iovlen = 1;
	for (;;) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		msg.msg_flags = 0;
		n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
		if (n >= 0)
			break;
		if (errno == EINTR)
			continue;
		if (errno != EAGAIN && errno != EWOULDBLOCK)
			return RP_FDPASS_IO;
		/* A deadline already past asks for one look, not a poll. */
		if (rp_deadline_passed(deadline)) {
			errno = ETIMEDOUT;
			return RP_FDPASS_TIMEOUT;
		}
		if (rp_io_wait(sock, RP_IO_READ, deadline) < 0) {
			if (errno == ETIMEDOUT)
				return RP_FDPASS_TIMEOUT;
			return RP_FDPASS_IO;
		}
	}
	*got = (size_t)n;
	/* Judge the whole message first; keep at most one fd. */
	nfds = gather_fds(&msg, fds, RECV_FDS);
	if (nfds_out != NULL)
		*nfds_out = nfds;
	if (n == 0) {
		close_fds(fds, nfds, RECV_FDS);
		return RP_FDPASS_EOF;
	}
	if (msg.msg_flags & MSG_CTRUNC) {
		close_fds(fds, nfds, RECV_FDS);
		return RP_FDPASS_TRUNCATED;
	}
	if (nfds == 0)
		return RP_FDPASS_NO_FD;
	if (nfds > 1) {
		close_fds(fds, nfds, RECV_FDS);
		return RP_FDPASS_TOO_MANY_FDS;
	}
	*fd = fds[0];
	return RP_FDPASS_OK;
}

enum rp_give_fail
rp_fdpass_give(int sock, int fd, const uint8_t tok[16], uint64_t *value,
    int64_t deadline, char *why, size_t whysz)
{
	*value = 0;
	if (rp_fdpass_send(sock, fd, tok, 16, deadline) != 0) {
		rp_err_why(why, whysz, "cannot send the fd");
		return RP_GIVE_CHANNEL;
	}
	return RP_GIVE_OK;
}

void
rp_fdpass_take_back(int sock, uint64_t value)
{
	/* What SCM_RIGHTS put in the receiver is its own to close. */
	(void)sock;
	(void)value;
}

void
rp_fdpass_settle(uint64_t value, int accepted)
{
	(void)value;
	(void)accepted;
}

int
rp_fdpass_has_sideband(void)
{
	return 1;
}
