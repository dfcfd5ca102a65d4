/*
 * fuzz_request — the broker's first frame, as the broker handles it: the
 * envelope (rows 4-8), the Hello (rows 9-15), and the reply it writes,
 * which must always encode and must echo what the request carried.
 *
 * Input: one frame body (what follows the 5-byte header).
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"
#include "wire.h"

static const uint8_t token[16] = "fuzz-token-16-by";

/* Parse our own reply and check the envelope and the echo. */
static Rp__Frame *
reply_frame(const struct rp_buf *out, const Rp__Frame *req, uint32_t proto)
{
	const char *why = NULL;
	Rp__Frame *f;
	uint8_t hdr[RP_FRAME_HEADER];

	CHECK(out->len > RP_FRAME_HEADER);
	rp_frame_header(hdr, (uint32_t)(out->len - RP_FRAME_HEADER));
	CHECK(memcmp(out->data, hdr, RP_FRAME_HEADER) == 0);
	f = rp_wire_frame_parse(out->data + RP_FRAME_HEADER,
	    out->len - RP_FRAME_HEADER, RP_KIND_RESPONSE, proto, 1,
	    req != NULL ? req->request_id : 0, &why);
	CHECK(f != NULL);
	CHECK(f->deadline_unix_ms == 0);
	CHECK(strcmp(f->traceparent, req != NULL ? req->traceparent : "") == 0);
	CHECK(strcmp(f->tracestate, req != NULL ? req->tracestate : "") == 0);
	return f;
}

static void
check_refused(const struct rp_buf *out, const Rp__Frame *req,
    enum rp_refusal id, uint64_t retry)
{
	const struct rp_refusal_row *row = &rp_refusal_table[id];
	Rp__HelloReply *r;
	Rp__Frame *f;

	f = reply_frame(out, req, RP_PP_CONTROL);
	r = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	CHECK(r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_REFUSED);
	CHECK((uint32_t)r->refused->code == row->code);
	CHECK(strncmp(r->refused->reason, row->reason,
	    strlen(row->reason)) == 0);
	CHECK(r->refused->daemon_min_protocol == 1);
	CHECK(r->refused->daemon_max_protocol == 1);
	CHECK(r->refused->retry_after_ms == (row->retry_after_ms ==
	    RP_RETRY_COMPUTED ? (retry ? retry : 1) : row->retry_after_ms));
	rp_wire_free(r);
	rp_wire_free(f);
}

static void
negotiate(const Rp__Frame *req, const Rp__Hello *h)
{
	const char *warnings[] = { h->client_version, h->client_lib_name };
	struct rp_frame_meta m;
	struct rp_negotiated n;
	struct rp_buf out = { 0 };
	Rp__HelloReply *r;
	Rp__Frame *f;
	int with_token = (h->client_capabilities & RP_CAP_HANDLE_PASSING) != 0;

	memset(&n, 0, sizeof(n));
	n.daemon_version = h->wanted_version;
	n.backend_pipe = h->service_name;
	n.server_capabilities = h->client_capabilities;
	n.keepalive_interval_secs = h->client_keepalive_secs;
	n.token = with_token ? token : NULL;
	n.token_len = with_token ? sizeof(token) : 0;
	n.connection_id = h->connection_id;
	n.warnings = warnings;
	n.n_warnings = 2;
	rp_wire_echo(&m, req);
	CHECK(rp_wire_negotiated_encode(&out, &m, &n) == 0);
	f = reply_frame(&out, req, RP_PP_CONTROL);
	r = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	CHECK(r != NULL && r->result_case ==
	    RP__HELLO_REPLY__RESULT_NEGOTIATED);
	CHECK(r->negotiated->negotiated_protocol == 1);
	CHECK(strcmp(r->negotiated->daemon_version, h->wanted_version) == 0);
	CHECK(((r->negotiated->server_capabilities & 1) != 0) == with_token);
	CHECK((r->negotiated->server_capabilities & ~UINT64_C(1)) ==
	    (h->client_capabilities & ~UINT64_C(1)));
	CHECK(r->negotiated->keepalive_interval_secs ==
	    (h->client_keepalive_secs ? h->client_keepalive_secs : 1800));
	CHECK(r->negotiated->handle_passed_token.len == n.token_len);
	CHECK(r->negotiated->n_warnings == 2);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_free(&out);
}

static void
admin_reply(const Rp__Frame *req)
{
	Rp__AdminRequest *q;
	Rp__AdminReply a = RP__ADMIN_REPLY__INIT;
	struct rp_frame_meta m;
	struct rp_buf out = { 0 };
	const char *cli;
	uint32_t verb;
	Rp__Frame *f;

	q = rp_wire_unpack(&rp__admin_request__descriptor, req->payload.data,
	    req->payload.len);
	if (q == NULL)
		return;   /* the broker closes without a reply */
	cli = rp_wire_admin_verb_cli((uint32_t)q->verb);
	if (cli != NULL) {
		CHECK(rp_wire_admin_verb_from_cli(cli, &verb) == 0);
		CHECK(verb == (uint32_t)q->verb);
	}
	a.body = (char *)(uintptr_t)(cli != NULL ? cli :
	    "unsupported admin verb\n");
	a.exit_code = cli != NULL ? 0 : 2;
	rp_wire_echo(&m, req);
	CHECK(m.protocol == RP_PP_ADMIN);
	CHECK(rp_wire_frame_encode_msg(&out, &m, &a.base) == 0);
	f = reply_frame(&out, req, RP_PP_ADMIN);
	rp_wire_free(f);
	rp_wire_free(q);
	rp_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_buf out = { 0 };
	struct rp_frame_meta m;
	Rp__Frame *req = NULL;
	Rp__Hello *h = NULL;
	enum rp_refusal id;

	id = rp_wire_request_parse(data, size, &req);
	CHECK(id == RP_REFUSE_NONE || id == RP_REFUSE_OUT_OF_MEMORY ||
	    (id >= RP_REFUSE_MALFORMED_FRAME && id <= RP_REFUSE_COMPRESSED));
	CHECK((req == NULL) == (id == RP_REFUSE_MALFORMED_FRAME ||
	    id == RP_REFUSE_OUT_OF_MEMORY));
	if (id == RP_REFUSE_NONE && req->payload_protocol == RP_PP_ADMIN) {
		admin_reply(req);
		goto out;
	}
	if (id == RP_REFUSE_NONE) {
		CHECK(req->payload_protocol == RP_PP_CONTROL);
		h = rp_wire_hello_decode(req);
		if (h == NULL) {
			id = RP_REFUSE_MALFORMED_HELLO;
		} else {
			/* A kernel pid that sometimes matches. */
			uint32_t kpid = h->peer_pid ^ (uint32_t)(size & 1);

			id = rp_wire_hello_check(h, kpid);
			CHECK(id == RP_REFUSE_NONE ||
			    (id >= RP_REFUSE_PROTOCOL_RANGE &&
			    id <= RP_REFUSE_PEER_PID));
			CHECK(rp_wire_hello_check(h, 0) != RP_REFUSE_PEER_PID);
		}
	}
	if (id == RP_REFUSE_NONE) {
		negotiate(req, h);
		goto out;
	}
	rp_wire_echo(&m, req);
	CHECK(rp_wire_refused_encode(&out, &m, id, "fuzz", size) == 0);
	check_refused(&out, req, id, size);
out:
	rp_wire_free(h);
	rp_wire_free(req);
	rp_buf_free(&out);
	return 0;
}
