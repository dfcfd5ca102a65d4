/* connq.c — a deadline queue of connections (see connq.h). */
#include "connq.h"

void
connq_init(struct connq *q, int64_t timeout_ms)
{
	q->head = q->tail = NULL;
	q->n = 0;
	q->timeout_ms = timeout_ms;
}

void
connq_push(struct connq *q, struct connq_link *l, int64_t now)
{
	l->deadline = now + q->timeout_ms;
	l->next = NULL;
	l->prev = q->tail;
	if (q->tail != NULL)
		q->tail->next = l;
	else
		q->head = l;
	q->tail = l;
	q->n++;
	l->q = q;
}

void
connq_remove(struct connq_link *l)
{
	struct connq *q = l->q;

	if (q == NULL)
		return;
	if (l->prev != NULL)
		l->prev->next = l->next;
	else
		q->head = l->next;
	if (l->next != NULL)
		l->next->prev = l->prev;
	else
		q->tail = l->prev;
	l->prev = l->next = NULL;
	l->q = NULL;
	q->n--;
}

struct connq_link *
connq_due(const struct connq *q, int64_t now)
{
	return q->head != NULL && q->head->deadline <= now ? q->head : NULL;
}
