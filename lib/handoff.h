/*
 * handoff.h — the receiver's judgement of one transfer (40-handoff.md
 * "The transfer on Unix", step 3), shared by every receiver so that each
 * rejects the same things with the same words.
 */
#ifndef RP_HANDOFF_H
#define RP_HANDOFF_H

#include <stddef.h>
#include <stdint.h>

#include "fdpass.h"
#include "token.h"
#include "wire.h"

/* How the token is judged. */
enum rp_handoff_mode {
	RP_HANDOFF_EXPECT,    /* standalone: the one expected token, once
	                         (rp_token_store_take) */
	RP_HANDOFF_REPLAY,    /* backend: any token, once
	                         (rp_token_store_remember) */
};

/*
 * Judge a transfer: the sideband as rp_fdpass_recv reported it (status
 * fst and the got data bytes in side), then the offer (NULL for a --raw
 * transfer, which has none), then the token against the store.  In order:
 * the fd count and truncation, the sideband's length (16), the offer
 * token's length, offer token == sideband token, and the store's verdict
 * (a used token is "not pending").  Returns NULL when the transfer is
 * accepted (the token is then consumed), else the exact rejection text,
 * which may live in buf (at least 64 bytes).
 */
const char *rp_handoff_judge(enum rp_fdpass_status fst, const uint8_t *side,
    size_t got, const Rp__HandoffOffer *offer, struct rp_token_store *store,
    enum rp_handoff_mode mode, int64_t now, char *buf, size_t bufsz);

/*
 * A sideband without an fd is not delimited by one, so a stream read may
 * run on into the offer that follows it.  Given such a read of got bytes,
 * how many of them (after the first 16) belong to what follows and must
 * be fed to the offer's decoder: 0 unless fst is RP_FDPASS_NO_FD and
 * got > 16.  (With an fd, the read ends where the fd's message ends, so
 * every byte is sideband: a long one is reported as such.)
 */
size_t rp_handoff_sideband_spill(enum rp_fdpass_status fst, size_t got);

#endif
