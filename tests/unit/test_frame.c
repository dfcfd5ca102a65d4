/* Unit tests for frame: the header, blocking reads and writes, and the
 * incremental decoder, with every status of 10-wire.md §1. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "frame.h"
#include "io.h"
#include "t.h"

static void
pair(int sv[2], int nonblock)
{
	int type = SOCK_STREAM | SOCK_CLOEXEC | (nonblock ? SOCK_NONBLOCK : 0);

	if (socketpair(AF_UNIX, type, 0, sv) != 0)
		t_fail(__FILE__, __LINE__, "socketpair: %s", strerror(errno));
}

static void
put(int fd, const void *p, size_t n)
{
	T_EQ(rp_io_write_full(fd, p, n, rp_deadline_in(5000)), 0);
}

/* Header bytes for a body of len. */
static void
put_header(int fd, uint32_t len)
{
	uint8_t h[RP_FRAME_HEADER];

	rp_frame_header(h, len);
	put(fd, h, sizeof(h));
}

/* How many bytes are waiting in fd right now (non-destructive). */
static ssize_t
pending(int fd, uint8_t *buf, size_t cap)
{
	ssize_t n = recv(fd, buf, cap, MSG_PEEK | MSG_DONTWAIT);

	return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK) ? 0 : n;
}

static void
test_header_encoding(void)
{
	uint8_t h[RP_FRAME_HEADER];
	static const uint8_t want[] = { 0x01, 0x04, 0x03, 0x02, 0x01 };
	static const uint8_t want16m[] = { 0x01, 0x00, 0x00, 0x00, 0x01 };
	int st;

	rp_frame_header(h, 0x01020304u);
	T_MEM(h, want, sizeof(want));
	rp_frame_header(h, RP_FRAME_MAX);
	T_MEM(h, want16m, sizeof(want16m));
	for (st = RP_FRAME_OK; st <= RP_FRAME_IO; st++) {
		const char *s = rp_frame_status_str((enum rp_frame_status)st);

		T_OK(s != NULL && s[0] != '\0');
	}
	T_STR(rp_frame_status_str(RP_FRAME_INCOMPLETE), "incomplete frame");
	T_STR(rp_frame_status_str((enum rp_frame_status)99),
	    "unknown frame status");
}

static void
test_write_read_roundtrip(void)
{
	int sv[2];
	uint8_t *body;
	size_t len;
	uint8_t rest[16];

	pair(sv, 0);
	T_EQ(rp_frame_write(sv[0], "hello", 5, rp_deadline_in(1000)), 0);
	T_EQ(rp_frame_write(sv[0], "xy", 2, rp_deadline_in(1000)), 0);
	put(sv[0], "\x01\x00\x00\x00\x00", 5);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_OK);
	T_EQ(len, 5);
	T_MEM(body, "hello", 5);
	free(body);
	/* Exactly one frame was consumed: the next is intact. */
	T_EQ(pending(sv[1], rest, sizeof(rest)), 7 + 5);
	T_MEM(rest, "\x01\x02\x00\x00\x00xy", 7);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_OK);
	T_EQ(len, 2);
	T_MEM(body, "xy", 2);
	free(body);
	/* A zero-length body is a valid frame with no allocation. */
	body = (uint8_t *)1;
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_OK);
	T_OK(body == NULL);
	T_EQ(len, 0);
	close(sv[0]);
	/* Clean EOF before the first byte. */
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_EOF);
	T_OK(body == NULL);
	close(sv[1]);
}

static void
test_write_is_one_send(void)
{
	int sv[2];
	uint8_t buf[4096], body[600];
	ssize_t n;

	/* A seqpacket socket keeps write boundaries: one record proves one
	 * write of header and body, for a stack-sized and a heap frame. */
	T_EQ(socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv), 0);
	T_EQ(rp_frame_write(sv[0], "abc", 3, rp_deadline_in(1000)), 0);
	n = recv(sv[1], buf, sizeof(buf), 0);
	T_EQ(n, 8);
	T_MEM(buf, "\x01\x03\x00\x00\x00" "abc", 8);
	memset(body, 'z', sizeof(body));
	T_EQ(rp_frame_write(sv[0], body, sizeof(body), rp_deadline_in(1000)),
	    0);
	n = recv(sv[1], buf, sizeof(buf), 0);
	T_EQ(n, RP_FRAME_HEADER + sizeof(body));
	T_MEM(buf, "\x01\x58\x02\x00\x00", 5);
	T_MEM(buf + 5, body, sizeof(body));
	close(sv[0]);
	close(sv[1]);
}

static void
test_write_refuses_over_16m(void)
{
	int sv[2];
	uint8_t tmp[8];
	static const uint8_t dummy[1];

	pair(sv, 1);
	errno = 0;
	/* The length is refused before the body is ever touched. */
	T_EQ(rp_frame_write(sv[0], dummy, (size_t)RP_FRAME_MAX + 1,
	    rp_deadline_in(1000)), -1);
	T_EQ(errno, EMSGSIZE);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 0);
	close(sv[0]);
	close(sv[1]);
}

static void
test_write_and_read_16m(void)
{
	int sv[2], st;
	uint8_t *big, *body;
	size_t len;
	pid_t pid;

	big = malloc(RP_FRAME_MAX);
	T_OK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 0x5a, RP_FRAME_MAX);
	big[RP_FRAME_MAX - 1] = 0xa5;
	pair(sv, 0);
	pid = fork();
	if (pid == 0) {
		close(sv[1]);
		_exit(rp_frame_write(sv[0], big, RP_FRAME_MAX,
		    rp_deadline_in(20000)) == 0 ? 0 : 1);
	}
	close(sv[0]);
	/* len == cap is allowed, at the largest cap there is. */
	T_EQ(rp_frame_read(sv[1], RP_FRAME_MAX, rp_deadline_in(20000), &body,
	    &len), RP_FRAME_OK);
	T_EQ(len, RP_FRAME_MAX);
	T_OK(body != NULL && memcmp(body, big, RP_FRAME_MAX) == 0);
	free(body);
	free(big);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_EQ(st, 0);
	close(sv[1]);
}

static void
test_write_errors(void)
{
	int sv[2];
	static uint8_t big[1 << 20];

	signal(SIGPIPE, SIG_DFL);
	pair(sv, 0);
	close(sv[1]);
	errno = 0;
	T_EQ(rp_frame_write(sv[0], "x", 1, rp_deadline_in(1000)), -1);
	T_EQ(errno, EPIPE);
	close(sv[0]);
	/* Nobody reads: the deadline ends the write. */
	pair(sv, 1);
	errno = 0;
	T_EQ(rp_frame_write(sv[0], big, sizeof(big), rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	close(sv[0]);
	close(sv[1]);
}

static void
test_read_bad_version_at_once(void)
{
	int sv[2];
	uint8_t *body = NULL, tmp[8];
	size_t len = 1;
	int64_t t0;

	pair(sv, 0);
	/* Only the first byte is sent: the status must come without waiting
	 * for the rest of a header (that would end in TIMEOUT instead). */
	put(sv[0], "\x02", 1);
	t0 = rp_now_ms();
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(5000), &body, &len),
	    RP_FRAME_BAD_VERSION);
	T_OK(rp_now_ms() - t0 < 4000);
	T_OK(body == NULL);
	T_EQ(len, 0);
	/* 0x00 is as wrong as any other byte.  (The header read may have
	 * taken up to four bytes after it: such a stream is unusable.) */
	put(sv[0], "\x00\x05\x00\x00\x00" "abc", 8);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(5000), &body, &len),
	    RP_FRAME_BAD_VERSION);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 3);
	close(sv[0]);
	close(sv[1]);
}

static void
test_read_cap(void)
{
	int sv[2];
	uint8_t *body, *big, tmp[256];
	size_t len;

	big = calloc(1, RP_FRAME_HELLO_MAX + 100);
	T_OK(big != NULL);
	if (big == NULL)
		return;
	memset(big, 'b', RP_FRAME_HELLO_MAX + 100);
	pair(sv, 0);
	/* len == cap: allowed. */
	put_header(sv[0], RP_FRAME_HELLO_MAX);
	put(sv[0], big, RP_FRAME_HELLO_MAX);
	T_EQ(rp_frame_read(sv[1], RP_FRAME_HELLO_MAX, rp_deadline_in(5000),
	    &body, &len), RP_FRAME_OK);
	T_EQ(len, RP_FRAME_HELLO_MAX);
	free(body);
	/* cap + 1: refused from the header alone; the body bytes that
	 * followed are all still in the socket. */
	put_header(sv[0], RP_FRAME_HELLO_MAX + 1);
	put(sv[0], "BODYBYTES", 9);
	body = (uint8_t *)1;
	T_EQ(rp_frame_read(sv[1], RP_FRAME_HELLO_MAX, rp_deadline_in(5000),
	    &body, &len), RP_FRAME_TOO_LARGE);
	T_OK(body == NULL);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 9);
	T_MEM(tmp, "BODYBYTES", 9);
	T_EQ(recv(sv[1], tmp, sizeof(tmp), 0), 9);
	/* The announced length alone decides, even with no body at all:
	 * 0xffffffff and a cap above RP_FRAME_MAX (clamped to it). */
	put(sv[0], "\x01\xff\xff\xff\xff", 5);
	T_EQ(rp_frame_read(sv[1], SIZE_MAX, rp_deadline_in(5000), &body,
	    &len), RP_FRAME_TOO_LARGE);
	put_header(sv[0], RP_FRAME_MAX + 1);
	T_EQ(rp_frame_read(sv[1], SIZE_MAX, rp_deadline_in(5000), &body,
	    &len), RP_FRAME_TOO_LARGE);
	/* A small cap. */
	put_header(sv[0], RP_FRAME_SMALL_MAX + 1);
	T_EQ(rp_frame_read(sv[1], RP_FRAME_SMALL_MAX, rp_deadline_in(5000),
	    &body, &len), RP_FRAME_TOO_LARGE);
	put_header(sv[0], 1);
	T_EQ(rp_frame_read(sv[1], 0, rp_deadline_in(5000), &body, &len),
	    RP_FRAME_TOO_LARGE);
	free(big);
	close(sv[0]);
	close(sv[1]);
}

/* Write `bytes`, close, and expect `want` from rp_frame_read. */
static void
eof_case(const char *bytes, size_t n, enum rp_frame_status want)
{
	int sv[2];
	uint8_t *body = (uint8_t *)1;
	size_t len = 1;

	pair(sv, 0);
	if (n > 0)
		put(sv[0], bytes, n);
	close(sv[0]);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    want);
	T_OK(body == NULL);
	T_EQ(len, 0);
	close(sv[1]);
}

static void
test_read_eof_cases(void)
{
	eof_case("", 0, RP_FRAME_EOF);
	eof_case("\x01", 1, RP_FRAME_INCOMPLETE);
	eof_case("\x01\x05\x00", 3, RP_FRAME_INCOMPLETE);
	eof_case("\x01\x05\x00\x00", 4, RP_FRAME_INCOMPLETE);
	eof_case("\x01\x05\x00\x00\x00", 5, RP_FRAME_INCOMPLETE);
	eof_case("\x01\x05\x00\x00\x00" "abcd", 9, RP_FRAME_INCOMPLETE);
	eof_case("\x03", 1, RP_FRAME_BAD_VERSION);
}

static void
test_read_deadline_blocking(void)
{
	int sv[2];
	uint8_t *body, tmp[8];
	size_t len;
	int64_t t0;

	/* A blocking socket: the deadline must still end the read. */
	pair(sv, 0);
	t0 = rp_now_ms();
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(50), &body, &len),
	    RP_FRAME_TIMEOUT);
	T_OK(rp_now_ms() - t0 >= 50);
	T_OK(rp_now_ms() - t0 < 4000);
	/* A trickling peer cannot extend it: part of a header, then part
	 * of a body, each time the absolute deadline holds. */
	put(sv[0], "\x01\x04", 2);
	t0 = rp_now_ms();
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(50), &body, &len),
	    RP_FRAME_TIMEOUT);
	T_OK(rp_now_ms() - t0 < 4000);
	close(sv[0]);
	close(sv[1]);
	pair(sv, 0);
	put(sv[0], "\x01\x04\x00\x00\x00" "ab", 7);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(50), &body, &len),
	    RP_FRAME_TIMEOUT);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 0);
	/* Non-blocking works the same way. */
	close(sv[0]);
	close(sv[1]);
	pair(sv, 1);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(30), &body, &len),
	    RP_FRAME_TIMEOUT);
	put(sv[0], "\x01\x02\x00\x00\x00" "ok", 7);
	T_EQ(rp_frame_read(sv[1], 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_OK);
	T_EQ(len, 2);
	free(body);
	close(sv[0]);
	close(sv[1]);
}

static void
test_read_io_error(void)
{
	uint8_t *body;
	size_t len;
	int fd;

	errno = 0;
	T_EQ(rp_frame_read(-1, 64, RP_DEADLINE_NEVER, &body, &len),
	    RP_FRAME_IO);
	T_EQ(errno, EBADF);
	/* poll(2) says a directory is readable; read(2) says EISDIR. */
	fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	T_OK(fd >= 0);
	errno = 0;
	T_EQ(rp_frame_read(fd, 64, rp_deadline_in(1000), &body, &len),
	    RP_FRAME_IO);
	T_EQ(errno, EISDIR);
	close(fd);
}

/* ------------------------------------------------------------- decoder */

static void
test_decoder_trickle(void)
{
	struct rp_frame_decoder d;
	static const uint8_t in[] = "\x01\x03\x00\x00\x00" "abc"
	    "\x01\x00\x00\x00\x00"
	    "\x01\x01\x00\x00\x00" "Z";
	size_t i, used, len, frames = 0;
	enum rp_frame_status st;
	uint8_t *body;

	rp_frame_decoder_init(&d, 16);
	T_EQ(sizeof(d) <= 48, 1);
	for (i = 0; i < sizeof(in) - 1; i++) {
		st = rp_frame_decoder_feed(&d, in + i, 1, &used);
		T_EQ(used, 1);
		if (i == 7 || i == 12 || i == 18) {
			T_EQ(st, RP_FRAME_OK);
			body = rp_frame_decoder_take(&d, &len);
			if (frames == 0) {
				T_EQ(len, 3);
				T_OK(body != NULL && memcmp(body, "abc", 3) == 0);
			} else if (frames == 1) {
				T_EQ(len, 0);
				T_OK(body == NULL);
			} else {
				T_EQ(len, 1);
				T_OK(body != NULL && body[0] == 'Z');
			}
			free(body);
			frames++;
		} else {
			T_EQ(st, RP_FRAME_MORE);
			/* Nothing is allocated before a header is whole. */
			if (d.hdr_have < RP_FRAME_HEADER)
				T_OK(d.body == NULL);
		}
	}
	T_EQ(frames, 3);
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_EOF);
	T_EQ(used, 0);
	rp_frame_decoder_reset(&d);
}

static void
test_decoder_back_to_back(void)
{
	struct rp_frame_decoder d;
	static const uint8_t in[] = "\x01\x02\x00\x00\x00" "hi"
	    "\x01\x03\x00\x00\x00" "you"
	    "\x01\x01\x00";
	size_t used, off = 0, len;
	uint8_t *body;

	rp_frame_decoder_init(&d, 64);
	/* One frame at a time, never a byte of the next. */
	T_EQ(rp_frame_decoder_feed(&d, in, sizeof(in) - 1, &used),
	    RP_FRAME_OK);
	T_EQ(used, 7);
	/* Fed again without take: still OK, nothing consumed. */
	T_EQ(rp_frame_decoder_feed(&d, in + 7, sizeof(in) - 8, &used),
	    RP_FRAME_OK);
	T_EQ(used, 0);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 2);
	T_OK(body != NULL && memcmp(body, "hi", 2) == 0);
	free(body);
	off = 7;
	T_EQ(rp_frame_decoder_feed(&d, in + off, sizeof(in) - 1 - off, &used),
	    RP_FRAME_OK);
	T_EQ(used, 8);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 3);
	T_OK(body != NULL && memcmp(body, "you", 3) == 0);
	free(body);
	off += used;
	T_EQ(rp_frame_decoder_feed(&d, in + off, sizeof(in) - 1 - off, &used),
	    RP_FRAME_MORE);
	T_EQ(used, 3);
	/* EOF inside a header. */
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_INCOMPLETE);
	rp_frame_decoder_reset(&d);
	T_EQ(d.hdr_have, 0);
	T_EQ(d.cap, 64);
}

static void
test_decoder_bad_version(void)
{
	struct rp_frame_decoder d;
	size_t used, len;
	uint8_t *body;

	rp_frame_decoder_init(&d, 64);
	T_EQ(rp_frame_decoder_feed(&d, (const uint8_t *)"\x7f\x01\x00", 3,
	    &used), RP_FRAME_BAD_VERSION);
	T_EQ(used, 1);
	T_EQ(d.bad_byte, 0x7f);
	/* Sticky until reset. */
	T_EQ(rp_frame_decoder_feed(&d, (const uint8_t *)"\x01", 1, &used),
	    RP_FRAME_BAD_VERSION);
	T_EQ(used, 0);
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_BAD_VERSION);
	errno = 0;
	T_OK(rp_frame_decoder_take(&d, &len) == NULL);
	T_EQ(errno, EINVAL);
	rp_frame_decoder_reset(&d);
	/* After a good frame, the next first byte is checked too. */
	T_EQ(rp_frame_decoder_feed(&d,
	    (const uint8_t *)"\x01\x00\x00\x00\x00\x00", 6, &used),
	    RP_FRAME_OK);
	T_EQ(used, 5);
	body = rp_frame_decoder_take(&d, &len);
	T_OK(body == NULL);
	T_EQ(rp_frame_decoder_feed(&d, (const uint8_t *)"\x00", 1, &used),
	    RP_FRAME_BAD_VERSION);
	T_EQ(d.bad_byte, 0);
	rp_frame_decoder_reset(&d);
}

static void
test_decoder_cap(void)
{
	struct rp_frame_decoder d;
	uint8_t in[5 + 32];
	size_t used, len;
	uint8_t *body;

	memset(in, 'c', sizeof(in));
	rp_frame_header(in, 32);
	rp_frame_decoder_init(&d, 32);
	/* len == cap */
	T_EQ(rp_frame_decoder_feed(&d, in, sizeof(in), &used), RP_FRAME_OK);
	T_EQ(used, sizeof(in));
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 32);
	free(body);
	/* cap + 1: refused once the header is whole, nothing allocated,
	 * and not one body byte consumed. */
	rp_frame_header(in, 33);
	T_EQ(rp_frame_decoder_feed(&d, in, 4, &used), RP_FRAME_MORE);
	T_EQ(rp_frame_decoder_feed(&d, in + 4, sizeof(in) - 4, &used),
	    RP_FRAME_TOO_LARGE);
	T_EQ(used, 1);
	T_OK(d.body == NULL);
	T_EQ(rp_frame_decoder_feed(&d, in, sizeof(in), &used),
	    RP_FRAME_TOO_LARGE);
	T_EQ(used, 0);
	rp_frame_decoder_reset(&d);
	/* Caps above RP_FRAME_MAX are clamped. */
	rp_frame_decoder_init(&d, SIZE_MAX);
	T_EQ(d.cap, RP_FRAME_MAX);
	rp_frame_header(in, RP_FRAME_MAX + 1);
	T_EQ(rp_frame_decoder_feed(&d, in, 5, &used), RP_FRAME_TOO_LARGE);
	rp_frame_decoder_reset(&d);
}

static void
test_decoder_eof(void)
{
	struct rp_frame_decoder d;
	size_t used;

	rp_frame_decoder_init(&d, 64);
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_EOF);
	T_EQ(rp_frame_decoder_feed(&d, (const uint8_t *)"\x01", 1, &used),
	    RP_FRAME_MORE);
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_INCOMPLETE);
	T_EQ(rp_frame_decoder_feed(&d,
	    (const uint8_t *)"\x04\x00\x00\x00" "ab", 6, &used),
	    RP_FRAME_MORE);
	T_EQ(used, 6);
	T_OK(d.body != NULL);
	T_EQ(rp_frame_decoder_feed(&d, NULL, 0, &used), RP_FRAME_INCOMPLETE);
	rp_frame_decoder_reset(&d);
	T_OK(d.body == NULL);
}

static void
test_decoder_read_nonblocking(void)
{
	struct rp_frame_decoder d;
	int sv[2];
	uint8_t *body, tmp[16];
	size_t len;

	pair(sv, 1);
	rp_frame_decoder_init(&d, 64);
	/* Nothing there: EAGAIN is MORE, not an error. */
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_MORE);
	put(sv[0], "\x01\x03", 2);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_MORE);
	T_EQ(d.hdr_have, 2);
	put(sv[0], "\x00\x00\x00" "ab", 5);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_MORE);
	T_EQ(d.have, 2);
	/* The rest of this frame, the whole next one and a partial third:
	 * only this frame's last byte is taken. */
	put(sv[0], "c" "\x01\x01\x00\x00\x00" "d" "\x01\x02", 9);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_OK);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 8);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_OK);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 3);
	T_OK(body != NULL && memcmp(body, "abc", 3) == 0);
	free(body);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_OK);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 2);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 1);
	T_OK(body != NULL && body[0] == 'd');
	free(body);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_MORE);
	close(sv[0]);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_INCOMPLETE);
	rp_frame_decoder_reset(&d);
	/* Clean EOF between frames. */
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_EOF);
	close(sv[1]);
}

/* Reading ahead: one read takes the frame and what follows it; the rest
 * is left at the start of the buffer for the caller. */
static void
test_decoder_read_ahead(void)
{
	struct rp_frame_decoder d;
	uint8_t buf[16], *body, tmp[8];
	size_t len, extra = 99;
	int sv[2];

	pair(sv, 1);
	rp_frame_decoder_init(&d, 64);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_MORE);
	T_EQ(extra, 0);
	/* Part of the header, then the rest, the body and a next frame's
	 * first bytes, in one read. */
	put(sv[0], "\x01\x03", 2);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_MORE);
	put(sv[0], "\x00\x00\x00" "abc" "\x01\x01\x00", 9);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_OK);
	T_EQ(extra, 3);
	T_MEM(buf, "\x01\x01\x00", 3);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 0);
	/* Complete: asked again, nothing is read and nothing is extra. */
	put(sv[0], "z", 1);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_OK);
	T_EQ(extra, 0);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 1);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 3);
	T_OK(body != NULL && memcmp(body, "abc", 3) == 0);
	free(body);
	T_EQ(recv(sv[1], tmp, 1, 0), 1);
	/* A body longer than the buffer: reads go on while they fill it
	 * (5 + 39 + 4 bytes: three full reads). */
	put_header(sv[0], 39);
	put(sv[0], "012345678901234567890123456789012345678" "tail", 43);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_OK);
	T_EQ(extra, 4);
	T_MEM(buf, "tail", 4);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 39);
	T_OK(body != NULL && memcmp(body + 30, "012345678", 9) == 0);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 0);
	free(body);
	/* Too large: what was read of the body is handed back. */
	put_header(sv[0], 65);
	put(sv[0], "bodybody", 8);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_TOO_LARGE);
	T_EQ(extra, 8);
	T_MEM(buf, "bodybody", 8);
	T_EQ(d.len, 65);
	rp_frame_decoder_reset(&d);
	/* A bad first byte: the rest of that read is dropped. */
	put(sv[0], "\x02xyz", 4);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_BAD_VERSION);
	T_EQ(extra, 0);
	T_EQ(d.bad_byte, 2);
	rp_frame_decoder_reset(&d);
	/* End of stream: clean between frames, incomplete inside one. */
	put(sv[0], "\x01\x05", 2);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_MORE);
	close(sv[0]);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_INCOMPLETE);
	rp_frame_decoder_reset(&d);
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_EOF);
	close(sv[1]);
	/* A read error is IO with errno. */
	T_EQ(rp_frame_decoder_read_ahead(&d, sv[1], buf, sizeof(buf), &extra),
	    RP_FRAME_IO);
	T_EQ(errno, EBADF);
}

static void
test_decoder_read_trickle_pipe(void)
{
	struct rp_frame_decoder d;
	int p[2];
	static const uint8_t in[] = "\x01\x04\x00\x00\x00" "wxyz";
	size_t i, len;
	uint8_t *body;

	T_EQ(pipe2(p, O_CLOEXEC | O_NONBLOCK), 0);
	rp_frame_decoder_init(&d, 4);
	for (i = 0; i < sizeof(in) - 1; i++) {
		T_EQ(write(p[1], in + i, 1), 1);
		T_EQ(rp_frame_decoder_read(&d, p[0]),
		    i + 2 == sizeof(in) ? RP_FRAME_OK : RP_FRAME_MORE);
	}
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, 4);
	T_OK(body != NULL && memcmp(body, "wxyz", 4) == 0);
	free(body);
	close(p[1]);
	T_EQ(rp_frame_decoder_read(&d, p[0]), RP_FRAME_EOF);
	close(p[0]);
}

static void
test_decoder_read_errors(void)
{
	struct rp_frame_decoder d;
	int sv[2];
	uint8_t tmp[64];

	pair(sv, 1);
	rp_frame_decoder_init(&d, RP_FRAME_SMALL_MAX);
	/* Too large: the body bytes behind the header stay unread. */
	put_header(sv[0], RP_FRAME_SMALL_MAX + 1);
	put(sv[0], "0123456789", 10);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_TOO_LARGE);
	T_OK(d.body == NULL);
	T_EQ(pending(sv[1], tmp, sizeof(tmp)), 10);
	T_MEM(tmp, "0123456789", 10);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_TOO_LARGE);
	rp_frame_decoder_reset(&d);
	T_EQ(recv(sv[1], tmp, sizeof(tmp), 0), 10);
	/* Bad version straight away. */
	put(sv[0], "\xff", 1);
	T_EQ(rp_frame_decoder_read(&d, sv[1]), RP_FRAME_BAD_VERSION);
	T_EQ(d.bad_byte, 0xff);
	rp_frame_decoder_reset(&d);
	close(sv[0]);
	close(sv[1]);
	/* A read error is IO with errno. */
	errno = 0;
	T_EQ(rp_frame_decoder_read(&d, -1), RP_FRAME_IO);
	T_EQ(errno, EBADF);
	rp_frame_decoder_reset(&d);
}

int
main(void)
{
	T_RUN(test_header_encoding);
	T_RUN(test_write_read_roundtrip);
	T_RUN(test_write_is_one_send);
	T_RUN(test_write_refuses_over_16m);
	T_RUN(test_write_and_read_16m);
	T_RUN(test_write_errors);
	T_RUN(test_read_bad_version_at_once);
	T_RUN(test_read_cap);
	T_RUN(test_read_eof_cases);
	T_RUN(test_read_deadline_blocking);
	T_RUN(test_read_io_error);
	T_RUN(test_decoder_trickle);
	T_RUN(test_decoder_back_to_back);
	T_RUN(test_decoder_bad_version);
	T_RUN(test_decoder_cap);
	T_RUN(test_decoder_eof);
	T_RUN(test_decoder_read_nonblocking);
	T_RUN(test_decoder_read_trickle_pipe);
	T_RUN(test_decoder_read_ahead);
	T_RUN(test_decoder_read_errors);
	return t_done();
}
