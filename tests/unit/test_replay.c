/* Unit tests for replay: a backend's memory of the tokens it accepted. */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "handoff.h"
#include "replay.h"
#include "t.h"

static void
init_sodium(void)
{
	if (sodium_init() < 0) {
		t_fail(__FILE__, __LINE__, "sodium_init");
		exit(1);
	}
}

/* Token number i of a run (distinct for distinct i, not random). */
static void
nth(uint8_t tok[RP_TOKEN_LEN], uint64_t i, uint64_t salt)
{
	memset(tok, 0, RP_TOKEN_LEN);
	memcpy(tok, &i, sizeof(i));
	memcpy(tok + 8, &salt, sizeof(salt));
}

static void
test_new_errors(void)
{
	errno = 0;
	T_OK(rp_replay_new(0, 10) == NULL);
	T_EQ(errno, EINVAL);
	T_OK(rp_replay_new(-5, 10) == NULL);
	T_OK(rp_replay_new(1000, 0) == NULL);
	T_OK(rp_replay_new(1000, ((size_t)1 << 28) + 1) == NULL);
	T_EQ(errno, EINVAL);
	rp_replay_free(NULL);
}

static void
test_shape_and_replay(void)
{
	struct rp_replay *r;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];

	init_sodium();
	T_OK((r = rp_replay_new(100, 1000)) != NULL);
	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	T_EQ(rp_replay_check(r, NULL, 0, 0), RP_TOKEN_MISSING);
	T_EQ(rp_replay_check(r, a, 0, 0), RP_TOKEN_MISSING);
	T_EQ(rp_replay_check(r, a, 15, 0), RP_TOKEN_BAD_LENGTH);
	T_EQ(rp_replay_check(r, a, 17, 0), RP_TOKEN_BAD_LENGTH);
	T_UEQ(rp_replay_count(r), 0);
	T_EQ(rp_replay_check(r, a, 16, 0), RP_TOKEN_OK);
	T_UEQ(rp_replay_count(r), 1);
	/* A replay within its lifetime is refused, however often. */
	T_EQ(rp_replay_check(r, a, 16, 1), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_replay_check(r, a, 16, 99), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_replay_check(r, b, 16, 99), RP_TOKEN_OK);
	/* The first turn (at 100) keeps both: a's lifetime ran to 100, b's
	 * runs to 199. */
	T_EQ(rp_replay_check(r, b, 16, 150), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_replay_check(r, a, 16, 150), RP_TOKEN_NOT_PENDING);
	T_EQ(rp_replay_check(r, b, 16, 199), RP_TOKEN_NOT_PENDING);
	/* A clock that goes back counts as the latest time seen. */
	T_EQ(rp_replay_check(r, b, 16, 5), RP_TOKEN_NOT_PENDING);
	/* Two turns after: forgotten (remembered for at least 100 ms, at
	 * most until the second turn after its window). */
	T_EQ(rp_replay_check(r, b, 16, 250), RP_TOKEN_OK);
	T_EQ(rp_replay_check(r, a, 16, 250), RP_TOKEN_OK);
	rp_replay_free(r);
}

/*
 * Every token stays remembered for at least the lifetime, whenever in a
 * window it came and however irregularly the clock is sampled.
 */
static void
test_at_least_ttl(void)
{
	enum { TTL = 50, N = 4000 };
	struct rp_replay *r;
	uint8_t t[RP_TOKEN_LEN];
	int64_t now = 1000, at[N];
	uint64_t i, j;

	init_sodium();
	T_OK((r = rp_replay_new(TTL, N)) != NULL);
	for (i = 0; i < N; i++) {
		now += (int64_t)randombytes_uniform(7);
		at[i] = now;
		nth(t, i, 1);
		T_EQ(rp_replay_check(r, t, 16, now), RP_TOKEN_OK);
		/* Some earlier ones, replayed now: refused while young. */
		for (j = i > 40 ? i - 40 : 0; j < i; j += 7) {
			if (now - at[j] >= TTL)
				continue;
			nth(t, j, 1);
			T_EQ(rp_replay_check(r, t, 16, now),
			    RP_TOKEN_NOT_PENDING);
		}
	}
	rp_replay_free(r);
}

/* Full windows refuse (and remember nothing); the next window takes
 * tokens again. */
static void
test_full(void)
{
	struct rp_replay *r;
	uint8_t t[RP_TOKEN_LEN];
	uint64_t i;

	init_sodium();
	T_OK((r = rp_replay_new(100, 3)) != NULL);
	for (i = 0; i < 3; i++) {
		nth(t, i, 2);
		T_EQ(rp_replay_check(r, t, 16, 10), RP_TOKEN_OK);
	}
	nth(t, 3, 2);
	T_EQ(rp_replay_check(r, t, 16, 10), RP_TOKEN_FULL);
	/* A replay is still a replay when full. */
	nth(t, 0, 2);
	T_EQ(rp_replay_check(r, t, 16, 10), RP_TOKEN_NOT_PENDING);
	nth(t, 3, 2);
	T_EQ(rp_replay_check(r, t, 16, 110), RP_TOKEN_OK);
	T_UEQ(rp_replay_count(r), 4);
	rp_replay_free(r);
}

/*
 * The load: a backend taking 50 000 handoffs a second keeps
 * taking them (none refused) for several lifetimes of 30 s, each replay
 * within a lifetime is refused, and the memory stays within what the
 * man page states (32 MiB for the two tables at this rate).
 */
static void
test_rate_50k(void)
{
	enum { RATE = 50000, SECONDS = 75 };
	struct rp_replay *r;
	uint8_t t[RP_TOKEN_LEN];
	uint64_t i, n = (uint64_t)RATE * SECONDS, refused = 0, missed = 0;
	size_t most = 0;
	int64_t now;

	init_sodium();
	T_OK((r = rp_replay_new(RP_TOKEN_TTL_MS, RP_REPLAY_DEFAULT_MAX)) !=
	    NULL);
	for (i = 0; i < n; i++) {
		now = (int64_t)(i * 1000 / RATE);
		nth(t, i, 3);
		refused += rp_replay_check(r, t, 16, now) != RP_TOKEN_OK;
		if (i % 9973 == 0 && i > 0) {
			/* One from up to 29 s ago, and the latest. */
			uint64_t back = (uint64_t)RATE * 29;

			nth(t, i > back ? i - back : 0, 3);
			missed += rp_replay_check(r, t, 16, now) !=
			    RP_TOKEN_NOT_PENDING;
			nth(t, i, 3);
			missed += rp_replay_check(r, t, 16, now) !=
			    RP_TOKEN_NOT_PENDING;
		}
		if (rp_replay_bytes(r) > most)
			most = rp_replay_bytes(r);
	}
	T_UEQ(refused, 0);
	T_UEQ(missed, 0);
	T_OK(most <= (size_t)32 << 20);
	T_OK(rp_replay_count(r) >= (size_t)RATE * 30);
	rp_replay_free(r);
}

/* The backend's judge: the same shape checks as rp_handoff_judge, then
 * the replay memory's verdict. */
static void
test_judge_replay(void)
{
	struct rp_replay *r;
	Rp__HandoffOffer o = RP__HANDOFF_OFFER__INIT;
	uint8_t a[RP_TOKEN_LEN], b[RP_TOKEN_LEN];
	char buf[96];

	init_sodium();
	T_OK((r = rp_replay_new(1000, 100)) != NULL);
	randombytes_buf(a, sizeof(a));
	randombytes_buf(b, sizeof(b));
	o.token.data = a;
	o.token.len = RP_TOKEN_LEN;
	T_STR(rp_handoff_judge_replay(RP_FDPASS_NO_FD, 0, a, 16, &o, r, 0,
	    buf, sizeof(buf)), "no fd in the message");
	T_STR(rp_handoff_judge_replay(RP_FDPASS_OK, 1, a, 20, &o, r, 0,
	    buf, sizeof(buf)), "handoff token length was 20 bytes; expected 16");
	T_STR(rp_handoff_judge_replay(RP_FDPASS_OK, 1, b, 16, &o, r, 0,
	    buf, sizeof(buf)), "handoff token mismatch");
	T_OK(rp_handoff_judge_replay(RP_FDPASS_OK, 1, a, 16, &o, r, 0,
	    buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge_replay(RP_FDPASS_OK, 1, a, 16, &o, r, 999,
	    buf, sizeof(buf)), "handoff token is not pending");
	/* A raw transfer (no offer): the sideband's token. */
	T_OK(rp_handoff_judge_replay(RP_FDPASS_OK, 1, b, 16, NULL, r, 10,
	    buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge_replay(RP_FDPASS_OK, 1, b, 16, NULL, r, 11,
	    buf, sizeof(buf)), "handoff token is not pending");
	rp_replay_free(r);
}

int
main(void)
{
	T_RUN(test_new_errors);
	T_RUN(test_shape_and_replay);
	T_RUN(test_at_least_ttl);
	T_RUN(test_full);
	T_RUN(test_rate_50k);
	T_RUN(test_judge_replay);
	return t_done();
}
