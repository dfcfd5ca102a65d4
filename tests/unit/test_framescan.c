/*
 * Unit tests for framescan: Frame bodies read as they stream past, cut at
 * every byte boundary and fed a byte at a time; every verdict compared
 * with rp_wire_unpack's on the whole body; hostile encodings; the last
 * occurrence of a field winning; the caps on kept text; a 16 MiB body
 * read with nothing of it kept.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "framescan.h"
#include "wire.h"
#include "t.h"

/* protobuf-c structs take char * for what packing only reads. */
#define W(s) ((char *)(uintptr_t)(s))

static const char tp[] =
    "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

/* Scan p[0..n) in two pieces cut at `cut` (n: whole). */
static void
scan_cut(struct rp_framescan *s, const uint8_t *p, size_t n, size_t cut)
{
	rp_framescan_init(s, (uint32_t)n);
	T_UEQ(rp_framescan_feed(s, p, cut), cut);
	T_UEQ(rp_framescan_feed(s, p + cut, n - cut), n - cut);
	T_UEQ(rp_framescan_left(s), 0);
}

static void
scan_bytes(struct rp_framescan *s, const uint8_t *p, size_t n)
{
	size_t i;

	rp_framescan_init(s, (uint32_t)n);
	for (i = 0; i < n; i++)
		T_UEQ(rp_framescan_feed(s, p + i, 1), 1);
	T_UEQ(rp_framescan_left(s), 0);
}

/* What rp_wire_unpack says of the body: 1 a Frame, 0 not. */
static int
unpack_ok(const uint8_t *p, size_t n)
{
	struct rp_wire_alloc a;
	Rp__Frame *f;

	rp_wire_alloc_init(&a, SIZE_MAX);
	f = rp_wire_unpack_with(&rp__frame__descriptor, p, n, &a);
	rp_wire_free(f);
	return f != NULL;
}

/* The verdict on p, whole, at every cut and byte by byte, is want (and
 * rp_wire_unpack's); 1 when every scan agreed. */
static int
verdict(const uint8_t *p, size_t n, int want)
{
	struct rp_framescan s;
	size_t cut;
	int ok = 1;

	if (unpack_ok(p, n) != want)
		ok = 0;
	for (cut = 0; cut <= n; cut++) {
		scan_cut(&s, p, n, cut);
		if (rp_framescan_frame_ok(&s) != want)
			ok = 0;
		rp_framescan_free(&s);
	}
	scan_bytes(&s, p, n);
	if (rp_framescan_frame_ok(&s) != want)
		ok = 0;
	rp_framescan_free(&s);
	return ok;
}

static void
hello_frame(struct rp_buf *out, uint64_t rid)
{
	struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_CONTROL, rid,
		1764000000123ull, tp, "k=v" };
	Rp__Hello h = RP__HELLO__INIT;

	h.client_min_protocol = 1;
	h.client_max_protocol = 1;
	h.service_name = W("echo");
	h.wanted_version = W("1.0.0");
	T_EQ(rp_wire_frame_encode_msg(out, &m, &h.base), 0);
}

static void
admin_frame(struct rp_buf *out, uint32_t verb, const char *svc,
    const char *path)
{
	struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_ADMIN, 41, 0, NULL,
		NULL };
	Rp__AdminRequest q = RP__ADMIN_REQUEST__INIT;

	q.verb = (Rp__AdminVerb)verb;
	q.json = 1;
	q.service_name = W(svc);
	q.output_path = W(path);
	q.drain_deadline_ms = 2500;
	T_EQ(rp_wire_frame_encode_msg(out, &m, &q.base), 0);
}

static void
test_hello_every_cut(void)
{
	struct rp_buf b = { 0 };
	struct rp_framescan s;
	const uint8_t *body;
	size_t n, cut;

	hello_frame(&b, 77);
	body = b.data + RP_FRAME_HEADER;
	n = b.len - RP_FRAME_HEADER;
	for (cut = 0; cut <= n + 1; cut++) {
		if (cut <= n)
			scan_cut(&s, body, n, cut);
		else
			scan_bytes(&s, body, n);
		T_OK(rp_framescan_frame_ok(&s));
		T_UEQ(s.envelope_version, 1);
		T_UEQ(s.kind, RP_KIND_REQUEST);
		T_UEQ(s.payload_protocol, RP_PP_CONTROL);
		T_UEQ(s.request_id, 77);
		T_UEQ(s.payload_encoding, 0);
		T_UEQ(s.deadline_unix_ms, 1764000000123ull);
		T_STR(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT), tp);
		T_STR(rp_framescan_text(&s, RP_FRAMESCAN_TRACESTATE), "k=v");
		rp_framescan_free(&s);
	}
	rp_buf_free(&b);
}

static void
test_admin(void)
{
	struct rp_buf b = { 0 };
	struct rp_framescan s;
	Rp__AdminRequest *q;
	Rp__Frame *f;
	size_t n, cut;

	admin_frame(&b, RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH, "echo",
	    "/tmp/d.json");
	n = b.len - RP_FRAME_HEADER;
	for (cut = 0; cut <= n; cut++) {
		scan_cut(&s, b.data + RP_FRAME_HEADER, n, cut);
		T_OK(rp_framescan_admin_ok(&s));
		T_UEQ(s.verb, RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH);
		T_EQ(s.json, 1);
		T_UEQ(s.drain_deadline_ms, 2500);
		T_STR(rp_framescan_text(&s, RP_FRAMESCAN_SERVICE_NAME), "echo");
		T_STR(rp_framescan_text(&s, RP_FRAMESCAN_OUTPUT_PATH),
		    "/tmp/d.json");
		/* The trace context was not there: empty, not dropped. */
		T_STR(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT), "");
		rp_framescan_free(&s);
	}
	/* Rebuilt: the same frame fields, the same request. */
	scan_cut(&s, b.data + RP_FRAME_HEADER, n, n / 2);
	f = rp_framescan_frame(&s);
	T_OK(f != NULL);
	if (f != NULL) {
		T_UEQ(f->request_id, 41);
		T_UEQ(f->payload_protocol, RP_PP_ADMIN);
		T_STR(f->traceparent, "");
		q = rp_wire_unpack(&rp__admin_request__descriptor,
		    f->payload.data, f->payload.len);
		T_OK(q != NULL);
		if (q != NULL) {
			T_EQ(q->verb, RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH);
			T_STR(q->service_name, "echo");
			T_STR(q->output_path, "/tmp/d.json");
			T_UEQ(q->drain_deadline_ms, 2500);
		}
		rp_wire_free(q);
	}
	rp_wire_free(f);
	rp_framescan_free(&s);
	/* A Hello's payload is no AdminRequest (its field 5 is a string
	 * where drain_deadline_ms is a number): the frame is fine, the
	 * rebuilt one has no payload. */
	rp_buf_clear(&b);
	{
		struct rp_frame_meta m = { RP_KIND_REQUEST, RP_PP_CONTROL, 1,
			0, NULL, NULL };
		Rp__Hello h = RP__HELLO__INIT;

		h.client_version = W("cli/1");
		T_EQ(rp_wire_frame_encode_msg(&b, &m, &h.base), 0);
	}
	scan_cut(&s, b.data + RP_FRAME_HEADER, b.len - RP_FRAME_HEADER, 3);
	T_OK(rp_framescan_frame_ok(&s));
	T_OK(!rp_framescan_admin_ok(&s));
	f = rp_framescan_frame(&s);
	T_OK(f != NULL && f->payload.len == 0);
	rp_wire_free(f);
	rp_framescan_free(&s);
	rp_buf_free(&b);
}

/* The last occurrence of a field wins; a payload is replaced whole;
 * unknown fields of every wire type are skipped. */
static void
test_last_wins(void)
{
	static const uint8_t body[] = {
		0x28, 0x05,                             /* request_id 5 */
		0x42, 0x03, 'a', 'b', 'c',              /* traceparent "abc" */
		0x22, 0x06, 0x08, 0x02, 0x1a, 0x02, 's', '1', /* payload: DUMP, "s1" */
		0x50, 0x01,                             /* 10: varint */
		0x59, 1, 2, 3, 4, 5, 6, 7, 8,           /* 11: fixed64 */
		0x62, 0x02, 0xff, 0xfe,                 /* 12: bytes */
		0x6d, 1, 2, 3, 4,                       /* 13: fixed32 */
		0x28, 0x80, 0x01,                       /* request_id 128 */
		0x42, 0x01, 'z',                        /* traceparent "z" */
		0x22, 0x02, 0x08, 0x04,                 /* payload: HEALTHZ */
		0x18, 0x81, 0xda, 0x02,                 /* protocol 0xAD01 */
		0x08, 0x01,                             /* envelope 1 */
	};
	struct rp_framescan s;

	T_OK(verdict(body, sizeof(body), 1));
	scan_cut(&s, body, sizeof(body), 10);
	T_UEQ(s.request_id, 128);
	T_UEQ(s.payload_protocol, RP_PP_ADMIN);
	T_STR(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT), "z");
	T_OK(rp_framescan_admin_ok(&s));
	T_UEQ(s.verb, RP__ADMIN_VERB__ADMIN_VERB_HEALTHZ);
	/* "s1" went with the first payload. */
	T_STR(rp_framescan_text(&s, RP_FRAMESCAN_SERVICE_NAME), "");
	rp_framescan_free(&s);
}

/* Encodings a decoder must refuse, and some it must take; each verdict
 * is also rp_wire_unpack's. */
static void
test_hostile(void)
{
	static const struct {
		const char *what;
		const char *p;
		size_t n;
		int ok;
	} cases[] = {
		{ "empty", "", 0, 1 },
		{ "varint of 10 bytes", "\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11, 1 },
		{ "varint of 11 bytes", "\x28\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12, 0 },
		{ "key of 5 bytes", "\xf8\xff\xff\xff\x0f\x00", 6, 1 },
		{ "key of 6 bytes", "\xf8\xff\xff\xff\xff\x00\x00", 7, 0 },
		{ "field 0", "\x00\x01", 2, 0 },
		{ "field 0 in two bytes", "\x80\x00\x01", 3, 0 },
		{ "field 16 in two bytes", "\x80\x01\x01", 3, 1 },
		{ "start group", "\x53\x54", 2, 0 },
		{ "end group", "\x54", 1, 0 },
		{ "wire type 6", "\x56\x00", 2, 0 },
		{ "wire type 7", "\x57\x00", 2, 0 },
		{ "length past the end", "\x22\x05\x61\x62\x63", 5, 0 },
		{ "length prefix of 5 bytes", "\x22\x81\x80\x80\x80\x00x", 7, 1 },
		{ "length prefix of 6 bytes", "\x22\x81\x80\x80\x80\x80\x00x", 8, 0 },
		{ "length over 2 GiB", "\x22\xff\xff\xff\xff\x0f", 6, 0 },
		{ "request_id as bytes", "\x2a\x01\x05", 3, 0 },
		{ "kind as fixed32", "\x15\x01\x00\x00\x00", 5, 0 },
		{ "traceparent as a varint", "\x40\x05", 2, 0 },
		{ "payload as fixed64", "\x21\x01\x02\x03\x04\x05\x06\x07\x08", 9, 0 },
		{ "traceparent not UTF-8", "\x42\x02\x61\xff", 4, 0 },
		{ "tracestate with a NUL", "\x4a\x02\x61\x00", 4, 0 },
		{ "traceparent overlong", "\x42\x02\xc0\xaf", 4, 0 },
		{ "traceparent cut in a character", "\x42\x02\x61\xe2", 4, 0 },
		{ "payload not an AdminRequest", "\x22\x01\xff", 3, 1 },
		{ "cut in a key", "\x08\x01\x80", 3, 0 },
		{ "cut in a varint", "\x28\x80", 2, 0 },
		{ "cut in a fixed64", "\x59\x01\x02", 3, 0 },
		{ "cut in a length", "\x22\x80", 2, 0 },
		{ "unknown bytes", "\x7a\x03\xff\x00\xfe", 5, 1 },
		{ "kind 2^32 + 1 (the low 32 bits)", "\x10\x81\x80\x80\x80\x10", 6, 1 },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		if (!verdict((const uint8_t *)cases[i].p, cases[i].n,
		    cases[i].ok))
			t_fail(__FILE__, __LINE__, "%s: not %s everywhere",
			    cases[i].what, cases[i].ok ? "a Frame" :
			    "malformed");
	}
}

/* The AdminRequest in the payload follows the same rules: a bad one is
 * no admin request, the frame still is one. */
static void
test_admin_hostile(void)
{
	static const struct {
		const char *p;
		size_t n;
		int ok;
	} cases[] = {
		{ "\x22\x02\x10\x01", 4, 1 },                   /* json true */
		{ "\x22\x05\x15\x01\x00\x00\x00", 7, 0 },       /* json fixed32 */
		{ "\x22\x03\x12\x01\x01", 5, 0 },               /* json bytes */
		{ "\x22\x03\x1a\x01\xff", 5, 0 },               /* name not UTF-8 */
		{ "\x22\x02\x08\x80", 4, 0 },                   /* cut varint */
		{ "\x22\x02\x1a\x05", 4, 0 },                   /* len past end */
		{ "\x22\x01\x53", 3, 0 },                       /* group */
		{ "\x22\x00", 2, 1 },                           /* empty */
	};
	struct rp_framescan s;
	struct rp_wire_alloc a;
	Rp__AdminRequest *q;
	size_t i, cut;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const uint8_t *p = (const uint8_t *)cases[i].p;

		rp_wire_alloc_init(&a, SIZE_MAX);
		q = rp_wire_unpack_with(&rp__admin_request__descriptor, p + 2,
		    cases[i].n - 2, &a);
		T_EQ(q != NULL, cases[i].ok);
		rp_wire_free(q);
		for (cut = 0; cut <= cases[i].n; cut++) {
			scan_cut(&s, p, cases[i].n, cut);
			T_OK(rp_framescan_frame_ok(&s));
			T_EQ(rp_framescan_admin_ok(&s), cases[i].ok);
			rp_framescan_free(&s);
		}
	}
}

/* A key byte and the length prefix of len. */
static void
put_key_len(struct rp_buf *b, uint8_t key, size_t len)
{
	uint8_t v[6];
	size_t n = 0;

	v[n++] = key;
	do {
		v[n++] = (uint8_t)((len & 0x7f) | (len > 0x7f ? 0x80 : 0));
		len >>= 7;
	} while (len > 0);
	T_EQ(rp_buf_append(b, v, n), 0);
}

/* A string field of len bytes of 'x' with key byte key. */
static void
put_text(struct rp_buf *b, uint8_t key, size_t len)
{
	put_key_len(b, key, len);
	while (len-- > 0)
		T_EQ(rp_buf_append(b, "x", 1), 0);
}

/* Text is kept up to the cap, per group; past it, that field alone is
 * dropped and said to be. */
static void
test_caps(void)
{
	struct rp_buf b = { 0 }, pl = { 0 };
	struct rp_framescan s;
	Rp__Frame *f;

	/* One trace field over the cap. */
	put_text(&b, 0x42, RP_FRAMESCAN_KEEP + 1);
	put_text(&b, 0x4a, 3);
	scan_cut(&s, b.data, b.len, 1000);
	T_OK(rp_framescan_frame_ok(&s));
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT) == NULL);
	T_STR(rp_framescan_text(&s, RP_FRAMESCAN_TRACESTATE), "xxx");
	f = rp_framescan_frame(&s);
	T_OK(f != NULL && strcmp(f->traceparent, "") == 0 &&
	    strcmp(f->tracestate, "xxx") == 0);
	rp_wire_free(f);
	rp_framescan_free(&s);
	/* Together over it: the one that came second goes; exactly at it,
	 * both stay. */
	rp_buf_clear(&b);
	put_text(&b, 0x42, RP_FRAMESCAN_KEEP / 2);
	put_text(&b, 0x4a, RP_FRAMESCAN_KEEP / 2 + 1);
	scan_cut(&s, b.data, b.len, b.len);
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT) != NULL);
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACESTATE) == NULL);
	rp_framescan_free(&s);
	rp_buf_clear(&b);
	put_text(&b, 0x42, RP_FRAMESCAN_KEEP / 2);
	put_text(&b, 0x4a, RP_FRAMESCAN_KEEP / 2);
	scan_cut(&s, b.data, b.len, 7);
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACESTATE) != NULL);
	rp_framescan_free(&s);
	/* A later, smaller occurrence frees what the earlier one held. */
	put_text(&b, 0x42, 1);
	put_text(&b, 0x4a, RP_FRAMESCAN_KEEP - 1);
	scan_cut(&s, b.data, b.len, 0);
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT) != NULL);
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACESTATE) != NULL);
	rp_framescan_free(&s);
	/* An admin request with a string over its own cap is not served;
	 * the trace context has a cap of its own. */
	rp_buf_clear(&b);
	put_text(&pl, 0x1a, RP_FRAMESCAN_KEEP + 1);
	T_EQ(rp_buf_append(&b, "\x18\x81\xda\x02", 4), 0);
	put_text(&b, 0x42, RP_FRAMESCAN_KEEP);
	put_key_len(&b, 0x22, pl.len);
	T_EQ(rp_buf_append(&b, pl.data, pl.len), 0);
	scan_cut(&s, b.data, b.len, 70000);
	T_OK(rp_framescan_frame_ok(&s));
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_TRACEPARENT) != NULL);
	T_OK(!rp_framescan_admin_ok(&s));
	T_OK(rp_framescan_text(&s, RP_FRAMESCAN_SERVICE_NAME) == NULL);
	rp_framescan_free(&s);
	rp_buf_free(&pl);
	rp_buf_free(&b);
}

/* A body of n bytes: a payload of zeros (no AdminRequest: a zero byte
 * is field 0), then `tail` bytes of t; fed in 64 KiB pieces. */
static void
scan_zero_payload(struct rp_framescan *s, size_t n, const uint8_t *t,
    size_t tail)
{
	static uint8_t zeros[65536];
	size_t plen = n - 5 - tail, left;
	uint8_t head[5];

	head[0] = 0x22;
	head[1] = (uint8_t)(0x80 | (plen & 0x7f));
	head[2] = (uint8_t)(0x80 | ((plen >> 7) & 0x7f));
	head[3] = (uint8_t)(0x80 | ((plen >> 14) & 0x7f));
	head[4] = (uint8_t)(plen >> 21);
	rp_framescan_init(s, (uint32_t)n);
	T_UEQ(rp_framescan_feed(s, head, 5), 5);
	for (left = plen; left > 0; left -= left < sizeof(zeros) ? left :
	    sizeof(zeros))
		T_UEQ(rp_framescan_feed(s, zeros, left < sizeof(zeros) ? left :
		    sizeof(zeros)), left < sizeof(zeros) ? left : sizeof(zeros));
	T_UEQ(rp_framescan_feed(s, t, tail), tail);
	T_UEQ(rp_framescan_left(s), 0);
}

/* 16 MiB, the most a frame may be: read with nothing of it kept. */
static void
test_max_body(void)
{
	static const uint8_t rid[] = { 0x28, 0x09 };
	struct rp_framescan s;

	scan_zero_payload(&s, RP_FRAME_MAX, rid, 2);
	T_OK(rp_framescan_frame_ok(&s));
	T_OK(!rp_framescan_admin_ok(&s));
	T_UEQ(s.request_id, 9);
	T_UEQ(s.kept[0] + s.kept[1], 0);
	rp_framescan_free(&s);
	/* The same cut after the key of request_id: malformed, found only
	 * at the very end. */
	scan_zero_payload(&s, RP_FRAME_MAX, rid, 1);
	T_OK(!rp_framescan_frame_ok(&s));
	rp_framescan_free(&s);
}

/* Feeding past the end takes nothing; a body not all read is not
 * judged a Frame yet. */
static void
test_edges(void)
{
	static const uint8_t body[] = { 0x08, 0x01, 0x28, 0x07 };
	struct rp_framescan s;

	rp_framescan_init(&s, 2);
	T_UEQ(rp_framescan_feed(&s, body, 4), 2);
	T_UEQ(rp_framescan_left(&s), 0);
	T_OK(rp_framescan_frame_ok(&s));
	T_UEQ(rp_framescan_feed(&s, body + 2, 2), 0);
	rp_framescan_free(&s);
	rp_framescan_init(&s, 4);
	T_UEQ(rp_framescan_feed(&s, body, 2), 2);
	T_OK(!rp_framescan_frame_ok(&s));
	errno = 0;
	T_OK(rp_framescan_frame(&s) == NULL);
	T_EQ(errno, EINVAL);
	rp_framescan_free(&s);
	/* Reused after free. */
	rp_framescan_init(&s, 4);
	T_UEQ(rp_framescan_feed(&s, body, 4), 4);
	T_OK(rp_framescan_frame_ok(&s));
	T_UEQ(s.request_id, 7);
	rp_framescan_free(&s);
}

int
main(void)
{
	T_RUN(test_hello_every_cut);
	T_RUN(test_admin);
	T_RUN(test_last_wins);
	T_RUN(test_hostile);
	T_RUN(test_admin_hostile);
	T_RUN(test_caps);
	T_RUN(test_max_body);
	T_RUN(test_edges);
	return t_done();
}
