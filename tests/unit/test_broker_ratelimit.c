/* Unit tests for rp-broker's per-peer Hello rate limit
 * (cmd/rp-broker/ratelimit.c). */
#include <stdint.h>

#include "ratelimit.h"
#include "t.h"

/* N per window and pid; each pid has its own window. */
static void
test_per_peer(void)
{
	struct ratelimit rl;
	uint64_t retry = 0;
	int i;

	ratelimit_init(&rl, 3, 1);
	for (i = 0; i < 3; i++)
		T_EQ(ratelimit_check(&rl, 100, 10 + i, &retry), 0);
	T_EQ(ratelimit_check(&rl, 100, 400, &retry), 1);
	T_UEQ(retry, 610);
	/* Another peer is not held back. */
	T_EQ(ratelimit_check(&rl, 101, 400, &retry), 0);
	/* The window closes a second after it opened. */
	T_EQ(ratelimit_check(&rl, 100, 1009, &retry), 1);
	T_UEQ(retry, 1);
	T_EQ(ratelimit_check(&rl, 100, 1010, &retry), 0);
	ratelimit_free(&rl);
}

/* Off (--rate-limit 0), and a pid the kernel did not give us: never
 * limited, and nothing is allocated. */
static void
test_off_and_unknown_pid(void)
{
	struct ratelimit rl;
	uint64_t retry = 0;
	int i;

	ratelimit_init(&rl, 0, 1);
	for (i = 0; i < 1000; i++)
		T_EQ(ratelimit_check(&rl, 7, 0, &retry), 0);
	T_OK(rl.t == NULL);
	ratelimit_init(&rl, 1, 1);
	for (i = 0; i < 10; i++)
		T_EQ(ratelimit_check(&rl, 0, 0, &retry), 0);
	T_OK(rl.t == NULL);
	ratelimit_free(&rl);
}

/* The table follows the peers active within one window: closed windows
 * are pruned before it grows, so a stream of short-lived peers does not
 * grow it, and many live ones do. */
static void
test_prune_and_grow(void)
{
	struct ratelimit rl;
	uint64_t retry = 0;
	uint32_t pid;
	size_t cap;

	ratelimit_init(&rl, 1, 1);
	for (pid = 1; pid <= 100000; pid++)
		T_EQ(ratelimit_check(&rl, pid, (int64_t)pid * 10, &retry), 0);
	/* 100 peers per window at most. */
	T_OK(rl.cap <= 512);
	T_OK(ratelimit_peers(&rl) <= rl.cap / 2);
	cap = rl.cap;
	/* 1000 at once: it grows, and each is still held to its limit. */
	for (pid = 200001; pid <= 201000; pid++)
		T_EQ(ratelimit_check(&rl, pid, 5000000, &retry), 0);
	T_OK(rl.cap > cap);
	T_OK(ratelimit_peers(&rl) >= 1000);
	for (pid = 200001; pid <= 201000; pid++)
		T_EQ(ratelimit_check(&rl, pid, 5000500, &retry), 1);
	T_UEQ(retry, 500);
	ratelimit_free(&rl);
	T_OK(rl.t == NULL);
}

int
main(void)
{
	T_RUN(test_per_peer);
	T_RUN(test_off_and_unknown_pid);
	T_RUN(test_prune_and_grow);
	return t_done();
}
