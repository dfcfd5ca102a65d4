/* handoff.c — sending a transfer, and judging a received one (see
 * handoff.h). */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "frame.h"
#include "handoff.h"
#include "io.h"

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
	struct rp_buf offer = { 0 };
	uint64_t cid = 0;
	int r, saved;

	rp_err_why(detail, detailsz, "%s", "");
	if (rp_fdpass_send(sock, fd, tok, RP_TOKEN_LEN, deadline) != 0)
		return send_failed("the fd", detail, detailsz);
	if (raw)
		return RP_HANDOFF_SENT_ACCEPTED;
	while (cid == 0)
		randombytes_buf(&cid, sizeof(cid));
	r = rp_wire_offer_encode(&offer, tok, RP_TOKEN_LEN,
	    service != NULL ? service : "", cid, 0);
	if (r == 0)
		r = rp_io_write_full(sock, offer.data, offer.len, deadline);
	saved = errno;
	rp_buf_free(&offer);
	errno = saved;
	if (r != 0)
		return send_failed("the offer", detail, detailsz);
	if (!want_ack)
		return RP_HANDOFF_SENT_ACCEPTED;
	return await_ack(sock, tok, cid, deadline, detail, detailsz);
}

const char *
rp_handoff_judge(enum rp_fdpass_status fst, int nfds, const uint8_t *side,
    size_t got, const Rp__HandoffOffer *offer, struct rp_token_store *store,
    enum rp_handoff_mode mode, int64_t now, char *buf, size_t bufsz)
{
	enum rp_token_verdict v;
	const uint8_t *tok = side;
	size_t len = got;

	if (fst != RP_FDPASS_OK)
		return rp_fdpass_status_str(fst, nfds, buf, bufsz);
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
rp_handoff_sideband_spill(enum rp_fdpass_status fst, size_t got)
{
	if (fst != RP_FDPASS_NO_FD || got <= RP_TOKEN_LEN)
		return 0;
	return got - RP_TOKEN_LEN;
}
