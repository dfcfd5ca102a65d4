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
    "MS: milliseconds, or with a unit: 500ms, 2s, 1m, 1h.\n"
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

/* --------------------------------------------------------- the options */

/* Which mode an option belongs to. */
#define ONESHOT 1u
#define SERVE 2u
#define BOTH (ONESHOT | SERVE)

/* The options, in the order of the table below. */
enum {
	O_HELP, O_VERSION, O_TOKEN_FILE, O_TOKEN, O_NEW_TOKEN, O_TIMEOUT,
	O_COUNT, O_FD, O_RAW, O_ALLOW_UID, O_READY_FD, O_SERVE, O_HANDOFF,
	O_MAX_CONNS, O_NAMESPACE, O_PROBE_WINDOW, O_BROKER_UID,
	O_HANDOFF_EVENT, O_ECHO, N_OPT
};

/* The command line being read. */
struct args {
	struct recv_opts *o;
	unsigned char seen[N_OPT];
	const char *tfile;
	char *thex[RECV_MAX_TOKENS];
	size_t nthex;
};

/* One option: how it is spelled, in which mode it counts, and what it
 * does with its value: 0, -1 when the program is done (exit 0), or the
 * exit status. */
struct opt {
	const char *name;
	int letter;                     /* its short form, or 0 */
	int has_arg;
	unsigned modes;
	int (*set)(struct args *a, char *v);
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

static int
set_help(struct args *a, char *v)
{
	int r = cli_print(usage_text, help_text);

	(void)a;
	(void)v;
	return r == RP_EXIT_OK ? -1 : r;
}

static int
set_version(struct args *a, char *v)
{
	int r = cli_version();

	(void)a;
	(void)v;
	return r == RP_EXIT_OK ? -1 : r;
}

static int
set_token_file(struct args *a, char *v)
{
	a->tfile = v;
	return 0;
}

static int
set_token(struct args *a, char *v)
{
	if (a->nthex == RECV_MAX_TOKENS)
		return cli_usage("at most %d --token", RECV_MAX_TOKENS);
	a->thex[a->nthex++] = v;
	return 0;
}

static int
set_new_token(struct args *a, char *v)
{
	(void)v;
	a->o->new_token = 1;
	return 0;
}

static int
set_timeout(struct args *a, char *v)
{
	return cli_opt_ms("--timeout", v, &a->o->timeout_ms);
}

static int
set_count(struct args *a, char *v)
{
	uint32_t n;
	int r;

	if ((r = cli_opt_u32("--count", v, 1, RECV_MAX_TOKENS, &n)) == 0)
		a->o->count = n;
	return r;
}

static int
set_fd(struct args *a, char *v)
{
	uint32_t n;
	int r;

	if ((r = cli_opt_u32("--fd", v, 0, 1023, &n)) == 0)
		a->o->fd = (int)n;
	return r;
}

static int
set_raw(struct args *a, char *v)
{
	(void)v;
	if (!rp_fdpass_has_sideband())
		return cli_usage("--raw: there is no sideband on this system "
		    "(a transfer is the offer's handle_value)");
	a->o->raw = 1;
	return 0;
}

static int
set_allow_uid(struct args *a, char *v)
{
	struct recv_opts *o = a->o;

	return cli_allow_uid(v, o->allow_uids, &o->n_allow_uids,
	    RECV_MAX_ALLOW_UIDS);
}

static int
set_ready_fd(struct args *a, char *v)
{
	uint32_t n;
	int r;

	if ((r = cli_opt_u32("--ready-fd", v, 0, INT_MAX, &n)) == 0)
		a->o->ready_fd = (int)n;
	return r;
}

static int
set_serve(struct args *a, char *v)
{
	a->o->serve = 1;
	a->o->endpoint = v;
	return 0;
}

static int
set_handoff(struct args *a, char *v)
{
	a->o->handoff = v;
	return 0;
}

static int
set_max_conns(struct args *a, char *v)
{
	uint32_t n;
	int r;

	if ((r = cli_opt_u32("--max-conns", v, 1, 65536, &n)) == 0)
		a->o->max_conns = n;
	return r;
}

static int
set_namespace(struct args *a, char *v)
{
	a->o->namespace_id = v;
	return 0;
}

static int
set_probe_window(struct args *a, char *v)
{
	return cli_opt_ms("--probe-window", v, &a->o->probe_window_ms);
}

static int
set_broker_uid(struct args *a, char *v)
{
	return cli_opt_u32("--broker-uid", v, 0, UINT32_MAX - 1,
	    &a->o->broker_uid);
}

static int
set_handoff_event(struct args *a, char *v)
{
	if (parse_event(v, &a->o->event_backend) != 0)
		return cli_usage("--handoff-event: '%s' is neither backend nor "
		    "broker", v);
	return 0;
}

static int
set_echo(struct args *a, char *v)
{
	(void)v;
	a->o->echo = 1;
	return 0;
}

/* One row per option.  --serve picks the mode, --new-token excludes
 * everything else: both count in either. */
static const struct opt opts[N_OPT] = {
	[O_HELP] = { "help", 'h', no_argument, BOTH, set_help },
	[O_VERSION] = { "version", 'V', no_argument, BOTH, set_version },
	[O_TOKEN_FILE] = { "token-file", 0, required_argument, ONESHOT,
	    set_token_file },
	[O_TOKEN] = { "token", 0, required_argument, ONESHOT, set_token },
	[O_NEW_TOKEN] = { "new-token", 0, no_argument, BOTH, set_new_token },
	[O_TIMEOUT] = { "timeout", 0, required_argument, BOTH, set_timeout },
	[O_COUNT] = { "count", 0, required_argument, ONESHOT, set_count },
	[O_FD] = { "fd", 0, required_argument, ONESHOT, set_fd },
	[O_RAW] = { "raw", 0, no_argument, ONESHOT, set_raw },
	[O_ALLOW_UID] = { "allow-uid", 0, required_argument, BOTH,
	    set_allow_uid },
	[O_READY_FD] = { "ready-fd", 0, required_argument, BOTH, set_ready_fd },
	[O_SERVE] = { "serve", 0, required_argument, BOTH, set_serve },
	[O_HANDOFF] = { "handoff", 0, required_argument, SERVE, set_handoff },
	[O_MAX_CONNS] = { "max-conns", 0, required_argument, SERVE,
	    set_max_conns },
	[O_NAMESPACE] = { "namespace", 0, required_argument, SERVE,
	    set_namespace },
	[O_PROBE_WINDOW] = { "probe-window", 0, required_argument, SERVE,
	    set_probe_window },
	[O_BROKER_UID] = { "broker-uid", 0, required_argument, SERVE,
	    set_broker_uid },
	[O_HANDOFF_EVENT] = { "handoff-event", 0, required_argument, SERVE,
	    set_handoff_event },
	[O_ECHO] = { "echo", 0, no_argument, SERVE, set_echo },
};

/* getopt_long's view of the table (cli.h: table-driven options). */
static struct option longopts[N_OPT + 1];
static char shortopts[2 + 2 * N_OPT];

static void
getopt_tables(void)
{
	size_t i;

	for (i = 0; i < N_OPT; i++)
		longopts[i] = (struct option){ opts[i].name, opts[i].has_arg,
		    NULL, opts[i].letter ? opts[i].letter : CLI_OPT_ROW + (int)i };
	cli_shortopts(longopts, shortopts);
}


/* An option given for the other mode: "--a, --b and --c <tail>", naming
 * every option of that mode alone. */
static int
wrong_mode(const struct args *a, unsigned mode, const char *tail)
{
	char list[256];
	size_t i, n = 0, k = 0, len = 0;
	int hit = 0;

	for (i = 0; i < N_OPT; i++) {
		if (opts[i].modes != mode)
			continue;
		n++;
		hit |= a->seen[i];
	}
	if (!hit)
		return 0;
	for (i = 0; i < N_OPT; i++) {
		if (opts[i].modes != mode)
			continue;
		k++;
		len += (size_t)snprintf(list + len, sizeof(list) - len,
		    "%s--%s", k == 1 ? "" : k == n ? " and " : ", ",
		    opts[i].name);
		if (len >= sizeof(list))
			break;
	}
	return cli_usage("%s %s", list, tail);
}

/* The expected tokens, from --token-file, --token (repeatable) or
 * RP_HANDOFF_TOKEN; several are separated by white space. */
static int
load_tokens(struct args *a)
{
	struct recv_opts *o = a->o;
	int r;

	o->tokens = calloc(RECV_MAX_TOKENS, RP_TOKEN_LEN);
	if (o->tokens == NULL) {
		cli_warn("out of memory");
		return RP_EXIT_INTERNAL;
	}
	if ((r = cli_load_tokens(a->tfile, a->thex, a->nthex, o->tokens,
	    RECV_MAX_TOKENS, &o->ntokens)) != 0)
		return r;
	if (o->count > o->ntokens)
		return cli_usage("--count %u needs %u tokens, one per "
		    "transfer; %zu given", o->count, o->count, o->ntokens);
	return 0;
}

static int
check_serve(struct args *a, int npos)
{
	struct recv_opts *o = a->o;
	const char *env;
	int r;

	if ((r = wrong_mode(a, ONESHOT, "are not for --serve")) != 0)
		return r;
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
	if (!a->seen[O_HANDOFF]) {
		env = getenv("RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE");
		if (env != NULL && *env != '\0')
			o->handoff = env;
	} else if (o->handoff[0] == '\0') {
		return cli_usage("--handoff: the socket path is empty");
	}
	if (!a->seen[O_NAMESPACE]) {
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
	if (!a->seen[O_HANDOFF_EVENT]) {
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
check_oneshot(struct args *a, int npos)
{
	struct recv_opts *o = a->o;
	int r;

	if ((r = wrong_mode(a, SERVE, "are only for --serve")) != 0)
		return r;
	if (npos == 0)
		return cli_usage("no SOCKET given");
	if (npos > 1)
		return cli_usage("one SOCKET only (put -- before PROG)");
	if (o->socket[0] == '\0')
		return cli_usage("the socket path is empty");
	if (o->fd >= 0 && o->prog == NULL)
		return cli_usage("--fd needs -- PROG");
	if ((r = load_tokens(a)) != 0)
		return r;
	if (o->prog != NULL && (r = prog_check(o->prog[0])) != 0)
		return r;
	return 0;
}

/* 0 with *o filled, -1 when the program is done (--help, --version), or
 * the exit status. */
static int
parse_args(int argc, char **argv, struct recv_opts *o)
{
	struct args a;
	int split, c, i, r, npos;

	memset(&a, 0, sizeof(a));
	memset(o, 0, sizeof(*o));
	a.o = o;
	o->timeout_ms = RECV_TIMEOUT_MS;
	o->ready_fd = -1;
	o->count = 1;
	o->fd = -1;
	o->max_conns = RECV_MAX_CONNS;
	o->probe_window_ms = RECV_PROBE_WINDOW_MS;
	o->broker_uid = rp_host_euid();

	getopt_tables();
	split = cli_split(argc, argv, shortopts, longopts);
	if (split < argc) {
		if (split + 1 >= argc)
			return cli_usage("nothing after --");
		if (argv[split + 1][0] == '\0')
			return cli_usage("the program name is empty");
		o->prog = argv + split + 1;
	}
	opterr = 0;
	while ((c = getopt_long(split, argv, shortopts, longopts, NULL)) !=
	    -1) {
		if ((i = cli_opt_row(longopts, c)) < 0)
			return cli_getopt_error(c, argv, longopts);
		a.seen[i] = 1;
		if ((r = opts[i].set(&a, optarg)) != 0)
			return r;
	}
	npos = split - optind;
	if (o->new_token) {
		if (argc != 2)
			return cli_usage("--new-token takes nothing else");
		return 0;
	}
	/* The readiness fd must be open, and no child may inherit it. */
	if (o->ready_fd >= 0 && rp_fd_set_cloexec(o->ready_fd, 1) != 0)
		return cli_usage("--ready-fd %d: %s", o->ready_fd,
		    strerror(errno));
	if (o->serve)
		return check_serve(&a, npos);
	o->socket = npos > 0 ? argv[optind] : NULL;
	return check_oneshot(&a, npos);
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
