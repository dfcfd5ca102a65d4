/*
 * t.h — the unit-test harness.  Each test function runs on its own: on
 * POSIX systems in a forked child, so a crash or a sanitizer report fails
 * that test alone and LeakSanitizer checks every test separately; on
 * Windows in the process (there is no fork), where a crash ends the
 * executable and its runner counts that as a failure.  Output is TAP.
 *
 *   static void test_frame_cap(void) { T_EQ(f(1), 2); ... }
 *   int main(void) { T_RUN(test_frame_cap); ...; return t_done(); }
 */
#ifndef RP_TESTS_T_H
#define RP_TESTS_T_H

#include <stdint.h>
#include <string.h>

#include "cdefs.h"

void t_fail(const char *file, int line, const char *fmt, ...)
	RP_PRINTF(3, 4);
void t_run(const char *name, void (*fn)(void));
int t_done(void);
/* A fresh private temporary directory for this test (removed afterwards
 * by the runner); returns its path. */
const char *t_tmpdir(void);

/* Between tests/unit/t.c and the platform's t_run: the current test has
 * failed; record the verdict on one test (why: NULL, or a line saying
 * how it ended). */
extern int t_failed_here;
void t_report(const char *name, int ok, const char *why);

#define T_RUN(fn) t_run(#fn, fn)

#define T_OK(c)                                                         \
	do {                                                            \
		if (!(c))                                               \
			t_fail(__FILE__, __LINE__, "%s", #c);           \
	} while (0)

#define T_EQ(a, b)                                                      \
	do {                                                            \
		long long t_a_ = (long long)(a), t_b_ = (long long)(b); \
		if (t_a_ != t_b_)                                       \
			t_fail(__FILE__, __LINE__, "%s == %s (%lld != %lld)", \
			    #a, #b, t_a_, t_b_);                        \
	} while (0)

#define T_UEQ(a, b)                                                     \
	do {                                                            \
		unsigned long long t_a_ = (unsigned long long)(a);      \
		unsigned long long t_b_ = (unsigned long long)(b);      \
		if (t_a_ != t_b_)                                       \
			t_fail(__FILE__, __LINE__, "%s == %s (%llu != %llu)", \
			    #a, #b, t_a_, t_b_);                        \
	} while (0)

#define T_STR(a, b)                                                     \
	do {                                                            \
		const char *t_a_ = (a), *t_b_ = (b);                    \
		if (t_a_ == NULL || t_b_ == NULL || strcmp(t_a_, t_b_) != 0) \
			t_fail(__FILE__, __LINE__, "%s == %s (\"%s\" != \"%s\")", \
			    #a, #b, t_a_ ? t_a_ : "(null)",             \
			    t_b_ ? t_b_ : "(null)");                    \
	} while (0)

#define T_MEM(a, b, n)                                                  \
	do {                                                            \
		if (memcmp((a), (b), (n)) != 0)                         \
			t_fail(__FILE__, __LINE__, "memcmp(%s, %s, %s)",  \
			    #a, #b, #n);                                \
	} while (0)

#endif
