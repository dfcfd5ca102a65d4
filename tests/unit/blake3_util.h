/*
 * blake3_util.h — what test_blake3.c and test_blake3_fd.c share: the
 * implementations to try, and deterministic pseudo-random input.
 */
#ifndef RP_TESTS_BLAKE3_UTIL_H
#define RP_TESTS_BLAKE3_UTIL_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const char *const impls[] = { "portable", "sse41", "avx2",
	"avx512" };
#define NIMPLS (sizeof(impls) / sizeof(impls[0]))

/* splitmix64: deterministic, so a failure reproduces. */
static inline uint64_t
rnd(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static inline void
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

static inline void
hex_encode(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", p[i]);
}

#endif
