/*
 * deadline.c — deadlines as absolute monotonic milliseconds (see
 * deadline.h): the arithmetic every platform shares over its rp_now_ms.
 */
#include <limits.h>
#include <stdint.h>

#include "deadline.h"

int64_t
rp_deadline_in(int64_t timeout_ms)
{
	int64_t now = rp_now_ms();

	if (timeout_ms < 0 || timeout_ms >= RP_DEADLINE_NEVER - now)
		return RP_DEADLINE_NEVER;
	return now + timeout_ms;
}

int
rp_deadline_poll_ms(int64_t deadline)
{
	int64_t left;

	if (deadline == RP_DEADLINE_NEVER)
		return -1;
	left = deadline - rp_now_ms();
	if (left <= 0)
		return 0;
	if (left > INT_MAX)
		return INT_MAX;
	return (int)left;
}

int
rp_deadline_passed(int64_t deadline)
{
	return deadline != RP_DEADLINE_NEVER && rp_now_ms() >= deadline;
}
