/* replay.c — the tokens a backend accepted, as keyed hashes in two
 * tables that take turns (see replay.h). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "replay.h"

#define MIN_SLOTS 1024u
#define MAX_TOKENS (UINT32_C(1) << 28)

struct table {
	uint64_t *slot;          /* 0: empty */
	size_t mask;             /* slots - 1 (a power of two) */
	size_t n;
};

struct rp_replay {
	struct table cur, prev;
	int64_t ttl;
	int64_t start;           /* when cur began taking tokens */
	int64_t last_now;
	size_t max;              /* tokens per window */
	size_t max_slots;
	uint8_t key[crypto_shorthash_KEYBYTES];
};

static size_t
slots_for(size_t n)
{
	size_t s = MIN_SLOTS;

	/* At most three quarters full. */
	while (s / 4 * 3 < n)
		s *= 2;
	return s;
}

static int
table_make(struct table *t, size_t slots)
{
	t->slot = calloc(slots, sizeof(*t->slot));
	if (t->slot == NULL) {
		errno = ENOMEM;
		return -1;
	}
	t->mask = slots - 1;
	t->n = 0;
	return 0;
}

static void
table_free(struct table *t)
{
	if (t->slot != NULL)
		sodium_memzero(t->slot, (t->mask + 1) * sizeof(*t->slot));
	free(t->slot);
	t->slot = NULL;
	t->mask = 0;
	t->n = 0;
}

/* 1 when fp is in t. */
static int
table_has(const struct table *t, uint64_t fp)
{
	size_t i;

	if (t->slot == NULL)
		return 0;
	for (i = (size_t)fp & t->mask; t->slot[i] != 0; i = (i + 1) & t->mask)
		if (t->slot[i] == fp)
			return 1;
	return 0;
}

/* Put fp (not in t) into t, which has room. */
static void
table_put(struct table *t, uint64_t fp)
{
	size_t i;

	for (i = (size_t)fp & t->mask; t->slot[i] != 0; i = (i + 1) & t->mask)
		;
	t->slot[i] = fp;
	t->n++;
}

/* Double t.  0, or -1 (ENOMEM: t unchanged). */
static int
table_grow(struct table *t)
{
	struct table g;
	size_t i;

	if (table_make(&g, (t->mask + 1) * 2) != 0)
		return -1;
	for (i = 0; i <= t->mask; i++)
		if (t->slot[i] != 0)
			table_put(&g, t->slot[i]);
	table_free(t);
	*t = g;
	return 0;
}

struct rp_replay *
rp_replay_new(int64_t ttl_ms, size_t max)
{
	struct rp_replay *r;

	if (ttl_ms <= 0 || max == 0 || max > MAX_TOKENS) {
		errno = EINVAL;
		return NULL;
	}
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	if (table_make(&r->cur, MIN_SLOTS) != 0 ||
	    table_make(&r->prev, MIN_SLOTS) != 0) {
		rp_replay_free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->ttl = ttl_ms;
	r->start = INT64_MIN;
	r->last_now = INT64_MIN;
	r->max = max;
	r->max_slots = slots_for(max);
	randombytes_buf(r->key, sizeof(r->key));
	return r;
}

void
rp_replay_free(struct rp_replay *r)
{
	if (r == NULL)
		return;
	table_free(&r->cur);
	table_free(&r->prev);
	sodium_memzero(r, sizeof(*r));
	free(r);
}

/*
 * cur is ttl old: it becomes prev, and the old prev, emptied, the new
 * cur, made to the size the window just ended needed (so memory follows
 * the rate down as well as up).  Whatever was in the old prev went in
 * before the old cur began, at least ttl ago.
 */
static void
turn(struct rp_replay *r, int64_t now)
{
	struct table old = r->prev;
	size_t want = slots_for(r->cur.n);

	r->prev = r->cur;
	if (old.mask + 1 == want) {
		memset(old.slot, 0, want * sizeof(*old.slot));
		old.n = 0;
		r->cur = old;
	} else {
		table_free(&old);
		if (table_make(&r->cur, want) != 0 &&
		    table_make(&r->cur, MIN_SLOTS) != 0)
			r->cur.slot = NULL;     /* refused until it can grow */
	}
	r->start = now;
}

enum rp_token_verdict
rp_replay_check(struct rp_replay *r, const uint8_t *tok, size_t len,
    int64_t now)
{
	enum rp_token_verdict v;
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t fp;

	if ((v = rp_token_check_len(tok == NULL ? 0 : len)) != RP_TOKEN_OK)
		return v;
	if (now < r->last_now)
		now = r->last_now;
	r->last_now = now;
	if (r->start == INT64_MIN)
		r->start = now;
	else if (now - r->start >= r->ttl)
		turn(r, now);
	crypto_shorthash(h, tok, RP_TOKEN_LEN, r->key);
	memcpy(&fp, h, sizeof(fp));
	sodium_memzero(h, sizeof(h));
	if (fp == 0)
		fp = 1;                 /* 0 marks an empty slot */
	if (table_has(&r->cur, fp) || table_has(&r->prev, fp))
		return RP_TOKEN_NOT_PENDING;
	if (r->cur.n >= r->max)
		return RP_TOKEN_FULL;
	if (r->cur.slot == NULL && table_make(&r->cur, MIN_SLOTS) != 0)
		return RP_TOKEN_FULL;
	if ((r->cur.n + 1) * 4 > (r->cur.mask + 1) * 3 &&
	    (r->cur.mask + 1 >= r->max_slots || table_grow(&r->cur) != 0))
		return RP_TOKEN_FULL;
	table_put(&r->cur, fp);
	return RP_TOKEN_OK;
}

size_t
rp_replay_count(const struct rp_replay *r)
{
	return r->cur.n + r->prev.n;
}

size_t
rp_replay_bytes(const struct rp_replay *r)
{
	size_t b = 0;

	if (r->cur.slot != NULL)
		b += (r->cur.mask + 1) * sizeof(uint64_t);
	if (r->prev.slot != NULL)
		b += (r->prev.mask + 1) * sizeof(uint64_t);
	return b;
}
