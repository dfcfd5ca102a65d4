/* oneshot.c — rp-handoff-recv SOCKET: take transfers and use them. */
#include "rp.h"
#include "recv.h"

int
recv_oneshot(struct recv_opts *o)
{
	(void)o;
	recv_warn("one-shot mode is not built yet");
	return RP_EXIT_INTERNAL;
}
