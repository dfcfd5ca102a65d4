/* Unit tests for rp-broker's fixed-window counter (cmd/rp-broker/window.c),
 * the spawn budget and each peer's rate limit. */
#include <stdint.h>

#include "t.h"
#include "window.h"

/* limit takes per window; the window opens with the first take, and
 * closes len_ms later whatever happened in between. */
static void
test_take_until_spent(void)
{
	struct window w = { 0 };
	uint64_t retry = 0;

	T_EQ(window_open(&w, 1000, 30000), 0);
	T_EQ(window_left(&w, 1000, 30000, 3, &retry), 3);
	T_UEQ(retry, 0);
	T_EQ(window_take(&w, 1000, 30000, 3, &retry), 0);
	T_EQ(window_open(&w, 1000, 30000), 1);
	T_EQ(window_take(&w, 11000, 30000, 3, &retry), 0);
	T_EQ(window_left(&w, 11000, 30000, 3, &retry), 1);
	T_UEQ(retry, 20000);
	T_EQ(window_take(&w, 20000, 30000, 3, &retry), 0);
	/* Spent: how long until the window closes. */
	T_EQ(window_take(&w, 21000, 30000, 3, &retry), -1);
	T_UEQ(retry, 10000);
	T_EQ(window_left(&w, 21000, 30000, 3, &retry), 0);
	T_UEQ(retry, 10000);
	/* Never 0, even at the last millisecond. */
	T_EQ(window_take(&w, 30999, 30000, 3, &retry), -1);
	T_UEQ(retry, 1);
	/* Closed: a fresh window opens with the next take. */
	T_EQ(window_open(&w, 31000, 30000), 0);
	T_EQ(window_left(&w, 31000, 30000, 3, &retry), 3);
	T_UEQ(retry, 0);
	T_EQ(window_take(&w, 31000, 30000, 3, &retry), 0);
	T_EQ(window_left(&w, 31000, 30000, 3, &retry), 2);
	T_UEQ(retry, 30000);
}

/* A success starts the spawn budget over. */
static void
test_reset(void)
{
	struct window w = { 0 };
	uint64_t retry = 0;

	T_EQ(window_take(&w, 0, 1000, 1, &retry), 0);
	T_EQ(window_take(&w, 10, 1000, 1, &retry), -1);
	T_UEQ(retry, 990);
	window_reset(&w);
	T_EQ(window_open(&w, 10, 1000), 0);
	T_EQ(window_take(&w, 10, 1000, 1, &retry), 0);
	T_EQ(window_take(&w, 20, 1000, 1, &retry), -1);
	T_UEQ(retry, 990);
}

/* A limit of 0 (--spawn-budget 0/SECS) allows nothing, and says to try
 * again at once rather than never. */
static void
test_zero_limit(void)
{
	struct window w = { 0 };
	uint64_t retry = 0;

	T_EQ(window_take(&w, 5, 1000, 0, &retry), -1);
	T_UEQ(retry, 1);
	T_EQ(window_open(&w, 5, 1000), 0);
	T_EQ(window_left(&w, 5, 1000, 0, NULL), 0);
}

int
main(void)
{
	T_RUN(test_take_until_spent);
	T_RUN(test_reset);
	T_RUN(test_zero_limit);
	return t_done();
}
