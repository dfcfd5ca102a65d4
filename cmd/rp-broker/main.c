/*
 * rp-broker — the running-process broker v1: serves Hello negotiation and
 * admin verbs on a Unix socket, loads service definitions, starts and
 * verifies backends, and tells clients where to find them.
 *
 * It runs in the foreground under a supervisor and never daemonizes.  This
 * file holds the options, the configuration (with where each value came
 * from), start-up, readiness and the stopping sequence; the rest is split
 * by concern (conn.c, hello.c, backend.c, admin.c, metrics.c, events.c,
 * ratelimit.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

/* The first lines are the man page's SYNOPSIS, verbatim (a test checks). */
static const char usage_text[] =
"rp-broker [-s SOCKET] [-d DIR] [-b SERVICE@VERSION=ENDPOINT]...\n"
"          [--instance NAME | --private SERVICE] [--allow-uid UID]...\n"
"          [--hello-timeout MS] [--rate-limit N/SECS] [--spawn-budget N/SECS]\n"
"          [--spawn-timeout MS] [--spawn-waiters N] [--probe-interval MS]\n"
"          [--probe-timeout MS] [--max-clients N] [--drain-timeout MS]\n"
"          [--events FILE] [--ready-fd N]\n"
"rp-broker -h | --help | -V | --version\n"
"\n"
"  -s, --socket PATH        listen here (else $RUNNING_PROCESS_BROKER_V1_SOCKET,\n"
"                           else the instance's default socket)\n"
"  -d, --service-dir DIR    service definitions (else\n"
"                           $RUNNING_PROCESS_SERVICE_DEF_DIR, else\n"
"                           $XDG_CONFIG_HOME/running-process/services)\n"
"  -b, --backend S@V=PATH   a running backend for service S version V\n"
"      --instance NAME      serve the explicit instance NAME\n"
"      --private SERVICE    serve SERVICE's private instance\n"
"      --allow-uid UID      also serve clients of this uid\n"
"      --hello-timeout MS   deadline for a client's frame (30000)\n"
"      --rate-limit N/SECS  Hellos per peer pid and window (256/1; 0: off)\n"
"      --spawn-budget N/SECS  spawns per backend and window (3/30)\n"
"      --spawn-timeout MS   deadline for a spawned backend's identity (10000)\n"
"      --spawn-waiters N    Hellos that may wait for one spawn (64)\n"
"      --probe-interval MS  re-verify a static backend after this (5000)\n"
"      --probe-timeout MS   deadline of one identity probe (500)\n"
"      --max-clients N      connections at once (4096)\n"
"      --drain-timeout MS   how long a graceful stop may take (10000)\n"
"      --events FILE        append lifecycle events as JSON lines\n"
"      --ready-fd N         write a newline to fd N once listening\n";

#define ENV_SOCKET "RUNNING_PROCESS_BROKER_V1_SOCKET"
#define ENV_HELLO_TIMEOUT "RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS"
#define ENV_DEF_DIR "RUNNING_PROCESS_SERVICE_DEF_DIR"

/* Room for what is not a client: listener, loop, signals, events, the
 * reserve, probes, spawning. */
#define FD_SLACK 64
#define STOP_GRACE_MS 2000

enum {
	OPT_INSTANCE = 256,
	OPT_PRIVATE,
	OPT_ALLOW_UID,
	OPT_HELLO_TIMEOUT,
	OPT_RATE_LIMIT,
	OPT_SPAWN_BUDGET,
	OPT_SPAWN_TIMEOUT,
	OPT_SPAWN_WAITERS,
	OPT_PROBE_INTERVAL,
	OPT_PROBE_TIMEOUT,
	OPT_MAX_CLIENTS,
	OPT_DRAIN_TIMEOUT,
	OPT_EVENTS,
	OPT_READY_FD,
};

static const struct option longopts[] = {
	{ "socket", required_argument, NULL, 's' },
	{ "service-dir", required_argument, NULL, 'd' },
	{ "backend", required_argument, NULL, 'b' },
	{ "instance", required_argument, NULL, OPT_INSTANCE },
	{ "private", required_argument, NULL, OPT_PRIVATE },
	{ "allow-uid", required_argument, NULL, OPT_ALLOW_UID },
	{ "hello-timeout", required_argument, NULL, OPT_HELLO_TIMEOUT },
	{ "rate-limit", required_argument, NULL, OPT_RATE_LIMIT },
	{ "spawn-budget", required_argument, NULL, OPT_SPAWN_BUDGET },
	{ "spawn-timeout", required_argument, NULL, OPT_SPAWN_TIMEOUT },
	{ "spawn-waiters", required_argument, NULL, OPT_SPAWN_WAITERS },
	{ "probe-interval", required_argument, NULL, OPT_PROBE_INTERVAL },
	{ "probe-timeout", required_argument, NULL, OPT_PROBE_TIMEOUT },
	{ "max-clients", required_argument, NULL, OPT_MAX_CLIENTS },
	{ "drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT },
	{ "events", required_argument, NULL, OPT_EVENTS },
	{ "ready-fd", required_argument, NULL, OPT_READY_FD },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

void
say(const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line) - 1)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write per line, so lines from backends sharing our stderr
	 * never cut into ours. */
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return;
}

void
fmt(char *dst, size_t n, const char *f, ...)
{
	va_list ap;
	int r;
	size_t end;

	if (n == 0)
		return;
	va_start(ap, f);
	r = vsnprintf(dst, n, f, ap);
	va_end(ap);
	if (r < 0) {
		dst[0] = '\0';
		return;
	}
	if ((size_t)r < n)
		return;
	/* Cut: back off to the start of a UTF-8 sequence. */
	end = n - 1;
	while (end > 0 && ((unsigned char)dst[end] & 0xc0) == 0x80)
		end--;
	dst[end] = '\0';
}

static void __attribute__((noreturn, format(printf, 2, 3)))
die(int code, const char *fmt, ...)
{
	char msg[900];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(PROG ": %s", msg);
	exit(code);
}

static void __attribute__((noreturn, format(printf, 1, 2)))
usage_error(const char *fmt, ...)
{
	char msg[600];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	say(PROG ": %s (try --help)", msg);
	exit(RP_EXIT_USAGE);
}

const char *
src_name(enum src s)
{
	switch (s) {
	case SRC_ENV:
		return "env";
	case SRC_FLAG:
		return "flag";
	case SRC_ACTIVATION:
		return "socket-activation";
	default:
		return "default";
	}
}

/* Strict unsigned decimal (lib/parse.h): digits only, within range. */
static int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	return rp_parse_u64(s, min, max, out);
}

static uint64_t
opt_u64(const char *name, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) != 0)
		usage_error("%s: \"%s\" is not a number from %llu to %llu",
		    name, s, (unsigned long long)min,
		    (unsigned long long)max);
	return v;
}

/* "N/SECS"; for the rate limit, a bare "0" too. */
static void
opt_rate(const char *name, const char *s, int zero_ok, uint32_t *n,
    uint32_t *secs)
{
	char buf[64];
	const char *slash = strchr(s, '/');
	uint64_t a, w;

	if (zero_ok && strcmp(s, "0") == 0) {
		*n = 0;
		*secs = 1;
		return;
	}
	if (slash == NULL || (size_t)(slash - s) >= sizeof(buf))
		usage_error("%s: \"%s\" is not N/SECS", name, s);
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	if (parse_u64(buf, 0, UINT32_MAX, &a) != 0 ||
	    parse_u64(slash + 1, 1, 86400, &w) != 0)
		usage_error("%s: \"%s\" is not N/SECS (N 0..%u, SECS "
		    "1..86400)", name, s, UINT32_MAX);
	*n = (uint32_t)a;
	*secs = (uint32_t)w;
}

static void
opt_static(struct config *c, const char *s)
{
	const char *at = strchr(s, '@'), *eq;
	struct static_spec *sp, *ns;
	size_t sl, vl;

	eq = at ? strchr(at, '=') : NULL;
	if (at == NULL || eq == NULL)
		usage_error("--backend: \"%s\" is not SERVICE@VERSION=ENDPOINT",
		    s);
	sl = (size_t)(at - s);
	vl = (size_t)(eq - at - 1);
	if (!rp_names_service_valid(s, sl))
		usage_error("--backend: invalid service name in \"%s\"", s);
	if (vl > RP_VERSION_MAX || !rp_names_version_valid(at + 1, vl))
		usage_error("--backend: invalid version in \"%s\"", s);
	if (eq[1] == '\0' || rp_names_sun_path_fits(eq + 1) != 0)
		usage_error("--backend: the endpoint in \"%s\" is empty or "
		    "does not fit a socket address", s);
	ns = realloc(c->statics, (c->n_statics + 1) * sizeof(*ns));
	if (ns == NULL)
		die(RP_EXIT_INTERNAL, "out of memory");
	c->statics = ns;
	sp = &ns[c->n_statics];
	memset(sp, 0, sizeof(*sp));
	memcpy(sp->service, s, sl);
	memcpy(sp->version, at + 1, vl);
	memcpy(sp->endpoint, eq + 1, strlen(eq + 1) + 1);
	for (size_t i = 0; i < c->n_statics; i++)
		if (strcmp(ns[i].service, sp->service) == 0 &&
		    strcmp(ns[i].version, sp->version) == 0)
			usage_error("--backend: %s@%s is given twice",
			    sp->service, sp->version);
	c->n_statics++;
}

static void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->iso = RP_ISOLATION_SHARED;
	c->hello_timeout_ms = 30000;
	c->rate_n = 256;
	c->rate_secs = 1;
	c->budget_n = 3;
	c->budget_secs = 30;
	c->spawn_timeout_ms = 10000;
	c->spawn_waiters = 64;
	c->probe_interval_ms = 5000;
	c->probe_timeout_ms = RP_PROBE_TIMEOUT_MS;
	c->max_clients = 4096;
	c->drain_timeout_ms = 10000;
	c->ready_fd = -1;
}

static void
parse_args(struct config *c, int argc, char **argv)
{
	const char *sock = NULL, *dir = NULL, *env;
	uint64_t v;
	uint32_t *nu;
	int ch, have_inst = 0, have_priv = 0;

	config_defaults(c);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":s:d:b:hV", longopts, NULL)) !=
	    -1) {
		switch (ch) {
		case 's':
			sock = optarg;
			break;
		case 'd':
			dir = optarg;
			break;
		case 'b':
			opt_static(c, optarg);
			break;
		case OPT_INSTANCE:
		case OPT_PRIVATE:
			if (!rp_names_instance_valid(optarg, strlen(optarg)))
				usage_error("--%s: invalid name \"%s\" (1-64 "
				    "of [a-z0-9-])", ch == OPT_INSTANCE ?
				    "instance" : "private", optarg);
			if ((ch == OPT_INSTANCE ? have_priv : have_inst) ||
			    have_inst + have_priv > 0)
				usage_error("--instance and --private are given "
				    "together or twice");
			if (ch == OPT_INSTANCE)
				have_inst = 1;
			else
				have_priv = 1;
			c->iso = ch == OPT_INSTANCE ? RP_ISOLATION_EXPLICIT :
			    RP_ISOLATION_PRIVATE;
			snprintf(c->instance_name, sizeof(c->instance_name),
			    "%s", optarg);
			c->instance_src = SRC_FLAG;
			break;
		case OPT_ALLOW_UID:
			v = opt_u64("--allow-uid", optarg, 0, UINT32_MAX - 1);
			nu = realloc(c->allow_uids,
			    (c->n_allow_uids + 1) * sizeof(*nu));
			if (nu == NULL)
				die(RP_EXIT_INTERNAL, "out of memory");
			c->allow_uids = nu;
			nu[c->n_allow_uids++] = (uint32_t)v;
			break;
		case OPT_HELLO_TIMEOUT:
			c->hello_timeout_ms = (int64_t)opt_u64("--hello-timeout",
			    optarg, 1, 86400000);
			c->hello_timeout_src = SRC_FLAG;
			break;
		case OPT_RATE_LIMIT:
			opt_rate("--rate-limit", optarg, 1, &c->rate_n,
			    &c->rate_secs);
			c->rate_src = SRC_FLAG;
			break;
		case OPT_SPAWN_BUDGET:
			opt_rate("--spawn-budget", optarg, 0, &c->budget_n,
			    &c->budget_secs);
			c->budget_src = SRC_FLAG;
			break;
		case OPT_SPAWN_TIMEOUT:
			c->spawn_timeout_ms = (int64_t)opt_u64("--spawn-timeout",
			    optarg, 1, 3600000);
			c->spawn_timeout_src = SRC_FLAG;
			break;
		case OPT_SPAWN_WAITERS:
			c->spawn_waiters = (uint32_t)opt_u64("--spawn-waiters",
			    optarg, 0, 1000000);
			c->spawn_waiters_src = SRC_FLAG;
			break;
		case OPT_PROBE_INTERVAL:
			c->probe_interval_ms = (int64_t)opt_u64(
			    "--probe-interval", optarg, 0, 86400000);
			c->probe_interval_src = SRC_FLAG;
			break;
		case OPT_PROBE_TIMEOUT:
			c->probe_timeout_ms = (int64_t)opt_u64("--probe-timeout",
			    optarg, 1, 600000);
			c->probe_timeout_src = SRC_FLAG;
			break;
		case OPT_MAX_CLIENTS:
			c->max_clients = (uint32_t)opt_u64("--max-clients",
			    optarg, 1, 1000000);
			c->max_clients_src = SRC_FLAG;
			break;
		case OPT_DRAIN_TIMEOUT:
			c->drain_timeout_ms = (int64_t)opt_u64("--drain-timeout",
			    optarg, 0, 3600000);
			c->drain_timeout_src = SRC_FLAG;
			break;
		case OPT_EVENTS:
			if (optarg[0] == '\0')
				usage_error("--events: empty file name");
			c->events_path = optarg;
			break;
		case OPT_READY_FD:
			c->ready_fd = (int)opt_u64("--ready-fd", optarg, 0,
			    INT32_MAX);
			if (fcntl(c->ready_fd, F_GETFD) < 0)
				usage_error("--ready-fd: fd %d is not open",
				    c->ready_fd);
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(fflush(stdout) == 0 ? RP_EXIT_OK : RP_EXIT_INTERNAL);
		case 'V':
			printf("%s %s\n", PROG, RP_VERSION);
			exit(fflush(stdout) == 0 ? RP_EXIT_OK : RP_EXIT_INTERNAL);
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			if (optopt != 0)
				usage_error("unknown option -%c", optopt);
			usage_error("unknown option %s", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);

	if (c->hello_timeout_src == SRC_DEFAULT &&
	    (env = getenv(ENV_HELLO_TIMEOUT)) != NULL && *env != '\0') {
		if (parse_u64(env, 1, 86400000, &v) != 0)
			usage_error("%s: \"%s\" is not a number from 1 to "
			    "86400000", ENV_HELLO_TIMEOUT, env);
		c->hello_timeout_ms = (int64_t)v;
		c->hello_timeout_src = SRC_ENV;
	}

	if (rp_names_instance_id(c->instance_id, sizeof(c->instance_id),
	    c->iso, c->instance_name) < 0)
		usage_error("cannot form the instance id");

	if (sock != NULL) {
		c->socket_src = SRC_FLAG;
	} else if ((env = getenv(ENV_SOCKET)) != NULL && *env != '\0') {
		sock = env;
		c->socket_src = SRC_ENV;
	}
	if (sock != NULL) {
		if (strlen(sock) >= sizeof(c->socket))
			usage_error("socket path is %zu bytes; at most %d fit a "
			    "socket address", strlen(sock), RP_SUN_PATH_MAX - 1);
		memcpy(c->socket, sock, strlen(sock) + 1);
	}

	env = getenv(ENV_DEF_DIR);
	if (rp_servicedef_dir(c->service_dir, sizeof(c->service_dir), dir,
	    env, getenv("XDG_CONFIG_HOME"), getenv("HOME")) < 0) {
		if (errno == ENAMETOOLONG)
			usage_error("the service definition directory path is "
			    "too long");
		c->service_dir_err = errno;
		c->service_dir[0] = '\0';
	}
	c->service_dir_src = dir != NULL ? SRC_FLAG :
	    (env != NULL && *env != '\0') ? SRC_ENV : SRC_DEFAULT;
}

/* ------------------------------------------------------- fds, pressure */

size_t
broker_fds_in_use(const struct broker *b)
{
	return b->fd_base + b->nconns + b->nprobes;
}

/* Above 90 % of the soft limit, or after accept ran out of fds and before
 * it recovered. */
int
broker_fd_pressure(const struct broker *b)
{
	if (b->demoted)
		return 1;
	return b->nofile_soft != UINT64_MAX &&
	    (uint64_t)broker_fds_in_use(b) * 10 >= b->nofile_soft * 9;
}

int
broker_uid_allowed(const struct broker *b, uint32_t uid)
{
	size_t i;

	if (uid == b->euid)
		return 1;
	for (i = 0; i < b->cfg.n_allow_uids; i++)
		if (b->cfg.allow_uids[i] == uid)
			return 1;
	return 0;
}

/* ------------------------------------------------------------ stopping */

static void
finish(struct broker *b)
{
	if (b->done)
		return;
	b->done = 1;
	rp_loop_stop(b->loop);
}

static void
final_timer_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->final_timer = 0;
	say(PROG ": backends did not all exit in time; leaving");
	finish(b);
}

/* Everything accepted has been answered: stop the backends, then leave
 * once they are reaped. */
static void
stop_backends(struct broker *b)
{
	if (b->stopping)
		return;
	b->stopping = 1;
	if (b->drain_timer != 0) {
		rp_loop_timer_cancel(b->loop, b->drain_timer);
		b->drain_timer = 0;
	}
	backends_stop_all(b);
	if (b->dying == NULL) {
		finish(b);
		return;
	}
	b->final_timer = rp_loop_timer(b->loop,
	    rp_loop_now(b->loop) + 2 * STOP_GRACE_MS + 1000, final_timer_cb, b);
}

void
broker_check_drained(struct broker *b)
{
	if (!b->draining)
		return;
	if (b->stopping) {
		if (b->dying == NULL)
			finish(b);
		return;
	}
	if (b->nconns == 0 && backends_in_flight(b) == 0)
		stop_backends(b);
}

static void
drain_timer_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	b->drain_timer = 0;
	/* Out of time: spawns still in flight fail (their waiters hear
	 * code 5), and whoever is still connected is let go. */
	backends_cancel_spawns(b);
	conn_close_all(b);
	stop_backends(b);
}

void
broker_begin_drain(struct broker *b, int64_t deadline_ms, const char *why)
{
	if (b->draining)
		return;
	b->draining = 1;
	say(PROG ": %s; draining", why);
	/* Connections already in the backlog were made before we stopped:
	 * take them in so their Hellos are answered (with code 5) rather
	 * than reset. */
	if (b->have_listener) {
		conn_accept_all(b);
		conn_listen_stop(b);
		rp_sock_unlisten(&b->lst);
		b->have_listener = 0;
	}
	if (rp_daemon_notify("STOPPING=1") < 0)
		say(PROG ": sd_notify STOPPING=1: %s", strerror(errno));
	b->drain_deadline = rp_loop_now(b->loop) + deadline_ms;
	b->drain_timer = rp_loop_timer(b->loop, b->drain_deadline,
	    drain_timer_cb, b);
	broker_check_drained(b);
}

static void
signal_cb(struct rp_loop *loop, int signo, void *arg)
{
	struct broker *b = arg;

	(void)loop;
	switch (signo) {
	case SIGCHLD:
		backends_sigchld(b);
		broker_check_drained(b);
		break;
	case SIGHUP:
		/* Configuration that can change under us: the event log
		 * (rotated) and the definitions (re-read on next use). */
		events_reopen(b);
		defs_flush(b);
		break;
	default:
		broker_begin_drain(b, b->cfg.drain_timeout_ms,
		    signo == SIGINT ? "SIGINT" : "SIGTERM");
		break;
	}
}

/* ------------------------------------------------------------ start-up */

static void
resolve_socket(struct broker *b)
{
	struct config *c = &b->cfg;
	char dir[PATH_MAX];

	if (c->socket_src != SRC_DEFAULT)
		return;
	if (rp_names_broker_dir(dir, sizeof(dir), getenv("XDG_RUNTIME_DIR"),
	    b->euid) < 0 || rp_names_broker_socket(c->socket,
	    sizeof(c->socket), dir, b->hash16, c->iso, c->instance_name) < 0)
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
	if (parse_u64(lp, 1, UINT32_MAX, &pid) != 0 || pid != (uint64_t)b->pid)
		return 0;
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (parse_u64(lf, 0, 1024, &n) != 0 || n != 1)
		die(RP_EXIT_USAGE, "socket activation passed LISTEN_FDS=%s; "
		    "exactly one listening socket is supported", lf);
	if (rp_sock_listen_fd(3, &b->lst) < 0)
		die(RP_EXIT_USAGE, "socket activation: fd 3 is not a listening "
		    "Unix stream socket: %s", strerror(errno));
	b->have_listener = 1;
	b->cfg.socket_src = SRC_ACTIVATION;
	snprintf(b->cfg.socket, sizeof(b->cfg.socket), "%s", b->lst.path);
	return 1;
}

static void
listen_socket(struct broker *b)
{
	char why[512];
	int err;

	if (rp_sock_listen(b->cfg.socket, RP_DIR_PRIVATE | RP_DIR_CREATE, 4096,
	    &b->lst, why, sizeof(why)) == 0) {
		b->have_listener = 1;
		return;
	}
	err = errno;
	switch (err) {
	case EADDRINUSE:
		die(RP_EXIT_UNREACHABLE, "another broker is live on %s",
		    b->cfg.socket);
	case ENAMETOOLONG:
		die(RP_EXIT_USAGE, "%s (from %s)", why,
		    src_name(b->cfg.socket_src));
	default:
		die(RP_EXIT_UNREACHABLE, "cannot listen on %s: %s%s%s",
		    b->cfg.socket, why, why[0] ? ": " : "", strerror(err));
	}
}

/* Backend endpoints live next to our socket when that directory is
 * private, else in the default broker directory. */
static void
endpoint_dir(struct broker *b)
{
	char why[256];

	if (b->lst.path[0] != '\0' &&
	    rp_fs_dirname(b->lst.path, b->dir, sizeof(b->dir)) == 0 &&
	    rp_fs_check_dir(b->dir, RP_DIR_PRIVATE, why, sizeof(why)) == 0)
		return;
	if (rp_names_broker_dir(b->dir, sizeof(b->dir),
	    getenv("XDG_RUNTIME_DIR"), b->euid) < 0 ||
	    rp_fs_check_dir(b->dir, RP_DIR_PRIVATE | RP_DIR_CREATE, why,
	    sizeof(why)) < 0)
		say(PROG ": no private directory for backend endpoints (%s %s); "
		    "spawning will fail", b->dir, why);
}

static void
ready(struct broker *b)
{
	int fd = b->cfg.ready_fd;

	if (fd >= 0) {
		/* s6 style: one newline, then close. */
		if (write(fd, "\n", 1) != 1)
			say(PROG ": --ready-fd %d: %s", fd, strerror(errno));
		close(fd);
		b->cfg.ready_fd = -1;
	}
	if (rp_daemon_notify("READY=1") < 0)
		say(PROG ": sd_notify READY=1: %s", strerror(errno));
}

static void
broker_free(struct broker *b)
{
	struct bkey *k;
	struct defent *d;
	struct conn *c;
	struct dying *y;

	while ((k = b->keys) != NULL) {
		b->keys = k->next;
		free(k);
	}
	while ((d = b->defs) != NULL) {
		b->defs = d->next;
		rp_wire_free(d->def);
		free(d);
	}
	while ((c = b->free_conns) != NULL) {
		b->free_conns = c->next;
		free(c);
	}
	while ((y = b->dying) != NULL) {
		b->dying = y->next;
		free(y);
	}
	rp_buf_free(&b->scratch);
	ratelimit_free(&b->rl);
	metrics_free(&b->m);
	events_close(b);
	free(b->cfg.allow_uids);
	free(b->cfg.statics);
}

int
main(int argc, char **argv)
{
	static struct broker br;
	struct broker *b = &br;
	static const int sigs[] = { SIGTERM, SIGINT, SIGHUP, SIGCHLD };
	char why[512];
	uint64_t want;
	size_t i;

	if (rp_init() < 0) {
		say(PROG ": cannot initialise: %s", strerror(errno));
		return RP_EXIT_INTERNAL;
	}
	parse_args(&b->cfg, argc, argv);
	if (b->cfg.ready_fd >= 0)
		(void)rp_fd_set_cloexec(b->cfg.ready_fd, 1);
	b->reserve_fd = -1;
	b->ev.fd = -1;
	b->euid = rp_host_euid();
	b->pid = getpid();
	b->started_wall_ms = rp_wall_ms();
	b->started_ms = rp_now_ms();
	b->next_connection_id = 1;
	if (rp_host_machine_id(b->machine_id, sizeof(b->machine_id)) < 0)
		die(RP_EXIT_INTERNAL, "cannot read the machine id: %s",
		    strerror(errno));
	rp_names_user_hash(b->hash16, b->euid, b->machine_id);
	if (metrics_init(&b->m) < 0)
		die(RP_EXIT_INTERNAL, "out of memory");

	want = (uint64_t)b->cfg.max_clients + FD_SLACK;
	if (rp_daemon_nofile(want, &b->nofile_soft, &b->nofile_hard) < 0)
		die(RP_EXIT_INTERNAL, "cannot read RLIMIT_NOFILE: %s",
		    strerror(errno));
	if (b->nofile_soft < want)
		say(PROG ": RLIMIT_NOFILE is %llu (hard %llu), below the %llu "
		    "that --max-clients %u needs; accept will run out of fds "
		    "first", (unsigned long long)b->nofile_soft,
		    (unsigned long long)b->nofile_hard,
		    (unsigned long long)want, b->cfg.max_clients);

	if ((b->loop = rp_loop_new(0)) == NULL)
		die(RP_EXIT_INTERNAL, "cannot create the event loop: %s",
		    strerror(errno));
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (rp_loop_signal(b->loop, sigs[i], signal_cb, b) < 0)
			die(RP_EXIT_INTERNAL, "cannot watch signal %d: %s",
			    sigs[i], strerror(errno));
	if (events_open(b) < 0)
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
	endpoint_dir(b);
	b->reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (b->reserve_fd < 0)
		die(RP_EXIT_INTERNAL, "cannot open the reserve fd: %s",
		    strerror(errno));
	conn_listen_start(b);
	if (!b->listening)
		die(RP_EXIT_INTERNAL, "cannot watch the listening socket: %s",
		    strerror(errno));
	ready(b);
	{
		int n = rp_fd_count();

		b->fd_base = n > 0 ? (size_t)n : 8;
	}

	if (rp_loop_run(b->loop) < 0)
		die(RP_EXIT_INTERNAL, "event loop: %s", strerror(errno));

	if (b->have_listener) {
		conn_listen_stop(b);
		rp_sock_unlisten(&b->lst);
	}
	rp_fd_close(&b->reserve_fd);
	rp_loop_free(b->loop);
	broker_free(b);
	return RP_EXIT_OK;
}
