/*
 * rp-probe — the client side of the running-process broker v1 protocol,
 * and the diagnostic: who really listens on a backend endpoint (identity),
 * what a broker answers to a Hello (and then talk to the backend it names,
 * the UCSPI-client way), and the broker's admin verbs.
 */
#include <errno.h>
#include <getopt.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

const char cli_prog[] = "rp-probe";

/* Identical to the SYNOPSIS of doc/rp-probe.1.scd (a test checks). */
static const char usage_text[] =
    "rp-probe identity [--timeout MS] [--json] [--expect-pid PID]\n"
    "                  [--expect-exe PATH] [--expect-hash HEX]\n"
    "                  [--expect-namespace NS] [--allow-uid UID]... ENDPOINT\n"
    "rp-probe hello [-s SOCKET] --service S --version V [--client-version S]\n"
    "               [--keepalive SECS] [--adopt] [--handoff-timeout MS]\n"
    "               [--json] [--timeout MS] [--connect | -- PROG [ARGS...]]\n"
    "rp-probe admin [-s SOCKET] [--json] [--service S] [--drain-deadline MS]\n"
    "               [--timeout MS] VERB\n"
    "rp-probe -h | --help | -V | --version\n";

static const char help_text[] =
    "\n"
    "identity  probe ENDPOINT (0xB232) and check its claim against the kernel;\n"
    "          exit 0 verified, 1 mismatch, 3 unreachable, 4 deadline,\n"
    "          5 malformed (--timeout default 500)\n"
    "hello     send one Hello to the broker; print the backend endpoint, or\n"
    "          run PROG on the backend connection (fd 6 read, fd 7 write),\n"
    "          or relay stdin/stdout to it (--connect); a refusal with\n"
    "          ErrorCode N exits 10+N (--timeout default 15000)\n"
    "admin     send an admin VERB; print the body; exit with its exit_code\n"
    "          (--timeout default 5000).  VERB: status, dump,\n"
    "          list-instances, healthz, readyz, backend-health, config,\n"
    "          diagnose, metrics, shutdown\n"
    "\n"
    "The broker socket: -s, else RUNNING_PROCESS_BROKER_V1_SOCKET, else the\n"
    "per-user shared broker's default path.\n";

int
probe_help(void)
{
	return cli_print(usage_text, help_text);
}

void
probe_json_begin(struct rp_json *j, struct rp_buf *out)
{
	rp_json_init(j, out, rp_tty_is(STDOUT_FILENO));
}

int
probe_json_end(struct rp_json *j, struct rp_buf *out)
{
	if (rp_json_finish(j) != 0) {
		rp_buf_free(out);
		cli_warn("out of memory");
		return RP_EXIT_INTERNAL;
	}
	return probe_flush(out, 0);
}

int
probe_flush(struct rp_buf *out, int oom)
{
	int r = RP_EXIT_OK;

	if (oom) {
		cli_warn("out of memory");
		r = RP_EXIT_INTERNAL;
	} else if (fwrite(out->data, 1, out->len, stdout) != out->len ||
	    fflush(stdout) != 0) {
		cli_warn("cannot write standard output: %s", strerror(errno));
		r = RP_EXIT_INTERNAL;
	}
	rp_buf_free(out);
	return r;
}

int
probe_broker_socket(const char *opt, char *out, size_t outsz)
{
	const char *env = getenv("RUNNING_PROCESS_BROKER_V1_SOCKET");
	char dir[RP_SUN_PATH_MAX], mid[256];
	const char *path = opt;
	uint32_t euid = rp_host_euid();
	int err;

	if (path == NULL && env != NULL && *env != '\0')
		path = env;
	if (path != NULL) {
		if (*path == '\0')
			return cli_usage("the broker socket path is empty");
		if (strlen(path) >= outsz ||
		    rp_names_sun_path_fits(path) != 0)
			return cli_usage("the broker socket path is longer "
			    "than %d bytes", RP_SUN_PATH_MAX - 1);
		memcpy(out, path, strlen(path) + 1);
		return 0;
	}
	/* The per-user shared broker, named as 20-broker.md says (on
	 * Windows its pipe, as 70-windows.md says). */
	if (rp_host_broker_endpoint(out, outsz, RP_ISOLATION_SHARED,
	    NULL) >= 0)
		return 0;
	/* Each step again, for the one that failed to say why. */
	err = errno;
	if (cli_broker_dir(dir, sizeof(dir), euid) < 0)
		return errno == EINVAL ? RP_EXIT_USAGE : RP_EXIT_INTERNAL;
	if (cli_machine_id(mid, sizeof(mid)) < 0)
		return RP_EXIT_INTERNAL;
	cli_warn("cannot name the default broker socket in %s: %s", dir,
	    strerror(err));
	return rp_exit_from_errno(err);
}

uint64_t
probe_request_id(void)
{
	uint64_t v;

	do
		randombytes_buf(&v, sizeof(v));
	while (v == 0);
	return v;
}

int
probe_read_reply(int fd, size_t cap, int64_t deadline, const char *what,
    uint8_t **body, size_t *len)
{
	enum rp_frame_status st;

	*body = NULL;
	st = rp_frame_read(fd, cap, deadline, body, len);
	switch (st) {
	case RP_FRAME_OK:
		if (*body == NULL) {
			/* An empty body decodes to defaults; keep the
			 * "NULL means failure" contract for callers. */
			*body = calloc(1, 1);
			if (*body == NULL)
				return RP_EXIT_INTERNAL;
		}
		return RP_EXIT_OK;
	case RP_FRAME_TIMEOUT:
		cli_warn("%s: no reply before the deadline", what);
		return RP_EXIT_DEADLINE;
	case RP_FRAME_IO:
		cli_warn("%s: %s", what, strerror(errno));
		return rp_exit_from_errno(errno);
	default:
		cli_warn("%s: malformed reply: %s", what,
		    rp_frame_status_str(st));
		return RP_EXIT_PROTOCOL;
	}
}

int
main(int argc, char **argv)
{
	if (rp_init() != 0) {
		cli_warn("cannot start: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	if (argc < 2)
		return cli_usage("no subcommand: identity, hello or admin");
	if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)
		return probe_help();
	if (strcmp(argv[1], "-V") == 0 || strcmp(argv[1], "--version") == 0)
		return cli_version();
	/* Each subcommand parses its own options from its name on. */
	opterr = 0;
	optind = 0;
	if (strcmp(argv[1], "identity") == 0)
		return probe_identity(argc - 1, argv + 1);
	if (strcmp(argv[1], "hello") == 0)
		return probe_hello(argc - 1, argv + 1);
	if (strcmp(argv[1], "admin") == 0)
		return probe_admin(argc - 1, argv + 1);
	return cli_usage("unknown subcommand '%s': identity, hello or admin",
	    argv[1]);
}
