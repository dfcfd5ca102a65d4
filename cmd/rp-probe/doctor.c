/*
 * doctor.c — rp-probe doctor: the machine as a broker and its clients
 * will find it, whether a broker runs or not.  Read-only: it creates,
 * removes and changes nothing (the one write is a Hello to a broker that
 * listens, for a service no one defines, and empty connections to
 * sockets to tell live ones from stale ones).
 *
 * One "pass|warn|fail NAME: DETAIL" line per check (or --json); exit 1
 * when any check failed, else 0: warnings are for people, failures are
 * what a CI pre-flight should stop on.
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe.h"

#define DOCTOR_TIMEOUT_MS 2000
#define DOCTOR_SERVICE "rp-doctor-probe"
#define MAX_CHECKS 256
#define DETAIL_MAX 1024
#define PATH_SLACK 8            /* warn within this many bytes of sun_path */
#define LIST_MAX 4              /* stale sockets named in a detail */

enum status { PASS, WARN, FAIL };

struct check {
	enum status st;
	char name[96];
	char detail[DETAIL_MAX];
};

struct doctor {
	struct check *v;
	size_t n;
	int64_t timeout_ms;
	const char *socket_opt, *dir_opt;
	char endpoint[RP_SUN_PATH_MAX];     /* "" when it cannot be named */
	char bdir[RP_SUN_PATH_MAX];         /* its directory */
	char hash16[17];
	uint32_t euid;
};

enum { OPT_JSON = 256, OPT_TIMEOUT };

static const struct option longopts[] = {
	{ "help", no_argument, NULL, 'h' },
	{ "socket", required_argument, NULL, 's' },
	{ "service-dir", required_argument, NULL, 'd' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "timeout", required_argument, NULL, OPT_TIMEOUT },
	{ NULL, 0, NULL, 0 },
};

static void add(struct doctor *d, enum status st, const char *name,
    const char *fmt, ...) CLI_PRINTF(4, 5);

static void
add(struct doctor *d, enum status st, const char *name, const char *fmt, ...)
{
	struct check *c;
	va_list ap;

	if (d->n == MAX_CHECKS)
		return;
	c = &d->v[d->n++];
	c->st = st;
	snprintf(c->name, sizeof(c->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(c->detail, sizeof(c->detail), fmt, ap);
	va_end(ap);
}

/* ------------------------------------------------------------ environment */

/* A variable that changes where things are or how they behave: unset is
 * the default; set, it is shown (a warning: someone should know). */
static void
env_override(struct doctor *d, const char *var, const char *unset,
    const char *what)
{
	const char *v = getenv(var);
	char name[96];

	snprintf(name, sizeof(name), "env:%s", var);
	if (v == NULL)
		add(d, PASS, name, "unset (%s)", unset);
	else if (*v == '\0')
		add(d, WARN, name, "set but empty (ignored as if unset): unset it");
	else
		add(d, WARN, name, "set to \"%s\": %s", v, what);
}

static void
check_env(struct doctor *d)
{
	const char *v;
	uint64_t n;

	v = getenv("RUNNING_PROCESS_DISABLE");
	if (v == NULL)
		add(d, PASS, "env:RUNNING_PROCESS_DISABLE",
		    "unset (the broker is used)");
	else if (strcmp(v, "1") == 0)
		add(d, WARN, "env:RUNNING_PROCESS_DISABLE", "set to \"1\": "
		    "running-process clients skip the broker and take their "
		    "direct fallback");
	else
		add(d, FAIL, "env:RUNNING_PROCESS_DISABLE", "set to \"%s\": "
		    "only \"1\" (or unset) is valid; running-process clients "
		    "refuse to start", v);
	v = getenv("RUNNING_PROCESS_FAKE_BACKEND");
	if (v == NULL)
		add(d, PASS, "env:RUNNING_PROCESS_FAKE_BACKEND", "unset");
	else if (*v == '\0')
		add(d, WARN, "env:RUNNING_PROCESS_FAKE_BACKEND",
		    "set but empty (the seam is ignored): unset it");
	else
		add(d, WARN, "env:RUNNING_PROCESS_FAKE_BACKEND", "set to "
		    "\"%s\": a TEST-ONLY seam, broker negotiation is bypassed; "
		    "never set it in production", v);
	env_override(d, "RUNNING_PROCESS_NO_TRACKING",
	    "daemon IPC tracking on", "daemon IPC tracking off");
	env_override(d, "RUNNING_PROCESS_DAEMON_SCOPE", "user-scoped daemon",
	    "a daemon scoped to a directory (test isolation)");
	env_override(d, "RUNNING_PROCESS_SERVICE_DEF_DIR",
	    "the default service-definition directory",
	    "the service-definition directory is overridden");
	env_override(d, "RUNNING_PROCESS_BROKER_V1_SOCKET",
	    "the derived broker endpoint", "the broker endpoint is overridden");
	v = getenv("RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS");
	if (v == NULL || *v == '\0')
		add(d, PASS, "env:RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS",
		    "unset (rp-broker waits 30000 ms for a client's frame)");
	else if (rp_parse_u64(v, 1, 86400000, &n) != 0)
		add(d, FAIL, "env:RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS",
		    "set to \"%s\", not a number of milliseconds from 1 to "
		    "86400000: rp-broker refuses to start", v);
	else
		add(d, WARN, "env:RUNNING_PROCESS_BROKER_HELLO_TIMEOUT_MS",
		    "set to %llu: rp-broker waits that long for a client's "
		    "frame (default 30000)", (unsigned long long)n);
	v = getenv("RP_BROKER_LOOP");
	if (v == NULL || *v == '\0')
		add(d, PASS, "env:RP_BROKER_LOOP", "unset (epoll)");
	else if (strcmp(v, "epoll") == 0 || strcmp(v, "poll") == 0)
		add(d, WARN, "env:RP_BROKER_LOOP", "set to \"%s\": rp-broker's "
		    "event loop is chosen by hand", v);
	else
		add(d, FAIL, "env:RP_BROKER_LOOP", "set to \"%s\", neither "
		    "epoll nor poll: rp-broker refuses to start", v);
	v = getenv("XDG_RUNTIME_DIR");
	if (v == NULL)
		add(d, WARN, "env:XDG_RUNTIME_DIR", "unset: the broker "
		    "directory is under /tmp/running-process-%u, shared with "
		    "everyone's /tmp", (unsigned)d->euid);
	else if (*v != '/')
		add(d, FAIL, "env:XDG_RUNTIME_DIR", "%s: no broker directory "
		    "can be named (running-process v1 would use a relative "
		    "path); set it to an absolute path or unset it",
		    *v == '\0' ? "set but empty" : "not an absolute path");
	else
		add(d, PASS, "env:XDG_RUNTIME_DIR", "%s", v);
}

/* ---------------------------------------------------------------- paths */

/* The endpoint and its directory, as the clients derive them; the
 * machine's user hash (for the names of backend endpoints). */
static void
name_endpoint(struct doctor *d)
{
	const char *env = getenv("RUNNING_PROCESS_BROKER_V1_SOCKET");
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char mid[256], dir[RP_SUN_PATH_MAX];

	d->endpoint[0] = d->bdir[0] = d->hash16[0] = mid[0] = '\0';
	/* The platform's hash16 (Windows: of the user's SID), as the
	 * broker names its endpoints. */
	if (rp_host_machine_id(mid, sizeof(mid)) >= 0 ||
	    rp_sock_namespace(dir, sizeof(dir)) > 0)
		(void)rp_host_user_hash(d->hash16, mid);
	if (d->socket_opt != NULL || (env != NULL && *env != '\0')) {
		snprintf(d->endpoint, sizeof(d->endpoint), "%s",
		    d->socket_opt != NULL ? d->socket_opt : env);
	} else if (rp_sock_namespace(dir, sizeof(dir)) > 0) {
		/* A named pipe (Windows): in no directory, so nothing of a
		 * broker directory is checked. */
		if (rp_host_broker_endpoint(d->endpoint, sizeof(d->endpoint),
		    RP_ISOLATION_SHARED, NULL) < 0) {
			add(d, FAIL, "broker:endpoint", "cannot derive the "
			    "broker endpoint: %s", strerror(errno));
			d->endpoint[0] = '\0';
		}
		return;
	} else if (rp_names_broker_dir(dir, sizeof(dir), xdg, d->euid) < 0) {
		add(d, FAIL, "broker:endpoint", "cannot derive the broker "
		    "endpoint: %s", errno == EINVAL ? "XDG_RUNTIME_DIR is not "
		    "an absolute path" : "its directory's name is too long");
		return;
	} else if (d->hash16[0] == '\0') {
		add(d, FAIL, "broker:endpoint", "cannot derive the broker "
		    "endpoint: the machine id cannot be read (%s)",
		    mid[0] != '\0' ? mid : "no /etc/machine-id, "
		    "/var/lib/dbus/machine-id or boot id");
		return;
	} else if (rp_names_broker_socket(d->endpoint, sizeof(d->endpoint),
	    dir, d->hash16, RP_ISOLATION_SHARED, NULL) < 0) {
		add(d, FAIL, "broker:endpoint", "cannot derive the broker "
		    "endpoint in %s: %s", dir, errno == ENAMETOOLONG ? "its "
		    "name would not fit a socket address (sun_path)" :
		    strerror(errno));
		d->endpoint[0] = '\0';
		/* The directory is still where everything else goes. */
		snprintf(d->bdir, sizeof(d->bdir), "%s", dir);
		return;
	}
	if (rp_fs_dirname(d->endpoint, d->bdir, sizeof(d->bdir)) != 0)
		d->bdir[0] = '\0';
}

static void
closed(char *out, size_t outsz, const char *how)
{
	snprintf(out, outsz, "no HelloReply: the connection was closed "
	    "unanswered (%s), as a broker closes it for a uid it does not "
	    "serve", how);
}

/* Hello for a service no one defines: a broker refuses it, and in doing
 * so says which protocols it speaks; one that negotiates says more. */
static void
hello_probe(struct doctor *d, int fd, char *out, size_t outsz)
{
	Rp__Hello h = RP__HELLO__INIT;
	struct rp_frame_meta m = {
		.kind = RP_KIND_REQUEST,
		.protocol = RP_PP_CONTROL,
		.request_id = 1,
	};
	Rp__HelloReply *rep = NULL;
	Rp__Frame *f;
	struct rp_buf b = { 0 };
	enum rp_frame_status st;
	const char *why = NULL;
	int64_t deadline = rp_deadline_in(d->timeout_ms);
	uint8_t *body = NULL;
	size_t len = 0;

	h.client_min_protocol = RP_PROTOCOL_VERSION;
	h.client_max_protocol = RP_PROTOCOL_VERSION;
	h.service_name = (char *)DOCTOR_SERVICE;
	h.wanted_version = (char *)"0.0.0";
	h.client_version = (char *)RP_VERSION;
	h.request_id = (char *)"doctor-probe";
	h.peer_pid = rp_host_pid();
	h.client_lib_name = (char *)"rp-probe-doctor";
	h.client_lib_version = (char *)RP_VERSION;
	if (rp_wire_frame_encode_msg(&b, &m, &h.base) != 0 ||
	    rp_io_write_full(fd, b.data, b.len, deadline) != 0) {
		if (errno == EPIPE || errno == ECONNRESET)
			closed(out, outsz, strerror(errno));
		else
			snprintf(out, outsz, "the Hello could not be sent: %s",
			    strerror(errno));
		rp_buf_free(&b);
		return;
	}
	rp_buf_free(&b);
	st = rp_frame_read(fd, RP_FRAME_SMALL_MAX, deadline, &body, &len);
	if (st == RP_FRAME_EOF || (st == RP_FRAME_IO && (errno == ECONNRESET ||
	    errno == EPIPE))) {
		closed(out, outsz, st == RP_FRAME_EOF ? "end of file" :
		    strerror(errno));
		free(body);
		return;
	}
	if (st != RP_FRAME_OK) {
		snprintf(out, outsz, "no HelloReply: %s",
		    st == RP_FRAME_TIMEOUT ? "none before the deadline (not a "
		    "v1 broker?)" : st == RP_FRAME_IO ? strerror(errno) :
		    rp_frame_status_str(st));
		free(body);
		return;
	}
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_CONTROL, 1,
	    1, &why);
	free(body);
	if (f != NULL) {
		rep = rp_wire_unpack(&rp__hello_reply__descriptor,
		    f->payload.data, f->payload.len);
		rp_wire_free(f);
	}
	if (rep == NULL) {
		snprintf(out, outsz, "a malformed HelloReply (%s)",
		    why != NULL ? why : "not a HelloReply");
	} else if (rep->result_case == RP__HELLO_REPLY__RESULT_NEGOTIATED) {
		snprintf(out, outsz, "daemon %s, protocol v%u, capabilities "
		    "0x%llx", rep->negotiated->daemon_version,
		    (unsigned)rep->negotiated->negotiated_protocol,
		    (unsigned long long)rep->negotiated->server_capabilities);
	} else if (rep->result_case == RP__HELLO_REPLY__RESULT_REFUSED) {
		snprintf(out, outsz, "protocols v%u..v%u, the probe refused "
		    "with %s (as expected for service " DOCTOR_SERVICE ")",
		    (unsigned)rep->refused->daemon_min_protocol,
		    (unsigned)rep->refused->daemon_max_protocol,
		    rp_wire_error_code_name(rep->refused->code));
	} else {
		snprintf(out, outsz, "a HelloReply that is neither negotiated "
		    "nor refused");
	}
	rp_wire_free(rep);
}

/* Who holds the other end of fd: its pid, uid and executable, from the
 * kernel (as rp-probe identity checks a backend's claim). */
static void
listener(struct doctor *d, int fd)
{
	struct rp_peercred pc;
	char exe[PATH_MAX];
	int deleted;

	if (rp_sock_peercred(fd, &pc) != 0) {
		add(d, WARN, "broker:listener", "the kernel does not say who "
		    "listens: %s", strerror(errno));
		return;
	}
	if (pc.pid == 0 || rp_host_exe_path(pc.pid, exe, sizeof(exe)) < 0) {
		add(d, pc.uid == d->euid ? PASS : WARN, "broker:listener",
		    "pid %u, uid %u, executable unknown (%s)%s",
		    (unsigned)pc.pid, (unsigned)pc.uid, pc.pid == 0 ?
		    "no pid" : strerror(errno), pc.uid == d->euid ? "" :
		    "; not our uid: it serves us only if its --allow-uid "
		    "admits us");
		return;
	}
	deleted = strstr(exe, " (deleted)") != NULL;
	if (pc.uid != d->euid)
		add(d, WARN, "broker:listener", "pid %u, uid %u, %s: not our "
		    "uid (%u); it serves us only if its --allow-uid admits us",
		    (unsigned)pc.pid, (unsigned)pc.uid, exe, (unsigned)d->euid);
	else if (deleted)
		add(d, WARN, "broker:listener", "pid %u, uid %u, %s: the "
		    "executable it runs was replaced or removed; restart it",
		    (unsigned)pc.pid, (unsigned)pc.uid, exe);
	else
		add(d, PASS, "broker:listener", "pid %u, uid %u, %s",
		    (unsigned)pc.pid, (unsigned)pc.uid, exe);
}

static void
check_broker(struct doctor *d)
{
	char detail[DETAIL_MAX];
	int fd;

	if (d->endpoint[0] == '\0')
		return;
	fd = rp_sock_connect(d->endpoint, 0, rp_deadline_in(d->timeout_ms));
	if (fd < 0) {
		/* Not a failure: a pre-flight runs before the broker. */
		add(d, WARN, "broker:endpoint", "no broker listening at %s (%s)",
		    d->endpoint, errno == ECONNREFUSED ? "a stale socket: "
		    "connection refused" : strerror(errno));
		return;
	}
	hello_probe(d, fd, detail, sizeof(detail));
	add(d, strstr(detail, "protocol") != NULL ? PASS : WARN,
	    "broker:endpoint", "broker listening at %s: %s", d->endpoint,
	    detail);
	listener(d, fd);
	close(fd);
}

/* A directory only its owner may use, as the broker requires of its
 * own and of the definitions'. */
static void
check_private_dir(struct doctor *d, const char *name, const char *dir,
    const char *missing)
{
	char why[256];
	uint32_t uid, mode;
	int isdir;

	if (rp_fs_check_dir(dir, RP_DIR_PRIVATE, why, sizeof(why)) == 0) {
		if (rp_fs_owner_mode(dir, &uid, &mode, &isdir) == 0)
			add(d, PASS, name, "%s (uid %u, mode %04o)", dir,
			    (unsigned)uid, (unsigned)mode);
		else
			add(d, PASS, name, "%s", dir);
	} else if (errno == ENOENT) {
		add(d, WARN, name, "%s does not exist%s", dir, missing);
	} else {
		add(d, FAIL, name, "%s %s%s%s: a broker of uid %u refuses it",
		    dir, why,
		    errno == EPERM || errno == ENOTDIR ? "" : ": ",
		    errno == EPERM || errno == ENOTDIR ? "" : strerror(errno),
		    (unsigned)d->euid);
	}
}

static void
check_dirs(struct doctor *d)
{
	const char *xdg = getenv("XDG_RUNTIME_DIR");
	char why[256];
	uint32_t uid, mode;
	int isdir;

	if (xdg != NULL && *xdg != '\0') {
		if (rp_fs_owner_mode(xdg, &uid, &mode, &isdir) != 0) {
			if (errno != ENOTSUP)
				add(d, FAIL, "dir:runtime", "%s: %s", xdg,
				    strerror(errno));
			else if (rp_fs_check_dir(xdg, RP_DIR_PRIVATE, why,
			    sizeof(why)) != 0)
				add(d, WARN, "dir:runtime", "%s %s; a runtime "
				    "directory is its user's alone", xdg, why);
			else
				add(d, PASS, "dir:runtime", "%s", xdg);
		} else if (!isdir)
			add(d, FAIL, "dir:runtime", "%s is not a directory",
			    xdg);
		else if (uid != d->euid || (mode & 077) != 0)
			add(d, WARN, "dir:runtime", "%s is uid %u, mode %04o; "
			    "a runtime directory is its user's alone (0700)",
			    xdg, (unsigned)uid, (unsigned)mode);
		else
			add(d, PASS, "dir:runtime", "%s (uid %u, mode %04o)",
			    xdg, (unsigned)uid, (unsigned)mode);
	}
	if (d->bdir[0] != '\0')
		check_private_dir(d, "broker:dir", d->bdir, " (a broker "
		    "creates it when it starts)");
}

/* ------------------------------------------------- service definitions */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in dir that end with suffix (dot files left out), sorted,
 * into *out (*n of them).  0, or -1 with errno when dir cannot be read
 * (or memory runs out). */
static int
list_dir(const char *dir, const char *suffix, char ***out, size_t *n)
{
	struct dirent *de;
	char **v = NULL, **nv;
	size_t cap = 0, sl = strlen(suffix), l;
	DIR *dp;
	int err = 0;

	*out = NULL;
	*n = 0;
	if ((dp = opendir(dir)) == NULL)
		return -1;
	for (;;) {
		errno = 0;
		if ((de = readdir(dp)) == NULL) {
			err = errno;
			break;
		}
		l = strlen(de->d_name);
		if (de->d_name[0] == '.' || l <= sl ||
		    strcmp(de->d_name + l - sl, suffix) != 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (nv == NULL) {
				err = ENOMEM;
				break;
			}
			v = nv;
		}
		if ((v[*n] = strdup(de->d_name)) == NULL) {
			err = ENOMEM;
			break;
		}
		(*n)++;
	}
	closedir(dp);
	if (*n > 1)
		qsort(v, *n, sizeof(*v), cmp_str);
	*out = v;
	if (err != 0) {
		errno = err;
		return -1;
	}
	return 0;
}

static void
free_list(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
check_servicedefs(struct doctor *d)
{
	char dir[PATH_MAX], path[2 * PATH_MAX], name[96];
	char why[PATH_MAX + 512], xwhy[256];
	Rp__ServiceDefinition *def;
	char **files;
	size_t n, i;
	int bad = 0;

	if (rp_servicedef_dir(dir, sizeof(dir), d->dir_opt,
	    getenv("RUNNING_PROCESS_SERVICE_DEF_DIR"),
	    getenv("XDG_CONFIG_HOME"), getenv("HOME")) < 0) {
		add(d, FAIL, "servicedef:dir", "no service-definition directory "
		    "can be named: %s", errno == ENOENT ? "none of -d, "
		    "RUNNING_PROCESS_SERVICE_DEF_DIR, XDG_CONFIG_HOME or HOME is "
		    "set" : strerror(errno));
		return;
	}
	if (rp_fs_check_dir(dir, RP_DIR_PRIVATE, why, 256) != 0) {
		if (errno == ENOENT) {
			add(d, WARN, "servicedef:dir", "%s does not exist (no "
			    "service definitions: only -b backends can be "
			    "served)", dir);
			return;
		}
		/* Insecure, it is still looked into: one run lists all
		 * there is to fix. */
		bad = 1;
		add(d, FAIL, "servicedef:dir", "%s %s%s%s: the broker loads no "
		    "definition from it", dir, why, errno == EPERM ||
		    errno == ENOTDIR ? "" : ": ", errno == EPERM ||
		    errno == ENOTDIR ? "" : strerror(errno));
		if (errno == ENOTDIR)
			return;
	}
	if (list_dir(dir, RP_SERVICEDEF_SUFFIX, &files, &n) != 0) {
		if (!bad)
			add(d, FAIL, "servicedef:dir", "%s cannot be listed: %s",
			    dir, strerror(errno));
		free_list(files, n);
		return;
	}
	if (!bad)
		add(d, PASS, "servicedef:dir", "%s (private, %zu definition%s)",
		    dir, n, n == 1 ? "" : "s");
	for (i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "servicedef:%s", files[i]);
		/* (Too long: the load says so.) */
		(void)rp_fs_join(path, sizeof(path), dir, files[i]);
		def = rp_servicedef_load_file(path, why, sizeof(why));
		if (def == NULL) {
			/* The reason reads after "PATH: " (the broker's
			 * refusal says it the same way). */
			add(d, FAIL, name, "%s: %s", path, why);
			continue;
		}
		if (rp_fs_check_exec(def->binary_path, xwhy, sizeof(xwhy)) != 0)
			add(d, FAIL, name, "service %s: binary %s %s",
			    def->service_name, def->binary_path, xwhy);
		else
			add(d, PASS, name, "service %s, binary %s",
			    def->service_name, def->binary_path);
		rp_wire_free(def);
	}
	free_list(files, n);
}

/* ---------------------------------------------------------------- sockets */

/* A socket file that refuses connections has nobody behind it. */
static int
stale(const char *path)
{
	int fd = rp_sock_connect(path, 1, rp_deadline_in(200));

	if (fd >= 0) {
		close(fd);
		return 0;
	}
	return errno == ECONNREFUSED;
}

static void
check_sockets(struct doctor *d)
{
	char path[PATH_MAX], list_b[DETAIL_MAX] = "", list_e[DETAIL_MAX] = "";
	char **files, *p;
	size_t n, i, nb = 0, sb = 0, ne = 0, se = 0;
	int be;

	if (d->bdir[0] == '\0')
		return;
	if (list_dir(d->bdir, ".sock", &files, &n) != 0) {
		free_list(files, n);
		if (errno == ENOENT) {
			add(d, PASS, "sockets:runtime-dir", "%s does not exist: no "
			    "sockets", d->bdir);
			return;
		}
		add(d, WARN, "sockets:runtime-dir", "%s cannot be listed: %s",
		    d->bdir, strerror(errno));
		return;
	}
	for (i = 0; i < n; i++) {
		if (rp_fs_join(path, sizeof(path), d->bdir, files[i]) < 0 ||
		    !rp_fs_is_socket(path))
			continue;
		/* rpb-v1-HASH-be-HEX.sock and its -ho- twin: a backend's. */
		be = strstr(files[i], "-be-") != NULL ||
		    strstr(files[i], "-ho-") != NULL;
		be ? ne++ : nb++;
		if (!stale(path))
			continue;
		be ? se++ : sb++;
		p = be ? list_e : list_b;
		if ((be ? se : sb) <= LIST_MAX)
			snprintf(p + strlen(p), DETAIL_MAX - strlen(p), "%s%s",
			    (be ? se : sb) > 1 ? ", " : "", files[i]);
		else if ((be ? se : sb) == LIST_MAX + 1)
			snprintf(p + strlen(p), DETAIL_MAX - strlen(p), ", ...");
	}
	free_list(files, n);
	if (sb == 0)
		add(d, PASS, "sockets:runtime-dir", "%s: %zu broker socket%s, none "
		    "stale", d->bdir, nb, nb == 1 ? "" : "s");
	else
		add(d, WARN, "sockets:runtime-dir", "%s: %zu of %zu broker socket%s "
		    "refuse connections (nobody listens): %s; a broker removes "
		    "its own stale socket when it starts", d->bdir, sb, nb,
		    nb == 1 ? "" : "s", list_b);
	if (se == 0)
		add(d, PASS, "backends:endpoints", "%s: %zu backend endpoint%s, "
		    "every one live", d->bdir, ne, ne == 1 ? "" : "s");
	else
		add(d, WARN, "backends:endpoints", "%s: %zu of %zu backend "
		    "endpoint%s without a live process (a backend that died "
		    "without removing it): %s", d->bdir, se, ne,
		    ne == 1 ? "" : "s", list_e);
}

/* ------------------------------------------------------------ file system */

static void
check_inodes(struct doctor *d)
{
	char dir[PATH_MAX], up[PATH_MAX];
	uint64_t favail, files;
	double free_ratio;

	snprintf(dir, sizeof(dir), "%s", d->bdir[0] != '\0' ? d->bdir :
	    "/tmp");
	/* The nearest directory there is: where the broker's will be. */
	while (rp_fs_inodes(dir, &favail, &files) != 0) {
		if (errno != ENOENT || strcmp(dir, "/") == 0 ||
		    rp_fs_dirname(dir, up, sizeof(up)) != 0) {
			add(d, WARN, "filesystem:inodes", "cannot examine %s: %s",
			    dir, strerror(errno));
			return;
		}
		memcpy(dir, up, strlen(up) + 1);
	}
	if (files == 0) {
		add(d, PASS, "filesystem:inodes", "%s: no fixed inode table "
		    "(nothing to run out of)", dir);
		return;
	}
	free_ratio = (double)favail / (double)files;
	if (free_ratio < 0.01)
		add(d, FAIL, "filesystem:inodes", "%s: %llu of %llu inodes "
		    "free: sockets and definitions cannot be created (ENOSPC)",
		    dir, (unsigned long long)favail,
		    (unsigned long long)files);
	else
		add(d, free_ratio < 0.05 ? WARN : PASS, "filesystem:inodes",
		    "%s: %llu of %llu inodes free (%.1f%% used)%s", dir,
		    (unsigned long long)favail,
		    (unsigned long long)files, (1.0 - free_ratio) * 100.0,
		    free_ratio < 0.05 ? ": little headroom" : "");
}

/* The longest name the broker makes, a backend endpoint, against what a
 * socket address holds (sun_path: 108 bytes with the NUL). */
static void
check_path_budget(struct doctor *d)
{
	char be[512];
	size_t len, limit = RP_SUN_PATH_MAX - 1;

	if (d->bdir[0] == '\0' || d->hash16[0] == '\0')
		return;
	len = strlen(d->bdir) + strlen("/rpb-v1-") + 16 + strlen("-be-") +
	    32 + strlen(".sock");
	snprintf(be, sizeof(be), "%s/rpb-v1-%s-be-", d->bdir, d->hash16);
	if (len > limit)
		add(d, FAIL, "platform:path-budget", "a backend endpoint in %s "
		    "would be %zu bytes; at most %zu fit sun_path: shorten "
		    "XDG_RUNTIME_DIR or -s", d->bdir, len, limit);
	else if (len + PATH_SLACK > limit)
		add(d, WARN, "platform:path-budget", "a backend endpoint is %zu "
		    "of %zu bytes (sun_path): %s<32 hex>.sock, within %d bytes "
		    "of the limit", len, limit, be, PATH_SLACK);
	else
		add(d, PASS, "platform:path-budget", "a backend endpoint is %zu "
		    "of %zu bytes (sun_path): %s<32 hex>.sock", len, limit, be);
}

/* --------------------------------------------------------------- report */

static const char *
status_name(enum status st)
{
	return st == PASS ? "pass" : st == WARN ? "warn" : "fail";
}

/* In JSON, the words of running-process's own doctor. */
static const char *
status_json(enum status st)
{
	return st == PASS ? "PASS" : st == WARN ? "WARN" : "FAIL";
}

static int
report(const struct doctor *d, int json, int rc)
{
	struct rp_buf out = { 0 };
	struct rp_json j;
	size_t i;
	int e = 0;

	if (json) {
		probe_json_begin(&j, &out);
		rp_json_obj(&j);
		rp_json_ku64(&j, "schema_version", 1);
		rp_json_kstr(&j, "command", "doctor");
		rp_json_ku64(&j, "exit_code", (uint64_t)rc);
		rp_json_key(&j, "checks");
		rp_json_arr(&j);
		for (i = 0; i < d->n; i++) {
			rp_json_obj(&j);
			rp_json_kstr(&j, "check", d->v[i].name);
			rp_json_kstr(&j, "status", status_json(d->v[i].st));
			rp_json_kstr(&j, "detail", d->v[i].detail);
			rp_json_obj_end(&j);
		}
		rp_json_arr_end(&j);
		rp_json_obj_end(&j);
		return probe_json_end(&j, &out);
	}
	for (i = 0; i < d->n; i++) {
		e |= rp_buf_printf(&out, "%s ", status_name(d->v[i].st));
		e |= cli_put_text(&out, d->v[i].name, 0);
		e |= rp_buf_puts(&out, ": ");
		e |= cli_put_text(&out, d->v[i].detail, 0);
		e |= rp_buf_puts(&out, "\n");
	}
	return probe_flush(&out, e != 0);
}

int
probe_doctor(int argc, char **argv)
{
	struct doctor d;
	size_t i;
	int c, r, json = 0, rc = RP_EXIT_OK;

	memset(&d, 0, sizeof(d));
	d.timeout_ms = DOCTOR_TIMEOUT_MS;
	while ((c = getopt_long(argc, argv, ":hs:d:", longopts, NULL)) != -1) {
		switch (c) {
		case 'h':
			return probe_help();
		case 's':
			d.socket_opt = optarg;
			break;
		case 'd':
			d.dir_opt = optarg;
			break;
		case OPT_JSON:
			json = 1;
			break;
		case OPT_TIMEOUT:
			if ((r = cli_opt_ms("--timeout", optarg,
			    &d.timeout_ms)) != 0)
				return r;
			break;
		default:
			return cli_getopt_error(c, argv, longopts);
		}
	}
	if (optind < argc)
		return cli_usage("doctor takes no arguments ('%s')",
		    argv[optind]);
	if (d.socket_opt != NULL && (*d.socket_opt == '\0' ||
	    rp_names_sun_path_fits(d.socket_opt) != 0))
		return cli_usage("doctor: -s must be a socket path of 1 to %d "
		    "bytes", RP_SUN_PATH_MAX - 1);
	if (d.dir_opt != NULL && *d.dir_opt == '\0')
		return cli_usage("doctor: -d is empty");
	d.v = calloc(MAX_CHECKS, sizeof(*d.v));
	if (d.v == NULL)
		return probe_oom();
	d.euid = rp_host_euid();

	check_env(&d);
	name_endpoint(&d);
	check_broker(&d);
	check_dirs(&d);
	check_servicedefs(&d);
	check_sockets(&d);
	check_inodes(&d);
	check_path_budget(&d);
	add(&d, PASS, "build:version", "rp-probe %s: protocol v%u, framing "
	    "v%u", RP_VERSION, (unsigned)RP_PROTOCOL_VERSION,
	    (unsigned)RP_FRAME_VERSION);

	for (i = 0; i < d.n; i++)
		if (d.v[i].st == FAIL)
			rc = RP_EXIT_NO;
	r = report(&d, json, rc);
	free(d.v);
	return r != RP_EXIT_OK ? r : rc;
}
