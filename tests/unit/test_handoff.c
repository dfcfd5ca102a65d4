/* Unit tests for handoff: judging a received transfer. */
#include <string.h>

#include "fdpass.h"
#include "handoff.h"
#include "t.h"
#include "token.h"
#include "wire.h"

static const uint8_t tok_a[16] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
	14, 15, 16 };
static const uint8_t tok_b[16] = { 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5,
	4, 3, 2, 1 };

static void
offer_with(Rp__HandoffOffer *o, const uint8_t *tok, size_t len)
{
	rp__handoff_offer__init(o);
	o->token.data = (uint8_t *)(uintptr_t)tok;
	o->token.len = len;
	o->correlation_id = 9;
}

static void
test_replay_mode_accepts_each_token_once(void)
{
	struct rp_token_store *s = rp_token_store_new(16, 1000);
	Rp__HandoffOffer o;
	char buf[96];

	T_OK(s != NULL);
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 0, buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 1, buf, sizeof(buf)),
	    "handoff token is not pending");
	offer_with(&o, tok_b, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_b, 16, &o, s,
	    RP_HANDOFF_REPLAY, 2, buf, sizeof(buf)) == NULL);
	/* Forgotten after its lifetime: a stranger again, accepted again. */
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_REPLAY, 5000, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_expect_mode_takes_only_the_expected_token(void)
{
	struct rp_token_store *s = rp_token_store_new(4, 1000);
	Rp__HandoffOffer o;
	char buf[96];

	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	offer_with(&o, tok_b, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_b, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "handoff token mismatch");
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)) == NULL);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is not pending");
	rp_token_store_free(s);

	/* Raw: no offer, the sideband token is judged alone. */
	s = rp_token_store_new(4, 1000);
	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, NULL, s,
	    RP_HANDOFF_EXPECT, 1000, buf, sizeof(buf)),
	    "handoff token expired");
	rp_token_store_free(s);
	s = rp_token_store_new(4, 1000);
	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, NULL, s,
	    RP_HANDOFF_EXPECT, 999, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_shape_faults_come_first_and_consume_nothing(void)
{
	struct rp_token_store *s = rp_token_store_new(4, 1000);
	Rp__HandoffOffer o;
	uint8_t long_side[20] = { 0 };
	char buf[96];

	T_EQ(rp_token_store_expect(s, tok_a, 0), 0);
	offer_with(&o, tok_a, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_NO_FD, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "no fd in the message");
	T_STR(rp_handoff_judge(RP_FDPASS_TRUNCATED, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "control message truncated (too many fds)");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 15, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 15 bytes; expected 16");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, long_side, 20, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 20 bytes; expected 16");
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 0, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is missing");
	offer_with(&o, tok_a, 0);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token is missing");
	offer_with(&o, long_side, 17);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)),
	    "handoff token length was 17 bytes; expected 16");
	/* The offer vouches for another token than the one with the fd. */
	offer_with(&o, tok_b, 16);
	T_STR(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)), "handoff token mismatch");
	/* None of that used the expected token up. */
	offer_with(&o, tok_a, 16);
	T_OK(rp_handoff_judge(RP_FDPASS_OK, tok_a, 16, &o, s,
	    RP_HANDOFF_EXPECT, 0, buf, sizeof(buf)) == NULL);
	rp_token_store_free(s);
}

static void
test_sideband_spill(void)
{
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, 40), 24);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, 16), 0);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_NO_FD, 3), 0);
	/* With an fd the read ends with its message: all of it is sideband. */
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_OK, 40), 0);
	T_UEQ(rp_handoff_sideband_spill(RP_FDPASS_TOO_MANY_FDS, 40), 0);
}

int
main(void)
{
	T_RUN(test_replay_mode_accepts_each_token_once);
	T_RUN(test_expect_mode_takes_only_the_expected_token);
	T_RUN(test_shape_faults_come_first_and_consume_nothing);
	T_RUN(test_sideband_spill);
	return t_done();
}
