/*
 * rp-handoff-recv — receive open fds handed over a Unix socket (a token
 * and exactly one fd, then a HandoffOffer that is answered with a
 * HandoffAck), verify each, and put them to use: exec or run a program on
 * them, or copy what they yield to stdout.  With --serve it is instead a
 * generic broker backend: it answers identity probes on its endpoint with
 * its own identity and runs a program (or an in-process echo) on every
 * other connection, including those the broker hands it.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "rp.h"
#include "recv.h"

const char cli_prog[] = "rp-handoff-recv";

/* Identical to the SYNOPSIS of doc/rp-handoff-recv.1.scd (a test checks). */
static const char usage_text[] =
    "rp-handoff-recv [--token-file F | --token HEX] [--timeout MS] [--count N]\n"
    "                [--fd N] [--raw] [--allow-uid UID]... [--ready-fd N]\n"
    "                SOCKET [-- PROG [ARGS...]]\n"
    "rp-handoff-recv --serve ENDPOINT [--handoff SOCKET] [--max-conns N]\n"
    "                [--namespace NS] [--probe-window MS] [--timeout MS]\n"
    "                [--allow-uid UID]... [--broker-uid UID]\n"
    "                [--handoff-event backend|broker] [--ready-fd N]\n"
    "                (--echo | -- PROG [ARGS...])\n"
    "rp-handoff-recv --new-token\n"
    "rp-handoff-recv -h | --help | -V | --version\n";

static const char help_text[] =
    "\n"
    "One-shot mode: listen on SOCKET, take --count transfers (token + one fd,\n"
    "then the offer; only the token + fd with --raw), verify each, then exec\n"
    "PROG on the fd (count 1) or run it per fd; without PROG copy the fd to\n"
    "stdout.  The token comes from --token-file, --token or RP_HANDOFF_TOKEN.\n"
    "\n"
    "  --token-file F        the expected token (32 hex digits) from a file\n"
    "  --token HEX           the expected token on the command line (visible\n"
    "                        to other users in ps; prefer the file or env)\n"
    "  --timeout MS          deadline of the whole run (default 5000; serve:\n"
    "                        of each offer and probe)\n"
    "  --count N             transfers to take (default 1)\n"
    "  --fd N                put the received fd on fd N of PROG (default: 0 and 1)\n"
    "  --raw                 token + fd only, no offer and no ack\n"
    "  --allow-uid UID       also accept peers of this uid (repeatable)\n"
    "  --ready-fd N          write a newline to fd N once listening\n"
    "  --new-token           print a fresh token and exit\n"
    "\n"
    "Serve mode: a broker backend on ENDPOINT (empty: the environment's\n"
    "RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE).\n"
    "\n"
    "  --handoff SOCKET      also take transfers from the broker on SOCKET\n"
    "                        (default RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE)\n"
    "  --max-conns N         at most N clients served at once (default 128);\n"
    "                        more wait, none is dropped\n"
    "  --namespace NS        our identity's namespace (default\n"
    "                        RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE)\n"
    "  --probe-window MS     how long a silent client may be a probe (100)\n"
    "  --broker-uid UID      the broker's uid (default ours)\n"
    "  --handoff-event WHO   who writes the handoff event to the client:\n"
    "                        broker (default) or backend (RP_HANDOFF_EVENT)\n"
    "  --echo                echo every connection in-process (no PROG)\n"
    "\n"
    "Exit: 0 done; 1 a transfer was rejected or a peer of another uid\n"
    "connected; 2 usage; 3 cannot listen; 4 deadline; 5 malformed offer;\n"
    "125 internal; 126/127 PROG not executable / not found; else PROG's\n"
    "status.\n";

void
recv_ready(struct recv_opts *o)
{
	/* A reader that went away is not our failure. */
	(void)rp_daemon_ready_fd(&o->ready_fd);
}

int
recv_uid_allowed(const struct recv_opts *o, uint32_t uid)
{
	return rp_identity_uid_allowed(uid, rp_host_euid(), o->allow_uids,
	    o->n_allow_uids);
}

enum {
	OPT_TOKEN_FILE = 256, OPT_TOKEN, OPT_NEW_TOKEN, OPT_TIMEOUT,
	OPT_COUNT, OPT_FD, OPT_RAW, OPT_ALLOW_UID, OPT_READY_FD, OPT_SERVE,
	OPT_HANDOFF, OPT_MAX_CONNS, OPT_NAMESPACE, OPT_PROBE_WINDOW,
	OPT_BROKER_UID, OPT_HANDOFF_EVENT, OPT_ECHO,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "token", required_argument, NULL, OPT_TOKEN },
	{ "new-token", no_argument, NULL, OPT_NEW_TOKEN },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "count", required_argument, NULL, OPT_COUNT },
	{ "fd", required_argument, NULL, OPT_FD },
	{ "raw", no_argument, NULL, OPT_RAW },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "serve", required_argument, NULL, OPT_SERVE },
	{ "handoff", required_argument, NULL, OPT_HANDOFF },
	{ "max-conns", required_argument, NULL, OPT_MAX_CONNS },
	{ "namespace", required_argument, NULL, OPT_NAMESPACE },
	{ "probe-window", required_argument, NULL, OPT_PROBE_WINDOW },
	{ "broker-uid", required_argument, NULL, OPT_BROKER_UID },
	{ "handoff-event", required_argument, NULL, OPT_HANDOFF_EVENT },
	{ "echo", no_argument, NULL, OPT_ECHO },
	{ NULL, 0, NULL, 0 },
};

/*
 * Is PROG there to be run?  Checked before we listen, so a backend with a
 * typo in its command fails at once (126 / 127) instead of on every
 * connection; found as exec will find it (rp_spawn_find).  Returns 0 or
 * the exit status.
 */
static int
prog_check(const char *file)
{
	char path[PATH_MAX];
	int err;

	if (rp_spawn_find(file, path, sizeof(path)) == 0)
		return 0;
	err = errno;
	if (err == EACCES)
		cli_warn("%s: not executable", file);
	else if (err == ENOENT && strchr(file, '/') == NULL)
		cli_warn("%s: not found", file);
	else
		cli_warn("%s: %s", file, strerror(err));
	return rp_exit_from_exec_errno(err);
}

struct seen {
	int token_file, token, count, fd, raw, new_token;
	int handoff, max_conns, namespace_id, probe_window, broker_uid;
	int handoff_event, echo;
};

static int
parse_event(const char *s, int *backend)
{
	if (strcmp(s, "backend") == 0)
		*backend = 1;
	else if (strcmp(s, "broker") == 0)
		*backend = 0;
	else
		return -1;
	return 0;
}

/* The expected tokens, from --token-file, --token (repeatable) or
 * RP_HANDOFF_TOKEN; several are separated by white space. */
static int
load_tokens(struct recv_opts *o, const char *file, char **hex, size_t nhex)
{
	int r;

	o->tokens = calloc(RECV_MAX_TOKENS, RP_TOKEN_LEN);
	if (o->tokens == NULL) {
		cli_warn("out of memory");
		return RP_EXIT_INTERNAL;
	}
	if ((r = cli_load_tokens(file, hex, nhex, o->tokens, RECV_MAX_TOKENS,
	    &o->ntokens)) != 0)
		return r;
	if (o->count > o->ntokens)
		return cli_usage("--count %u needs %u tokens, one per "
		    "transfer; %zu given", o->count, o->count, o->ntokens);
	return 0;
}

static int
check_serve(struct recv_opts *o, const struct seen *s, int npos)
{
	const char *env;
	int r;

	if (s->token_file || s->token || s->count || s->fd || s->raw)
		return cli_usage("--token-file, --token, --count, --fd and "
		    "--raw are not for --serve");
	if (npos > 0)
		return cli_usage("--serve takes no SOCKET argument (put -- "
		    "before PROG)");
	if (o->echo == (o->prog != NULL))
		return cli_usage("--serve needs either --echo or -- PROG");
	if (o->endpoint[0] == '\0') {
		env = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE");
		if (env == NULL || *env == '\0')
			return cli_usage("--serve: no ENDPOINT given and "
			    "RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE is not set");
		o->endpoint = env;
	}
	if (!s->handoff) {
		env = getenv("RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE");
		if (env != NULL && *env != '\0')
			o->handoff = env;
	} else if (o->handoff[0] == '\0') {
		return cli_usage("--handoff: the socket path is empty");
	}
	if (!s->namespace_id) {
		env = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE");
		o->namespace_id = env != NULL ? env : "";
	}
	if (strlen(o->namespace_id) >= RP_IDENTITY_NS_MAX)
		return cli_usage("the namespace is longer than %d bytes",
		    RP_IDENTITY_NS_MAX - 1);
	if (strlen(o->endpoint) >= RP_SUN_PATH_MAX)
		return cli_usage("the endpoint path is longer than %d bytes",
		    RP_SUN_PATH_MAX - 1);
	env = getenv("RUNNING_PROCESS_BROKER_V1_BROKER_PID");
	if (env != NULL && *env != '\0' &&
	    rp_parse_u32(env, 1, INT32_MAX, &o->broker_pid) != 0)
		return cli_usage("RUNNING_PROCESS_BROKER_V1_BROKER_PID: '%s' "
		    "is not a pid", env);
	if (!s->handoff_event) {
		env = getenv("RP_HANDOFF_EVENT");
		if (env != NULL && *env != '\0' &&
		    parse_event(env, &o->event_backend) != 0)
			return cli_usage("RP_HANDOFF_EVENT: '%s' is neither "
			    "backend nor broker", env);
	}
	if (o->prog != NULL && (r = prog_check(o->prog[0])) != 0)
		return r;
	return 0;
}

static int
check_oneshot(struct recv_opts *o, const struct seen *s, int npos,
    const char *tfile, char **thex, size_t nthex)
{
	int r;

	if (s->handoff || s->max_conns || s->namespace_id ||
	    s->probe_window || s->broker_uid || s->handoff_event || s->echo)
		return cli_usage("--handoff, --max-conns, --namespace, "
		    "--probe-window, --broker-uid, --handoff-event and --echo "
		    "are only for --serve");
	if (npos == 0)
		return cli_usage("no SOCKET given");
	if (npos > 1)
		return cli_usage("one SOCKET only (put -- before PROG)");
	if (o->socket[0] == '\0')
		return cli_usage("the socket path is empty");
	if (o->fd >= 0 && o->prog == NULL)
		return cli_usage("--fd needs -- PROG");
	if ((r = load_tokens(o, tfile, thex, nthex)) != 0)
		return r;
	if (o->prog != NULL && (r = prog_check(o->prog[0])) != 0)
		return r;
	return 0;
}

static int
parse_args(int argc, char **argv, struct recv_opts *o)
{
	struct seen s;
	const char *tfile = NULL;
	char *thex[RECV_MAX_TOKENS];
	size_t nthex = 0;
	int split, c, r, npos;
	uint32_t v;

	memset(&s, 0, sizeof(s));
	memset(o, 0, sizeof(*o));
	o->timeout_ms = RECV_TIMEOUT_MS;
	o->ready_fd = -1;
	o->count = 1;
	o->fd = -1;
	o->max_conns = RECV_MAX_CONNS;
	o->probe_window_ms = RECV_PROBE_WINDOW_MS;
	o->broker_uid = rp_host_euid();

	split = cli_split(argc, argv, ":hV", longopts);
	if (split < argc) {
		if (split + 1 >= argc)
			return cli_usage("nothing after --");
		if (argv[split + 1][0] == '\0')
			return cli_usage("the program name is empty");
		o->prog = argv + split + 1;
	}
	opterr = 0;
	while ((c = getopt_long(split, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			r = cli_print(usage_text, help_text);
			return r == RP_EXIT_OK ? -1 : r;
		case 'V':
			r = cli_version();
			return r == RP_EXIT_OK ? -1 : r;
		case OPT_TOKEN_FILE:
			s.token_file = 1;
			tfile = optarg;
			break;
		case OPT_TOKEN:
			s.token = 1;
			if (nthex == RECV_MAX_TOKENS)
				return cli_usage("at most %d --token",
				    RECV_MAX_TOKENS);
			thex[nthex++] = optarg;
			break;
		case OPT_NEW_TOKEN:
			s.new_token = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &o->timeout_ms)) != 0)
				return r;
			break;
		case OPT_COUNT:
			s.count = 1;
			if ((r = cli_opt_u32("--count", optarg, 1,
			    RECV_MAX_TOKENS, &v)) != 0)
				return r;
			o->count = v;
			break;
		case OPT_FD:
			s.fd = 1;
			if ((r = cli_opt_u32("--fd", optarg, 0, 1023,
			    &v)) != 0)
				return r;
			o->fd = (int)v;
			break;
		case OPT_RAW:
			s.raw = 1;
			o->raw = 1;
			break;
		case OPT_ALLOW_UID:
			if (o->n_allow_uids == RECV_MAX_ALLOW_UIDS)
				return cli_usage("at most %d --allow-uid",
				    RECV_MAX_ALLOW_UIDS);
			if ((r = cli_opt_u32("--allow-uid", optarg, 0,
			    UINT32_MAX - 1, &v)) != 0)
				return r;
			o->allow_uids[o->n_allow_uids++] = v;
			break;
		case OPT_READY_FD:
			if ((r = cli_opt_u32("--ready-fd", optarg, 0,
			    INT_MAX, &v)) != 0)
				return r;
			o->ready_fd = (int)v;
			break;
		case OPT_SERVE:
			o->serve = 1;
			o->endpoint = optarg;
			break;
		case OPT_HANDOFF:
			s.handoff = 1;
			o->handoff = optarg;
			break;
		case OPT_MAX_CONNS:
			s.max_conns = 1;
			if ((r = cli_opt_u32("--max-conns", optarg, 1,
			    65536, &v)) != 0)
				return r;
			o->max_conns = v;
			break;
		case OPT_NAMESPACE:
			s.namespace_id = 1;
			o->namespace_id = optarg;
			break;
		case OPT_PROBE_WINDOW:
			s.probe_window = 1;
			if ((r = cli_opt_ms("--probe-window", optarg,
			    &o->probe_window_ms)) != 0)
				return r;
			break;
		case OPT_BROKER_UID:
			s.broker_uid = 1;
			if ((r = cli_opt_u32("--broker-uid", optarg, 0,
			    UINT32_MAX - 1, &o->broker_uid)) != 0)
				return r;
			break;
		case OPT_HANDOFF_EVENT:
			s.handoff_event = 1;
			if (parse_event(optarg, &o->event_backend) != 0)
				return cli_usage("--handoff-event: '%s' is "
				    "neither backend nor broker", optarg);
			break;
		case OPT_ECHO:
			s.echo = 1;
			o->echo = 1;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	npos = split - optind;
	if (s.new_token) {
		if (argc != 2)
			return cli_usage("--new-token takes nothing else");
		o->new_token = 1;
		return 0;
	}
	/* The readiness fd must be open, and no child may inherit it. */
	if (o->ready_fd >= 0 && rp_fd_set_cloexec(o->ready_fd, 1) != 0)
		return cli_usage("--ready-fd %d: %s", o->ready_fd,
		    strerror(errno));
	if (o->serve)
		return check_serve(o, &s, npos);
	o->socket = npos > 0 ? argv[optind] : NULL;
	return check_oneshot(o, &s, npos, tfile, thex, nthex);
}

int
main(int argc, char **argv)
{
	struct recv_opts o;
	int r;

	if (rp_init() != 0) {
		cli_warn("cannot start: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	r = parse_args(argc, argv, &o);
	if (r < 0)
		return RP_EXIT_OK;
	if (r > 0) {
		free(o.tokens);
		return r;
	}
	if (o.new_token)
		return cli_new_token();
	if (o.serve)
		return recv_serve(&o);
	r = recv_oneshot(&o);
	free(o.tokens);
	return r;
}
