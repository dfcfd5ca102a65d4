/*
 * Unit tests for blake3: the official test vectors in all three modes and
 * with many input splits, on every implementation this CPU has; each SIMD
 * kernel against the portable one (counters past 2^32 included).  Portable:
 * also built for Windows.  Files and fds: test_blake3_fd.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blake3.h"
#include "blake3_impl.h"
#include "blake3_util.h"
#include "blake3_vectors.h"
#include "t.h"

enum mode { HASH, KEYED, DERIVE };
static const char *const mode_names[] = { "hash", "keyed", "derive" };

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

/* Select impl; a CPU may lack it, and then the refusal must say so
 * (test_set_impl checks which ones are refused). */
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
	return t_done();
}
