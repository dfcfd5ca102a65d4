/*
 * handoff.c — --master-to: give the PTY master to another process by the
 * Unix transfer of 40-handoff.md (token and fd in one message, then the
 * HandoffOffer frame; the receiver answers with a HandoffAck).  From then
 * on the receiver drives the terminal and we only supervise the child.
 */
#include <errno.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "deadline.h"
#include "err.h"
#include "fdpass.h"
#include "frame.h"
#include "io.h"
#include "sock.h"
#include "token.h"
#include "wire.h"
#include "spawn_pty.h"

#define HANDOFF_TIMEOUT_MS 5000

static int
load_token(const struct opts *o, uint8_t tok[RP_TOKEN_LEN])
{
	const char *env;

	if (o->token_file != NULL) {
		if (rp_token_read_file(o->token_file, tok) == 0)
			return 0;
		cli_warn("token file %s: %s", o->token_file,
		    errno == EINVAL ? "not a token (32 hex digits expected)" :
		    strerror(errno));
		return -1;
	}
	env = getenv("RP_HANDOFF_TOKEN");
	if (env != NULL && rp_token_from_hex(env, strlen(env), tok) == 0)
		return 0;
	cli_warn("RP_HANDOFF_TOKEN: not a token (32 hex digits "
	    "expected)");
	return -1;
}

/* Send token + fd and the offer; wait for the ack.  Returns an exit
 * status (0 when the receiver accepted). */
static int
transfer(int sock, int master, const uint8_t tok[RP_TOKEN_LEN],
    const char *where, int64_t deadline)
{
	struct rp_buf offer = { 0 };
	enum rp_frame_status fs;
	Rp__HandoffAck *ack;
	const char *why = NULL;
	uint8_t *body = NULL;
	uint64_t cid = 0;
	size_t len = 0;
	int rc;

	while (cid == 0)
		randombytes_buf(&cid, sizeof(cid));
	if (rp_fdpass_send(sock, master, tok, RP_TOKEN_LEN, deadline) != 0) {
		cli_warn("send the terminal to %s: %s", where,
		    strerror(errno));
		return rp_exit_from_errno(errno);
	}
	if (rp_wire_offer_encode(&offer, tok, RP_TOKEN_LEN, "", cid, 0) != 0 ||
	    rp_io_write_full(sock, offer.data, offer.len, deadline) != 0) {
		rc = rp_exit_from_errno(errno);
		cli_warn("send the handoff offer to %s: %s", where,
		    strerror(errno));
		rp_buf_free(&offer);
		return rc;
	}
	rp_buf_free(&offer);
	fs = rp_frame_read(sock, RP_FRAME_SMALL_MAX, deadline, &body, &len);
	if (fs != RP_FRAME_OK) {
		if (fs == RP_FRAME_TIMEOUT) {
			cli_warn("%s: no handoff ack within %d ms", where,
			    HANDOFF_TIMEOUT_MS);
			return RP_EXIT_DEADLINE;
		}
		cli_warn("%s: reading the handoff ack: %s", where,
		    fs == RP_FRAME_IO ? strerror(errno) :
		    rp_frame_status_str(fs));
		return RP_EXIT_PROTOCOL;
	}
	ack = rp_wire_ack_parse(body, len, RP_KIND_RESPONSE, 1, cid, &why);
	free(body);
	if (ack == NULL) {
		cli_warn("%s: bad handoff ack: %s", where,
		    why != NULL ? why : strerror(errno));
		return RP_EXIT_PROTOCOL;
	}
	if (ack->token.len != RP_TOKEN_LEN ||
	    !rp_token_equal(ack->token.data, tok)) {
		cli_warn("%s: the handoff ack is for another transfer",
		    where);
		rc = RP_EXIT_PROTOCOL;
	} else if (!ack->accepted) {
		cli_warn("%s refused the terminal: %s", where,
		    ack->error_detail != NULL && *ack->error_detail ?
		    ack->error_detail : "(no reason given)");
		rc = RP_EXIT_NO;
	} else {
		rc = RP_EXIT_OK;
	}
	rp_wire_free(ack);
	return rc;
}

int
spawn_pty_handoff(const struct opts *o, int master)
{
	uint8_t tok[RP_TOKEN_LEN];
	int64_t deadline;
	int sock, rc;

	if (load_token(o, tok) != 0)
		return RP_EXIT_USAGE;
	deadline = rp_deadline_in(HANDOFF_TIMEOUT_MS);
	sock = rp_sock_connect(o->master_to, 0, deadline);
	if (sock < 0) {
		cli_warn("connect to %s: %s", o->master_to,
		    strerror(errno));
		rc = rp_exit_from_errno(errno);
		sodium_memzero(tok, sizeof(tok));
		return rc;
	}
	rc = transfer(sock, master, tok, o->master_to, deadline);
	sodium_memzero(tok, sizeof(tok));
	rp_fd_close(&sock);
	return rc;
}
