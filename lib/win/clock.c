/* clock.c — the monotonic and wall clocks behind deadline.h, on Windows:
 * QueryPerformanceCounter and GetSystemTimePreciseAsFileTime. */
#include <limits.h>

#include "win.h"

#include "deadline.h"

/* 100 ns intervals from 1601-01-01 to 1970-01-01. */
#define EPOCH_DIFF 116444736000000000LL

int64_t
rp_now_ns(void)
{
	static LARGE_INTEGER freq;
	LARGE_INTEGER c;

	/* Both calls succeed on every Windows since XP; the frequency is
	 * fixed at boot, so racing first callers store the same value. */
	if (freq.QuadPart == 0)
		QueryPerformanceFrequency(&freq);
	QueryPerformanceCounter(&c);
	/* Whole seconds and the rest apart: no overflow for centuries. */
	return c.QuadPart / freq.QuadPart * 1000000000LL +
	    c.QuadPart % freq.QuadPart * 1000000000LL / freq.QuadPart;
}

int64_t
rp_now_ms(void)
{
	return rp_now_ns() / 1000000;
}

int64_t
rp_wall_ms(void)
{
	FILETIME ft;
	ULARGE_INTEGER u;

	GetSystemTimePreciseAsFileTime(&ft);
	u.LowPart = ft.dwLowDateTime;
	u.HighPart = ft.dwHighDateTime;
	return ((int64_t)u.QuadPart - EPOCH_DIFF) / 10000;
}

void
rp_sleep_ms(int64_t ms)
{
	while (ms > 0) {
		Sleep(ms > 0x7fffffff ? 0x7fffffffu : (DWORD)ms);
		ms -= 0x7fffffff;
	}
}
