/*
 * Unit tests for daemon: sd_notify datagrams to path and abstract sockets
 * (read back by a real datagram socket), the do-nothing and error cases,
 * and raising RLIMIT_NOFILE within the hard limit.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon.h"
#include "t.h"

/* A bound datagram socket; abstract when name starts with '@'. */
static int
dgram_bind(const char *name)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t n = strlen(name);
	socklen_t alen;
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	T_OK(fd >= 0);
	memcpy(sun.sun_path, name, n);
	if (name[0] == '@') {
		sun.sun_path[0] = '\0';
		alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n);
	} else {
		alen = sizeof(sun);
	}
	T_EQ(bind(fd, (struct sockaddr *)&sun, alen), 0);
	return fd;
}

static void
expect_dgram(int fd, const char *want)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);

	T_EQ(n, (ssize_t)strlen(want));
	T_MEM(buf, want, strlen(want));
}

static void
test_notify_path(void)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/notify", t_tmpdir());
	fd = dgram_bind(p);
	T_EQ(setenv("NOTIFY_SOCKET", p, 1), 0);
	T_EQ(rp_daemon_notify("READY=1"), 1);
	expect_dgram(fd, "READY=1");
	T_EQ(rp_daemon_notify_to(p, "STOPPING=1"), 1);
	expect_dgram(fd, "STOPPING=1");
	close(fd);
}

static void
test_notify_abstract(void)
{
	char name[64];
	int fd;

	snprintf(name, sizeof(name), "@rp-test-notify-%ld", (long)getpid());
	fd = dgram_bind(name);
	T_EQ(rp_daemon_notify_to(name, "READY=1"), 1);
	expect_dgram(fd, "READY=1");
	close(fd);
}

static void
test_notify_nothing_to_do(void)
{
	T_EQ(unsetenv("NOTIFY_SOCKET"), 0);
	T_EQ(rp_daemon_notify("READY=1"), 0);
	T_EQ(setenv("NOTIFY_SOCKET", "", 1), 0);
	T_EQ(rp_daemon_notify("READY=1"), 0);
	T_EQ(rp_daemon_notify_to(NULL, "READY=1"), 0);
}

static void
test_notify_errors(void)
{
	char p[256], lng[200];

	snprintf(p, sizeof(p), "%s/nobody-listens", t_tmpdir());
	errno = 0;
	T_EQ(rp_daemon_notify_to(p, "READY=1"), -1);
	T_EQ(errno, ENOENT);
	memset(lng, 'x', sizeof(lng) - 1);
	lng[0] = '/';
	lng[sizeof(lng) - 1] = '\0';
	errno = 0;
	T_EQ(rp_daemon_notify_to(lng, "READY=1"), -1);
	T_EQ(errno, ENAMETOOLONG);
	errno = 0;
	T_EQ(rp_daemon_notify_to(p, NULL), -1);
	T_EQ(errno, EINVAL);
}

static void
test_nofile_raise(void)
{
	struct rlimit rl;
	uint64_t soft = 0, hard = 0;

	T_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	T_OK(rl.rlim_max > 200);
	rl.rlim_cur = 64;
	T_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	/* Below the current limit: never lowered. */
	T_EQ(rp_daemon_nofile(32, &soft, &hard), 0);
	T_UEQ(soft, 64);
	T_UEQ(hard, rl.rlim_max);
	T_EQ(rp_daemon_nofile(150, &soft, NULL), 0);
	T_UEQ(soft, 150);
	T_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	T_UEQ(rl.rlim_cur, 150);
	/* Above the hard limit: as far as the hard limit. */
	T_EQ(rp_daemon_nofile(UINT64_MAX, &soft, &hard), 0);
	T_UEQ(soft, hard);
	T_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
	T_UEQ(rl.rlim_cur, rl.rlim_max);
}

static void
test_nofile_capped_by_hard(void)
{
	struct rlimit rl = { .rlim_cur = 40, .rlim_max = 100 };
	uint64_t soft = 0, hard = 0;

	T_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
	T_EQ(rp_daemon_nofile(5000, &soft, &hard), 0);
	T_UEQ(soft, 100);
	T_UEQ(hard, 100);
	/* The hard limit can be raised again (by root): no fixed ceiling. */
	T_UEQ(rp_daemon_fd_ceiling(), UINT64_MAX);
}

int
main(void)
{
	T_RUN(test_notify_path);
	T_RUN(test_notify_abstract);
	T_RUN(test_notify_nothing_to_do);
	T_RUN(test_notify_errors);
	T_RUN(test_nofile_raise);
	T_RUN(test_nofile_capped_by_hard);
	return t_done();
}
