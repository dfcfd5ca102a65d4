/*
 * framescan.h — a frame body judged as it streams past, without keeping
 * it: for the first frame of a broker connection when it is over the
 * 64 KiB cap (10-wire.md §6 row 2).  running-process v1 reads such a body
 * whole (up to 16 MiB), decodes it, and answers from what it found; this
 * reaches the same answer holding a few hundred bytes plus what the reply
 * echoes.
 *
 * The body is read as a Frame, field by field as the bytes arrive, in
 * pieces of any size: its scalars are kept (the last occurrence of each
 * wins), its trace context is kept, its payload is read in passing as an
 * AdminRequest (scalars and strings kept), and every other byte is looked
 * at once and dropped.  Kept text is bounded: RP_FRAMESCAN_KEEP bytes for
 * the two trace fields together, as much again for the AdminRequest's two
 * strings; a field past that is dropped (and said to be).
 *
 * The verdicts are those of rp_wire_unpack on the whole body (tested
 * against it): keys of at most 5 bytes and never field 0, varints of at
 * most 10 bytes, length prefixes of at most 5 bytes and never past what is
 * left, wire types 0, 1, 2 and 5 only (no groups), a known field only in
 * its own wire type, strings UTF-8 without NUL; unknown fields skipped.
 * The decoding budget of rp_wire_unpack does not apply: nothing is
 * allocated per field.
 */
#ifndef RP_FRAMESCAN_H
#define RP_FRAMESCAN_H

#include <stddef.h>
#include <stdint.h>

#include "frame.h"
#include "parse.h"
#include "rp_v1.pb-c.h"

#define RP_FRAMESCAN_KEEP RP_FRAME_HELLO_MAX

/* The text fields kept: two of the Frame, two of the AdminRequest. */
enum rp_framescan_text {
	RP_FRAMESCAN_TRACEPARENT = 0,
	RP_FRAMESCAN_TRACESTATE,
	RP_FRAMESCAN_SERVICE_NAME,
	RP_FRAMESCAN_OUTPUT_PATH,
	RP_FRAMESCAN_NTEXT
};

/* One message being read (private). */
struct rp_framescan_msg {
	uint64_t left;          /* bytes of it still to come */
	uint64_t acc;           /* the varint being read */
	uint32_t vleft;         /* bytes of the current value still to come */
	uint8_t st;             /* what the next byte is */
	uint8_t nvar;           /* bytes of the current varint so far */
	uint8_t nz;             /* one of them had a value bit set */
	int8_t field;           /* the current field's slot, -1 for unknown */
	uint8_t bad;            /* malformed (sticky) */
	struct rp_utf8 utf8;    /* the current string */
};

struct rp_framescan_textval {
	char *s;                /* NULL: absent or dropped; else len bytes
	                           and a NUL, fill of them there so far */
	uint32_t len, fill;
	uint8_t dropped;        /* the last occurrence was not kept */
};

struct rp_framescan {
	/* The Frame (valid once rp_framescan_frame_ok says so). */
	uint32_t envelope_version, kind, payload_protocol, payload_encoding;
	uint64_t request_id, deadline_unix_ms;
	/* Its (last) payload read as an AdminRequest. */
	uint32_t verb;
	int json;
	uint64_t drain_deadline_ms;
	struct rp_framescan_textval text[RP_FRAMESCAN_NTEXT];
	/* private */
	struct rp_framescan_msg top, sub;
	size_t kept[2];         /* text bytes kept: trace, admin */
};

/* Start on a body of len bytes.  Nothing is allocated yet. */
void rp_framescan_init(struct rp_framescan *s, uint32_t len);

/* Take the next bytes of the body: at most what is left of it (returned:
 * how many were taken).  Never fails: a malformed body is still read to
 * its end, as running-process v1 reads it before answering; a string
 * that cannot be kept (the cap, or no memory) is dropped. */
size_t rp_framescan_feed(struct rp_framescan *s, const uint8_t *p, size_t n);

/* Body bytes still to come. */
uint64_t rp_framescan_left(const struct rp_framescan *s);

/* Once nothing is left: 1 when the body is a Frame, else 0. */
int rp_framescan_frame_ok(const struct rp_framescan *s);
/* ... and its payload an AdminRequest whose strings were all kept. */
int rp_framescan_admin_ok(const struct rp_framescan *s);

/* A text field: "" when absent, NULL when dropped (or not all read). */
const char *rp_framescan_text(const struct rp_framescan *s,
    enum rp_framescan_text t);

/* The Frame found, as if decoded (free with rp_wire_free): its scalars,
 * the trace fields that were kept, and as payload the AdminRequest
 * re-encoded when rp_framescan_admin_ok, else none.  NULL with EINVAL
 * when the body is not a Frame (or not all read), ENOMEM. */
Rp__Frame *rp_framescan_frame(const struct rp_framescan *s);

/* Free what is kept; s may be initialised again. */
void rp_framescan_free(struct rp_framescan *s);

#endif
