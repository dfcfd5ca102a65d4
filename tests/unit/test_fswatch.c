/* Unit tests for change notification (lib/posix/fswatch.c): inotify on
 * Linux; ENOTSUP on the other systems. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs.h"
#include "t.h"

#ifdef __linux__

static char dir[512], file[600], sub[600], deep[700];

/* A directory with a file and a subdirectory with a file, the directory
 * and the first file watched; nothing pending. */
static int
setup(void)
{
	int wfd, fd;

	snprintf(dir, sizeof(dir), "%s/d", t_tmpdir());
	snprintf(file, sizeof(file), "%s/x", dir);
	snprintf(sub, sizeof(sub), "%s/sub", dir);
	snprintf(deep, sizeof(deep), "%s/y", sub);
	T_EQ(mkdir(dir, 0700), 0);
	T_EQ(mkdir(sub, 0700), 0);
	T_OK((fd = open(file, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	T_OK((fd = open(deep, O_WRONLY | O_CREAT, 0600)) >= 0);
	close(fd);
	T_OK((wfd = rp_fs_watch_open()) >= 0);
	T_EQ(rp_fs_watch_add(wfd, dir, RP_FS_WATCH_DIR), 0);
	T_EQ(rp_fs_watch_add(wfd, file, RP_FS_WATCH_FILE), 0);
	T_EQ(rp_fs_watch_drain(wfd), 0);
	return wfd;
}

/* Each kind of change is reported once; reading the file is not one. */
static void
test_changes(void)
{
	int wfd = setup(), fd;
	char buf[8];

	T_OK((fd = open(file, O_RDONLY)) >= 0);
	T_EQ(read(fd, buf, sizeof(buf)), 0);
	close(fd);
	T_EQ(rp_fs_watch_drain(wfd), 0);
	T_EQ(chmod(file, 0644), 0);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	T_EQ(rp_fs_watch_drain(wfd), 0);
	T_OK((fd = open(file, O_WRONLY | O_APPEND)) >= 0);
	T_EQ(write(fd, "a", 1), 1);
	close(fd);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	T_EQ(chmod(dir, 0750), 0);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	T_EQ(rename(file, sub), -1);    /* onto a directory: fails, silent */
	T_EQ(rp_fs_watch_drain(wfd), 0);
	T_EQ(unlink(file), 0);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	close(wfd);
}

/* A file outside the directory, watched by its own name, is seen whoever
 * changes it; one not watched is not. */
static void
test_file_elsewhere(void)
{
	int wfd = setup();

	T_EQ(chmod(deep, 0644), 0);
	T_EQ(rp_fs_watch_drain(wfd), 0);
	T_EQ(rp_fs_watch_add(wfd, deep, RP_FS_WATCH_FILE), 0);
	T_EQ(chmod(deep, 0600), 0);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	/* A second name for it, made elsewhere: its link count changed. */
	snprintf(file, sizeof(file), "%s/hard", t_tmpdir());
	T_EQ(link(deep, file), 0);
	T_EQ(rp_fs_watch_drain(wfd), 1);
	close(wfd);
}

/* A directory watch never follows a link; a missing path is ENOENT. */
static void
test_errors(void)
{
	char lnk[600];
	int wfd = setup();

	snprintf(lnk, sizeof(lnk), "%s/lnk", t_tmpdir());
	T_EQ(symlink(dir, lnk), 0);
	T_EQ(rp_fs_watch_add(wfd, lnk, RP_FS_WATCH_DIR), -1);
	T_EQ(errno, ENOTDIR);
	T_EQ(rp_fs_watch_add(wfd, deep, RP_FS_WATCH_DIR), -1);
	T_EQ(errno, ENOTDIR);
	snprintf(lnk, sizeof(lnk), "%s/none", t_tmpdir());
	T_EQ(rp_fs_watch_add(wfd, lnk, RP_FS_WATCH_FILE), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_fs_watch_add(wfd, dir, 3), -1);
	T_EQ(errno, EINVAL);
	close(wfd);
}

int
main(void)
{
	T_RUN(test_changes);
	T_RUN(test_file_elsewhere);
	T_RUN(test_errors);
	return t_done();
}

#else

static void
test_none(void)
{
	T_EQ(rp_fs_watch_open(), -1);
	T_EQ(errno, ENOTSUP);
}

int
main(void)
{
	T_RUN(test_none);
	return t_done();
}

#endif
