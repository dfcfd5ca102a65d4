/*
 * config.c — rp-broker's command line and environment: the options, their
 * strict parsing, and where each value came from (for CONFIG and DUMP).
 */
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"
#include "config.h"
#include "rp.h"

/* The first lines are the man page's SYNOPSIS, verbatim (a test checks). */
static const char usage_text[] =
"rp-broker [-s SOCKET] [-d DIR] [-b SERVICE@VERSION=ENDPOINT]...\n"
"          [--instance NAME | --private SERVICE] [--allow-uid UID]...\n"
"          [--hello-timeout MS] [--rate-limit N/SECS] [--spawn-budget N/SECS]\n"
"          [--spawn-timeout MS] [--spawn-waiters N] [--probe-interval MS]\n"
"          [--probe-timeout MS] [--max-clients N] [--drain-timeout MS]\n"
"          [--max-backends N] [--backend-output-rate BYTES]\n"
"          [--backend-output-burst BYTES] [--max-unread BYTES]\n"
"          [--max-unread-total BYTES] [--events FILE] [--ready-fd N]\n"
"          [--handoff [--handoff-event backend|broker] [--handoff-timeout MS]\n"
"           [--backend-handoff SERVICE@VERSION=SOCKET]...]\n"
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
"      --max-backends N     backends of one service running at once (8)\n"
"      --backend-output-rate BYTES  a backend's output to the log, bytes\n"
"                           a second (32768); the rest is dropped\n"
"      --backend-output-burst BYTES  and at once (131072)\n"
"      --max-unread BYTES   reply bytes kept for a client that does not\n"
"                           read them; past it, closed (4194304)\n"
"      --max-unread-total BYTES  the same for all clients (67108864)\n"
"      --probe-interval MS  re-verify a static backend after this (5000)\n"
"      --probe-timeout MS   deadline of one identity probe (500)\n"
"      --max-clients N      connections at once; when full, the oldest\n"
"                           silent one is evicted (4096; Windows: 1984)\n"
"      --drain-timeout MS   how long a graceful stop may take (10000)\n"
"      --events FILE        append lifecycle events as JSON lines (-: stderr)\n"
"      --ready-fd N         write a newline to fd N once listening\n"
"      --handoff            hand client connections that ask for it to\n"
"                           their backend (capability bit 0)\n"
"      --handoff-event WHO  who tells the client its connection was handed\n"
"                           off: backend (default) or broker\n"
"      --handoff-timeout MS  deadline of a backend's Ack (5000)\n"
"      --backend-handoff S@V=PATH  the handoff socket of a -b backend\n"
"\n"
"A duration (MS) is a number of milliseconds, or a number with a unit:\n"
"500ms, 2s, 1.5s, 1m, 1h.\n";

#define ENV_SOCKET "RUNNING_PROCESS_BROKER_V1_SOCKET"
#define ENV_HELLO_TIMEOUT "RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS"
#define ENV_DEF_DIR "RUNNING_PROCESS_SERVICE_DEF_DIR"
#define ENV_LOOP "RP_BROKER_LOOP"


/* No memory while reading the command line: nothing to undo. */
static void __attribute__((noreturn))
out_of_memory(void)
{
	cli_warn("out of memory");
	exit(RP_EXIT_INTERNAL);
}

static void __attribute__((noreturn)) RP_PRINTF(1, 2)
usage_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	exit(cli_vusage(fmt, ap));
}

const char *
config_src_name(enum config_src s)
{
	switch (s) {
	case CONFIG_SRC_ENV:
		return "env";
	case CONFIG_SRC_FLAG:
		return "flag";
	case CONFIG_SRC_ACTIVATION:
		return "socket-activation";
	default:
		return "default";
	}
}

static uint64_t
opt_u64(const char *name, const char *s, uint64_t min, uint64_t max)
{
	uint64_t v;
	int r;

	if ((r = cli_opt_u64(name, s, min, max, &v)) != 0)
		exit(r);
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
	if (rp_parse_u64(buf, 0, UINT32_MAX, &a) != 0 ||
	    rp_parse_u64(slash + 1, 1, 86400, &w) != 0)
		usage_error("%s: \"%s\" is not N/SECS (N 0..%u, SECS "
		    "1..86400)", name, s, UINT32_MAX);
	*n = (uint32_t)a;
	*secs = (uint32_t)w;
}

/* "SERVICE@VERSION=PATH" for option `name`, into sp. */
static void
opt_svp(const char *name, const char *s, struct config_static *sp,
    char *path, size_t pathsz)
{
	const char *at = strchr(s, '@'), *eq;
	size_t sl, vl;

	eq = at ? strchr(at, '=') : NULL;
	if (at == NULL || eq == NULL)
		usage_error("%s: \"%s\" is not SERVICE@VERSION=PATH", name, s);
	sl = (size_t)(at - s);
	vl = (size_t)(eq - at - 1);
	if (!rp_names_service_valid(s, sl))
		usage_error("%s: invalid service name in \"%s\"", name, s);
	if (vl > RP_VERSION_MAX || !rp_names_version_valid(at + 1, vl))
		usage_error("%s: invalid version in \"%s\"", name, s);
	if (eq[1] == '\0' || rp_names_sun_path_fits(eq + 1) != 0 ||
	    strlen(eq + 1) >= pathsz)
		usage_error("%s: the path in \"%s\" is empty or does not fit "
		    "a socket address", name, s);
	memset(sp, 0, sizeof(*sp));
	memcpy(sp->service, s, sl);
	memcpy(sp->version, at + 1, vl);
	memcpy(path, eq + 1, strlen(eq + 1) + 1);
}

static void
opt_static(struct config *c, const char *s)
{
	struct config_static *sp, *ns;

	ns = realloc(c->statics, (c->n_statics + 1) * sizeof(*ns));
	if (ns == NULL)
		out_of_memory();
	c->statics = ns;
	sp = &ns[c->n_statics];
	opt_svp("--backend", s, sp, sp->endpoint, sizeof(sp->endpoint));
	for (size_t i = 0; i < c->n_statics; i++)
		if (strcmp(ns[i].service, sp->service) == 0 &&
		    strcmp(ns[i].version, sp->version) == 0)
			usage_error("--backend: %s@%s is given twice",
			    sp->service, sp->version);
	c->n_statics++;
}

/* --backend-handoff: the -b backend it names gets its handoff socket
 * (checked once every option has been read). */
static void
opt_backend_handoff(struct config_static **hs, size_t *n, const char *s)
{
	struct config_static *ns;

	ns = realloc(*hs, (*n + 1) * sizeof(*ns));
	if (ns == NULL)
		out_of_memory();
	*hs = ns;
	opt_svp("--backend-handoff", s, &ns[*n], ns[*n].handoff,
	    sizeof(ns[*n].handoff));
	(*n)++;
}

static void
match_backend_handoffs(struct config *c, struct config_static *hs, size_t n)
{
	size_t i, j;

	if (n > 0 && !c->handoff)
		usage_error("--backend-handoff needs --handoff");
	for (i = 0; i < n; i++) {
		for (j = 0; j < c->n_statics; j++)
			if (strcmp(c->statics[j].service, hs[i].service) == 0 &&
			    strcmp(c->statics[j].version, hs[i].version) == 0)
				break;
		if (j == c->n_statics)
			usage_error("--backend-handoff: no -b %s@%s to go with "
			    "it", hs[i].service, hs[i].version);
		if (c->statics[j].handoff[0] != '\0')
			usage_error("--backend-handoff: %s@%s is given twice",
			    hs[i].service, hs[i].version);
		memcpy(c->statics[j].handoff, hs[i].handoff,
		    sizeof(hs[i].handoff));
	}
}

static void
config_defaults(struct config *c)
{
	memset(c, 0, sizeof(*c));
	c->iso = RP_ISOLATION_SHARED;
	c->hello_timeout_ms = 30000;
	c->rate.n = 256;
	c->rate.secs = 1;
	c->budget.n = 3;
	c->budget.secs = 30;
	c->spawn_timeout_ms = 10000;
	c->spawn_waiters = 64;
	c->max_backends = 8;
	c->bout_rate = 32768;
	c->bout_burst = 131072;
	c->max_unread = 4u << 20;
	c->max_unread_total = 64u << 20;
	c->probe_interval_ms = 5000;
	c->probe_timeout_ms = RP_PROBE_TIMEOUT_MS;
	c->max_clients = 4096;
	c->drain_timeout_ms = 10000;
	c->ready_fd = -1;
	c->handoff_event_backend = 1;
	c->handoff_timeout_ms = 5000;
}

/* ------------------------------------------------------------ options */

/* What config_parse keeps between options: what is settled once every
 * option has been read. */
struct parse {
	struct config *c;
	const char *sock, *dir;
	struct config_static *hs;          /* --backend-handoff, matched last */
	size_t nhs;
	int have_inst, have_priv;
};

/* One row per option: its name, short letter (or 0), whether it takes a
 * value, what sets it, and for the rows that share a setter the field it
 * sets (offsetof struct config), the field saying where that came from
 * (NO_SRC: none), and a number's bounds. */
struct opt {
	const char *name;
	int letter;
	int has_arg;
	void (*set)(struct parse *p, const struct opt *o, const char *v);
	size_t field, src;
	uint64_t min, max;
};

#define NO_SRC SIZE_MAX

static void
set_src(struct parse *p, const struct opt *o)
{
	if (o->src != NO_SRC)
		*(enum config_src *)(void *)((char *)p->c + o->src) =
		    CONFIG_SRC_FLAG;
}

/* "--name", for messages. */
static const char *
flag(const struct opt *o, char *buf, size_t bufsz)
{
	snprintf(buf, bufsz, "--%s", o->name);
	return buf;
}

/* A duration, an int64_t field of milliseconds: a bare number counts
 * milliseconds, or one with a unit (500ms, 2s, 1.5s, 1m, 1h). */
static void
set_ms(struct parse *p, const struct opt *o, const char *v)
{
	char f[32];
	int64_t ms;
	int r;

	if ((r = cli_opt_duration(flag(o, f, sizeof(f)), v, 1, o->min,
	    o->max, &ms)) != 0)
		exit(r);
	*(int64_t *)(void *)((char *)p->c + o->field) = ms;
	set_src(p, o);
}

/* A count, a uint32_t field. */
static void
set_u32(struct parse *p, const struct opt *o, const char *v)
{
	char f[32];

	*(uint32_t *)(void *)((char *)p->c + o->field) =
	    (uint32_t)opt_u64(flag(o, f, sizeof(f)), v, o->min, o->max);
	set_src(p, o);
}

/* N/SECS, a struct config_rate field; min 0 takes a bare "0" (no
 * limit). */
static void
set_rate(struct parse *p, const struct opt *o, const char *v)
{
	char f[32];
	struct config_rate *r = (void *)((char *)p->c + o->field);

	opt_rate(flag(o, f, sizeof(f)), v, o->min == 0, &r->n, &r->secs);
	set_src(p, o);
}

static void
set_socket(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	p->sock = v;
}

static void
set_service_dir(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	p->dir = v;
}

static void
set_backend(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	opt_static(p->c, v);
}

/* --instance and --private: one of them, once. */
static void
set_instance(struct parse *p, const struct opt *o, const char *v)
{
	struct config *c = p->c;
	int explicit = strcmp(o->name, "instance") == 0;

	if (!rp_names_instance_valid(v, strlen(v)))
		usage_error("--%s: invalid name \"%s\" (1-64 of [a-z0-9-])",
		    o->name, v);
	if ((explicit ? p->have_priv : p->have_inst) ||
	    p->have_inst + p->have_priv > 0)
		usage_error("--instance and --private are given together or "
		    "twice");
	if (explicit)
		p->have_inst = 1;
	else
		p->have_priv = 1;
	c->iso = explicit ? RP_ISOLATION_EXPLICIT : RP_ISOLATION_PRIVATE;
	snprintf(c->instance_name, sizeof(c->instance_name), "%s", v);
	c->instance_src = CONFIG_SRC_FLAG;
}

static void
set_allow_uid(struct parse *p, const struct opt *o, const char *v)
{
	struct config *c = p->c;
	uint32_t *nu;
	uint64_t u;

	(void)o;
	u = opt_u64("--allow-uid", v, 0, UINT32_MAX - 1);
	nu = realloc(c->allow_uids, (c->n_allow_uids + 1) * sizeof(*nu));
	if (nu == NULL)
		out_of_memory();
	c->allow_uids = nu;
	nu[c->n_allow_uids++] = (uint32_t)u;
}

static void
set_events(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	if (v[0] == '\0')
		usage_error("--events: empty file name");
	p->c->events_path = v;
}

static void
set_ready_fd(struct parse *p, const struct opt *o, const char *v)
{
	struct config *c = p->c;

	(void)o;
	c->ready_fd = (int)opt_u64("--ready-fd", v, 0, INT32_MAX);
	/* Open, and no backend may inherit it. */
	if (rp_fd_set_cloexec(c->ready_fd, 1) != 0)
		usage_error("--ready-fd %d: %s", c->ready_fd, strerror(errno));
}

static void
set_handoff(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	(void)v;
	p->c->handoff = 1;
}

static void
set_handoff_event(struct parse *p, const struct opt *o, const char *v)
{
	struct config *c = p->c;

	if (strcmp(v, "backend") == 0)
		c->handoff_event_backend = 1;
	else if (strcmp(v, "broker") == 0)
		c->handoff_event_backend = 0;
	else
		usage_error("--handoff-event: \"%s\" is neither backend nor "
		    "broker", v);
	set_src(p, o);
}

static void
set_backend_handoff(struct parse *p, const struct opt *o, const char *v)
{
	(void)o;
	opt_backend_handoff(&p->hs, &p->nhs, v);
}

static void
set_help(struct parse *p, const struct opt *o, const char *v)
{
	(void)p;
	(void)o;
	(void)v;
	exit(cli_print(usage_text, NULL));
}

static void
set_version(struct parse *p, const struct opt *o, const char *v)
{
	(void)p;
	(void)o;
	(void)v;
	exit(cli_version());
}

#define F(x) offsetof(struct config, x)
#define ARG required_argument

static const struct opt opts[] = {
	{ "socket", 's', ARG, set_socket, 0, NO_SRC, 0, 0 },
	{ "service-dir", 'd', ARG, set_service_dir, 0, NO_SRC, 0, 0 },
	{ "backend", 'b', ARG, set_backend, 0, NO_SRC, 0, 0 },
	{ "instance", 0, ARG, set_instance, 0, NO_SRC, 0, 0 },
	{ "private", 0, ARG, set_instance, 0, NO_SRC, 0, 0 },
	{ "allow-uid", 0, ARG, set_allow_uid, 0, NO_SRC, 0, 0 },
	{ "hello-timeout", 0, ARG, set_ms, F(hello_timeout_ms),
	    F(hello_timeout_src), 1, 86400000 },
	{ "rate-limit", 0, ARG, set_rate, F(rate), F(rate_src), 0, 0 },
	{ "spawn-budget", 0, ARG, set_rate, F(budget), F(budget_src), 1, 0 },
	{ "spawn-timeout", 0, ARG, set_ms, F(spawn_timeout_ms),
	    F(spawn_timeout_src), 1, 3600000 },
	{ "spawn-waiters", 0, ARG, set_u32, F(spawn_waiters),
	    F(spawn_waiters_src), 0, 1000000 },
	{ "max-backends", 0, ARG, set_u32, F(max_backends),
	    F(max_backends_src), 1, 1024 },
	{ "backend-output-rate", 0, ARG, set_u32, F(bout_rate),
	    F(bout_rate_src), 1, 1000000000 },
	{ "backend-output-burst", 0, ARG, set_u32, F(bout_burst),
	    F(bout_burst_src), 2048, 1000000000 },
	{ "max-unread", 0, ARG, set_u32, F(max_unread), F(max_unread_src), 0,
	    1u << 30 },
	{ "max-unread-total", 0, ARG, set_u32, F(max_unread_total),
	    F(max_unread_total_src), 0, 1u << 30 },
	{ "probe-interval", 0, ARG, set_ms, F(probe_interval_ms),
	    F(probe_interval_src), 0, 86400000 },
	{ "probe-timeout", 0, ARG, set_ms, F(probe_timeout_ms),
	    F(probe_timeout_src), 1, 600000 },
	{ "max-clients", 0, ARG, set_u32, F(max_clients),
	    F(max_clients_src), 1, 1000000 },
	{ "drain-timeout", 0, ARG, set_ms, F(drain_timeout_ms),
	    F(drain_timeout_src), 0, 3600000 },
	{ "events", 0, ARG, set_events, 0, NO_SRC, 0, 0 },
	{ "ready-fd", 0, ARG, set_ready_fd, 0, NO_SRC, 0, 0 },
	{ "handoff", 0, no_argument, set_handoff, 0, NO_SRC, 0, 0 },
	{ "handoff-event", 0, ARG, set_handoff_event, 0,
	    F(handoff_event_src), 0, 0 },
	{ "handoff-timeout", 0, ARG, set_ms, F(handoff_timeout_ms),
	    F(handoff_timeout_src), 1, 600000 },
	{ "backend-handoff", 0, ARG, set_backend_handoff, 0, NO_SRC, 0, 0 },
	{ "help", 'h', no_argument, set_help, 0, NO_SRC, 0, 0 },
	{ "version", 'V', no_argument, set_version, 0, NO_SRC, 0, 0 },
};

#undef F
#undef ARG

#define N_OPT (sizeof(opts) / sizeof(opts[0]))

/* getopt_long's view of the table (cli.h: table-driven options). */
static struct option longopts[N_OPT + 1];
static char shortopts[2 + 2 * N_OPT];

static void
getopt_tables(void)
{
	size_t i;

	for (i = 0; i < N_OPT; i++)
		longopts[i] = (struct option){ opts[i].name, opts[i].has_arg,
		    NULL, opts[i].letter ? opts[i].letter : CLI_OPT_ROW + (int)i };
	cli_shortopts(longopts, shortopts);
}

/* The row of getopt_long's value ch, or NULL. */
static const struct opt *
opt_row(int ch)
{
	int i = cli_opt_row(longopts, ch);

	return i < 0 ? NULL : &opts[i];
}

/* 1 when path is a directory (following symlinks); else 0, with errno
 * (0: it exists but is something else). */
static int
is_dir(const char *path)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return 0;
	errno = 0;
	return S_ISDIR(st.st_mode);
}

void
config_parse(struct config *c, int argc, char **argv)
{
	struct parse p = { .c = c };
	const struct opt *o;
	const char *sock, *dir, *env;
	uint64_t v;
	int ch;

	config_defaults(c);
	getopt_tables();
	opterr = 0;
	while ((ch = getopt_long(argc, argv, shortopts, longopts, NULL)) !=
	    -1) {
		if ((o = opt_row(ch)) == NULL)
			exit(cli_getopt_error(ch, argv, longopts));
		o->set(&p, o, optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument \"%s\"", argv[optind]);
	match_backend_handoffs(c, p.hs, p.nhs);
	free(p.hs);
	if (!c->handoff && c->handoff_timeout_src == CONFIG_SRC_FLAG)
		usage_error("--handoff-timeout needs --handoff");
	if (!c->handoff && c->handoff_event_src == CONFIG_SRC_FLAG)
		usage_error("--handoff-event needs --handoff");
	sock = p.sock;
	dir = p.dir;

	if (c->hello_timeout_src == CONFIG_SRC_DEFAULT &&
	    (env = getenv(ENV_HELLO_TIMEOUT)) != NULL && *env != '\0') {
		if (rp_parse_u64(env, 1, 86400000, &v) != 0)
			usage_error("%s: \"%s\" is not a number from 1 to "
			    "86400000", ENV_HELLO_TIMEOUT, env);
		c->hello_timeout_ms = (int64_t)v;
		c->hello_timeout_src = CONFIG_SRC_ENV;
	}

	/* The event loop's backend: epoll(7) where there is one, unless
	 * poll(2) is asked for (it runs everywhere). */
	env = getenv(ENV_LOOP);
	if (env != NULL && strcmp(env, "poll") == 0)
		c->loop_poll = 1;
	else if (env != NULL && *env != '\0' && strcmp(env, "epoll") != 0)
		usage_error("%s: \"%s\" is not epoll or poll", ENV_LOOP, env);

	if (rp_names_instance_id(c->instance_id, sizeof(c->instance_id),
	    c->iso, c->instance_name) < 0)
		usage_error("cannot form the instance id");

	if (sock != NULL) {
		c->socket_src = CONFIG_SRC_FLAG;
	} else if ((env = getenv(ENV_SOCKET)) != NULL && *env != '\0') {
		sock = env;
		c->socket_src = CONFIG_SRC_ENV;
	}
	if (sock != NULL) {
		if (*sock == '\0')
			usage_error("-s: the socket path is empty");
		/* Relative, it would be relative in every backend endpoint
		 * and status we hand to clients elsewhere. */
		char abs[PATH_MAX];

		if (rp_sock_endpoint_abs(sock, abs, sizeof(abs)) < 0)
			usage_error("socket path %s: %s", sock, strerror(errno));
		if (strlen(abs) >= sizeof(c->socket) ||
		    strlen(abs) >= RP_SUN_PATH_MAX)
			usage_error("socket path is %zu bytes; at most %d fit a "
			    "socket address", strlen(abs), RP_SUN_PATH_MAX - 1);
		memcpy(c->socket, abs, strlen(abs) + 1);
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
	c->service_dir_src = dir != NULL ? CONFIG_SRC_FLAG :
	    (env != NULL && *env != '\0') ? CONFIG_SRC_ENV : CONFIG_SRC_DEFAULT;
	/* A directory named on the command line must be one now (a typo
	 * would otherwise serve nothing, without a word); the default one
	 * and the environment's may come later. */
	if (dir != NULL && !is_dir(c->service_dir))
		usage_error("-d %s: %s", c->service_dir, errno == 0 ?
		    "not a directory" : strerror(errno));
}

void
config_free(struct config *c)
{
	free(c->allow_uids);
	free(c->statics);
	c->allow_uids = NULL;
	c->statics = NULL;
	c->n_allow_uids = c->n_statics = 0;
}
