/*
 * ratelimit.c — the per-peer Hello rate limit (row 16): at most N Hellos
 * per SECS-second window for each kernel-reported pid.  The window starts
 * with a peer's first Hello; the refusal says how much of it is left.
 *
 * An open-addressing table keyed by pid.  It is pruned of expired windows
 * when it fills up, and grows only when the live windows need the room, so
 * its size follows the number of peers active within one window.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

#define RL_FIRST 256

static size_t
slot_of(uint32_t pid, size_t cap)
{
	/* Fibonacci hashing: consecutive pids spread out. */
	return (size_t)((pid * UINT64_C(11400714819323198485)) >> 32) &
	    (cap - 1);
}

static struct rl_ent *
rl_lookup(struct ratelimit *rl, uint32_t pid)
{
	size_t i = slot_of(pid, rl->cap);

	while (rl->t[i].pid != 0 && rl->t[i].pid != pid)
		i = (i + 1) & (rl->cap - 1);
	return &rl->t[i];
}

/* Rebuild into cap slots, keeping windows that are still open. */
static int
rl_rebuild(struct ratelimit *rl, size_t cap, int64_t now, int64_t window)
{
	struct rl_ent *old = rl->t, *e;
	size_t oldcap = rl->cap, i;

	rl->t = calloc(cap, sizeof(*rl->t));
	if (rl->t == NULL) {
		rl->t = old;
		return -1;
	}
	rl->cap = cap;
	rl->n = 0;
	for (i = 0; i < oldcap; i++) {
		if (old[i].pid == 0 || now - old[i].start >= window)
			continue;
		e = rl_lookup(rl, old[i].pid);
		*e = old[i];
		rl->n++;
	}
	free(old);
	return 0;
}

int
ratelimit_check(struct broker *b, uint32_t pid, int64_t now,
    uint64_t *retry_ms)
{
	struct ratelimit *rl = &b->rl;
	int64_t window = (int64_t)b->cfg.rate_secs * 1000;
	struct rl_ent *e;

	if (b->cfg.rate_n == 0 || pid == 0)
		return 0;
	if (rl->t == NULL && rl_rebuild(rl, RL_FIRST, now, window) < 0)
		return 0;
	e = rl_lookup(rl, pid);
	if (e->pid == 0) {
		/* Keep the load under a half: prune first, grow if the
		 * open windows still fill it. */
		if ((rl->n + 1) * 2 > rl->cap) {
			if (rl_rebuild(rl, rl->cap, now, window) < 0)
				return 0;
			if ((rl->n + 1) * 2 > rl->cap &&
			    rl_rebuild(rl, rl->cap * 2, now, window) < 0)
				return 0;
			e = rl_lookup(rl, pid);
		}
		e->pid = pid;
		e->count = 0;
		e->start = now;
		rl->n++;
	}
	if (now - e->start >= window) {
		e->start = now;
		e->count = 0;
	}
	if (e->count < b->cfg.rate_n) {
		e->count++;
		return 0;
	}
	*retry_ms = (uint64_t)(e->start + window - now);
	if (*retry_ms == 0)
		*retry_ms = 1;
	return 1;
}

void
ratelimit_free(struct ratelimit *rl)
{
	free(rl->t);
	memset(rl, 0, sizeof(*rl));
}
