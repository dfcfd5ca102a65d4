/*
 * burst.h — how many connections to accept on one wake-up of the
 * listener.  Accepting until accept(2) says EAGAIN costs a failed call
 * (several microseconds here) on every wake-up, which at low load is
 * every Hello; accepting one per wake-up costs a wake-up per connection
 * when a backlog has built up.  So: one per wake-up while the backlog
 * keeps proving empty, and a growing batch once it proves deep.
 *
 *   * Ask for burst_want() connections (1 at first).
 *   * Say with burst_done() how many were asked for and whether the
 *     queue ran dry (an EAGAIN) before that.
 *   * Ran dry: back to 1.  Took all it asked for, and asked for 2 or
 *     more: the backlog is deep, ask for twice as many next time (at most
 *     BURST_MAX).  At 1, every BURST_PROBE_EVERY-th wake-up asks for 2,
 *     which is how a backlog is noticed at all.
 */
#ifndef RP_BROKER_BURST_H
#define RP_BROKER_BURST_H

#include <stdint.h>

#define BURST_MAX 128
#define BURST_PROBE_EVERY 8

struct burst {
	uint16_t n;        /* the next batch (0 means 1) */
	uint16_t since;    /* wake-ups at 1 since the last probe */
};

/* How many to accept on this wake-up: 1..BURST_MAX. */
int burst_want(struct burst *s);

/* asked connections were asked for; dry: the queue ran dry first. */
void burst_done(struct burst *s, int asked, int dry);

#endif
