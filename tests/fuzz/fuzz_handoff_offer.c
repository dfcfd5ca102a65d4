/*
 * fuzz_handoff_offer — the handoff receiver's and sender's parsers: a
 * HandoffOffer frame and a HandoffAck frame (RESPONSE to the sender, EVENT
 * to the client).  Whatever parses must re-encode and parse back to the
 * same fields.
 *
 * Input: one frame body.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "frame.h"
#include "wire.h"

static int
same_bytes(const ProtobufCBinaryData *a, const ProtobufCBinaryData *b)
{
	return a->len == b->len && (a->len == 0 ||
	    memcmp(a->data, b->data, a->len) == 0);
}

static void
offer(const uint8_t *data, size_t size, const Rp__Frame *f)
{
	struct rp_buf out = { 0 };
	Rp__HandoffOffer *o, *o2;
	const char *why = NULL;

	o = rp_wire_offer_parse(data, size, &why);
	if (o == NULL) {
		CHECK(why != NULL && why[0] != '\0');
		CHECK(errno == EPROTO || errno == EMSGSIZE || errno == ENOMEM);
		return;
	}
	/* It parsed, so it was a v1 REQUEST on 0xD0FF whose offer names
	 * the frame's request_id. */
	CHECK(f != NULL && f->request_id == o->correlation_id);
	CHECK(f->kind == RP__FRAME_KIND__FRAME_KIND_REQUEST);
	CHECK(rp_wire_offer_encode(&out, o->token.data, o->token.len,
	    o->service_name, o->correlation_id, o->handle_value) == 0);
	o2 = rp_wire_offer_parse(out.data + RP_FRAME_HEADER,
	    out.len - RP_FRAME_HEADER, &why);
	CHECK(o2 != NULL);
	CHECK(same_bytes(&o->token, &o2->token));
	CHECK(strcmp(o->service_name, o2->service_name) == 0);
	CHECK(o->correlation_id == o2->correlation_id);
	CHECK(o->handle_value == o2->handle_value);
	rp_wire_free(o2);
	rp_wire_free(o);
	rp_buf_free(&out);
}

static void
ack(const uint8_t *data, size_t size, uint32_t kind, uint64_t rid)
{
	struct rp_buf out = { 0 };
	Rp__HandoffAck *a, *a2;
	const char *why = NULL;
	size_t dlen;

	a = rp_wire_ack_parse(data, size, kind, 1, rid, &why);
	if (a == NULL) {
		CHECK(why != NULL && why[0] != '\0');
		return;
	}
	CHECK(rp_wire_ack_encode(&out, kind, rid, a->token.data, a->token.len,
	    a->accepted, a->error_detail, a->correlation_id) == 0);
	a2 = rp_wire_ack_parse(out.data + RP_FRAME_HEADER,
	    out.len - RP_FRAME_HEADER, kind, 1, rid, &why);
	CHECK(a2 != NULL);
	CHECK(same_bytes(&a->token, &a2->token));
	CHECK(!a->accepted == !a2->accepted);
	CHECK(a->correlation_id == a2->correlation_id);
	/* The detail is free text, kept up to RP_WIRE_DETAIL_MAX bytes. */
	dlen = strlen(a2->error_detail);
	CHECK(dlen <= RP_WIRE_DETAIL_MAX);
	CHECK(strncmp(a->error_detail, a2->error_detail, dlen) == 0);
	if (strlen(a->error_detail) <= RP_WIRE_DETAIL_MAX)
		CHECK(strcmp(a->error_detail, a2->error_detail) == 0);
	rp_wire_free(a2);
	rp_wire_free(a);
	rp_buf_free(&out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	Rp__Frame *f;
	uint64_t rid;

	f = rp_wire_unpack(&rp__frame__descriptor, data, size);
	offer(data, size, f);
	rid = f != NULL ? f->request_id : 0;
	/* The expected request_id, and one that never matches. */
	ack(data, size, RP_KIND_RESPONSE, rid);
	ack(data, size, RP_KIND_EVENT, rid);
	CHECK(rp_wire_ack_parse(data, size, RP_KIND_EVENT, 1, rid + 1,
	    &(const char *){ NULL }) == NULL);
	rp_wire_free(f);
	return 0;
}
