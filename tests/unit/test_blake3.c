/*
 * Unit tests for blake3: the official test vectors in all three modes and
 * with many input splits, on every implementation this CPU has; each SIMD
 * kernel against the portable one (counters past 2^32 included); files of
 * many sizes against b3sum; pipes; error paths.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blake3.h"
#include "blake3_impl.h"
#include "blake3_vectors.h"
#include "t.h"

static const char *const impls[] = { "portable", "sse41", "avx2",
	"avx512" };
#define NIMPLS (sizeof(impls) / sizeof(impls[0]))

enum mode { HASH, KEYED, DERIVE };
static const char *const mode_names[] = { "hash", "keyed", "derive" };

/* splitmix64: deterministic, so a failure reproduces. */
static uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
fill_random(uint8_t *p, size_t len, uint64_t seed)
{
	uint64_t w;
	size_t i, k;

	for (i = 0; i < len; i += 8) {
		w = rnd(&seed);
		k = len - i < 8 ? len - i : 8;
		memcpy(p + i, &w, k);
	}
}

static void
hex_decode(const char *hex, uint8_t *out, size_t n)
{
	size_t i;
	unsigned v;

	for (i = 0; i < n; i++) {
		if (sscanf(hex + 2 * i, "%2x", &v) != 1)
			t_fail(__FILE__, __LINE__, "bad hex at %zu", i);
		out[i] = (uint8_t)v;
	}
}

static void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static uint8_t *
pattern(size_t len)
{
	uint8_t *p = malloc(len ? len : 1);
	size_t i;

	if (p == NULL)
		abort();
	for (i = 0; i < len; i++)
		p[i] = (uint8_t)(i % 251);
	return p;
}

static void
init_mode(struct rp_blake3 *h, enum mode m)
{
	switch (m) {
	case HASH:
		rp_blake3_init(h);
		break;
	case KEYED:
		rp_blake3_init_keyed(h, (const uint8_t *)B3V_KEY);
		break;
	case DERIVE:
		rp_blake3_init_derive(h, B3V_CONTEXT);
		break;
	}
}

/* Select impl, or say why not: a CPU may lack it, but then every wider
 * one must be refused too and the default must be narrower. */
static int
use_impl(const char *impl)
{
	if (rp_blake3_set_impl(impl) == 0) {
		T_STR(rp_blake3_impl(), impl);
		return 1;
	}
	T_EQ(errno, ENOTSUP);
	printf("# %s: not supported by this CPU, default is %s\n", impl,
	    rp_blake3_impl());
	return 0;
}

/*
 * Split patterns for the incremental checks.  Each returns the length of
 * the next piece given the offset so far; 0 means "the rest".
 */
enum split {
	WHOLE,		/* one update */
	BYTES,		/* one byte at a time */
	ODD,		/* 1, 7, 63, 64, 65, 1023, 1024, 1025, 3000, ... */
	CHUNKS,		/* exactly at chunk boundaries */
	OFF_BY_ONE,	/* 1023, then 1025, ... around chunk boundaries */
	BLOCKS_3,	/* 3 blocks + 1 byte at a time */
	RANDOM,		/* pseudo-random lengths up to 40 KiB */
	NSPLITS
};
static const char *const split_names[] = { "whole", "bytes", "odd",
	"chunks", "off-by-one", "blocks-3", "random" };

static size_t
next_piece(enum split s, size_t i, uint64_t *seed)
{
	static const size_t odd[] = { 1, 7, 63, 64, 65, 1023, 1024, 1025,
		3000, 4096, 17 };

	switch (s) {
	case WHOLE:
		return 0;
	case BYTES:
		return 1;
	case ODD:
		return odd[i % (sizeof(odd) / sizeof(odd[0]))];
	case CHUNKS:
		return RP_BLAKE3_CHUNK_LEN;
	case OFF_BY_ONE:
		return i % 2 ? 1025 : 1023;
	case BLOCKS_3:
		return 3 * 64 + 1;
	case RANDOM:
		return 1 + rnd(seed) % (40 * 1024);
	case NSPLITS:
		break;
	}
	return 0;
}

static void
hash_split(struct rp_blake3 *h, const uint8_t *in, size_t len,
    enum split s)
{
	uint64_t seed = len;
	size_t off = 0, n, i = 0;

	while (off < len) {
		n = next_piece(s, i++, &seed);
		if (n == 0 || n > len - off)
			n = len - off;
		rp_blake3_update(h, in + off, n);
		off += n;
	}
	/* Empty updates anywhere change nothing. */
	rp_blake3_update(h, in, 0);
}

static void
check_case(const char *impl, const struct b3v_case *c, enum mode m)
{
	const char *hex[] = { c->hash, c->keyed_hash, c->derive_key };
	uint8_t want[B3V_OUT_LEN], got[B3V_OUT_LEN + 1], d[32];
	uint8_t *in = pattern(c->input_len);
	struct rp_blake3 h;
	size_t p;
	int s;

	hex_decode(hex[m], want, sizeof(want));
	for (s = 0; s < NSPLITS; s++) {
		init_mode(&h, m);
		hash_split(&h, in, c->input_len, (enum split)s);
		memset(got, 0xa5, sizeof(got));
		rp_blake3_final(&h, got, B3V_OUT_LEN);
		if (memcmp(got, want, B3V_OUT_LEN) != 0 ||
		    got[B3V_OUT_LEN] != 0xa5)
			t_fail(__FILE__, __LINE__,
			    "%s %s len %zu split %s: extended output differs",
			    impl, mode_names[m], c->input_len,
			    split_names[s]);
		/* The default length is the prefix, and final() left the
		 * state alone. */
		rp_blake3_final(&h, d, sizeof(d));
		if (memcmp(d, want, sizeof(d)) != 0)
			t_fail(__FILE__, __LINE__,
			    "%s %s len %zu split %s: 32-byte output differs",
			    impl, mode_names[m], c->input_len,
			    split_names[s]);
	}
	/* Every two-piece split of the smaller inputs. */
	if (m == HASH && c->input_len <= 3 * RP_BLAKE3_CHUNK_LEN) {
		for (p = 0; p <= c->input_len; p++) {
			init_mode(&h, m);
			rp_blake3_update(&h, in, p);
			rp_blake3_update(&h, in + p, c->input_len - p);
			rp_blake3_final(&h, d, sizeof(d));
			if (memcmp(d, want, sizeof(d)) != 0) {
				t_fail(__FILE__, __LINE__,
				    "%s len %zu split at %zu differs", impl,
				    c->input_len, p);
				break;
			}
		}
	}
	if (m == HASH) {
		rp_blake3(in, c->input_len, d);
		if (memcmp(d, want, sizeof(d)) != 0)
			t_fail(__FILE__, __LINE__, "%s rp_blake3 len %zu",
			    impl, c->input_len);
	}
	free(in);
}

static void
check_vectors(const char *impl)
{
	size_t i;
	int m;

	if (!use_impl(impl))
		return;
	for (i = 0; i < B3V_NCASES; i++)
		for (m = HASH; m <= DERIVE; m++)
			check_case(impl, &b3v_cases[i], (enum mode)m);
}

static void
test_vectors_portable(void)
{
	check_vectors("portable");
}

static void
test_vectors_sse41(void)
{
	check_vectors("sse41");
}

static void
test_vectors_avx2(void)
{
	check_vectors("avx2");
}

static void
test_vectors_avx512(void)
{
	check_vectors("avx512");
}

static void
test_vector_table(void)
{
	size_t i;

	/* All 35 official cases, each with 131 bytes in every mode. */
	T_EQ(B3V_NCASES, 35);
	for (i = 0; i < B3V_NCASES; i++) {
		T_EQ(strlen(b3v_cases[i].hash), 2 * B3V_OUT_LEN);
		T_EQ(strlen(b3v_cases[i].keyed_hash), 2 * B3V_OUT_LEN);
		T_EQ(strlen(b3v_cases[i].derive_key), 2 * B3V_OUT_LEN);
	}
	T_EQ(b3v_cases[B3V_NCASES - 1].input_len, 102400);
	T_EQ(strlen(B3V_KEY), RP_BLAKE3_KEY_LEN);
}

static void
test_extended_output_prefixes(void)
{
	struct rp_blake3 h;
	uint8_t in[3000], big[1000], small[200];
	size_t n;

	fill_random(in, sizeof(in), 1);
	rp_blake3_init(&h);
	rp_blake3_update(&h, in, sizeof(in));
	rp_blake3_final(&h, big, sizeof(big));
	/* Any length is a prefix of any longer one, across the 64-byte
	 * output blocks. */
	for (n = 0; n <= sizeof(small); n++) {
		memset(small, 0, sizeof(small));
		rp_blake3_final(&h, small, n);
		T_MEM(small, big, n);
		if (n < sizeof(small))
			T_EQ(small[n], 0);
	}
}

static void
test_final_then_more_input(void)
{
	uint8_t in[5000], a[32], b[32];
	struct rp_blake3 h;

	fill_random(in, sizeof(in), 2);
	rp_blake3_init(&h);
	rp_blake3_update(&h, in, 1500);
	rp_blake3_final(&h, a, sizeof(a));
	rp_blake3(in, 1500, b);
	T_MEM(a, b, 32);
	rp_blake3_update(&h, in + 1500, sizeof(in) - 1500);
	rp_blake3_final(&h, a, sizeof(a));
	rp_blake3(in, sizeof(in), b);
	T_MEM(a, b, 32);
}

static void
test_modes_differ(void)
{
	struct rp_blake3 h;
	uint8_t a[32], b[32], c[32], key[32];

	memset(key, 0, sizeof(key));
	rp_blake3_init(&h);
	rp_blake3_update(&h, "abc", 3);
	rp_blake3_final(&h, a, 32);
	rp_blake3_init_keyed(&h, key);
	rp_blake3_update(&h, "abc", 3);
	rp_blake3_final(&h, b, 32);
	rp_blake3_init_derive(&h, "");
	rp_blake3_update(&h, "abc", 3);
	rp_blake3_final(&h, c, 32);
	T_OK(memcmp(a, b, 32) != 0);
	T_OK(memcmp(a, c, 32) != 0);
	T_OK(memcmp(b, c, 32) != 0);
}

static void
test_set_impl(void)
{
	const char *best = rp_blake3_impl();
	size_t i;
	int seen_best = 0;

	errno = 0;
	T_EQ(rp_blake3_set_impl("mmx"), -1);
	T_EQ(errno, EINVAL);
	T_STR(rp_blake3_impl(), best);
	/* The default is the widest supported: everything up to it can be
	 * chosen, nothing after it. */
	for (i = 0; i < NIMPLS; i++) {
		int rc = rp_blake3_set_impl(impls[i]);

		if (seen_best) {
			T_EQ(rc, -1);
			T_EQ(errno, ENOTSUP);
		} else {
			T_EQ(rc, 0);
			T_STR(rp_blake3_impl(), impls[i]);
		}
		if (strcmp(impls[i], best) == 0)
			seen_best = 1;
	}
	T_OK(seen_best);
	T_EQ(rp_blake3_set_impl(NULL), 0);
	T_STR(rp_blake3_impl(), best);
	printf("# default implementation: %s\n", best);
}

/* Each SIMD kernel against the portable one on random inputs, for chunks
 * and parents, with counters that cross 2^32 inside one call. */
#ifdef RP_B3_X86
static const struct {
	const char *name;
	int width, level;
	void (*fn)(const uint8_t *const *, size_t, const uint32_t *,
	    uint64_t, int, uint32_t, uint32_t, uint32_t, uint8_t *);
} kernels[] = {
	{ "sse41", 4, RP_B3_SSE41, rp_blake3_hash4_sse41 },
	{ "avx2", 8, RP_B3_AVX2, rp_blake3_hash8_avx2 },
	{ "avx512", 16, RP_B3_AVX512, rp_blake3_hash16_avx512 },
};

static void
check_kernel(size_t k, const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend)
{
	uint8_t want[16 * 32], got[16 * 32];
	size_t i, w = (size_t)kernels[k].width;

	rp_blake3_hash_portable(in, 16, blocks, key, counter, inc, flags,
	    fstart, fend, want);
	memset(got, 0, sizeof(got));
	for (i = 0; i < 16; i += w)
		kernels[k].fn(in + i, blocks, key, counter + (inc ? i : 0),
		    inc, flags, fstart, fend, got + 32 * i);
	if (memcmp(got, want, sizeof(want)) != 0)
		t_fail(__FILE__, __LINE__,
		    "%s: counter %llx inc %d blocks %zu flags %x differs",
		    kernels[k].name, (unsigned long long)counter, inc, blocks,
		    flags);
}
#endif

static void
test_kernels_match_portable(void)
{
#ifdef RP_B3_X86
	static const uint64_t counters[] = { 0, 7, 0xfffffff9ull,
		0xfffffffcull, 0x123456789abull };
	const uint8_t *in[16];
	uint8_t *buf;
	uint32_t key[8];
	size_t c, i, k;
	int lvl = rp_blake3_x86_level(), tested = 0;

	buf = malloc(16 * 1024 + 7);
	T_OK(buf != NULL);
	if (buf == NULL)
		return;
	fill_random(buf, 16 * 1024 + 7, 3);
	for (i = 0; i < 8; i++)
		key[i] = (uint32_t)(0x01020304u * (i + 1));
	for (i = 0; i < 16; i++)
		/* Odd offsets: the kernels must not assume alignment. */
		in[i] = buf + 7 + i * 1024;
	for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
		if (lvl < kernels[k].level) {
			printf("# %s: not supported by this CPU\n",
			    kernels[k].name);
			continue;
		}
		tested++;
		for (c = 0; c < sizeof(counters) / sizeof(counters[0]); c++) {
			check_kernel(k, in, 16, key, counters[c], 1,
			    RP_B3_KEYED_HASH, RP_B3_CHUNK_START,
			    RP_B3_CHUNK_END);
			check_kernel(k, in, 16, key, counters[c], 0,
			    RP_B3_DERIVE_KEY_MATERIAL, RP_B3_CHUNK_START,
			    RP_B3_CHUNK_END);
			check_kernel(k, in, 1, key, counters[c], 0,
			    RP_B3_PARENT, 0, 0);
			check_kernel(k, in, 5, key, counters[c], 1, 0,
			    RP_B3_CHUNK_START, 0);
		}
	}
	T_OK(tested > 0 || lvl == RP_B3_PORTABLE);
	free(buf);
#else
	printf("# no SIMD kernels on this architecture\n");
#endif
}

/* Large inputs with irregular updates: every implementation agrees with
 * the portable one-shot hash. */
static void
test_impls_agree_large(void)
{
	size_t len = (3u << 20) + 4097, off, n, i;
	uint8_t *in = malloc(len), want[64], got[64];
	struct rp_blake3 h;
	uint64_t seed = 4;

	T_OK(in != NULL);
	if (in == NULL)
		return;
	fill_random(in, len, 5);
	T_EQ(rp_blake3_set_impl("portable"), 0);
	rp_blake3_init_keyed(&h, (const uint8_t *)B3V_KEY);
	rp_blake3_update(&h, in, len);
	rp_blake3_final(&h, want, sizeof(want));
	for (i = 0; i < NIMPLS; i++) {
		if (!use_impl(impls[i]))
			continue;
		rp_blake3_init_keyed(&h, (const uint8_t *)B3V_KEY);
		for (off = 0; off < len; off += n) {
			n = rnd(&seed) % (300 * 1024);
			if (n > len - off)
				n = len - off;
			rp_blake3_update(&h, in + off, n);
		}
		rp_blake3_final(&h, got, sizeof(got));
		if (memcmp(got, want, sizeof(want)) != 0)
			t_fail(__FILE__, __LINE__, "%s differs", impls[i]);
	}
	free(in);
}

/* ---------------------------------------------------------- b3sum peer */

static int
write_file(const char *path, const uint8_t *p, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -1;
	while (len > 0) {
		n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return close(fd);
}

/* b3sum's 64 hex digits for path, or -1. */
static int
b3sum(const char *path, char out[65])
{
	char cmd[600], line[128];
	FILE *f;
	int st, ok;

	snprintf(cmd, sizeof(cmd), "b3sum --no-names '%s'", path);
	f = popen(cmd, "r");
	if (f == NULL)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL && strlen(line) == 65 &&
	    line[64] == '\n';
	st = pclose(f);
	if (!ok || st != 0)
		return -1;
	memcpy(out, line, 64);
	out[64] = '\0';
	return 0;
}

static void
test_files_against_b3sum(void)
{
	static const size_t sizes[] = { 0, 1, 63, 64, 65, 1023, 1024, 1025,
		2047, 2048, 2049, 3073, 4096 + 1, 8193, 16384 * 3 + 5, 65536,
		(1u << 20) + 13, (8u << 20) + 1, (33u << 20) + 3 };
	size_t max = (33u << 20) + 3, s, i;
	uint8_t *data = malloc(max), d[32];
	char path[512], want[65], got[65];

	T_OK(data != NULL);
	if (data == NULL)
		return;
	snprintf(path, sizeof(path), "%s/in", t_tmpdir());
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		fill_random(data, sizes[s], 100 + s);
		T_EQ(write_file(path, data, sizes[s]), 0);
		T_EQ(b3sum(path, want), 0);
		for (i = 0; i < NIMPLS; i++) {
			if (rp_blake3_set_impl(impls[i]) != 0)
				continue;
			memset(d, 0, sizeof(d));
			T_EQ(rp_blake3_file(path, d), 0);
			hex_encode(d, sizeof(d), got);
			if (strcmp(got, want) != 0)
				t_fail(__FILE__, __LINE__,
				    "%s size %zu: %s, b3sum %s", impls[i],
				    sizes[s], got, want);
		}
	}
	unlink(path);
	free(data);
}

/* ---------------------------------------------------------------- fds */

static void
on_usr1(int sig)
{
	(void)sig;
}

/*
 * rp_blake3_fd on a pipe: many short reads, and SIGUSR1 (installed
 * without SA_RESTART) sent while the reader may sit in read(2), so EINTR
 * must be retried rather than reported.
 */
static void
test_fd_pipe(void)
{
	size_t len = (2u << 20) + 777, off, n;
	uint8_t *data = malloc(len), want[32], got[32];
	struct sigaction sa;
	uint64_t seed = 6;
	pid_t pid, parent = getpid();
	int p[2], st;

	T_OK(data != NULL);
	if (data == NULL)
		return;
	fill_random(data, len, 7);
	rp_blake3(data, len, want);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	T_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
	T_EQ(pipe2(p, O_CLOEXEC), 0);
	pid = fork();
	T_OK(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		for (off = 0; off < len; off += n) {
			n = 1 + rnd(&seed) % 70000;
			if (n > len - off)
				n = len - off;
			kill(parent, SIGUSR1);
			if (write(p[1], data + off, n) != (ssize_t)n)
				_exit(1);
		}
		_exit(0);
	}
	close(p[1]);
	memset(got, 0, sizeof(got));
	T_EQ(rp_blake3_fd(p[0], got), 0);
	T_MEM(got, want, 32);
	close(p[0]);
	T_EQ(waitpid(pid, &st, 0), pid);
	T_OK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	free(data);
}

/* From the fd's current offset, not from the start of the file. */
static void
test_fd_from_offset(void)
{
	uint8_t data[10000], want[32], got[32];
	char path[512];
	int fd;

	fill_random(data, sizeof(data), 8);
	snprintf(path, sizeof(path), "%s/off", t_tmpdir());
	T_EQ(write_file(path, data, sizeof(data)), 0);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	T_OK(fd >= 0);
	T_EQ(lseek(fd, 1234, SEEK_SET), 1234);
	T_EQ(rp_blake3_fd(fd, got), 0);
	rp_blake3(data + 1234, sizeof(data) - 1234, want);
	T_MEM(got, want, 32);
	/* At EOF now: what remains is the empty input. */
	T_EQ(rp_blake3_fd(fd, got), 0);
	rp_blake3("", 0, want);
	T_MEM(got, want, 32);
	close(fd);
	unlink(path);
}

static void
test_errors(void)
{
	char path[512];
	uint8_t d[32];
	int fd;

	snprintf(path, sizeof(path), "%s/missing", t_tmpdir());
	errno = 0;
	T_EQ(rp_blake3_file(path, d), -1);
	T_EQ(errno, ENOENT);

	errno = 0;
	T_EQ(rp_blake3_file(t_tmpdir(), d), -1);
	T_EQ(errno, EISDIR);

	errno = 0;
	T_EQ(rp_blake3_fd(-1, d), -1);
	T_EQ(errno, EBADF);

	/* Open, but not for reading. */
	snprintf(path, sizeof(path), "%s/wo", t_tmpdir());
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	T_OK(fd >= 0);
	errno = 0;
	T_EQ(rp_blake3_fd(fd, d), -1);
	T_EQ(errno, EBADF);
	close(fd);

	/* Closed. */
	errno = 0;
	T_EQ(rp_blake3_fd(fd, d), -1);
	T_EQ(errno, EBADF);
	unlink(path);
}

int
main(void)
{
	T_RUN(test_vector_table);
	T_RUN(test_vectors_portable);
	T_RUN(test_vectors_sse41);
	T_RUN(test_vectors_avx2);
	T_RUN(test_vectors_avx512);
	T_RUN(test_extended_output_prefixes);
	T_RUN(test_final_then_more_input);
	T_RUN(test_modes_differ);
	T_RUN(test_set_impl);
	T_RUN(test_kernels_match_portable);
	T_RUN(test_impls_agree_large);
	T_RUN(test_files_against_b3sum);
	T_RUN(test_fd_pipe);
	T_RUN(test_fd_from_offset);
	T_RUN(test_errors);
	return t_done();
}
