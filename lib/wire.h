/*
 * wire.h — the v1 messages: safe decoding, the envelope, Hello and its
 * refusals, admin, handoff (spec 10-wire.md).
 *
 * Decoding is memory-bounded: every unpack runs under an allocation budget
 * of RP_WIRE_ALLOC_FACTOR * len + RP_WIRE_ALLOC_SLACK bytes, so a hostile
 * body (protobuf-c allocates a whole struct per empty repeated submessage,
 * ~50x the input) fails as malformed instead of exhausting memory.
 * What decoding throws away is dropped before protobuf-c sees the body:
 * unknown top-level fields (skipped, as prost skips them; the decoded
 * message keeps no copy) and every occurrence of a singular scalar,
 * string or bytes field but its last (the last one wins).  So a valid
 * message whose fields are all singular (Frame, Hello, AdminRequest,
 * HandoffOffer ...) decodes whatever its length up to the frame limit and
 * however often a field repeats, while repeated fields and submessages,
 * which hold what they carry, stay under the budget.  That copy (at most
 * len bytes, freed before returning) is outside the budget.
 * Every decoded message is released with rp_wire_free().
 *
 * Decoding is also as strict as a proto3 peer about strings: a string
 * field that is not valid UTF-8 makes the message malformed (prost and
 * protobuf-c++ refuse it too), and so does one with an embedded NUL, which
 * a C string cannot carry (it would be silently cut short and checked
 * short).  Field number 0 is malformed, as in every other implementation.
 *
 * Encoders append to a struct rp_buf, in ascending field order with proto3
 * defaults left out (what protobuf-c does), so the bytes are those of any
 * other v1 implementation.  An encoder never emits invalid UTF-8: free text
 * (a refusal's detail, an Ack's error_detail) has bad sequences replaced
 * by U+FFFD; names and paths that are not UTF-8 fail with EILSEQ.
 */
#ifndef RP_WIRE_H
#define RP_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "rp_v1.pb-c.h"

#define RP_PROTOCOL_VERSION 1u        /* envelope_version and protocol */
#define RP_PP_CONTROL 0x0000u         /* Hello / HelloReply */
#define RP_PP_ADMIN 0xAD01u           /* AdminRequest / AdminReply */
#define RP_PP_PROBE 0xB232u           /* backend identity probe */
#define RP_PP_HANDOFF 0xD0FFu         /* HandoffOffer / HandoffAck / event */
#define RP_CAP_HANDLE_PASSING (UINT64_C(1) << 0)
#define RP_KEEPALIVE_DEFAULT_SECS 1800u

#define RP_KIND_REQUEST RP__FRAME_KIND__FRAME_KIND_REQUEST
#define RP_KIND_RESPONSE RP__FRAME_KIND__FRAME_KIND_RESPONSE
#define RP_KIND_EVENT RP__FRAME_KIND__FRAME_KIND_EVENT
#define RP_KIND_CANCEL RP__FRAME_KIND__FRAME_KIND_CANCEL

#define RP_WIRE_ALLOC_FACTOR 16u
#define RP_WIRE_ALLOC_SLACK 4096u

/* ------------------------------------------------------------ decoding */

/* The budget for a body of len bytes (saturating). */
size_t rp_wire_budget(size_t len);

/* Unpack `len` bytes as `desc` under the budget.  Returns the message, or
 * NULL with errno EPROTO (malformed), EMSGSIZE (decoding it would take
 * more than the budget: a hostile or absurd body, a protocol error too) or
 * ENOMEM (malloc failed).  Free with rp_wire_free(). */
void *rp_wire_unpack(const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len);
/* Free a decoded message (NULL is fine).  Anything unpacked by protobuf-c
 * with malloc-backed memory may be freed here. */
void rp_wire_free(void *msg);

/*
 * The budget allocator behind rp_wire_unpack, for tests and fuzz targets
 * that measure it.  alloc fails once the running total of bytes handed out
 * (frees are not subtracted) would pass the budget; free is plain free(3),
 * which is why rp_wire_free() needs no allocator state.  A caller may wrap
 * `base` (call the original alloc/free from its own) to watch every call.
 */
struct rp_wire_alloc {
	ProtobufCAllocator base;  /* what protobuf-c is given */
	size_t budget;
	size_t total;             /* bytes handed out so far */
	int over;                 /* an allocation was refused by the budget */
	int oom;                  /* malloc itself failed */
};
void rp_wire_alloc_init(struct rp_wire_alloc *a, size_t budget);

/* rp_wire_unpack with the caller's allocator (initialised with
 * rp_wire_alloc_init, budget chosen by the caller); same results. */
void *rp_wire_unpack_with(const ProtobufCMessageDescriptor *desc,
    const uint8_t *data, size_t len, struct rp_wire_alloc *a);

/* Append the packed bytes of msg to out (no framing). */
int rp_wire_pack(struct rp_buf *out, const ProtobufCMessage *msg);

/* 1 when s is text a decoder accepts in a string field (UTF-8 as strict
 * as decoding is), else 0; NULL (an unset field) is text.  For callers
 * that check what they are about to encode: rp_wire_pack() does not, and
 * bytes that are not UTF-8 make the whole message undecodable. */
int rp_wire_text_valid(const char *s);

/* ------------------------------------------------------------ envelope */

/* What a frame carries besides its payload.  For replies, request_id and
 * the trace fields are the ones echoed from the request. */
struct rp_frame_meta {
	uint32_t kind;             /* RP_KIND_* */
	uint32_t protocol;         /* RP_PP_* */
	uint64_t request_id;
	uint64_t deadline_unix_ms;
	const char *traceparent;   /* NULL or "" for none */
	const char *tracestate;
};

/* Fill m to answer frame f: kind RESPONSE, f's payload_protocol,
 * request_id and trace context (pointing into f, which must outlive m).
 * f == NULL (a request that did not decode) gives request_id 0, no trace. */
void rp_wire_echo(struct rp_frame_meta *m, const Rp__Frame *f);

/* Append one whole frame (5-byte header + Frame body) with the given raw
 * payload.  Returns 0 or -1 (ENOMEM, EMSGSIZE above RP_FRAME_MAX, EILSEQ
 * for trace fields that are not UTF-8); out is unchanged on failure. */
int rp_wire_frame_encode(struct rp_buf *out, const struct rp_frame_meta *m,
    const uint8_t *payload, size_t plen);

/* The same with a message as the payload. */
int rp_wire_frame_encode_msg(struct rp_buf *out,
    const struct rp_frame_meta *m, const ProtobufCMessage *payload);

/* Envelope checks of §4, in order; the first failure is reported. */
enum rp_envelope_fault {
	RP_ENV_OK = 0,
	RP_ENV_VERSION,   /* envelope_version != 1 */
	RP_ENV_KIND,      /* not the expected kind */
	RP_ENV_PROTOCOL,  /* not the expected payload_protocol */
	RP_ENV_ENCODING,  /* payload_encoding != NONE */
};
enum rp_envelope_fault rp_wire_envelope_check(const Rp__Frame *f,
    uint32_t kind, uint32_t protocol);
/* "envelope_version is not v1", "kind is not RESPONSE", ... */
const char *rp_wire_envelope_fault_str(enum rp_envelope_fault fault,
    uint32_t kind);

/* Decode a frame body and check its envelope against (kind, protocol) and,
 * when check_request_id, that request_id matches.  Returns the Frame, or
 * NULL with *why (static text) and errno EPROTO (malformed, or the wrong
 * envelope or request_id), EMSGSIZE (over the decoding budget) or ENOMEM. */
Rp__Frame *rp_wire_frame_parse(const uint8_t *body, size_t len,
    uint32_t kind, uint32_t protocol, int check_request_id,
    uint64_t request_id, const char **why);

/* ----------------------------------------------------- Hello, refusals */

/* The rows of the refusal table (10-wire.md §6). */
enum rp_refusal {
	RP_REFUSE_NONE = 0,
	RP_REFUSE_FRAMING_VERSION,   /*  1 */
	RP_REFUSE_TOO_LARGE,         /*  2 */
	RP_REFUSE_INCOMPLETE,        /*  3 */
	RP_REFUSE_MALFORMED_FRAME,   /*  4 */
	RP_REFUSE_ENVELOPE_VERSION,  /*  5 */
	RP_REFUSE_KIND,              /*  6 */
	RP_REFUSE_PAYLOAD_PROTOCOL,  /*  7 */
	RP_REFUSE_COMPRESSED,        /*  8 */
	RP_REFUSE_MALFORMED_HELLO,   /*  9 */
	RP_REFUSE_PROTOCOL_RANGE,    /* 10 */
	RP_REFUSE_SERVICE_NAME,      /* 11 */
	RP_REFUSE_WANTED_VERSION,    /* 12 */
	RP_REFUSE_CLIENT_VERSION,    /* 13 */
	RP_REFUSE_CLIENT_LIB,        /* 14 */
	RP_REFUSE_PEER_PID,          /* 15 */
	RP_REFUSE_RATE_LIMITED,      /* 16 */
	RP_REFUSE_SHUTTING_DOWN,     /* 17 */
	RP_REFUSE_FD_PRESSURE,       /* 18 */
	RP_REFUSE_MAX_CLIENTS,       /* 18, code 9 as well: over the
	                                broker's connection limit (not in
	                                running-process v1, whose only code 9
	                                is the fd one) */
	RP_REFUSE_NO_DEFINITION,     /* 19 */
	RP_REFUSE_NOT_REGISTERED,    /* 19, a backend table without the
	                                service (upstream's HelloHandler) */
	RP_REFUSE_DEFINITION_INVALID,/* 20 */
	RP_REFUSE_BELOW_MIN,         /* 21 */
	RP_REFUSE_NOT_ALLOWED,       /* 22 */
	RP_REFUSE_SPAWN_IN_PROGRESS, /* 23 */
	RP_REFUSE_SPAWN_BUDGET,      /* 24 */
	RP_REFUSE_SPAWN_FAILED,      /* 25 */
	RP_REFUSE_BACKEND_NOT_REGISTERED, /* 25, no backend for that version
	                                and nothing to start one with */
	/* 26, code 7, in running-process v1's three words for it: */
	RP_REFUSE_ISOLATION,         /* a definition's instance unresolved */
	RP_REFUSE_LAUNCH_MISMATCH,   /* a launched backend for another
	                                service or version */
	RP_REFUSE_INSTALL,           /* a backend that cannot be put in the
	                                table or on the wire */
	RP_REFUSE_BACKEND_STOPPED,   /* ours, code 3: the live backend is
	                                stopped by a signal (SIGSTOP...) */
	RP_REFUSE_COUNT,
	/* Not a row: no memory to decode the request (errno ENOMEM).
	 * running-process v1 has no answer for that (it aborts); nothing is
	 * sent. */
	RP_REFUSE_OUT_OF_MEMORY
};

/* retry_after_ms that the caller computes (rate limit, budget window). */
#define RP_RETRY_COMPUTED UINT64_MAX

struct rp_refusal_row {
	enum rp_refusal id;
	unsigned row;             /* row number in 10-wire.md §6 */
	uint32_t code;            /* ErrorCode */
	const char *reason;       /* exact text */
	uint64_t retry_after_ms;  /* or RP_RETRY_COMPUTED */
	int takes_detail;         /* reason is followed by ": <why>" */
};

/* The table as data, indexed by enum rp_refusal (entry 0 is unused). */
extern const struct rp_refusal_row rp_refusal_table[RP_REFUSE_COUNT];

/* Rows 1-3 from a framing status (BAD_VERSION, TOO_LARGE, INCOMPLETE or
 * EOF/IO/TIMEOUT); RP_REFUSE_NONE for RP_FRAME_OK and RP_FRAME_MORE (not a
 * failure yet). */
enum rp_refusal rp_wire_refusal_from_frame_status(int frame_status);

/* Rows 4-8 for the first frame on a broker connection: decodes the Frame
 * and checks its envelope, accepting payload_protocol 0 (Hello) and 0xAD01
 * (admin).  On RP_REFUSE_NONE *frame is the caller's to rp_wire_free();
 * otherwise *frame is NULL (when the body did not decode) or holds what
 * decoded, so the reply can still echo request_id and trace context.
 * A body over the decoding budget is row 4 like any malformed one; only a
 * failed malloc gives RP_REFUSE_OUT_OF_MEMORY (errno ENOMEM). */
enum rp_refusal rp_wire_request_parse(const uint8_t *body, size_t len,
    Rp__Frame **frame);

/* Row 9: the Frame's payload as a Hello (caller frees), or NULL. */
Rp__Hello *rp_wire_hello_decode(const Rp__Frame *frame);

/* Rows 10-15 for a decoded Hello; kernel_pid 0 means "not known".
 * Row 10 takes the range literally: [client_min_protocol,
 * client_max_protocol] must contain 1, so a Hello that leaves both at 0
 * (proto3 cannot tell unset from 0) is refused, as the reference does. */
enum rp_refusal rp_wire_hello_check(const Rp__Hello *h, uint32_t kernel_pid);

/* Append a whole reply frame refusing with `id`.  detail is appended to the
 * reason as ": detail" for rows that take one (NULL or "" gives the bare
 * reason; at most RP_WIRE_DETAIL_MAX bytes of it are kept, cut on a
 * character boundary; rows without <why> ignore it); retry_after_ms is
 * used for RP_RETRY_COMPUTED rows (and clamped to >= 1 there), the table's
 * value otherwise.  echo supplies request_id and trace context (NULL:
 * none).  -1 with EINVAL for RP_REFUSE_NONE or an unknown id. */
#define RP_WIRE_DETAIL_MAX 1024
int rp_wire_refused_encode(struct rp_buf *out,
    const struct rp_frame_meta *echo, enum rp_refusal id, const char *detail,
    uint64_t retry_after_ms);

struct rp_negotiated {
	const char *daemon_version;
	const char *backend_pipe;
	uint64_t server_capabilities;     /* bit 0 is set iff token_len > 0 */
	uint64_t keepalive_interval_secs; /* 0 = RP_KEEPALIVE_DEFAULT_SECS */
	const uint8_t *token;             /* handoff token or NULL */
	size_t token_len;
	uint64_t connection_id;
	const char *const *warnings;
	size_t n_warnings;
};

/* Append a whole reply frame carrying Negotiated (negotiated_protocol 1).
 * -1 with EINVAL when token_len is neither 0 nor 16, EILSEQ when a string
 * is not UTF-8. */
int rp_wire_negotiated_encode(struct rp_buf *out,
    const struct rp_frame_meta *echo, const struct rp_negotiated *n);

/* "VERSION_UNSUPPORTED", ... ("UNKNOWN" beyond the enum). */
const char *rp_wire_error_code_name(uint32_t code);
/* "SPAWN_ATTEMPT", ... ("UNSPECIFIED" for 0, "UNKNOWN" beyond). */
const char *rp_wire_event_kind_name(uint32_t kind);

/* --------------------------------------------------------------- admin */

/* Command-line verb names ("status", "list-instances", ...) to AdminVerb
 * and back.  _from_cli returns 0 or -1 (EINVAL). */
int rp_wire_admin_verb_from_cli(const char *name, uint32_t *verb);
const char *rp_wire_admin_verb_cli(uint32_t verb);   /* NULL if unknown */
/* The verbs, NULL-terminated, in the order of 20-broker.md. */
extern const char *const rp_wire_admin_verbs[];

/* The exact string running-process v1 sends: clients compare it. */
#define RP_OPENMETRICS_CONTENT_TYPE "application/openmetrics-text"

/* ------------------------------------------------------------- handoff */

/* Append the offer frame {1, REQUEST, 0xD0FF, request_id = correlation_id,
 * HandoffOffer{handle_value, token, service_name, correlation_id}}.  Any
 * token length is encoded (receivers judge it); service_name may be NULL. */
int rp_wire_offer_encode(struct rp_buf *out, const uint8_t *token,
    size_t token_len, const char *service_name, uint64_t correlation_id,
    uint64_t handle_value);

/* Parse an offer frame body: v1, REQUEST, 0xD0FF, NONE, decodes, and
 * offer.correlation_id == frame.request_id.  Returns the offer (caller
 * frees) or NULL with *why. */
Rp__HandoffOffer *rp_wire_offer_parse(const uint8_t *body, size_t len,
    const char **why);

/* Append an ack frame {1, kind (RESPONSE, or EVENT for the client's
 * handoff-ready event), 0xD0FF, request_id, HandoffAck{...}}. */
int rp_wire_ack_encode(struct rp_buf *out, uint32_t kind,
    uint64_t request_id, const uint8_t *token, size_t token_len,
    int accepted, const char *error_detail, uint64_t correlation_id);

/* Parse an ack frame body: v1, the given kind, 0xD0FF, NONE, request_id as
 * expected (when check_request_id; a receiver of pipelined Acks matches
 * them itself), decodes, and its correlation_id is the frame's request_id.
 * Returns the ack (caller frees) or NULL with *why. */
Rp__HandoffAck *rp_wire_ack_parse(const uint8_t *body, size_t len,
    uint32_t kind, int check_request_id, uint64_t request_id,
    const char **why);

#endif
