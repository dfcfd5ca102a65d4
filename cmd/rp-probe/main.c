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
    "rp-probe hello [-q] [-s SOCKET] [--wait-for-socket] --service S --version V\n"
    "               [--client-version S] [--keepalive SECS] [--adopt]\n"
    "               [--handoff-timeout MS] [--early-request FILE] [--json]\n"
    "               [--timeout MS] [--connect | -- PROG [ARGS...]]\n"
    "rp-probe admin [-s SOCKET] [--wait-for-socket] [--json] [--service S]\n"
    "               [--drain-deadline MS] [--format openmetrics|prometheus]\n"
    "               [-o FILE] [--timeout MS] VERB\n"
    "rp-probe doctor [-s SOCKET] [-d DIR] [--json] [--timeout MS]\n"
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
    "admin     send an admin VERB; print the body (or write it to FILE,\n"
    "          atomically, with -o); exit with its exit_code (--timeout\n"
    "          default 5000).  VERB: status, dump, list-instances, healthz,\n"
    "          readyz, backend-health, config, diagnose, metrics, shutdown.\n"
    "          JSON: status with --json; dump, list-instances,\n"
    "          backend-health, config and diagnose always; healthz, readyz,\n"
    "          metrics and shutdown never (--json is refused).  metrics:\n"
    "          OpenMetrics, or with --format prometheus the Prometheus text\n"
    "          format (promtool, node_exporter's textfile collector)\n"
    "\n"
    "doctor    check the machine as a broker and its clients find it,\n"
    "          broker up or not: one 'pass|warn|fail NAME: DETAIL' line per\n"
    "          check; exit 1 if any failed (--timeout default 2000)\n"
    "\n"
    "--wait-for-socket: wait (until the deadline) for a broker that is not\n"
    "up yet.  -q: no route line on stderr.\n"
    "\n"
    "MS: milliseconds, SECS: seconds, or either with a unit: 500ms, 2s,\n"
    "1m, 1h.\n"
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

/* Set by probe_broker_socket: the path is the derived default one, so
 * probe_connect_broker checks who listens there. */
static int broker_is_default;

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
	    NULL) >= 0) {
		broker_is_default = 1;
		return 0;
	}
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
probe_oom(void)
{
	cli_warn("out of memory");
	return RP_EXIT_INTERNAL;
}

/*
 * Our default broker must be ours: run as our uid or root.  Its name is
 * derived, in a directory (/tmp/running-process-UID without
 * XDG_RUNTIME_DIR) that another user may have made first and filled with
 * a broker of theirs, which would answer us with endpoints of its
 * choosing.  A path given with -s or the environment is the user's
 * choice and not second-guessed.  fd, or -1 with errno EPERM.
 */
static int
default_broker_trusted(int fd, const char *path)
{
	struct rp_peercred pc;
	uint32_t me = rp_host_euid();

	if (rp_sock_peercred(fd, &pc) != 0) {
		cli_warn("who runs the broker at %s cannot be told: %s", path,
		    strerror(errno));
		rp_fd_close(&fd);
		errno = EPERM;
		return -1;
	}
	if (pc.uid == me || pc.uid == 0)
		return fd;
	cli_warn("the broker at %s runs as uid %u, not as uid %u or root: "
	    "not trusted (another user may have made its directory; give it "
	    "with -s to use it all the same)", path, (unsigned)pc.uid,
	    (unsigned)me);
	rp_fd_close(&fd);
	errno = EPERM;
	return -1;
}

int
probe_connect_broker(const char *path, int wait, int64_t deadline)
{
	int fd, err;

	fd = wait ? rp_sock_connect_wait(path, 0, deadline) :
	    rp_sock_connect(path, 0, deadline);
	if (fd >= 0)
		return broker_is_default ? default_broker_trusted(fd, path) : fd;
	err = errno;
	if (wait && err == ETIMEDOUT)
		cli_warn("the broker at %s did not come up before the "
		    "deadline", path);
	else
		cli_warn("cannot connect to the broker at %s: %s", path,
		    strerror(err));
	errno = err;
	return -1;
}

/*
 * The broker closed the connection before it replied (how: a reset, a
 * broken pipe or an end of file).  A broker does that, without a word, to
 * a client whose uid it does not serve: when the peer runs as another
 * uid than ours, that is the likely reason, and what to change is named.
 */
static int
closed_early(int fd, const char *path, const char *what, const char *how)
{
	struct rp_peercred pc;
	uint32_t me = rp_host_euid();

	if (rp_sock_peercred(fd, &pc) == 0 && pc.uid != me)
		cli_warn("%s: the broker at %s closed the connection before "
		    "replying (%s): it runs as uid %u and most likely does not "
		    "serve uid %u (rp-broker --allow-uid %u would)", what, path,
		    how, (unsigned)pc.uid, (unsigned)me, (unsigned)me);
	else
		cli_warn("%s: the broker at %s closed the connection before "
		    "replying (%s)", what, path, how);
	return RP_EXIT_PROTOCOL;
}

int
probe_send_broken(int err)
{
	return err == EPIPE || err == ECONNRESET;
}

int
probe_broker_refused(const uint8_t *body, size_t len, const char *what,
    uint64_t rid, int admin_readyz)
{
	Rp__HelloReply *reply = NULL;
	Rp__Frame *f;
	const char *why = NULL;
	int rc = -1;

	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_CONTROL, 0,
	    0, &why);
	if (f == NULL)
		return -1;
	if (f->request_id == 0 || f->request_id == rid)
		reply = rp_wire_unpack(&rp__hello_reply__descriptor,
		    f->payload.data, f->payload.len);
	rp_wire_free(f);
	if (reply == NULL)
		return -1;
	if (reply->result_case == RP__HELLO_REPLY__RESULT_REFUSED) {
		const Rp__Refused *r = reply->refused;

		cli_warn("%s: the broker refused the connection: %s (%u): %s",
		    what, rp_wire_error_code_name(r->code), (unsigned)r->code,
		    r->reason);
		rc = admin_readyz ? RP_EXIT_NO : rp_exit_from_refusal(r->code);
	}
	rp_wire_free(reply);
	return rc;
}

int
probe_send_failed(int fd, const char *path, const char *what, int err)
{
	if (err == EPIPE || err == ECONNRESET)
		return closed_early(fd, path, what, strerror(err));
	cli_warn("%s: cannot send the request: %s", what, strerror(err));
	return rp_exit_from_errno(err);
}

int
probe_read_reply(int fd, const char *path, size_t cap, int64_t deadline,
    const char *what, uint8_t **body, size_t *len)
{
	enum rp_frame_status st;

	*body = NULL;
	st = rp_frame_read(fd, cap, deadline, body, len);
	if ((st == RP_FRAME_IO && (errno == ECONNRESET || errno == EPIPE)) ||
	    st == RP_FRAME_EOF)
		return closed_early(fd, path, what, st == RP_FRAME_EOF ?
		    "end of file" : strerror(errno));
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
		return cli_usage("no subcommand: identity, hello, admin or "
		    "doctor");
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
	if (strcmp(argv[1], "doctor") == 0)
		return probe_doctor(argc - 1, argv + 1);
	return cli_usage("unknown subcommand '%s': identity, hello, admin or "
	    "doctor", argv[1]);
}
