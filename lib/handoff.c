/* handoff.c — sending a transfer, and judging a received one (see
 * handoff.h). */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "handoff.h"
#include "io.h"
#include "replay.h"

/* A send that failed: the receiver hung up (how it refuses a peer), or
 * another error. */
static enum rp_handoff_sent
send_failed(const char *what, char *detail, size_t detailsz)
{
	if (errno == EPIPE || errno == ECONNRESET) {
		rp_err_why(detail, detailsz, "before %s was sent", what);
		return RP_HANDOFF_SENT_CLOSED;
	}
	rp_err_why(detail, detailsz, "cannot send %s", what);
	return RP_HANDOFF_SENT_FAILED;
}

/* Read the Ack of correlation_id cid and judge it. */
static enum rp_handoff_sent
await_ack(int sock, const uint8_t tok[RP_TOKEN_LEN], uint64_t cid,
    int64_t deadline, char *detail, size_t detailsz)
{
	enum rp_handoff_sent r;
	enum rp_frame_status st;
	Rp__HandoffAck *ack;
	const char *why = NULL;
	uint8_t *body = NULL;
	size_t len = 0;

	st = rp_frame_read(sock, RP_FRAME_SMALL_MAX, deadline, &body, &len);
	switch (st) {
	case RP_FRAME_OK:
		break;
	case RP_FRAME_TIMEOUT:
		return RP_HANDOFF_SENT_TIMEOUT;
	case RP_FRAME_EOF:
		rp_err_why(detail, detailsz, "%s", "");
		return RP_HANDOFF_SENT_CLOSED;
	case RP_FRAME_IO:
		if (errno == ECONNRESET) {
			rp_err_why(detail, detailsz, "%s", "");
			return RP_HANDOFF_SENT_CLOSED;
		}
		rp_err_why(detail, detailsz, "cannot read the ack");
		return RP_HANDOFF_SENT_FAILED;
	default:
		rp_err_why(detail, detailsz, "%s", rp_frame_status_str(st));
		return RP_HANDOFF_SENT_MALFORMED;
	}
	ack = rp_wire_ack_parse(body, len, RP_KIND_RESPONSE, 1, cid, &why);
	free(body);
	if (ack == NULL) {
		rp_err_why(detail, detailsz, "%s", why ? why : "bad frame");
		return RP_HANDOFF_SENT_MALFORMED;
	}
	if (ack->token.len != RP_TOKEN_LEN ||
	    !rp_token_equal(ack->token.data, tok)) {
		rp_err_why(detail, detailsz, "the ack presents another token");
		r = RP_HANDOFF_SENT_MALFORMED;
	} else if (!ack->accepted) {
		rp_err_why(detail, detailsz, "%s", ack->error_detail[0] ?
		    ack->error_detail : "(no detail)");
		r = RP_HANDOFF_SENT_REJECTED;
	} else {
		r = RP_HANDOFF_SENT_ACCEPTED;
	}
	rp_wire_free(ack);
	return r;
}

enum rp_handoff_sent
rp_handoff_send(int sock, int fd, const uint8_t tok[RP_TOKEN_LEN],
    const char *service, int raw, int want_ack, int64_t deadline,
    char *detail, size_t detailsz)
{
	enum rp_handoff_sent r;
	struct rp_buf offer = { 0 };
	uint64_t cid = 0, value = 0;
	char why[160];
	int rc, saved;

	rp_err_why(detail, detailsz, "%s", "");
	if (raw && !rp_fdpass_has_sideband()) {
		rp_err_why(detail, detailsz, "a raw transfer needs a sideband, "
		    "which this system does not have");
		errno = ENOTSUP;
		return RP_HANDOFF_SENT_FAILED;
	}
	if (rp_fdpass_give(sock, fd, tok, &value, deadline, why,
	    sizeof(why)) != RP_GIVE_OK) {
		if (errno == EPIPE || errno == ECONNRESET)
			return send_failed("the fd", detail, detailsz);
		rp_err_why(detail, detailsz, "%s", why);
		return RP_HANDOFF_SENT_FAILED;
	}
	if (raw)
		return RP_HANDOFF_SENT_ACCEPTED;
	while (cid == 0)
		randombytes_buf(&cid, sizeof(cid));
	rc = rp_wire_offer_encode(&offer, tok, RP_TOKEN_LEN,
	    service != NULL ? service : "", cid, value);
	if (rc == 0)
		rc = rp_io_write_full(sock, offer.data, offer.len, deadline);
	saved = errno;
	rp_buf_free(&offer);
	errno = saved;
	if (rc != 0) {
		r = send_failed("the offer", detail, detailsz);
		rp_fdpass_take_back(sock, value);
		errno = saved;
		return r;
	}
	if (!want_ack)
		return RP_HANDOFF_SENT_ACCEPTED;
	r = await_ack(sock, tok, cid, deadline, detail, detailsz);
	/* Whatever the receiver did not take is not left with it (on
	 * Windows the handle sits in its table until closed there). */
	if (r != RP_HANDOFF_SENT_ACCEPTED) {
		saved = errno;
		rp_fdpass_take_back(sock, value);
		errno = saved;
	}
	return r;
}

/*
 * Everything but the token's verdict: the sideband, the offer's token,
 * and that the offer vouches for the token that came with the fd.  NULL
 * with *tok and *len set to the token to judge, or the refusal.
 */
static const char *
judge_shape(enum rp_fdpass_status fst, int nfds, const uint8_t *side,
    size_t got, const Rp__HandoffOffer *offer, const uint8_t **tok,
    size_t *len, char *buf, size_t bufsz)
{
	enum rp_token_verdict v;

	*tok = side;
	*len = got;
	if (fst != RP_FDPASS_OK)
		return rp_fdpass_status_str(fst, nfds, buf, bufsz);
	if ((v = rp_token_check_len(got)) != RP_TOKEN_OK)
		return rp_token_verdict_str(v, got, buf, bufsz);
	if (offer != NULL) {
		*tok = offer->token.data;
		*len = offer->token.len;
		if ((v = rp_token_check_len(*len)) != RP_TOKEN_OK)
			return rp_token_verdict_str(v, *len, buf, bufsz);
		/* The offer must vouch for the fd that came with it. */
		if (!rp_token_equal(*tok, side))
			return "handoff token mismatch";
	}
	return NULL;
}

/* The verdict v on an offer's transfer, settled; NULL when accepted. */
static const char *
settle(const Rp__HandoffOffer *offer, const char *no)
{
	if (offer != NULL)
		rp_fdpass_settle(offer->handle_value, no == NULL);
	return no;
}

/*
 * The verdict of a transfer whose shape was judged (judge_shape) before
 * its token: how the token fared (v, for a token of len bytes), in words,
 * or NULL to accept; either way settled against the offer.
 */
static const char *
token_verdict(const Rp__HandoffOffer *offer, enum rp_token_verdict v,
    size_t len, char *buf, size_t bufsz)
{
	return settle(offer, v == RP_TOKEN_OK ? NULL :
	    rp_token_verdict_str(v, len, buf, bufsz));
}

const char *
rp_handoff_judge(enum rp_fdpass_status fst, int nfds, const uint8_t *side,
    size_t got, const Rp__HandoffOffer *offer, struct rp_token_store *store,
    enum rp_handoff_mode mode, int64_t now, char *buf, size_t bufsz)
{
	const uint8_t *tok;
	const char *no;
	size_t len;

	no = judge_shape(fst, nfds, side, got, offer, &tok, &len, buf, bufsz);
	if (no != NULL)
		return fst != RP_FDPASS_OK ? no : settle(offer, no);
	return token_verdict(offer, mode == RP_HANDOFF_EXPECT ?
	    rp_token_store_take(store, tok, len, now) :
	    rp_token_store_remember(store, tok, len, now), len, buf, bufsz);
}

const char *
rp_handoff_judge_replay(enum rp_fdpass_status fst, int nfds,
    const uint8_t *side, size_t got, const Rp__HandoffOffer *offer,
    struct rp_replay *replay, int64_t now, char *buf, size_t bufsz)
{
	const uint8_t *tok;
	const char *no;
	size_t len;

	no = judge_shape(fst, nfds, side, got, offer, &tok, &len, buf, bufsz);
	if (no != NULL)
		return fst != RP_FDPASS_OK ? no : settle(offer, no);
	return token_verdict(offer, rp_replay_check(replay, tok, len, now),
	    len, buf, bufsz);
}

int
rp_handoff_ack_too_large(struct rp_buf *out, const struct rp_framescan *scan,
    const uint8_t *side, size_t got)
{
	uint64_t rid = 0;
	int tok = got == RP_TOKEN_LEN;

	if (scan != NULL && rp_framescan_left(scan) == 0 &&
	    rp_framescan_frame_ok(scan))
		rid = scan->request_id;
	return rp_wire_ack_encode(out, RP_KIND_RESPONSE, rid, tok ? side : NULL,
	    tok ? RP_TOKEN_LEN : 0, 0, RP_HANDOFF_OFFER_TOO_LARGE, rid);
}

size_t
rp_handoff_sideband_spill(enum rp_fdpass_status fst, const uint8_t *side,
    size_t got)
{
	if (got <= RP_TOKEN_LEN)
		return 0;
	if (fst == RP_FDPASS_NO_FD)
		return got - RP_TOKEN_LEN;
	if (fst == RP_FDPASS_OK && side != NULL &&
	    side[RP_TOKEN_LEN] == RP_FRAME_VERSION)
		return got - RP_TOKEN_LEN;
	return 0;
}

const char *
rp_fdpass_status_str(enum rp_fdpass_status st, int nfds, char *buf,
    size_t bufsz)
{
	switch (st) {
	case RP_FDPASS_OK:
		return "ok";
	case RP_FDPASS_EOF:
		return "the peer closed before sending anything";
	case RP_FDPASS_NO_FD:
		return "no fd in the message";
	case RP_FDPASS_TOO_MANY_FDS:
		if (buf == NULL || bufsz == 0)
			return "several fds in one message";
		snprintf(buf, bufsz, "%d fds in one message", nfds);
		return buf;
	case RP_FDPASS_TRUNCATED:
		return "control message truncated (too many fds)";
	case RP_FDPASS_TIMEOUT:
		return "nothing arrived before the deadline";
	case RP_FDPASS_IO:
		return "recvmsg failed";
	}
	return "unknown fd-passing status";
}

ssize_t
rp_handoff_offer_nowait(int sock, int fd, const uint8_t tok[RP_TOKEN_LEN],
    const char *service, uint64_t corr, struct rp_buf *scratch,
    uint64_t *value, enum rp_give_fail *fail, char *why, size_t whysz)
{
	ssize_t n;
	int err;

	*value = 0;
	*fail = RP_GIVE_OK;
	rp_err_why(why, whysz, "%s", "");
	rp_buf_clear(scratch);
	if (rp_fdpass_has_sideband()) {
		if (rp_wire_offer_encode(scratch, tok, RP_TOKEN_LEN, service,
		    corr, 0) < 0) {
			errno = ENOMEM;
			return -1;
		}
		n = rp_fdpass_send_with_tail(sock, fd, tok, RP_TOKEN_LEN,
		    scratch->data, scratch->len);
		if (n < 0)
			*fail = RP_GIVE_CHANNEL;
		return n;
	}
	/* No sideband: the handle goes first, then the offer that names
	 * it; a full pipe is found out before anything is given. */
	if (rp_io_wait(sock, RP_IO_WRITE, 0) < 0 && errno == ETIMEDOUT) {
		errno = EAGAIN;
		return -1;
	}
	if ((*fail = rp_fdpass_give(sock, fd, tok, value, 0, why, whysz)) !=
	    RP_GIVE_OK)
		return -1;
	if (rp_wire_offer_encode(scratch, tok, RP_TOKEN_LEN, service, corr,
	    *value) < 0) {
		err = ENOMEM;
	} else {
		do
			n = rp_io_send_nowait(sock, scratch->data,
			    scratch->len);
		while (n < 0 && errno == EINTR);
		if (n >= 0)
			return n;
		err = errno;
	}
	rp_fdpass_take_back(sock, *value);
	*value = 0;
	errno = err;
	return -1;
}
