/*
 * handoff.h — one transfer of 40-handoff.md "The transfer on Unix": the
 * sender's whole part (steps 1, 2 and the Ack of 4), and the receiver's
 * judgement (step 3), each shared by every program on that side so that
 * all of them do and say the same.
 */
#ifndef RP_HANDOFF_H
#define RP_HANDOFF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "fdpass.h"
#include "framescan.h"
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
 * fst, the nfds that came with it, and the got data bytes in side), then
 * the offer (NULL for a --raw
 * transfer, which has none), then the token against the store.  In order:
 * the fd count and truncation, the sideband's length (16), the offer
 * token's length, offer token == sideband token, and the store's verdict
 * (a used token is "not pending").  Returns NULL when the transfer is
 * accepted (the token is then consumed), else the exact rejection text,
 * which may live in buf (at least 64 bytes).
 */
const char *rp_handoff_judge(enum rp_fdpass_status fst, int nfds,
    const uint8_t *side, size_t got, const Rp__HandoffOffer *offer,
    struct rp_token_store *store, enum rp_handoff_mode mode, int64_t now,
    char *buf, size_t bufsz);

/*
 * rp_handoff_judge for a backend (any token, once), against the replay
 * memory of replay.h, which stays small at tens of thousands of
 * handoffs a second: the same checks in the same order, then
 * rp_replay_check's verdict.
 */
struct rp_replay;
const char *rp_handoff_judge_replay(enum rp_fdpass_status fst, int nfds,
    const uint8_t *side, size_t got, const Rp__HandoffOffer *offer,
    struct rp_replay *replay, int64_t now, char *buf, size_t bufsz);

/*
 * How many bytes of a sideband read (got bytes in side, after the first
 * 16) belong to the offer behind it and must be fed to the offer's
 * decoder.  A sideband without an fd is not delimited by one, so a
 * stream read may run on into the offer: every byte past 16 is the
 * offer's.  With an fd, a sender may put the offer in the fd's very
 * message (rp-broker does, rp_fdpass_send_with_tail): the bytes past 16
 * are the offer's when they start as a frame does (RP_FRAME_VERSION);
 * otherwise the message is a long sideband and is judged as one ("length
 * was N bytes").  0 for every other status, and for got <= 16.
 */
size_t rp_handoff_sideband_spill(enum rp_fdpass_status fst,
    const uint8_t *side, size_t got);

/*
 * An offer frame announced longer than RP_FRAME_SMALL_MAX: the receiver
 * still answers (40-handoff.md step 4), without holding the body.  Up to
 * RP_FRAME_MAX the body is read to its end through a framescan, so that
 * the Ack echoes the frame's request_id (which is the offer's
 * correlation_id, in an offer that could be valid) and the connection
 * stays in step for the next transfer; past it nothing is read and the
 * Ack has request_id 0.  The Ack: accepted false, error_detail
 * RP_HANDOFF_OFFER_TOO_LARGE, correlation_id = request_id, token = the one
 * the sideband presented (side, got bytes) when it has the right length,
 * else none.  scan: the body read (rp_framescan_left 0), or NULL.  0, or
 * -1 with errno (ENOMEM).
 */
#define RP_HANDOFF_OFFER_TOO_LARGE "HandoffOffer frame exceeds 8 KiB"
int rp_handoff_ack_too_large(struct rp_buf *out,
    const struct rp_framescan *scan, const uint8_t *side, size_t got);

/*
 * The first half of a transfer for a sender that never waits (the
 * broker): the offer for fd (service, correlation id corr, token tok)
 * encoded into scratch, and sent as the platform sends it.  Unix: the
 * token with fd (SCM_RIGHTS) and the offer right behind, in one system
 * call where there is one (rp_fdpass_send_with_tail).  Windows: fd's
 * handle duplicated into the process at the other end of sock
 * (rp_fdpass_give), then the offer naming it (handle_value) written.
 * Returns how many bytes of the offer went (the caller writes the rest
 * of scratch when sock can take it), or -1 with errno: EAGAIN when sock
 * has no room now (nothing was sent), ENOMEM, or the error of the
 * transfer.  *fail says which: RP_GIVE_OK when nothing was given (no
 * room, no memory) or the offer's write failed after; RP_GIVE_CHANNEL
 * when the transfer's send failed (Unix: EAGAIN too, a full socket) or
 * the receiver cannot be learnt from sock; on Windows the other failure
 * classes of 40-handoff.md (rp_fdpass_give), with the reason in why.
 * *value: what rp_fdpass_take_back needs if the receiver does not
 * accept (0 on Unix).
 */
ssize_t rp_handoff_offer_nowait(int sock, int fd,
    const uint8_t tok[RP_TOKEN_LEN], const char *service, uint64_t corr,
    struct rp_buf *scratch, uint64_t *value, enum rp_give_fail *fail,
    char *why, size_t whysz);

/* How a send ended (rp_handoff_send). */
enum rp_handoff_sent {
	RP_HANDOFF_SENT_ACCEPTED,  /* the Ack said yes (or, unasked, sent) */
	RP_HANDOFF_SENT_REJECTED,  /* the Ack said no; detail: its reason */
	RP_HANDOFF_SENT_CLOSED,    /* closed without an Ack, as a receiver
	                              refuses a peer; detail: at which step */
	RP_HANDOFF_SENT_TIMEOUT,   /* no Ack before the deadline */
	RP_HANDOFF_SENT_MALFORMED, /* not an Ack of this transfer; detail */
	RP_HANDOFF_SENT_FAILED,    /* a send or the read failed: errno, and
	                              detail names the step */
};

/*
 * The sender's part on a connected socket: fd with tok as the sideband;
 * then, unless raw, the offer (service, a fresh non-zero correlation_id);
 * then, when want_ack, the Ack, which must answer that correlation_id and
 * present tok.  detail (at least 64 bytes) says what the outcome needs.
 */
enum rp_handoff_sent rp_handoff_send(int sock, int fd,
    const uint8_t tok[RP_TOKEN_LEN], const char *service, int raw,
    int want_ack, int64_t deadline, char *detail, size_t detailsz);

#endif
