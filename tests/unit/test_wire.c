/* Unit tests for wire: the envelope, the refusal table and every row of
 * 10-wire.md §6 that the library decides, replies and their echo, names,
 * admin verbs, handoff offers and acks, and decoder strictness. */
#include <errno.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "wire.h"
#include "t.h"

/* protobuf-c structs take char * for what packing only reads. */
#define W(s) ((char *)(uintptr_t)(s))

static const char tp[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";
static const char ts[] = "congo=t61rcWkgMzE";

/* A Frame body, packed by protobuf-c directly (not by the code under
 * test), with trace fields set. */
static void
mkframe(struct rp_buf *b, uint32_t ver, uint32_t kind, uint32_t proto,
    uint32_t enc, uint64_t rid, const struct rp_buf *payload)
{
	Rp__Frame f = RP__FRAME__INIT;

	rp_buf_clear(b);
	f.envelope_version = ver;
	f.kind = (Rp__FrameKind)kind;
	f.payload_protocol = proto;
	f.payload_encoding = (Rp__PayloadEncoding)enc;
	f.request_id = rid;
	f.traceparent = W(tp);
	f.tracestate = W(ts);
	if (payload != NULL) {
		f.payload.data = payload->data;
		f.payload.len = payload->len;
	}
	T_EQ(rp_wire_pack(b, &f.base), 0);
}

static void
valid_hello(Rp__Hello *h)
{
	rp__hello__init(h);
	h->client_min_protocol = 1;
	h->client_max_protocol = 1;
	h->service_name = W("echo");
	h->wanted_version = W("1.0.0");
	h->client_version = W("test 1");
	h->client_lib_name = W("librp");
	h->client_lib_version = W("0.1.0");
	h->peer_pid = 100;
}

/* A string of n copies of c (static storage, one per call site use). */
static char *
rep(char *buf, char c, size_t n)
{
	memset(buf, c, n);
	buf[n] = '\0';
	return buf;
}

/* ------------------------------------------------------------ budget */

static void
test_budget_numbers(void)
{
	T_UEQ(rp_wire_budget(0), 4096);
	T_UEQ(rp_wire_budget(1), 4112);
	T_UEQ(rp_wire_budget(RP_FRAME_HELLO_MAX), 16u * 65536u + 4096u);
	T_UEQ(rp_wire_budget((SIZE_MAX - 4096) / 16),
	    (SIZE_MAX - 4096) / 16 * 16 + 4096);
	T_UEQ(rp_wire_budget((SIZE_MAX - 4096) / 16 + 1), SIZE_MAX);
	T_UEQ(rp_wire_budget(SIZE_MAX), SIZE_MAX);
}

/* The allocator enforces the budget to the byte: find what a message
 * takes, then decode it with exactly that much and with one byte less. */
static void
test_budget_exact(void)
{
	struct rp_buf b = { 0 };
	struct rp_wire_alloc a;
	Rp__Hello h, *got;
	size_t need;

	valid_hello(&h);
	T_EQ(rp_wire_pack(&b, &h.base), 0);
	rp_wire_alloc_init(&a, SIZE_MAX);
	got = rp_wire_unpack_with(&rp__hello__descriptor, b.data, b.len, &a);
	T_OK(got != NULL);
	rp_wire_free(got);
	need = a.total;
	T_OK(need > 0 && need <= rp_wire_budget(b.len));
	rp_wire_alloc_init(&a, need);
	got = rp_wire_unpack_with(&rp__hello__descriptor, b.data, b.len, &a);
	T_OK(got != NULL);
	T_EQ(a.over, 0);
	T_UEQ(a.total, need);
	rp_wire_free(got);
	rp_wire_alloc_init(&a, need - 1);
	errno = 0;
	got = rp_wire_unpack_with(&rp__hello__descriptor, b.data, b.len, &a);
	T_OK(got == NULL);
	T_EQ(errno, EMSGSIZE);
	T_EQ(a.over, 1);
	T_OK(a.total <= need - 1);
	rp_buf_free(&b);
}

static void
test_unpack_errors(void)
{
	static const uint8_t trunc[] = { 0x1a, 0x05, 'e', 'c' };
	static const uint8_t wiretype[] = { 0x0a, 0x01, 0x01 }; /* field 1 LEN */
	static const uint8_t field0[] = { 0x00, 0x01 };
	static const uint8_t group[] = { 0x0b, 0x0c };

	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, NULL, 3) == NULL);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, trunc, sizeof(trunc)) ==
	    NULL);
	T_EQ(errno, EPROTO);
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, wiretype,
	    sizeof(wiretype)) == NULL);
	T_EQ(errno, EPROTO);
	/* Field number 0 is invalid in every implementation; protobuf-c
	 * alone would keep it as an unknown field. */
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, field0, sizeof(field0)) ==
	    NULL);
	T_EQ(errno, EPROTO);
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, group, sizeof(group)) ==
	    NULL);
	T_EQ(errno, EPROTO);
	/* Empty is a valid message of defaults. */
	{
		Rp__Hello *h = rp_wire_unpack(&rp__hello__descriptor, NULL, 0);

		T_OK(h != NULL);
		if (h != NULL)
			T_STR(h->service_name, "");
		rp_wire_free(h);
	}
	rp_wire_free(NULL);
}

static void
test_decoder_tolerance(void)
{
	/* Hello: an unknown varint field 99, an unknown LEN field 100 with
	 * bytes that are not UTF-8 (not a string of ours: fine), fields out
	 * of order and service_name twice (last wins). */
	static const uint8_t in[] = {
		0x98, 0x06, 0x05,                  /* 99: 5 */
		0x10, 0x01,                        /* 2: max 1 */
		0x1a, 0x01, 'x',                   /* 3: "x" */
		0xa2, 0x06, 0x02, 0xff, 0xfe,      /* 100: \xff\xfe */
		0x08, 0x01,                        /* 1: min 1 */
		0x1a, 0x04, 'e', 'c', 'h', 'o',    /* 3: "echo" */
		0x22, 0x05, '1', '.', '0', '.', '0',
	};
	Rp__Hello *h;
	Rp__Frame *f = NULL;
	static const uint8_t twice[] = { 0x08, 0x02, 0x08, 0x01 };

	h = rp_wire_unpack(&rp__hello__descriptor, in, sizeof(in));
	T_OK(h != NULL);
	if (h != NULL) {
		T_STR(h->service_name, "echo");
		T_EQ(h->client_min_protocol, 1);
		T_EQ(h->client_max_protocol, 1);
		T_EQ(rp_wire_hello_check(h, 0), RP_REFUSE_NONE);
	}
	rp_wire_free(h);
	/* envelope_version 2 then 1: the last one counts. */
	T_EQ(rp_wire_request_parse(twice, sizeof(twice), &f), RP_REFUSE_NONE);
	rp_wire_free(f);
}

/* A known field in another wire type than its own is malformed (as prost
 * has it), bool included, which protobuf-c alone would read from any
 * bytes; a packed repeated scalar is its own. */
static void
test_wire_types_strict(void)
{
	/* AdminRequest.json (2, bool) as fixed32, fixed64, bytes. */
	static const uint8_t json5[] = { 0x15, 0x01, 0x00, 0x00, 0x00 };
	static const uint8_t json1[] = { 0x11, 1, 0, 0, 0, 0, 0, 0, 0 };
	static const uint8_t json2[] = { 0x12, 0x01, 0x01 };
	/* AdminRequest.verb (1, enum) as bytes; service_name (3) as varint. */
	static const uint8_t verb2[] = { 0x0a, 0x01, 0x04 };
	static const uint8_t name0[] = { 0x18, 0x01 };
	/* HandoffAck.accepted (2) as fixed32. */
	static const uint8_t acc5[] = { 0x15, 0x01, 0x00, 0x00, 0x00 };
	/* Unknown fields may come in any of the four. */
	static const uint8_t unknown[] = { 0x78, 0x01, 0x79, 1, 2, 3, 4, 5, 6, 7,
		8, 0x7a, 0x01, 0xff, 0x7d, 1, 2, 3, 4, 0x10, 0x01 };
	Rp__AdminRequest *q;
	Rp__HandoffAck *a;

	errno = 0;
	T_OK(rp_wire_unpack(&rp__admin_request__descriptor, json5,
	    sizeof(json5)) == NULL);
	T_EQ(errno, EPROTO);
	T_OK(rp_wire_unpack(&rp__admin_request__descriptor, json1,
	    sizeof(json1)) == NULL);
	T_OK(rp_wire_unpack(&rp__admin_request__descriptor, json2,
	    sizeof(json2)) == NULL);
	T_OK(rp_wire_unpack(&rp__admin_request__descriptor, verb2,
	    sizeof(verb2)) == NULL);
	T_OK(rp_wire_unpack(&rp__admin_request__descriptor, name0,
	    sizeof(name0)) == NULL);
	T_OK(rp_wire_unpack(&rp__handoff_ack__descriptor, acc5,
	    sizeof(acc5)) == NULL);
	q = rp_wire_unpack(&rp__admin_request__descriptor, unknown,
	    sizeof(unknown));
	T_OK(q != NULL && q->json);
	rp_wire_free(q);
	a = rp_wire_unpack(&rp__handoff_ack__descriptor, unknown,
	    sizeof(unknown));
	T_OK(a != NULL && a->accepted);
	rp_wire_free(a);
}

static void
test_strings_strict(void)
{
	/* Hello.service_name (field 3) with bad contents. */
	static const uint8_t ff[] = { 0x1a, 0x02, 'a', 0xff };
	static const uint8_t nul[] = { 0x1a, 0x05, 'e', 'c', 0x00, 'h', 'o' };
	static const uint8_t overlong[] = { 0x1a, 0x02, 0xc0, 0xaf };
	static const uint8_t surrogate[] = { 0x1a, 0x03, 0xed, 0xa0, 0x80 };
	static const uint8_t toohigh[] = { 0x1a, 0x04, 0xf4, 0x90, 0x80, 0x80 };
	static const uint8_t cut[] = { 0x1a, 0x02, 'a', 0xe2 };
	/* Valid: e-acute, euro sign, an emoji. */
	static const uint8_t good[] = { 0x2a, 0x09, 0xc3, 0xa9, 0xe2, 0x82,
		0xac, 0xf0, 0x9f, 0x98, 0x80 };
	/* Refused.details (field 5 of Refused, inside HelloReply field 2)
	 * with a bad map value: the walk reaches nested messages. */
	static const uint8_t nested[] = { 0x12, 0x07, 0x2a, 0x05, 0x0a, 0x01,
		'k', 0x12, 0x00 };
	static const uint8_t nested_bad[] = { 0x12, 0x08, 0x2a, 0x06, 0x0a,
		0x01, 'k', 0x12, 0x01, 0x80 };
	const uint8_t *bad[] = { ff, nul, overlong, surrogate, toohigh, cut };
	const size_t badlen[] = { sizeof(ff), sizeof(nul), sizeof(overlong),
		sizeof(surrogate), sizeof(toohigh), sizeof(cut) };
	Rp__HelloReply *r;
	Rp__Hello *h;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		T_OK(rp_wire_unpack(&rp__hello__descriptor, bad[i], badlen[i]) ==
		    NULL);
		T_EQ(errno, EPROTO);
	}
	h = rp_wire_unpack(&rp__hello__descriptor, good, sizeof(good));
	T_OK(h != NULL);
	if (h != NULL)
		T_STR(h->client_version, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
	rp_wire_free(h);
	r = rp_wire_unpack(&rp__hello_reply__descriptor, nested,
	    sizeof(nested));
	T_OK(r != NULL);
	rp_wire_free(r);
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello_reply__descriptor, nested_bad,
	    sizeof(nested_bad)) == NULL);
	T_EQ(errno, EPROTO);
}

/* ------------------------------------------------- the refusal table */

static const struct {
	enum rp_refusal id;
	unsigned row;
	uint32_t code;
	const char *reason;
	uint64_t retry;
	int detail;
} spec[] = {
	/* 10-wire.md §6, copied by hand. */
	{ RP_REFUSE_FRAMING_VERSION, 1, 1, "unsupported framing version", 0, 0 },
	{ RP_REFUSE_TOO_LARGE, 2, 6, "initial Hello frame exceeds 64 KiB", 0, 0 },
	{ RP_REFUSE_INCOMPLETE, 3, 6, "incomplete Hello frame", 0, 0 },
	{ RP_REFUSE_MALFORMED_FRAME, 4, 6, "malformed broker Frame", 0, 0 },
	{ RP_REFUSE_ENVELOPE_VERSION, 5, 1, "frame envelope_version is not v1", 0, 0 },
	{ RP_REFUSE_KIND, 6, 6, "Hello frame kind must be REQUEST", 0, 0 },
	{ RP_REFUSE_PAYLOAD_PROTOCOL, 7, 6,
	  "Hello frame payload_protocol must be control-plane", 0, 0 },
	{ RP_REFUSE_COMPRESSED, 8, 6, "Hello payload must not be compressed", 0, 0 },
	{ RP_REFUSE_MALFORMED_HELLO, 9, 6, "malformed Hello payload", 0, 0 },
	{ RP_REFUSE_PROTOCOL_RANGE, 10, 1,
	  "client protocol range does not include v1", 0, 0 },
	{ RP_REFUSE_SERVICE_NAME, 11, 6, "invalid service_name", 0, 0 },
	{ RP_REFUSE_WANTED_VERSION, 12, 6, "invalid wanted_version", 0, 0 },
	{ RP_REFUSE_CLIENT_VERSION, 13, 6, "client_version exceeds 128 bytes", 0, 0 },
	{ RP_REFUSE_CLIENT_LIB, 14, 6, "client_lib fields exceed 64 bytes", 0, 0 },
	{ RP_REFUSE_PEER_PID, 15, 6, "peer_pid does not match verified peer", 0, 0 },
	{ RP_REFUSE_RATE_LIMITED, 16, 4, "Hello rate limit exceeded",
	  RP_RETRY_COMPUTED, 0 },
	{ RP_REFUSE_SHUTTING_DOWN, 17, 5, "broker is shutting down", 1000, 0 },
	{ RP_REFUSE_FD_PRESSURE, 18, 9,
	  "broker is low on file descriptors; retry shortly", 1000, 0 },
	{ RP_REFUSE_NO_DEFINITION, 19, 2, "service definition was not found", 0, 0 },
	{ RP_REFUSE_NOT_REGISTERED, 19, 2, "service is not registered", 0, 0 },
	{ RP_REFUSE_DEFINITION_INVALID, 20, 2,
	  "service definition could not be loaded", 0, 1 },
	{ RP_REFUSE_BELOW_MIN, 21, 8, "wanted_version is below min_version", 30000, 0 },
	{ RP_REFUSE_NOT_ALLOWED, 22, 8,
	  "wanted_version is not in version_allow_list", 30000, 0 },
	{ RP_REFUSE_SPAWN_IN_PROGRESS, 23, 4, "backend spawn already in progress",
	  1000, 0 },
	{ RP_REFUSE_SPAWN_BUDGET, 24, 4, "backend spawn budget exhausted",
	  RP_RETRY_COMPUTED, 0 },
	{ RP_REFUSE_SPAWN_FAILED, 25, 3, "backend spawn failed", 1000, 1 },
	{ RP_REFUSE_BACKEND_NOT_REGISTERED, 25, 3, "backend is not registered",
	  1000, 0 },
	{ RP_REFUSE_ISOLATION, 26, 7, "service isolation could not be resolved",
	  0, 1 },
	{ RP_REFUSE_LAUNCH_MISMATCH, 26, 7,
	  "launched backend identity did not match request", 0, 0 },
	{ RP_REFUSE_INSTALL, 26, 7, "registered backend could not be installed",
	  0, 1 },
	/* Not upstream's: a stopped backend (doc/CONFORMANCE.md). */
	{ RP_REFUSE_BACKEND_STOPPED, 25, 3, "backend is stopped", 1000, 0 },
	{ RP_REFUSE_MAX_CLIENTS, 18, 9,
	  "broker is at its connection limit; retry shortly", 1000, 0 },
};

#define N_SPEC (sizeof(spec) / sizeof(spec[0]))

/* rp_wire_text_valid agrees with the decoder: a string it accepts
 * survives a pack and strict unpack, one it refuses makes the message
 * undecodable. */
static void
test_text_valid(void)
{
	static const char *const good[] = { "", "plain", "/opt/\xc3\xa9t\xc3\xa9",
		"\xe2\x82\xac", "\xf0\x9f\x98\x80", "\xf4\x8f\xbf\xbf" };
	static const char *const bad[] = { "a\xff", "\xc0\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "a\xe2", "\xe2\x82",
		"\x80", "\xc1\xbf" };
	Rp__Hello h = RP__HELLO__INIT, *d;
	struct rp_buf b = { 0 };
	size_t i;

	T_EQ(rp_wire_text_valid(NULL), 1);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		T_EQ(rp_wire_text_valid(good[i]), 1);
		h.client_version = W(good[i]);
		rp_buf_clear(&b);
		T_EQ(rp_wire_pack(&b, &h.base), 0);
		d = rp_wire_unpack(&rp__hello__descriptor, b.data, b.len);
		T_OK(d != NULL);
		if (d != NULL)
			T_STR(d->client_version, good[i]);
		rp_wire_free(d);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(rp_wire_text_valid(bad[i]), 0);
		h.client_version = W(bad[i]);
		rp_buf_clear(&b);
		T_EQ(rp_wire_pack(&b, &h.base), 0);
		errno = 0;
		T_OK(rp_wire_unpack(&rp__hello__descriptor, b.data, b.len) ==
		    NULL);
		T_EQ(errno, EPROTO);
	}
	rp_buf_free(&b);
}

static void
test_refusal_table(void)
{
	size_t i;

	T_EQ(N_SPEC, RP_REFUSE_COUNT - 1);
	for (i = 0; i < N_SPEC; i++) {
		const struct rp_refusal_row *r = &rp_refusal_table[spec[i].id];

		T_EQ(r->id, spec[i].id);
		T_EQ(r->row, spec[i].row);
		T_EQ(r->code, spec[i].code);
		T_STR(r->reason, spec[i].reason);
		T_UEQ(r->retry_after_ms, spec[i].retry);
		T_EQ(r->takes_detail, spec[i].detail);
	}
}

static void
test_rows_1_to_3(void)
{
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_OK), RP_REFUSE_NONE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_MORE), RP_REFUSE_NONE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_BAD_VERSION),
	    RP_REFUSE_FRAMING_VERSION);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_TOO_LARGE),
	    RP_REFUSE_TOO_LARGE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_INCOMPLETE),
	    RP_REFUSE_INCOMPLETE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_EOF),
	    RP_REFUSE_INCOMPLETE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_TIMEOUT),
	    RP_REFUSE_INCOMPLETE);
	T_EQ(rp_wire_refusal_from_frame_status(RP_FRAME_IO),
	    RP_REFUSE_INCOMPLETE);
}

/* ------------------------------------------------------ rows 4 to 8 */

static void
expect_row(const struct rp_buf *body, enum rp_refusal want, int decoded)
{
	Rp__Frame *f = (Rp__Frame *)1;

	T_EQ(rp_wire_request_parse(body->data, body->len, &f), want);
	if (decoded) {
		/* What decoded is kept for the echo. */
		T_OK(f != NULL);
		if (f != NULL) {
			T_EQ(f->request_id, 41);
			T_STR(f->traceparent, tp);
		}
	} else {
		T_OK(f == NULL);
	}
	rp_wire_free(f);
}

static void
test_row_4_malformed_frame(void)
{
	struct rp_buf b = { 0 };
	static const uint8_t bad_tp[] = { 0x08, 0x01, 0x42, 0x01, 0xff };

	rp_buf_append(&b, "\xff\xff\xff", 3);
	expect_row(&b, RP_REFUSE_MALFORMED_FRAME, 0);
	rp_buf_clear(&b);
	/* envelope_version sent as a string */
	rp_buf_append(&b, "\x0a\x01" "1", 3);
	expect_row(&b, RP_REFUSE_MALFORMED_FRAME, 0);
	rp_buf_clear(&b);
	/* payload length past the end */
	rp_buf_append(&b, "\x08\x01\x22\x10" "abc", 7);
	expect_row(&b, RP_REFUSE_MALFORMED_FRAME, 0);
	rp_buf_clear(&b);
	/* traceparent not UTF-8 */
	rp_buf_append(&b, bad_tp, sizeof(bad_tp));
	expect_row(&b, RP_REFUSE_MALFORMED_FRAME, 0);
	rp_buf_free(&b);
}

static void
test_rows_5_to_8(void)
{
	struct rp_buf b = { 0 };
	Rp__Frame *f = NULL;

	/* Row 5, including a zero-length body (all defaults: version 0). */
	mkframe(&b, 2, RP_KIND_REQUEST, 0, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_ENVELOPE_VERSION, 1);
	T_EQ(rp_wire_request_parse(NULL, 0, &f), RP_REFUSE_ENVELOPE_VERSION);
	T_OK(f != NULL);
	rp_wire_free(f);
	/* Row 6 */
	mkframe(&b, 1, RP_KIND_RESPONSE, 0, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_KIND, 1);
	mkframe(&b, 1, RP_KIND_EVENT, 0, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_KIND, 1);
	mkframe(&b, 1, RP_KIND_CANCEL, 0, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_KIND, 1);
	mkframe(&b, 1, 9, 0, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_KIND, 1);
	/* Row 7; 0xAD01 is admin and passes. */
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_HANDOFF, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_PAYLOAD_PROTOCOL, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_PROBE, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_PAYLOAD_PROTOCOL, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, 1, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_PAYLOAD_PROTOCOL, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_ADMIN, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_NONE, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_CONTROL, 0, 41, NULL);
	expect_row(&b, RP_REFUSE_NONE, 1);
	/* Row 8, for Hello and admin alike. */
	mkframe(&b, 1, RP_KIND_REQUEST, 0, 1, 41, NULL);
	expect_row(&b, RP_REFUSE_COMPRESSED, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, 0, 3, 41, NULL);
	expect_row(&b, RP_REFUSE_COMPRESSED, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_ADMIN, 2, 41, NULL);
	expect_row(&b, RP_REFUSE_COMPRESSED, 1);
	/* The first failure in §4 order is the one reported. */
	mkframe(&b, 7, RP_KIND_EVENT, 5, 1, 41, NULL);
	expect_row(&b, RP_REFUSE_ENVELOPE_VERSION, 1);
	mkframe(&b, 1, RP_KIND_EVENT, 5, 1, 41, NULL);
	expect_row(&b, RP_REFUSE_KIND, 1);
	mkframe(&b, 1, RP_KIND_REQUEST, 5, 1, 41, NULL);
	expect_row(&b, RP_REFUSE_PAYLOAD_PROTOCOL, 1);
	rp_buf_free(&b);
}

/* --------------------------------------------------------- rows 9-15 */

static void
test_row_9_malformed_hello(void)
{
	struct rp_buf p = { 0 }, b = { 0 };
	Rp__Frame *f = NULL;
	Rp__Hello *h;
	static const char *const bad[] = { "\xff", "\x1a\x05" "ab",
		"\x1a\x01\xff", "\x1a\x03" "a\x00" "b", "\x08" };
	static const size_t badlen[] = { 1, 4, 3, 5, 1 };
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		rp_buf_clear(&p);
		rp_buf_append(&p, bad[i], badlen[i]);
		mkframe(&b, 1, RP_KIND_REQUEST, 0, 0, 41, &p);
		T_EQ(rp_wire_request_parse(b.data, b.len, &f), RP_REFUSE_NONE);
		T_OK(f != NULL);
		if (f != NULL)
			T_OK(rp_wire_hello_decode(f) == NULL);
		rp_wire_free(f);
	}
	/* An empty payload is a Hello of defaults: it decodes, then row 10
	 * refuses it. */
	mkframe(&b, 1, RP_KIND_REQUEST, 0, 0, 41, NULL);
	T_EQ(rp_wire_request_parse(b.data, b.len, &f), RP_REFUSE_NONE);
	h = f != NULL ? rp_wire_hello_decode(f) : NULL;
	T_OK(h != NULL);
	if (h != NULL)
		T_EQ(rp_wire_hello_check(h, 0), RP_REFUSE_PROTOCOL_RANGE);
	rp_wire_free(h);
	rp_wire_free(f);
	rp_buf_free(&p);
	rp_buf_free(&b);
}

static void
test_row_10_protocol_range(void)
{
	static const uint32_t bad[][2] = { { 2, 3 }, { 0, 0 }, { 1, 0 },
		{ 2, 1 }, { 2, UINT32_MAX } };
	static const uint32_t good[][2] = { { 0, 1 }, { 1, 1 }, { 0, 7 },
		{ 1, UINT32_MAX } };
	Rp__Hello h;
	size_t i;

	valid_hello(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.client_min_protocol = bad[i][0];
		h.client_max_protocol = bad[i][1];
		T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_PROTOCOL_RANGE);
	}
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		h.client_min_protocol = good[i][0];
		h.client_max_protocol = good[i][1];
		T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	}
}

static void
test_row_11_service_name(void)
{
	char buf[80];
	static const char *const bad[] = { "", "Echo", "a_b", "a b", "a/b",
		"a.b" };
	static const char *const good[] = { "a", "a-1", "0", "echo-2" };
	Rp__Hello h;
	size_t i;

	valid_hello(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.service_name = W(bad[i]);
		T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_SERVICE_NAME);
	}
	h.service_name = rep(buf, 'a', 65);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_SERVICE_NAME);
	h.service_name = rep(buf, 'a', 64);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		h.service_name = W(good[i]);
		T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	}
}

static void
test_row_12_wanted_version(void)
{
	char buf[80];
	static const char *const bad[] = { "", "1.0", "1.0.0.0", "v1.0.0",
		"1.0.0-", "1.0.0-ALPHA", "1.0.0+build", " 1.0.0", "1.0.0;ls" };
	Rp__Hello h;
	size_t i;

	valid_hello(&h);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		h.wanted_version = W(bad[i]);
		T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_WANTED_VERSION);
	}
	/* Valid as a version, but 65 bytes: over the Hello cap. */
	memcpy(buf, "1.0.0-", 6);
	memset(buf + 6, 'a', 59);
	buf[65] = '\0';
	h.wanted_version = buf;
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_WANTED_VERSION);
	buf[64] = '\0';
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	h.wanted_version = W("1.10.0-rc.1");
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
}

static void
test_row_13_client_version(void)
{
	char buf[200];
	Rp__Hello h;

	valid_hello(&h);
	h.client_version = rep(buf, 'v', 129);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_CLIENT_VERSION);
	h.client_version = rep(buf, 'v', 128);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	h.client_version = W("");
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
}

static void
test_row_14_client_lib(void)
{
	char buf[80];
	Rp__Hello h;

	valid_hello(&h);
	h.client_lib_name = rep(buf, 'n', 65);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_CLIENT_LIB);
	h.client_lib_name = rep(buf, 'n', 64);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	valid_hello(&h);
	h.client_lib_version = rep(buf, 'v', 65);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_CLIENT_LIB);
	h.client_lib_version = rep(buf, 'v', 64);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
}

static void
test_row_15_peer_pid(void)
{
	Rp__Hello h;

	valid_hello(&h);
	h.peer_pid = 5;
	T_EQ(rp_wire_hello_check(&h, 6), RP_REFUSE_PEER_PID);
	T_EQ(rp_wire_hello_check(&h, 5), RP_REFUSE_NONE);
	T_EQ(rp_wire_hello_check(&h, 0), RP_REFUSE_NONE);
	h.peer_pid = 0;
	T_EQ(rp_wire_hello_check(&h, 6), RP_REFUSE_NONE);
}

static void
test_rows_10_to_15_order(void)
{
	char buf[200], buf2[80];
	Rp__Hello h;

	/* Everything wrong at once; then fix one at a time. */
	valid_hello(&h);
	h.client_min_protocol = 2;
	h.service_name = W("BAD");
	h.wanted_version = W("1.0");
	h.client_version = rep(buf, 'v', 129);
	h.client_lib_name = rep(buf2, 'n', 65);
	h.peer_pid = 9;
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_PROTOCOL_RANGE);
	h.client_min_protocol = 1;
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_SERVICE_NAME);
	h.service_name = W("ok");
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_WANTED_VERSION);
	h.wanted_version = W("1.0.0");
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_CLIENT_VERSION);
	h.client_version = W("");
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_CLIENT_LIB);
	h.client_lib_name = W("");
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_PEER_PID);
	h.peer_pid = 8;
	T_EQ(rp_wire_hello_check(&h, 8), RP_REFUSE_NONE);
}

/* ------------------------------------------------------------ replies */

/* Decode a reply frame (header included) into its HelloReply. */
static Rp__HelloReply *
reply_of(const struct rp_buf *out, uint64_t rid, Rp__Frame **fp)
{
	const char *why = NULL;
	Rp__HelloReply *r;
	Rp__Frame *f;
	uint8_t hdr[RP_FRAME_HEADER];

	*fp = NULL;
	T_OK(out->len >= RP_FRAME_HEADER);
	if (out->len < RP_FRAME_HEADER)
		return NULL;
	rp_frame_header(hdr, (uint32_t)(out->len - RP_FRAME_HEADER));
	T_MEM(out->data, hdr, RP_FRAME_HEADER);
	f = rp_wire_frame_parse(out->data + RP_FRAME_HEADER,
	    out->len - RP_FRAME_HEADER, RP_KIND_RESPONSE, RP_PP_CONTROL, 1, rid,
	    &why);
	T_OK(f != NULL);
	if (f == NULL)
		return NULL;
	T_EQ(f->deadline_unix_ms, 0);
	r = rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len);
	T_OK(r != NULL);
	*fp = f;
	return r;
}

static void
test_refused_every_row(void)
{
	struct rp_frame_meta echo = { RP_KIND_RESPONSE, 0, 99, 555, tp, ts };
	struct rp_buf out = { 0 }, want = { 0 };
	Rp__HelloReply *r;
	Rp__Frame *f;
	size_t i;

	for (i = 0; i < N_SPEC; i++) {
		rp_buf_clear(&out);
		rp_buf_clear(&want);
		T_EQ(rp_wire_refused_encode(&out, &echo, spec[i].id, "why", 5),
		    0);
		r = reply_of(&out, 99, &f);
		if (r == NULL || r->result_case !=
		    RP__HELLO_REPLY__RESULT_REFUSED) {
			t_fail(__FILE__, __LINE__, "row %u", spec[i].row);
			rp_wire_free(r);
			rp_wire_free(f);
			continue;
		}
		rp_buf_puts(&want, spec[i].reason);
		if (spec[i].detail)
			rp_buf_puts(&want, ": why");
		T_STR(r->refused->reason, rp_buf_str(&want));
		T_EQ(r->refused->code, spec[i].code);
		T_EQ(r->refused->daemon_min_protocol, 1);
		T_EQ(r->refused->daemon_max_protocol, 1);
		T_EQ(r->refused->n_details, 0);
		T_UEQ(r->refused->retry_after_ms,
		    spec[i].retry == RP_RETRY_COMPUTED ? 5 : spec[i].retry);
		/* Echo: request_id and trace, never the deadline. */
		T_EQ(f->request_id, 99);
		T_STR(f->traceparent, tp);
		T_STR(f->tracestate, ts);
		T_EQ(f->payload_protocol, 0);
		rp_wire_free(r);
		rp_wire_free(f);
	}
	rp_buf_free(&out);
	rp_buf_free(&want);
}

static void
test_refused_retry_and_detail(void)
{
	struct rp_buf out = { 0 };
	Rp__HelloReply *r;
	Rp__Frame *f;
	char big[3000];
	size_t base;

	/* Computed rows clamp to >= 1; fixed rows ignore the argument. */
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_RATE_LIMITED, NULL,
	    0), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL && r->refused->retry_after_ms == 1);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_SPAWN_BUDGET, NULL,
	    29999), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL && r->refused->retry_after_ms == 29999);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_SHUTTING_DOWN, NULL,
	    7), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL && r->refused->retry_after_ms == 1000);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* No detail: the bare reason, no dangling ": ". */
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_INSTALL, "", 0), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL);
	if (r != NULL)
		T_STR(r->refused->reason,
		    "registered backend could not be installed");
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* A detail that is not UTF-8 (a path, say) is repaired, so any
	 * peer can decode the reply: one U+FFFD per maximal ill-formed
	 * subpart, as Rust's String::from_utf8_lossy (and Python's
	 * "replace") repairs it, so "\xe2\x82" cut short is one. */
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_DEFINITION_INVALID,
	    "/home/\xff\xfe/x: \xe2\x82", 0), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL);
	if (r != NULL)
		T_STR(r->refused->reason, "service definition could not be "
		    "loaded: /home/\xef\xbf\xbd\xef\xbf\xbd/x: \xef\xbf\xbd");
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* A long detail is cut to RP_WIRE_DETAIL_MAX on a character
	 * boundary: 1023 ASCII bytes and then a 2-byte character. */
	memset(big, 'x', sizeof(big));
	memcpy(big + 1023, "\xc3\xa9", 2);
	big[sizeof(big) - 1] = '\0';
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_SPAWN_FAILED, big,
	    0), 0);
	r = reply_of(&out, 0, &f);
	T_OK(r != NULL);
	base = strlen("backend spawn failed: ");
	if (r != NULL)
		T_EQ(strlen(r->refused->reason), base + 1023);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	big[1023] = 'x';
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_SPAWN_FAILED, big,
	    0), 0);
	r = reply_of(&out, 0, &f);
	if (r != NULL)
		T_EQ(strlen(r->refused->reason), base + RP_WIRE_DETAIL_MAX);
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* Not a refusal: EINVAL and nothing appended. */
	errno = 0;
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_NONE, NULL, 0), -1);
	T_EQ(errno, EINVAL);
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_COUNT, NULL, 0), -1);
	T_EQ(rp_wire_refused_encode(&out, NULL, RP_REFUSE_OUT_OF_MEMORY, NULL,
	    0), -1);
	T_EQ(rp_wire_refused_encode(&out, NULL, (enum rp_refusal)-1, NULL, 0),
	    -1);
	T_EQ(out.len, 0);
	rp_buf_free(&out);
}

static void
test_reply_echo(void)
{
	struct rp_buf b = { 0 }, out = { 0 };
	struct rp_frame_meta m;
	Rp__HelloReply *r;
	Rp__Frame *f = NULL, *rf;

	/* Undecodable request: request_id 0, no trace. */
	rp_buf_append(&b, "\xff\xff", 2);
	T_EQ(rp_wire_request_parse(b.data, b.len, &f),
	    RP_REFUSE_MALFORMED_FRAME);
	T_OK(f == NULL);
	rp_wire_echo(&m, f);
	T_EQ(m.kind, RP_KIND_RESPONSE);
	T_EQ(m.request_id, 0);
	T_EQ(rp_wire_refused_encode(&out, &m, RP_REFUSE_MALFORMED_FRAME, NULL,
	    0), 0);
	r = reply_of(&out, 0, &rf);
	T_OK(r != NULL && rf != NULL);
	if (rf != NULL) {
		T_EQ(rf->request_id, 0);
		T_STR(rf->traceparent, "");
		T_STR(rf->tracestate, "");
	}
	if (r != NULL)
		T_STR(r->refused->reason, "malformed broker Frame");
	rp_wire_free(r);
	rp_wire_free(rf);
	/* A request that decoded but failed row 5 is still echoed. */
	rp_buf_clear(&out);
	mkframe(&b, 3, RP_KIND_REQUEST, 0, 0, 1234, NULL);
	T_EQ(rp_wire_request_parse(b.data, b.len, &f),
	    RP_REFUSE_ENVELOPE_VERSION);
	rp_wire_echo(&m, f);
	T_EQ(rp_wire_refused_encode(&out, &m, RP_REFUSE_ENVELOPE_VERSION, NULL,
	    0), 0);
	r = reply_of(&out, 1234, &rf);
	T_OK(rf != NULL);
	if (rf != NULL) {
		T_STR(rf->traceparent, tp);
		T_STR(rf->tracestate, ts);
	}
	if (r != NULL) {
		T_EQ(r->refused->code, 1);
		T_STR(r->refused->reason, "frame envelope_version is not v1");
	}
	rp_wire_free(r);
	rp_wire_free(rf);
	rp_wire_free(f);
	rp_buf_free(&b);
	rp_buf_free(&out);
}

static void
test_negotiated(void)
{
	static const uint8_t tok[16] = "0123456789abcdef";
	static const char *const warn[] = { "w1" };
	struct rp_frame_meta echo = { RP_KIND_RESPONSE, 0, 8, 0, NULL, NULL };
	struct rp_negotiated n = { "2.0.0", "/tmp/be.sock", 0, 0, NULL, 0, 1,
		NULL, 0 };
	struct rp_buf out = { 0 };
	Rp__HelloReply *r;
	Rp__Frame *f;
	const char *nulls[] = { NULL };

	/* No token: bit 0 is cleared even if the backend set it; unknown
	 * bits pass untouched; keepalive defaults to 1800. */
	n.server_capabilities = UINT64_C(1) << 63 | 0x7;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), 0);
	r = reply_of(&out, 8, &f);
	T_OK(r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED);
	if (r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED) {
		T_EQ(r->negotiated->negotiated_protocol, 1);
		T_STR(r->negotiated->daemon_version, "2.0.0");
		T_STR(r->negotiated->backend_pipe, "/tmp/be.sock");
		T_UEQ(r->negotiated->server_capabilities,
		    UINT64_C(1) << 63 | 0x6);
		T_EQ(r->negotiated->keepalive_interval_secs, 1800);
		T_EQ(r->negotiated->handle_passed_token.len, 0);
		T_EQ(r->negotiated->n_warnings, 0);
		T_EQ(r->negotiated->connection_id, 1);
	}
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* With a token: bit 0 added; the client's keepalive is kept. */
	n.server_capabilities = 0x6;
	n.token = tok;
	n.token_len = 16;
	n.keepalive_interval_secs = 45;
	n.warnings = warn;
	n.n_warnings = 1;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), 0);
	r = reply_of(&out, 8, &f);
	if (r != NULL && r->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED) {
		T_UEQ(r->negotiated->server_capabilities, 0x7);
		T_EQ(r->negotiated->keepalive_interval_secs, 45);
		T_EQ(r->negotiated->handle_passed_token.len, 16);
		T_MEM(r->negotiated->handle_passed_token.data, tok, 16);
		T_EQ(r->negotiated->n_warnings, 1);
		T_STR(r->negotiated->warnings[0], "w1");
	} else {
		T_OK(0);
	}
	rp_wire_free(r);
	rp_wire_free(f);
	rp_buf_clear(&out);
	/* Refusals of the encoder itself; nothing is appended. */
	n.token_len = 15;
	errno = 0;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), -1);
	T_EQ(errno, EINVAL);
	n.token_len = 16;
	n.token = NULL;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), -1);
	n.token = tok;
	n.warnings = nulls;
	errno = 0;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), -1);
	T_EQ(errno, EINVAL);
	n.warnings = warn;
	n.backend_pipe = "/tmp/\xff.sock";
	errno = 0;
	T_EQ(rp_wire_negotiated_encode(&out, &echo, &n), -1);
	T_EQ(errno, EILSEQ);
	T_EQ(out.len, 0);
	rp_buf_free(&out);
}

/*
 * The envelope and the Negotiated are written by hand (issue 16): their
 * bytes must be protobuf-c's, field for field, for any mix of present and
 * default fields (test_wire_protoc holds the same to protoc's).
 */
static uint64_t
rnd(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* 0, a small value, or anything, each a third of the time. */
static uint64_t
rnd_u64(uint64_t *x)
{
	switch (rnd(x) % 3) {
	case 0:
		return 0;
	case 1:
		return rnd(x) % 300;
	default:
		return rnd(x) >> (rnd(x) % 64);
	}
}

static const char *
rnd_str(uint64_t *x)
{
	static const char *const strs[] = { NULL, "", "a", "1.2.3",
		"00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
		"/run/user/1000/running-process/broker/rpb-v1-0123456789abcdef"
		"-be-00112233445566778899aabbccddeeff.sock", "\xc3\xa9t\xc3\xa9",
		"a string of a hundred and thirty bytes, long enough for its "
		"length to take two bytes of varint: 0123456789012345678901234"
		"5678901234567890" };

	return strs[rnd(x) % (sizeof(strs) / sizeof(strs[0]))];
}

/* The frame protobuf-c packs around payload bytes. */
static void
frame_by_protobuf_c(struct rp_buf *out, const struct rp_frame_meta *m,
    const uint8_t *payload, size_t plen)
{
	Rp__Frame f = RP__FRAME__INIT;
	uint8_t hdr[RP_FRAME_HEADER];

	f.envelope_version = 1;
	f.kind = (Rp__FrameKind)m->kind;
	f.payload_protocol = m->protocol;
	f.payload.data = (uint8_t *)(uintptr_t)payload;
	f.payload.len = plen;
	f.request_id = m->request_id;
	f.deadline_unix_ms = m->deadline_unix_ms;
	f.traceparent = (char *)(uintptr_t)(m->traceparent ? m->traceparent :
	    "");
	f.tracestate = (char *)(uintptr_t)(m->tracestate ? m->tracestate : "");
	rp_frame_header(hdr, (uint32_t)rp__frame__get_packed_size(&f));
	T_EQ(rp_buf_append(out, hdr, sizeof(hdr)), 0);
	T_EQ(rp_wire_pack(out, &f.base), 0);
}

static void
test_hand_encoding_is_protobuf_c(void)
{
	static const uint8_t tok[16] = "0123456789abcdef";
	struct rp_buf ours = { 0 }, theirs = { 0 }, payload = { 0 };
	const char *warnings[3];
	struct rp_frame_meta m;
	struct rp_negotiated n;
	uint64_t x = 0x9e3779b97f4a7c15u;
	int i, same = 1;
	size_t k;

	for (i = 0; i < 5000 && same; i++) {
		memset(&m, 0, sizeof(m));
		m.kind = (uint32_t)(rnd(&x) % 4);
		m.protocol = rnd(&x) % 2 ? 0 : (uint32_t)rnd_u64(&x);
		m.request_id = rnd_u64(&x);
		m.deadline_unix_ms = rnd_u64(&x);
		m.traceparent = rnd_str(&x);
		m.tracestate = rnd_str(&x);
		/* A frame around bytes (0 to 300 of them). */
		rp_buf_clear(&payload);
		for (k = rnd(&x) % 301; k > 0; k--)
			T_EQ(rp_buf_append(&payload, "pq", 1 + k % 2), 0);
		rp_buf_clear(&ours);
		rp_buf_clear(&theirs);
		T_EQ(rp_wire_frame_encode(&ours, &m, payload.data, payload.len),
		    0);
		frame_by_protobuf_c(&theirs, &m, payload.data, payload.len);
		same = ours.len == theirs.len &&
		    memcmp(ours.data, theirs.data, ours.len) == 0;
		T_OK(same);
		/* A Negotiated reply. */
		memset(&n, 0, sizeof(n));
		n.daemon_version = rnd_str(&x);
		n.backend_pipe = rnd_str(&x);
		n.server_capabilities = rnd_u64(&x);
		n.keepalive_interval_secs = rnd_u64(&x);
		if (rnd(&x) % 2) {
			n.token = tok;
			n.token_len = 16;
		}
		n.connection_id = rnd_u64(&x);
		n.n_warnings = (size_t)(rnd(&x) % 4);
		for (k = 0; k < n.n_warnings; k++) {
			warnings[k] = rnd_str(&x);
			if (warnings[k] == NULL)
				warnings[k] = "";
		}
		n.warnings = warnings;
		m.kind = RP_KIND_RESPONSE;
		m.protocol = RP_PP_CONTROL;
		m.deadline_unix_ms = 0;
		rp_buf_clear(&ours);
		T_EQ(rp_wire_negotiated_encode(&ours, i % 7 ? &m : NULL, &n), 0);
		{
			Rp__HelloReply r = RP__HELLO_REPLY__INIT;
			Rp__Negotiated g = RP__NEGOTIATED__INIT;
			struct rp_frame_meta none = { RP_KIND_RESPONSE,
				RP_PP_CONTROL, 0, 0, NULL, NULL };

			g.negotiated_protocol = 1;
			g.daemon_version = (char *)(uintptr_t)(n.daemon_version ?
			    n.daemon_version : "");
			g.backend_pipe = (char *)(uintptr_t)(n.backend_pipe ?
			    n.backend_pipe : "");
			g.n_warnings = n.n_warnings;
			g.warnings = (char **)(uintptr_t)warnings;
			g.server_capabilities = (n.server_capabilities &
			    ~RP_CAP_HANDLE_PASSING) | (n.token_len ?
			    RP_CAP_HANDLE_PASSING : 0);
			g.keepalive_interval_secs = n.keepalive_interval_secs ?
			    n.keepalive_interval_secs : RP_KEEPALIVE_DEFAULT_SECS;
			g.handle_passed_token.data = (uint8_t *)(uintptr_t)tok;
			g.handle_passed_token.len = n.token_len;
			g.connection_id = n.connection_id;
			r.result_case = RP__HELLO_REPLY__RESULT_NEGOTIATED;
			r.negotiated = &g;
			rp_buf_clear(&payload);
			T_EQ(rp_wire_pack(&payload, &r.base), 0);
			rp_buf_clear(&theirs);
			frame_by_protobuf_c(&theirs, i % 7 ? &m : &none,
			    payload.data, payload.len);
		}
		same = ours.len == theirs.len &&
		    memcmp(ours.data, theirs.data, ours.len) == 0;
		T_OK(same);
	}
	if (!same)
		fprintf(stderr, "# differs at case %d\n", i - 1);
	rp_buf_free(&ours);
	rp_buf_free(&theirs);
	rp_buf_free(&payload);
}

/* ------------------------------------------------- names and admin */

static void
test_code_and_kind_names(void)
{
	static const char *const codes[] = { "UNSPECIFIED",
		"VERSION_UNSUPPORTED", "SERVICE_UNKNOWN", "BACKEND_SPAWN_FAILED",
		"RATE_LIMITED", "SHUTTING_DOWN", "PEER_REJECTED", "INTERNAL",
		"VERSION_BLOCKED", "FD_PRESSURE" };
	static const char *const kinds[] = { "UNSPECIFIED", "SPAWN_ATTEMPT",
		"SPAWN", "DIED_IDLE", "DIED_SHUTDOWN", "DIED_CRASH",
		"VERSION_MISMATCH", "REPLACED_BY_NEWER", "HELLO_ACCEPTED",
		"HELLO_REFUSED", "SERVICE_DEF_LOADED", "SERVICE_DEF_CHANGED",
		"BROADCAST_SENT", "BROADCAST_ACK", "BROADCAST_TIMEOUT",
		"PROTOCOL_DOWNGRADE", "CACHE_CORRUPTION_DETECTED",
		"RESOURCE_PRESSURE", "SECURITY_VIOLATION",
		"TEARDOWN_HOOK_FAILED", "MANIFEST_REWRITTEN" };
	uint32_t i;

	for (i = 0; i < 10; i++)
		T_STR(rp_wire_error_code_name(i), codes[i]);
	T_STR(rp_wire_error_code_name(10), "UNKNOWN");
	T_STR(rp_wire_error_code_name(UINT32_MAX), "UNKNOWN");
	for (i = 0; i < 21; i++)
		T_STR(rp_wire_event_kind_name(i), kinds[i]);
	T_STR(rp_wire_event_kind_name(21), "UNKNOWN");
	/* The names are the generated enum's, minus the prefix. */
	for (i = 0; i < 21; i++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(
		    &rp__event_kind__descriptor, (int)i);

		T_OK(v != NULL && strcmp(v->name + strlen("EVENT_KIND_"),
		    kinds[i]) == 0);
	}
	for (i = 0; i < 10; i++) {
		const ProtobufCEnumValue *v =
		    protobuf_c_enum_descriptor_get_value(
		    &rp__error_code__descriptor, (int)i);

		T_OK(v != NULL && strcmp(v->name + strlen("ERROR_CODE_"),
		    codes[i]) == 0);
	}
}

static void
test_admin_verbs(void)
{
	static const struct {
		const char *cli;
		uint32_t verb;
	} want[] = { { "status", 1 }, { "dump", 2 }, { "list-instances", 3 },
		{ "healthz", 4 }, { "readyz", 5 }, { "backend-health", 6 },
		{ "config", 7 }, { "diagnose", 8 }, { "metrics", 9 },
		{ "shutdown", 21 } };
	static const char *const bad[] = { "", "STATUS", "list_instances",
		"listinstances", "shutdown ", "unspecified", "reload" };
	uint32_t verb;
	size_t i;

	for (i = 0; i < 10; i++) {
		verb = 0;
		T_EQ(rp_wire_admin_verb_from_cli(want[i].cli, &verb), 0);
		T_EQ(verb, want[i].verb);
		T_STR(rp_wire_admin_verb_cli(want[i].verb), want[i].cli);
		T_STR(rp_wire_admin_verbs[i], want[i].cli);
	}
	T_OK(rp_wire_admin_verbs[10] == NULL);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		errno = 0;
		T_EQ(rp_wire_admin_verb_from_cli(bad[i], &verb), -1);
		T_EQ(errno, EINVAL);
	}
	T_EQ(rp_wire_admin_verb_from_cli(NULL, &verb), -1);
	T_OK(rp_wire_admin_verb_cli(0) == NULL);
	T_OK(rp_wire_admin_verb_cli(10) == NULL);
	T_OK(rp_wire_admin_verb_cli(20) == NULL);
	T_OK(rp_wire_admin_verb_cli(22) == NULL);
}

/* ---------------------------------------------------------- envelope */

static void
test_envelope(void)
{
	Rp__Frame f = RP__FRAME__INIT;

	f.envelope_version = 1;
	f.kind = RP__FRAME_KIND__FRAME_KIND_RESPONSE;
	f.payload_protocol = RP_PP_PROBE;
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_RESPONSE, RP_PP_PROBE),
	    RP_ENV_OK);
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_REQUEST, RP_PP_PROBE),
	    RP_ENV_KIND);
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_RESPONSE, RP_PP_ADMIN),
	    RP_ENV_PROTOCOL);
	f.payload_encoding = RP__PAYLOAD_ENCODING__PAYLOAD_ENCODING_LZ4;
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_RESPONSE, RP_PP_PROBE),
	    RP_ENV_ENCODING);
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_EVENT, RP_PP_ADMIN),
	    RP_ENV_KIND);
	f.envelope_version = 0;
	T_EQ(rp_wire_envelope_check(&f, RP_KIND_EVENT, RP_PP_ADMIN),
	    RP_ENV_VERSION);
	T_STR(rp_wire_envelope_fault_str(RP_ENV_VERSION, 0),
	    "envelope_version is not v1");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_KIND, RP_KIND_REQUEST),
	    "kind is not REQUEST");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_KIND, RP_KIND_RESPONSE),
	    "kind is not RESPONSE");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_KIND, RP_KIND_EVENT),
	    "kind is not EVENT");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_KIND, RP_KIND_CANCEL),
	    "kind is not CANCEL");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_KIND, 4), "unexpected kind");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_PROTOCOL, 0),
	    "unexpected payload_protocol");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_ENCODING, 0),
	    "payload is compressed");
	T_STR(rp_wire_envelope_fault_str(RP_ENV_OK, 0), "ok");
}

static void
test_frame_parse(void)
{
	struct rp_buf b = { 0 };
	const char *why;
	Rp__Frame *f;

	mkframe(&b, 1, RP_KIND_RESPONSE, RP_PP_PROBE, 0, 41, NULL);
	why = NULL;
	f = rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_PROBE, 1,
	    41, &why);
	T_OK(f != NULL);
	rp_wire_free(f);
	/* Request id ignored unless asked for. */
	f = rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_PROBE, 0,
	    7, &why);
	T_OK(f != NULL);
	rp_wire_free(f);
	errno = 0;
	T_OK(rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_PROBE,
	    1, 7, &why) == NULL);
	T_STR(why, "request_id does not match");
	T_EQ(errno, EPROTO);
	T_OK(rp_wire_frame_parse(b.data, b.len, RP_KIND_EVENT, RP_PP_PROBE, 0,
	    0, &why) == NULL);
	T_STR(why, "kind is not EVENT");
	T_OK(rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_ADMIN,
	    0, 0, &why) == NULL);
	T_STR(why, "unexpected payload_protocol");
	mkframe(&b, 1, RP_KIND_RESPONSE, RP_PP_PROBE, 2, 41, NULL);
	T_OK(rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_PROBE,
	    0, 0, &why) == NULL);
	T_STR(why, "payload is compressed");
	mkframe(&b, 0, RP_KIND_RESPONSE, RP_PP_PROBE, 0, 41, NULL);
	T_OK(rp_wire_frame_parse(b.data, b.len, RP_KIND_RESPONSE, RP_PP_PROBE,
	    0, 0, &why) == NULL);
	T_STR(why, "envelope_version is not v1");
	errno = 0;
	T_OK(rp_wire_frame_parse((const uint8_t *)"\x08", 1, RP_KIND_RESPONSE,
	    RP_PP_PROBE, 0, 0, &why) == NULL);
	T_STR(why, "malformed frame");
	T_EQ(errno, EPROTO);
	rp_buf_free(&b);
}

static void
test_frame_encode(void)
{
	struct rp_frame_meta m = { RP_KIND_EVENT, 0x7001, 3, 4, "tp", "" };
	struct rp_buf out = { 0 };
	const char *why;
	uint8_t *big;
	Rp__Frame *f;

	T_EQ(rp_wire_frame_encode(&out, &m, (const uint8_t *)"pl", 2), 0);
	f = rp_wire_frame_parse(out.data + 5, out.len - 5, RP_KIND_EVENT,
	    0x7001, 1, 3, &why);
	T_OK(f != NULL);
	if (f != NULL) {
		T_EQ(f->deadline_unix_ms, 4);
		T_EQ(f->payload.len, 2);
		T_MEM(f->payload.data, "pl", 2);
		T_STR(f->traceparent, "tp");
	}
	rp_wire_free(f);
	/* The header announces exactly the body. */
	T_EQ(out.data[0], 1);
	T_EQ(out.data[1] | out.data[2] << 8, out.len - 5);
	rp_buf_clear(&out);
	/* An empty payload is fine; NULL with a length is not. */
	T_EQ(rp_wire_frame_encode(&out, &m, NULL, 0), 0);
	rp_buf_clear(&out);
	errno = 0;
	T_EQ(rp_wire_frame_encode(&out, &m, NULL, 1), -1);
	T_EQ(errno, EINVAL);
	m.tracestate = "\xc3";
	errno = 0;
	T_EQ(rp_wire_frame_encode(&out, &m, (const uint8_t *)"x", 1), -1);
	T_EQ(errno, EILSEQ);
	m.tracestate = NULL;
	/* A payload of 16 MiB makes a body just over the cap: EMSGSIZE and
	 * out unchanged. */
	big = calloc(1, RP_FRAME_MAX);
	T_OK(big != NULL);
	rp_buf_append(&out, "keep", 4);
	errno = 0;
	T_EQ(rp_wire_frame_encode(&out, &m, big, RP_FRAME_MAX), -1);
	T_EQ(errno, EMSGSIZE);
	T_EQ(out.len, 4);
	T_STR(rp_buf_str(&out), "keep");
	free(big);
	rp_buf_free(&out);
}

/* ------------------------------------------------------------ handoff */

static void
test_offer_errors(void)
{
	static const uint8_t tok[16] = "0123456789abcdef";
	struct rp_buf out = { 0 }, p = { 0 }, b = { 0 };
	Rp__HandoffOffer o = RP__HANDOFF_OFFER__INIT, *got;
	struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_HANDOFF, 5, 0, NULL,
		NULL };
	const char *why;

	/* Round trip, with a short token kept as it is for the receiver to
	 * judge ("handoff token length was 5 bytes"). */
	T_EQ(rp_wire_offer_encode(&out, tok, 5, NULL, 5, 0), 0);
	got = rp_wire_offer_parse(out.data + 5, out.len - 5, &why);
	T_OK(got != NULL);
	if (got != NULL) {
		T_EQ(got->token.len, 5);
		T_STR(got->service_name, "");
		T_EQ(got->handle_value, 0);
		T_EQ(got->correlation_id, 5);
	}
	rp_wire_free(got);
	rp_buf_clear(&out);
	/* correlation_id must equal the frame's request_id. */
	o.token.data = (uint8_t *)(uintptr_t)tok;
	o.token.len = 16;
	o.correlation_id = 6;
	T_EQ(rp_wire_frame_encode_msg(&out, &m, &o.base), 0);
	errno = 0;
	T_OK(rp_wire_offer_parse(out.data + 5, out.len - 5, &why) == NULL);
	T_STR(why, "frame request_id does not match HandoffOffer "
	    "correlation_id");
	T_EQ(errno, EPROTO);
	rp_buf_clear(&out);
	/* Wrong kind, protocol, encoding, a malformed payload. */
	o.correlation_id = 5;
	m.kind = RP_KIND_RESPONSE;
	T_EQ(rp_wire_frame_encode_msg(&out, &m, &o.base), 0);
	T_OK(rp_wire_offer_parse(out.data + 5, out.len - 5, &why) == NULL);
	T_STR(why, "kind is not REQUEST");
	rp_buf_clear(&out);
	m.kind = RP_KIND_REQUEST;
	m.protocol = RP_PP_CONTROL;
	T_EQ(rp_wire_frame_encode_msg(&out, &m, &o.base), 0);
	errno = 0;
	T_OK(rp_wire_offer_parse(out.data + 5, out.len - 5, &why) == NULL);
	T_STR(why, "payload_protocol is not handoff");
	T_EQ(errno, EPROTO);
	rp_wire_pack(&p, &o.base);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_HANDOFF, 1, 5, &p);
	T_OK(rp_wire_offer_parse(b.data, b.len, &why) == NULL);
	T_STR(why, "payload is compressed");
	rp_buf_clear(&p);
	rp_buf_append(&p, "\x1a\x01\xff", 3);
	mkframe(&b, 1, RP_KIND_REQUEST, RP_PP_HANDOFF, 0, 5, &p);
	errno = 0;
	T_OK(rp_wire_offer_parse(b.data, b.len, &why) == NULL);
	T_STR(why, "malformed HandoffOffer");
	T_EQ(errno, EPROTO);
	T_OK(rp_wire_offer_parse((const uint8_t *)"\xff", 1, &why) == NULL);
	T_STR(why, "malformed frame");
	/* Encoder refusals. */
	rp_buf_clear(&out);
	errno = 0;
	T_EQ(rp_wire_offer_encode(&out, NULL, 16, "echo", 1, 0), -1);
	T_EQ(errno, EINVAL);
	errno = 0;
	T_EQ(rp_wire_offer_encode(&out, tok, 16, "ec\xffho", 1, 0), -1);
	T_EQ(errno, EILSEQ);
	T_EQ(out.len, 0);
	rp_buf_free(&out);
	rp_buf_free(&p);
	rp_buf_free(&b);
}

static void
test_ack_errors(void)
{
	static const uint8_t tok[16] = "0123456789abcdef";
	struct rp_buf out = { 0 }, p = { 0 }, b = { 0 };
	Rp__HandoffAck *a;
	const char *why;

	T_EQ(rp_wire_ack_encode(&out, RP_KIND_RESPONSE, 9, tok, 16, 0,
	    "bad \xff byte", 9), 0);
	a = rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_RESPONSE, 1,
	    9, &why);
	T_OK(a != NULL);
	if (a != NULL) {
		T_EQ(a->accepted, 0);
		T_STR(a->error_detail, "bad \xef\xbf\xbd byte");
	}
	rp_wire_free(a);
	T_OK(rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_RESPONSE, 1,
	    8, &why) == NULL);
	T_STR(why, "request_id does not match");
	/* Unchecked, any request_id is taken (pipelined Acks). */
	a = rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_RESPONSE, 0,
	    8, &why);
	T_OK(a != NULL && a->correlation_id == 9);
	rp_wire_free(a);
	T_OK(rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_EVENT, 1, 9,
	    &why) == NULL);
	T_STR(why, "kind is not EVENT");
	rp_buf_clear(&b);
	mkframe(&b, 1, RP_KIND_RESPONSE, RP_PP_PROBE, 0, 9, &out);
	T_OK(rp_wire_ack_parse(b.data, b.len, RP_KIND_RESPONSE, 1, 9, &why) ==
	    NULL);
	T_STR(why, "payload_protocol is not handoff");
	rp_buf_append(&p, "\x10\x01\x10", 3);
	mkframe(&b, 1, RP_KIND_EVENT, RP_PP_HANDOFF, 0, 41, &p);
	errno = 0;
	T_OK(rp_wire_ack_parse(b.data, b.len, RP_KIND_EVENT, 1, 41, &why) ==
	    NULL);
	T_STR(why, "malformed HandoffAck");
	T_EQ(errno, EPROTO);
	/* Checked or not, the Ack's correlation_id is its frame's
	 * request_id. */
	rp_buf_clear(&out);
	T_EQ(rp_wire_ack_encode(&out, RP_KIND_RESPONSE, 9, tok, 16, 1, NULL,
	    10), 0);
	errno = 0;
	T_OK(rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_RESPONSE, 1,
	    9, &why) == NULL);
	T_STR(why, "ack correlation_id does not match request_id");
	T_EQ(errno, EPROTO);
	T_OK(rp_wire_ack_parse(out.data + 5, out.len - 5, RP_KIND_RESPONSE, 0,
	    0, &why) == NULL);
	rp_buf_clear(&out);
	errno = 0;
	T_EQ(rp_wire_ack_encode(&out, RP_KIND_EVENT, 1, NULL, 3, 1, NULL, 1),
	    -1);
	T_EQ(errno, EINVAL);
	T_EQ(out.len, 0);
	rp_buf_free(&out);
	rp_buf_free(&p);
	rp_buf_free(&b);
}

int
main(void)
{
	T_RUN(test_budget_numbers);
	T_RUN(test_budget_exact);
	T_RUN(test_unpack_errors);
	T_RUN(test_decoder_tolerance);
	T_RUN(test_wire_types_strict);
	T_RUN(test_strings_strict);
	T_RUN(test_text_valid);
	T_RUN(test_refusal_table);
	T_RUN(test_rows_1_to_3);
	T_RUN(test_row_4_malformed_frame);
	T_RUN(test_rows_5_to_8);
	T_RUN(test_row_9_malformed_hello);
	T_RUN(test_row_10_protocol_range);
	T_RUN(test_row_11_service_name);
	T_RUN(test_row_12_wanted_version);
	T_RUN(test_row_13_client_version);
	T_RUN(test_row_14_client_lib);
	T_RUN(test_row_15_peer_pid);
	T_RUN(test_rows_10_to_15_order);
	T_RUN(test_refused_every_row);
	T_RUN(test_refused_retry_and_detail);
	T_RUN(test_reply_echo);
	T_RUN(test_negotiated);
	T_RUN(test_hand_encoding_is_protobuf_c);
	T_RUN(test_code_and_kind_names);
	T_RUN(test_admin_verbs);
	T_RUN(test_envelope);
	T_RUN(test_frame_parse);
	T_RUN(test_frame_encode);
	T_RUN(test_offer_errors);
	T_RUN(test_ack_errors);
	return t_done();
}
