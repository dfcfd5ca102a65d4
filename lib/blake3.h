/*
 * blake3.h — BLAKE3 (hash mode, 32-byte or extended output), written from
 * the published specification.  Incremental; any input split gives the
 * same result.  Uses SIMD (SSE4.1/AVX2/AVX-512) when the CPU has it and
 * falls back to portable C otherwise; results are identical.
 */
#ifndef RP_BLAKE3_H
#define RP_BLAKE3_H

#include <stddef.h>
#include <stdint.h>

#define RP_BLAKE3_OUT_LEN 32
#define RP_BLAKE3_KEY_LEN 32
#define RP_BLAKE3_BLOCK_LEN 64
#define RP_BLAKE3_CHUNK_LEN 1024
#define RP_BLAKE3_MAX_DEPTH 54

struct rp_blake3 {
	uint32_t key[8];
	uint32_t flags;
	/* the chunk being filled */
	uint32_t cv[8];
	uint64_t chunk_counter;
	uint8_t block[RP_BLAKE3_BLOCK_LEN];
	uint8_t block_len;
	uint8_t blocks_compressed;
	/* the stack of subtree chaining values */
	uint8_t cv_stack_len;
	uint8_t cv_stack[(RP_BLAKE3_MAX_DEPTH + 1) * RP_BLAKE3_OUT_LEN];
};

void rp_blake3_init(struct rp_blake3 *h);
/* Keyed hash mode (key is 32 bytes); used by the official test vectors. */
void rp_blake3_init_keyed(struct rp_blake3 *h, const uint8_t key[32]);
/* Key derivation mode. */
void rp_blake3_init_derive(struct rp_blake3 *h, const char *context);
void rp_blake3_update(struct rp_blake3 *h, const void *data, size_t len);
/* Any output length; the first 32 bytes are the usual digest.  Does not
 * modify the state, so more input may follow. */
void rp_blake3_final(const struct rp_blake3 *h, uint8_t *out, size_t outlen);

/* One call: the 32-byte hash of data. */
void rp_blake3(const void *data, size_t len, uint8_t out[32]);

/* Hash everything readable from fd (from its current offset) / the file at
 * path.  Return 0, or -1 with errno. */
int rp_blake3_fd(int fd, uint8_t out[32]);
int rp_blake3_file(const char *path, uint8_t out[32]);

/* The implementation in use: "avx512", "avx2", "sse41" or "portable". */
const char *rp_blake3_impl(void);

/* Use the named implementation (a name as above) instead of the best one
 * the CPU supports; NULL goes back to the best.  For tests and benchmarks:
 * call it while no other thread is hashing.  Returns 0, or -1 with EINVAL
 * for an unknown name or ENOTSUP when this CPU or build lacks it. */
int rp_blake3_set_impl(const char *name);

#endif
