/*
 * blake3.c — BLAKE3, written from the published specification (see
 * blake3.h).  This file holds the portable compression function, which is
 * the reference every SIMD kernel must match, the chunk and tree logic, and
 * the choice of kernel.
 *
 * The input is split into 1024-byte chunks, each hashed block by block
 * into a chaining value (CV); CVs are combined pairwise by parent nodes
 * into a binary tree whose left subtrees are always complete powers of
 * two.  The node at the top is compressed once more with ROOT, and its
 * output, at counters 0, 1, 2, ..., is the extended output.
 *
 * Speed comes from hashing many chunks at once: update() cuts the input
 * into aligned power-of-two subtrees, hashes all their chunks with the
 * widest kernel (one chunk per SIMD lane), then the parent levels the same
 * way, and pushes the subtree's one CV onto the stack.  The last chunk of
 * the input seen so far always stays in the chunk state, because until the
 * caller finalises nobody knows whether it is the root.
 */
#include <errno.h>
#include <stdatomic.h>
#include <string.h>

#include "blake3.h"
#include "blake3_impl.h"

#define BLOCK_LEN RP_BLAKE3_BLOCK_LEN
#define CHUNK_LEN RP_BLAKE3_CHUNK_LEN
#define BLOCKS_PER_CHUNK (CHUNK_LEN / BLOCK_LEN)

/* Chunks hashed together as one subtree: a power of two.  Large enough
 * that the first parent levels fill the widest kernel too; the buffers
 * for it live on the stack (about 10 KiB). */
#define BATCH_CHUNKS 128

const uint32_t rp_blake3_iv[8] = {
	0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
	0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
};

/* The message word order of each of the seven rounds: round r+1 applies
 * the fixed permutation 2,6,3,10,7,0,4,13,1,11,12,5,9,14,15,8 to round r. */
static const uint8_t schedule[7][16] = {
	{ 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 },
	{ 2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8 },
	{ 3, 4, 10, 12, 13, 2, 7, 14, 6, 5, 9, 0, 11, 15, 8, 1 },
	{ 10, 7, 12, 9, 14, 3, 13, 15, 4, 0, 11, 2, 5, 8, 1, 6 },
	{ 12, 13, 9, 11, 15, 10, 14, 8, 7, 2, 5, 3, 0, 1, 6, 4 },
	{ 9, 14, 11, 5, 8, 12, 15, 1, 13, 3, 0, 10, 2, 6, 4, 7 },
	{ 11, 15, 5, 0, 1, 9, 8, 6, 14, 10, 2, 12, 3, 4, 7, 13 },
};

/* ------------------------------------------------------------ portable */

static uint32_t
load32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	    (uint32_t)p[3] << 24;
}

static void
store32(uint8_t *p, uint32_t w)
{
	p[0] = (uint8_t)w;
	p[1] = (uint8_t)(w >> 8);
	p[2] = (uint8_t)(w >> 16);
	p[3] = (uint8_t)(w >> 24);
}

static uint32_t
rotr32(uint32_t w, unsigned n)
{
	return w >> n | w << (32 - n);
}

#define G(a, b, c, d, x, y)                                             \
	do {                                                            \
		v[a] = v[a] + v[b] + (x);                               \
		v[d] = rotr32(v[d] ^ v[a], 16);                         \
		v[c] = v[c] + v[d];                                     \
		v[b] = rotr32(v[b] ^ v[c], 12);                         \
		v[a] = v[a] + v[b] + (y);                               \
		v[d] = rotr32(v[d] ^ v[a], 8);                          \
		v[c] = v[c] + v[d];                                     \
		v[b] = rotr32(v[b] ^ v[c], 7);                          \
	} while (0)

/* The compression function: all 16 output words.  Words 0..7 are the new
 * chaining value; 8..15 only matter for extended root output. */
static void
compress(const uint32_t cv[8], const uint8_t block[BLOCK_LEN],
    uint32_t block_len, uint64_t counter, uint32_t flags, uint32_t out[16])
{
	uint32_t m[16], v[16];
	const uint8_t *s;
	int i, r;

	for (i = 0; i < 16; i++)
		m[i] = load32(block + 4 * i);
	for (i = 0; i < 8; i++)
		v[i] = cv[i];
	for (i = 0; i < 4; i++)
		v[8 + i] = rp_blake3_iv[i];
	v[12] = (uint32_t)counter;
	v[13] = (uint32_t)(counter >> 32);
	v[14] = block_len;
	v[15] = flags;
	for (r = 0; r < 7; r++) {
		s = schedule[r];
		G(0, 4, 8, 12, m[s[0]], m[s[1]]);
		G(1, 5, 9, 13, m[s[2]], m[s[3]]);
		G(2, 6, 10, 14, m[s[4]], m[s[5]]);
		G(3, 7, 11, 15, m[s[6]], m[s[7]]);
		G(0, 5, 10, 15, m[s[8]], m[s[9]]);
		G(1, 6, 11, 12, m[s[10]], m[s[11]]);
		G(2, 7, 8, 13, m[s[12]], m[s[13]]);
		G(3, 4, 9, 14, m[s[14]], m[s[15]]);
	}
	for (i = 0; i < 8; i++) {
		out[i] = v[i] ^ v[i + 8];
		out[i + 8] = v[i + 8] ^ cv[i];
	}
}

#undef G

static void
compress_cv(uint32_t cv[8], const uint8_t block[BLOCK_LEN],
    uint32_t block_len, uint64_t counter, uint32_t flags)
{
	uint32_t out[16];

	compress(cv, block, block_len, counter, flags, out);
	memcpy(cv, out, 8 * sizeof(uint32_t));
}

static void
hash_one(const uint8_t *in, size_t blocks, const uint32_t key[8],
    uint64_t counter, uint32_t flags, uint32_t fstart, uint32_t fend,
    uint8_t out[32])
{
	uint32_t cv[8], bf;
	size_t b;
	int i;

	memcpy(cv, key, sizeof(cv));
	for (b = 0; b < blocks; b++) {
		bf = flags;
		if (b == 0)
			bf |= fstart;
		if (b + 1 == blocks)
			bf |= fend;
		compress_cv(cv, in + b * BLOCK_LEN, BLOCK_LEN, counter, bf);
	}
	for (i = 0; i < 8; i++)
		store32(out + 4 * i, cv[i]);
}

void
rp_blake3_hash_portable(const uint8_t *const *in, size_t n, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out)
{
	for (; n > 0; n--, in++, out += 32) {
		hash_one(*in, blocks, key, counter, flags, fstart, fend, out);
		counter += inc ? 1 : 0;
	}
}

/* ------------------------------------------------------------ dispatch */

static const char *const impl_names[] = {
	[RP_B3_PORTABLE] = "portable",
	[RP_B3_SSE41] = "sse41",
	[RP_B3_AVX2] = "avx2",
	[RP_B3_AVX512] = "avx512",
};

/* -1 until first use; then the level in use.  Atomic because hashing may
 * start in several threads at once; they all compute the same value. */
static atomic_int impl_level = -1;

static int
best_level(void)
{
#ifdef RP_B3_X86
	return rp_blake3_x86_level();
#else
	return RP_B3_PORTABLE;
#endif
}

static int
level(void)
{
	int l = atomic_load_explicit(&impl_level, memory_order_relaxed);

	if (l < 0) {
		l = best_level();
		atomic_store_explicit(&impl_level, l, memory_order_relaxed);
	}
	return l;
}

const char *
rp_blake3_impl(void)
{
	return impl_names[level()];
}

int
rp_blake3_set_impl(const char *name)
{
	int l;

	if (name == NULL) {
		atomic_store(&impl_level, best_level());
		return 0;
	}
	for (l = RP_B3_PORTABLE; l <= RP_B3_AVX512; l++)
		if (strcmp(name, impl_names[l]) == 0)
			break;
	if (l > RP_B3_AVX512) {
		errno = EINVAL;
		return -1;
	}
	if (l > best_level()) {
		errno = ENOTSUP;
		return -1;
	}
	atomic_store(&impl_level, l);
	return 0;
}

/*
 * Hash n inputs of `blocks` blocks each into n CVs at out (the kernel
 * contract in blake3_impl.h), the widest kernel first while enough inputs
 * remain, then narrower ones, then one at a time.
 */
static void
hash_many(const uint8_t *const *in, size_t n, size_t blocks,
    const uint32_t key[8], uint64_t counter, int inc, uint32_t flags,
    uint32_t fstart, uint32_t fend, uint8_t *out)
{
	int l = level();

#ifdef RP_B3_X86
	if (l >= RP_B3_AVX512)
		for (; n >= 16; n -= 16, in += 16, out += 16 * 32) {
			rp_blake3_hash16_avx512(in, blocks, key, counter, inc,
			    flags, fstart, fend, out);
			counter += inc ? 16 : 0;
		}
	if (l >= RP_B3_AVX2)
		for (; n >= 8; n -= 8, in += 8, out += 8 * 32) {
			rp_blake3_hash8_avx2(in, blocks, key, counter, inc,
			    flags, fstart, fend, out);
			counter += inc ? 8 : 0;
		}
	if (l >= RP_B3_SSE41)
		for (; n >= 4; n -= 4, in += 4, out += 4 * 32) {
			rp_blake3_hash4_sse41(in, blocks, key, counter, inc,
			    flags, fstart, fend, out);
			counter += inc ? 4 : 0;
		}
#else
	(void)l;
#endif
	rp_blake3_hash_portable(in, n, blocks, key, counter, inc, flags,
	    fstart, fend, out);
}

/* ---------------------------------------------------------------- tree */

/* A node not yet compressed: enough to produce either its CV or, at the
 * root, any amount of output. */
struct node {
	uint32_t cv[8];
	uint8_t block[BLOCK_LEN];
	uint32_t block_len;
	uint64_t counter;
	uint32_t flags;
};

static void
node_cv(const struct node *n, uint8_t out[32])
{
	uint32_t w[16];
	int i;

	compress(n->cv, n->block, n->block_len, n->counter, n->flags, w);
	for (i = 0; i < 8; i++)
		store32(out + 4 * i, w[i]);
}

static void
parent_node(struct node *n, const uint32_t key[8], uint32_t flags,
    const uint8_t left[32], const uint8_t right[32])
{
	memcpy(n->cv, key, sizeof(n->cv));
	memcpy(n->block, left, 32);
	memcpy(n->block + 32, right, 32);
	n->block_len = BLOCK_LEN;
	n->counter = 0;
	n->flags = flags | RP_B3_PARENT;
}

static void
parent_cv(const uint32_t key[8], uint32_t flags, const uint8_t left[32],
    const uint8_t right[32], uint8_t out[32])
{
	struct node n;

	parent_node(&n, key, flags, left, right);
	node_cv(&n, out);
}

static size_t
chunk_len(const struct rp_blake3 *h)
{
	return (size_t)h->blocks_compressed * BLOCK_LEN + h->block_len;
}

static uint32_t
chunk_start_flag(const struct rp_blake3 *h)
{
	return h->blocks_compressed == 0 ? RP_B3_CHUNK_START : 0;
}

static void
chunk_reset(struct rp_blake3 *h)
{
	memcpy(h->cv, h->key, sizeof(h->cv));
	memset(h->block, 0, sizeof(h->block));
	h->block_len = 0;
	h->blocks_compressed = 0;
}

/* Add input to the current chunk; never more than fits in it.  A full
 * block is compressed only once more input follows it, since the last
 * block of a chunk carries CHUNK_END (and maybe ROOT). */
static void
chunk_update(struct rp_blake3 *h, const uint8_t *in, size_t len)
{
	size_t take;

	while (len > 0) {
		if (h->block_len == BLOCK_LEN) {
			compress_cv(h->cv, h->block, BLOCK_LEN,
			    h->chunk_counter, h->flags | chunk_start_flag(h));
			h->blocks_compressed++;
			h->block_len = 0;
			memset(h->block, 0, sizeof(h->block));
		}
		/* Whole blocks with more behind them go straight from the
		 * caller's buffer. */
		while (h->block_len == 0 && len > BLOCK_LEN) {
			compress_cv(h->cv, in, BLOCK_LEN, h->chunk_counter,
			    h->flags | chunk_start_flag(h));
			h->blocks_compressed++;
			in += BLOCK_LEN;
			len -= BLOCK_LEN;
		}
		take = BLOCK_LEN - h->block_len;
		if (take > len)
			take = len;
		memcpy(h->block + h->block_len, in, take);
		h->block_len = (uint8_t)(h->block_len + take);
		in += take;
		len -= take;
	}
}

static void
chunk_node(const struct rp_blake3 *h, struct node *n)
{
	memcpy(n->cv, h->cv, sizeof(n->cv));
	memcpy(n->block, h->block, sizeof(n->block));
	n->block_len = h->block_len;
	n->counter = h->chunk_counter;
	n->flags = h->flags | chunk_start_flag(h) | RP_B3_CHUNK_END;
}

/*
 * Push the CV of a subtree and merge: afterwards the stack holds one CV
 * per 1 bit of `total`, the chunk count so far, largest subtree first.
 * Merging at once is right only because update() pushes nothing until
 * more input follows it: a merged CV is then never the root.
 */
static void
push_cv(struct rp_blake3 *h, const uint8_t cv[32], uint64_t total)
{
	uint8_t *top;

	memcpy(h->cv_stack + (size_t)h->cv_stack_len * 32, cv, 32);
	h->cv_stack_len++;
	while (h->cv_stack_len > (unsigned)__builtin_popcountll(total)) {
		top = h->cv_stack + (size_t)(h->cv_stack_len - 2) * 32;
		parent_cv(h->key, h->flags, top, top + 32, top);
		h->cv_stack_len--;
	}
}

/* The CV of n whole chunks at in (n a power of two, 1..BATCH_CHUNKS),
 * the first of which has index h->chunk_counter. */
static void
subtree_cv(const struct rp_blake3 *h, const uint8_t *in, size_t n,
    uint8_t out[32])
{
	const uint8_t *ptr[BATCH_CHUNKS];
	uint8_t a[BATCH_CHUNKS * 32], b[BATCH_CHUNKS / 2 * 32];
	uint8_t *cur = a, *next = b, *t;
	size_t i;

	for (i = 0; i < n; i++)
		ptr[i] = in + i * CHUNK_LEN;
	hash_many(ptr, n, BLOCKS_PER_CHUNK, h->key, h->chunk_counter, 1,
	    h->flags, RP_B3_CHUNK_START, RP_B3_CHUNK_END, cur);
	while (n > 1) {
		n /= 2;
		for (i = 0; i < n; i++)
			ptr[i] = cur + i * 64;
		hash_many(ptr, n, 1, h->key, 0, 0, h->flags | RP_B3_PARENT,
		    0, 0, next);
		t = cur;
		cur = next;
		next = t;
	}
	memcpy(out, cur, 32);
}

/* ---------------------------------------------------------------- API */

static void
init_with(struct rp_blake3 *h, const uint32_t key[8], uint32_t flags)
{
	memset(h, 0, sizeof(*h));
	memcpy(h->key, key, sizeof(h->key));
	h->flags = flags;
	chunk_reset(h);
}

void
rp_blake3_init(struct rp_blake3 *h)
{
	init_with(h, rp_blake3_iv, 0);
}

void
rp_blake3_init_keyed(struct rp_blake3 *h, const uint8_t key[32])
{
	uint32_t k[8];
	int i;

	for (i = 0; i < 8; i++)
		k[i] = load32(key + 4 * i);
	init_with(h, k, RP_B3_KEYED_HASH);
}

void
rp_blake3_init_derive(struct rp_blake3 *h, const char *context)
{
	struct rp_blake3 ctx;
	uint8_t ck[32];
	uint32_t k[8];
	int i;

	/* The context string is hashed in its own mode; its hash is the
	 * key of the key-material hash. */
	init_with(&ctx, rp_blake3_iv, RP_B3_DERIVE_KEY_CONTEXT);
	rp_blake3_update(&ctx, context, strlen(context));
	rp_blake3_final(&ctx, ck, sizeof(ck));
	for (i = 0; i < 8; i++)
		k[i] = load32(ck + 4 * i);
	init_with(h, k, RP_B3_DERIVE_KEY_MATERIAL);
}

void
rp_blake3_update(struct rp_blake3 *h, const void *data, size_t len)
{
	const uint8_t *in = data;
	struct node nd;
	uint8_t cv[32];
	size_t take, n;

	if (len == 0)
		return;
	/* Finish the chunk in progress; once it is full and more input
	 * follows, it is not the root and its CV can go on the stack. */
	if (chunk_len(h) > 0) {
		take = CHUNK_LEN - chunk_len(h);
		if (take > len)
			take = len;
		chunk_update(h, in, take);
		in += take;
		len -= take;
		if (len == 0)
			return;
		chunk_node(h, &nd);
		node_cv(&nd, cv);
		h->chunk_counter++;
		push_cv(h, cv, h->chunk_counter);
		chunk_reset(h);
	}
	/* Whole subtrees, each the largest power of two of chunks that is
	 * aligned at its own size (so it is a node of the final tree) and
	 * leaves at least one byte behind (so it is not the root). */
	while (len > CHUNK_LEN) {
		n = BATCH_CHUNKS;
		while (n > 1 && ((uint64_t)n * CHUNK_LEN >= len ||
		    (h->chunk_counter & (n - 1)) != 0))
			n /= 2;
		subtree_cv(h, in, n, cv);
		h->chunk_counter += n;
		push_cv(h, cv, h->chunk_counter);
		in += n * CHUNK_LEN;
		len -= n * CHUNK_LEN;
	}
	chunk_update(h, in, len);
}

void
rp_blake3_final(const struct rp_blake3 *h, uint8_t *out, size_t outlen)
{
	struct node nd;
	uint8_t cv[32];
	uint32_t w[16];
	uint64_t counter = 0;
	size_t i, take;
	int j;

	/* The rightmost path, merged from the top of the stack down; the
	 * last node formed is the root. */
	chunk_node(h, &nd);
	for (i = h->cv_stack_len; i > 0; i--) {
		node_cv(&nd, cv);
		parent_node(&nd, h->key, h->flags, h->cv_stack + (i - 1) * 32,
		    cv);
	}
	while (outlen > 0) {
		compress(nd.cv, nd.block, nd.block_len, counter,
		    nd.flags | RP_B3_ROOT, w);
		take = outlen < 64 ? outlen : 64;
		for (j = 0; j < 16 && take > 0; j++) {
			uint8_t b[4];
			size_t k = take < 4 ? take : 4;

			store32(b, w[j]);
			memcpy(out, b, k);
			out += k;
			take -= k;
			outlen -= k;
		}
		counter++;
	}
}

void
rp_blake3(const void *data, size_t len, uint8_t out[32])
{
	struct rp_blake3 h;

	rp_blake3_init(&h);
	rp_blake3_update(&h, data, len);
	rp_blake3_final(&h, out, RP_BLAKE3_OUT_LEN);
}
