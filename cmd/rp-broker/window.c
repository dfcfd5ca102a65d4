/* window.c — a fixed-window counter (see window.h). */
#include <stddef.h>

#include "window.h"

int
window_open(const struct window *w, int64_t now, int64_t len_ms)
{
	return w->used != 0 && now - w->start < len_ms;
}

void
window_reset(struct window *w)
{
	w->used = 0;
}

int
window_take(struct window *w, int64_t now, int64_t len_ms, uint32_t limit,
    uint64_t *retry_ms)
{
	if (!window_open(w, now, len_ms))
		w->used = 0;
	if (w->used >= limit) {
		/* Spent (or a limit of 0, which no window ever allows). */
		*retry_ms = w->used == 0 ? 1 :
		    (uint64_t)(w->start + len_ms - now);
		if (*retry_ms == 0)
			*retry_ms = 1;
		return -1;
	}
	if (w->used == 0)
		w->start = now;
	w->used++;
	return 0;
}

uint32_t
window_left(const struct window *w, int64_t now, int64_t len_ms,
    uint32_t limit, uint64_t *retry_ms)
{
	uint32_t used = window_open(w, now, len_ms) ? w->used : 0;

	if (retry_ms != NULL)
		*retry_ms = used == 0 ? 0 : (uint64_t)(w->start + len_ms - now);
	return used >= limit ? 0 : limit - used;
}
