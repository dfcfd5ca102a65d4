/* refusal.c — a refused transfer's class, from its Ack's error_detail
 * (see refusal.h). */
#include <string.h>

#include "refusal.h"

static const char *const names[REFUSALS] = {
	"replay", "store_full", "expired", "token", "fd", "offer", "other",
};

static int
starts(const char *s, const char *p)
{
	return strncmp(s, p, strlen(p)) == 0;
}

static int
ends(const char *s, const char *p)
{
	size_t n = strlen(s), m = strlen(p);

	return n >= m && strcmp(s + n - m, p) == 0;
}

enum refusal
refusal_of(const char *d)
{
	if (d == NULL)
		return REFUSAL_OTHER;
	if (strcmp(d, "handoff token is not pending") == 0)
		return REFUSAL_REPLAY;
	if (strcmp(d, "handoff token store is full") == 0)
		return REFUSAL_STORE_FULL;
	if (strcmp(d, "handoff token expired") == 0)
		return REFUSAL_EXPIRED;
	if (strcmp(d, "handoff token mismatch") == 0 ||
	    strcmp(d, "handoff token is missing") == 0 ||
	    starts(d, "handoff token length was "))
		return REFUSAL_TOKEN;
	if (strcmp(d, "no fd in the message") == 0 ||
	    ends(d, " fds in one message") ||
	    starts(d, "control message truncated"))
		return REFUSAL_FD;
	if (starts(d, "HandoffOffer frame exceeds"))
		return REFUSAL_OFFER;
	return REFUSAL_OTHER;
}

const char *
refusal_name(unsigned r)
{
	return r < REFUSALS ? names[r] : "unknown";
}
