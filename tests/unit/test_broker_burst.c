/* Unit tests for rp-broker's accept batch (cmd/rp-broker/burst.c). */
#include "burst.h"
#include "t.h"

/* One connection at a time, as a lone client makes them: one accept per
 * wake-up, and a probe for a second one every BURST_PROBE_EVERY-th. */
static void
test_quiet(void)
{
	struct burst s = { 0 };
	int i, want, probes = 0, ones = 0;

	for (i = 0; i < 10 * BURST_PROBE_EVERY; i++) {
		want = burst_want(&s);
		T_OK(want == 1 || want == 2);
		if (want == 2)
			probes++;
		else
			ones++;
		/* The probe finds nothing more (dry); a single accept is
		 * not dry, it just did not look. */
		burst_done(&s, want, want == 2);
	}
	T_EQ(probes, 10);
	T_EQ(ones, 10 * BURST_PROBE_EVERY - 10);
}

/* A deep backlog: once a probe finds a second connection, the batch
 * doubles each time it is used up, up to BURST_MAX; the first dry batch
 * brings it back to 1. */
static void
test_deep(void)
{
	struct burst s = { 0 };
	int i, want = 1;

	for (i = 0; i < BURST_PROBE_EVERY && want == 1; i++) {
		want = burst_want(&s);
		burst_done(&s, want, 0);
	}
	T_EQ(want, 2);
	T_EQ(burst_want(&s), 4);
	burst_done(&s, 4, 0);
	T_EQ(burst_want(&s), 8);
	for (i = 0; i < 10; i++)
		burst_done(&s, burst_want(&s), 0);
	T_EQ(burst_want(&s), BURST_MAX);
	burst_done(&s, BURST_MAX, 0);
	T_EQ(burst_want(&s), BURST_MAX);
	burst_done(&s, BURST_MAX, 1);
	T_EQ(burst_want(&s), 1);
}

/* A batch that runs dry part way is not grown, whatever its size. */
static void
test_dry(void)
{
	struct burst s = { .n = 16 };

	T_EQ(burst_want(&s), 16);
	burst_done(&s, 16, 1);
	T_EQ(burst_want(&s), 1);
}

int
main(void)
{
	T_RUN(test_quiet);
	T_RUN(test_deep);
	T_RUN(test_dry);
	return t_done();
}
