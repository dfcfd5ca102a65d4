/*
 * blake3_x86.c — SIMD kernels for blake3.c: 4 (SSE4.1), 8 (AVX2) or 16
 * (AVX-512) independent inputs compressed at once, one input per 32-bit
 * lane.  The state is kept "transposed": vector j holds word j of every
 * input's state, so the rounds are the portable G function applied to
 * whole vectors and need no shuffles; only loading the message blocks
 * and storing the results transpose.
 *
 * Each kernel is compiled for its instruction set with a target attribute
 * and chosen at run time (blake3.c), so the rest of the build keeps the
 * default flags and a CPU without the extension never runs it.  The
 * portable compress() in blake3.c is the reference; the unit tests check
 * every kernel the CPU has against the official vectors.
 */
#include "blake3_impl.h"

#ifdef RP_B3_X86

#include <immintrin.h>

#define TGT_SSE41 __attribute__((target("sse4.1")))
#define TGT_AVX2 __attribute__((target("avx2")))
#define TGT_AVX512 __attribute__((target("avx512f")))

int
rp_blake3_x86_level(void)
{
	__builtin_cpu_init();
	/* gcc's and clang's checks include the OS having enabled the wider
	 * register state (XCR0), not only the CPUID bits. */
	if (__builtin_cpu_supports("avx512f"))
		return RP_B3_AVX512;
	if (__builtin_cpu_supports("avx2"))
		return RP_B3_AVX2;
	if (__builtin_cpu_supports("sse4.1"))
		return RP_B3_SSE41;
	return RP_B3_PORTABLE;
}

/*
 * The seven rounds over v[16] with message m[16], written once for every
 * width: ADD, XOR and ROTn (rotate right by n) are defined per kernel
 * before use.  The message indices are literals so that m[] can stay in
 * registers.
 */
#define G(a, b, c, d, x, y)                                             \
	do {                                                            \
		v[a] = ADD(ADD(v[a], v[b]), x);                         \
		v[d] = ROT16(XOR(v[d], v[a]));                          \
		v[c] = ADD(v[c], v[d]);                                 \
		v[b] = ROT12(XOR(v[b], v[c]));                          \
		v[a] = ADD(ADD(v[a], v[b]), y);                         \
		v[d] = ROT8(XOR(v[d], v[a]));                           \
		v[c] = ADD(v[c], v[d]);                                 \
		v[b] = ROT7(XOR(v[b], v[c]));                           \
	} while (0)

#define ROUND(s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12,   \
    s13, s14, s15)                                                      \
	do {                                                            \
		G(0, 4, 8, 12, m[s0], m[s1]);                           \
		G(1, 5, 9, 13, m[s2], m[s3]);                           \
		G(2, 6, 10, 14, m[s4], m[s5]);                          \
		G(3, 7, 11, 15, m[s6], m[s7]);                          \
		G(0, 5, 10, 15, m[s8], m[s9]);                          \
		G(1, 6, 11, 12, m[s10], m[s11]);                        \
		G(2, 7, 8, 13, m[s12], m[s13]);                         \
		G(3, 4, 9, 14, m[s14], m[s15]);                         \
	} while (0)

/* The same schedule as blake3.c's table. */
#define ROUNDS()                                                        \
	do {                                                            \
		ROUND(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15); \
		ROUND(2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8); \
		ROUND(3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1); \
		ROUND(10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6); \
		ROUND(12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4); \
		ROUND(9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7); \
		ROUND(11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13); \
	} while (0)

/* Per-lane counters, split into the low and high state words. */
static void
lane_counters(uint64_t counter, int inc, int lanes, uint32_t lo[16],
    uint32_t hi[16])
{
	uint64_t c;
	int i;

	for (i = 0; i < lanes; i++) {
		c = counter + (inc ? (uint64_t)i : 0);
		lo[i] = (uint32_t)c;
		hi[i] = (uint32_t)(c >> 32);
	}
}

static uint32_t
block_flags(size_t b, size_t blocks, uint32_t flags, uint32_t fstart,
    uint32_t fend)
{
	if (b == 0)
		flags |= fstart;
	if (b + 1 == blocks)
		flags |= fend;
	return flags;
}

/* ------------------------------------------------------------- SSE4.1 */

#define ADD(a, b) _mm_add_epi32(a, b)
#define XOR(a, b) _mm_xor_si128(a, b)
#define ROT16(x) _mm_shuffle_epi8(x, r16)
#define ROT8(x) _mm_shuffle_epi8(x, r8)
#define ROT12(x) _mm_or_si128(_mm_srli_epi32(x, 12), _mm_slli_epi32(x, 20))
#define ROT7(x) _mm_or_si128(_mm_srli_epi32(x, 7), _mm_slli_epi32(x, 25))

/* Transpose a 4x4 matrix of 32-bit words held in r[0..3]. */
TGT_SSE41 static inline void
transpose4(__m128i r[4])
{
	__m128i t0 = _mm_unpacklo_epi32(r[0], r[1]);
	__m128i t1 = _mm_unpacklo_epi32(r[2], r[3]);
	__m128i t2 = _mm_unpackhi_epi32(r[0], r[1]);
	__m128i t3 = _mm_unpackhi_epi32(r[2], r[3]);

	r[0] = _mm_unpacklo_epi64(t0, t1);
	r[1] = _mm_unpackhi_epi64(t0, t1);
	r[2] = _mm_unpacklo_epi64(t2, t3);
	r[3] = _mm_unpackhi_epi64(t2, t3);
}

TGT_SSE41 void
rp_blake3_hash4_sse41(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out)
{
	const __m128i r16 = _mm_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8,
	    9, 14, 15, 12, 13);
	const __m128i r8 = _mm_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11,
	    8, 13, 14, 15, 12);
	__m128i h[8], v[16], m[16], clo, chi;
	uint32_t lo[16], hi[16];
	size_t b, off;
	int i, j;

	lane_counters(counter, inc, 4, lo, hi);
	clo = _mm_loadu_si128((const __m128i *)(const void *)lo);
	chi = _mm_loadu_si128((const __m128i *)(const void *)hi);
	for (j = 0; j < 8; j++)
		h[j] = _mm_set1_epi32((int)key[j]);
	for (b = 0; b < blocks; b++) {
		off = b * 64;
		/* m[4k..4k+3] = words 4k..4k+3 of the four blocks. */
		for (j = 0; j < 4; j++) {
			for (i = 0; i < 4; i++)
				m[4 * j + i] = _mm_loadu_si128(
				    (const __m128i *)(const void *)
				    (in[i] + off + 16 * j));
			transpose4(m + 4 * j);
		}
		for (j = 0; j < 8; j++)
			v[j] = h[j];
		for (j = 0; j < 4; j++)
			v[8 + j] = _mm_set1_epi32((int)rp_blake3_iv[j]);
		v[12] = clo;
		v[13] = chi;
		v[14] = _mm_set1_epi32(64);
		v[15] = _mm_set1_epi32(
		    (int)block_flags(b, blocks, flags, fstart, fend));
		ROUNDS();
		for (j = 0; j < 8; j++)
			h[j] = XOR(v[j], v[j + 8]);
	}
	transpose4(h);
	transpose4(h + 4);
	for (i = 0; i < 4; i++) {
		_mm_storeu_si128((__m128i *)(void *)(out + 32 * i), h[i]);
		_mm_storeu_si128((__m128i *)(void *)(out + 32 * i + 16),
		    h[4 + i]);
	}
}

#undef ADD
#undef XOR
#undef ROT16
#undef ROT8
#undef ROT12
#undef ROT7

/* --------------------------------------------------------------- AVX2 */

#define ADD(a, b) _mm256_add_epi32(a, b)
#define XOR(a, b) _mm256_xor_si256(a, b)
#define ROT16(x) _mm256_shuffle_epi8(x, r16)
#define ROT8(x) _mm256_shuffle_epi8(x, r8)
#define ROT12(x)                                                        \
	_mm256_or_si256(_mm256_srli_epi32(x, 12), _mm256_slli_epi32(x, 20))
#define ROT7(x)                                                         \
	_mm256_or_si256(_mm256_srli_epi32(x, 7), _mm256_slli_epi32(x, 25))

/* Transpose an 8x8 matrix of 32-bit words held in r[0..7]. */
TGT_AVX2 static inline void
transpose8(__m256i r[8])
{
	__m256i t[8], u[8];
	int k;

	for (k = 0; k < 4; k++) {
		t[2 * k] = _mm256_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
		t[2 * k + 1] = _mm256_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
	}
	/* In each 128-bit half: u[4g+k] = word k (or 4+k) of rows 4g..4g+3. */
	for (k = 0; k < 2; k++) {
		u[4 * k] = _mm256_unpacklo_epi64(t[4 * k], t[4 * k + 2]);
		u[4 * k + 1] = _mm256_unpackhi_epi64(t[4 * k], t[4 * k + 2]);
		u[4 * k + 2] = _mm256_unpacklo_epi64(t[4 * k + 1],
		    t[4 * k + 3]);
		u[4 * k + 3] = _mm256_unpackhi_epi64(t[4 * k + 1],
		    t[4 * k + 3]);
	}
	for (k = 0; k < 4; k++) {
		r[k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x20);
		r[4 + k] = _mm256_permute2x128_si256(u[k], u[4 + k], 0x31);
	}
}

TGT_AVX2 void
rp_blake3_hash8_avx2(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out)
{
	const __m256i r16 = _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11,
	    8, 9, 14, 15, 12, 13, 2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14,
	    15, 12, 13);
	const __m256i r8 = _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10,
	    11, 8, 13, 14, 15, 12, 1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13,
	    14, 15, 12);
	__m256i h[8], v[16], m[16], clo, chi;
	uint32_t lo[16], hi[16];
	size_t b, off;
	int i, j;

	lane_counters(counter, inc, 8, lo, hi);
	clo = _mm256_loadu_si256((const __m256i *)(const void *)lo);
	chi = _mm256_loadu_si256((const __m256i *)(const void *)hi);
	for (j = 0; j < 8; j++)
		h[j] = _mm256_set1_epi32((int)key[j]);
	for (b = 0; b < blocks; b++) {
		off = b * 64;
		/* m[8k..8k+7] = words 8k..8k+7 of the eight blocks. */
		for (j = 0; j < 2; j++) {
			for (i = 0; i < 8; i++)
				m[8 * j + i] = _mm256_loadu_si256(
				    (const __m256i *)(const void *)
				    (in[i] + off + 32 * j));
			transpose8(m + 8 * j);
		}
		for (j = 0; j < 8; j++)
			v[j] = h[j];
		for (j = 0; j < 4; j++)
			v[8 + j] = _mm256_set1_epi32((int)rp_blake3_iv[j]);
		v[12] = clo;
		v[13] = chi;
		v[14] = _mm256_set1_epi32(64);
		v[15] = _mm256_set1_epi32(
		    (int)block_flags(b, blocks, flags, fstart, fend));
		ROUNDS();
		for (j = 0; j < 8; j++)
			h[j] = XOR(v[j], v[j + 8]);
	}
	transpose8(h);
	for (i = 0; i < 8; i++)
		_mm256_storeu_si256((__m256i *)(void *)(out + 32 * i), h[i]);
}

#undef ADD
#undef XOR
#undef ROT16
#undef ROT8
#undef ROT12
#undef ROT7

/* ------------------------------------------------------------ AVX-512 */

#define ADD(a, b) _mm512_add_epi32(a, b)
#define XOR(a, b) _mm512_xor_si512(a, b)
#define ROT16(x) _mm512_ror_epi32(x, 16)
#define ROT12(x) _mm512_ror_epi32(x, 12)
#define ROT8(x) _mm512_ror_epi32(x, 8)
#define ROT7(x) _mm512_ror_epi32(x, 7)

/* Transpose a 16x16 matrix of 32-bit words held in r[0..15]. */
TGT_AVX512 static inline void
transpose16(__m512i r[16])
{
	__m512i t[16], u[16];
	int g, k;

	for (k = 0; k < 8; k++) {
		t[2 * k] = _mm512_unpacklo_epi32(r[2 * k], r[2 * k + 1]);
		t[2 * k + 1] = _mm512_unpackhi_epi32(r[2 * k], r[2 * k + 1]);
	}
	/* In each 128-bit lane L: u[4g+k] = word 4L+k of rows 4g..4g+3. */
	for (g = 0; g < 4; g++) {
		u[4 * g] = _mm512_unpacklo_epi64(t[4 * g], t[4 * g + 2]);
		u[4 * g + 1] = _mm512_unpackhi_epi64(t[4 * g], t[4 * g + 2]);
		u[4 * g + 2] = _mm512_unpacklo_epi64(t[4 * g + 1],
		    t[4 * g + 3]);
		u[4 * g + 3] = _mm512_unpackhi_epi64(t[4 * g + 1],
		    t[4 * g + 3]);
	}
	/* Now a 4x4 transpose of 128-bit lanes for each k: word 4L+k of
	 * all rows is lane L of u[k], u[4+k], u[8+k], u[12+k]. */
	for (k = 0; k < 4; k++) {
		__m512i ab_lo = _mm512_shuffle_i32x4(u[k], u[4 + k],
		    _MM_SHUFFLE(1, 0, 1, 0));
		__m512i ab_hi = _mm512_shuffle_i32x4(u[k], u[4 + k],
		    _MM_SHUFFLE(3, 2, 3, 2));
		__m512i cd_lo = _mm512_shuffle_i32x4(u[8 + k], u[12 + k],
		    _MM_SHUFFLE(1, 0, 1, 0));
		__m512i cd_hi = _mm512_shuffle_i32x4(u[8 + k], u[12 + k],
		    _MM_SHUFFLE(3, 2, 3, 2));

		r[k] = _mm512_shuffle_i32x4(ab_lo, cd_lo,
		    _MM_SHUFFLE(2, 0, 2, 0));
		r[4 + k] = _mm512_shuffle_i32x4(ab_lo, cd_lo,
		    _MM_SHUFFLE(3, 1, 3, 1));
		r[8 + k] = _mm512_shuffle_i32x4(ab_hi, cd_hi,
		    _MM_SHUFFLE(2, 0, 2, 0));
		r[12 + k] = _mm512_shuffle_i32x4(ab_hi, cd_hi,
		    _MM_SHUFFLE(3, 1, 3, 1));
	}
}

TGT_AVX512 void
rp_blake3_hash16_avx512(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out)
{
	__m512i h[16], v[16], m[16], clo, chi;
	uint32_t lo[16], hi[16];
	size_t b, off;
	int i, j;

	lane_counters(counter, inc, 16, lo, hi);
	clo = _mm512_loadu_si512(lo);
	chi = _mm512_loadu_si512(hi);
	for (j = 0; j < 8; j++)
		h[j] = _mm512_set1_epi32((int)key[j]);
	for (b = 0; b < blocks; b++) {
		off = b * 64;
		for (i = 0; i < 16; i++)
			m[i] = _mm512_loadu_si512(in[i] + off);
		transpose16(m);
		for (j = 0; j < 8; j++)
			v[j] = h[j];
		for (j = 0; j < 4; j++)
			v[8 + j] = _mm512_set1_epi32((int)rp_blake3_iv[j]);
		v[12] = clo;
		v[13] = chi;
		v[14] = _mm512_set1_epi32(64);
		v[15] = _mm512_set1_epi32(
		    (int)block_flags(b, blocks, flags, fstart, fend));
		ROUNDS();
		for (j = 0; j < 8; j++)
			h[j] = XOR(v[j], v[j + 8]);
	}
	/* Only words 0..7 exist: transpose with zero rows 8..15 and keep
	 * the low 256 bits of each result row. */
	for (j = 8; j < 16; j++)
		h[j] = _mm512_setzero_si512();
	transpose16(h);
	for (i = 0; i < 16; i++)
		_mm256_storeu_si256((__m256i *)(void *)(out + 32 * i),
		    _mm512_castsi512_si256(h[i]));
}

#endif /* RP_B3_X86 */
