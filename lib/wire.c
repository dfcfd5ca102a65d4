/* wire.c — the v1 messages: bounded decoding, the envelope, Hello and its
 * refusals, admin verbs, handoff offers and acks (see wire.h, 10-wire.md). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "names.h"
#include "parse.h"
#include "wire.h"

/* Hello field caps of 10-wire.md §6 (rows 12-14). */
#define HELLO_CLIENT_VERSION_MAX 128
#define HELLO_CLIENT_LIB_MAX 64

/* Nested messages in our schema go three deep; anything deeper is not v1. */
#define WIRE_MAX_DEPTH 16

/* drop_dead's table of last occurrences, on the stack up to this many
 * fields. */
#define DEAD_FEW 32

/* protobuf-c's structs hold char * and uint8_t * even for what it only
 * reads while packing; this is the one place we drop the const. */
static char *
mut_str(const char *s)
{
	return (char *)(uintptr_t)(s != NULL ? s : "");
}

static uint8_t *
mut_bytes(const uint8_t *p)
{
	return (uint8_t *)(uintptr_t)p;
}

/* -------------------------------------------------------------- UTF-8 */

static int
str_ok(const char *s)
{
	return s == NULL || rp_utf8_valid((const uint8_t *)s, strlen(s));
}

int
rp_wire_text_valid(const char *s)
{
	return str_ok(s);
}

/* Append at most max bytes of s, cut on a character boundary, with each
 * maximal ill-formed subpart replaced by one U+FFFD (as Rust's
 * String::from_utf8_lossy repairs it). */
static int
append_text(struct rp_buf *b, const char *s, size_t max)
{
	static const char repl[] = "\xef\xbf\xbd";
	const uint8_t *p = (const uint8_t *)s;
	size_t n = strlen(s), i = 0, start = b->len;
	int k;

	while (i < n) {
		k = rp_utf8_char(p + i, n - i);
		if (b->len - start + (size_t)(k > 0 ? k : 3) > max)
			break;
		if (k < 0 ? rp_buf_append(b, repl, 3) != 0 :
		    rp_buf_append(b, p + i, (size_t)k) != 0)
			return -1;
		i += (size_t)(k > 0 ? k : -k);
	}
	return 0;
}

/* --------------------------------------------------- strict pre-scan */

/* A varint at p[0..n): bytes used, or 0 when truncated or longer than
 * ten bytes. */
static size_t
varint(const uint8_t *p, size_t n, uint64_t *v)
{
	size_t i;

	*v = 0;
	for (i = 0; i < n && i < 10; i++) {
		*v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
		if ((p[i] & 0x80) == 0)
			return i + 1;
	}
	return 0;
}

/* Whether a field of fd's type may come with wire type wt: its own, or
 * length-delimited for a packed repeated scalar. */
static int
wire_type_ok(const ProtobufCFieldDescriptor *fd, unsigned wt)
{
	unsigned want;

	switch (fd->type) {
	case PROTOBUF_C_TYPE_STRING:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
		return wt == 2;
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		want = 1;
		break;
	case PROTOBUF_C_TYPE_FIXED32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FLOAT:
		want = 5;
		break;
	default:
		want = 0;
		break;
	}
	return wt == want || (wt == 2 && fd->label == PROTOBUF_C_LABEL_REPEATED);
}

/*
 * Walk the encoded message and check what protobuf-c does not: every
 * string field (repeated, map keys and values, in nested messages) is
 * UTF-8 without NUL, no field number is 0, and a known field comes in its
 * own wire type (protobuf-c checks that for every type but bool, which it
 * reads from any bytes; prost refuses it).  Returns 1 when the body
 * passes; structural damage is left to protobuf-c to report.  Nothing is
 * allocated.
 */
static int
prescan(const ProtobufCMessageDescriptor *desc, const uint8_t *p, size_t n,
    int depth)
{
	const ProtobufCFieldDescriptor *fd;
	uint64_t key, len;
	size_t k;

	if (depth > WIRE_MAX_DEPTH)
		return 0;
	while (n > 0) {
		if ((k = varint(p, n, &key)) == 0)
			return 1;
		p += k;
		n -= k;
		if ((key >> 3) == 0)
			return 0;
		fd = key >> 3 > UINT32_MAX ? NULL :
		    protobuf_c_message_descriptor_get_field(desc,
		    (unsigned)(key >> 3));
		if (fd != NULL && !wire_type_ok(fd, (unsigned)(key & 7)))
			return 0;
		switch (key & 7) {
		case 0:
			if ((k = varint(p, n, &len)) == 0)
				return 1;
			break;
		case 1:
			k = 8;
			break;
		case 5:
			k = 4;
			break;
		case 2:
			if ((k = varint(p, n, &len)) == 0 || len > n - k)
				return 1;
			if (fd != NULL && fd->type == PROTOBUF_C_TYPE_STRING &&
			    !rp_utf8_valid(p + k, (size_t)len))
				return 0;
			if (fd != NULL && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
			    !prescan(fd->descriptor, p + k, (size_t)len,
			    depth + 1))
				return 0;
			k += (size_t)len;
			break;
		default:
			return 1;
		}
		if (k > n)
			return 1;
		p += k;
		n -= k;
	}
	return 1;
}

/* ------------------------------------------------- dead occurrences */

/* The size of the whole field at p[0..n) (key and value), its number in
 * *num; 0 when the body is damaged there, by protobuf-c's reading (which
 * is what decides): a key or a length prefix longer than 5 bytes, a key
 * whose first byte holds no field number bits, a value varint longer
 * than 10, anything cut short, a length past the end, a group or an
 * invalid wire type. */
static size_t
field_size(const uint8_t *p, size_t n, uint64_t *num)
{
	uint64_t key, len;
	size_t k, v;

	if (n == 0 || (p[0] & 0xf8) == 0 ||
	    (k = varint(p, n < 5 ? n : 5, &key)) == 0)
		return 0;
	*num = key >> 3;
	switch (key & 7) {
	case 0:
		v = varint(p + k, n - k, &len);
		break;
	case 1:
		v = n - k >= 8 ? 8 : 0;
		break;
	case 5:
		v = n - k >= 4 ? 4 : 0;
		break;
	case 2:
		v = varint(p + k, n - k < 5 ? n - k : 5, &len);
		if (v == 0 || len > n - k - v)
			return 0;
		v += (size_t)len;
		break;
	default:
		return 0;
	}
	return v == 0 ? 0 : k + v;
}

/* Whether an occurrence of fd is replaced by a later one of the same
 * field: protobuf's "last one wins", for a singular field that is not a
 * message (occurrences of a message merge, a repeated field's add up). */
static int
last_wins(const ProtobufCFieldDescriptor *fd)
{
	return fd->label != PROTOBUF_C_LABEL_REPEATED &&
	    fd->type != PROTOBUF_C_TYPE_MESSAGE;
}

/*
 * The top-level occurrences decoding would throw away: an unknown field
 * (skipped, as prost skips it; protobuf-c would keep a copy that nothing
 * of ours reads) and a singular scalar, string or bytes field that comes
 * again later (the later one wins).  Without them protobuf-c allocates
 * for what the message holds, not for how often a peer repeated itself
 * (every occurrence costs it a scan record, every unknown one a copy), so
 * any valid body within a frame limit decodes under the budget, while
 * repeated fields and submessages, which hold what they carry, stay
 * bounded by it.
 *
 * Returns 0 with *out NULL when nothing is dead, 0 with *out a malloc'd
 * copy of the live occurrences in their order (*outlen bytes), or -1 with
 * errno EPROTO (damaged: protobuf-c would refuse it too) or ENOMEM.
 */
static int
drop_dead(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
    size_t len, uint8_t **out, size_t *outlen)
{
	const ProtobufCFieldDescriptor *fd;
	size_t few[DEAD_FEW], *last = few, off, k, dead = 0, m = 0;
	uint64_t num;
	uint8_t *copy;

	*out = NULL;
	/* Every message of ours fits in few (a Hello has 15 fields): no
	 * allocation for the common case. */
	if (desc->n_fields + 1 > DEAD_FEW)
		last = calloc(desc->n_fields + 1, sizeof(*last));
	else
		memset(few, 0, (desc->n_fields + 1) * sizeof(*last));
	if (last == NULL)
		return -1;
	/* Pass 1: where each singular field occurs last (offset + 1). */
	for (off = 0; off < len; off += k) {
		if ((k = field_size(data + off, len - off, &num)) == 0) {
			if (last != few)
				free(last);
			errno = EPROTO;
			return -1;
		}
		fd = num > UINT32_MAX ? NULL :
		    protobuf_c_message_descriptor_get_field(desc,
		    (unsigned)num);
		if (fd == NULL)
			dead++;
		else if (last_wins(fd)) {
			size_t i = (size_t)(fd - desc->fields);

			if (last[i] != 0)
				dead++;
			last[i] = off + 1;
		}
	}
	if (dead == 0) {
		if (last != few)
			free(last);
		return 0;
	}
	/* Pass 2: copy what is live. */
	if ((copy = malloc(len)) == NULL) {
		if (last != few)
			free(last);
		return -1;
	}
	for (off = 0; off < len; off += k) {
		k = field_size(data + off, len - off, &num);
		fd = num > UINT32_MAX ? NULL :
		    protobuf_c_message_descriptor_get_field(desc,
		    (unsigned)num);
		if (fd == NULL ||
		    (last_wins(fd) && last[fd - desc->fields] != off + 1))
			continue;
		memcpy(copy + m, data + off, k);
		m += k;
	}
	if (last != few)
		free(last);
	*out = copy;
	*outlen = m;
	return 0;
}

/* ------------------------------------------------------------ decoding */

size_t
rp_wire_budget(size_t len)
{
	if (len > (SIZE_MAX - RP_WIRE_ALLOC_SLACK) / RP_WIRE_ALLOC_FACTOR)
		return SIZE_MAX;
	return RP_WIRE_ALLOC_FACTOR * len + RP_WIRE_ALLOC_SLACK;
}

static void *
budget_alloc(void *data, size_t size)
{
	struct rp_wire_alloc *a = data;
	void *p;

	if (size == 0)
		size = 1;
	if (size > a->budget - a->total) {
		a->over = 1;
		return NULL;
	}
	p = malloc(size);
	if (p == NULL) {
		a->oom = 1;
		return NULL;
	}
	a->total += size;
	return p;
}

static void
plain_free(void *data, void *p)
{
	(void)data;
	free(p);
}

void
rp_wire_alloc_init(struct rp_wire_alloc *a, size_t budget)
{
	memset(a, 0, sizeof(*a));
	a->base.alloc = budget_alloc;
	a->base.free = plain_free;
	a->base.allocator_data = a;
	a->budget = budget;
}

void *
rp_wire_unpack_with(const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len, struct rp_wire_alloc *a)
{
	ProtobufCMessage *m;
	uint8_t *live;
	size_t n;
	int err;

	if (data == NULL && len > 0) {
		errno = EINVAL;
		return NULL;
	}
	if (!prescan(desc, data, len, 0)) {
		errno = EPROTO;
		return NULL;
	}
	if (drop_dead(desc, data, len, &live, &n) != 0)
		return NULL;
	m = protobuf_c_message_unpack(desc, &a->base, live ? n : len,
	    live ? live : data);
	err = a->over ? EMSGSIZE : a->oom ? ENOMEM : EPROTO;
	free(live);
	if (m == NULL)
		errno = err;
	return m;
}

void *
rp_wire_unpack(const ProtobufCMessageDescriptor *desc, const uint8_t *data,
    size_t len)
{
	struct rp_wire_alloc a;

	rp_wire_alloc_init(&a, rp_wire_budget(len));
	return rp_wire_unpack_with(desc, data, len, &a);
}

static void *
never_alloc(void *data, size_t size)
{
	(void)data;
	(void)size;
	return NULL;
}

void
rp_wire_free(void *msg)
{
	/* Everything we unpack came from malloc, so freeing needs no
	 * record of the budget it was decoded under. */
	static ProtobufCAllocator free_only = { never_alloc, plain_free, NULL };
	int saved = errno;

	if (msg != NULL)
		protobuf_c_message_free_unpacked(msg, &free_only);
	errno = saved;
}

int
rp_wire_pack(struct rp_buf *out, const ProtobufCMessage *msg)
{
	size_t n = protobuf_c_message_get_packed_size(msg);

	if (rp_buf_reserve(out, n) != 0)
		return -1;
	if (n > 0)
		protobuf_c_message_pack(msg, out->data + out->len);
	out->len += n;
	out->data[out->len] = '\0';
	return 0;
}

/* ------------------------------------------------------------ envelope */

void
rp_wire_echo(struct rp_frame_meta *m, const Rp__Frame *f)
{
	memset(m, 0, sizeof(*m));
	m->kind = RP_KIND_RESPONSE;
	if (f == NULL)
		return;
	m->protocol = f->payload_protocol;
	m->request_id = f->request_id;
	m->traceparent = f->traceparent;
	m->tracestate = f->tracestate;
}

/*
 * The envelope is written by hand (issue 16: every reply goes through
 * here; protobuf-c's reflective packing, and a temporary buffer for the
 * payload, cost more than the rest of a Hello's work): proto3 as
 * protobuf-c and protoc write it, fields in ascending number, defaults
 * (0, "", empty bytes) left out.  test_wire_protoc holds it to protoc's
 * bytes.
 */
static size_t
vlen(uint64_t v)
{
	size_t n = 1;

	while (v >= 0x80) {
		v >>= 7;
		n++;
	}
	return n;
}

static uint8_t *
vput(uint8_t *p, uint64_t v)
{
	while (v >= 0x80) {
		*p++ = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	*p++ = (uint8_t)v;
	return p;
}

/* A varint field (number < 16: a one-byte key), left out when 0. */
static size_t
fv_len(uint64_t v)
{
	return v != 0 ? 1 + vlen(v) : 0;
}

static uint8_t *
fv_put(uint8_t *p, unsigned num, uint64_t v)
{
	if (v == 0)
		return p;
	*p++ = (uint8_t)(num << 3);
	return vput(p, v);
}

/* A length-delimited field of n bytes (number < 16), whatever n. */
static size_t
fb_len(size_t n)
{
	return 1 + vlen(n) + n;
}

static uint8_t *
fb_put(uint8_t *p, unsigned num, const void *data, size_t n)
{
	*p++ = (uint8_t)(num << 3 | 2);
	p = vput(p, n);
	if (n > 0)
		memcpy(p, data, n);
	return p + n;
}

/* A string field, left out when NULL or empty. */
static size_t
fs_len(const char *s, size_t n)
{
	return s != NULL && n > 0 ? fb_len(n) : 0;
}

static uint8_t *
fs_put(uint8_t *p, unsigned num, const char *s, size_t n)
{
	return s != NULL && n > 0 ? fb_put(p, num, s, n) : p;
}

/* What a frame carries around its payload. */
struct env {
	uint32_t kind, protocol;
	uint64_t request_id, deadline_unix_ms;
	const char *tp, *ts;
	size_t tp_len, ts_len;
	size_t plen;                 /* the payload's size */
	size_t before, after;        /* the frame's bytes before and after it */
};

/* Check the envelope's strings and size it around a payload of plen
 * bytes: 0, or -1 with errno (EILSEQ, EMSGSIZE). */
static int
env_size(struct env *e, uint32_t kind, uint32_t protocol,
    uint64_t request_id, uint64_t deadline_unix_ms, const char *traceparent,
    const char *tracestate, size_t plen)
{
	if (!str_ok(traceparent) || !str_ok(tracestate)) {
		errno = EILSEQ;
		return -1;
	}
	e->kind = kind;
	e->protocol = protocol;
	e->request_id = request_id;
	e->deadline_unix_ms = deadline_unix_ms;
	e->tp = traceparent;
	e->ts = tracestate;
	e->tp_len = traceparent != NULL ? strlen(traceparent) : 0;
	e->ts_len = tracestate != NULL ? strlen(tracestate) : 0;
	e->plen = plen;
	/* 1 envelope_version, 2 kind, 3 payload_protocol, 4 payload... */
	e->before = fv_len(RP_PROTOCOL_VERSION) + fv_len(kind) +
	    fv_len(protocol) + (plen > 0 ? 1 + vlen(plen) : 0);
	/* ...5 request_id, (6 payload_encoding NONE), 7 deadline_unix_ms,
	 * 8 traceparent, 9 tracestate. */
	e->after = fv_len(request_id) + fv_len(deadline_unix_ms) +
	    fs_len(traceparent, e->tp_len) + fs_len(tracestate, e->ts_len);
	if (plen > RP_FRAME_MAX || e->before + plen + e->after > RP_FRAME_MAX) {
		errno = EMSGSIZE;
		return -1;
	}
	return 0;
}

/* Make room for the whole frame and write its header and the envelope
 * up to the payload; returns where the payload goes (NULL: ENOMEM). */
static uint8_t *
env_open(struct rp_buf *out, const struct env *e)
{
	size_t body = e->before + e->plen + e->after;
	uint8_t *p;

	if (rp_buf_reserve(out, RP_FRAME_HEADER + body) != 0)
		return NULL;
	p = out->data + out->len;
	rp_frame_header(p, (uint32_t)body);
	p += RP_FRAME_HEADER;
	p = fv_put(p, 1, RP_PROTOCOL_VERSION);
	p = fv_put(p, 2, e->kind);
	p = fv_put(p, 3, e->protocol);
	if (e->plen > 0) {
		*p++ = 4 << 3 | 2;
		p = vput(p, e->plen);
	}
	return p;
}

/* Write the envelope after the payload (at p) and take the frame in. */
static void
env_close(struct rp_buf *out, const struct env *e, uint8_t *p)
{
	p = fv_put(p, 5, e->request_id);
	p = fv_put(p, 7, e->deadline_unix_ms);
	p = fs_put(p, 8, e->tp, e->tp_len);
	p = fs_put(p, 9, e->ts, e->ts_len);
	out->len = (size_t)(p - out->data);
	out->data[out->len] = '\0';
}

/* The frame around a payload of bytes. */
static int
frame_append(struct rp_buf *out, uint32_t kind, uint32_t protocol,
    uint64_t request_id, uint64_t deadline_unix_ms, const char *traceparent,
    const char *tracestate, const uint8_t *payload, size_t plen)
{
	struct env e;
	uint8_t *p;

	if (payload == NULL && plen > 0) {
		errno = EINVAL;
		return -1;
	}
	if (env_size(&e, kind, protocol, request_id, deadline_unix_ms,
	    traceparent, tracestate, plen) != 0 ||
	    (p = env_open(out, &e)) == NULL)
		return -1;
	if (plen > 0)
		memcpy(p, payload, plen);
	env_close(out, &e, p + plen);
	return 0;
}

int
rp_wire_frame_encode(struct rp_buf *out, const struct rp_frame_meta *m,
    const uint8_t *payload, size_t plen)
{
	return frame_append(out, m->kind, m->protocol, m->request_id,
	    m->deadline_unix_ms, m->traceparent, m->tracestate, payload, plen);
}

/* A frame around a packed message, with the given meta fields: the
 * message is packed in place. */
static int
frame_msg(struct rp_buf *out, uint32_t kind, uint32_t protocol,
    uint64_t request_id, uint64_t deadline_unix_ms, const char *traceparent,
    const char *tracestate, const ProtobufCMessage *payload)
{
	struct env e;
	uint8_t *p;

	if (env_size(&e, kind, protocol, request_id, deadline_unix_ms,
	    traceparent, tracestate,
	    protobuf_c_message_get_packed_size(payload)) != 0 ||
	    (p = env_open(out, &e)) == NULL)
		return -1;
	if (e.plen > 0)
		protobuf_c_message_pack(payload, p);
	env_close(out, &e, p + e.plen);
	return 0;
}

int
rp_wire_frame_encode_msg(struct rp_buf *out, const struct rp_frame_meta *m,
    const ProtobufCMessage *payload)
{
	return frame_msg(out, m->kind, m->protocol, m->request_id,
	    m->deadline_unix_ms, m->traceparent, m->tracestate, payload);
}

/* A reply: RESPONSE, deadline 0, request_id and trace echoed. */
static int
reply_msg(struct rp_buf *out, const struct rp_frame_meta *echo,
    uint32_t protocol, const ProtobufCMessage *payload)
{
	if (echo == NULL)
		return frame_msg(out, RP_KIND_RESPONSE, protocol, 0, 0, NULL,
		    NULL, payload);
	return frame_msg(out, RP_KIND_RESPONSE, protocol, echo->request_id, 0,
	    echo->traceparent, echo->tracestate, payload);
}

enum rp_envelope_fault
rp_wire_envelope_check(const Rp__Frame *f, uint32_t kind, uint32_t protocol)
{
	if (f->envelope_version != RP_PROTOCOL_VERSION)
		return RP_ENV_VERSION;
	if ((uint32_t)f->kind != kind)
		return RP_ENV_KIND;
	if (f->payload_protocol != protocol)
		return RP_ENV_PROTOCOL;
	if (f->payload_encoding != RP__PAYLOAD_ENCODING__PAYLOAD_ENCODING_NONE)
		return RP_ENV_ENCODING;
	return RP_ENV_OK;
}

const char *
rp_wire_envelope_fault_str(enum rp_envelope_fault fault, uint32_t kind)
{
	static const char *const kinds[] = {
		"kind is not REQUEST", "kind is not RESPONSE",
		"kind is not EVENT", "kind is not CANCEL",
	};

	switch (fault) {
	case RP_ENV_OK:
		return "ok";
	case RP_ENV_VERSION:
		return "envelope_version is not v1";
	case RP_ENV_KIND:
		return kind < 4 ? kinds[kind] : "unexpected kind";
	case RP_ENV_PROTOCOL:
		return "unexpected payload_protocol";
	case RP_ENV_ENCODING:
		return "payload is compressed";
	}
	return "unknown envelope fault";
}

/* *why for a failed unpack of `what`, by errno. */
static const char *
unpack_why(const char *malformed, const char *over)
{
	if (errno == EMSGSIZE)
		return over;
	if (errno == ENOMEM)
		return "out of memory";
	return malformed;
}

Rp__Frame *
rp_wire_frame_parse(const uint8_t *body, size_t len, uint32_t kind,
    uint32_t protocol, int check_request_id, uint64_t request_id,
    const char **why)
{
	enum rp_envelope_fault fault;
	Rp__Frame *f;

	f = rp_wire_unpack(&rp__frame__descriptor, body, len);
	if (f == NULL) {
		*why = unpack_why("malformed frame",
		    "frame exceeds its decoding budget");
		return NULL;
	}
	fault = rp_wire_envelope_check(f, kind, protocol);
	if (fault != RP_ENV_OK) {
		*why = rp_wire_envelope_fault_str(fault, kind);
		goto bad;
	}
	if (check_request_id && f->request_id != request_id) {
		*why = "request_id does not match";
		goto bad;
	}
	return f;
bad:
	rp_wire_free(f);
	errno = EPROTO;
	return NULL;
}

/* ----------------------------------------------------- Hello, refusals */

#define ROW(id, n, code, reason, retry, detail) \
	[id] = { id, n, code, reason, retry, detail }

const struct rp_refusal_row rp_refusal_table[RP_REFUSE_COUNT] = {
	ROW(RP_REFUSE_NONE, 0, 0, "", 0, 0),
	ROW(RP_REFUSE_FRAMING_VERSION, 1, 1,
	    "unsupported framing version", 0, 0),
	ROW(RP_REFUSE_TOO_LARGE, 2, 6,
	    "initial Hello frame exceeds 64 KiB", 0, 0),
	ROW(RP_REFUSE_INCOMPLETE, 3, 6, "incomplete Hello frame", 0, 0),
	ROW(RP_REFUSE_MALFORMED_FRAME, 4, 6, "malformed broker Frame", 0, 0),
	ROW(RP_REFUSE_ENVELOPE_VERSION, 5, 1,
	    "frame envelope_version is not v1", 0, 0),
	ROW(RP_REFUSE_KIND, 6, 6, "Hello frame kind must be REQUEST", 0, 0),
	ROW(RP_REFUSE_PAYLOAD_PROTOCOL, 7, 6,
	    "Hello frame payload_protocol must be control-plane", 0, 0),
	ROW(RP_REFUSE_COMPRESSED, 8, 6,
	    "Hello payload must not be compressed", 0, 0),
	ROW(RP_REFUSE_MALFORMED_HELLO, 9, 6, "malformed Hello payload", 0, 0),
	ROW(RP_REFUSE_PROTOCOL_RANGE, 10, 1,
	    "client protocol range does not include v1", 0, 0),
	ROW(RP_REFUSE_SERVICE_NAME, 11, 6, "invalid service_name", 0, 0),
	ROW(RP_REFUSE_WANTED_VERSION, 12, 6, "invalid wanted_version", 0, 0),
	ROW(RP_REFUSE_CLIENT_VERSION, 13, 6,
	    "client_version exceeds 128 bytes", 0, 0),
	ROW(RP_REFUSE_CLIENT_LIB, 14, 6,
	    "client_lib fields exceed 64 bytes", 0, 0),
	ROW(RP_REFUSE_PEER_PID, 15, 6,
	    "peer_pid does not match verified peer", 0, 0),
	ROW(RP_REFUSE_RATE_LIMITED, 16, 4, "Hello rate limit exceeded",
	    RP_RETRY_COMPUTED, 0),
	ROW(RP_REFUSE_SHUTTING_DOWN, 17, 5, "broker is shutting down", 1000,
	    0),
	ROW(RP_REFUSE_FD_PRESSURE, 18, 9,
	    "broker is low on file descriptors; retry shortly", 1000, 0),
	ROW(RP_REFUSE_MAX_CLIENTS, 18, 9,
	    "broker is at its connection limit; retry shortly", 1000, 0),
	ROW(RP_REFUSE_NO_DEFINITION, 19, 2,
	    "service definition was not found", 0, 0),
	ROW(RP_REFUSE_NOT_REGISTERED, 19, 2, "service is not registered", 0,
	    0),
	ROW(RP_REFUSE_DEFINITION_INVALID, 20, 2,
	    "service definition could not be loaded", 0, 1),
	ROW(RP_REFUSE_BELOW_MIN, 21, 8, "wanted_version is below min_version",
	    30000, 0),
	ROW(RP_REFUSE_NOT_ALLOWED, 22, 8,
	    "wanted_version is not in version_allow_list", 30000, 0),
	ROW(RP_REFUSE_SPAWN_IN_PROGRESS, 23, 4,
	    "backend spawn already in progress", 1000, 0),
	ROW(RP_REFUSE_SPAWN_BUDGET, 24, 4, "backend spawn budget exhausted",
	    RP_RETRY_COMPUTED, 0),
	ROW(RP_REFUSE_SPAWN_FAILED, 25, 3, "backend spawn failed", 1000, 1),
	ROW(RP_REFUSE_BACKEND_NOT_REGISTERED, 25, 3,
	    "backend is not registered", 1000, 0),
	ROW(RP_REFUSE_ISOLATION, 26, 7,
	    "service isolation could not be resolved", 0, 1),
	ROW(RP_REFUSE_LAUNCH_MISMATCH, 26, 7,
	    "launched backend identity did not match request", 0, 0),
	ROW(RP_REFUSE_INSTALL, 26, 7,
	    "registered backend could not be installed", 0, 1),
	ROW(RP_REFUSE_BACKEND_STOPPED, 25, 3, "backend is stopped", 1000, 0),
};

#undef ROW

enum rp_refusal
rp_wire_refusal_from_frame_status(int frame_status)
{
	switch (frame_status) {
	case RP_FRAME_OK:
	case RP_FRAME_MORE:
		return RP_REFUSE_NONE;
	case RP_FRAME_BAD_VERSION:
		return RP_REFUSE_FRAMING_VERSION;
	case RP_FRAME_TOO_LARGE:
		return RP_REFUSE_TOO_LARGE;
	default:
		/* EOF, INCOMPLETE, TIMEOUT and IO all end a Hello that never
		 * arrived whole. */
		return RP_REFUSE_INCOMPLETE;
	}
}

enum rp_refusal
rp_wire_request_parse(const uint8_t *body, size_t len, Rp__Frame **frame)
{
	Rp__Frame *f;
	uint32_t proto;

	*frame = NULL;
	f = rp_wire_unpack(&rp__frame__descriptor, body, len);
	if (f == NULL)
		return errno == ENOMEM ? RP_REFUSE_OUT_OF_MEMORY :
		    RP_REFUSE_MALFORMED_FRAME;
	*frame = f;
	proto = f->payload_protocol == RP_PP_ADMIN ? RP_PP_ADMIN :
	    RP_PP_CONTROL;
	switch (rp_wire_envelope_check(f, RP_KIND_REQUEST, proto)) {
	case RP_ENV_OK:
		return RP_REFUSE_NONE;
	case RP_ENV_VERSION:
		return RP_REFUSE_ENVELOPE_VERSION;
	case RP_ENV_KIND:
		return RP_REFUSE_KIND;
	case RP_ENV_PROTOCOL:
		return RP_REFUSE_PAYLOAD_PROTOCOL;
	case RP_ENV_ENCODING:
		return RP_REFUSE_COMPRESSED;
	}
	return RP_REFUSE_MALFORMED_FRAME;
}

Rp__Hello *
rp_wire_hello_decode(const Rp__Frame *frame)
{
	return rp_wire_unpack(&rp__hello__descriptor, frame->payload.data,
	    frame->payload.len);
}

enum rp_refusal
rp_wire_hello_check(const Rp__Hello *h, uint32_t kernel_pid)
{
	size_t wlen = strlen(h->wanted_version);

	if (h->client_min_protocol > RP_PROTOCOL_VERSION ||
	    h->client_max_protocol < RP_PROTOCOL_VERSION)
		return RP_REFUSE_PROTOCOL_RANGE;
	if (!rp_names_service_valid(h->service_name, strlen(h->service_name)))
		return RP_REFUSE_SERVICE_NAME;
	if (wlen > RP_VERSION_MAX ||
	    !rp_names_version_valid(h->wanted_version, wlen))
		return RP_REFUSE_WANTED_VERSION;
	if (strlen(h->client_version) > HELLO_CLIENT_VERSION_MAX)
		return RP_REFUSE_CLIENT_VERSION;
	if (strlen(h->client_lib_name) > HELLO_CLIENT_LIB_MAX ||
	    strlen(h->client_lib_version) > HELLO_CLIENT_LIB_MAX)
		return RP_REFUSE_CLIENT_LIB;
	/* 0 on either side means "not known": the kernel may not say (no
	 * pid in LOCAL_PEERCRED) and peer_pid is only telemetry anyway. */
	if (h->peer_pid != 0 && kernel_pid != 0 && h->peer_pid != kernel_pid)
		return RP_REFUSE_PEER_PID;
	return RP_REFUSE_NONE;
}

int
rp_wire_refused_encode(struct rp_buf *out, const struct rp_frame_meta *echo,
    enum rp_refusal id, const char *detail, uint64_t retry_after_ms)
{
	Rp__HelloReply reply = RP__HELLO_REPLY__INIT;
	Rp__Refused r = RP__REFUSED__INIT;
	const struct rp_refusal_row *row;
	struct rp_buf reason = { 0 };
	int rc = -1;

	if ((int)id <= RP_REFUSE_NONE || id >= RP_REFUSE_COUNT) {
		errno = EINVAL;
		return -1;
	}
	row = &rp_refusal_table[id];
	if (rp_buf_puts(&reason, row->reason) != 0)
		goto out;
	if (row->takes_detail && detail != NULL && detail[0] != '\0' &&
	    (rp_buf_puts(&reason, ": ") != 0 ||
	    append_text(&reason, detail, RP_WIRE_DETAIL_MAX) != 0))
		goto out;
	r.reason = (char *)reason.data;
	r.daemon_min_protocol = RP_PROTOCOL_VERSION;
	r.daemon_max_protocol = RP_PROTOCOL_VERSION;
	r.code = (Rp__ErrorCode)row->code;
	if (row->retry_after_ms == RP_RETRY_COMPUTED)
		r.retry_after_ms = retry_after_ms > 0 ? retry_after_ms : 1;
	else
		r.retry_after_ms = row->retry_after_ms;
	reply.result_case = RP__HELLO_REPLY__RESULT_REFUSED;
	reply.refused = &r;
	rc = reply_msg(out, echo, RP_PP_CONTROL, &reply.base);
out:
	rp_buf_free(&reason);
	return rc;
}

int
rp_wire_negotiated_encode(struct rp_buf *out,
    const struct rp_frame_meta *echo, const struct rp_negotiated *n)
{
	uint64_t caps, keepalive;
	uint8_t *start, *p;
	size_t i, dv, bp, g;
	struct env e;

	if ((n->token_len != 0 && n->token_len != 16) ||
	    (n->token_len != 0 && n->token == NULL) ||
	    (n->n_warnings > 0 && n->warnings == NULL)) {
		errno = EINVAL;
		return -1;
	}
	if (!str_ok(n->daemon_version) || !str_ok(n->backend_pipe)) {
		errno = EILSEQ;
		return -1;
	}
	for (i = 0; i < n->n_warnings; i++) {
		if (n->warnings[i] == NULL) {
			errno = EINVAL;
			return -1;
		}
		if (!str_ok(n->warnings[i])) {
			errno = EILSEQ;
			return -1;
		}
	}
	/* Bit 0 promises a handoff; it means nothing without a token, so a
	 * backend's own bit 0 never leaks through on its own. */
	caps = n->server_capabilities & ~RP_CAP_HANDLE_PASSING;
	if (n->token_len > 0)
		caps |= RP_CAP_HANDLE_PASSING;
	keepalive = n->keepalive_interval_secs != 0 ?
	    n->keepalive_interval_secs : RP_KEEPALIVE_DEFAULT_SECS;
	/* Written by hand, as the envelope (every Hello is answered so):
	 * HelloReply{1 negotiated: Negotiated{1 negotiated_protocol,
	 * 2 daemon_version, 3 backend_pipe, 4 warnings (each, even empty),
	 * 5 server_capabilities, 6 keepalive_interval_secs,
	 * 7 handle_passed_token, 8 connection_id}}. */
	dv = n->daemon_version != NULL ? strlen(n->daemon_version) : 0;
	bp = n->backend_pipe != NULL ? strlen(n->backend_pipe) : 0;
	g = fv_len(RP_PROTOCOL_VERSION) + fs_len(n->daemon_version, dv) +
	    fs_len(n->backend_pipe, bp) + fv_len(caps) + fv_len(keepalive) +
	    (n->token_len > 0 ? fb_len(n->token_len) : 0) +
	    fv_len(n->connection_id);
	for (i = 0; i < n->n_warnings; i++)
		g += fb_len(strlen(n->warnings[i]));
	if (env_size(&e, RP_KIND_RESPONSE, RP_PP_CONTROL,
	    echo != NULL ? echo->request_id : 0, 0,
	    echo != NULL ? echo->traceparent : NULL,
	    echo != NULL ? echo->tracestate : NULL, 1 + vlen(g) + g) != 0 ||
	    (start = env_open(out, &e)) == NULL)
		return -1;
	p = start;
	*p++ = 1 << 3 | 2;
	p = vput(p, g);
	p = fv_put(p, 1, RP_PROTOCOL_VERSION);
	p = fs_put(p, 2, n->daemon_version, dv);
	p = fs_put(p, 3, n->backend_pipe, bp);
	for (i = 0; i < n->n_warnings; i++)
		p = fb_put(p, 4, n->warnings[i], strlen(n->warnings[i]));
	p = fv_put(p, 5, caps);
	p = fv_put(p, 6, keepalive);
	if (n->token_len > 0)
		p = fb_put(p, 7, n->token, n->token_len);
	p = fv_put(p, 8, n->connection_id);
	env_close(out, &e, p);
	return 0;
}

const char *
rp_wire_error_code_name(uint32_t code)
{
	static const char *const names[] = {
		"UNSPECIFIED", "VERSION_UNSUPPORTED", "SERVICE_UNKNOWN",
		"BACKEND_SPAWN_FAILED", "RATE_LIMITED", "SHUTTING_DOWN",
		"PEER_REJECTED", "INTERNAL", "VERSION_BLOCKED", "FD_PRESSURE",
	};

	return code < sizeof(names) / sizeof(names[0]) ? names[code] :
	    "UNKNOWN";
}

const char *
rp_wire_event_kind_name(uint32_t kind)
{
	static const char *const names[] = {
		"UNSPECIFIED", "SPAWN_ATTEMPT", "SPAWN", "DIED_IDLE",
		"DIED_SHUTDOWN", "DIED_CRASH", "VERSION_MISMATCH",
		"REPLACED_BY_NEWER", "HELLO_ACCEPTED", "HELLO_REFUSED",
		"SERVICE_DEF_LOADED", "SERVICE_DEF_CHANGED", "BROADCAST_SENT",
		"BROADCAST_ACK", "BROADCAST_TIMEOUT", "PROTOCOL_DOWNGRADE",
		"CACHE_CORRUPTION_DETECTED", "RESOURCE_PRESSURE",
		"SECURITY_VIOLATION", "TEARDOWN_HOOK_FAILED",
		"MANIFEST_REWRITTEN",
	};

	return kind < sizeof(names) / sizeof(names[0]) ? names[kind] :
	    "UNKNOWN";
}

/* --------------------------------------------------------------- admin */

static const struct {
	const char *cli;
	uint32_t verb;
} admin_verbs[] = {
	{ "status", RP__ADMIN_VERB__ADMIN_VERB_STATUS },
	{ "dump", RP__ADMIN_VERB__ADMIN_VERB_DUMP },
	{ "list-instances", RP__ADMIN_VERB__ADMIN_VERB_LIST_INSTANCES },
	{ "healthz", RP__ADMIN_VERB__ADMIN_VERB_HEALTHZ },
	{ "readyz", RP__ADMIN_VERB__ADMIN_VERB_READYZ },
	{ "backend-health", RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH },
	{ "config", RP__ADMIN_VERB__ADMIN_VERB_CONFIG },
	{ "diagnose", RP__ADMIN_VERB__ADMIN_VERB_DIAGNOSE },
	{ "metrics", RP__ADMIN_VERB__ADMIN_VERB_METRICS },
	{ "shutdown", RP__ADMIN_VERB__ADMIN_VERB_SHUTDOWN },
};

#define N_ADMIN_VERBS (sizeof(admin_verbs) / sizeof(admin_verbs[0]))

const char *const rp_wire_admin_verbs[] = {
	"status", "dump", "list-instances", "healthz", "readyz",
	"backend-health", "config", "diagnose", "metrics", "shutdown", NULL,
};

int
rp_wire_admin_verb_from_cli(const char *name, uint32_t *verb)
{
	size_t i;

	for (i = 0; name != NULL && i < N_ADMIN_VERBS; i++) {
		if (strcmp(name, admin_verbs[i].cli) == 0) {
			*verb = admin_verbs[i].verb;
			return 0;
		}
	}
	errno = EINVAL;
	return -1;
}

const char *
rp_wire_admin_verb_cli(uint32_t verb)
{
	size_t i;

	for (i = 0; i < N_ADMIN_VERBS; i++)
		if (admin_verbs[i].verb == verb)
			return admin_verbs[i].cli;
	return NULL;
}

/* ------------------------------------------------------------- handoff */

int
rp_wire_offer_encode(struct rp_buf *out, const uint8_t *token,
    size_t token_len, const char *service_name, uint64_t correlation_id,
    uint64_t handle_value)
{
	Rp__HandoffOffer o = RP__HANDOFF_OFFER__INIT;

	if (token == NULL && token_len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (!str_ok(service_name)) {
		errno = EILSEQ;
		return -1;
	}
	o.handle_value = handle_value;
	o.token.data = mut_bytes(token);
	o.token.len = token_len;
	o.service_name = mut_str(service_name);
	o.correlation_id = correlation_id;
	return frame_msg(out, RP_KIND_REQUEST, RP_PP_HANDOFF, correlation_id, 0,
	    NULL, NULL, &o.base);
}

/* rp_wire_frame_parse for the handoff frames, in the wording both
 * directions of running-process v1 use for a frame of another protocol. */
static Rp__Frame *
handoff_frame_parse(const uint8_t *body, size_t len, uint32_t kind,
    int check_request_id, uint64_t request_id, const char **why)
{
	Rp__Frame *f;

	f = rp_wire_frame_parse(body, len, kind, RP_PP_HANDOFF,
	    check_request_id, request_id, why);
	if (f == NULL && *why == rp_wire_envelope_fault_str(RP_ENV_PROTOCOL,
	    kind))
		*why = "payload_protocol is not handoff";
	return f;
}

Rp__HandoffOffer *
rp_wire_offer_parse(const uint8_t *body, size_t len, const char **why)
{
	Rp__HandoffOffer *o;
	Rp__Frame *f;

	f = handoff_frame_parse(body, len, RP_KIND_REQUEST, 0, 0, why);
	if (f == NULL)
		return NULL;
	o = rp_wire_unpack(&rp__handoff_offer__descriptor, f->payload.data,
	    f->payload.len);
	if (o == NULL) {
		*why = unpack_why("malformed HandoffOffer",
		    "HandoffOffer exceeds its decoding budget");
	} else if (o->correlation_id != f->request_id) {
		*why = "frame request_id does not match HandoffOffer "
		    "correlation_id";
		rp_wire_free(o);
		o = NULL;
		errno = EPROTO;
	}
	rp_wire_free(f);
	return o;
}

int
rp_wire_ack_encode(struct rp_buf *out, uint32_t kind, uint64_t request_id,
    const uint8_t *token, size_t token_len, int accepted,
    const char *error_detail, uint64_t correlation_id)
{
	Rp__HandoffAck a = RP__HANDOFF_ACK__INIT;
	struct rp_buf detail = { 0 };
	int rc = -1;

	if (token == NULL && token_len > 0) {
		errno = EINVAL;
		return -1;
	}
	if (error_detail != NULL &&
	    append_text(&detail, error_detail, RP_WIRE_DETAIL_MAX) != 0)
		return -1;
	a.token.data = mut_bytes(token);
	a.token.len = token_len;
	a.accepted = accepted != 0;
	a.error_detail = mut_str(rp_buf_str(&detail));
	a.correlation_id = correlation_id;
	rc = frame_msg(out, kind, RP_PP_HANDOFF, request_id, 0, NULL, NULL,
	    &a.base);
	rp_buf_free(&detail);
	return rc;
}

Rp__HandoffAck *
rp_wire_ack_parse(const uint8_t *body, size_t len, uint32_t kind,
    int check_request_id, uint64_t request_id, const char **why)
{
	Rp__HandoffAck *a;
	Rp__Frame *f;

	f = handoff_frame_parse(body, len, kind, check_request_id, request_id,
	    why);
	if (f == NULL)
		return NULL;
	a = rp_wire_unpack(&rp__handoff_ack__descriptor, f->payload.data,
	    f->payload.len);
	if (a == NULL) {
		*why = unpack_why("malformed HandoffAck",
		    "HandoffAck exceeds its decoding budget");
	} else if (a->correlation_id != f->request_id) {
		*why = "ack correlation_id does not match request_id";
		rp_wire_free(a);
		a = NULL;
		errno = EPROTO;
	}
	rp_wire_free(f);
	return a;
}
