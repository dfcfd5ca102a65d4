/* framescan.c — a Frame body read field by field as it streams past, its
 * payload read as an AdminRequest in passing (see framescan.h). */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "framescan.h"
#include "wire.h"

/* What the next byte of a message is. */
enum {
	ST_KEY = 0,     /* of a key (a varint of at most 5 bytes) */
	ST_VARINT,      /* of a varint value (at most 10 bytes) */
	ST_FIXED,       /* of a fixed32 or fixed64 value: vleft more */
	ST_LEN,         /* of a length prefix (at most 5 bytes) */
	ST_BYTES,       /* of a length-delimited value: vleft more */
};

/* What a field is to us. */
enum { K_UNKNOWN = 0, K_U32, K_U64, K_BOOL, K_TEXT, K_PAYLOAD };

/* Slots, by level: the Frame's fields are numbered 1-9, the
 * AdminRequest's 1-5; a slot is the number less one. */
enum {
	F_ENVELOPE = 0, F_KIND, F_PROTOCOL, F_PAYLOAD, F_REQUEST_ID,
	F_ENCODING, F_DEADLINE, F_TRACEPARENT, F_TRACESTATE,
};
enum { A_VERB = 0, A_JSON, A_SERVICE, A_OUTPUT, A_DRAIN };

static const uint8_t frame_kinds[] = { K_U32, K_U32, K_U32, K_PAYLOAD,
	K_U64, K_U32, K_U64, K_TEXT, K_TEXT };
static const uint8_t admin_kinds[] = { K_U32, K_BOOL, K_TEXT, K_TEXT,
	K_U64 };

static void msg_feed(struct rp_framescan *s, int lvl, const uint8_t *p,
    size_t n);

static struct rp_framescan_msg *
msg_of(struct rp_framescan *s, int lvl)
{
	return lvl == 0 ? &s->top : &s->sub;
}

/* The kind of field tag at a level; its slot in *slot (-1: unknown). */
static int
kind_of(int lvl, uint64_t tag, int8_t *slot)
{
	const uint8_t *kinds = lvl == 0 ? frame_kinds : admin_kinds;
	uint64_t n = lvl == 0 ? sizeof(frame_kinds) : sizeof(admin_kinds);

	if (tag == 0 || tag > n) {
		*slot = -1;
		return K_UNKNOWN;
	}
	*slot = (int8_t)(tag - 1);
	return kinds[tag - 1];
}

static int
field_kind(int lvl, int8_t slot)
{
	if (slot < 0)
		return K_UNKNOWN;
	return lvl == 0 ? frame_kinds[slot] : admin_kinds[slot];
}

/* The text a slot keeps, and in which of the two budgets. */
static enum rp_framescan_text
text_of(int lvl, int8_t slot, int *group)
{
	*group = lvl;
	if (lvl == 0)
		return slot == F_TRACEPARENT ? RP_FRAMESCAN_TRACEPARENT :
		    RP_FRAMESCAN_TRACESTATE;
	return slot == A_SERVICE ? RP_FRAMESCAN_SERVICE_NAME :
	    RP_FRAMESCAN_OUTPUT_PATH;
}

static void
text_forget(struct rp_framescan *s, enum rp_framescan_text t, int group)
{
	struct rp_framescan_textval *v = &s->text[t];

	if (v->s != NULL) {
		s->kept[group] -= v->len;
		free(v->s);
	}
	memset(v, 0, sizeof(*v));
}

void
rp_framescan_init(struct rp_framescan *s, uint32_t len)
{
	memset(s, 0, sizeof(*s));
	s->top.left = len;
	s->top.field = -1;
	s->sub.field = -1;
}

void
rp_framescan_free(struct rp_framescan *s)
{
	text_forget(s, RP_FRAMESCAN_TRACEPARENT, 0);
	text_forget(s, RP_FRAMESCAN_TRACESTATE, 0);
	text_forget(s, RP_FRAMESCAN_SERVICE_NAME, 1);
	text_forget(s, RP_FRAMESCAN_OUTPUT_PATH, 1);
}

uint64_t
rp_framescan_left(const struct rp_framescan *s)
{
	return s->top.left;
}

/* A payload begins: the AdminRequest read so far is replaced by this one
 * (the last payload wins, whole). */
static void
admin_begin(struct rp_framescan *s, uint32_t len)
{
	s->verb = 0;
	s->json = 0;
	s->drain_deadline_ms = 0;
	text_forget(s, RP_FRAMESCAN_SERVICE_NAME, 1);
	text_forget(s, RP_FRAMESCAN_OUTPUT_PATH, 1);
	memset(&s->sub, 0, sizeof(s->sub));
	s->sub.left = len;
	s->sub.field = -1;
}

/* A key is whole. */
static void
key_done(struct rp_framescan *s, int lvl)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	uint64_t tag = m->acc >> 3;
	unsigned wt = (unsigned)(m->acc & 7);
	int k = kind_of(lvl, tag, &m->field);

	if (tag == 0) {
		m->bad = 1;
		return;
	}
	switch (wt) {
	case 0:
		m->bad = k == K_TEXT || k == K_PAYLOAD;
		m->st = ST_VARINT;
		break;
	case 1:
	case 5:
		m->bad = k != K_UNKNOWN;
		m->st = ST_FIXED;
		m->vleft = wt == 1 ? 8 : 4;
		break;
	case 2:
		m->bad = k == K_U32 || k == K_U64 || k == K_BOOL;
		m->st = ST_LEN;
		break;
	default:
		/* Groups (3, 4) and 6, 7: protobuf-c has none. */
		m->bad = 1;
		break;
	}
}

/* A varint value is whole: keep it when it is a field of ours.  Numbers
 * are truncated as protobuf-c truncates them (uint32, enum: the low 32
 * bits); a bool is true when any of its bytes has a value bit set. */
static void
varint_done(struct rp_framescan *s, int lvl)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	uint64_t v = m->acc;

	if (m->field < 0)
		return;
	if (lvl == 0) {
		switch (m->field) {
		case F_ENVELOPE:
			s->envelope_version = (uint32_t)v;
			break;
		case F_KIND:
			s->kind = (uint32_t)v;
			break;
		case F_PROTOCOL:
			s->payload_protocol = (uint32_t)v;
			break;
		case F_REQUEST_ID:
			s->request_id = v;
			break;
		case F_ENCODING:
			s->payload_encoding = (uint32_t)v;
			break;
		case F_DEADLINE:
			s->deadline_unix_ms = v;
			break;
		default:
			break;
		}
		return;
	}
	switch (m->field) {
	case A_VERB:
		s->verb = (uint32_t)v;
		break;
	case A_JSON:
		s->json = m->nz;
		break;
	case A_DRAIN:
		s->drain_deadline_ms = v;
		break;
	default:
		break;
	}
}

/* A length-delimited value of m->vleft bytes begins. */
static void
value_begin(struct rp_framescan *s, int lvl)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	struct rp_framescan_textval *v;
	enum rp_framescan_text t;
	int group;

	switch (field_kind(lvl, m->field)) {
	case K_PAYLOAD:
		admin_begin(s, m->vleft);
		return;
	case K_TEXT:
		memset(&m->utf8, 0, sizeof(m->utf8));
		t = text_of(lvl, m->field, &group);
		text_forget(s, t, group);
		v = &s->text[t];
		if (m->vleft > RP_FRAMESCAN_KEEP - s->kept[group] ||
		    (v->s = malloc((size_t)m->vleft + 1)) == NULL) {
			v->dropped = 1;
			return;
		}
		v->len = m->vleft;
		v->s[v->len] = '\0';
		s->kept[group] += v->len;
		return;
	default:
		return;
	}
}

static void
value_data(struct rp_framescan *s, int lvl, const uint8_t *p, size_t n)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	struct rp_framescan_textval *v;
	int group;

	switch (field_kind(lvl, m->field)) {
	case K_PAYLOAD:
		msg_feed(s, 1, p, n);
		return;
	case K_TEXT:
		if (rp_utf8_feed(&m->utf8, p, n) < 0) {
			m->bad = 1;
			return;
		}
		v = &s->text[text_of(lvl, m->field, &group)];
		if (v->s != NULL) {
			memcpy(v->s + v->fill, p, n);
			v->fill += (uint32_t)n;
		}
		return;
	default:
		return;
	}
}

static void
value_end(struct rp_framescan *s, int lvl)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);

	switch (field_kind(lvl, m->field)) {
	case K_PAYLOAD:
		/* The AdminRequest must end on a field boundary. */
		if (s->sub.st != ST_KEY || s->sub.nvar != 0)
			s->sub.bad = 1;
		return;
	case K_TEXT:
		if (rp_utf8_end(&m->utf8) < 0)
			m->bad = 1;
		return;
	default:
		return;
	}
}

/* One byte of a key, a varint or a length prefix (m->left already
 * counts it as taken). */
static void
byte_step(struct rp_framescan *s, int lvl, uint8_t b)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	/* How long a varint may be: a key or a length prefix 5 bytes (as
	 * protobuf-c reads them), a value 10. */
	unsigned max = m->st == ST_VARINT ? 10 : 5;

	if (m->nvar == 0) {
		/* protobuf-c refuses a key whose first byte has no field
		 * number bits, whatever follows. */
		if (m->st == ST_KEY && (b & 0xf8) == 0) {
			m->bad = 1;
			return;
		}
		m->acc = 0;
		m->nz = 0;
	}
	m->acc |= (uint64_t)(b & 0x7f) << (7 * m->nvar);
	m->nz |= (b & 0x7f) != 0;
	if (b & 0x80) {
		if (++m->nvar == max)
			m->bad = 1;
		return;
	}
	m->nvar = 0;
	switch (m->st) {
	case ST_KEY:
		key_done(s, lvl);
		return;
	case ST_VARINT:
		varint_done(s, lvl);
		m->st = ST_KEY;
		return;
	default:
		/* A length prefix: within what is left, and under 2 GiB as
		 * protobuf-c wants it. */
		if (m->acc > INT_MAX || m->acc > m->left) {
			m->bad = 1;
			return;
		}
		m->vleft = (uint32_t)m->acc;
		value_begin(s, lvl);
		if (m->vleft == 0) {
			value_end(s, lvl);
			m->st = ST_KEY;
		} else {
			m->st = ST_BYTES;
		}
		return;
	}
}

/* Take n bytes of the message at a level (n <= what is left of it). */
static void
msg_feed(struct rp_framescan *s, int lvl, const uint8_t *p, size_t n)
{
	struct rp_framescan_msg *m = msg_of(s, lvl);
	size_t k;

	while (n > 0) {
		if (m->bad) {
			/* Malformed: the rest is only counted. */
			m->left -= n;
			return;
		}
		if (m->st == ST_FIXED || m->st == ST_BYTES) {
			k = n < m->vleft ? n : m->vleft;
			m->left -= k;
			if (m->st == ST_BYTES)
				value_data(s, lvl, p, k);
			m->vleft -= (uint32_t)k;
			p += k;
			n -= k;
			if (m->vleft == 0 && !m->bad) {
				if (m->st == ST_BYTES)
					value_end(s, lvl);
				m->st = ST_KEY;
			}
			continue;
		}
		m->left--;
		byte_step(s, lvl, *p);
		p++;
		n--;
	}
}

size_t
rp_framescan_feed(struct rp_framescan *s, const uint8_t *p, size_t n)
{
	if (n > s->top.left)
		n = (size_t)s->top.left;
	msg_feed(s, 0, p, n);
	return n;
}

int
rp_framescan_frame_ok(const struct rp_framescan *s)
{
	return s->top.left == 0 && !s->top.bad && s->top.st == ST_KEY &&
	    s->top.nvar == 0;
}

int
rp_framescan_admin_ok(const struct rp_framescan *s)
{
	return rp_framescan_frame_ok(s) && !s->sub.bad &&
	    s->sub.st == ST_KEY && s->sub.nvar == 0 &&
	    !s->text[RP_FRAMESCAN_SERVICE_NAME].dropped &&
	    !s->text[RP_FRAMESCAN_OUTPUT_PATH].dropped;
}

const char *
rp_framescan_text(const struct rp_framescan *s, enum rp_framescan_text t)
{
	const struct rp_framescan_textval *v = &s->text[t];

	/* Dropped, or not all there (a body that is not read to its end,
	 * or malformed inside the string). */
	if (v->dropped || v->fill != v->len)
		return NULL;
	return v->s != NULL ? v->s : "";
}

/* A copy of a kept text for a decoded message: the empty string of
 * protobuf-c when empty or not kept (so rp_wire_free leaves it). */
static int
text_copy(const struct rp_framescan *s, enum rp_framescan_text t,
    char **out)
{
	const char *v = rp_framescan_text(s, t);

	*out = (char *)(uintptr_t)protobuf_c_empty_string;
	if (v == NULL || *v == '\0')
		return 0;
	if ((*out = strdup(v)) == NULL) {
		*out = (char *)(uintptr_t)protobuf_c_empty_string;
		return -1;
	}
	return 0;
}

Rp__Frame *
rp_framescan_frame(const struct rp_framescan *s)
{
	Rp__AdminRequest q = RP__ADMIN_REQUEST__INIT;
	struct rp_buf payload = { 0 };
	Rp__Frame *f;

	if (!rp_framescan_frame_ok(s)) {
		errno = EINVAL;
		return NULL;
	}
	if ((f = malloc(sizeof(*f))) == NULL)
		return NULL;
	rp__frame__init(f);
	f->envelope_version = s->envelope_version;
	f->kind = (Rp__FrameKind)s->kind;
	f->payload_protocol = s->payload_protocol;
	f->request_id = s->request_id;
	f->payload_encoding = (Rp__PayloadEncoding)s->payload_encoding;
	f->deadline_unix_ms = s->deadline_unix_ms;
	if (text_copy(s, RP_FRAMESCAN_TRACEPARENT, &f->traceparent) < 0 ||
	    text_copy(s, RP_FRAMESCAN_TRACESTATE, &f->tracestate) < 0)
		goto nomem;
	if (rp_framescan_admin_ok(s)) {
		q.verb = (Rp__AdminVerb)s->verb;
		q.json = s->json != 0;
		q.service_name = (char *)(uintptr_t)rp_framescan_text(s,
		    RP_FRAMESCAN_SERVICE_NAME);
		q.output_path = (char *)(uintptr_t)rp_framescan_text(s,
		    RP_FRAMESCAN_OUTPUT_PATH);
		q.drain_deadline_ms = s->drain_deadline_ms;
		if (rp_wire_pack(&payload, &q.base) < 0)
			goto nomem;
		/* The buffer becomes the message's (rp_wire_free frees it);
		 * an empty one is no payload. */
		f->payload.len = payload.len;
		f->payload.data = payload.len > 0 ? payload.data : NULL;
		if (payload.len == 0)
			rp_buf_free(&payload);
	}
	return f;
nomem:
	rp_wire_free(f);
	errno = ENOMEM;
	return NULL;
}
