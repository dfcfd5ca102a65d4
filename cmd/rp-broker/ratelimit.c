/*
 * ratelimit.c — the per-peer Hello rate limit (see ratelimit.h).
 *
 * An open-addressing table keyed by pid.  It is pruned of closed windows
 * when it fills up, and grows only when the open windows need the room,
 * so its size follows the number of peers active within one window.
 */
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"

#define RL_FIRST 256

void
ratelimit_init(struct ratelimit *rl, uint32_t limit, uint32_t secs)
{
	memset(rl, 0, sizeof(*rl));
	rl->limit = limit;
	rl->len_ms = (int64_t)secs * 1000;
}

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

/* Rebuild into cap slots, keeping the windows still open. */
static int
rl_rebuild(struct ratelimit *rl, size_t cap, int64_t now)
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
		if (old[i].pid == 0 ||
		    !window_open(&old[i].w, now, rl->len_ms))
			continue;
		e = rl_lookup(rl, old[i].pid);
		*e = old[i];
		rl->n++;
	}
	free(old);
	return 0;
}

int
ratelimit_check(struct ratelimit *rl, uint32_t pid, int64_t now,
    uint64_t *retry_ms)
{
	struct rl_ent *e;

	if (rl->limit == 0 || pid == 0)
		return 0;
	if (rl->t == NULL && rl_rebuild(rl, RL_FIRST, now) < 0)
		return 0;
	e = rl_lookup(rl, pid);
	if (e->pid == 0) {
		/* Keep the load under a half: prune first, grow if the
		 * open windows still fill it. */
		if ((rl->n + 1) * 2 > rl->cap) {
			if (rl_rebuild(rl, rl->cap, now) < 0)
				return 0;
			if ((rl->n + 1) * 2 > rl->cap &&
			    rl_rebuild(rl, rl->cap * 2, now) < 0)
				return 0;
			e = rl_lookup(rl, pid);
		}
		e->pid = pid;
		window_reset(&e->w);
		rl->n++;
	}
	return window_take(&e->w, now, rl->len_ms, rl->limit, retry_ms) < 0;
}

size_t
ratelimit_peers(const struct ratelimit *rl)
{
	return rl->n;
}

void
ratelimit_free(struct ratelimit *rl)
{
	free(rl->t);
	rl->t = NULL;
	rl->cap = rl->n = 0;
}
