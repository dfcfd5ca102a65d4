/*
 * replay.h — a backend's memory of the handoff tokens it accepted, so
 * that each is accepted at most once (40-handoff.md "The token": "a
 * receiver remembers every token it accepted for at least its lifetime
 * and rejects a replay"), sized for a backend that takes tens of
 * thousands of handoffs a second.
 *
 * It keeps no tokens: a token is remembered as its 64-bit keyed hash
 * (SipHash, crypto_shorthash, with a key drawn when the memory is made),
 * in open-addressed tables of 8-byte slots at most three quarters full.
 * Two tables take turns: the current one takes new tokens; once it is
 * ttl_ms old it becomes the previous one (still consulted) and the one
 * before is emptied and reused.  So every token is remembered for at
 * least ttl_ms (and at most until the second turn after it), lookups
 * look at both tables, and memory follows the rate: a table grows by
 * doubling as tokens come and is made to the last window's size at each
 * turn.  A replay is always recognised; a fresh token is refused only
 * when its hash equals a remembered one's (about n / 2^64 for n
 * remembered) or when the window is full.
 */
#ifndef RP_REPLAY_H
#define RP_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "token.h"

/* The most tokens a backend remembers per window by default: at 3/4 load
 * that is 2^22 slots (32 MiB) per table, ~100k handoffs a second over a
 * 30 s window. */
#define RP_REPLAY_DEFAULT_MAX (UINT32_C(3) << 20)

struct rp_replay;

/* A memory for tokens of lifetime ttl_ms (> 0), taking at most max
 * (1 .. 2^28) tokens per window.  NULL with EINVAL or ENOMEM. */
struct rp_replay *rp_replay_new(int64_t ttl_ms, size_t max);
/* Zeroes and frees (NULL is fine). */
void rp_replay_free(struct rp_replay *r);

/* Present a token at monotonic time now (ms; a time earlier than one
 * already seen counts as the latest seen).  Shape faults first
 * (RP_TOKEN_MISSING, RP_TOKEN_BAD_LENGTH; tok NULL counts as 0 bytes),
 * then RP_TOKEN_NOT_PENDING for a token seen within at least ttl_ms,
 * else RP_TOKEN_OK (it is remembered from now), or RP_TOKEN_FULL when
 * the window holds max tokens already or a table cannot grow (nothing
 * is remembered then). */
enum rp_token_verdict rp_replay_check(struct rp_replay *r, const uint8_t *tok,
    size_t len, int64_t now);

/* Tokens remembered (both windows). */
size_t rp_replay_count(const struct rp_replay *r);
/* Bytes of memory held for the tables. */
size_t rp_replay_bytes(const struct rp_replay *r);

#endif
