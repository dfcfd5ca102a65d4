/*
 * ratelimit.h — the per-peer Hello rate limit (row 16): at most N Hellos
 * per SECS-second window for each kernel-reported pid, the window opening
 * with a peer's first Hello; a refusal says how much of it is left.
 *
 * A leaf: the table and its windows only; time is the caller's.
 */
#ifndef RP_BROKER_RATELIMIT_H
#define RP_BROKER_RATELIMIT_H

#include <stddef.h>
#include <stdint.h>

#include "window.h"

struct rl_ent {
	uint32_t pid;                  /* 0: empty slot */
	struct window w;
};

struct ratelimit {
	struct rl_ent *t;              /* open addressing, cap a power of 2 */
	size_t cap, n;
	uint32_t limit;                /* 0: no limit */
	int64_t len_ms;
};

/* limit Hellos per secs seconds and peer; limit 0 turns the limit off.
 * Nothing is allocated before the first Hello. */
void ratelimit_init(struct ratelimit *rl, uint32_t limit, uint32_t secs);

/* One Hello from pid at now (monotonic ms): 0 to go on, or 1 when it is
 * over the limit, with *retry_ms (at least 1).  pid 0 (unknown) and a
 * table that cannot grow are never limited. */
int ratelimit_check(struct ratelimit *rl, uint32_t pid, int64_t now,
    uint64_t *retry_ms);

/* The peers the table holds: those with a window open, and closed ones
 * not yet pruned (it is pruned when it fills). */
size_t ratelimit_peers(const struct ratelimit *rl);

void ratelimit_free(struct ratelimit *rl);

#endif
