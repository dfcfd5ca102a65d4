/*
 * fs_path.c — paths put together as the platform writes them (fs.h),
 * from the separator lib/posix and lib/win each name.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "fs.h"

int
rp_fs_join(char *out, size_t outsz, const char *dir, const char *name)
{
	size_t dl = strlen(dir);
	int n;

	while (dl > 0 && rp_fs_is_sep(dir[dl - 1]))
		dl--;
	if (dl > INT_MAX) {
		errno = ENAMETOOLONG;
		return -1;
	}
	n = snprintf(out, outsz, "%.*s%c%s", (int)dl, dir, rp_fs_sep(), name);
	if (n < 0 || (size_t)n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}
