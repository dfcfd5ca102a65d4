/*
 * pty — bench/pty.sh's stopwatch: run a command N times and print the
 * wall time of the runs, so that the shell's own fork and exec cost is not
 * part of what is measured.
 *
 *   pty [-n N] [-i FILE] [-o FILE] -- CMD [ARGS...]
 *
 * stdin is /dev/null (or FILE with -i), stdout /dev/null (or FILE with
 * -o), stderr is ours.  Prints one line:
 *   runs=N min_us=... median_us=... mean_us=... failed=K
 * where failed counts runs that did not exit 0.  The command is started
 * with fork and execvp, independently of the library under test (and not
 * with posix_spawn: -Ilib makes <spawn.h> our own lib/spawn.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int
cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

static int
usage(void)
{
	fprintf(stderr, "usage: pty [-n N] [-i FILE] [-o FILE] -- CMD [ARGS...]\n");
	return 2;
}

int
main(int argc, char **argv)
{
	const char *in = "/dev/null", *out = "/dev/null";
	int64_t *t, t0, sum = 0;
	long n = 1;
	char *end;
	int c, i, status, failed = 0;
	pid_t pid;

	while ((c = getopt(argc, argv, "+n:i:o:")) != -1) {
		switch (c) {
		case 'n':
			errno = 0;
			n = strtol(optarg, &end, 10);
			if (errno != 0 || *end != '\0' || n < 1 || n > 100000)
				return usage();
			break;
		case 'i':
			in = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return usage();
		}
	}
	if (optind >= argc)
		return usage();
	t = calloc((size_t)n, sizeof(*t));
	if (t == NULL)
		return 1;
	for (i = 0; i < n; i++) {
		t0 = now_ns();
		pid = fork();
		if (pid < 0) {
			perror("fork");
			return 1;
		}
		if (pid == 0) {
			int fi = open(in, O_RDONLY);
			int fo = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);

			if (fi < 0 || fo < 0 || dup2(fi, 0) < 0 ||
			    dup2(fo, 1) < 0) {
				perror("pty: redirect");
				_exit(126);
			}
			if (fi > 1)
				close(fi);
			if (fo > 1)
				close(fo);
			execvp(argv[optind], argv + optind);
			perror(argv[optind]);
			_exit(127);
		}
		while (waitpid(pid, &status, 0) < 0)
			if (errno != EINTR) {
				perror("waitpid");
				return 1;
			}
		t[i] = now_ns() - t0;
		if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
			failed++;
		sum += t[i];
	}
	qsort(t, (size_t)n, sizeof(*t), cmp64);
	printf("runs=%ld min_us=%lld median_us=%lld mean_us=%lld failed=%d\n",
	    n, (long long)(t[0] / 1000), (long long)(t[n / 2] / 1000),
	    (long long)(sum / n / 1000), failed);
	free(t);
	return failed ? 1 : 0;
}
