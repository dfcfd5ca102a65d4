/*
 * token_store — issue + take cycles on a warm, full token store, at three
 * sizes.  Printed as ratios: against drawing the 16 random bytes alone (the
 * floor of issuing a token), and of the largest store against the smallest
 * (O(1) operations keep that near 1, cache misses aside).
 */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "token.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Seconds per cycle with a store of cap entries kept full: window tokens
 * pending, the rest used and remembered, the oldest reclaimed each issue. */
static double
cycle_cost(size_t cap, size_t cycles)
{
	struct rp_token_store *s;
	uint8_t (*ring)[RP_TOKEN_LEN];
	size_t window = cap / 4, i;
	int64_t now = 0, ttl = (int64_t)(cap - window);
	double t0, t1;
	int bad = 0;

	s = rp_token_store_new(cap, ttl);
	ring = calloc(window, RP_TOKEN_LEN);
	if (s == NULL || ring == NULL) {
		perror("token_store");
		exit(1);
	}
	/* Warm up: a full turn of the store. */
	for (i = 0; i < 2 * cap; i++, now++) {
		if (i >= window)
			rp_token_store_take(s, ring[i % window], 16, now);
		bad |= rp_token_store_issue(s, now, ring[i % window]);
	}
	t0 = now_s();
	for (i = 0; i < cycles; i++, now++) {
		bad |= rp_token_store_take(s, ring[i % window], 16, now) !=
		    RP_TOKEN_OK;
		bad |= rp_token_store_issue(s, now, ring[i % window]);
	}
	t1 = now_s();
	if (bad) {
		fprintf(stderr, "token_store: unexpected verdict\n");
		exit(1);
	}
	rp_token_store_free(s);
	free(ring);
	return (t1 - t0) / (double)cycles;
}

int
main(int argc, char **argv)
{
	size_t cycles = argc > 1 ? strtoul(argv[1], NULL, 10) : 2000000;
	uint8_t t[RP_TOKEN_LEN];
	double t0, base, small, mid, big;
	size_t i;

	if (sodium_init() < 0)
		return 1;
	t0 = now_s();
	for (i = 0; i < cycles; i++)
		randombytes_buf(t, sizeof(t));
	base = (now_s() - t0) / (double)cycles;
	small = cycle_cost(1024, cycles);
	mid = cycle_cost(65536, cycles);
	big = cycle_cost(1048576, cycles);
	printf("randombytes_buf(16)           %6.1f ns (baseline)\n", base * 1e9);
	printf("issue+take, 1k store          %6.1f ns  %.2fx baseline\n",
	    small * 1e9, small / base);
	printf("issue+take, 64k store         %6.1f ns  %.2fx baseline\n",
	    mid * 1e9, mid / base);
	printf("issue+take, 1M store          %6.1f ns  %.2fx baseline\n",
	    big * 1e9, big / base);
	printf("1M store / 1k store           %.2fx\n", big / small);
	printf("cycles per second (1M store)  %.0f\n", 1.0 / big);
	return 0;
}
