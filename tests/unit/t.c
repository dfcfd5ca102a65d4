/*
 * The unit-test harness (see t.h): what every platform shares.  Running
 * one test on its own, with a private directory, is the platform's part:
 * tests/unit/posix/t_run.c (a forked child per test) and
 * tests/unit/win/t_run.c (in the process).
 */
#include <stdarg.h>
#include <stdio.h>

#include "t.h"

int t_failed_here;
static int t_count, t_failures;

void
t_fail(const char *file, int line, const char *fmt, ...)
{
	va_list ap;

	t_failed_here = 1;
	fprintf(stdout, "# %s:%d: failed: ", file, line);
	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}

void
t_report(const char *name, int ok, const char *why)
{
	t_count++;
	if (ok) {
		printf("ok %d - %s\n", t_count, name);
	} else {
		t_failures++;
		if (why != NULL)
			printf("# %s: %s\n", name, why);
		printf("not ok %d - %s\n", t_count, name);
	}
	fflush(stdout);
}

int
t_done(void)
{
	printf("1..%d\n", t_count);
	return t_failures ? 1 : 0;
}
