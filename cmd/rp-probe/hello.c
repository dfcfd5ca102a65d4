/*
 * hello.c — rp-probe hello: one Hello to the broker, its reply reported,
 * and then, if asked, the backend connection put to use: adopted from the
 * broker (40-handoff.md "The client's part") or dialled, then handed to
 * PROG on fds 6 and 7 (exec, UCSPI-client style) or relayed to
 * stdin/stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define REPLY_MAX (1024u * 1024u)   /* a Negotiated with many warnings */
#define TRACE_MAX 512

enum {
	OPT_SERVICE = 256, OPT_VERSION, OPT_CLIENT_VERSION, OPT_KEEPALIVE,
	OPT_ADOPT, OPT_HANDOFF_TIMEOUT, OPT_JSON, OPT_TIMEOUT, OPT_CONNECT,
	OPT_WAIT, OPT_EARLY,
};

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "socket", required_argument, NULL, 's' },
	{ "service", required_argument, NULL, OPT_SERVICE },
	{ "version", required_argument, NULL, OPT_VERSION },
	{ "client-version", required_argument, NULL, OPT_CLIENT_VERSION },
	{ "keepalive", required_argument, NULL, OPT_KEEPALIVE },
	{ "adopt", no_argument, NULL, OPT_ADOPT },
	{ "handoff-timeout", required_argument, NULL, OPT_HANDOFF_TIMEOUT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ "connect", no_argument, NULL, OPT_CONNECT },
	{ "wait-for-socket", no_argument, NULL, OPT_WAIT },
	{ "early-request", required_argument, NULL, OPT_EARLY },
	{ "quiet", no_argument, NULL, 'q' },
	{ NULL, 0, NULL, 0 },
};

struct hello_opts {
	const char *socket_opt;
	const char *service, *version, *client_version;
	uint64_t keepalive;
	int adopt, json, connect, wait, quiet;
	int64_t timeout_ms, handoff_timeout_ms;
	char **prog;
	const char *traceparent, *tracestate;
	const char *early_path;     /* --early-request FILE */
	uint8_t *early;             /* its bytes */
	size_t nearly;
};

#define EARLY_MAX (64u * 1024u)

/* A trace header from the environment: printable ASCII, <= 512 bytes. */
static int
trace_env(const char *name, const char **out)
{
	const char *v = getenv(name);
	size_t i, n;

	*out = NULL;
	if (v == NULL || *v == '\0')
		return 0;
	n = strlen(v);
	if (n > TRACE_MAX)
		return cli_usage("%s is longer than %d bytes", name,
		    TRACE_MAX);
	for (i = 0; i < n; i++)
		if ((unsigned char)v[i] < 0x20 || (unsigned char)v[i] > 0x7e)
			return cli_usage("%s has a byte that is not "
			    "printable ASCII", name);
	*out = v;
	return 0;
}

static int
parse(int argc, char **argv, struct hello_opts *o)
{
	int split, c, r;

	memset(o, 0, sizeof(*o));
	o->client_version = "";
	o->timeout_ms = HELLO_TIMEOUT_MS;
	o->handoff_timeout_ms = HANDOFF_TIMEOUT_MS;
	split = cli_split(argc, argv, ":hqs:", longopts);
	if (split < argc) {
		if (split + 1 >= argc)
			return cli_usage("hello: nothing after --");
		if (argv[split + 1][0] == '\0')
			return cli_usage("hello: the program name is empty");
		o->prog = argv + split + 1;
	}
	while ((c = getopt_long(split, argv, ":hqs:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return probe_help() == 0 ? -1 : RP_EXIT_INTERNAL;
		case 's':
			o->socket_opt = optarg;
			break;
		case OPT_SERVICE:
			o->service = optarg;
			break;
		case OPT_VERSION:
			o->version = optarg;
			break;
		case OPT_CLIENT_VERSION:
			o->client_version = optarg;
			break;
		case OPT_KEEPALIVE:
			if ((r = cli_opt_secs("--keepalive", optarg, 0,
			    UINT32_MAX, &o->keepalive)) != 0)
				return r;
			break;
		case OPT_ADOPT:
			o->adopt = 1;
			break;
		case OPT_HANDOFF_TIMEOUT:
			if ((r = cli_opt_ms("--handoff-timeout", optarg,
			    &o->handoff_timeout_ms)) != 0)
				return r;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &o->timeout_ms)) != 0)
				return r;
			break;
		case OPT_CONNECT:
			o->connect = 1;
			break;
		case OPT_WAIT:
			o->wait = 1;
			break;
		case OPT_EARLY:
			o->early_path = optarg;
			break;
		case 'q':
			o->quiet = 1;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	if (optind < split)
		return cli_usage("hello: unexpected argument '%s' (put -- "
		    "before PROG)", argv[optind]);
	if (o->service == NULL || o->version == NULL)
		return cli_usage("hello needs --service S and --version V");
	/* Not checked further: sending what the broker would refuse is a
	 * way to see its refusal.  Only what cannot be encoded is out. */
	if (!rp_wire_text_valid(o->service) ||
	    !rp_wire_text_valid(o->version) ||
	    !rp_wire_text_valid(o->client_version))
		return cli_usage("hello: --service, --version and "
		    "--client-version must be UTF-8 text");
	if (o->connect && o->prog != NULL)
		return cli_usage("hello: --connect or -- PROG, not both");
	if (o->json && (o->connect || o->prog != NULL))
		return cli_usage("hello: --json reports the reply; it does "
		    "not go with --connect or PROG");
	if (o->early_path != NULL && (!o->adopt ||
	    (!o->connect && o->prog == NULL)))
		return cli_usage("hello: --early-request goes with --adopt "
		    "and --connect or PROG");
	if ((r = trace_env("TRACEPARENT", &o->traceparent)) != 0 ||
	    (r = trace_env("TRACESTATE", &o->tracestate)) != 0)
		return r;
	return 0;
}

/* --early-request FILE: its bytes (at most EARLY_MAX, at least one), read
 * before anything is sent. */
static int
read_early(struct hello_opts *o)
{
	struct rp_buf b = { 0 };
	uint8_t chunk[4096];
	ssize_t n;
	int fd;

	if (o->early_path == NULL)
		return RP_EXIT_OK;
	fd = rp_fs_open_read(o->early_path);
	if (fd < 0) {
		cli_warn("--early-request %s: %s", o->early_path,
		    strerror(errno));
		return rp_exit_from_errno(errno);
	}
	for (;;) {
		n = rp_io_read_full(fd, chunk, sizeof(chunk),
		    RP_DEADLINE_NEVER);
		if (n < 0 || (n > 0 && rp_buf_append(&b, chunk,
		    (size_t)n) != 0)) {
			cli_warn("--early-request %s: %s", o->early_path,
			    strerror(errno));
			close(fd);
			rp_buf_free(&b);
			return RP_EXIT_INTERNAL;
		}
		if (b.len > EARLY_MAX) {
			close(fd);
			rp_buf_free(&b);
			return cli_usage("hello: --early-request %s is longer "
			    "than %u bytes", o->early_path, EARLY_MAX);
		}
		if ((size_t)n < sizeof(chunk))
			break;
	}
	close(fd);
	if (b.len == 0) {
		rp_buf_free(&b);
		return cli_usage("hello: --early-request %s is empty",
		    o->early_path);
	}
	o->early = b.data;
	o->nearly = b.len;
	return RP_EXIT_OK;
}

/* A fresh request id for the Hello: 32 hex digits. */
static void
hello_request_id(char out[33])
{
	uint8_t r[16];

	rp_token_generate(r);
	rp_token_to_hex(r, out);
}

static int
send_hello(int fd, const char *path, const struct hello_opts *o, uint64_t rid,
    char hrid[33], int64_t deadline)
{
	Rp__Hello h = RP__HELLO__INIT;
	struct rp_frame_meta m = {
		.kind = RP_KIND_REQUEST,
		.protocol = RP_PP_CONTROL,
		.request_id = rid,
		.traceparent = o->traceparent,
		.tracestate = o->tracestate,
	};
	struct rp_buf out = { 0 };
	int r;

	hello_request_id(hrid);
	h.client_min_protocol = RP_PROTOCOL_VERSION;
	h.client_max_protocol = RP_PROTOCOL_VERSION;
	h.service_name = (char *)(uintptr_t)o->service;
	h.wanted_version = (char *)(uintptr_t)o->version;
	h.client_version = (char *)(uintptr_t)o->client_version;
	h.client_capabilities = o->adopt ? RP_CAP_HANDLE_PASSING : 0;
	h.request_id = hrid;
	/* Telemetry for the broker, which checks it against the kernel. */
	h.peer_pid = rp_host_pid();
	h.client_lib_name = (char *)"rp";
	h.client_lib_version = (char *)RP_VERSION;
	h.client_keepalive_secs = o->keepalive;
	if (rp_wire_frame_encode_msg(&out, &m, &h.base) != 0 ||
	    (o->nearly > 0 && rp_buf_append(&out, o->early, o->nearly) != 0)) {
		cli_warn("cannot encode the Hello: %s", strerror(errno));
		rp_buf_free(&out);
		return RP_EXIT_INTERNAL;
	}
	/* With --early-request, the request goes in the same write, right
	 * behind the Hello: the broker reads exactly the Hello, so the
	 * request waits in the connection for whoever holds it next. */
	r = rp_io_write_full(fd, out.data, out.len, deadline);
	rp_buf_free(&out);
	if (r != 0 && !probe_send_broken(errno))
		return probe_send_failed(fd, path, "hello", errno);
	/* Closed before we wrote: its refusal is read all the same. */
	return RP_EXIT_OK;
}

/* 40-handoff.md "The client's part": wait for the EVENT saying that this
 * very socket is now the backend's.  Returns 1 (adopted) or 0 with *why. */
static int
await_handoff(int fd, const Rp__Negotiated *n, int64_t deadline,
    const char **why)
{
	enum rp_frame_status st;
	Rp__HandoffAck *ack;
	uint8_t *body = NULL;
	size_t len = 0;
	int ok;

	if (!(n->server_capabilities & RP_CAP_HANDLE_PASSING) ||
	    n->handle_passed_token.len != RP_TOKEN_LEN) {
		*why = "the broker issued no handoff token";
		return 0;
	}
	/* Exactly the event's bytes are read: what the backend sends
	 * after it stays in the socket for whoever uses it next. */
	st = rp_frame_read(fd, RP_FRAME_SMALL_MAX, deadline, &body, &len);
	/* A Unix socket closed with bytes of ours unread (an early
	 * request) reads as a reset: closed all the same. */
	if (st == RP_FRAME_IO && errno == ECONNRESET)
		st = RP_FRAME_EOF;
	if (st != RP_FRAME_OK) {
		/* Whoever held the connection let it go without a word: a
		 * failed transfer looks like this, by design. */
		*why = st == RP_FRAME_TIMEOUT ? "no handoff event in time" :
		    st == RP_FRAME_EOF ? "the connection closed before the "
		    "handoff event" : st == RP_FRAME_IO ? "the connection "
		    "failed before the handoff event" :
		    "the handoff event was malformed";
		return 0;
	}
	ack = rp_wire_ack_parse(body, len, RP_KIND_EVENT, 1, n->connection_id,
	    why);
	free(body);
	if (ack == NULL)
		return 0;
	ok = ack->accepted && ack->token.len == RP_TOKEN_LEN &&
	    rp_token_equal(ack->token.data, n->handle_passed_token.data);
	if (!ok)
		*why = !ack->accepted ? "the handoff was not accepted" :
		    "the handoff event carries another token";
	rp_wire_free(ack);
	return ok;
}

/*
 * The request's ids, as scripts match them: request_id is the Hello's
 * own (32 hex digits), the one the broker's --events lines carry;
 * frame_request_id is the frame's 64-bit id, in decimal.  Every 64-bit
 * id is a JSON string: a JSON number past 2^53 loses digits in jq and
 * JavaScript.
 */
static void
json_ids(struct rp_json *j, const char *hrid, uint64_t rid)
{
	char dec[24];

	rp_json_kstr(j, "request_id", hrid);
	snprintf(dec, sizeof(dec), "%llu", (unsigned long long)rid);
	rp_json_kstr(j, "frame_request_id", dec);
}

static void
json_negotiated(struct rp_json *j, const Rp__Negotiated *n,
    const char *hrid, uint64_t rid)
{
	char dec[24];
	size_t i;

	rp_json_kstr(j, "result", "negotiated");
	json_ids(j, hrid, rid);
	rp_json_key(j, "negotiated");
	rp_json_obj(j);
	rp_json_ku64(j, "protocol", n->negotiated_protocol);
	rp_json_kstr(j, "daemon_version", n->daemon_version);
	rp_json_kstr(j, "backend_pipe", n->backend_pipe);
	rp_json_key(j, "warnings");
	rp_json_arr(j);
	for (i = 0; i < n->n_warnings; i++)
		rp_json_str(j, n->warnings[i]);
	rp_json_arr_end(j);
	rp_json_ku64(j, "server_capabilities", n->server_capabilities);
	rp_json_ku64(j, "keepalive_interval_secs", n->keepalive_interval_secs);
	rp_json_key(j, "handle_passed_token");
	rp_json_hex(j, n->handle_passed_token.data, n->handle_passed_token.len);
	snprintf(dec, sizeof(dec), "%llu", (unsigned long long)n->connection_id);
	rp_json_kstr(j, "connection_id", dec);
	rp_json_obj_end(j);
}

static int
refused(const struct hello_opts *o, const Rp__Refused *f, const char *hrid,
    uint64_t rid)
{
	struct rp_json j;
	struct rp_buf out = { 0 };
	size_t i;
	int rc = rp_exit_from_refusal(f->code);

	cli_warn("refused: %s (%u): %s; retry after %llu ms",
	    rp_wire_error_code_name(f->code), (unsigned)f->code, f->reason,
	    (unsigned long long)f->retry_after_ms);
	if (!o->json)
		return rc;
	probe_json_begin(&j, &out);
	rp_json_obj(&j);
	rp_json_kstr(&j, "result", "refused");
	json_ids(&j, hrid, rid);
	rp_json_key(&j, "refused");
	rp_json_obj(&j);
	rp_json_ku64(&j, "code", f->code);
	rp_json_kstr(&j, "code_name", rp_wire_error_code_name(f->code));
	rp_json_kstr(&j, "reason", f->reason);
	rp_json_ku64(&j, "daemon_min_protocol", f->daemon_min_protocol);
	rp_json_ku64(&j, "daemon_max_protocol", f->daemon_max_protocol);
	rp_json_ku64(&j, "retry_after_ms", f->retry_after_ms);
	rp_json_key(&j, "details");
	rp_json_obj(&j);
	for (i = 0; i < f->n_details; i++)
		rp_json_kstr(&j, f->details[i]->key, f->details[i]->value);
	rp_json_obj_end(&j);
	rp_json_obj_end(&j);
	rp_json_obj_end(&j);
	return probe_json_end(&j, &out) == RP_EXIT_OK ? rc : RP_EXIT_INTERNAL;
}

/* Our environment plus RP_ROUTE (replacing any inherited one). */
static char **
env_with_route(const char *route)
{
	static char var[32];
	size_t n = 0, i, k = 0;
	char **e;

	while (environ[n] != NULL)
		n++;
	e = calloc(n + 2, sizeof(*e));
	if (e == NULL)
		return NULL;
	for (i = 0; i < n; i++)
		if (strncmp(environ[i], "RP_ROUTE=", 9) != 0)
			e[k++] = environ[i];
	snprintf(var, sizeof(var), "RP_ROUTE=%s", route);
	e[k] = var;
	return e;
}

/* The backend connection in hand: exec PROG on fds 6/7, or relay. */
static int
use_connection(const struct hello_opts *o, int conn, const char *route)
{
	struct rp_spawn_fd map[2] = { { conn, 6 }, { conn, 7 } };
	struct rp_spawn sp = { .argv = o->prog, .fds = map, .nfds = 2 };
	char **envp;
	int err;

	if (o->connect) {
		if (rp_relay(conn, STDIN_FILENO, STDOUT_FILENO) != 0) {
			cli_warn("relaying: %s", strerror(errno));
			return errno == EPIPE ? RP_EXIT_PROTOCOL :
			    rp_exit_from_errno(errno);
		}
		return RP_EXIT_OK;
	}
	envp = env_with_route(route);
	if (envp == NULL) {
		cli_warn("out of memory");
		return RP_EXIT_INTERNAL;
	}
	sp.envp = envp;
	rp_spawn_exec(&sp);
	err = errno;
	cli_warn("cannot run %s: %s", o->prog[0], strerror(err));
	free(envp);
	return rp_exit_from_exec_errno(err);
}

static int
negotiated(const struct hello_opts *o, int fd, const Rp__Negotiated *n,
    const char *hrid, uint64_t rid, int64_t deadline)
{
	struct rp_json j;
	struct rp_buf out = { 0 };
	const char *route = "reconnect", *why = NULL;
	int64_t hdeadline;
	int conn = -1, adopted = 0, rc;

	if (n->negotiated_protocol != RP_PROTOCOL_VERSION) {
		cli_warn("malformed reply: negotiated protocol %u, not 1",
		    (unsigned)n->negotiated_protocol);
		return RP_EXIT_PROTOCOL;
	}
	if (o->adopt) {
		hdeadline = rp_deadline_in(o->handoff_timeout_ms);
		adopted = await_handoff(fd, n, hdeadline < deadline ? hdeadline :
		    deadline, &why);
		route = adopted ? "handoff" : "reconnect";
		if (o->quiet)
			;
		else if (adopted)
			cli_warn("route: handoff");
		else
			cli_warn("route: reconnect (%s)", why ? why :
			    "no handoff");
	}
	if (o->json) {
		probe_json_begin(&j, &out);
		rp_json_obj(&j);
		json_negotiated(&j, n, hrid, rid);
		if (o->adopt) {
			rp_json_kstr(&j, "route", route);
			rp_json_key(&j, "route_detail");
			rp_json_str(&j, adopted ? NULL : why ? why :
			    "no handoff");
		}
		rp_json_obj_end(&j);
		return probe_json_end(&j, &out);
	}
	if (!o->connect && o->prog == NULL) {
		/* The broker chose the path: shown escaped. */
		rc = cli_put_text(&out, n->backend_pipe, 0) != 0 ||
		    rp_buf_puts(&out, "\n") != 0;
		return probe_flush(&out, rc);
	}
	if (adopted) {
		conn = fd;
	} else {
		conn = rp_sock_connect(n->backend_pipe, 0, deadline);
		if (conn < 0) {
			cli_warn("cannot connect to the backend at %s: %s",
			    n->backend_pipe, strerror(errno));
			return rp_exit_from_errno(errno);
		}
		/* The early request went with the Hello connection: it is
		 * sent again, first, on this one. */
		if (o->nearly > 0 && rp_io_write_full(conn, o->early,
		    o->nearly, deadline) != 0) {
			cli_warn("cannot send the early request to the "
			    "backend at %s: %s", n->backend_pipe,
			    strerror(errno));
			rc = rp_exit_from_errno(errno);
			rp_fd_close(&conn);
			return rc;
		}
	}
	rc = use_connection(o, conn, route);
	if (conn != fd)
		rp_fd_close(&conn);
	return rc;
}

int
probe_hello(int argc, char **argv)
{
	struct hello_opts o;
	char path[RP_SUN_PATH_MAX];
	Rp__HelloReply *reply = NULL;
	Rp__Frame *f;
	const char *why = NULL;
	char hrid[33];
	uint8_t *body;
	size_t len;
	uint64_t rid;
	int64_t deadline;
	int fd, rc;

	rc = parse(argc, argv, &o);
	if (rc != 0)
		return rc < 0 ? RP_EXIT_OK : rc;
	if ((rc = read_early(&o)) != 0)
		return rc;
	if ((rc = probe_broker_socket(o.socket_opt, path, sizeof(path))) != 0) {
		free(o.early);
		return rc;
	}
	deadline = rp_deadline_in(o.timeout_ms);
	fd = probe_connect_broker(path, o.wait, deadline);
	if (fd < 0) {
		free(o.early);
		return rp_exit_from_errno(errno);
	}
	rid = probe_request_id();
	if ((rc = send_hello(fd, path, &o, rid, hrid, deadline)) != 0)
		goto out;
	if ((rc = probe_read_reply(fd, path, REPLY_MAX, deadline, "hello",
	    &body, &len)) != 0)
		goto out;
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_CONTROL, 1,
	    rid, &why);
	if (f == NULL && (rc = probe_broker_refused(body, len, "hello", rid,
	    0)) >= 0) {
		free(body);
		goto out;
	}
	free(body);
	if (f != NULL) {
		reply = rp_wire_unpack(&rp__hello_reply__descriptor,
		    f->payload.data, f->payload.len);
		if (reply == NULL)
			why = "the payload is not a HelloReply";
		rp_wire_free(f);
	}
	if (reply == NULL) {
		cli_warn("hello: malformed reply: %s", why ? why : "bad frame");
		rc = RP_EXIT_PROTOCOL;
		goto out;
	}
	switch (reply->result_case) {
	case RP__HELLO_REPLY__RESULT_NEGOTIATED:
		rc = negotiated(&o, fd, reply->negotiated, hrid, rid, deadline);
		break;
	case RP__HELLO_REPLY__RESULT_REFUSED:
		rc = refused(&o, reply->refused, hrid, rid);
		break;
	default:
		cli_warn("hello: malformed reply: neither negotiated nor "
		    "refused");
		rc = RP_EXIT_PROTOCOL;
		break;
	}
	rp_wire_free(reply);
out:
	rp_fd_close(&fd);
	free(o.early);
	return rc;
}
