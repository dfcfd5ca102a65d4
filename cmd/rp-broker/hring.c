/* hring.c — the transfers in flight on a handoff connection (hring.h). */
#include <stdlib.h>

#include "hring.h"

#define HRING_MIN 16u

struct hpend *
hring_at(const struct hring *r, uint32_t i)
{
	return &r->q[(r->head + i) & (r->cap - 1)];
}

int
hring_push(struct hring *r, const struct hpend *p)
{
	struct hpend *nq;
	uint32_t i, ncap;

	if (r->n == r->cap) {
		ncap = r->cap ? r->cap * 2 : HRING_MIN;
		if ((nq = malloc(ncap * sizeof(*nq))) == NULL)
			return -1;
		for (i = 0; i < r->n; i++)
			nq[i] = *hring_at(r, i);
		free(r->q);
		r->q = nq;
		r->cap = ncap;
		r->head = 0;
	}
	*hring_at(r, r->n++) = *p;
	return 0;
}

struct hpend *
hring_find(const struct hring *r, uint64_t corr)
{
	struct hpend *p;
	uint32_t i;

	/* In order, so nearly always the first. */
	for (i = 0; i < r->n; i++) {
		p = hring_at(r, i);
		if (!p->done && p->corr == corr)
			return p;
	}
	return NULL;
}

void
hring_trim(struct hring *r)
{
	while (r->n > 0 && r->q[r->head].done) {
		r->head = (r->head + 1) & (r->cap - 1);
		r->n--;
	}
}

int
hring_pop(struct hring *r, struct hpend *p)
{
	if (r->n == 0)
		return 0;
	*p = r->q[r->head];
	r->head = (r->head + 1) & (r->cap - 1);
	r->n--;
	return 1;
}

void
hring_free(struct hring *r)
{
	free(r->q);
	r->q = NULL;
	r->cap = r->head = r->n = 0;
}
