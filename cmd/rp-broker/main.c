/*
 * rp-broker — the running-process broker v1: serves Hello negotiation and
 * admin verbs on a Unix socket, loads service definitions, starts and
 * verifies backends, and tells clients where to find them.
 *
 * It runs in the foreground under a supervisor and never daemonizes.  This
 * file is main's straight line: parse, start, run, stop.  Start-up may
 * die() (nothing to undo yet: the loop has not run); once the socket
 * exists, every way out is stop()'s, which removes the socket and stops
 * the backends whatever ended the run.  doc/ARCHITECTURE.md says where
 * the rest lives.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

/* How long the way out waits for DUMP files still being written. */
#define DUMP_WAIT_MS 5000

const char cli_prog[] = "rp-broker";

static struct broker br;

/* Start-up only: one line "rp-broker: ..." on stderr, then exit(code). */
static void __attribute__((noreturn)) RP_PRINTF(2, 3)
die(int code, const char *f, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, f);
	vsnprintf(msg, sizeof(msg), f, ap);
	va_end(ap);
	cli_warn("%s", msg);
	events_abandon(&br.ev);
	exit(code);
}

/* ------------------------------------------------------------ start-up */

static void
resolve_socket(struct broker *b)
{
	struct config *c = &b->cfg;
	char dir[PATH_MAX];

	if (c->socket_src != CONFIG_SRC_DEFAULT)
		return;
	/* (On Windows the named pipe of 70-windows.md.) */
	if (rp_host_broker_endpoint(c->socket, sizeof(c->socket), c->iso,
	    c->instance_name) >= 0)
		return;
	if (cli_broker_dir(dir, sizeof(dir), b->euid) < 0)
		exit(RP_EXIT_USAGE);
	if (rp_names_broker_socket(c->socket, sizeof(c->socket), dir,
	    b->hash16, c->iso, c->instance_name) < 0)
		die(RP_EXIT_USAGE, "the default socket path under %s does not "
		    "fit a socket address; use -s", getenv("XDG_RUNTIME_DIR") ?
		    "$XDG_RUNTIME_DIR" : "/tmp");
}

/* Socket activation: LISTEN_PID is us and LISTEN_FDS is 1 → fd 3. */
static int
activation(struct broker *b)
{
	const char *lp = getenv("LISTEN_PID"), *lf = getenv("LISTEN_FDS");
	uint64_t pid, n;

	if (lp == NULL || lf == NULL)
		return 0;
	if (rp_parse_u64(lp, 1, UINT32_MAX, &pid) != 0 ||
	    pid != (uint64_t)b->pid)
		return 0;
	rp_daemon_forget_activation();
	if (rp_parse_u64(lf, 0, 1024, &n) != 0 || n != 1)
		die(RP_EXIT_USAGE, "socket activation passed LISTEN_FDS=%s; "
		    "exactly one listening socket is supported", lf);
	if (rp_sock_listen_fd(3, &b->lst) < 0)
		die(RP_EXIT_USAGE, "socket activation: fd 3 is not a listening "
		    "Unix stream socket: %s", strerror(errno));
	b->have_listener = 1;
	b->cfg.socket_src = CONFIG_SRC_ACTIVATION;
	snprintf(b->cfg.socket, sizeof(b->cfg.socket), "%s", b->lst.path);
	return 1;
}

static void
listen_socket(struct broker *b)
{
	char why[512];
	int err;
	/* Only the default runtime directories are made; an explicit
	 * path's directory must exist (a typo makes no tree). */
	int policy = RP_DIR_PRIVATE | (b->cfg.socket_src == CONFIG_SRC_DEFAULT ?
	    RP_DIR_CREATE : 0);

	if (rp_sock_listen(b->cfg.socket, policy, 4096, &b->lst, why,
	    sizeof(why)) == 0) {
		b->have_listener = 1;
		return;
	}
	err = errno;
	if (err == ENOENT && b->cfg.socket_src != CONFIG_SRC_DEFAULT)
		die(RP_EXIT_UNREACHABLE, "cannot listen on %s: %s (the directory "
		    "of a socket from %s is never created)", b->cfg.socket,
		    why[0] ? why : strerror(err),
		    b->cfg.socket_src == CONFIG_SRC_ENV ?
		    "$RUNNING_PROCESS_BROKER_V1_SOCKET" : "-s");
	switch (err) {
	case EADDRINUSE:
		die(RP_EXIT_UNREACHABLE, "another broker is live on %s",
		    b->cfg.socket);
	case ENAMETOOLONG:
		die(RP_EXIT_USAGE, "%s (from %s)", why,
		    config_src_name(b->cfg.socket_src));
	case EMFILE:
	case ENFILE:
	case ENOMEM:
		/* Our own resources, not the path's fault. */
		die(RP_EXIT_INTERNAL, "cannot listen on %s: %s%s%s",
		    b->cfg.socket, why, why[0] ? ": " : "", strerror(err));
	default:
		die(RP_EXIT_UNREACHABLE, "cannot listen on %s: %s%s%s",
		    b->cfg.socket, why, why[0] ? ": " : "", strerror(err));
	}
}

/* A backend's endpoints (the longer: its handoff one) must fit a socket
 * address in b->dir; said at start, not first at the first spawn. */
static void
endpoint_room(struct broker *b)
{
	static const uint8_t zero[16];
	char p[RP_SUN_PATH_MAX];
	int handoff;

	for (handoff = 0; handoff <= 1; handoff++) {
		if (rp_sock_backend_endpoint(p, sizeof(p), b->dir, b->hash16,
		    zero, handoff) < 0) {
			cli_warn("backend endpoints in %s would not fit a "
			    "socket address (%zu bytes at most): spawning "
			    "will fail; give -s a shorter directory", b->dir,
			    (size_t)RP_SUN_PATH_MAX - 1);
			return;
		}
	}
}

/* Backend endpoints live next to our socket when that directory is
 * private, else in the default broker directory. */
static void
endpoint_dir(struct broker *b)
{
	char why[256];

	/* Named pipes (Windows) need no directory. */
	if (rp_sock_namespace(b->dir, sizeof(b->dir)) > 0)
		return;
	if (b->lst.path[0] != '\0' &&
	    rp_fs_dirname(b->lst.path, b->dir, sizeof(b->dir)) == 0 &&
	    rp_fs_check_dir(b->dir, RP_DIR_PRIVATE, why, sizeof(why)) == 0)
		return;
	if (rp_names_broker_dir(b->dir, sizeof(b->dir),
	    getenv("XDG_RUNTIME_DIR"), b->euid) < 0) {
		cli_warn("no private directory for backend endpoints (the "
		    "socket's is not, and %s); spawning will fail",
		    errno == EINVAL ? "XDG_RUNTIME_DIR is not an absolute "
		    "path" : "the default one's name is too long");
		b->dir[0] = '\0';
		return;
	}
	if (rp_fs_check_dir(b->dir, RP_DIR_PRIVATE | RP_DIR_CREATE, why,
	    sizeof(why)) < 0) {
		cli_warn("no private directory for backend endpoints (%s %s); "
		    "spawning will fail", b->dir, why);
		b->dir[0] = '\0';
	}
}

static void
ready(struct broker *b)
{
	int fd = b->cfg.ready_fd;

	if (rp_daemon_ready_fd(&b->cfg.ready_fd) != 0)
		cli_warn("--ready-fd %d: %s", fd, strerror(errno));
	if (rp_daemon_notify("READY=1") < 0)
		cli_warn("sd_notify READY=1: %s", strerror(errno));
}

static void
broker_free(struct broker *b)
{
	backends_free(b);
	defs_close(&b->defs);
	conn_free_all(b);
	rp_buf_free(&b->scratch);
	rp_token_store_free(b->tokens);
	ratelimit_free(&b->rl);
	metrics_free(&b->m);
	events_close(&b->ev);
	config_free(&b->cfg);
}

/*
 * Everything before serving.  A failure before the socket exists dies at
 * once (there is nothing to undo); after it, the exit status is returned
 * and the way out is stop()'s like any other.
 */
static int
start(struct broker *b)
{
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD, SIGUSR1,
	    SIGUSR2, SIGXFSZ };
	char why[512];
	uint64_t want;
	size_t i;

	if (b->cfg.ready_fd >= 0)
		(void)rp_fd_set_cloexec(b->cfg.ready_fd, 1);
	b->reserve_fd = -1;
	b->ev.fd = -1;
	b->euid = rp_host_euid();
	b->pid = getpid();
	b->started_wall_ms = rp_wall_ms();
	b->started_ms = rp_now_ms();
	b->next_connection_id = 1;
	/* Read as running-process v1 reads it, so that both name this
	 * user's sockets alike (an unreadable machine-id is an error). */
	if (cli_machine_id(b->machine_id, sizeof(b->machine_id)) < 0)
		exit(RP_EXIT_INTERNAL);
	if (rp_host_user_hash(b->hash16, b->machine_id) < 0)
		die(RP_EXIT_INTERNAL, "cannot name this user's endpoints: %s",
		    strerror(errno));
	ratelimit_init(&b->rl, b->cfg.rate.n, b->cfg.rate.secs);
	if (metrics_init(&b->m) < 0 || handoff_init(b) < 0)
		die(RP_EXIT_INTERNAL, "out of memory");

	/* The default fits what the platform can hold at all (Windows: the
	 * C runtime's descriptor table); a value asked for that cannot be
	 * held is warned about below. */
	if (b->cfg.max_clients_src == CONFIG_SRC_DEFAULT &&
	    (uint64_t)b->cfg.max_clients + BROKER_FD_SLACK >
	    rp_daemon_fd_ceiling())
		b->cfg.max_clients = (uint32_t)(rp_daemon_fd_ceiling() -
		    BROKER_FD_SLACK);
	want = (uint64_t)b->cfg.max_clients + BROKER_FD_SLACK;
	if (rp_daemon_nofile(want, &b->nofile_soft, &b->nofile_hard) < 0)
		die(RP_EXIT_INTERNAL, "cannot read RLIMIT_NOFILE: %s",
		    strerror(errno));
	if (b->nofile_soft < want)
		cli_warn("RLIMIT_NOFILE is %llu (hard %llu), below the %llu "
		    "that --max-clients %u needs; accept will run out of fds "
		    "first", (unsigned long long)b->nofile_soft,
		    (unsigned long long)b->nofile_hard,
		    (unsigned long long)want, b->cfg.max_clients);

	if ((b->loop = rp_loop_new(b->cfg.loop_poll ? RP_LOOP_FORCE_POLL :
	    0)) == NULL)
		die(RP_EXIT_INTERNAL, "cannot create the event loop: %s",
		    strerror(errno));
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (rp_loop_signal(b->loop, sigs[i], broker_signal, b) < 0)
			die(RP_EXIT_INTERNAL, "cannot watch signal %d: %s",
			    sigs[i], strerror(errno));
	defs_init(&b->defs, b->cfg.service_dir, &b->ev, b->loop);
	if (events_open(&b->ev, b->cfg.events_path, b->cfg.instance_id) < 0)
		die(RP_EXIT_UNREACHABLE, "cannot open --events %s: %s",
		    b->cfg.events_path, strerror(errno));

	if (!activation(b))
		resolve_socket(b);

	/* Static backends must prove who they are before we serve. */
	for (i = 0; i < b->cfg.n_statics; i++)
		if (backends_add_static(b, &b->cfg.statics[i], why,
		    sizeof(why)) < 0)
			die(RP_EXIT_UNREACHABLE, "static backend %s@%s at %s: %s",
			    b->cfg.statics[i].service, b->cfg.statics[i].version,
			    b->cfg.statics[i].endpoint, why);

	if (!b->have_listener)
		listen_socket(b);

	/* From here on, the socket is ours to remove. */
	endpoint_dir(b);
	if (b->dir[0] != '\0')
		endpoint_room(b);
	children_sweep(b);
	b->reserve_fd = rp_fs_open_null();
	if (b->reserve_fd < 0) {
		cli_warn("cannot open the reserve fd: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	conn_queues_init(b);
	listen_start(b);
	if (!b->listening) {
		cli_warn("cannot watch the listening socket: %s",
		    strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	broker_log_start(b);
	ready(b);
	{
		int n = rp_fd_count();

		b->fd_base = n > 0 ? (size_t)n : 8;
	}
	return RP_EXIT_OK;
}

/* Serve until drained: 0, or 125 when the event loop itself failed. */
static int
run(struct broker *b)
{
	if (rp_loop_run(b->loop) == 0)
		return RP_EXIT_OK;
	cli_warn("event loop: %s; stopping", strerror(errno));
	return RP_EXIT_INTERNAL;
}

/*
 * The one way out, however the broker got here: after a drain (when all
 * of this is already done and nothing is left to do), after the loop
 * failed, or after start-up failed once the socket existed.  The socket
 * is removed, whoever is still connected is let go (waiting spawns are
 * answered "shutting down"), every backend we spawned is stopped and
 * reaped without the loop, and everything is freed.
 */
static void
stop(struct broker *b)
{
	if (b->have_listener) {
		listen_stop(b);
		rp_sock_unlisten(&b->lst);
		b->have_listener = 0;
	}
	backends_cancel_spawns(b);
	handoff_close_all(b);
	admin_work_end(b, rp_deadline_in(DUMP_WAIT_MS));
	conn_close_all(b);
	backends_stop_now(b);
	children_output_end(b);
	rp_fd_close(&b->reserve_fd);
	broker_log_end(b, 1000);
	rp_loop_free(b->loop);
	b->loop = NULL;
	broker_free(b);
}

int
main(int argc, char **argv)
{
	struct broker *b = &br;
	int rc;

	if (rp_init() < 0) {
		cli_warn("cannot initialise: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	config_parse(&b->cfg, argc, argv);
	if ((rc = start(b)) == RP_EXIT_OK)
		rc = run(b);
	else
		events_abandon(&b->ev);
	stop(b);
	return rc;
}
