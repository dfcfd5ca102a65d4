/*
 * rp-handoff-send — hand one open fd to a receiver over a Unix socket:
 * the token and the fd in one message, then a HandoffOffer, then wait for
 * the receiver's HandoffAck (40-handoff.md).  With --raw only the token
 * and the fd are sent, as Python's socket.send_fds would.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rp.h"

#define SEND_TIMEOUT_MS 5000
#define RETRY_NAP_MS 10
#define SEND_MAX_ALLOW_UIDS 16

const char cli_prog[] = "rp-handoff-send";

/* Identical to the SYNOPSIS of doc/rp-handoff-send.1.scd (a test checks). */
static const char usage_text[] =
    "rp-handoff-send [--fd N] [--token-file F | --token HEX] [--service NAME]\n"
    "                [--timeout MS] [--raw] [--no-wait] [--wait-for-socket]\n"
    "                [--allow-uid UID]... SOCKET\n"
    "rp-handoff-send --new-token\n"
    "rp-handoff-send -h | --help | -V | --version\n";

static const char help_text[] =
    "\n"
    "Send fd N (default 0) and a token to the receiver on SOCKET, then a\n"
    "HandoffOffer, and wait for its HandoffAck.  The token comes from\n"
    "--token-file, --token or RP_HANDOFF_TOKEN.\n"
    "\n"
    "  --fd N               the fd to hand over (default 0)\n"
    "  --token-file F       the token (32 hex digits) from a file\n"
    "  --token HEX          the token on the command line (visible to other\n"
    "                       users in ps; prefer the file or env)\n"
    "  --service NAME       service_name of the offer (default rp-handoff)\n"
    "  --timeout MS         deadline of the whole exchange (default 5000)\n"
    "  --raw                token + fd only: no offer, no ack\n"
    "  --no-wait            send the offer but do not wait for the ack\n"
    "  --wait-for-socket    retry while SOCKET is missing or refuses, until\n"
    "                       the deadline\n"
    "  --allow-uid UID      also hand the fd to a receiver running as UID\n"
    "                       (repeatable; by default only one running as us)\n"
    "  --new-token          print a fresh token and exit\n"
    "\n"
    "MS: milliseconds, or with a unit: 500ms, 2s, 1m, 1h.\n"
    "\n"
    "Exit: 0 accepted (or sent); 1 rejected, or the receiver is not ours;\n"
    "2 usage; 3 unreachable; 4 no ack in time; 5 malformed ack; 125 internal.\n";

struct opts {
	int fd;
	uint8_t token[RP_TOKEN_LEN];
	const char *service;
	int64_t timeout_ms;
	int raw, no_wait, wait_for_socket, new_token;
	const char *socket;
	uint32_t allow_uids[SEND_MAX_ALLOW_UIDS];
	size_t n_allow_uids;
};

enum {
	OPT_FD = 256, OPT_TOKEN_FILE, OPT_TOKEN, OPT_SERVICE, OPT_TIMEOUT,
	OPT_RAW, OPT_NO_WAIT, OPT_WAIT_SOCKET, OPT_NEW_TOKEN, OPT_ALLOW_UID,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "no-wait", no_argument, NULL, OPT_NO_WAIT },
	{ "wait-for-socket", no_argument, NULL, OPT_WAIT_SOCKET },
	{ "new-token", no_argument, NULL, OPT_NEW_TOKEN },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ NULL, 0, NULL, 0 },
};

/* The token, from --token-file, --token or RP_HANDOFF_TOKEN. */
static int
load_token(struct opts *o, const char *file, char *hex)
{
	size_t n;

	return cli_load_tokens(file, &hex, hex != NULL, &o->token, 1, &n);
}

/* 0 to go on, -1 after --help / --version, else the exit status. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	const char *tfile = NULL;
	char *thex = NULL;
	uint64_t v;
	int c, n, r;

	memset(o, 0, sizeof(*o));
	o->service = "rp-handoff";
	o->timeout_ms = SEND_TIMEOUT_MS;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			c = cli_print(usage_text, help_text);
			return c == RP_EXIT_OK ? -1 : c;
		case 'V':
			c = cli_version();
			return c == RP_EXIT_OK ? -1 : c;
		case OPT_FD:
			if (rp_parse_u64(optarg, 0, INT_MAX, &v) != 0)
				return cli_usage("--fd: '%s' is not an fd "
				    "number", optarg);
			o->fd = (int)v;
			break;
		case OPT_TOKEN_FILE:
			tfile = optarg;
			break;
		case OPT_TOKEN:
			thex = optarg;
			break;
		case OPT_SERVICE:
			o->service = optarg;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &o->timeout_ms)) != 0)
				return r;
			break;
		case OPT_RAW:
			o->raw = 1;
			break;
		case OPT_NO_WAIT:
			o->no_wait = 1;
			break;
		case OPT_WAIT_SOCKET:
			o->wait_for_socket = 1;
			break;
		case OPT_NEW_TOKEN:
			o->new_token = 1;
			break;
		case OPT_ALLOW_UID:
			if ((r = cli_allow_uid(optarg, o->allow_uids,
			    &o->n_allow_uids, SEND_MAX_ALLOW_UIDS)) != 0)
				return r;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	n = argc - optind;
	if (o->new_token) {
		if (argc != 2)
			return cli_usage("--new-token takes nothing else");
		return 0;
	}
	if (n != 1)
		return cli_usage(n == 0 ? "no SOCKET given" :
		    "one SOCKET only");
	o->socket = argv[optind];
	if (o->socket[0] == '\0')
		return cli_usage("the socket path is empty");
	if (rp_names_sun_path_fits(o->socket) != 0)
		return cli_usage("the socket path is longer than %d bytes",
		    RP_SUN_PATH_MAX - 1);
	if (o->raw && o->no_wait)
		return cli_usage("--raw never waits; --no-wait is for the "
		    "offer");
	if (!rp_names_service_valid(o->service, strlen(o->service)))
		return cli_usage("--service: '%s' is not a service name "
		    "(1-64 of a-z, 0-9, -)", o->service);
	if (o->raw && !rp_fdpass_has_sideband())
		return cli_usage("--raw: there is no sideband on this system "
		    "(a transfer is the offer's handle_value)");
	if (rp_fd_mode(o->fd) < 0)
		return cli_usage("--fd %d: %s", o->fd, strerror(errno));
	return load_token(o, tfile, thex);
}

/* Connect, retrying a missing or refusing socket with --wait-for-socket
 * (a receiver started in the background may not be listening yet). */
static int
connect_to(const struct opts *o, int64_t deadline)
{
	int fd;

	for (;;) {
		fd = rp_sock_connect(o->socket, 0, deadline);
		if (fd >= 0 || !o->wait_for_socket ||
		    (errno != ENOENT && errno != ECONNREFUSED) ||
		    rp_deadline_passed(deadline))
			return fd;
		rp_sleep_ms(RETRY_NAP_MS);
	}
}

/* Sending `what` failed with errno: say so, return the exit status.  A
 * receiver that hangs up on us is refusing us (it closes a peer it does
 * not accept without a word). */
/* What rp_handoff_send said, as our diagnostic and exit status. */
static int
report(const struct opts *o, enum rp_handoff_sent r, const char *detail)
{
	switch (r) {
	case RP_HANDOFF_SENT_ACCEPTED:
		return RP_EXIT_OK;
	case RP_HANDOFF_SENT_REJECTED:
		cli_warn("rejected: %s", detail);
		return RP_EXIT_NO;
	case RP_HANDOFF_SENT_CLOSED:
		cli_warn("refused: %s closed the connection without an ack%s%s%s",
		    o->socket, detail[0] ? " (" : "", detail,
		    detail[0] ? ")" : "");
		return RP_EXIT_NO;
	case RP_HANDOFF_SENT_TIMEOUT:
		cli_warn("no ack from %s before the deadline", o->socket);
		return RP_EXIT_DEADLINE;
	case RP_HANDOFF_SENT_MALFORMED:
		cli_warn("malformed ack: %s", detail);
		return RP_EXIT_PROTOCOL;
	default:
		cli_warn("%s: %s: %s", o->socket, detail, strerror(errno));
		return rp_exit_from_errno(errno);
	}
}

int
main(int argc, char **argv)
{
	struct opts o;
	char detail[RP_WIRE_DETAIL_MAX + 64];
	int64_t deadline;
	int r, sock;

	if (rp_init() != 0) {
		cli_warn("cannot start: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	r = parse_args(argc, argv, &o);
	if (r < 0)
		return RP_EXIT_OK;
	if (r > 0)
		return r;
	if (o.new_token) {
		return cli_new_token();
	}
	deadline = rp_deadline_in(o.timeout_ms);
	sock = connect_to(&o, deadline);
	if (sock < 0) {
		cli_warn("cannot connect to %s: %s", o.socket, strerror(errno));
		return rp_exit_from_errno(errno);
	}
	snprintf(detail, sizeof(detail), "fd %d", o.fd);
	r = cli_check_receiver(sock, detail, o.socket, o.allow_uids,
	    o.n_allow_uids);
	if (r == 0)
		r = report(&o, rp_handoff_send(sock, o.fd, o.token, o.service,
		    o.raw, !o.no_wait, deadline, detail, sizeof(detail)),
		    detail);
	rp_fd_close(&sock);
	return r;
}
