/*
 * frame.h — v1 framing (spec 10-wire.md §1).
 *
 *   byte 0      0x01 framing version
 *   bytes 1..4  body length, u32 little-endian
 *   bytes 5..   body: one protobuf Frame
 *
 * Every read takes a cap chosen by its use (a Hello or admin request 64 KiB,
 * a probe reply or handoff Ack a few KiB, never above 16 MiB).  The length is
 * checked against the cap before anything is allocated or read, and a body
 * is allocated only once its header is complete, so an idle or trickling
 * peer costs a few bytes.  Readers consume exactly one frame's bytes and
 * never more: what follows stays in the socket for whoever owns it next
 * (this matters for handoff); only rp_frame_decoder_read_ahead reads past
 * the frame, for callers that own what follows.
 */
#ifndef RP_FRAME_H
#define RP_FRAME_H

#include <stddef.h>
#include <stdint.h>

#define RP_FRAME_VERSION 0x01
#define RP_FRAME_HEADER 5
#define RP_FRAME_MAX (16u * 1024u * 1024u)  /* any frame body */
#define RP_FRAME_HELLO_MAX (64u * 1024u)    /* first frame on a broker conn */
#define RP_FRAME_SMALL_MAX (8u * 1024u)     /* probe replies, handoff acks */

enum rp_frame_status {
	RP_FRAME_OK = 0,      /* a whole frame is available */
	RP_FRAME_MORE,        /* (decoder) need more bytes; try again later */
	RP_FRAME_EOF,         /* clean EOF before the first byte */
	RP_FRAME_BAD_VERSION, /* first byte was not 0x01 */
	RP_FRAME_TOO_LARGE,   /* announced length above the cap */
	RP_FRAME_INCOMPLETE,  /* EOF in the middle of a frame */
	RP_FRAME_TIMEOUT,     /* (blocking read) the deadline passed */
	RP_FRAME_IO,          /* a read error; errno says which */
};

/* A short lowercase description: "incomplete frame", ... */
const char *rp_frame_status_str(enum rp_frame_status st);

/* Write the 5-byte header for a body of len bytes. */
void rp_frame_header(uint8_t hdr[RP_FRAME_HEADER], uint32_t len);

/* Write one frame (header and body in a single write when possible).
 * Returns 0, or -1 with errno: EMSGSIZE when len > RP_FRAME_MAX (nothing is
 * written), ETIMEDOUT, EPIPE, ... */
int rp_frame_write(int fd, const void *body, size_t len, int64_t deadline);

/* Read one whole frame body (cap <= RP_FRAME_MAX) under the deadline.
 * On RP_FRAME_OK *body is malloc'd (NULL when *len == 0) and the caller
 * frees it; on any other status nothing is allocated.  RP_FRAME_IO leaves
 * errno set. */
enum rp_frame_status rp_frame_read(int fd, size_t cap, int64_t deadline,
    uint8_t **body, size_t *len);

/* The incremental decoder for non-blocking sockets.  Zero-initialising and
 * then rp_frame_decoder_init() is enough; its footprint before a header is
 * complete is sizeof(struct rp_frame_decoder). */
struct rp_frame_decoder {
	uint8_t *body;     /* allocated once the header is complete */
	size_t cap;
	uint32_t len;      /* announced body length */
	uint32_t have;     /* body bytes received */
	uint8_t hdr[RP_FRAME_HEADER];
	uint8_t hdr_have;
	uint8_t bad_byte;  /* the offending first byte, for messages */
};

void rp_frame_decoder_init(struct rp_frame_decoder *d, size_t cap);

/* Feed bytes from memory.  Consumes at most up to the end of the current
 * frame and reports how many it used in *used.  Returns RP_FRAME_OK (frame
 * complete), RP_FRAME_MORE, RP_FRAME_BAD_VERSION (as soon as the first byte
 * is seen), RP_FRAME_TOO_LARGE (as soon as the header is complete), or
 * RP_FRAME_IO with errno ENOMEM.  Feeding zero bytes means EOF: it returns
 * RP_FRAME_EOF before any byte, RP_FRAME_INCOMPLETE inside a frame. */
enum rp_frame_status rp_frame_decoder_feed(struct rp_frame_decoder *d,
    const uint8_t *data, size_t n, size_t *used);

/* Read from a non-blocking fd only the bytes the current frame still needs.
 * Returns as _feed, with RP_FRAME_MORE on EAGAIN and RP_FRAME_IO (errno) on
 * a read error. */
enum rp_frame_status rp_frame_decoder_read(struct rp_frame_decoder *d, int fd);

/* As _read, for a fd whose bytes after the frame are the caller's to
 * deal with (never one that may be handed on whole): one read of up to
 * bufsz bytes into buf (more reads only while each fills buf and the
 * frame is still short), fed to the decoder.  The bytes read past the end
 * of the frame, or past its header when it is RP_FRAME_TOO_LARGE (the
 * start of its body), are left at the start of buf, their count in
 * *extra; 0 on every other status (after RP_FRAME_BAD_VERSION the rest of
 * the read is dropped).  bufsz >= RP_FRAME_HEADER. */
enum rp_frame_status rp_frame_decoder_read_ahead(struct rp_frame_decoder *d,
    int fd, uint8_t *buf, size_t bufsz, size_t *extra);

/* After RP_FRAME_OK: take the body (caller frees; NULL when *len == 0) and
 * reset the decoder for the next frame. */
uint8_t *rp_frame_decoder_take(struct rp_frame_decoder *d, size_t *len);

/* Free anything held and start over. */
void rp_frame_decoder_reset(struct rp_frame_decoder *d);

#endif
