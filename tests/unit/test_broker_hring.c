/* Unit tests for rp-broker's ring of handoffs in flight
 * (cmd/rp-broker/hring.c). */
#include <stdint.h>
#include <string.h>

#include "hring.h"
#include "t.h"

static struct hpend
pend(uint64_t corr)
{
	struct hpend p;

	memset(&p, 0, sizeof(p));
	p.corr = corr;
	p.deadline = (int64_t)corr * 10;
	memset(p.tok, (int)(corr & 0xff), sizeof(p.tok));
	return p;
}

/* Oldest first, across growth and wrap-around. */
static void
test_fifo_and_growth(void)
{
	struct hring r = { 0 };
	struct hpend p, out;
	uint64_t next = 1, want = 1;
	int i;

	/* Fill some, take some, so that the head moves before it grows. */
	for (i = 0; i < 10; i++) {
		p = pend(next++);
		T_EQ(hring_push(&r, &p), 0);
	}
	for (i = 0; i < 7; i++) {
		T_EQ(hring_pop(&r, &out), 1);
		T_UEQ(out.corr, want++);
	}
	for (i = 0; i < 100; i++) {
		p = pend(next++);
		T_EQ(hring_push(&r, &p), 0);
	}
	T_EQ(r.n, 103);
	T_OK(r.cap >= 103 && (r.cap & (r.cap - 1)) == 0);
	T_UEQ(hring_at(&r, 0)->corr, want);
	T_UEQ(hring_at(&r, 102)->corr, next - 1);
	T_EQ(hring_at(&r, 5)->deadline, (int64_t)(want + 5) * 10);
	while (hring_pop(&r, &out) == 1)
		T_UEQ(out.corr, want++);
	T_UEQ(want, next);
	T_EQ(r.n, 0);
	hring_free(&r);
	T_OK(r.q == NULL && r.cap == 0);
}

/* An Ack out of order: found by its correlation id, marked done, and
 * gone once everything before it is. */
static void
test_find_and_trim(void)
{
	struct hring r = { 0 };
	struct hpend p, *f;
	uint64_t c;

	for (c = 1; c <= 4; c++) {
		p = pend(c);
		T_EQ(hring_push(&r, &p), 0);
	}
	f = hring_find(&r, 3);
	T_OK(f != NULL && f->corr == 3 && f->tok[0] == 3);
	f->done = 1;
	T_OK(hring_find(&r, 3) == NULL);
	T_OK(hring_find(&r, 99) == NULL);
	hring_trim(&r);
	T_EQ(r.n, 4);                   /* 1 and 2 are still ahead of it */
	hring_find(&r, 1)->done = 1;
	hring_find(&r, 2)->done = 1;
	hring_trim(&r);
	T_EQ(r.n, 1);
	T_UEQ(hring_at(&r, 0)->corr, 4);
	hring_free(&r);
}

int
main(void)
{
	T_RUN(test_fifo_and_growth);
	T_RUN(test_find_and_trim);
	return t_done();
}
