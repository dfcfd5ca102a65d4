/* The unit-test harness (see t.h). */
#include <errno.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "t.h"

static int t_count, t_failures, t_failed_here;
static char t_dir[256];

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
	char dir[256];

	t_count++;
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
		printf("ok %d - %s\n", t_count, name);
	} else {
		t_failures++;
		if (WIFSIGNALED(status))
			printf("# %s: killed by signal %d\n", name,
			    WTERMSIG(status));
		else if (WEXITSTATUS(status) != 1)
			printf("# %s: exited %d\n", name, WEXITSTATUS(status));
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
