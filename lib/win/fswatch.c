/* fswatch.c — change notification on Windows (see fs.h): not offered
 * (ENOTSUP); callers check every time instead.  ReadDirectoryChangesW
 * could stand in once the loop can wait on it. */
#include <errno.h>

#include "fs.h"

int
rp_fs_watch_open(void)
{
	errno = ENOTSUP;
	return -1;
}

int
rp_fs_watch_add(int wfd, const char *path, int kind)
{
	(void)wfd;
	(void)path;
	(void)kind;
	errno = ENOTSUP;
	return -1;
}

int
rp_fs_watch_drain(int wfd)
{
	(void)wfd;
	return 0;
}
