/*
 * fuzz_framescan — the streaming Frame scanner against the decoder the
 * broker uses for small frames (rp_wire_unpack, with no budget): the same
 * verdict on every body, the same fields, the same payload read as an
 * AdminRequest, however the body is cut into pieces; and the Frame it
 * rebuilds says the same again.
 *
 * Input: [split seed][body...].
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "framescan.h"
#include "wire.h"

/* Cut into pieces whose sizes come from the seed (0: whole, 1: a byte at
 * a time). */
static void
scan(struct rp_framescan *s, const uint8_t *p, size_t n, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 7;
	size_t off = 0, give, took;

	rp_framescan_init(s, (uint32_t)n);
	while (off < n) {
		give = n - off;
		if (seed == 1) {
			give = 1;
		} else if (seed != 0) {
			x = x * 1103515245u + 12345u;
			if ((x >> 16) % 4 != 0 && give > 1 + (x >> 8) % 9)
				give = 1 + (x >> 8) % 9;
			else if (give > 1 + (x >> 4) % 3000)
				give = 1 + (x >> 4) % 3000;
		}
		took = rp_framescan_feed(s, p + off, give);
		CHECK(took == give);
		off += took;
		CHECK(rp_framescan_left(s) == n - off);
	}
	/* Past the end nothing is taken. */
	CHECK(rp_framescan_feed(s, p, n > 0 ? 1 : 0) == 0);
}

/* The body's size: text is dropped only when it has more than the cap
 * (kept bytes and the dropped string are all bytes of the body). */
static size_t body_size;

static void
same_text(const struct rp_framescan *s, enum rp_framescan_text t,
    const char *want)
{
	const char *got = rp_framescan_text(s, t);

	if (got == NULL) {
		CHECK(body_size > RP_FRAMESCAN_KEEP);
		return;
	}
	CHECK(strcmp(got, want) == 0);
}

static void
same_admin(const struct rp_framescan *s, const Rp__AdminRequest *q)
{
	CHECK(s->verb == (uint32_t)q->verb);
	CHECK(!s->json == !q->json);
	CHECK(s->drain_deadline_ms == q->drain_deadline_ms);
	same_text(s, RP_FRAMESCAN_SERVICE_NAME, q->service_name);
	same_text(s, RP_FRAMESCAN_OUTPUT_PATH, q->output_path);
}

static void
check_one(const struct rp_framescan *s, const Rp__Frame *ref,
    const Rp__AdminRequest *refq)
{
	Rp__AdminRequest *q2;
	Rp__Frame *f2;

	CHECK(rp_framescan_frame_ok(s) == (ref != NULL));
	if (ref == NULL) {
		CHECK(!rp_framescan_admin_ok(s));
		CHECK(rp_framescan_frame(s) == NULL);
		return;
	}
	CHECK(s->envelope_version == ref->envelope_version);
	CHECK(s->kind == (uint32_t)ref->kind);
	CHECK(s->payload_protocol == ref->payload_protocol);
	CHECK(s->request_id == ref->request_id);
	CHECK(s->payload_encoding == (uint32_t)ref->payload_encoding);
	CHECK(s->deadline_unix_ms == ref->deadline_unix_ms);
	same_text(s, RP_FRAMESCAN_TRACEPARENT, ref->traceparent);
	same_text(s, RP_FRAMESCAN_TRACESTATE, ref->tracestate);
	if (rp_framescan_admin_ok(s)) {
		CHECK(refq != NULL);
		same_admin(s, refq);
	} else {
		/* Not an AdminRequest, or one whose strings were dropped. */
		CHECK(refq == NULL || body_size > RP_FRAMESCAN_KEEP);
	}
	/* The Frame rebuilt carries the same, and the same request. */
	f2 = rp_framescan_frame(s);
	CHECK(f2 != NULL);
	CHECK(f2->request_id == ref->request_id &&
	    f2->payload_protocol == ref->payload_protocol &&
	    f2->envelope_version == ref->envelope_version &&
	    f2->kind == ref->kind);
	if (rp_framescan_admin_ok(s)) {
		q2 = rp_wire_unpack(&rp__admin_request__descriptor,
		    f2->payload.data, f2->payload.len);
		CHECK(q2 != NULL);
		same_admin(s, q2);
		rp_wire_free(q2);
	} else {
		CHECK(f2->payload.len == 0);
	}
	rp_wire_free(f2);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct rp_framescan s[3];
	struct rp_wire_alloc a;
	Rp__AdminRequest *refq = NULL;
	Rp__Frame *ref;
	unsigned i, seeds[3];

	if (size < 1 || size - 1 > RP_FRAME_MAX)
		return 0;
	seeds[0] = 0;
	seeds[1] = 2u + data[0];
	seeds[2] = size <= 4097 ? 1 : 3u + data[0];
	data++;
	size--;
	body_size = size;
	rp_wire_alloc_init(&a, SIZE_MAX);
	ref = rp_wire_unpack_with(&rp__frame__descriptor, data, size, &a);
	if (ref != NULL) {
		rp_wire_alloc_init(&a, SIZE_MAX);
		refq = rp_wire_unpack_with(&rp__admin_request__descriptor,
		    ref->payload.data, ref->payload.len, &a);
	}
	for (i = 0; i < 3; i++) {
		scan(&s[i], data, size, seeds[i]);
		check_one(&s[i], ref, refq);
	}
	/* All three saw the same. */
	CHECK(rp_framescan_admin_ok(&s[0]) == rp_framescan_admin_ok(&s[1]) &&
	    rp_framescan_admin_ok(&s[1]) == rp_framescan_admin_ok(&s[2]));
	for (i = 0; i < 3; i++)
		rp_framescan_free(&s[i]);
	rp_wire_free(refq);
	rp_wire_free(ref);
	return 0;
}
