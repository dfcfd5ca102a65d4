/* Unit tests for token: hex, token files, verdicts and the one-time store. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deadline.h"
#include "io.h"
#include "rp.h"
#include "t.h"
#include "token.h"

static void
init_sodium(void)
{
	if (sodium_init() < 0) {
		t_fail(__FILE__, __LINE__, "sodium_init");
		exit(1);
	}
}

static int
hex_ok(const char *s, uint8_t tok[RP_TOKEN_LEN])
{
	return rp_token_from_hex(s, strlen(s), tok);
}

static void
test_hex_round_trip(void)
{
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];
	char hex[RP_TOKEN_HEX_LEN + 1];
	size_t i;
	int round;

	init_sodium();
	for (round = 0; round < 1000; round++) {
		rp_token_generate(a);
		memset(hex, '#', sizeof(hex));
		rp_token_to_hex(a, hex);
		T_EQ(strlen(hex), RP_TOKEN_HEX_LEN);
		for (i = 0; i < RP_TOKEN_HEX_LEN; i++)
			T_OK((hex[i] >= '0' && hex[i] <= '9') ||
			    (hex[i] >= 'a' && hex[i] <= 'f'));
		memset(b, 0, sizeof(b));
		T_EQ(rp_token_from_hex(hex, RP_TOKEN_HEX_LEN, b), 0);
		T_MEM(a, b, RP_TOKEN_LEN);
	}
	/* A known vector. */
	for (i = 0; i < RP_TOKEN_LEN; i++)
		a[i] = (uint8_t)(i * 17);
	rp_token_to_hex(a, hex);
	T_STR(hex, "00112233445566778899aabbccddeeff");
}

static void
test_generate_is_random(void)
{
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN], zero[RP_TOKEN_LEN] = { 0 };

	init_sodium();
	rp_token_generate(a);
	rp_token_generate(b);
	T_OK(memcmp(a, b, RP_TOKEN_LEN) != 0);
	T_OK(memcmp(a, zero, RP_TOKEN_LEN) != 0);
}

static void
test_hex_accepts(void)
{
	static const uint8_t want[RP_TOKEN_LEN] = { 0x01, 0x23, 0x45, 0x67,
		0x89, 0xab, 0xcd, 0xef, 0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54,
		0x32, 0x10 };
	uint8_t t[RP_TOKEN_LEN];

	T_EQ(hex_ok("0123456789abcdeffedcba9876543210", t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	memset(t, 0, sizeof(t));
	T_EQ(hex_ok("0123456789ABCDEFFEDCBA9876543210", t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	memset(t, 0, sizeof(t));
	T_EQ(hex_ok("0123456789aBcDeFfEdCbA9876543210", t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	memset(t, 0, sizeof(t));
	T_EQ(hex_ok(" \t\r\n\v\f0123456789abcdeffedcba9876543210\n", t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	memset(t, 0, sizeof(t));
	T_EQ(hex_ok("0123456789abcdeffedcba9876543210\r\n", t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	/* len bounds the input: what follows is not looked at. */
	memset(t, 0, sizeof(t));
	T_EQ(rp_token_from_hex("0123456789abcdeffedcba9876543210zz", 32, t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
}

static void
test_hex_rejects(void)
{
	static const char *bad[] = {
		"",
		"   \n",
		"0123456789abcdeffedcba987654321",     /* 31 */
		"0123456789abcdeffedcba98765432100",   /* 33 */
		"0123456789abcdeffedcba987654321g",
		"0x23456789abcdeffedcba9876543210",
		"0123456789abcdef fedcba9876543210",
		"0123456789abcdef\nfedcba987654321",
		"0123456789abcdeffedcba98765432-1",
		"+123456789abcdeffedcba9876543210",
		"0123456789abcdeffedcba9876543210 x",
		"\"0123456789abcdeffedcba9876543210\"",
		"0123456789abcdeffedcba98765432\xc3\xa9",
		/* a fullwidth 0 (U+FF10; octal, as a hex escape would run on) */
		"\357\274\220123456789abcdeffedcba987654321",
	};
	uint8_t t[RP_TOKEN_LEN], keep[RP_TOKEN_LEN];
	char nul[40];
	size_t i;

	memset(keep, 0x5a, sizeof(keep));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memcpy(t, keep, sizeof(t));
		errno = 0;
		if (hex_ok(bad[i], t) != -1)
			t_fail(__FILE__, __LINE__, "accepted \"%s\"", bad[i]);
		T_EQ(errno, EINVAL);
		/* Nothing is written on failure. */
		T_MEM(t, keep, RP_TOKEN_LEN);
	}
	/* An embedded NUL is not whitespace. */
	memcpy(nul, "0123456789abcdef\0fedcba9876543210", 33);
	errno = 0;
	T_EQ(rp_token_from_hex(nul, 33, t), -1);
	T_EQ(errno, EINVAL);
	memcpy(nul, "0123456789abcdeffedcba9876543210\0", 33);
	T_EQ(rp_token_from_hex(nul, 33, t), -1);
	errno = 0;
	T_EQ(rp_token_from_hex(NULL, 0, t), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_token_from_hex(NULL, 32, t), -1);
	/* Every single byte that is not a hex digit, in every position. */
	for (i = 0; i < 256; i++) {
		char s[RP_TOKEN_HEX_LEN + 1];
		int pos, isx = (i >= '0' && i <= '9') || (i >= 'a' && i <= 'f') ||
		    (i >= 'A' && i <= 'F');

		for (pos = 0; pos < RP_TOKEN_HEX_LEN; pos++) {
			memset(s, 'a', RP_TOKEN_HEX_LEN);
			s[pos] = (char)i;
			s[RP_TOKEN_HEX_LEN] = '\0';
			/* Whitespace at an end is trimmed, leaving 31. */
			T_EQ(rp_token_from_hex(s, RP_TOKEN_HEX_LEN, t),
			    isx ? 0 : -1);
		}
	}
}

static void
test_equal(void)
{
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];
	int i;

	init_sodium();
	rp_token_generate(a);
	memcpy(b, a, sizeof(a));
	T_EQ(rp_token_equal(a, b), 1);
	for (i = 0; i < RP_TOKEN_LEN; i++) {
		b[i] ^= 0x80;
		T_EQ(rp_token_equal(a, b), 0);
		b[i] ^= 0x81;
		T_EQ(rp_token_equal(a, b), 0);
		b[i] ^= 0x01;
		T_EQ(rp_token_equal(a, b), 1);
	}
}

static void
test_verdicts(void)
{
	char buf[128], small[8];

	T_STR(rp_token_verdict_str(RP_TOKEN_MISSING, 0, buf, sizeof(buf)),
	    "handoff token is missing");
	T_STR(rp_token_verdict_str(RP_TOKEN_BAD_LENGTH, 15, buf, sizeof(buf)),
	    "handoff token length was 15 bytes; expected 16");
	T_STR(rp_token_verdict_str(RP_TOKEN_BAD_LENGTH, 17, buf, sizeof(buf)),
	    "handoff token length was 17 bytes; expected 16");
	T_STR(rp_token_verdict_str(RP_TOKEN_BAD_LENGTH, 4096, buf, sizeof(buf)),
	    "handoff token length was 4096 bytes; expected 16");
	T_STR(rp_token_verdict_str(RP_TOKEN_MISMATCH, 16, buf, sizeof(buf)),
	    "handoff token mismatch");
	T_STR(rp_token_verdict_str(RP_TOKEN_NOT_PENDING, 16, buf, sizeof(buf)),
	    "handoff token is not pending");
	T_STR(rp_token_verdict_str(RP_TOKEN_EXPIRED, 16, buf, sizeof(buf)),
	    "handoff token expired");
	T_STR(rp_token_verdict_str(RP_TOKEN_OK, 16, buf, sizeof(buf)),
	    "handoff token accepted");
	T_STR(rp_token_verdict_str(RP_TOKEN_FULL, 16, buf, sizeof(buf)),
	    "handoff token store is full");
	T_STR(rp_token_verdict_str((enum rp_token_verdict)99, 16, buf,
	    sizeof(buf)), "handoff token rejected");
	/* Truncated, still terminated. */
	T_OK(rp_token_verdict_str(RP_TOKEN_MISMATCH, 16, small,
	    sizeof(small)) == small);
	T_STR(small, "handoff");
	T_STR(rp_token_verdict_str(RP_TOKEN_BAD_LENGTH, 3, small,
	    sizeof(small)), "handoff");
	/* No room at all: nothing written. */
	small[0] = 'x';
	T_OK(rp_token_verdict_str(RP_TOKEN_MISMATCH, 16, small, 0) == small);
	T_EQ(small[0], 'x');
}

static void
test_check_len(void)
{
	T_EQ(rp_token_check_len(0), RP_TOKEN_MISSING);
	T_EQ(rp_token_check_len(1), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_check_len(15), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_check_len(16), RP_TOKEN_OK);
	T_EQ(rp_token_check_len(17), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_check_len(32), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_check_len(SIZE_MAX), RP_TOKEN_BAD_LENGTH);
}

/* --------------------------------------------------------- token files */

static void
write_file(const char *path, const void *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	T_OK(fd >= 0);
	T_EQ(write(fd, p, n), (ssize_t)n);
	close(fd);
}

static void
test_read_file(void)
{
	static const uint8_t want[RP_TOKEN_LEN] = { 0xde, 0xad, 0xbe, 0xef,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa0, 0xff };
	char path[512], big[400];
	uint8_t t[RP_TOKEN_LEN], keep[RP_TOKEN_LEN];
	const char *hex = "deadbeef00010203040506070809a0ff";
	int fds;

	fds = rp_fd_count();
	T_OK(fds > 0);
	snprintf(path, sizeof(path), "%s/token", t_tmpdir());
	write_file(path, "deadbeef00010203040506070809a0ff\n", 33);
	T_EQ(rp_token_read_file(path, t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	write_file(path, "  DEADBEEF00010203040506070809A0FF", 34);
	memset(t, 0, sizeof(t));
	T_EQ(rp_token_read_file(path, t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);

	/* 256 bytes with whitespace is still a token file; 257 is not. */
	memset(big, ' ', sizeof(big));
	memcpy(big + 100, hex, 32);
	write_file(path, big, 256);
	memset(t, 0, sizeof(t));
	T_EQ(rp_token_read_file(path, t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	memset(keep, 0x77, sizeof(keep));
	memcpy(t, keep, sizeof(t));
	write_file(path, big, 257);
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, EINVAL);
	write_file(path, big, sizeof(big));
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, EINVAL);
	T_MEM(t, keep, RP_TOKEN_LEN);

	/* Not a token. */
	write_file(path, "", 0);
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, EINVAL);
	write_file(path, "deadbeef00010203040506070809a0f\n", 32);
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, EINVAL);
	write_file(path, "deadbeef00010203040506070809a0ff\ndeadbeef\n", 42);
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, EINVAL);
	T_MEM(t, keep, RP_TOKEN_LEN);

	/* The open/read errors come through. */
	snprintf(path, sizeof(path), "%s/missing", t_tmpdir());
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_token_read_file(t_tmpdir(), t), -1);
	T_EQ(errno, EISDIR);
	snprintf(path, sizeof(path), "%s/token/x", t_tmpdir());
	snprintf(big, sizeof(big), "%s/token", t_tmpdir());
	write_file(big, hex, 32);
	errno = 0;
	T_EQ(rp_token_read_file(path, t), -1);
	T_EQ(errno, ENOTDIR);
	T_MEM(t, keep, RP_TOKEN_LEN);
	/* Nothing leaks on any path. */
	T_EQ(rp_fd_count(), fds);
}

static void
test_read_file_pipe(void)
{
	static const uint8_t want[RP_TOKEN_LEN] = { 0xde, 0xad, 0xbe, 0xef,
		0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0xa0, 0xff };
	char path[64];
	uint8_t t[RP_TOKEN_LEN];
	int p[2];

	/* A pipe has no size: --token-file <(echo ...) must work, written
	 * in pieces too. */
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	T_EQ(write(p[1], "  deadbeef0001020304", 20), 20);
	T_EQ(write(p[1], "0506070809a0ff\n", 15), 15);
	close(p[1]);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", p[0]);
	T_EQ(rp_token_read_file(path, t), 0);
	T_MEM(t, want, RP_TOKEN_LEN);
	close(p[0]);
}

struct fifo_peer {
	const char *path;
	int cloexec;    /* 1 when the reader's fd had O_CLOEXEC */
	int found;
};

/* Open the FIFO for writing (which waits for the reader), then look at the
 * reader's fd in /proc/self/fdinfo while it is blocked in read(). */
static void *
fifo_writer(void *arg)
{
	struct fifo_peer *fp = arg;
	char link[64], target[512], info[512];
	int wfd, fd;

	wfd = open(fp->path, O_WRONLY | O_CLOEXEC);
	if (wfd < 0)
		return NULL;
	/* The reader's open() may return a moment after ours: look until
	 * its fd is there (it then blocks in read() until we write). */
	for (fd = 0; !fp->found; fd = (fd + 1) % 1024) {
		if (fd == 0)
			sched_yield();
		ssize_t n;
		FILE *f;

		if (fd == wfd)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strcmp(target, fp->path) != 0)
			continue;
		snprintf(link, sizeof(link), "/proc/self/fdinfo/%d", fd);
		f = fopen(link, "re");
		if (f == NULL)
			continue;
		while (fgets(info, sizeof(info), f) != NULL) {
			unsigned long flags;

			if (sscanf(info, "flags: %lo", &flags) == 1) {
				fp->found = 1;
				fp->cloexec = (flags & O_CLOEXEC) != 0;
			}
		}
		fclose(f);
	}
	if (write(wfd, "00112233445566778899aabbccddeeff", 32) != 32)
		fp->found = 0;
	close(wfd);
	return NULL;
}

static void
test_read_file_cloexec(void)
{
	struct fifo_peer fp = { 0 };
	pthread_t th;
	char path[512];
	uint8_t t[RP_TOKEN_LEN];

	snprintf(path, sizeof(path), "%s/fifo", t_tmpdir());
	T_EQ(mkfifo(path, 0600), 0);
	fp.path = path;
	T_EQ(pthread_create(&th, NULL, fifo_writer, &fp), 0);
	T_EQ(rp_token_read_file(path, t), 0);
	T_EQ(pthread_join(th, NULL), 0);
	T_EQ(fp.found, 1);
	T_EQ(fp.cloexec, 1);
	T_EQ(t[0], 0x00);
	T_EQ(t[15], 0xff);
}

/* ------------------------------------------------------------ the store */

static void
test_parse_list(void)
{
	uint8_t toks[3][RP_TOKEN_LEN], one[RP_TOKEN_LEN];
	const char *a = "00112233445566778899aabbccddeeff";
	const char *b = "ffeeddccbbaa99887766554433221100";
	char buf[200];
	int n;

	snprintf(buf, sizeof(buf), "%s\n%s\n", a, b);
	n = rp_token_parse_list(buf, strlen(buf), toks, 3);
	T_EQ(n, 2);
	T_EQ(hex_ok(a, one), 0);
	T_MEM(toks[0], one, RP_TOKEN_LEN);
	T_EQ(hex_ok(b, one), 0);
	T_MEM(toks[1], one, RP_TOKEN_LEN);
	/* Any whitespace separates; one token is a list too. */
	snprintf(buf, sizeof(buf), " \t%s \r\n", a);
	T_EQ(rp_token_parse_list(buf, strlen(buf), toks, 1), 1);
	/* Too many, none, and a bad word. */
	snprintf(buf, sizeof(buf), "%s %s", a, b);
	errno = 0;
	T_EQ(rp_token_parse_list(buf, strlen(buf), toks, 1), -1);
	T_EQ(errno, E2BIG);
	errno = 0;
	T_EQ(rp_token_parse_list(" \n ", 3, toks, 3), -1);
	T_EQ(errno, EINVAL);
	snprintf(buf, sizeof(buf), "%s %sx", a, b);
	errno = 0;
	T_EQ(rp_token_parse_list(buf, strlen(buf), toks, 3), -1);
	T_EQ(errno, EINVAL);
	snprintf(buf, sizeof(buf), "%s,%s", a, b);
	errno = 0;
	T_EQ(rp_token_parse_list(buf, strlen(buf), toks, 3), -1);
	T_EQ(errno, EINVAL);
	/* Only len bytes are looked at. */
	snprintf(buf, sizeof(buf), "%s %s", a, b);
	T_EQ(rp_token_parse_list(buf, 32, toks, 3), 1);
	errno = 0;
	T_EQ(rp_token_parse_list(NULL, 0, toks, 3), -1);
	T_EQ(errno, EINVAL);
}

static void
test_read_list(void)
{
	uint8_t toks[2][RP_TOKEN_LEN];
	char path[512], big[400];
	int fds = rp_fd_count();

	snprintf(path, sizeof(path), "%s/tokens", t_tmpdir());
	write_file(path, "00112233445566778899aabbccddeeff\n"
	    "ffeeddccbbaa99887766554433221100\n", 66);
	T_EQ(rp_token_read_list(path, toks, 2), 2);
	T_EQ(toks[1][0], 0xff);
	errno = 0;
	T_EQ(rp_token_read_list(path, toks, 1), -1);
	T_EQ(errno, E2BIG);
	/* 40 * max + 256 bytes at most. */
	memset(big, ' ', sizeof(big));
	memcpy(big, "00112233445566778899aabbccddeeff", 32);
	write_file(path, big, 296);
	T_EQ(rp_token_read_list(path, toks, 1), 1);
	write_file(path, big, 297);
	errno = 0;
	T_EQ(rp_token_read_list(path, toks, 1), -1);
	T_EQ(errno, EINVAL);
	snprintf(path, sizeof(path), "%s/missing", t_tmpdir());
	errno = 0;
	T_EQ(rp_token_read_list(path, toks, 2), -1);
	T_EQ(errno, ENOENT);
	errno = 0;
	T_EQ(rp_token_read_list(path, toks, 0), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_fd_count(), fds);
}

static void
test_store_new_errors(void)
{
	struct rp_token_store *s;

	errno = 0;
	T_OK(rp_token_store_new(0, 1000) == NULL);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_OK(rp_token_store_new(4, 0) == NULL);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_OK(rp_token_store_new(4, -5) == NULL);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_OK(rp_token_store_new(SIZE_MAX, 1000) == NULL);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_OK(rp_token_store_new(((size_t)1 << 28) + 1, 1000) == NULL);
	T_EQ(errno, EINVAL);
	s = rp_token_store_new(1, INT64_MAX);
	T_OK(s != NULL);
	T_EQ(rp_token_store_count(s), 0);
	rp_token_store_free(s);
	rp_token_store_free(NULL);
}

static void
test_store_issue_take(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN], x[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(16, RP_TOKEN_TTL_MS);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, 1000, a), 0);
	T_EQ(rp_token_store_issue(s, 1000, b), 0);
	T_OK(memcmp(a, b, RP_TOKEN_LEN) != 0);
	T_EQ(rp_token_store_count(s), 2);

	/* Shape faults first; they consume nothing. */
	T_EQ(rp_token_store_take(s, NULL, 0, 1001), RP_TOKEN_MISSING);
	T_EQ(rp_token_store_take(s, a, 0, 1001), RP_TOKEN_MISSING);
	T_EQ(rp_token_store_take(s, NULL, 16, 1001), RP_TOKEN_MISSING);
	T_EQ(rp_token_store_take(s, a, 15, 1001), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_store_take(s, a, 17, 1001), RP_TOKEN_BAD_LENGTH);

	/* A mismatch consumes nothing. */
	memcpy(x, a, sizeof(x));
	x[15] ^= 1;
	T_EQ(rp_token_store_take(s, x, 16, 1002), RP_TOKEN_MISMATCH);
	x[15] ^= 1;
	x[0] ^= 0x40;
	T_EQ(rp_token_store_take(s, x, 16, 1002), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_count(s), 2);

	T_EQ(rp_token_store_take(s, a, 16, 1003), RP_TOKEN_OK);
	/* Used, kept for replay detection. */
	T_EQ(rp_token_store_count(s), 2);
	T_EQ(rp_token_store_take(s, a, 16, 1004), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_take(s, a, 16, 1005), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_take(s, b, 16, 1006), RP_TOKEN_OK);
	T_EQ(rp_token_store_take(s, b, 16, 1007), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_count(s), 2);
	rp_token_store_free(s);
}

static void
test_store_expiry(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN], c[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(8, 100);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, 1000, a), 0);
	T_EQ(rp_token_store_issue(s, 1000, b), 0);
	/* Live through t + ttl - 1 ... */
	T_EQ(rp_token_store_take(s, a, 16, 1099), RP_TOKEN_OK);
	/* ... expired at t + ttl, and removed. */
	T_EQ(rp_token_store_take(s, b, 16, 1100), RP_TOKEN_EXPIRED);
	T_EQ(rp_token_store_count(s), 1);
	T_EQ(rp_token_store_take(s, b, 16, 1100), RP_TOKEN_MISMATCH);
	/* A used token is remembered for ttl from its use (1099). */
	T_EQ(rp_token_store_take(s, a, 16, 1198), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_count(s), 1);
	/* Then forgotten: unknown. */
	T_EQ(rp_token_store_take(s, a, 16, 1199), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_count(s), 0);

	/* expire() drops exactly the entries past their ttl. */
	T_EQ(rp_token_store_issue(s, 2000, a), 0);
	T_EQ(rp_token_store_issue(s, 2010, b), 0);
	T_EQ(rp_token_store_issue(s, 2020, c), 0);
	T_EQ(rp_token_store_take(s, a, 16, 2050), RP_TOKEN_OK); /* to 2150 */
	T_EQ(rp_token_store_expire(s, 2109), 0);
	T_EQ(rp_token_store_expire(s, 2110), 1);                /* b */
	T_EQ(rp_token_store_count(s), 2);
	T_EQ(rp_token_store_take(s, b, 16, 2110), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_take(s, c, 16, 2110), RP_TOKEN_OK);  /* to 2210 */
	T_EQ(rp_token_store_expire(s, 2150), 1);                /* a */
	T_EQ(rp_token_store_take(s, a, 16, 2150), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_take(s, c, 16, 2150), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_expire(s, 5000), 1);
	T_EQ(rp_token_store_count(s), 0);
	T_EQ(rp_token_store_expire(s, 9000), 0);
	rp_token_store_free(s);
}

static void
test_store_clock_backwards(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(4, 100);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, 1000, a), 0);
	/* An earlier time counts as 1000: nothing expires, and b is made
	 * at 1000, not at 0. */
	T_EQ(rp_token_store_issue(s, 0, b), 0);
	T_EQ(rp_token_store_expire(s, 50), 0);
	T_EQ(rp_token_store_expire(s, 1099), 0);
	T_EQ(rp_token_store_take(s, b, 16, 1099), RP_TOKEN_OK);
	/* Used at 3, which counts as 1099: remembered until 1199. */
	T_EQ(rp_token_store_take(s, a, 16, 3), RP_TOKEN_OK);
	T_EQ(rp_token_store_expire(s, 1198), 0);
	T_EQ(rp_token_store_take(s, a, 16, 1198), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_expire(s, 1199), 2);
	T_EQ(rp_token_store_count(s), 0);
	rp_token_store_free(s);
}

static void
test_store_huge_times(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN];

	init_sodium();
	/* now + ttl must not overflow. */
	s = rp_token_store_new(4, INT64_MAX);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, INT64_MAX - 10, a), 0);
	T_EQ(rp_token_store_expire(s, INT64_MAX - 1), 0);
	T_EQ(rp_token_store_take(s, a, 16, INT64_MAX - 1), RP_TOKEN_OK);
	T_EQ(rp_token_store_take(s, a, 16, INT64_MAX - 1),
	    RP_TOKEN_NOT_PENDING);
	rp_token_store_free(s);
	s = rp_token_store_new(4, 10);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, INT64_MIN, a), 0);
	T_EQ(rp_token_store_take(s, a, 16, INT64_MIN + 9), RP_TOKEN_OK);
	rp_token_store_free(s);
}

static void
test_store_full(void)
{
	struct rp_token_store *s;
	uint8_t t[4][RP_TOKEN_LEN], x[RP_TOKEN_LEN], y[RP_TOKEN_LEN];
	int i;

	init_sodium();
	s = rp_token_store_new(4, 100);
	T_OK(s != NULL);
	for (i = 0; i < 4; i++)
		T_EQ(rp_token_store_issue(s, 1000 + i, t[i]), 0);
	T_EQ(rp_token_store_count(s), 4);
	errno = 0;
	T_EQ(rp_token_store_issue(s, 1050, x), -1);
	T_EQ(errno, ENOSPC);
	rp_token_generate(y);
	errno = 0;
	T_EQ(rp_token_store_expect(s, y, 1050), -1);
	T_EQ(errno, ENOSPC);
	T_EQ(rp_token_store_remember(s, y, 16, 1050), RP_TOKEN_FULL);
	/* Used entries take room too. */
	T_EQ(rp_token_store_take(s, t[0], 16, 1060), RP_TOKEN_OK); /* ->1160 */
	errno = 0;
	T_EQ(rp_token_store_issue(s, 1099, x), -1);
	T_EQ(errno, ENOSPC);
	T_EQ(rp_token_store_count(s), 4);

	/* t[1] expired at 1101: reclaimed to make room, before "full". */
	T_EQ(rp_token_store_issue(s, 1101, x), 0);
	T_EQ(rp_token_store_count(s), 4);
	T_EQ(rp_token_store_take(s, t[1], 16, 1101), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_take(s, t[2], 16, 1101), RP_TOKEN_OK);
	T_EQ(rp_token_store_remember(s, y, 16, 1101), RP_TOKEN_FULL);
	/* t[3] expires at 1103. */
	T_EQ(rp_token_store_remember(s, y, 16, 1103), RP_TOKEN_OK);
	T_EQ(rp_token_store_take(s, t[3], 16, 1103), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_remember(s, y, 16, 1104), RP_TOKEN_NOT_PENDING);
	/* The used t[0] expires at 1160. */
	rp_token_generate(y);
	errno = 0;
	T_EQ(rp_token_store_expect(s, y, 1159), -1);
	T_EQ(errno, ENOSPC);
	T_EQ(rp_token_store_expect(s, y, 1160), 0);
	T_EQ(rp_token_store_take(s, t[0], 16, 1160), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_take(s, y, 16, 1161), RP_TOKEN_OK);
	T_EQ(rp_token_store_take(s, x, 16, 1161), RP_TOKEN_OK);
	T_EQ(rp_token_store_count(s), 4);
	/* Revoking makes room too. */
	rp_token_store_free(s);

	s = rp_token_store_new(1, 100);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, 0, t[0]), 0);
	T_EQ(rp_token_store_issue(s, 1, t[1]), -1);
	T_EQ(rp_token_store_revoke(s, t[0]), 0);
	T_EQ(rp_token_store_issue(s, 1, t[1]), 0);
	T_EQ(rp_token_store_take(s, t[1], 16, 2), RP_TOKEN_OK);
	rp_token_store_free(s);
}

static void
test_store_expect(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(8, 100);
	T_OK(s != NULL);
	rp_token_generate(a);
	memcpy(b, a, sizeof(b));
	b[7] ^= 4;
	T_EQ(rp_token_store_expect(s, a, 10), 0);
	errno = 0;
	T_EQ(rp_token_store_expect(s, a, 20), -1);
	T_EQ(errno, EEXIST);
	T_EQ(rp_token_store_count(s), 1);
	T_EQ(rp_token_store_take(s, b, 16, 30), RP_TOKEN_MISMATCH);
	T_EQ(rp_token_store_take(s, a, 16, 30), RP_TOKEN_OK);
	/* Used is known too: still EEXIST while remembered. */
	errno = 0;
	T_EQ(rp_token_store_expect(s, a, 40), -1);
	T_EQ(errno, EEXIST);
	T_EQ(rp_token_store_take(s, a, 16, 40), RP_TOKEN_NOT_PENDING);
	/* Once forgotten, it may be expected again. */
	T_EQ(rp_token_store_expect(s, a, 130), 0);
	T_EQ(rp_token_store_count(s), 1);
	T_EQ(rp_token_store_take(s, a, 16, 131), RP_TOKEN_OK);
	/* An expected token left pending past its ttl may be re-expected. */
	T_EQ(rp_token_store_expect(s, b, 200), 0);
	T_EQ(rp_token_store_expect(s, b, 300), 0);
	T_EQ(rp_token_store_take(s, b, 16, 399), RP_TOKEN_OK);
	rp_token_store_free(s);
}

static void
test_store_remember(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(8, 100);
	T_OK(s != NULL);
	rp_token_generate(a);
	rp_token_generate(b);
	T_EQ(rp_token_store_remember(s, NULL, 0, 0), RP_TOKEN_MISSING);
	T_EQ(rp_token_store_remember(s, a, 0, 0), RP_TOKEN_MISSING);
	T_EQ(rp_token_store_remember(s, a, 12, 0), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_token_store_count(s), 0);
	T_EQ(rp_token_store_remember(s, a, 16, 0), RP_TOKEN_OK);
	T_EQ(rp_token_store_remember(s, a, 16, 50), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_remember(s, a, 16, 99), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_remember(s, b, 16, 99), RP_TOKEN_OK);
	T_EQ(rp_token_store_count(s), 2);
	/* Past its ttl it is forgotten and accepted again. */
	T_EQ(rp_token_store_remember(s, a, 16, 100), RP_TOKEN_OK);
	T_EQ(rp_token_store_count(s), 2);
	/* Remembered tokens were never pending: take says so. */
	T_EQ(rp_token_store_take(s, b, 16, 150), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_revoke(s, b), -1);
	T_EQ(rp_token_store_remember(s, a, 16, 199), RP_TOKEN_NOT_PENDING);
	/* An expected token is accepted once by remember() too. */
	rp_token_generate(b);
	T_EQ(rp_token_store_expect(s, b, 150), 0);
	T_EQ(rp_token_store_remember(s, b, 16, 160), RP_TOKEN_OK);
	T_EQ(rp_token_store_remember(s, b, 16, 161), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_take(s, b, 16, 162), RP_TOKEN_NOT_PENDING);
	rp_token_store_free(s);
}

static void
test_store_revoke(void)
{
	struct rp_token_store *s;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN], c[RP_TOKEN_LEN];

	init_sodium();
	s = rp_token_store_new(8, 100);
	T_OK(s != NULL);
	T_EQ(rp_token_store_issue(s, 0, a), 0);
	T_EQ(rp_token_store_issue(s, 0, b), 0);
	rp_token_generate(c);
	errno = 0;
	T_EQ(rp_token_store_revoke(s, c), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_token_store_revoke(s, a), 0);
	T_EQ(rp_token_store_count(s), 1);
	T_EQ(rp_token_store_take(s, a, 16, 1), RP_TOKEN_MISMATCH);
	errno = 0;
	T_EQ(rp_token_store_revoke(s, a), -1);
	T_EQ(errno, ENOENT);
	/* A used token is no longer pending. */
	T_EQ(rp_token_store_take(s, b, 16, 1), RP_TOKEN_OK);
	errno = 0;
	T_EQ(rp_token_store_revoke(s, b), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_token_store_take(s, b, 16, 2), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_token_store_count(s), 1);
	rp_token_store_free(s);
}

/*
 * A reference model: the same rules over a plain array kept in expiry
 * order, searched linearly.  Random operations on a small store (many
 * collisions in a 16-slot table, wrap-around, constant deletions) must give
 * the same answers.
 */
struct model_ent {
	uint8_t tok[RP_TOKEN_LEN];
	int64_t expires;
	int pending;
};

struct model {
	struct model_ent e[64];
	size_t n, cap;
	int64_t ttl, last;
};

static int64_t
model_now(struct model *m, int64_t now)
{
	if (now < m->last)
		return m->last;
	m->last = now;
	return now;
}

static int
model_find(const struct model *m, const uint8_t *tok)
{
	size_t i;

	for (i = 0; i < m->n; i++)
		if (memcmp(m->e[i].tok, tok, RP_TOKEN_LEN) == 0)
			return (int)i;
	return -1;
}

static void
model_del(struct model *m, size_t i)
{
	memmove(&m->e[i], &m->e[i + 1], (m->n - i - 1) * sizeof(m->e[0]));
	m->n--;
}

static void
model_add(struct model *m, const uint8_t *tok, int pending, int64_t now)
{
	memcpy(m->e[m->n].tok, tok, RP_TOKEN_LEN);
	m->e[m->n].expires = now + m->ttl;
	m->e[m->n].pending = pending;
	m->n++;
}

static int
model_room(struct model *m, int64_t now)
{
	if (m->n < m->cap)
		return 0;
	if (m->n > 0 && m->e[0].expires <= now) {
		model_del(m, 0);
		return 0;
	}
	return -1;
}

static void
model_use(struct model *m, size_t i, int64_t now)
{
	struct model_ent x = m->e[i];

	model_del(m, i);
	x.pending = 0;
	x.expires = now + m->ttl;
	m->e[m->n++] = x;
}

static enum rp_token_verdict
model_take(struct model *m, const uint8_t *tok, int64_t now)
{
	int i;

	now = model_now(m, now);
	if ((i = model_find(m, tok)) < 0)
		return RP_TOKEN_MISMATCH;
	if (m->e[i].expires <= now) {
		int pending = m->e[i].pending;

		model_del(m, (size_t)i);
		return pending ? RP_TOKEN_EXPIRED : RP_TOKEN_MISMATCH;
	}
	if (!m->e[i].pending)
		return RP_TOKEN_NOT_PENDING;
	model_use(m, (size_t)i, now);
	return RP_TOKEN_OK;
}

static enum rp_token_verdict
model_remember(struct model *m, const uint8_t *tok, int64_t now)
{
	int i;

	now = model_now(m, now);
	if ((i = model_find(m, tok)) >= 0) {
		if (m->e[i].expires > now) {
			if (!m->e[i].pending)
				return RP_TOKEN_NOT_PENDING;
			model_use(m, (size_t)i, now);
			return RP_TOKEN_OK;
		}
		model_del(m, (size_t)i);
	}
	if (model_room(m, now) != 0)
		return RP_TOKEN_FULL;
	model_add(m, tok, 0, now);
	return RP_TOKEN_OK;
}

static int
model_expect(struct model *m, const uint8_t *tok, int64_t now)
{
	int i;

	now = model_now(m, now);
	if ((i = model_find(m, tok)) >= 0) {
		if (m->e[i].expires > now)
			return EEXIST;
		model_del(m, (size_t)i);
	}
	if (model_room(m, now) != 0)
		return ENOSPC;
	model_add(m, tok, 1, now);
	return 0;
}

static size_t
model_expire(struct model *m, int64_t now)
{
	size_t n = 0;

	now = model_now(m, now);
	while (m->n > 0 && m->e[0].expires <= now) {
		model_del(m, 0);
		n++;
	}
	return n;
}

static void
run_model(size_t cap, int64_t ttl, int rounds, unsigned seed)
{
	struct rp_token_store *s;
	struct model m = { .cap = cap, .ttl = ttl, .last = INT64_MIN };
	uint8_t pool[24][RP_TOKEN_LEN], t[RP_TOKEN_LEN];
	int64_t now = 1000;
	int r, fails = 0;

	s = rp_token_store_new(cap, ttl);
	T_OK(s != NULL);
	srandom(seed);
	/* A small pool of tokens so that the same ones keep coming back. */
	for (r = 0; r < 24; r++)
		rp_token_generate(pool[r]);
	for (r = 0; r < rounds && fails < 5; r++) {
		long op = random() % 100;
		const uint8_t *tok = pool[random() % 24];
		int64_t when = now;
		long a, b;

		if (random() % 50 == 0)
			when = now - random() % 200; /* a clock going back */
		if (op < 25) {
			a = model_take(&m, tok, when);
			b = rp_token_store_take(s, tok, 16, when);
		} else if (op < 45) {
			a = model_remember(&m, tok, when);
			b = rp_token_store_remember(s, tok, 16, when);
		} else if (op < 70) {
			a = model_expect(&m, tok, when);
			b = rp_token_store_expect(s, tok, when) == 0 ? 0 : errno;
		} else if (op < 80) {
			int i = model_find(&m, tok);

			a = (i >= 0 && m.e[i].pending) ? 0 : ENOENT;
			if (a == 0)
				model_del(&m, (size_t)i);
			b = rp_token_store_revoke(s, tok) == 0 ? 0 : errno;
		} else if (op < 85) {
			a = (long)model_expire(&m, when);
			b = (long)rp_token_store_expire(s, when);
		} else if (op < 90) {
			/* Issue: the model learns the token from the store. */
			int64_t n2 = model_now(&m, when);

			b = rp_token_store_issue(s, when, t) == 0 ? 0 : errno;
			a = model_room(&m, n2) == 0 ? 0 : ENOSPC;
			if (a == 0 && b == 0) {
				T_EQ(model_find(&m, t), -1);
				model_add(&m, t, 1, n2);
				/* Sometimes keep it in the pool. */
				if (random() % 2)
					memcpy(pool[random() % 24], t, 16);
			}
		} else {
			now += random() % (ttl / 2 + 1);
			continue;
		}
		if (a != b) {
			t_fail(__FILE__, __LINE__,
			    "round %d op %ld: model %ld, store %ld", r, op,
			    a, b);
			fails++;
		}
		if (rp_token_store_count(s) != m.n) {
			t_fail(__FILE__, __LINE__, "round %d: count %zu != %zu",
			    r, rp_token_store_count(s), m.n);
			fails++;
		}
	}
	rp_token_store_free(s);
}

static void
test_store_model_small(void)
{
	init_sodium();
	run_model(1, 50, 20000, 1);
	run_model(3, 50, 20000, 2);
	run_model(8, 100, 50000, 3);
	run_model(13, 300, 50000, 4);
}

static void
test_store_model_large(void)
{
	init_sodium();
	/* More tokens than room for them: full and reclaim all the time. */
	run_model(20, 1000, 100000, 5);
	run_model(64, 5000, 100000, 6);
}

/*
 * 100k issue + take cycles at the broker's pace: a window of outstanding
 * pending tokens, one in five revoked instead of taken, used ones
 * remembered for a ttl, and the store full (reclaiming its oldest entry on
 * every issue) once warmed up.  Every lookup must stay exact through all
 * the deletions.
 */
static void
test_store_many(void)
{
	enum { WINDOW = 512, CYCLES = 100000, TTL = 1000, HIST = 1024 };
	struct rp_token_store *s;
	uint8_t (*ring)[RP_TOKEN_LEN], (*taken)[RP_TOKEN_LEN];
	int64_t *taken_at, now = 0;
	size_t i, ntaken = 0, full = 0;
	int bad = 0;

	init_sodium();
	ring = calloc(WINDOW, RP_TOKEN_LEN);
	taken = calloc(HIST, RP_TOKEN_LEN);
	taken_at = calloc(HIST, sizeof(*taken_at));
	T_OK(ring != NULL && taken != NULL && taken_at != NULL);
	/* Live at once: < WINDOW pending + about 800 used. */
	s = rp_token_store_new(WINDOW + 900, TTL);
	T_OK(s != NULL);
	for (i = 0; i < CYCLES && bad < 5; i++, now++) {
		uint8_t *slot = ring[i % WINDOW];

		if (i >= WINDOW && i % 5 == 0) {
			if (rp_token_store_revoke(s, slot) != 0)
				bad++;
			if (rp_token_store_take(s, slot, 16, now) !=
			    RP_TOKEN_MISMATCH)
				bad++;
		} else if (i >= WINDOW) {
			if (rp_token_store_take(s, slot, 16, now) !=
			    RP_TOKEN_OK) {
				t_fail(__FILE__, __LINE__, "take %zu", i);
				bad++;
			}
			memcpy(taken[ntaken % HIST], slot, RP_TOKEN_LEN);
			taken_at[ntaken % HIST] = now;
			ntaken++;
		}
		if (rp_token_store_issue(s, now, slot) != 0) {
			t_fail(__FILE__, __LINE__, "issue %zu: %s", i,
			    strerror(errno));
			bad++;
		}
		/* Replays: the latest and the oldest still remembered are
		 * refused as replays; one just past its ttl is unknown. */
		if (ntaken > HIST && i % 3 == 0) {
			size_t k, j;

			if (rp_token_store_take(s, taken[(ntaken - 1) % HIST],
			    16, now) != RP_TOKEN_NOT_PENDING)
				bad++;
			for (k = ntaken - HIST; k < ntaken; k++)
				if (taken_at[k % HIST] > now - TTL)
					break;
			j = k % HIST;
			if (rp_token_store_take(s, taken[j], 16, now) !=
			    RP_TOKEN_NOT_PENDING) {
				t_fail(__FILE__, __LINE__, "replay %zu", i);
				bad++;
			}
			if (k > ntaken - HIST &&
			    rp_token_store_take(s, taken[(k - 1) % HIST], 16,
			    now) != RP_TOKEN_MISMATCH) {
				t_fail(__FILE__, __LINE__, "forgotten %zu", i);
				bad++;
			}
		}
		if (rp_token_store_count(s) > WINDOW + 900)
			bad++;
		full += rp_token_store_count(s) == WINDOW + 900;
	}
	T_EQ(bad, 0);
	/* The store was full, and issued anyway by reclaiming, most of the
	 * time once warmed up. */
	T_OK(full > CYCLES / 2);
	/* Every outstanding token is still there, exactly once. */
	for (i = 0; i < WINDOW; i++)
		T_EQ(rp_token_store_take(s, ring[i], 16, now), RP_TOKEN_OK);
	for (i = 0; i < WINDOW; i++)
		T_EQ(rp_token_store_take(s, ring[i], 16, now),
		    RP_TOKEN_NOT_PENDING);
	full = rp_token_store_count(s);
	T_OK(full > WINDOW);
	T_EQ(rp_token_store_expire(s, now + TTL), full);
	T_EQ(rp_token_store_count(s), 0);
	rp_token_store_free(s);
	free(ring);
	free(taken);
	free(taken_at);
}

/*
 * Issued tokens come from a pool (one getrandom per 16): still all
 * different across many refills, and a forked child, whose copy of the
 * pool holds the very bytes its parent will issue next, draws its own.
 */
static void
test_store_issue_pool(void)
{
	enum { N = 1000 };
	struct rp_token_store *s;
	uint8_t (*all)[RP_TOKEN_LEN], mine[RP_TOKEN_LEN], theirs[RP_TOKEN_LEN];
	int i, j, p[2], dup = 0;
	pid_t pid;

	T_OK(rp_init() == 0);
	T_OK((all = calloc(N, RP_TOKEN_LEN)) != NULL);
	T_OK((s = rp_token_store_new(N + 1, 1000)) != NULL);
	for (i = 0; i < N; i++) {
		T_EQ(rp_token_store_issue(s, 0, all[i]), 0);
		T_OK(!sodium_is_zero(all[i], RP_TOKEN_LEN));
		for (j = 0; j < i; j++)
			dup += memcmp(all[i], all[j], RP_TOKEN_LEN) == 0;
	}
	T_EQ(dup, 0);
	rp_token_store_free(s);

	/* Half a pool used: the rest is in both processes after fork. */
	T_OK((s = rp_token_store_new(64, 1000)) != NULL);
	for (i = 0; i < 8; i++)
		T_EQ(rp_token_store_issue(s, 0, mine), 0);
	T_EQ(pipe(p), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		uint8_t t[RP_TOKEN_LEN];

		close(p[0]);
		(void)rp_token_store_issue(s, 0, t);
		_exit(write(p[1], t, sizeof(t)) == (ssize_t)sizeof(t) ? 0 : 1);
	}
	close(p[1]);
	T_EQ(rp_token_store_issue(s, 0, mine), 0);
	T_EQ(rp_io_read_full(p[0], theirs, sizeof(theirs), RP_DEADLINE_NEVER),
	    (ssize_t)sizeof(theirs));
	close(p[0]);
	{
		int st = -1;

		T_EQ(waitpid(pid, &st, 0), pid);
		T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	T_OK(memcmp(mine, theirs, RP_TOKEN_LEN) != 0);
	rp_token_store_free(s);
	free(all);
}

int
main(void)
{
	T_RUN(test_hex_round_trip);
	T_RUN(test_generate_is_random);
	T_RUN(test_hex_accepts);
	T_RUN(test_hex_rejects);
	T_RUN(test_equal);
	T_RUN(test_verdicts);
	T_RUN(test_check_len);
	T_RUN(test_read_file);
	T_RUN(test_read_file_pipe);
	T_RUN(test_read_file_cloexec);
	T_RUN(test_parse_list);
	T_RUN(test_read_list);
	T_RUN(test_store_new_errors);
	T_RUN(test_store_issue_take);
	T_RUN(test_store_issue_pool);
	T_RUN(test_store_expiry);
	T_RUN(test_store_clock_backwards);
	T_RUN(test_store_huge_times);
	T_RUN(test_store_full);
	T_RUN(test_store_expect);
	T_RUN(test_store_remember);
	T_RUN(test_store_revoke);
	T_RUN(test_store_model_small);
	T_RUN(test_store_model_large);
	T_RUN(test_store_many);
	return t_done();
}
