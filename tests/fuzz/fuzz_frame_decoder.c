/*
 * fuzz_frame_decoder — the incremental frame decoder.
 *
 * Input: [cap selector][split seed][stream...].  The stream is decoded
 * three ways: fed whole, fed in chunks whose sizes come from the seed, and
 * read from a non-blocking socket with rp_frame_decoder_read.  All three
 * must see the same frames and end the same way; no body may exceed the
 * cap, and every body must be the bytes that follow its header.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "check.h"
#include "frame.h"

/* Bodies are not kept: their offsets in the stream say it all. */
struct run {
	size_t n, max;
	size_t *off, *len;            /* body offset and length in the input */
	enum rp_frame_status end;
};

static const size_t caps[] = { 0, 1, 5, 16, 255, 256, RP_FRAME_SMALL_MAX,
	RP_FRAME_HELLO_MAX, RP_FRAME_MAX };

static void
run_init(struct run *r, size_t size)
{
	r->n = 0;
	r->max = size / RP_FRAME_HEADER + 1;
	r->off = calloc(r->max, sizeof(*r->off));
	r->len = calloc(r->max, sizeof(*r->len));
	CHECK(r->off != NULL && r->len != NULL);
}

static void
run_free(struct run *r)
{
	free(r->off);
	free(r->len);
}

/* A frame came out of d; its header started at stream offset start. */
static void
record(struct run *r, struct rp_frame_decoder *d, const uint8_t *in,
    size_t size, size_t start, size_t cap)
{
	uint8_t *body;
	size_t len;

	body = rp_frame_decoder_take(d, &len);
	CHECK(len <= cap);
	CHECK(start + RP_FRAME_HEADER + len <= size);
	CHECK((body == NULL) == (len == 0));
	if (len > 0)
		CHECK(memcmp(body, in + start + RP_FRAME_HEADER, len) == 0);
	free(body);
	CHECK(r->n < r->max);
	r->off[r->n] = start;
	r->len[r->n] = len;
	r->n++;
	/* A taken decoder is clean again. */
	CHECK(d->hdr_have == 0 && d->have == 0 && d->body == NULL);
}

/* Feed the stream in pieces; chunk == 0 means all at once. */
static void
feed(struct run *r, const uint8_t *in, size_t size, size_t cap,
    unsigned seed, int chunked)
{
	struct rp_frame_decoder d;
	enum rp_frame_status st;
	size_t off = 0, start = 0, used, give;
	uint32_t x = seed * 2654435761u + 1;

	rp_frame_decoder_init(&d, cap);
	for (;;) {
		give = size - off;
		if (chunked && give > 0) {
			x = x * 1103515245u + 12345u;
			/* Mostly tiny pieces, so headers split everywhere;
			 * now and then a big one. */
			size_t c = (x >> 16) % 8 == 0 ? 1 + (x >> 8) % 4096 :
			    1 + (x >> 16) % 7;

			if (give > c)
				give = c;
		}
		st = rp_frame_decoder_feed(&d, in + off, give, &used);
		CHECK(used <= give);
		off += used;
		if (st == RP_FRAME_OK) {
			record(r, &d, in, size, start, cap);
			start = off;
			continue;
		}
		if (st == RP_FRAME_MORE) {
			CHECK(give > 0 && used == give);
			continue;
		}
		break;
	}
	CHECK(st == RP_FRAME_EOF || st == RP_FRAME_INCOMPLETE ||
	    st == RP_FRAME_BAD_VERSION || st == RP_FRAME_TOO_LARGE);
	if (st == RP_FRAME_EOF)
		CHECK(off == size && start == size);
	if (st == RP_FRAME_BAD_VERSION)
		CHECK(in[start] != RP_FRAME_VERSION && d.bad_byte == in[start] &&
		    off == start + 1);
	if (st == RP_FRAME_TOO_LARGE)
		CHECK(off == start + RP_FRAME_HEADER && d.body == NULL);
	/* Errors are sticky (EOF and INCOMPLETE only describe the feed of
	 * zero bytes that reported them). */
	if (st == RP_FRAME_BAD_VERSION || st == RP_FRAME_TOO_LARGE)
		CHECK(rp_frame_decoder_feed(&d, in, size, &used) == st &&
		    used == 0);
	r->end = st;
	rp_frame_decoder_reset(&d);
}

/* The same stream from a socket, through rp_frame_decoder_read. */
static void
via_fd(struct run *r, const uint8_t *in, size_t size, size_t cap)
{
	struct rp_frame_decoder d;
	enum rp_frame_status st;
	size_t start = 0, spins = 0;
	int sv[2];

	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0,
	    sv) == 0);
	CHECK(size == 0 || send(sv[0], in, size, 0) == (ssize_t)size);
	CHECK(shutdown(sv[0], SHUT_WR) == 0);
	rp_frame_decoder_init(&d, cap);
	for (;;) {
		CHECK(spins++ < 2 * size + 16);
		st = rp_frame_decoder_read(&d, sv[1]);
		if (st == RP_FRAME_OK) {
			record(r, &d, in, size, start, cap);
			start += RP_FRAME_HEADER + r->len[r->n - 1];
			continue;
		}
		if (st == RP_FRAME_MORE)
			continue;
		break;
	}
	r->end = st;
	/* What the decoder left unread is exactly the rest of the stream,
	 * unless a bad version byte ended it (the header read may take up
	 * to four bytes past it). */
	if (st == RP_FRAME_TOO_LARGE || st == RP_FRAME_EOF) {
		uint8_t tmp[64];
		size_t rest = 0;
		ssize_t n;

		while ((n = recv(sv[1], tmp, sizeof(tmp), MSG_DONTWAIT)) > 0)
			rest += (size_t)n;
		CHECK(rest == size - start - (st == RP_FRAME_TOO_LARGE ?
		    RP_FRAME_HEADER : 0));
	}
	rp_frame_decoder_reset(&d);
	close(sv[0]);
	close(sv[1]);
}

static void
same(const struct run *a, const struct run *b)
{
	CHECK(a->n == b->n);
	CHECK(a->end == b->end);
	CHECK(memcmp(a->off, b->off, a->n * sizeof(*a->off)) == 0);
	CHECK(memcmp(a->len, b->len, a->n * sizeof(*a->len)) == 0);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct run whole, pieces, fd;
	size_t cap;
	unsigned seed;

	if (size < 2)
		return 0;
	cap = caps[data[0] % (sizeof(caps) / sizeof(caps[0]))];
	seed = data[1];
	data += 2;
	size -= 2;
	run_init(&whole, size);
	run_init(&pieces, size);
	feed(&whole, data, size, cap, seed, 0);
	feed(&pieces, data, size, cap, seed, 1);
	same(&whole, &pieces);
	/* Small enough to sit in a socket buffer whole. */
	if (size <= 16384) {
		run_init(&fd, size);
		via_fd(&fd, data, size, cap);
		same(&whole, &fd);
		run_free(&fd);
	}
	run_free(&whole);
	run_free(&pieces);
	return 0;
}
