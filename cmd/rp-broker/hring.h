/*
 * hring.h — the transfers in flight on one handoff connection, oldest
 * first: a ring that grows by doubling.  Acks come back in the order the
 * transfers went, so the answered one is nearly always the oldest; one
 * answered out of order is marked done and dropped when it reaches the
 * head.
 *
 * A leaf: the ring and its entries only.
 */
#ifndef RP_BROKER_HRING_H
#define RP_BROKER_HRING_H

#include <stdint.h>

#include "token.h"

struct conn;

/* One transfer sent on a handoff connection, its Ack not yet read. */
struct hpend {
	uint64_t corr;                 /* correlation id = connection id */
	int64_t deadline;              /* monotonic ms */
	struct conn *c;                /* kept until the Ack when the broker
	                                  writes the event, else NULL */
	uint64_t value;                /* Windows: the handle given (for
	                                  rp_fdpass_take_back); Unix: 0 */
	uint8_t tok[RP_TOKEN_LEN];
	uint8_t done;                  /* answered out of order */
};

struct hring {
	struct hpend *q;               /* cap entries, cap a power of two */
	uint32_t cap, head, n;
};

/* Append a copy of p: 0, or -1 (out of memory; the ring is unchanged). */
int hring_push(struct hring *r, const struct hpend *p);

/* The i-th oldest (i < n). */
struct hpend *hring_at(const struct hring *r, uint32_t i);

/* The transfer in flight (not done) with correlation id corr, or NULL. */
struct hpend *hring_find(const struct hring *r, uint64_t corr);

/* Drop the done ones at the head. */
void hring_trim(struct hring *r);

/* Take the oldest off into *p: 1, or 0 when the ring is empty. */
int hring_pop(struct hring *r, struct hpend *p);

/* Empty it and give its memory back. */
void hring_free(struct hring *r);

#endif
