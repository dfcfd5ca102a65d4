/*
 * The decoding budget against hostile bodies at the Hello cap (64 KiB) made
 * of empty repeated submessages and scalars: a wrapping allocator records
 * the peak of live bytes and every request, and shows that our decoder
 * stays within rp_wire_budget(len) while protobuf-c's default allocator
 * needs many times that for the same input.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "wire.h"
#include "t.h"

#define W(s) ((char *)(uintptr_t)(s))

/* ------------------------------------------------- the watching wrapper */

/* Open addressing, pointer -> size; large enough for every allocation a
 * 64 KiB body can cause under the default allocator (~33k live blocks). */
#define SLOTS (1u << 18)

struct watch {
	ProtobufCAllocator base;           /* handed to protobuf-c */
	const ProtobufCAllocator *inner;   /* does the real work */
	size_t live, peak, requested, calls, refused;
	void **key;
	size_t *size;
};

static size_t
slot_of(const struct watch *w, const void *p)
{
	size_t h = ((uintptr_t)p >> 4) * 0x9e3779b97f4a7c15ull;
	size_t i = h & (SLOTS - 1);

	while (w->key[i] != NULL && w->key[i] != p)
		i = (i + 1) & (SLOTS - 1);
	return i;
}

static void *
watch_alloc(void *data, size_t size)
{
	struct watch *w = data;
	void *p = w->inner->alloc(w->inner->allocator_data, size);

	w->calls++;
	if (p == NULL) {
		w->refused++;
		return NULL;
	}
	w->requested += size;
	w->live += size;
	if (w->live > w->peak)
		w->peak = w->live;
	{
		size_t i = slot_of(w, p);

		w->key[i] = p;
		w->size[i] = size;
	}
	return p;
}

/* Deletion by backward shift keeps probe chains intact. */
static void
watch_forget(struct watch *w, size_t i)
{
	size_t j = i, k;

	w->key[i] = NULL;
	for (;;) {
		j = (j + 1) & (SLOTS - 1);
		if (w->key[j] == NULL)
			return;
		k = (((uintptr_t)w->key[j] >> 4) * 0x9e3779b97f4a7c15ull) &
		    (SLOTS - 1);
		if ((j > i && (k <= i || k > j)) || (j < i && k <= i && k > j)) {
			w->key[i] = w->key[j];
			w->size[i] = w->size[j];
			w->key[j] = NULL;
			i = j;
		}
	}
}

static void
watch_free(void *data, void *p)
{
	struct watch *w = data;
	size_t i;

	if (p == NULL)
		return;
	i = slot_of(w, p);
	if (w->key[i] == p) {
		w->live -= w->size[i];
		watch_forget(w, i);
	} else {
		t_fail(__FILE__, __LINE__, "free of an unknown block");
	}
	w->inner->free(w->inner->allocator_data, p);
}

static void
system_free(void *data, void *p)
{
	(void)data;
	free(p);
}

static void *
system_alloc(void *data, size_t size)
{
	(void)data;
	return malloc(size);
}

/* What protobuf-c uses when given no allocator. */
static ProtobufCAllocator default_alloc = { system_alloc, system_free, NULL };

static void
watch_init(struct watch *w, const ProtobufCAllocator *inner)
{
	memset(w, 0, sizeof(*w));
	w->base.alloc = watch_alloc;
	w->base.free = watch_free;
	w->base.allocator_data = w;
	w->inner = inner;
	w->key = calloc(SLOTS, sizeof(*w->key));
	w->size = calloc(SLOTS, sizeof(*w->size));
	if (w->key == NULL || w->size == NULL)
		t_fail(__FILE__, __LINE__, "calloc");
}

static void
watch_done(struct watch *w)
{
	free(w->key);
	free(w->size);
}

/* ------------------------------------------------------ hostile bodies */

/* A varint, appended. */
static void
put_varint(struct rp_buf *b, uint64_t v)
{
	uint8_t c;

	do {
		c = (uint8_t)(v & 0x7f);
		v >>= 7;
		if (v)
			c |= 0x80;
		rp_buf_append(b, &c, 1);
	} while (v);
}

static size_t
varint_len(uint64_t v)
{
	size_t n = 1;

	while (v >>= 7)
		n++;
	return n;
}

/* pairs x `tag 00` (an empty length-delimited field) wrapped in `outer`
 * (the oneof field of HelloReply), sized so that the Frame that carries it
 * is exactly `body` bytes.  Returns the payload (HelloReply) in *payload
 * and the whole Frame body in *frame. */
static void
hostile_reply(uint8_t outer, uint8_t tag, size_t body, struct rp_buf *payload,
    struct rp_buf *frame)
{
	/* Frame = 08 01 | 10 01 | 22 varint(P) P, so P = body - 5 - |P|. */
	size_t plen = body - 4 - 1 - 3, inner, n;
	Rp__Frame f = RP__FRAME__INIT;

	/* HelloReply = outer varint(L) L; L even (pairs of bytes). */
	inner = plen - 1 - 3;
	T_EQ(varint_len(plen), 3);
	T_EQ(varint_len(inner), 3);
	T_EQ(inner % 2, 0);
	rp_buf_clear(payload);
	rp_buf_append(payload, &outer, 1);
	put_varint(payload, inner);
	for (n = 0; n < inner / 2; n++) {
		rp_buf_append(payload, &tag, 1);
		rp_buf_append(payload, "", 1);
	}
	T_EQ(payload->len, plen);
	f.envelope_version = 1;
	f.kind = RP__FRAME_KIND__FRAME_KIND_RESPONSE;
	f.payload.data = payload->data;
	f.payload.len = payload->len;
	rp_buf_clear(frame);
	T_EQ(rp_wire_pack(frame, &f.base), 0);
	T_EQ(frame->len, body);
}

/*
 * The whole path for one hostile reply: the frame decoder takes it at
 * exactly the cap, the Frame decodes, and the payload is refused with
 * EMSGSIZE while the watched peak stays within the budget.  Then the same
 * payload under protobuf-c's default allocator: it decodes, and needs
 * more than `factor` times the input at its peak.
 */
static void
hostile_case(const char *what, uint8_t outer, uint8_t tag, unsigned factor)
{
	struct rp_buf payload = { 0 }, frame = { 0 }, wire = { 0 };
	struct rp_frame_decoder d;
	struct rp_wire_alloc a;
	ProtobufCAllocator orig;
	struct watch w;
	uint8_t hdr[RP_FRAME_HEADER], *body;
	const char *why = NULL;
	size_t used, len, budget;
	Rp__HelloReply *r;
	Rp__Frame *f;

	hostile_reply(outer, tag, RP_FRAME_HELLO_MAX, &payload, &frame);
	rp_frame_header(hdr, (uint32_t)frame.len);
	rp_buf_append(&wire, hdr, sizeof(hdr));
	rp_buf_append(&wire, frame.data, frame.len);

	/* 1. Framing: len == cap is a frame. */
	rp_frame_decoder_init(&d, RP_FRAME_HELLO_MAX);
	T_EQ(rp_frame_decoder_feed(&d, wire.data, wire.len, &used), RP_FRAME_OK);
	body = rp_frame_decoder_take(&d, &len);
	T_EQ(len, RP_FRAME_HELLO_MAX);

	/* 2. The Frame itself is cheap and decodes. */
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_CONTROL, 0, 0,
	    &why);
	T_OK(f != NULL);
	free(body);
	if (f == NULL)
		goto out;
	T_EQ(f->payload.len, payload.len);

	/* 3. The payload under the budget, watched. */
	budget = rp_wire_budget(f->payload.len);
	rp_wire_alloc_init(&a, budget);
	orig = a.base;
	watch_init(&w, &orig);
	a.base = w.base;           /* protobuf-c now calls the watcher */
	errno = 0;
	r = rp_wire_unpack_with(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len, &a);
	T_OK(r == NULL);
	T_EQ(errno, EMSGSIZE);
	T_EQ(a.over, 1);
	T_OK(w.refused >= 1);
	T_OK(w.peak <= budget);
	T_OK(w.requested <= budget);
	T_OK(a.total <= budget);
	T_EQ(w.live, 0);           /* everything it took was given back */
	printf("# %s: %zu-byte payload, budget %zu: refused, peak %zu, "
	    "total %zu\n", what, f->payload.len, budget, w.peak, w.requested);
	rp_wire_free(r);
	watch_done(&w);
	/* The plain entry point agrees. */
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello_reply__descriptor, f->payload.data,
	    f->payload.len) == NULL);
	T_EQ(errno, EMSGSIZE);

	/* 4. For contrast, protobuf-c's default allocator on the same
	 * bytes: it succeeds, and its peak is far above the budget. */
	watch_init(&w, &default_alloc);
	r = (Rp__HelloReply *)protobuf_c_message_unpack(
	    &rp__hello_reply__descriptor, &w.base, f->payload.len,
	    f->payload.data);
	T_OK(r != NULL);
	T_OK(w.peak > (size_t)factor * f->payload.len);
	T_OK(w.peak > budget);
	printf("# %s: default allocator peak %zu = %.1fx the input "
	    "(budget %.1fx)\n", what, w.peak,
	    (double)w.peak / (double)f->payload.len,
	    (double)budget / (double)f->payload.len);
	if (r != NULL)
		protobuf_c_message_free_unpacked(&r->base, &w.base);
	T_EQ(w.live, 0);
	watch_done(&w);
	rp_wire_free(f);
out:
	rp_buf_free(&payload);
	rp_buf_free(&frame);
	rp_buf_free(&wire);
}

static void
test_hostile_negotiated_warnings(void)
{
	/* HelloReply.negotiated (1) { warnings (4): "" x 32762 } */
	hostile_case("negotiated warnings", 0x0a, 0x22, 16);
}

static void
test_hostile_refused_details(void)
{
	/* HelloReply.refused (2) { details (5): {} x 32762 } */
	hostile_case("refused details", 0x12, 0x2a, 32);
}

/*
 * Decode body as desc under its budget with a watcher on every
 * allocation: returns the message (NULL with errno when refused) and the
 * peak of live bytes in *peak.
 */
static void *
watched_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *p,
    size_t n, size_t *peak)
{
	struct rp_wire_alloc a;
	ProtobufCAllocator orig;
	struct watch w;
	void *m;

	rp_wire_alloc_init(&a, rp_wire_budget(n));
	orig = a.base;
	watch_init(&w, &orig);
	a.base = w.base;
	m = rp_wire_unpack_with(desc, p, n, &a);
	*peak = w.peak;
	if (m != NULL)
		protobuf_c_message_free_unpacked(m, &w.base);
	T_EQ(w.live, 0);
	watch_done(&w);
	return m == NULL ? NULL : rp_wire_unpack(desc, p, n);
}

static void
test_hostile_frame_scalars(void)
{
	/* A Frame of 32768 repeated envelope_version fields: protobuf-c
	 * spends a 32-byte scan record on each (32x the input under the
	 * default allocator), yet it is a valid Frame: the last one wins,
	 * as in prost.  Only the last is decoded, in a few hundred bytes. */
	struct rp_buf b = { 0 };
	struct watch w;
	Rp__Frame *f;
	size_t i, peak;

	for (i = 0; i < RP_FRAME_HELLO_MAX / 2 - 1; i++)
		rp_buf_append(&b, "\x08\x07", 2);
	rp_buf_append(&b, "\x08\x01", 2);
	T_EQ(b.len, RP_FRAME_HELLO_MAX);
	f = watched_unpack(&rp__frame__descriptor, b.data, b.len, &peak);
	T_OK(f != NULL && f->envelope_version == 1);
	T_OK(peak < 1024);
	rp_wire_free(f);
	T_EQ(rp_wire_request_parse(b.data, b.len, &f), 0);
	T_OK(f != NULL && f->envelope_version == 1);
	rp_wire_free(f);
	watch_init(&w, &default_alloc);
	f = (Rp__Frame *)protobuf_c_message_unpack(&rp__frame__descriptor,
	    &w.base, b.len, b.data);
	T_OK(f != NULL && f->envelope_version == 1);
	T_OK(w.peak > 16 * b.len);
	printf("# repeated scalars: peak %zu; default allocator peak %zu = "
	    "%.1fx\n", peak, w.peak, (double)w.peak / (double)b.len);
	if (f != NULL)
		protobuf_c_message_free_unpacked(&f->base, &w.base);
	watch_done(&w);
	rp_buf_free(&b);
}

static void
test_hostile_unknown_fields(void)
{
	/* 21845 unknown fields in a Hello (reserved field 21, varint 0):
	 * skipped, as prost skips them, and not copied: the Hello decodes
	 * in what its known fields need. */
	struct rp_buf b = { 0 };
	Rp__Hello *h;
	size_t i, peak;

	rp_buf_append(&b, "\x1a\x04" "echo", 6);
	for (i = 0; i < (RP_FRAME_HELLO_MAX - 6) / 3; i++)
		rp_buf_append(&b, "\xa8\x01\x00", 3);
	h = watched_unpack(&rp__hello__descriptor, b.data, b.len, &peak);
	T_OK(h != NULL && h->base.n_unknown_fields == 0);
	T_OK(h != NULL && strcmp(h->service_name, "echo") == 0);
	T_OK(peak < 1024);
	printf("# %zu unknown fields in %zu bytes: peak %zu\n",
	    (size_t)(RP_FRAME_HELLO_MAX - 6) / 3, b.len, peak);
	rp_wire_free(h);
	rp_buf_free(&b);
}

/* What the adversarial pass found refused: a Hello with field 1 repeated
 * 500 and 5000 times (1000-4000 passed), 1000 unknown 3-byte fields.
 * Every count up to the 64 KiB cap decodes, the last value winning, and
 * so does a string field repeated with different values. */
static void
test_valid_hellos_decode(void)
{
	static const size_t counts[] = { 1, 2, 500, 1000, 4000, 5000, 10000,
	    RP_FRAME_HELLO_MAX / 3 };
	struct rp_buf b = { 0 };
	Rp__Hello *h;
	size_t c, i, peak;
	uint8_t rec[3];

	for (c = 0; c < sizeof(counts) / sizeof(counts[0]); c++) {
		rp_buf_clear(&b);
		for (i = 0; i < counts[c]; i++) {
			/* client_min_protocol = i % 100 + 1, in 2 or 3 bytes */
			rec[0] = 0x08;
			rec[1] = (uint8_t)(i % 100 + 1);
			rp_buf_append(&b, rec, 2);
		}
		T_OK(b.len <= RP_FRAME_HELLO_MAX);
		h = watched_unpack(&rp__hello__descriptor, b.data, b.len,
		    &peak);
		T_OK(h != NULL);
		if (h != NULL)
			T_EQ(h->client_min_protocol,
			    (uint32_t)((counts[c] - 1) % 100 + 1));
		T_OK(peak < 1024);
		rp_wire_free(h);
	}
	rp_buf_clear(&b);
	for (i = 0; i < 1000; i++)
		rp_buf_append(&b, "\xa8\x01\x00", 3);
	rp_buf_append(&b, "\x1a\x01" "a" "\x1a\x02" "bb" "\x1a\x04" "echo", 13);
	for (i = 0; i < 1000; i++)
		rp_buf_append(&b, "\x7a\x01\x00", 3);   /* field 15 is u64 */
	h = watched_unpack(&rp__hello__descriptor, b.data, b.len, &peak);
	T_OK(h == NULL);    /* field 15 as bytes: a wrong wire type */
	T_EQ(errno, EPROTO);
	b.len -= 3000;
	for (i = 0; i < 1000; i++)
		rp_buf_append(&b, "\xfa\x01\x00", 3);   /* unknown 31 */
	h = watched_unpack(&rp__hello__descriptor, b.data, b.len, &peak);
	T_OK(h != NULL && strcmp(h->service_name, "echo") == 0);
	rp_wire_free(h);
	/* Damage after many repeats is malformed, not over budget. */
	rp_buf_clear(&b);
	for (i = 0; i < 30000; i++)
		rp_buf_append(&b, "\x08\x01", 2);
	rp_buf_append(&b, "\x08", 1);
	errno = 0;
	T_OK(rp_wire_unpack(&rp__hello__descriptor, b.data, b.len) == NULL);
	T_EQ(errno, EPROTO);
	rp_buf_free(&b);
}

/* Real messages, including large ones, fit easily. */
static void
test_legit_messages_fit(void)
{
	struct rp_buf b = { 0 };
	Rp__ServiceDefinition s = RP__SERVICE_DEFINITION__INIT, *got;
	Rp__ServiceDefinition__LabelsEntry ents[64], *lp[64];
	char keys[64][16], allow[64][16], *al[64];
	ProtobufCAllocator orig;
	struct rp_wire_alloc a;
	struct watch w;
	size_t i;

	s.service_name = W("echo");
	s.binary_path = W("/usr/libexec/echo");
	for (i = 0; i < 64; i++) {
		rp__service_definition__labels_entry__init(&ents[i]);
		snprintf(keys[i], sizeof(keys[i]), "k%zu", i);
		snprintf(allow[i], sizeof(allow[i]), "1.%zu.0", i);
		ents[i].key = keys[i];
		ents[i].value = W("v");
		lp[i] = &ents[i];
		al[i] = allow[i];
	}
	s.n_labels = 64;
	s.labels = lp;
	s.n_version_allow_list = 64;
	s.version_allow_list = al;
	T_EQ(rp_wire_pack(&b, &s.base), 0);
	rp_wire_alloc_init(&a, rp_wire_budget(b.len));
	orig = a.base;
	watch_init(&w, &orig);
	a.base = w.base;
	got = rp_wire_unpack_with(&rp__service_definition__descriptor, b.data,
	    b.len, &a);
	T_OK(got != NULL);
	if (got != NULL) {
		T_EQ(got->n_labels, 64);
		T_EQ(got->n_version_allow_list, 64);
	}
	T_OK(w.peak <= rp_wire_budget(b.len));
	printf("# servicedef of %zu bytes: peak %zu, total %zu, budget %zu\n",
	    b.len, w.peak, w.requested, rp_wire_budget(b.len));
	rp_wire_free(got);
	watch_done(&w);
	rp_buf_free(&b);
}

int
main(void)
{
	T_RUN(test_hostile_negotiated_warnings);
	T_RUN(test_hostile_refused_details);
	T_RUN(test_hostile_frame_scalars);
	T_RUN(test_hostile_unknown_fields);
	T_RUN(test_valid_hellos_decode);
	T_RUN(test_legit_messages_fit);
	return t_done();
}
