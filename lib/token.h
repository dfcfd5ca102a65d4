/*
 * token.h — one-time handoff tokens (spec 40-handoff.md "The token").
 *
 * A token is 16 random bytes, shown to people as 32 lowercase hex
 * characters, compared in constant time.  The store remembers tokens for a
 * time-to-live so that each one is accepted at most once.
 */
#ifndef RP_TOKEN_H
#define RP_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define RP_TOKEN_LEN 16
#define RP_TOKEN_HEX_LEN 32
#define RP_TOKEN_TTL_MS 30000   /* default lifetime */

/* Fill tok with fresh random bytes (libsodium; rp_init() first). */
void rp_token_generate(uint8_t tok[RP_TOKEN_LEN]);

/* 32 lowercase hex characters and a NUL. */
void rp_token_to_hex(const uint8_t tok[RP_TOKEN_LEN], char hex[RP_TOKEN_HEX_LEN + 1]);

/* Parse exactly 32 hex digits (either case) from s[0..len), ignoring
 * surrounding whitespace.  Returns 0 or -1 with EINVAL. */
int rp_token_from_hex(const char *s, size_t len, uint8_t tok[RP_TOKEN_LEN]);

/* Read a token file: 32 hex digits, optionally surrounded by whitespace.
 * Any readable file works, pipes included; more than 256 bytes is not a
 * token.  Returns 0, or -1 with errno (the open/read error, or EINVAL when
 * the content is not a token).  (Implemented in lib/token_file.c.) */
int rp_token_read_file(const char *path, uint8_t tok[RP_TOKEN_LEN]);

/* Several tokens (one per transfer a receiver expects), separated by
 * whitespace, from s[0..len).  Up to max are stored in toks.  Returns how
 * many (at least 1), or -1 with errno EINVAL (empty, or a word that is
 * not 32 hex digits) or E2BIG (more than max). */
int rp_token_parse_list(const char *s, size_t len,
    uint8_t (*toks)[RP_TOKEN_LEN], size_t max);

/* The same from a file (pipes included), of at most 40 * max + 256 bytes
 * (else EINVAL).  (Implemented in lib/token_file.c.) */
int rp_token_read_list(const char *path, uint8_t (*toks)[RP_TOKEN_LEN],
    size_t max);

/* Constant-time equality of two tokens: 1 equal, 0 different. */
int rp_token_equal(const uint8_t a[RP_TOKEN_LEN], const uint8_t b[RP_TOKEN_LEN]);

/* The outcome of presenting a token; the messages are the exact texts of
 * the spec. */
enum rp_token_verdict {
	RP_TOKEN_OK = 0,
	RP_TOKEN_MISSING,      /* "handoff token is missing" */
	RP_TOKEN_BAD_LENGTH,   /* "handoff token length was N bytes; expected 16" */
	RP_TOKEN_MISMATCH,     /* "handoff token mismatch" */
	RP_TOKEN_NOT_PENDING,  /* "handoff token is not pending" (a replay) */
	RP_TOKEN_EXPIRED,      /* "handoff token expired" */
	RP_TOKEN_FULL,         /* the store has no room (treated as a refusal) */
};

/* Write the message for a verdict (presented_len is used by BAD_LENGTH),
 * truncated to bufsz.  OK is "handoff token accepted", FULL "handoff token
 * store is full".  Returns buf. */
const char *rp_token_verdict_str(enum rp_token_verdict v, size_t presented_len,
    char *buf, size_t bufsz);

/* Shape check of a presented token: MISSING for 0 bytes, BAD_LENGTH unless
 * 16, else OK. */
enum rp_token_verdict rp_token_check_len(size_t len);

/*
 * The store.  Each entry is pending (issued or expected, not yet used) or
 * used (accepted once; kept until it expires so a replay is recognised).
 * Lookups hash the token and compare in constant time.  Times are monotonic
 * milliseconds supplied by the caller, which keeps the store testable; a
 * time earlier than one already seen counts as the latest seen.  An entry
 * made at t is gone from t + ttl_ms on (now >= t + ttl_ms is expired).
 * Expired entries are dropped by expire(), when presented, or one at a
 * time when an insertion needs room; nothing allocates after _new(), and
 * issue, expect, take, remember and revoke are O(1).
 */
struct rp_token_store;

/* capacity live entries (at most 2^28), each living ttl_ms.  NULL with
 * ENOMEM, or EINVAL for a zero or too large capacity or ttl_ms <= 0. */
struct rp_token_store *rp_token_store_new(size_t capacity, int64_t ttl_ms);
void rp_token_store_free(struct rp_token_store *s);

/* Generate a fresh pending token (the broker issuing one).  -1 with ENOSPC
 * when the store is full of live entries.  Tokens come from a pool of
 * random bytes the store fills 16 tokens at a time (one call to the
 * system's random source instead of one per token); each is taken once
 * and zeroed in the pool, a forked child refills its own (rp_init()
 * first), and the pool is zeroed with the store. */
int rp_token_store_issue(struct rp_token_store *s, int64_t now,
    uint8_t tok[RP_TOKEN_LEN]);

/* Register a token we expect to be presented (a standalone receiver).
 * -1 with ENOSPC when full, EEXIST when already known. */
int rp_token_store_expect(struct rp_token_store *s,
    const uint8_t tok[RP_TOKEN_LEN], int64_t now);

/* Present a token against pending entries: OK consumes it (it becomes
 * used, and is remembered for ttl_ms from now); an unknown token is
 * MISMATCH and consumes nothing; a used one is NOT_PENDING; a pending one
 * past its ttl is EXPIRED (and removed).  A used one past its ttl is
 * forgotten, then unknown: MISMATCH.  Shape faults (MISSING, BAD_LENGTH;
 * tok NULL counts as 0 bytes) are reported first. */
enum rp_token_verdict rp_token_store_take(struct rp_token_store *s,
    const uint8_t *tok, size_t len, int64_t now);

/* Replay cache (a backend that accepts any broker-issued token once): OK
 * and remembered when unseen, NOT_PENDING when seen within its ttl, FULL
 * when there is no room.  A pending (expected) token is accepted once, as
 * by take().  Shape faults are reported first, as by take(). */
enum rp_token_verdict rp_token_store_remember(struct rp_token_store *s,
    const uint8_t *tok, size_t len, int64_t now);

/* Forget a pending token without using it (an abandoned handoff).
 * Returns 0, or -1 with ENOENT (unknown, or already used). */
int rp_token_store_revoke(struct rp_token_store *s,
    const uint8_t tok[RP_TOKEN_LEN]);

/* Drop entries past their ttl; returns how many were dropped. */
size_t rp_token_store_expire(struct rp_token_store *s, int64_t now);

/* Entries held (pending + used), counting expired ones not yet dropped. */
size_t rp_token_store_count(const struct rp_token_store *s);

#endif
