/*
 * failrealloc.so — an LD_PRELOAD library for the bats suites: while the
 * file named by $RP_FAILREALLOC exists, realloc(3) of at least
 * $RP_FAILREALLOC_MIN bytes (default: any size) fails with ENOMEM, as it
 * does when memory runs out (large requests first); otherwise it is the C
 * library's.  A test makes a running daemon's buffers fail to grow at the
 * moment it chooses: create the file, send the request, remove the file.
 * With $RP_FAILREALLOC_ONCE set, one failure removes the file itself, so
 * that only that one allocation fails and the test sees it happened.
 * Only realloc is touched, which is how every rp_buf grows; malloc and
 * calloc (reading and decoding a request) keep working.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

void *
realloc(void *p, size_t n)
{
	static void *(*real)(void *, size_t);
	const char *flag, *min;
	struct stat st;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "realloc");
	/* Looked up on every call: the first ones may come before the
	 * environment is set up (a sanitizer's start-up). */
	flag = getenv("RP_FAILREALLOC");
	min = getenv("RP_FAILREALLOC_MIN");
	if (flag != NULL && stat(flag, &st) == 0 &&
	    n >= (min != NULL ? (size_t)strtoull(min, NULL, 10) : 0)) {
		if (getenv("RP_FAILREALLOC_ONCE") != NULL)
			(void)unlink(flag);
		errno = ENOMEM;
		return NULL;
	}
	return real(p, n);
}
