/* handoff.c — judging a received transfer (see handoff.h). */
#include <string.h>

#include "handoff.h"

const char *
rp_handoff_judge(enum rp_fdpass_status fst, const uint8_t *side, size_t got,
    const Rp__HandoffOffer *offer, struct rp_token_store *store,
    enum rp_handoff_mode mode, int64_t now, char *buf, size_t bufsz)
{
	enum rp_token_verdict v;
	const uint8_t *tok = side;
	size_t len = got;

	if (fst != RP_FDPASS_OK)
		return rp_fdpass_status_str(fst);
	if ((v = rp_token_check_len(got)) != RP_TOKEN_OK)
		return rp_token_verdict_str(v, got, buf, bufsz);
	if (offer != NULL) {
		tok = offer->token.data;
		len = offer->token.len;
		if ((v = rp_token_check_len(len)) != RP_TOKEN_OK)
			return rp_token_verdict_str(v, len, buf, bufsz);
		/* The offer must vouch for the fd that came with it. */
		if (!rp_token_equal(tok, side))
			return "handoff token mismatch";
	}
	if (mode == RP_HANDOFF_EXPECT)
		v = rp_token_store_take(store, tok, len, now);
	else
		v = rp_token_store_remember(store, tok, len, now);
	if (v != RP_TOKEN_OK)
		return rp_token_verdict_str(v, len, buf, bufsz);
	return NULL;
}

size_t
rp_handoff_sideband_spill(enum rp_fdpass_status fst, size_t got)
{
	if (fst != RP_FDPASS_NO_FD || got <= RP_TOKEN_LEN)
		return 0;
	return got - RP_TOKEN_LEN;
}
