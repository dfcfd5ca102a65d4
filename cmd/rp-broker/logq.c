/* logq.c — standard error that never blocks the loop (logq.h). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "io.h"
#include "logq.h"
#include "pty.h"

/* Room kept for the "N lines dropped" line. */
#define NOTE_MAX 96

int
logq_open(struct logq *q, int fd)
{
	int nb;

	q->fd = -1;
	q->len = 0;
	q->dropped = q->dropped_total = q->written = 0;
	q->broken = 0;
	if ((q->sock = rp_fd_is_socket(fd)) < 0)
		return -1;
	if ((q->fd = rp_pty_out_fd(fd, &nb)) < 0)
		return -1;
	return 0;
}

void
logq_close(struct logq *q)
{
	rp_fd_close(&q->fd);
	q->len = 0;
}

int
logq_pending(const struct logq *q)
{
	return q->fd >= 0 && !q->broken && q->len > 0;
}

static ssize_t
write_now(struct logq *q)
{
	ssize_t n;

	do
		n = q->sock ? rp_io_send_nowait(q->fd, q->buf, q->len) :
		    rp_io_write_some(q->fd, q->buf, q->len);
	while (n < 0 && errno == EINTR);
	return n;
}

void
logq_flush(struct logq *q)
{
	ssize_t n;

	while (logq_pending(q)) {
		n = write_now(q);
		if (n < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK) {
				/* Nobody to tell: the reader is gone. */
				q->broken = 1;
				q->len = 0;
			}
			return;
		}
		if (n == 0)
			return;
		memmove(q->buf, q->buf + n, q->len - (size_t)n);
		q->len -= (size_t)n;
	}
}

int
logq_put(struct logq *q, const char *line, size_t len)
{
	char note[NOTE_MAX];
	int nl = 0;

	if (q->fd < 0 || q->broken)
		return -1;
	if (q->dropped > 0)
		nl = snprintf(note, sizeof(note), "rp-broker: %llu log lines "
		    "dropped: standard error was not read fast enough\n",
		    (unsigned long long)q->dropped);
	if (nl < 0)
		nl = 0;
	if (q->len + (size_t)nl + len + NOTE_MAX > LOGQ_CAP) {
		logq_flush(q);
		if (q->len + (size_t)nl + len + NOTE_MAX > LOGQ_CAP) {
			q->dropped++;
			q->dropped_total++;
			return -1;
		}
	}
	memcpy(q->buf + q->len, note, (size_t)nl);
	q->len += (size_t)nl;
	q->dropped = 0;
	memcpy(q->buf + q->len, line, len);
	q->len += len;
	q->written++;
	logq_flush(q);
	return 0;
}
