/*
 * window.h — a fixed-window counter: at most `limit` takes in a window of
 * len_ms, the window opening with the first take after the last one
 * closed.  The per-peer Hello rate limit (ratelimit.c) and the spawn
 * budget of each backend (backend.c) are both one of these.
 *
 * A leaf: it knows nothing of the broker, and time is the caller's
 * (monotonic milliseconds).
 */
#ifndef RP_BROKER_WINDOW_H
#define RP_BROKER_WINDOW_H

#include <stdint.h>

struct window {
	int64_t start;                 /* when the open window opened */
	uint32_t used;                 /* takes in it; 0: none is open */
};

/* Take one at now: 0, or -1 when the window is spent, with *retry_ms
 * (at least 1) until it closes. */
int window_take(struct window *w, int64_t now, int64_t len_ms,
    uint32_t limit, uint64_t *retry_ms);

/* Takes left at now, without taking one; *retry_ms (may be NULL): until
 * the open window closes, 0 when none is open. */
uint32_t window_left(const struct window *w, int64_t now, int64_t len_ms,
    uint32_t limit, uint64_t *retry_ms);

/* 1 while a window is open at now. */
int window_open(const struct window *w, int64_t now, int64_t len_ms);

/* Close the window: the next take opens a fresh one. */
void window_reset(struct window *w);

#endif
