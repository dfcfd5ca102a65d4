/* burst.c — how many connections to accept per wake-up (see burst.h). */
#include "burst.h"

int
burst_want(struct burst *s)
{
	if (s->n > 1)
		return s->n;
	if (++s->since >= BURST_PROBE_EVERY) {
		s->since = 0;
		return 2;
	}
	return 1;
}

void
burst_done(struct burst *s, int asked, int dry)
{
	if (dry || asked < 2) {
		s->n = 1;
		return;
	}
	s->n = (uint16_t)(asked * 2 > BURST_MAX ? BURST_MAX : asked * 2);
	s->since = 0;
}
