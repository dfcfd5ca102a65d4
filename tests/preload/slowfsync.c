/*
 * slowfsync.so — an LD_PRELOAD library for the bats suites: fsync(2)
 * first sleeps $RP_SLOWFSYNC_MS milliseconds (when set), as on a disk
 * that is slow to flush, then is the C library's.  A test makes a write
 * done off the broker's loop (DUMP's output_path) last as long as it
 * needs, and stops the broker meanwhile.
 */
#include <dlfcn.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int
fsync(int fd)
{
	static int (*real)(int);
	const char *ms = getenv("RP_SLOWFSYNC_MS");
	struct timespec ts;
	long v;

	if (real == NULL)
		*(void **)&real = dlsym(RTLD_NEXT, "fsync");
	if (ms != NULL && (v = strtol(ms, NULL, 10)) > 0) {
		ts.tv_sec = v / 1000;
		ts.tv_nsec = (v % 1000) * 1000000L;
		while (nanosleep(&ts, &ts) != 0)
			;
	}
	return real(fd);
}
