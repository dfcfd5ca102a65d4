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
 * doing anything (a slow starter); with $RP_TEST_BACKEND_GATE=FILE it
 * waits until FILE exists (a starter held until the test releases it,
 * whatever the machine's load).
 *
 * Modes:
 *   serve     listen and answer identity probes until killed
 *   exit N    exit with status N at once
 *   silent    listen and accept, never answer
 *   nolisten  never listen
 *   fork      a child listens and answers (so the pid is not ours)
 *   liar      answer claiming our parent's pid
 *   handoff HOW
 *             a backend for rp-broker --handoff: this process becomes
 *             rp-handoff-recv --serve ENDPOINT --echo (found on PATH), so
 *             probes and reconnecting clients get the real thing, while
 *             $RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE gets HOW:
 *               real      rp-handoff-recv takes it too (a working handoff)
 *               none      nobody listens there
 *               refuse    every transfer is acked "not accepted"
 *               silent    transfers are taken and never acked (fds held)
 *               badtoken  acked "accepted" with another token
 *               badcorr   acked "accepted" with another correlation id
 *               die       the first transfer's fd is taken, then the
 *                         handoff side exits without an Ack
 *             For all but real and none a forked child plays HOW on the
 *             handoff socket (listened on before the exec, so it is there
 *             before the backend's identity is); it closes every fd it
 *             refuses, and exits with its process group.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include "rp.h"

/* Wait until path exists: inotify on its directory, checked after the
 * watch is in place so a creation in between is not missed. */
static void
wait_gate(const char *path)
{
	char dir[4096], buf[4096];
	char *slash;
	int fd;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash == NULL)
		snprintf(dir, sizeof(dir), ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	if ((fd = inotify_init1(IN_CLOEXEC)) < 0 ||
	    inotify_add_watch(fd, dir, IN_CREATE | IN_MOVED_TO) < 0) {
		perror("rp-test-backend: gate");
		exit(125);
	}
	while (access(path, F_OK) != 0)
		if (read(fd, buf, sizeof(buf)) < 0 && errno != EINTR) {
			perror("rp-test-backend: gate");
			exit(125);
		}
	close(fd);
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

/* One Ack frame for a transfer. */
static int
send_ack(int fd, const uint8_t *tok, size_t toklen, int accepted,
    const char *detail, uint64_t corr)
{
	struct rp_buf out = { 0 };
	int r;

	if (rp_wire_ack_encode(&out, RP_KIND_RESPONSE, corr, tok, toklen,
	    accepted, detail, corr) < 0)
		return -1;
	r = rp_io_write_full(fd, out.data, out.len, rp_deadline_in(2000));
	rp_buf_free(&out);
	return r;
}

/* The hostile side of one handoff connection from the broker. */
static void
handoff_conn(int c, const char *how)
{
	static int held[4096];
	static size_t nheld;
	Rp__HandoffOffer *o;
	uint8_t side[RP_TOKEN_LEN], *body, other[RP_TOKEN_LEN];
	const char *why;
	size_t got, len;
	int fd;

	for (;;) {
		/* Exactly the token with the fd, as the reference
		 * implementation's receiver reads it; the offer (sent in the
		 * same message by rp-broker) is then read from the stream. */
		if (rp_fdpass_recv(c, side, sizeof(side), &got, &fd, NULL,
		    RP_DEADLINE_NEVER) != RP_FDPASS_OK)
			return;
		if (strcmp(how, "die") == 0)
			_exit(0);
		if (rp_frame_read(c, RP_FRAME_SMALL_MAX, rp_deadline_in(2000),
		    &body, &len) != RP_FRAME_OK) {
			close(fd);
			return;
		}
		o = rp_wire_offer_parse(body, len, &why);
		free(body);
		if (o == NULL) {
			close(fd);
			return;
		}
		if (strcmp(how, "silent") == 0) {
			if (nheld < sizeof(held) / sizeof(held[0]))
				held[nheld++] = fd;
			else
				close(fd);
			rp_wire_free(o);
			continue;
		}
		close(fd);
		if (strcmp(how, "refuse") == 0) {
			(void)send_ack(c, o->token.data, o->token.len, 0,
			    "refused by rp-test-backend", o->correlation_id);
		} else if (strcmp(how, "badtoken") == 0) {
			rp_token_generate(other);
			(void)send_ack(c, other, sizeof(other), 1, NULL,
			    o->correlation_id);
		} else {
			(void)send_ack(c, o->token.data, o->token.len, 1, NULL,
			    o->correlation_id + 1000);
		}
		rp_wire_free(o);
	}
}

static int
handoff(const char *endpoint, const char *how)
{
	const char *hpipe = getenv("RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE");
	struct rp_sock_listener l;
	char why[256];
	pid_t pid;
	int c;

	if (strcmp(how, "real") != 0 && strcmp(how, "none") != 0) {
		if (hpipe == NULL || *hpipe == '\0') {
			fprintf(stderr, "rp-test-backend: no handoff pipe\n");
			return 2;
		}
		if (rp_sock_listen(hpipe, RP_DIR_SAFE, 16, &l, why,
		    sizeof(why)) < 0) {
			fprintf(stderr, "rp-test-backend: listen %s: %s: %s\n",
			    hpipe, why, strerror(errno));
			return 3;
		}
		pid = fork();
		if (pid < 0)
			return 1;
		if (pid == 0) {
			rp_fd_set_nonblock(l.fd, 0);
			for (;;) {
				c = rp_sock_accept(l.fd, 0);
				if (c < 0) {
					if (errno == EINTR ||
					    errno == ECONNABORTED)
						continue;
					_exit(1);
				}
				handoff_conn(c, how);
				close(c);
			}
		}
		close(l.fd);
	}
	if (strcmp(how, "real") != 0)
		unsetenv("RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE");
	execlp("rp-handoff-recv", "rp-handoff-recv", "--serve", endpoint,
	    "--echo", (char *)NULL);
	fprintf(stderr, "rp-test-backend: exec rp-handoff-recv: %s\n",
	    strerror(errno));
	return 127;
}

int
main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "serve";
	const char *endpoint = getenv("RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE");
	const char *delay = getenv("RP_TEST_BACKEND_DELAY_MS");
	const char *gate = getenv("RP_TEST_BACKEND_GATE");
	pid_t pid;

	if (rp_init() < 0)
		return 125;
	dump_env();
	if (delay != NULL && *delay != '\0')
		rp_sleep_ms(strtol(delay, NULL, 10));
	if (gate != NULL && *gate != '\0')
		wait_gate(gate);
	if (strcmp(mode, "exit") == 0)
		return argc > 2 ? (int)strtol(argv[2], NULL, 10) : 0;
	if (strcmp(mode, "handoff") == 0) {
		if (argc < 3) {
			fprintf(stderr, "rp-test-backend: handoff HOW\n");
			return 2;
		}
		if (endpoint == NULL || *endpoint == '\0')
			return 2;
		return handoff(endpoint, argv[2]);
	}
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
