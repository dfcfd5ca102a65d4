/*
 * blake3_impl.h — internal to the blake3 module: what lib/blake3.c shares
 * with the SIMD kernels in lib/blake3_x86.c.  Not a contract for callers;
 * use blake3.h.
 */
#ifndef RP_BLAKE3_IMPL_H
#define RP_BLAKE3_IMPL_H

#include <stddef.h>
#include <stdint.h>

/* Domain-separation flags (the fourth word of a compression's last row). */
#define RP_B3_CHUNK_START 0x01u
#define RP_B3_CHUNK_END 0x02u
#define RP_B3_PARENT 0x04u
#define RP_B3_ROOT 0x08u
#define RP_B3_KEYED_HASH 0x10u
#define RP_B3_DERIVE_KEY_CONTEXT 0x20u
#define RP_B3_DERIVE_KEY_MATERIAL 0x40u

/* Implementation levels, in increasing order of width. */
#define RP_B3_PORTABLE 0
#define RP_B3_SSE41 1
#define RP_B3_AVX2 2
#define RP_B3_AVX512 3

/* The initialisation vector (the SHA-256 one). */
extern const uint32_t rp_blake3_iv[8];

/*
 * Compress n independent inputs.  Input i is `blocks` whole 64-byte
 * blocks at in[i]; its chaining value starts as key and its 32-byte result
 * goes to out + 32 * i.  Every block of input i uses counter + i (or
 * counter alone when inc is 0) and the flags `flags`, plus fstart on its
 * first block and fend on its last.  Chunks are 16 blocks with
 * CHUNK_START/CHUNK_END; parents 1 block with PARENT.  Every kernel reads
 * all of its inputs before writing out.
 *
 * This one is portable and takes any n: the reference for the others.
 */
void rp_blake3_hash_portable(const uint8_t *const *in, size_t n,
    size_t blocks, const uint32_t key[8], uint64_t counter, int inc,
    uint32_t flags, uint32_t fstart, uint32_t fend, uint8_t *out);

#if defined(__x86_64__) || defined(__i386__)
#define RP_B3_X86 1

/* The best level this CPU (and OS) supports. */
int rp_blake3_x86_level(void);

/* The same for exactly 4 / 8 / 16 inputs, one per SIMD lane; call only
 * at or below rp_blake3_x86_level(). */
void rp_blake3_hash4_sse41(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out);
void rp_blake3_hash8_avx2(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out);
void rp_blake3_hash16_avx512(const uint8_t *const *in, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out);
#endif

#endif
