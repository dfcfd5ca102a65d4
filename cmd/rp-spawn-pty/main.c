/*
 * rp-spawn-pty — run a program as the session leader of a new
 * pseudo-terminal, relay its input and output, and report exactly what
 * happened: every byte it wrote, and its real exit status (code, 128 + N
 * for signal N, 124 after --timeout, 126/127 when it could not be run, 125
 * when we failed ourselves).  No process it started outlives it.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "rp.h"
#include "spawn_pty.h"

const char cli_prog[] = "rp-spawn-pty";

/* Identical to the SYNOPSIS of doc/rp-spawn-pty.1.scd (a test checks). */
static const char usage_text[] =
    "rp-spawn-pty [--size COLSxROWS] [--timeout SECS] [--kill-after SECS]\n"
    "             [--exit-record FILE] [--transcript FILE] [--raise] [--no-stdin]\n"
    "             [--master-to SOCKET --token-file F [--allow-uid UID]...]\n"
    "             [--] PROG [ARGS...]\n"
    "rp-spawn-pty -h | --help | -V | --version\n";

static const char help_text[] =
    "\n"
    "Run PROG in a new pseudo-terminal; relay input and output; exit with\n"
    "PROG's status (128+N if killed by signal N).\n"
    "\n"
    "  --size COLSxROWS     terminal size (default: our terminal's, else 80x24)\n"
    "  --timeout SECS       SIGTERM to PROG's process group after SECS; exit 124\n"
    "  --kill-after SECS    then SIGKILL after SECS more (default 5)\n"
    "  --exit-record FILE   write a JSON record of the run to FILE\n"
    "  --transcript FILE    keep a copy of everything PROG wrote in FILE\n"
    "  --raise              if PROG dies of a signal, die of the same signal\n"
    "  --no-stdin           do not read stdin (PROG never sees EOF)\n"
    "  --master-to SOCKET   hand the terminal's master to SOCKET, only supervise\n"
    "  --token-file F       the handoff token (32 hex digits) for --master-to\n"
    "  --allow-uid UID      --master-to may also hand it to a receiver running\n"
    "                       as UID (repeatable; by default only as us)\n"
    "  -h, --help           this text\n"
    "  -V, --version        the version\n"
    "\n"
    "SECS: seconds (2.5), or with a unit: 500ms, 2s, 1m, 1h.\n"
    "\n"
    "Exit: PROG's status; 124 timeout; 125 rp-spawn-pty failed;\n"
    "126 PROG not executable; 127 PROG not found.\n";

/* 1..65535, decimal digits only, no sign or leading zero. */
static int
parse_dim(const char *s, size_t n, uint16_t *out)
{
	unsigned long v = 0;
	size_t i;

	if (n == 0 || n > 5 || s[0] == '0')
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = (uint16_t)v;
	return 0;
}

static int
parse_size(const char *s, struct rp_pty_size *sz)
{
	const char *x = strchr(s, 'x');

	if (x == NULL)
		return -1;
	if (parse_dim(s, (size_t)(x - s), &sz->cols) != 0 ||
	    parse_dim(x + 1, strlen(x + 1), &sz->rows) != 0)
		return -1;
	return 0;
}

enum {
	OPT_SIZE = 256,
	OPT_TIMEOUT,
	OPT_KILL_AFTER,
	OPT_EXIT_RECORD,
	OPT_TRANSCRIPT,
	OPT_RAISE,
	OPT_NO_STDIN,
	OPT_MASTER_TO,
	OPT_TOKEN_FILE,
	OPT_ALLOW_UID,
};

static const struct option longopts[] = {
	{ "size", required_argument, NULL, OPT_SIZE },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "kill-after", required_argument, NULL, OPT_KILL_AFTER },
	{ "exit-record", required_argument, NULL, OPT_EXIT_RECORD },
	{ "transcript", required_argument, NULL, OPT_TRANSCRIPT },
	{ "raise", no_argument, NULL, OPT_RAISE },
	{ "no-stdin", no_argument, NULL, OPT_NO_STDIN },
	{ "master-to", required_argument, NULL, OPT_MASTER_TO },
	{ "token-file", required_argument, NULL, OPT_TOKEN_FILE },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* The longest --timeout or --kill-after: 10^9 s (some 31 years). */
#define MAX_SECS UINT64_C(1000000000)

/* Returns -1 to go on, else the exit status. */
static int
parse_args(int argc, char **argv, struct opts *o)
{
	size_t ntok;
	int c, r;

	memset(o, 0, sizeof(*o));
	o->kill_after_ms = 5000;
	opterr = 0;
	/* '+': options end at PROG, whose own options are its business. */
	while ((c = getopt_long(argc, argv, "+:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return cli_print(usage_text, help_text);
		case 'V':
			return cli_version();
		case OPT_SIZE:
			if (parse_size(optarg, &o->size) != 0)
				return cli_usage("--size: expected COLSxROWS "
				    "with each 1..65535, got '%s'", optarg);
			o->have_size = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_duration("--timeout", optarg, 1000,
			    0, MAX_SECS * 1000, &o->timeout_ms)) != 0)
				return r;
			break;
		case OPT_KILL_AFTER:
			if ((r = cli_opt_duration("--kill-after", optarg,
			    1000, 0, MAX_SECS * 1000, &o->kill_after_ms)) != 0)
				return r;
			break;
		case OPT_EXIT_RECORD:
			o->exit_record = optarg;
			break;
		case OPT_TRANSCRIPT:
			o->transcript = optarg;
			break;
		case OPT_RAISE:
			o->raise = 1;
			break;
		case OPT_NO_STDIN:
			o->no_stdin = 1;
			break;
		case OPT_MASTER_TO:
			o->master_to = optarg;
			break;
		case OPT_TOKEN_FILE:
			o->token_file = optarg;
			break;
		case OPT_ALLOW_UID:
			if ((c = cli_allow_uid(optarg, o->allow_uids,
			    &o->n_allow_uids, SPAWN_PTY_MAX_ALLOW_UIDS)) != 0)
				return c;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	if (optind >= argc)
		return cli_usage("no program to run");
	if (argv[optind][0] == '\0')
		return cli_usage("the program name is empty");
	if (o->master_to != NULL && o->transcript != NULL)
		return cli_usage("--transcript cannot be used with "
		    "--master-to (the output goes to the receiver)");
	if (o->master_to == NULL && o->token_file != NULL)
		return cli_usage("--token-file is only for --master-to");
	if (o->master_to == NULL && o->n_allow_uids > 0)
		return cli_usage("--allow-uid is only for --master-to");
	if (o->master_to != NULL && o->master_to[0] == '\0')
		return cli_usage("--master-to: the socket path is empty");
	if (o->master_to != NULL && o->token_file == NULL &&
	    getenv("RP_HANDOFF_TOKEN") == NULL)
		return cli_usage("--master-to needs --token-file F "
		    "(or RP_HANDOFF_TOKEN)");
	/* The token now, before anything is set up for the run. */
	if (o->master_to != NULL && (c = cli_load_tokens(o->token_file, NULL,
	    0, &o->token, 1, &ntok)) != 0)
		return c;
	o->argv = argv + optind;
	return -1;
}

int
main(int argc, char **argv)
{
	struct opts o;
	int rc;

	if (rp_init() != 0) {
		cli_warn("start-up: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	rc = parse_args(argc, argv, &o);
	if (rc < 0)
		rc = spawn_pty_run(&o);
	sodium_memzero(o.token, sizeof(o.token));
	return rc;
}
