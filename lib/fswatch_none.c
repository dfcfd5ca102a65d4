/* fswatch_none.c — change notification where there is none (see fs.h):
 * every system but Linux, Windows included.  ENOTSUP; callers check every
 * time instead.  (On Windows ReadDirectoryChangesW could stand in once
 * the loop can wait on it.) */
#include <errno.h>

#include "fs.h"

#ifndef __linux__

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

#endif
