/* Unit tests for rp-broker's connection deadline queue
 * (cmd/rp-broker/connq.c). */
#include <stddef.h>

#include "connq.h"
#include "t.h"

/* Joining order is deadline order; the due ones come out from the head. */
static void
test_order(void)
{
	struct connq q;
	struct connq_link l[4] = { { 0 } };
	int i;

	connq_init(&q, 100);
	for (i = 0; i < 4; i++)
		connq_push(&q, &l[i], 10 * i);
	T_EQ(q.n, 4);
	T_OK(q.head == &l[0] && q.tail == &l[3]);
	T_EQ(l[2].deadline, 120);
	T_OK(connq_due(&q, 99) == NULL);
	T_OK(connq_due(&q, 100) == &l[0]);
	connq_remove(&l[0]);
	T_OK(connq_due(&q, 100) == NULL);
	T_OK(connq_due(&q, 130) == &l[1]);
	connq_remove(&l[1]);
	T_OK(connq_due(&q, 130) == &l[2]);
}

/* Leaving from anywhere keeps the links straight; leaving twice, or from
 * no queue, is nothing. */
static void
test_remove_anywhere(void)
{
	struct connq q;
	struct connq_link l[3] = { { 0 } };
	struct connq_link lone = { 0 };

	connq_init(&q, 5);
	connq_push(&q, &l[0], 0);
	connq_push(&q, &l[1], 0);
	connq_push(&q, &l[2], 0);
	connq_remove(&l[1]);
	T_OK(l[1].q == NULL);
	T_OK(l[0].next == &l[2] && l[2].prev == &l[0]);
	connq_remove(&l[1]);
	connq_remove(&lone);
	T_EQ(q.n, 2);
	connq_remove(&l[2]);
	T_OK(q.tail == &l[0] && l[0].next == NULL);
	connq_remove(&l[0]);
	T_OK(q.head == NULL && q.tail == NULL);
	T_EQ(q.n, 0);
	T_OK(connq_due(&q, 1000) == NULL);
	/* And back on. */
	connq_push(&q, &l[1], 50);
	T_OK(q.head == &l[1] && l[1].q == &q);
	T_EQ(l[1].deadline, 55);
}

/* Two queues, each with its own timeout; a link knows which it is on. */
static void
test_two_queues(void)
{
	struct connq a, b;
	struct connq_link x = { 0 }, y = { 0 };

	connq_init(&a, 30000);
	connq_init(&b, 250);
	connq_push(&a, &x, 0);
	connq_push(&b, &y, 0);
	T_OK(x.q == &a && y.q == &b);
	T_OK(connq_due(&b, 250) == &y);
	T_OK(connq_due(&a, 250) == NULL);
	connq_remove(&y);
	T_EQ(b.n, 0);
	T_EQ(a.n, 1);
}

int
main(void)
{
	T_RUN(test_order);
	T_RUN(test_remove_anywhere);
	T_RUN(test_two_queues);
	return t_done();
}
