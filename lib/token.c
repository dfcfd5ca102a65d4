/*
 * token.c — one-time handoff tokens and the store that accepts each one at
 * most once (spec 40-handoff.md "The token").
 *
 * The store is sized once: a slab of capacity entries and an open-addressed
 * table of at least twice as many slots, so issue, take and remember never
 * allocate and cost O(1).  Every entry lives ttl_ms from when it was made
 * (or, for a used one, from when it was accepted); since ttl is the same
 * for all and time never goes backwards, a doubly linked list in insertion
 * order is also the order of expiry, and reclaiming the oldest is O(1).
 */
#include <errno.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse.h"
#include "rp.h"
#include "token.h"

void
rp_token_generate(uint8_t tok[RP_TOKEN_LEN])
{
	randombytes_buf(tok, RP_TOKEN_LEN);
}

void
rp_token_to_hex(const uint8_t tok[RP_TOKEN_LEN], char hex[RP_TOKEN_HEX_LEN + 1])
{
	rp_hex_encode(tok, RP_TOKEN_LEN, hex);
}

/* The C locale's isspace(), spelled out so a caller's locale cannot widen
 * what we accept. */
static int
is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' ||
	    c == '\r';
}

int
rp_token_from_hex(const char *s, size_t len, uint8_t tok[RP_TOKEN_LEN])
{
	uint8_t out[RP_TOKEN_LEN];
	size_t b = 0, e = len;

	if (s == NULL)
		goto bad;
	while (b < e && is_space((unsigned char)s[b]))
		b++;
	while (e > b && is_space((unsigned char)s[e - 1]))
		e--;
	if (rp_hex_decode(s + b, e - b, out, RP_TOKEN_LEN) != 0)
		goto bad;
	/* The caller's buffer is written only on success. */
	memcpy(tok, out, RP_TOKEN_LEN);
	sodium_memzero(out, sizeof(out));
	return 0;
bad:
	sodium_memzero(out, sizeof(out));
	errno = EINVAL;
	return -1;
}

int
rp_token_parse_list(const char *s, size_t len, uint8_t (*toks)[RP_TOKEN_LEN],
    size_t max)
{
	size_t i = 0, b, n = 0;

	if (s == NULL) {
		errno = EINVAL;
		return -1;
	}
	for (;;) {
		while (i < len && is_space((unsigned char)s[i]))
			i++;
		if (i == len)
			break;
		b = i;
		while (i < len && !is_space((unsigned char)s[i]))
			i++;
		if (n == max) {
			errno = E2BIG;
			return -1;
		}
		if (rp_token_from_hex(s + b, i - b, toks[n]) != 0)
			return -1;
		n++;
	}
	if (n == 0 || n > INT_MAX) {
		errno = EINVAL;
		return -1;
	}
	return (int)n;
}

int
rp_token_equal(const uint8_t a[RP_TOKEN_LEN], const uint8_t b[RP_TOKEN_LEN])
{
	return sodium_memcmp(a, b, RP_TOKEN_LEN) == 0;
}

const char *
rp_token_verdict_str(enum rp_token_verdict v, size_t presented_len,
    char *buf, size_t bufsz)
{
	const char *s;

	if (buf == NULL || bufsz == 0)
		return buf;
	switch (v) {
	case RP_TOKEN_OK:
		s = "handoff token accepted";
		break;
	case RP_TOKEN_MISSING:
		s = "handoff token is missing";
		break;
	case RP_TOKEN_BAD_LENGTH:
		snprintf(buf, bufsz,
		    "handoff token length was %zu bytes; expected %d",
		    presented_len, RP_TOKEN_LEN);
		return buf;
	case RP_TOKEN_MISMATCH:
		s = "handoff token mismatch";
		break;
	case RP_TOKEN_NOT_PENDING:
		s = "handoff token is not pending";
		break;
	case RP_TOKEN_EXPIRED:
		s = "handoff token expired";
		break;
	case RP_TOKEN_FULL:
		s = "handoff token store is full";
		break;
	default:
		s = "handoff token rejected";
		break;
	}
	snprintf(buf, bufsz, "%s", s);
	return buf;
}

enum rp_token_verdict
rp_token_check_len(size_t len)
{
	if (len == 0)
		return RP_TOKEN_MISSING;
	if (len != RP_TOKEN_LEN)
		return RP_TOKEN_BAD_LENGTH;
	return RP_TOKEN_OK;
}

/* ------------------------------------------------------------ the store */

#define NIL UINT32_MAX
#define POOL_TOKENS 16           /* 256 bytes: one getrandom() */

enum {
	ST_FREE = 0,
	ST_PENDING,
	ST_USED,
};

struct entry {
	uint8_t tok[RP_TOKEN_LEN];
	int64_t expires;         /* gone when now >= expires */
	uint32_t hash;           /* keyed hash of tok: its home slot */
	uint32_t prev, next;     /* expiry list; next links the free list */
	uint8_t state;
};

struct rp_token_store {
	struct entry *ent;       /* capacity entries */
	uint32_t *slot;          /* index into ent, or NIL */
	uint32_t mask;           /* slots - 1 (a power of two) */
	uint32_t capacity;
	uint32_t count;
	uint32_t head, tail;     /* oldest / newest live entry */
	uint32_t free;           /* free list through next */
	int64_t ttl;
	int64_t last_now;        /* time never goes backwards */
	/* Tokens in expect() and remember() mode come from outside; a secret
	 * key keeps a peer from choosing tokens that pile up in one run of
	 * slots, and keeps probe timing from saying anything about a token. */
	uint8_t key[crypto_shorthash_KEYBYTES];
	/* Issued tokens are drawn from a pool filled in one call to the
	 * random source (a system call each) for POOL_TOKENS at a time.
	 * Each token's bytes are zeroed in the pool as they are taken, so
	 * none is issued twice; the pool is refilled in a forked child
	 * (fork_gen) so that two processes never issue the same tokens;
	 * and it is zeroed with the store. */
	uint8_t pool[RP_TOKEN_LEN * POOL_TOKENS];
	size_t pool_left;        /* bytes not yet taken, at the end */
	unsigned long pool_gen;  /* rp_fork_generation() at the fill */
};

/* Entries per store at most: slot counts and indices stay in 32 bits,
 * with room for NIL. */
#define STORE_MAX_CAPACITY (UINT32_C(1) << 28)

struct rp_token_store *
rp_token_store_new(size_t capacity, int64_t ttl_ms)
{
	struct rp_token_store *s;
	size_t slots, i;

	if (capacity == 0 || capacity > STORE_MAX_CAPACITY || ttl_ms <= 0) {
		errno = EINVAL;
		return NULL;
	}
	/* At most half full: linear probes stay short. */
	for (slots = 16; slots < capacity * 2; slots *= 2)
		;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	s->ent = calloc(capacity, sizeof(*s->ent));
	s->slot = malloc(slots * sizeof(*s->slot));
	if (s->ent == NULL || s->slot == NULL) {
		rp_token_store_free(s);
		errno = ENOMEM;
		return NULL;
	}
	for (i = 0; i < slots; i++)
		s->slot[i] = NIL;
	for (i = 0; i < capacity; i++)
		s->ent[i].next = i + 1 < capacity ? (uint32_t)(i + 1) : NIL;
	s->free = 0;
	s->mask = (uint32_t)(slots - 1);
	s->capacity = (uint32_t)capacity;
	s->head = s->tail = NIL;
	s->ttl = ttl_ms;
	s->last_now = INT64_MIN;
	randombytes_buf(s->key, sizeof(s->key));
	return s;
}

void
rp_token_store_free(struct rp_token_store *s)
{
	if (s == NULL)
		return;
	if (s->ent != NULL)
		sodium_memzero(s->ent, (size_t)s->capacity * sizeof(*s->ent));
	free(s->ent);
	free(s->slot);
	sodium_memzero(s, sizeof(*s));
	free(s);
}

/* A clock that went backwards is held at the latest time seen, which keeps
 * the expiry list sorted. */
static int64_t
clamp_now(struct rp_token_store *s, int64_t now)
{
	if (now < s->last_now)
		return s->last_now;
	s->last_now = now;
	return now;
}

static int64_t
deadline(const struct rp_token_store *s, int64_t now)
{
	return now > INT64_MAX - s->ttl ? INT64_MAX : now + s->ttl;
}

static uint32_t
token_hash(const struct rp_token_store *s, const uint8_t *tok)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint32_t v;

	crypto_shorthash(h, tok, RP_TOKEN_LEN, s->key);
	memcpy(&v, h, sizeof(v));
	return v;
}

/* The slot holding tok, or NIL.  Every candidate on the probe run is
 * compared in constant time. */
static uint32_t
find_slot(const struct rp_token_store *s, const uint8_t *tok, uint32_t hash)
{
	uint32_t i = hash & s->mask;

	for (;;) {
		uint32_t e = s->slot[i];

		if (e == NIL)
			return NIL;
		if (s->ent[e].hash == hash &&
		    sodium_memcmp(s->ent[e].tok, tok, RP_TOKEN_LEN) == 0)
			return i;
		i = (i + 1) & s->mask;
	}
}

static void
list_unlink(struct rp_token_store *s, uint32_t e)
{
	struct entry *x = &s->ent[e];

	if (x->prev != NIL)
		s->ent[x->prev].next = x->next;
	else
		s->head = x->next;
	if (x->next != NIL)
		s->ent[x->next].prev = x->prev;
	else
		s->tail = x->prev;
}

static void
list_append(struct rp_token_store *s, uint32_t e)
{
	struct entry *x = &s->ent[e];

	x->prev = s->tail;
	x->next = NIL;
	if (s->tail != NIL)
		s->ent[s->tail].next = e;
	else
		s->head = e;
	s->tail = e;
}

/* Empty slot i by backward-shift deletion: later members of the same probe
 * run move up so that no tombstone is needed and lookups stay exact. */
static void
slot_delete(struct rp_token_store *s, uint32_t i)
{
	uint32_t j = i;

	for (;;) {
		uint32_t e, home;

		j = (j + 1) & s->mask;
		e = s->slot[j];
		if (e == NIL)
			break;
		home = s->ent[e].hash & s->mask;
		/* e may fill the hole at i only if its home is not in the
		 * cyclic range (i, j]. */
		if (((j - home) & s->mask) >= ((j - i) & s->mask)) {
			s->slot[i] = e;
			i = j;
		}
	}
	s->slot[i] = NIL;
}

/* Remove entry e found at slot i. */
static void
remove_at(struct rp_token_store *s, uint32_t i)
{
	uint32_t e = s->slot[i];
	struct entry *x = &s->ent[e];

	slot_delete(s, i);
	list_unlink(s, e);
	sodium_memzero(x->tok, sizeof(x->tok));
	x->state = ST_FREE;
	x->next = s->free;
	s->free = e;
	s->count--;
}

/* Remove entry e (its slot is found by walking its probe run). */
static void
remove_entry(struct rp_token_store *s, uint32_t e)
{
	uint32_t i = s->ent[e].hash & s->mask;

	while (s->slot[i] != e)
		i = (i + 1) & s->mask;
	remove_at(s, i);
}

/* Make room for one more entry, dropping the oldest if it has expired.
 * The list is in expiry order, so when its head is live all are. */
static int
make_room(struct rp_token_store *s, int64_t now)
{
	if (s->count < s->capacity)
		return 0;
	if (s->head != NIL && s->ent[s->head].expires <= now) {
		remove_entry(s, s->head);
		return 0;
	}
	return -1;
}

/* Insert a token known to be absent; make_room() has succeeded. */
static void
insert(struct rp_token_store *s, const uint8_t *tok, uint32_t hash,
    int state, int64_t now)
{
	uint32_t e = s->free, i;
	struct entry *x = &s->ent[e];

	s->free = x->next;
	memcpy(x->tok, tok, RP_TOKEN_LEN);
	x->hash = hash;
	x->state = (uint8_t)state;
	x->expires = deadline(s, now);
	list_append(s, e);
	for (i = hash & s->mask; s->slot[i] != NIL; i = (i + 1) & s->mask)
		;
	s->slot[i] = e;
	s->count++;
}

/* A fresh token from the pool, refilled when empty or inherited. */
static void
pool_draw(struct rp_token_store *s, uint8_t t[RP_TOKEN_LEN])
{
	unsigned long gen = rp_fork_generation();
	uint8_t *p;

	if (s->pool_left < RP_TOKEN_LEN || s->pool_gen != gen) {
		randombytes_buf(s->pool, sizeof(s->pool));
		s->pool_left = sizeof(s->pool);
		s->pool_gen = gen;
	}
	p = s->pool + sizeof(s->pool) - s->pool_left;
	memcpy(t, p, RP_TOKEN_LEN);
	sodium_memzero(p, RP_TOKEN_LEN);
	s->pool_left -= RP_TOKEN_LEN;
}

int
rp_token_store_issue(struct rp_token_store *s, int64_t now,
    uint8_t tok[RP_TOKEN_LEN])
{
	uint8_t t[RP_TOKEN_LEN];
	uint32_t hash;

	now = clamp_now(s, now);
	if (make_room(s, now) != 0) {
		errno = ENOSPC;
		return -1;
	}
	/* A repeat of 128 random bits will not happen, but if it did the
	 * two handoffs would share one token: draw again. */
	do {
		pool_draw(s, t);
		hash = token_hash(s, t);
	} while (find_slot(s, t, hash) != NIL);
	insert(s, t, hash, ST_PENDING, now);
	memcpy(tok, t, RP_TOKEN_LEN);
	sodium_memzero(t, sizeof(t));
	return 0;
}

int
rp_token_store_expect(struct rp_token_store *s,
    const uint8_t tok[RP_TOKEN_LEN], int64_t now)
{
	uint32_t hash, i;

	now = clamp_now(s, now);
	hash = token_hash(s, tok);
	i = find_slot(s, tok, hash);
	if (i != NIL) {
		if (s->ent[s->slot[i]].expires > now) {
			errno = EEXIST;
			return -1;
		}
		remove_at(s, i);
	}
	if (make_room(s, now) != 0) {
		errno = ENOSPC;
		return -1;
	}
	insert(s, tok, hash, ST_PENDING, now);
	return 0;
}

/* Accept the entry at slot i: it becomes used and is remembered for a
 * full ttl from now, so a replay is recognised for at least that long. */
static void
mark_used(struct rp_token_store *s, uint32_t i, int64_t now)
{
	uint32_t e = s->slot[i];

	s->ent[e].state = ST_USED;
	s->ent[e].expires = deadline(s, now);
	list_unlink(s, e);
	list_append(s, e);
}

enum rp_token_verdict
rp_token_store_take(struct rp_token_store *s, const uint8_t *tok, size_t len,
    int64_t now)
{
	enum rp_token_verdict v;
	uint32_t i;
	struct entry *x;

	if ((v = rp_token_check_len(tok == NULL ? 0 : len)) != RP_TOKEN_OK)
		return v;
	now = clamp_now(s, now);
	i = find_slot(s, tok, token_hash(s, tok));
	if (i == NIL)
		return RP_TOKEN_MISMATCH;
	x = &s->ent[s->slot[i]];
	if (x->expires <= now) {
		/* A used entry past its ttl is forgotten, as expire() would
		 * have done: the token is then simply unknown. */
		v = x->state == ST_PENDING ? RP_TOKEN_EXPIRED :
		    RP_TOKEN_MISMATCH;
		remove_at(s, i);
		return v;
	}
	if (x->state != ST_PENDING)
		return RP_TOKEN_NOT_PENDING;
	mark_used(s, i, now);
	return RP_TOKEN_OK;
}

enum rp_token_verdict
rp_token_store_remember(struct rp_token_store *s, const uint8_t *tok,
    size_t len, int64_t now)
{
	enum rp_token_verdict v;
	uint32_t hash, i;
	struct entry *x;

	if ((v = rp_token_check_len(tok == NULL ? 0 : len)) != RP_TOKEN_OK)
		return v;
	now = clamp_now(s, now);
	hash = token_hash(s, tok);
	i = find_slot(s, tok, hash);
	if (i != NIL) {
		x = &s->ent[s->slot[i]];
		if (x->expires > now) {
			if (x->state != ST_PENDING)
				return RP_TOKEN_NOT_PENDING;
			/* Expected and now seen for the first time. */
			mark_used(s, i, now);
			return RP_TOKEN_OK;
		}
		remove_at(s, i);
	}
	if (make_room(s, now) != 0)
		return RP_TOKEN_FULL;
	insert(s, tok, hash, ST_USED, now);
	return RP_TOKEN_OK;
}

int
rp_token_store_revoke(struct rp_token_store *s,
    const uint8_t tok[RP_TOKEN_LEN])
{
	uint32_t i;

	i = find_slot(s, tok, token_hash(s, tok));
	if (i == NIL || s->ent[s->slot[i]].state != ST_PENDING) {
		errno = ENOENT;
		return -1;
	}
	remove_at(s, i);
	return 0;
}

size_t
rp_token_store_expire(struct rp_token_store *s, int64_t now)
{
	size_t n = 0;

	now = clamp_now(s, now);
	while (s->head != NIL && s->ent[s->head].expires <= now) {
		remove_entry(s, s->head);
		n++;
	}
	return n;
}

size_t
rp_token_store_count(const struct rp_token_store *s)
{
	return s->count;
}
