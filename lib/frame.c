/* frame.c — v1 framing: the 5-byte header, blocking reads and writes, and
 * the incremental decoder (see frame.h, 10-wire.md §1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "frame.h"
#include "io.h"

/* Frames up to this size are written from a stack buffer. */
#define FRAME_STACK_WRITE 512

const char *
rp_frame_status_str(enum rp_frame_status st)
{
	switch (st) {
	case RP_FRAME_OK:
		return "ok";
	case RP_FRAME_MORE:
		return "frame not complete yet";
	case RP_FRAME_EOF:
		return "end of stream";
	case RP_FRAME_BAD_VERSION:
		return "unsupported framing version";
	case RP_FRAME_TOO_LARGE:
		return "frame exceeds its size cap";
	case RP_FRAME_INCOMPLETE:
		return "incomplete frame";
	case RP_FRAME_TIMEOUT:
		return "timed out reading frame";
	case RP_FRAME_IO:
		return "read error";
	}
	return "unknown frame status";
}

void
rp_frame_header(uint8_t hdr[RP_FRAME_HEADER], uint32_t len)
{
	hdr[0] = RP_FRAME_VERSION;
	hdr[1] = (uint8_t)(len & 0xff);
	hdr[2] = (uint8_t)((len >> 8) & 0xff);
	hdr[3] = (uint8_t)((len >> 16) & 0xff);
	hdr[4] = (uint8_t)((len >> 24) & 0xff);
}

static uint32_t
header_len(const uint8_t hdr[RP_FRAME_HEADER])
{
	return (uint32_t)hdr[1] | (uint32_t)hdr[2] << 8 |
	    (uint32_t)hdr[3] << 16 | (uint32_t)hdr[4] << 24;
}

static size_t
clamp_cap(size_t cap)
{
	return cap > RP_FRAME_MAX ? RP_FRAME_MAX : cap;
}

int
rp_frame_write(int fd, const void *body, size_t len, int64_t deadline)
{
	uint8_t stackbuf[RP_FRAME_HEADER + FRAME_STACK_WRITE], *p;
	int r;

	if (len > RP_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	/* One write of header and body, so a peer never sees a lone header
	 * and the frame costs one syscall.  lib/ stays portable, so rather
	 * than writev we copy into one buffer. */
	p = len <= FRAME_STACK_WRITE ? stackbuf : malloc(RP_FRAME_HEADER + len);
	if (p == NULL) {
		/* Still correct on a stream, only in two writes. */
		rp_frame_header(stackbuf, (uint32_t)len);
		if (rp_io_write_full(fd, stackbuf, RP_FRAME_HEADER,
		    deadline) != 0)
			return -1;
		return rp_io_write_full(fd, body, len, deadline);
	}
	rp_frame_header(p, (uint32_t)len);
	if (len > 0)
		memcpy(p + RP_FRAME_HEADER, body, len);
	r = rp_io_write_full(fd, p, RP_FRAME_HEADER + len, deadline);
	if (p != stackbuf) {
		int saved = errno;

		free(p);
		errno = saved;
	}
	return r;
}

/*
 * One read of at most len bytes under the deadline: it returns as soon as
 * anything is there (rp_io_read_full waits for all of len).  Polls first
 * when the deadline is finite, so a blocking fd cannot hold us past it.
 * Returns the count, 0 at EOF, or -1 with errno.
 */
static ssize_t
read_once(int fd, uint8_t *buf, size_t len, int64_t deadline)
{
	ssize_t n;

	for (;;) {
		if (deadline != RP_DEADLINE_NEVER &&
		    rp_io_wait(fd, RP_IO_READ, deadline) < 0)
			return -1;
		n = rp_io_read_some(fd, buf, len);
		if (n >= 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			return n;
		if (rp_io_wait(fd, RP_IO_READ, deadline) < 0)
			return -1;
	}
}

static enum rp_frame_status
read_error(void)
{
	return errno == ETIMEDOUT ? RP_FRAME_TIMEOUT : RP_FRAME_IO;
}

enum rp_frame_status
rp_frame_read(int fd, size_t cap, int64_t deadline, uint8_t **body,
    size_t *len)
{
	uint8_t hdr[RP_FRAME_HEADER], *p = NULL;
	uint32_t blen;
	ssize_t n, m;

	*body = NULL;
	*len = 0;
	cap = clamp_cap(cap);
	/* Every frame is at least a header long, so asking for a whole one
	 * never takes a byte of what follows; and the first read returns as
	 * soon as anything is there, so a wrong version byte is reported
	 * the moment it arrives, without waiting for a length that may
	 * never come. */
	n = read_once(fd, hdr, RP_FRAME_HEADER, deadline);
	if (n < 0)
		return read_error();
	if (n == 0)
		return RP_FRAME_EOF;
	if (hdr[0] != RP_FRAME_VERSION)
		return RP_FRAME_BAD_VERSION;
	m = rp_io_read_full(fd, hdr + n, RP_FRAME_HEADER - (size_t)n,
	    deadline);
	if (m < 0)
		return read_error();
	if (n + m < RP_FRAME_HEADER)
		return RP_FRAME_INCOMPLETE;
	blen = header_len(hdr);
	/* The cap is checked before anything is allocated or read. */
	if (blen > cap)
		return RP_FRAME_TOO_LARGE;
	if (blen > 0) {
		p = malloc(blen);
		if (p == NULL)
			return RP_FRAME_IO;
		n = rp_io_read_full(fd, p, blen, deadline);
		if (n < 0 || (size_t)n < blen) {
			int saved = errno;

			free(p);
			errno = saved;
			return n < 0 ? read_error() : RP_FRAME_INCOMPLETE;
		}
	}
	*body = p;
	*len = blen;
	return RP_FRAME_OK;
}

/* ------------------------------------------------------------- decoder */

void
rp_frame_decoder_init(struct rp_frame_decoder *d, size_t cap)
{
	memset(d, 0, sizeof(*d));
	d->cap = clamp_cap(cap);
}

/*
 * The decoder keeps no separate state field: where it stands follows from
 * what it holds, so an error stays reported until the caller resets.
 */
static enum rp_frame_status
decoder_state(const struct rp_frame_decoder *d)
{
	if (d->hdr_have >= 1 && d->hdr[0] != RP_FRAME_VERSION)
		return RP_FRAME_BAD_VERSION;
	if (d->hdr_have < RP_FRAME_HEADER)
		return RP_FRAME_MORE;
	if (d->len > d->cap)
		return RP_FRAME_TOO_LARGE;
	return d->have == d->len ? RP_FRAME_OK : RP_FRAME_MORE;
}

/* Header bytes arrived: take what the header still needs. */
static enum rp_frame_status
decoder_header(struct rp_frame_decoder *d, const uint8_t *data, size_t n,
    size_t *used)
{
	while (d->hdr_have < RP_FRAME_HEADER && *used < n) {
		d->hdr[d->hdr_have++] = data[(*used)++];
		if (d->hdr_have == 1 && d->hdr[0] != RP_FRAME_VERSION) {
			d->bad_byte = d->hdr[0];
			return RP_FRAME_BAD_VERSION;
		}
	}
	if (d->hdr_have < RP_FRAME_HEADER)
		return RP_FRAME_MORE;
	d->len = header_len(d->hdr);
	return decoder_state(d);
}

/* Allocate the body once there is something to put in it, so a peer that
 * announces a length and then stalls holds no more than the decoder. */
static int
decoder_alloc(struct rp_frame_decoder *d)
{
	if (d->body == NULL && d->len > 0) {
		d->body = malloc(d->len);
		if (d->body == NULL)
			return -1;
	}
	return 0;
}

enum rp_frame_status
rp_frame_decoder_feed(struct rp_frame_decoder *d, const uint8_t *data,
    size_t n, size_t *used)
{
	enum rp_frame_status st;
	size_t take;

	*used = 0;
	st = decoder_state(d);
	if (st != RP_FRAME_MORE)
		return st;
	if (n == 0)
		return d->hdr_have == 0 ? RP_FRAME_EOF : RP_FRAME_INCOMPLETE;
	if (d->hdr_have < RP_FRAME_HEADER) {
		st = decoder_header(d, data, n, used);
		if (st != RP_FRAME_MORE || *used == n)
			return st;
	}
	if (decoder_alloc(d) != 0)
		return RP_FRAME_IO;
	take = d->len - d->have;
	if (take > n - *used)
		take = n - *used;
	memcpy(d->body + d->have, data + *used, take);
	d->have += (uint32_t)take;
	*used += take;
	return decoder_state(d);
}

enum rp_frame_status
rp_frame_decoder_read(struct rp_frame_decoder *d, int fd)
{
	enum rp_frame_status st;
	uint8_t hdr[RP_FRAME_HEADER];
	size_t want, used;
	ssize_t n;

	for (;;) {
		st = decoder_state(d);
		if (st != RP_FRAME_MORE)
			return st;
		if (d->hdr_have < RP_FRAME_HEADER) {
			/* Every frame is at least a header long, so asking
			 * for the rest of it never takes a byte of the next
			 * one.  (After a bad first byte the rest of that read
			 * is dropped: such a stream is unusable anyway.) */
			want = RP_FRAME_HEADER - d->hdr_have;
			n = rp_io_read_some(fd, hdr, want);
			if (n > 0)
				st = rp_frame_decoder_feed(d, hdr, (size_t)n,
				    &used);
		} else {
			/* Straight into the body: no copy. */
			if (decoder_alloc(d) != 0)
				return RP_FRAME_IO;
			want = d->len - d->have;
			n = rp_io_read_some(fd, d->body + d->have, want);
			if (n > 0) {
				d->have += (uint32_t)n;
				st = decoder_state(d);
			}
		}
		if (n == 0)
			return rp_frame_decoder_feed(d, NULL, 0, &used);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    RP_FRAME_MORE : RP_FRAME_IO;
		if (st != RP_FRAME_MORE)
			return st;
		/* A short read means the socket is drained for now; the
		 * next readiness event brings us back. */
		if ((size_t)n < want)
			return RP_FRAME_MORE;
	}
}

enum rp_frame_status
rp_frame_decoder_read_ahead(struct rp_frame_decoder *d, int fd, uint8_t *buf,
    size_t bufsz, size_t *extra)
{
	enum rp_frame_status st;
	size_t used;
	ssize_t n;

	*extra = 0;
	for (;;) {
		st = decoder_state(d);
		if (st != RP_FRAME_MORE)
			return st;
		n = rp_io_read_some(fd, buf, bufsz);
		if (n == 0)
			return rp_frame_decoder_feed(d, NULL, 0, &used);
		if (n < 0)
			return errno == EAGAIN || errno == EWOULDBLOCK ?
			    RP_FRAME_MORE : RP_FRAME_IO;
		st = rp_frame_decoder_feed(d, buf, (size_t)n, &used);
		if (st == RP_FRAME_OK || st == RP_FRAME_TOO_LARGE) {
			*extra = (size_t)n - used;
			memmove(buf, buf + used, *extra);
			return st;
		}
		if (st != RP_FRAME_MORE || (size_t)n < bufsz)
			return st;
	}
}

uint8_t *
rp_frame_decoder_take(struct rp_frame_decoder *d, size_t *len)
{
	uint8_t *body;
	size_t cap = d->cap;

	if (decoder_state(d) != RP_FRAME_OK) {
		*len = 0;
		errno = EINVAL;
		return NULL;
	}
	body = d->body;
	*len = d->len;
	memset(d, 0, sizeof(*d));
	d->cap = cap;
	return body;
}

void
rp_frame_decoder_reset(struct rp_frame_decoder *d)
{
	size_t cap = d->cap;

	free(d->body);
	memset(d, 0, sizeof(*d));
	d->cap = cap;
}
