/*
 * The unit-test harness on POSIX systems (see t.h): each test runs in its
 * own forked child, so a crash or a sanitizer report fails that test
 * alone and LeakSanitizer checks every test separately.
 */
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../t.h"

static char t_dir[256];

const char *
t_tmpdir(void)
{
	if (t_dir[0] == '\0') {
		const char *base = getenv("TMPDIR");

		snprintf(t_dir, sizeof(t_dir), "%s/rp-unit-XXXXXX",
		    base && *base ? base : "/tmp");
		if (mkdtemp(t_dir) == NULL) {
			perror("mkdtemp");
			exit(99);
		}
	}
	return t_dir;
}

static int
rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void
t_run(const char *name, void (*fn)(void))
{
	pid_t pid;
	int status;
	char dir[256], why[64];

	fflush(stdout);
	snprintf(dir, sizeof(dir), "%s/rp-unit-XXXXXX",
	    getenv("TMPDIR") && *getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		exit(99);
	}
	pid = fork();
	if (pid < 0) {
		perror("fork");
		exit(99);
	}
	if (pid == 0) {
		memcpy(t_dir, dir, sizeof(dir));
		t_failed_here = 0;
		alarm(60);
		fn();
		fflush(stdout);
		exit(t_failed_here ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	nftw(dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
		t_report(name, 1, NULL);
	} else if (WIFSIGNALED(status)) {
		snprintf(why, sizeof(why), "killed by signal %d",
		    WTERMSIG(status));
		t_report(name, 0, why);
	} else if (WEXITSTATUS(status) != 1) {
		snprintf(why, sizeof(why), "exited %d", WEXITSTATUS(status));
		t_report(name, 0, why);
	} else {
		t_report(name, 0, NULL);
	}
}
