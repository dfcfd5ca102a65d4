/*
 * connq.h — a deadline queue of connections.  Every entry of one queue
 * gets the same timeout, counted from when it joined, so joining order is
 * deadline order: the head is always the first due, one timer for it
 * serves them all, and joining or leaving is O(1).
 *
 * A leaf: the queue links a struct connq_link that its owner embeds
 * (conn.c gets back its connection from the link); time is the caller's,
 * and arming a timer for the head is the caller's too.
 */
#ifndef RP_BROKER_CONNQ_H
#define RP_BROKER_CONNQ_H

#include <stddef.h>
#include <stdint.h>

struct connq;

struct connq_link {
	struct connq_link *prev, *next;
	struct connq *q;               /* the queue it is on, or NULL */
	int64_t deadline;              /* monotonic ms */
};

struct connq {
	struct connq_link *head, *tail;
	size_t n;
	int64_t timeout_ms;
};

void connq_init(struct connq *q, int64_t timeout_ms);

/* l (on no queue) joins q at now: its deadline is now + q's timeout. */
void connq_push(struct connq *q, struct connq_link *l, int64_t now);

/* l leaves its queue; nothing when it is on none. */
void connq_remove(struct connq_link *l);

/* The head when its deadline has come at now, else NULL. */
struct connq_link *connq_due(const struct connq *q, int64_t now);

#endif
