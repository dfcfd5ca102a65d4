/*
 * rp-test-backend — a backend for the broker's tests, with ways to fail.
 *
 *   rp-test-backend MODE [ENDPOINT]
 *
 * ENDPOINT defaults to $RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE and the
 * namespace to $RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE, as a broker
 * sets them.  With $RP_TEST_ENV_DIR set, the environment it was started
 * with is written to $RP_TEST_ENV_DIR/<pid>.env first (one VAR=value a
 * line), and with $RP_TEST_BACKEND_DELAY_MS it waits that long before
 * doing anything (a slow starter).
 *
 * Modes:
 *   serve     listen and answer identity probes until killed
 *   exit N    exit with status N at once
 *   silent    listen and accept, never answer
 *   nolisten  never listen
 *   fork      a child listens and answers (so the pid is not ours)
 *   liar      answer claiming our parent's pid
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "rp.h"


static void
nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void
dump_env(void)
{
	const char *dir = getenv("RP_TEST_ENV_DIR");
	char path[4096], tmp[4200];
	FILE *f;
	size_t i;

	if (dir == NULL || *dir == '\0')
		return;
	snprintf(path, sizeof(path), "%s/%ld.env", dir, (long)getpid());
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if ((f = fopen(tmp, "w")) == NULL)
		return;
	for (i = 0; environ[i] != NULL; i++)
		fprintf(f, "%s\n", environ[i]);
	if (fclose(f) == 0)
		rename(tmp, path);
}

static int
serve(const char *endpoint, int answer, int lie)
{
	struct rp_sock_listener l;
	struct rp_identity id;
	struct rp_buf daemon = { 0 };
	const char *ns = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_NAMESPACE");
	char why[256];
	int fd;

	if (rp_sock_listen(endpoint, RP_DIR_SAFE, 64, &l, why,
	    sizeof(why)) < 0) {
		fprintf(stderr, "rp-test-backend: listen %s: %s: %s\n", endpoint,
		    why, strerror(errno));
		return 3;
	}
	if (rp_identity_self(&id, ns ? ns : "test", endpoint) < 0) {
		fprintf(stderr, "rp-test-backend: identity: %s\n",
		    strerror(errno));
		return 1;
	}
	if (lie)
		id.pid = (uint32_t)getppid();
	if (rp_identity_encode(&id, &daemon) < 0)
		return 1;
	rp_fd_set_nonblock(l.fd, 0);
	for (;;) {
		fd = rp_sock_accept(l.fd, 0);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return 1;
		}
		if (!answer)
			continue;       /* hold it, say nothing */
		(void)rp_probe_serve(fd, daemon.data, daemon.len,
		    rp_deadline_in(2000));
		close(fd);
	}
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "serve";
	const char *endpoint = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE");
	const char *delay = getenv("RP_TEST_BACKEND_DELAY_MS");
	pid_t pid;

	if (rp_init() < 0)
		return 125;
	dump_env();
	if (delay != NULL && *delay != '\0')
		nap_ms(strtol(delay, NULL, 10));
	if (strcmp(mode, "exit") == 0)
		return argc > 2 ? (int)strtol(argv[2], NULL, 10) : 0;
	if (argc > 2)
		endpoint = argv[2];
	if (endpoint == NULL || *endpoint == '\0') {
		fprintf(stderr, "rp-test-backend: no endpoint\n");
		return 2;
	}
	if (strcmp(mode, "serve") == 0)
		return serve(endpoint, 1, 0);
	if (strcmp(mode, "silent") == 0)
		return serve(endpoint, 0, 0);
	if (strcmp(mode, "liar") == 0)
		return serve(endpoint, 1, 1);
	if (strcmp(mode, "nolisten") == 0) {
		for (;;)
			pause();
	}
	if (strcmp(mode, "fork") == 0) {
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			dump_env();
			_exit(serve(endpoint, 1, 0));
		}
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return 0;
	}
	fprintf(stderr, "rp-test-backend: unknown mode %s\n", mode);
	return 2;
}
