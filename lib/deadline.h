/*
 * deadline.h — absolute deadlines on the monotonic clock.
 *
 * Every wait in librp takes an absolute deadline in monotonic milliseconds
 * (never a relative timeout), so a peer that trickles bytes cannot extend
 * it: the remaining time only shrinks.
 */
#ifndef RP_DEADLINE_H
#define RP_DEADLINE_H

#include <stdint.h>

/* No deadline at all. */
#define RP_DEADLINE_NEVER INT64_MAX

/* Monotonic clock, milliseconds / nanoseconds since an arbitrary origin. */
int64_t rp_now_ms(void);
int64_t rp_now_ns(void);

/* Wall clock, milliseconds since the Unix epoch. */
int64_t rp_wall_ms(void);

/* now + timeout_ms; a negative timeout means RP_DEADLINE_NEVER.  Saturates
 * instead of overflowing. */
int64_t rp_deadline_in(int64_t timeout_ms);

/* Milliseconds left, for poll(2): 0 when passed, -1 for RP_DEADLINE_NEVER,
 * clamped to INT_MAX. */
int rp_deadline_poll_ms(int64_t deadline);

/* 1 when the deadline has passed, else 0. */
int rp_deadline_passed(int64_t deadline);

/* Sleep ms milliseconds (resumed after a signal, so the whole of it): for
 * a pause between retries, never to wait for something to be ready. */
void rp_sleep_ms(int64_t ms);

#endif
