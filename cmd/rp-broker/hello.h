/*
 * hello.h — the Hello pipeline of 10-wire.md §6, in the order of its
 * rows: a connection's first frame in, a Negotiated or a Refused out
 * (admin requests go to admin.c on the way).
 */
#ifndef RP_BROKER_HELLO_H
#define RP_BROKER_HELLO_H

#include <stddef.h>
#include <stdint.h>

#include "rp.h"

struct bkey;
struct broker;
struct conn;

/* c's whole first frame, body (ours to free) of len bytes. */
void hello_frame(struct broker *b, struct conn *c, uint8_t *body,
    size_t len);
/* c's first frame was over 64 KiB and has been read past (c->scan). */
void hello_big_frame(struct broker *b, struct conn *c);
/* The frame could not be read whole (rows 1-3; st an rp_frame_status). */
void hello_refuse_frame_status(struct broker *b, struct conn *c, int st);
/* c was accepted only to be refused: code 9 now. */
void hello_refuse_pressure_now(struct broker *b, struct conn *c);
/* c waited for k: negotiate (RP_REFUSE_NONE) or refuse. */
void hello_answer_waiter(struct broker *b, struct conn *c, struct bkey *k,
    enum rp_refusal id, const char *detail, uint64_t retry);
/* Free c's decoded frame and Hello. */
void hello_free_request(struct conn *c);

#endif
