/*
 * The wire encoders and decoders against an independent implementation:
 * protoc (protobuf C++) encodes the messages written in text format under
 * tests/unit/data/wire/, and our bytes must be the same; our decoder must
 * read protoc's bytes; protoc --decode must read ours.  Run from the
 * repository root (tests/run does).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "frame.h"
#include "wire.h"
#include "t.h"

#define DATA "tests/unit/data/wire/"
#define PKG "running_process.broker.v1."

/* protobuf-c structs take char * for what packing only reads. */
#define W(s) ((char *)(uintptr_t)(s))

static const char traceparent[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
static const char tracestate[] = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE";
static const uint8_t token[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66,
	0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
static const char pipe_path[] = "/run/user/1000/running-process/broker/"
    "rpb-v1-0123456789abcdef-be-00112233445566778899aabbccddeeff.sock";

/* protoc --encode/--decode=TYPE with stdin from in_path; stdout into out
 * (stderr to /dev/null when quiet).  Returns 0 when protoc exited 0. */
static int
protoc_run(const char *mode, const char *type, const char *in_path,
    struct rp_buf *out, int quiet)
{
	char arg[128];
	char *argv[] = { W("protoc"), arg, W("-Iproto"), W("-I/usr/include"),
		W("proto/rp_v1.proto"), NULL };
	char buf[4096];
	int p[2], in, st;
	ssize_t n;
	pid_t pid;

	snprintf(arg, sizeof(arg), "--%s=" PKG "%s", mode, type);
	in = open(in_path, O_RDONLY | O_CLOEXEC);
	if (in < 0 || pipe2(p, O_CLOEXEC) != 0) {
		t_fail(__FILE__, __LINE__, "%s: %s", in_path, strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		dup2(in, 0);
		dup2(p[1], 1);
		if (quiet) {
			int null = open("/dev/null", O_WRONLY);

			if (null >= 0)
				dup2(null, 2);
		}
		execvp(argv[0], argv);
		_exit(127);
	}
	close(in);
	close(p[1]);
	while ((n = read(p[0], buf, sizeof(buf))) > 0)
		rp_buf_append(out, buf, (size_t)n);
	close(p[0]);
	if (pid < 0 || waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

static int
protoc(const char *mode, const char *type, const char *in_path,
    struct rp_buf *out)
{
	return protoc_run(mode, type, in_path, out, 0);
}

static void
write_file(const char *path, const void *p, size_t n)
{
	FILE *f = fopen(path, "wb");

	T_OK(f != NULL);
	if (f == NULL)
		return;
	T_EQ(fwrite(p, 1, n, f), n);
	fclose(f);
}

static void
slurp(const char *path, struct rp_buf *out)
{
	FILE *f = fopen(path, "rb");
	char buf[4096];
	size_t n;

	T_OK(f != NULL);
	if (f == NULL)
		return;
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
		rp_buf_append(out, buf, n);
	fclose(f);
}

/* protoc's encoding of DATA/name as TYPE. */
static void
encode_file(const char *type, const char *name, struct rp_buf *out)
{
	char path[256];

	snprintf(path, sizeof(path), DATA "%s", name);
	T_EQ(protoc("encode", type, path, out), 0);
	T_OK(out->len > 0);
}

/* protoc's encoding of the Frame in DATA/frame_name with the payload
 * protoc encodes from DATA/payload_name as payload_type: the text of
 * the frame gets `payload: "<octal escapes>"` appended. */
static void
encode_frame(const char *frame_name, const char *payload_type,
    const char *payload_name, struct rp_buf *out)
{
	struct rp_buf payload = { 0 }, text = { 0 };
	char path[256];
	size_t i;

	encode_file(payload_type, payload_name, &payload);
	snprintf(path, sizeof(path), DATA "%s", frame_name);
	slurp(path, &text);
	rp_buf_puts(&text, "payload: \"");
	for (i = 0; i < payload.len; i++)
		rp_buf_printf(&text, "\\%03o", payload.data[i]);
	rp_buf_puts(&text, "\"\n");
	snprintf(path, sizeof(path), "%s/frame.txtpb", t_tmpdir());
	write_file(path, text.data, text.len);
	T_EQ(protoc("encode", "Frame", path, out), 0);
	rp_buf_free(&payload);
	rp_buf_free(&text);
}

/* protoc --decode=type of our bytes. */
static void
decode_bytes(const char *type, const uint8_t *p, size_t n, struct rp_buf *out)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/ours.bin", t_tmpdir());
	write_file(path, p, n);
	T_EQ(protoc("decode", type, path, out), 0);
}

/* Our whole frame (header + body) against protoc's body. */
static void
same_frame(const struct rp_buf *ours, const struct rp_buf *theirs)
{
	uint8_t hdr[RP_FRAME_HEADER];

	T_EQ(ours->len, RP_FRAME_HEADER + theirs->len);
	if (ours->len != RP_FRAME_HEADER + theirs->len)
		return;
	rp_frame_header(hdr, (uint32_t)theirs->len);
	T_MEM(ours->data, hdr, RP_FRAME_HEADER);
	T_MEM(ours->data + RP_FRAME_HEADER, theirs->data, theirs->len);
}

static void
same_bytes(const struct rp_buf *ours, const struct rp_buf *theirs)
{
	T_EQ(ours->len, theirs->len);
	if (ours->len == theirs->len && ours->len > 0)
		T_MEM(ours->data, theirs->data, ours->len);
}

/* ------------------------------------------------------------- Hello */

static void
fill_hello(Rp__Hello *h)
{
	static const uint8_t auth[] = { 0, 1, 2, 0xff };
	static const uint8_t cap[] = { 0xde, 0xad, 0xbe, 0xef };
	static const char nonce[] = "nonce-bytes";

	rp__hello__init(h);
	h->client_min_protocol = 1;
	h->client_max_protocol = 3;
	h->service_name = W("echo");
	h->wanted_version = W("1.2.3-rc.1");
	h->client_version = W("rp-probe 0.1.0");
	h->client_capabilities = 5;
	h->auth_token.data = (uint8_t *)(uintptr_t)auth;
	h->auth_token.len = sizeof(auth);
	h->request_id = W("req-7f3a");
	h->connection_id = 9;
	h->peer_pid = 4242;
	h->client_lib_name = W("librp");
	h->client_lib_version = W("0.1.0");
	h->peer_attestation_nonce.data = (uint8_t *)(uintptr_t)nonce;
	h->peer_attestation_nonce.len = sizeof(nonce) - 1;
	h->capability_token.data = (uint8_t *)(uintptr_t)cap;
	h->capability_token.len = sizeof(cap);
	h->client_keepalive_secs = 600;
}

static void
check_hello(const Rp__Hello *h)
{
	T_EQ(h->client_min_protocol, 1);
	T_EQ(h->client_max_protocol, 3);
	T_STR(h->service_name, "echo");
	T_STR(h->wanted_version, "1.2.3-rc.1");
	T_STR(h->client_version, "rp-probe 0.1.0");
	T_EQ(h->client_capabilities, 5);
	T_EQ(h->auth_token.len, 4);
	T_MEM(h->auth_token.data, "\x00\x01\x02\xff", 4);
	T_STR(h->request_id, "req-7f3a");
	T_EQ(h->connection_id, 9);
	T_EQ(h->peer_pid, 4242);
	T_STR(h->client_lib_name, "librp");
	T_STR(h->client_lib_version, "0.1.0");
	T_EQ(h->peer_attestation_nonce.len, 11);
	T_MEM(h->peer_attestation_nonce.data, "nonce-bytes", 11);
	T_EQ(h->capability_token.len, 4);
	T_MEM(h->capability_token.data, "\xde\xad\xbe\xef", 4);
	T_EQ(h->client_keepalive_secs, 600);
}

static void
test_hello(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	Rp__Hello h, *got;

	fill_hello(&h);
	T_EQ(rp_wire_pack(&ours, &h.base), 0);
	encode_file("Hello", "hello.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	got = rp_wire_unpack(&rp__hello__descriptor, theirs.data, theirs.len);
	T_OK(got != NULL);
	if (got != NULL)
		check_hello(got);
	rp_wire_free(got);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

static void
test_frame_hello(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_CONTROL, 77,
		1764000000000ull, traceparent, tracestate };
	Rp__Frame *f = NULL;
	Rp__Hello h, *got;

	fill_hello(&h);
	T_EQ(rp_wire_frame_encode_msg(&ours, &m, &h.base), 0);
	encode_frame("frame_hello.txtpb", "Hello", "hello.txtpb", &theirs);
	same_frame(&ours, &theirs);
	/* protoc's frame through the broker's path: rows 4-15 all pass. */
	T_EQ(rp_wire_request_parse(theirs.data, theirs.len, &f),
	    RP_REFUSE_NONE);
	T_OK(f != NULL);
	if (f == NULL)
		goto out;
	T_EQ(f->envelope_version, 1);
	T_EQ(f->kind, RP_KIND_REQUEST);
	T_EQ(f->request_id, 77);
	T_EQ(f->deadline_unix_ms, 1764000000000ull);
	T_STR(f->traceparent, traceparent);
	T_STR(f->tracestate, tracestate);
	got = rp_wire_hello_decode(f);
	T_OK(got != NULL);
	if (got != NULL) {
		check_hello(got);
		T_EQ(rp_wire_hello_check(got, 4242), RP_REFUSE_NONE);
		T_EQ(rp_wire_hello_check(got, 0), RP_REFUSE_NONE);
		T_EQ(rp_wire_hello_check(got, 4243), RP_REFUSE_PEER_PID);
	}
	rp_wire_free(got);
out:
	rp_wire_free(f);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

/* ------------------------------------------------------------ replies */

static void
test_refused_reply(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 }, text = { 0 };
	struct rp_frame_meta echo;
	Rp__Frame req = RP__FRAME__INIT, *f;
	Rp__HelloReply *r;
	const char *why = NULL;

	/* The echo comes from a decoded request, as the broker does it. */
	req.request_id = 77;
	req.traceparent = (char *)(uintptr_t)traceparent;
	req.tracestate = (char *)(uintptr_t)tracestate;
	req.deadline_unix_ms = 123;
	rp_wire_echo(&echo, &req);
	T_EQ(rp_wire_refused_encode(&ours, &echo, RP_REFUSE_SPAWN_FAILED,
	    "exec /opt/echo: No such file or directory", 0), 0);
	encode_frame("frame_reply.txtpb", "HelloReply", "refused.txtpb",
	    &theirs);
	same_frame(&ours, &theirs);
	/* Our decoder on protoc's bytes. */
	f = rp_wire_frame_parse(theirs.data, theirs.len, RP_KIND_RESPONSE,
	    RP_PP_CONTROL, 1, 77, &why);
	T_OK(f != NULL);
	if (f == NULL)
		goto out;
	T_EQ(f->deadline_unix_ms, 0);
	r = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	T_OK(r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_REFUSED);
	if (r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_REFUSED) {
		T_STR(r->refused->reason, "backend spawn failed: exec "
		    "/opt/echo: No such file or directory");
		T_EQ(r->refused->code, 3);
		T_EQ(r->refused->daemon_min_protocol, 1);
		T_EQ(r->refused->daemon_max_protocol, 1);
		T_EQ(r->refused->retry_after_ms, 1000);
		T_EQ(r->refused->n_details, 0);
	}
	rp_wire_free(r);
	/* protoc --decode on our bytes, compared as text. */
	decode_bytes("HelloReply", f->payload.data, f->payload.len, &text);
	T_STR(rp_buf_str(&text), "refused {\n"
	    "  reason: \"backend spawn failed: exec /opt/echo: No such file or "
	    "directory\"\n"
	    "  daemon_min_protocol: 1\n"
	    "  daemon_max_protocol: 1\n"
	    "  code: ERROR_CODE_BACKEND_SPAWN_FAILED\n"
	    "  retry_after_ms: 1000\n"
	    "}\n");
	rp_buf_clear(&text);
	decode_bytes("Frame", ours.data + RP_FRAME_HEADER,
	    ours.len - RP_FRAME_HEADER, &text);
	T_OK(strstr(rp_buf_str(&text), "envelope_version: 1\n"
	    "kind: FRAME_KIND_RESPONSE\n") == rp_buf_str(&text));
	T_OK(strstr(rp_buf_str(&text), "request_id: 77\n"
	    "traceparent: \"00-4bf92f3577b34da6a3ce929d0e0e4736-"
	    "00f067aa0ba902b7-01\"\n"
	    "tracestate: \"rojo=00f067aa0ba902b7,congo=t61rcWkgMzE\"\n") !=
	    NULL);
	T_OK(strstr(rp_buf_str(&text), "deadline") == NULL);
	rp_wire_free(f);
out:
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
	rp_buf_free(&text);
}

static void
test_refused_details(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	Rp__HelloReply reply = RP__HELLO_REPLY__INIT, *got;
	Rp__Refused r = RP__REFUSED__INIT;
	Rp__Refused__DetailsEntry e1 = RP__REFUSED__DETAILS_ENTRY__INIT;
	Rp__Refused__DetailsEntry e2 = RP__REFUSED__DETAILS_ENTRY__INIT;
	Rp__Refused__DetailsEntry *ents[] = { &e1, &e2 };

	e1.key = W("wanted_version");
	e1.value = W("1.9.0");
	e2.key = W("min_version");
	e2.value = W("1.10.0");
	r.reason = (char *)(uintptr_t)
	    rp_refusal_table[RP_REFUSE_BELOW_MIN].reason;
	r.daemon_min_protocol = r.daemon_max_protocol = 1;
	r.code = RP__ERROR_CODE__ERROR_CODE_VERSION_BLOCKED;
	r.n_details = 2;
	r.details = ents;
	r.retry_after_ms = rp_refusal_table[RP_REFUSE_BELOW_MIN].retry_after_ms;
	reply.result_case = RP__HELLO_REPLY__RESULT_REFUSED;
	reply.refused = &r;
	T_EQ(rp_wire_pack(&ours, &reply.base), 0);
	encode_file("HelloReply", "refused_details.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	got = rp_wire_unpack(&rp__hello_reply__descriptor, theirs.data,
	    theirs.len);
	T_OK(got != NULL && got->result_case ==
	    RP__HELLO_REPLY__RESULT_REFUSED);
	if (got != NULL && got->result_case ==
	    RP__HELLO_REPLY__RESULT_REFUSED) {
		T_EQ(got->refused->n_details, 2);
		T_STR(got->refused->details[0]->key, "wanted_version");
		T_STR(got->refused->details[0]->value, "1.9.0");
		T_STR(got->refused->details[1]->key, "min_version");
		T_STR(got->refused->details[1]->value, "1.10.0");
		T_EQ(got->refused->retry_after_ms, 30000);
		T_EQ(got->refused->code, 8);
	}
	rp_wire_free(got);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

static void
test_negotiated_reply(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 }, text = { 0 };
	static const char *const warnings[] = { "client_lib_version is old",
		"keepalive clamped" };
	struct rp_frame_meta echo = { RP_KIND_RESPONSE, RP_PP_CONTROL, 77, 0,
		traceparent, tracestate };
	struct rp_negotiated n = { "1.2.3", pipe_path, 6, 0, token, 16, 12,
		warnings, 2 };
	Rp__HelloReply *r;
	const char *why;
	Rp__Frame *f;

	T_EQ(rp_wire_negotiated_encode(&ours, &echo, &n), 0);
	encode_frame("frame_reply.txtpb", "HelloReply", "negotiated.txtpb",
	    &theirs);
	same_frame(&ours, &theirs);
	f = rp_wire_frame_parse(theirs.data, theirs.len, RP_KIND_RESPONSE,
	    RP_PP_CONTROL, 1, 77, &why);
	T_OK(f != NULL);
	if (f == NULL)
		goto out;
	r = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	T_OK(r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED);
	if (r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED) {
		Rp__Negotiated *g = r->negotiated;

		T_EQ(g->negotiated_protocol, 1);
		T_STR(g->daemon_version, "1.2.3");
		T_STR(g->backend_pipe, pipe_path);
		T_EQ(g->n_warnings, 2);
		T_STR(g->warnings[0], warnings[0]);
		T_STR(g->warnings[1], warnings[1]);
		T_EQ(g->server_capabilities, 7);
		T_EQ(g->keepalive_interval_secs, 1800);
		T_EQ(g->handle_passed_token.len, 16);
		T_MEM(g->handle_passed_token.data, token, 16);
		T_EQ(g->connection_id, 12);
	}
	rp_wire_free(r);
	rp_wire_free(f);
	/* And protoc reads ours. */
	f = rp_wire_frame_parse(ours.data + RP_FRAME_HEADER,
	    ours.len - RP_FRAME_HEADER, RP_KIND_RESPONSE, RP_PP_CONTROL, 1, 77,
	    &why);
	T_OK(f != NULL);
	if (f == NULL)
		goto out;
	decode_bytes("HelloReply", f->payload.data, f->payload.len, &text);
	T_OK(strstr(rp_buf_str(&text), "  server_capabilities: 7\n"
	    "  keepalive_interval_secs: 1800\n"
	    "  handle_passed_token: \"\\000\\021\\\"3DUfw\\210\\231\\252\\273"
	    "\\314\\335\\356\\377\"\n"
	    "  connection_id: 12\n") != NULL);
	rp_wire_free(f);
out:
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
	rp_buf_free(&text);
}

/* -------------------------------------------------------------- admin */

static void
test_admin(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_ADMIN, 5,
		1764000000999ull, NULL, NULL };
	Rp__AdminRequest q = RP__ADMIN_REQUEST__INIT, *gq;
	Rp__AdminReply a = RP__ADMIN_REPLY__INIT, *ga;
	Rp__Frame *f = NULL;
	const char *why;

	q.verb = RP__ADMIN_VERB__ADMIN_VERB_SHUTDOWN;
	q.json = 1;
	q.service_name = W("echo");
	q.output_path = W("/tmp/dump.json");
	q.drain_deadline_ms = 5000;
	T_EQ(rp_wire_frame_encode_msg(&ours, &m, &q.base), 0);
	encode_frame("frame_admin_request.txtpb", "AdminRequest",
	    "admin_request.txtpb", &theirs);
	same_frame(&ours, &theirs);
	/* 0xAD01 is accepted on the broker's first frame. */
	T_EQ(rp_wire_request_parse(theirs.data, theirs.len, &f),
	    RP_REFUSE_NONE);
	T_OK(f != NULL && f->payload_protocol == RP_PP_ADMIN);
	if (f != NULL) {
		gq = rp_wire_unpack(&rp__admin_request__descriptor,
		    f->payload.data, f->payload.len);
		T_OK(gq != NULL);
		if (gq != NULL) {
			T_EQ(gq->verb, 21);
			T_EQ(gq->json, 1);
			T_STR(gq->service_name, "echo");
			T_STR(gq->output_path, "/tmp/dump.json");
			T_EQ(gq->drain_deadline_ms, 5000);
		}
		rp_wire_free(gq);
		rp_wire_free(f);
	}
	rp_buf_clear(&ours);
	rp_buf_clear(&theirs);

	a.kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_OPENMETRICS;
	a.body = W("# TYPE running_process_broker_v1_uptime_seconds gauge\n"
	    "running_process_broker_v1_uptime_seconds 12\n# EOF\n");
	a.exit_code = 1;
	a.content_type = W(RP_OPENMETRICS_CONTENT_TYPE);
	m.kind = RP_KIND_RESPONSE;
	m.deadline_unix_ms = 0;
	T_EQ(rp_wire_frame_encode_msg(&ours, &m, &a.base), 0);
	encode_frame("frame_admin_reply.txtpb", "AdminReply",
	    "admin_reply.txtpb", &theirs);
	same_frame(&ours, &theirs);
	f = rp_wire_frame_parse(theirs.data, theirs.len, RP_KIND_RESPONSE,
	    RP_PP_ADMIN, 1, 5, &why);
	T_OK(f != NULL);
	if (f != NULL) {
		ga = rp_wire_unpack(&rp__admin_reply__descriptor,
		    f->payload.data, f->payload.len);
		T_OK(ga != NULL);
		if (ga != NULL) {
			T_EQ(ga->kind, 2);
			T_STR(ga->body, a.body);
			T_EQ(ga->exit_code, 1);
			T_STR(ga->content_type, RP_OPENMETRICS_CONTENT_TYPE);
		}
		rp_wire_free(ga);
		rp_wire_free(f);
	}
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

/* ------------------------------------------------------------ handoff */

static void
test_handoff_offer(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	Rp__HandoffOffer *o;
	const char *why = NULL;

	T_EQ(rp_wire_offer_encode(&ours, token, 16, "echo", 12, 1234), 0);
	encode_frame("frame_handoff_offer.txtpb", "HandoffOffer",
	    "handoff_offer.txtpb", &theirs);
	same_frame(&ours, &theirs);
	o = rp_wire_offer_parse(theirs.data, theirs.len, &why);
	T_OK(o != NULL);
	if (o != NULL) {
		T_EQ(o->handle_value, 1234);
		T_EQ(o->token.len, 16);
		T_MEM(o->token.data, token, 16);
		T_STR(o->service_name, "echo");
		T_EQ(o->correlation_id, 12);
	}
	rp_wire_free(o);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

static void
test_handoff_acks(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	static const uint8_t tok2[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10,
		11, 12, 13, 14, 15 };
	Rp__HandoffAck *a;
	const char *why = NULL;

	/* The client's handoff-ready event. */
	T_EQ(rp_wire_ack_encode(&ours, RP_KIND_EVENT, 12, token, 16, 1, NULL,
	    12), 0);
	encode_frame("frame_handoff_ack_event.txtpb", "HandoffAck",
	    "handoff_ack.txtpb", &theirs);
	same_frame(&ours, &theirs);
	a = rp_wire_ack_parse(theirs.data, theirs.len, RP_KIND_EVENT, 1, 12,
	    &why);
	T_OK(a != NULL);
	if (a != NULL) {
		T_EQ(a->accepted, 1);
		T_MEM(a->token.data, token, 16);
		T_STR(a->error_detail, "");
		T_EQ(a->correlation_id, 12);
	}
	rp_wire_free(a);
	rp_buf_clear(&ours);
	rp_buf_clear(&theirs);
	/* A receiver's rejection. */
	T_EQ(rp_wire_ack_encode(&ours, RP_KIND_RESPONSE, 99, tok2, 16, 0,
	    "handoff token mismatch", 99), 0);
	encode_frame("frame_handoff_ack_rejected.txtpb", "HandoffAck",
	    "handoff_ack_rejected.txtpb", &theirs);
	same_frame(&ours, &theirs);
	a = rp_wire_ack_parse(theirs.data, theirs.len, RP_KIND_RESPONSE, 1,
	    99, &why);
	T_OK(a != NULL);
	if (a != NULL) {
		T_EQ(a->accepted, 0);
		T_MEM(a->token.data, tok2, 16);
		T_STR(a->error_detail, "handoff token mismatch");
		T_EQ(a->correlation_id, 99);
	}
	rp_wire_free(a);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

/* ------------------------------------------------- the other messages */

static void
test_daemon_process(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	static const uint8_t hash[32] = { 0xaf, 0x13, 0x49, 0xb9, 0xf4, 0x91,
		0x9f, 0xe6, 0xa3, 0x6c, 0x10, 0x7c, 0x04, 0x7e, 0x9b, 0x9a,
		0x1b, 0xc4, 0x9f, 0xc4, 0xeb, 0x89, 0x18, 0x86, 0xd4, 0x17,
		0x98, 0xf8, 0xf7, 0x57, 0xb3, 0x09 };
	Rp__DaemonProcess d = RP__DAEMON_PROCESS__INIT, *got;
	Rp__Endpoint ep = RP__ENDPOINT__INIT;

	ep.namespace_id = W("shared");
	ep.path = (char *)(uintptr_t)pipe_path;
	d.pid = 4242;
	d.exe_path = W("/usr/libexec/echo-backend");
	d.ipc_endpoint = &ep;
	d.started_at_unix_ms = 1764000000123ull;
	d.boot_id = W("6f1c2a4e-8d8b-4b47-9a57-1c3f0e5d2b10");
	d._idle_timeout_secs_case =
	    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS_IDLE_TIMEOUT_SECS;
	d.idle_timeout_secs = 0;
	d.exe_hash_algorithm = W("blake3");
	d.exe_hash.data = (uint8_t *)(uintptr_t)hash;
	d.exe_hash.len = sizeof(hash);
	T_EQ(rp_wire_pack(&ours, &d.base), 0);
	encode_file("DaemonProcess", "daemon_process.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	/* Presence: field 7 with value 0 is on the wire. */
	T_OK(theirs.len > 2 && memmem(theirs.data, theirs.len, "\x38\x00\x42",
	    3) != NULL);
	got = rp_wire_unpack(&rp__daemon_process__descriptor, theirs.data,
	    theirs.len);
	T_OK(got != NULL);
	if (got != NULL) {
		T_EQ(got->pid, 4242);
		T_STR(got->exe_path, "/usr/libexec/echo-backend");
		T_OK(got->ipc_endpoint != NULL);
		if (got->ipc_endpoint != NULL) {
			T_STR(got->ipc_endpoint->namespace_id, "shared");
			T_STR(got->ipc_endpoint->path, pipe_path);
		}
		T_EQ(got->started_at_unix_ms, 1764000000123ull);
		T_STR(got->boot_id, "6f1c2a4e-8d8b-4b47-9a57-1c3f0e5d2b10");
		T_EQ(got->_idle_timeout_secs_case,
		    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS_IDLE_TIMEOUT_SECS);
		T_EQ(got->idle_timeout_secs, 0);
		T_STR(got->exe_hash_algorithm, "blake3");
		T_EQ(got->exe_hash.len, 32);
		T_MEM(got->exe_hash.data, hash, 32);
	}
	rp_wire_free(got);
	rp_buf_clear(&ours);
	rp_buf_clear(&theirs);

	/* Absent is not 0. */
	rp__daemon_process__init(&d);
	d.pid = 7;
	d.exe_path = W("/bin/true");
	d.exe_hash_algorithm = W("blake3");
	T_EQ(rp_wire_pack(&ours, &d.base), 0);
	encode_file("DaemonProcess", "daemon_process_noidle.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	got = rp_wire_unpack(&rp__daemon_process__descriptor, theirs.data,
	    theirs.len);
	T_OK(got != NULL);
	if (got != NULL) {
		T_EQ(got->_idle_timeout_secs_case,
		    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS__NOT_SET);
		T_OK(got->ipc_endpoint == NULL);
	}
	rp_wire_free(got);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

static void
test_service_definition(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	char *allow[] = { W("1.2.0"), W("1.3.0-rc.1") };
	Rp__ServiceDefinition s = RP__SERVICE_DEFINITION__INIT, *got;
	Rp__ServiceDefinition__LabelsEntry l1 =
	    RP__SERVICE_DEFINITION__LABELS_ENTRY__INIT;
	Rp__ServiceDefinition__LabelsEntry l2 =
	    RP__SERVICE_DEFINITION__LABELS_ENTRY__INIT;
	Rp__ServiceDefinition__LabelsEntry *labels[] = { &l1, &l2 };

	l1.key = W("owner");
	l1.value = W("platform");
	l2.key = W("tier");
	l2.value = W("gold");
	s.service_name = W("echo");
	s.binary_path = W("/usr/libexec/echo-backend");
	s.isolation = RP__BROKER_ISOLATION__BROKER_ISOLATION_EXPLICIT_INSTANCE;
	s.explicit_instance = W("team-a");
	s.per_version_binary_dir = W("/opt/echo/versions");
	s.min_version = W("1.2.0");
	s.n_version_allow_list = 2;
	s.version_allow_list = allow;
	s.n_labels = 2;
	s.labels = labels;
	T_EQ(rp_wire_pack(&ours, &s.base), 0);
	encode_file("ServiceDefinition", "service_definition.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	got = rp_wire_unpack(&rp__service_definition__descriptor, theirs.data,
	    theirs.len);
	T_OK(got != NULL);
	if (got != NULL) {
		T_STR(got->service_name, "echo");
		T_STR(got->binary_path, "/usr/libexec/echo-backend");
		T_EQ(got->isolation, 2);
		T_STR(got->explicit_instance, "team-a");
		T_STR(got->per_version_binary_dir, "/opt/echo/versions");
		T_STR(got->min_version, "1.2.0");
		T_EQ(got->n_version_allow_list, 2);
		T_STR(got->version_allow_list[1], "1.3.0-rc.1");
		T_EQ(got->n_labels, 2);
		T_STR(got->labels[0]->key, "owner");
		T_STR(got->labels[1]->value, "gold");
	}
	rp_wire_free(got);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

static void
test_lifecycle_event(void)
{
	struct rp_buf ours = { 0 }, theirs = { 0 };
	Rp__LifecycleEvent e = RP__LIFECYCLE_EVENT__INIT, *got;
	Rp__LifecycleEvent__ExtraEntry x =
	    RP__LIFECYCLE_EVENT__EXTRA_ENTRY__INIT;
	Rp__LifecycleEvent__ExtraEntry *extra[] = { &x };

	x.key = W("wanted_version");
	x.value = W("1.0.0");
	e.ts_ms = 1764000000456ull;
	e.pid = 4242;
	e.service_name = W("echo");
	e.kind = RP__EVENT_KIND__EVENT_KIND_HELLO_REFUSED;
	e.reason = (char *)(uintptr_t)
	    rp_refusal_table[RP_REFUSE_BELOW_MIN].reason;
	e.n_extra = 1;
	e.extra = extra;
	e.severity_number = 13;
	e.severity_text = W("WARN");
	e.request_id = W("req-7f3a");
	e.connection_id = 12;
	e.broker_instance = W("shared");
	T_EQ(rp_wire_pack(&ours, &e.base), 0);
	encode_file("LifecycleEvent", "lifecycle_event.txtpb", &theirs);
	same_bytes(&ours, &theirs);
	got = rp_wire_unpack(&rp__lifecycle_event__descriptor, theirs.data,
	    theirs.len);
	T_OK(got != NULL);
	if (got != NULL) {
		T_EQ(got->ts_ms, 1764000000456ull);
		T_EQ(got->kind, 9);
		T_STR(rp_wire_event_kind_name(got->kind), "HELLO_REFUSED");
		T_STR(got->reason, "wanted_version is below min_version");
		T_EQ(got->n_extra, 1);
		T_STR(got->extra[0]->value, "1.0.0");
		T_EQ(got->severity_number, 13);
		T_STR(got->broker_instance, "shared");
		T_EQ(got->connection_id, 12);
	}
	rp_wire_free(got);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
}

/* protoc and our decoder agree on what is malformed in a string. */
static void
test_protoc_rejects_bad_utf8_too(void)
{
	struct rp_buf out = { 0 };
	/* Hello{service_name: "\xff"} */
	static const uint8_t bad[] = { 0x1a, 0x01, 0xff };
	char path[256];

	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, bad, sizeof(bad)) == NULL);
	T_EQ(errno, EPROTO);
	snprintf(path, sizeof(path), "%s/bad.bin", t_tmpdir());
	write_file(path, bad, sizeof(bad));
	/* protoc complains on stderr, as it should; not our noise. */
	T_OK(protoc_run("decode", "Hello", path, &out, 1) != 0);
	rp_buf_free(&out);
}

int
main(void)
{
	T_RUN(test_hello);
	T_RUN(test_frame_hello);
	T_RUN(test_refused_reply);
	T_RUN(test_refused_details);
	T_RUN(test_negotiated_reply);
	T_RUN(test_admin);
	T_RUN(test_handoff_offer);
	T_RUN(test_handoff_acks);
	T_RUN(test_daemon_process);
	T_RUN(test_service_definition);
	T_RUN(test_lifecycle_event);
	T_RUN(test_protoc_rejects_bad_utf8_too);
	return t_done();
}
