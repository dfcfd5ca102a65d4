/* fswatch.c — change notification with inotify(7) (see fs.h); where
 * there is no inotify, lib/fswatch_none.c answers ENOTSUP. */
#include <errno.h>
#include <unistd.h>

#include "fs.h"

#ifdef __linux__
#include <sys/inotify.h>

/* What may make a definition (or anything else checked by its stat)
 * different: never IN_ACCESS, IN_OPEN or IN_CLOSE_NOWRITE, which our own
 * reads make. */
#define CHANGES (IN_ATTRIB | IN_MODIFY | IN_CLOSE_WRITE | IN_CREATE | \
	IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_DELETE_SELF | \
	IN_MOVE_SELF)

int
rp_fs_watch_open(void)
{
	return inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
}

int
rp_fs_watch_add(int wfd, const char *path, int kind)
{
	uint32_t mask = CHANGES;

	if (kind == RP_FS_WATCH_DIR)
		mask |= IN_DONT_FOLLOW | IN_ONLYDIR;
	else if (kind != RP_FS_WATCH_FILE) {
		errno = EINVAL;
		return -1;
	}
	return inotify_add_watch(wfd, path, mask) < 0 ? -1 : 0;
}

int
rp_fs_watch_drain(int wfd)
{
	/* Aligned for struct inotify_event; what the events say is not
	 * looked at: any of them means "check again". */
	char buf[4096] __attribute__((aligned(__alignof__(struct
	    inotify_event))));
	int any = 0;
	ssize_t n;

	for (;;) {
		n = read(wfd, buf, sizeof(buf));
		if (n > 0) {
			any = 1;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return any;
		return n == 0 ? any : -1;
	}
}

#endif
