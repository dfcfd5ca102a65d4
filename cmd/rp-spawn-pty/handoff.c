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
#include "handoff.h"
#include "io.h"
#include "sock.h"
#include "token.h"
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

/* What rp_handoff_send said, as our diagnostic and exit status. */
static int
report(const char *where, enum rp_handoff_sent r, const char *detail)
{
	switch (r) {
	case RP_HANDOFF_SENT_ACCEPTED:
		return RP_EXIT_OK;
	case RP_HANDOFF_SENT_REJECTED:
		cli_warn("%s refused the terminal: %s", where, detail);
		return RP_EXIT_NO;
	case RP_HANDOFF_SENT_CLOSED:
		cli_warn("%s refused the terminal: it closed the connection "
		    "without an ack%s%s%s", where, detail[0] ? " (" : "",
		    detail, detail[0] ? ")" : "");
		return RP_EXIT_NO;
	case RP_HANDOFF_SENT_TIMEOUT:
		cli_warn("%s: no handoff ack within %d ms", where,
		    HANDOFF_TIMEOUT_MS);
		return RP_EXIT_DEADLINE;
	case RP_HANDOFF_SENT_MALFORMED:
		cli_warn("%s: bad handoff ack: %s", where, detail);
		return RP_EXIT_PROTOCOL;
	default:
		cli_warn("%s: %s: %s", where, detail, strerror(errno));
		return rp_exit_from_errno(errno);
	}
}

int
spawn_pty_handoff(const struct opts *o, int master)
{
	uint8_t tok[RP_TOKEN_LEN];
	char detail[RP_WIRE_DETAIL_MAX + 64];
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
	rc = report(o->master_to, rp_handoff_send(sock, master, tok, "", 0,
	    1, deadline, detail, sizeof(detail)), detail);
	sodium_memzero(tok, sizeof(tok));
	rp_fd_close(&sock);
	return rc;
}
