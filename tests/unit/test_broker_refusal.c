/* Unit tests for the broker's refusal classes (cmd/rp-broker/refusal.c):
 * every text our receivers and the spec use lands in its class. */
#include "handoff.h"
#include "refusal.h"
#include "t.h"
#include "token.h"

static void
test_classes(void)
{
	char buf[96];
	enum rp_token_verdict v;

	T_EQ(refusal_of("handoff token is not pending"), REFUSAL_REPLAY);
	T_EQ(refusal_of("handoff token store is full"), REFUSAL_STORE_FULL);
	T_EQ(refusal_of("handoff token expired"), REFUSAL_EXPIRED);
	T_EQ(refusal_of("handoff token mismatch"), REFUSAL_TOKEN);
	T_EQ(refusal_of("handoff token is missing"), REFUSAL_TOKEN);
	T_EQ(refusal_of("handoff token length was 20 bytes; expected 16"),
	    REFUSAL_TOKEN);
	T_EQ(refusal_of("no fd in the message"), REFUSAL_FD);
	T_EQ(refusal_of("2 fds in one message"), REFUSAL_FD);
	T_EQ(refusal_of("control message truncated (too many fds)"),
	    REFUSAL_FD);
	T_EQ(refusal_of(RP_HANDOFF_OFFER_TOO_LARGE), REFUSAL_OFFER);
	T_EQ(refusal_of("refused by rp-test-backend"), REFUSAL_OTHER);
	T_EQ(refusal_of(""), REFUSAL_OTHER);
	T_EQ(refusal_of(NULL), REFUSAL_OTHER);
	/* Near misses are not taken for the real thing. */
	T_EQ(refusal_of("handoff token is not pending!"), REFUSAL_OTHER);
	T_EQ(refusal_of("fds in one message"), REFUSAL_OTHER);
	/* The library's own texts, as the judge writes them. */
	for (v = RP_TOKEN_MISSING; v <= RP_TOKEN_FULL; v++)
		T_OK(refusal_of(rp_token_verdict_str(v, 3, buf,
		    sizeof(buf))) != REFUSAL_OTHER);
	T_EQ(refusal_of(rp_fdpass_status_str(RP_FDPASS_TOO_MANY_FDS, 3, buf,
	    sizeof(buf))), REFUSAL_FD);
	T_STR(refusal_name(REFUSAL_REPLAY), "replay");
	T_STR(refusal_name(REFUSAL_OTHER), "other");
	T_STR(refusal_name(REFUSALS), "unknown");
}

int
main(void)
{
	T_RUN(test_classes);
	return t_done();
}
