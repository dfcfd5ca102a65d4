/*
 * handoff.c — --master-to: give the PTY master to another process by the
 * Unix transfer of 40-handoff.md (token and fd in one message, then the
 * HandoffOffer frame; the receiver answers with a HandoffAck).  From then
 * on the receiver drives the terminal and we only supervise the child.
 */
#include <errno.h>
#include <string.h>

#include "deadline.h"
#include "err.h"
#include "handoff.h"
#include "io.h"
#include "sock.h"
#include "token.h"
#include "spawn_pty.h"

#define HANDOFF_TIMEOUT_MS 5000

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
	char detail[RP_WIRE_DETAIL_MAX + 64];
	int64_t deadline;
	int sock, rc;

	deadline = rp_deadline_in(HANDOFF_TIMEOUT_MS);
	sock = rp_sock_connect(o->master_to, 0, deadline);
	if (sock < 0) {
		cli_warn("connect to %s: %s", o->master_to,
		    strerror(errno));
		return rp_exit_from_errno(errno);
	}
	rc = cli_check_receiver(sock, "the terminal", o->master_to,
	    o->allow_uids, o->n_allow_uids);
	if (rc == 0)
		rc = report(o->master_to, rp_handoff_send(sock, master,
		    o->token, "", 0, 1, deadline, detail, sizeof(detail)),
		    detail);
	rp_fd_close(&sock);
	return rc;
}
