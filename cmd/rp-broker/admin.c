/*
 * admin.c — the admin verbs (payload_protocol 0xAD01, 20-broker.md
 * "Admin verbs"), each answered from the broker's real state.  JSON bodies
 * carry schema_version 1, the command and generated_at_unix_ms.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "broker.h"

#define CT_TEXT "text/plain"
#define CT_JSON "application/json"

struct reply {
	struct rp_buf body;
	const char *text;       /* a constant body instead (nothing built) */
	uint32_t kind;          /* AdminReplyKind */
	uint32_t exit_code;
	const char *content_type;
	int built;              /* -1: the body could not be built */
};

void
admin_json_head(struct broker *b, struct rp_json *j, const char *command)
{
	rp_json_obj(j);
	rp_json_ku64(j, "schema_version", 1);
	rp_json_kstr(j, "command", command);
	rp_json_key(j, "generated_at_unix_ms");
	rp_json_i64(j, rp_wall_ms());
	rp_json_kstr(j, "broker_instance", b->cfg.instance_id);
	rp_json_key(j, "broker_pid");
	rp_json_i64(j, (int64_t)b->pid);
}

static double
uptime(const struct broker *b)
{
	return (double)(rp_now_ms() - b->started_ms) / 1000.0;
}

static void
kv_src(struct rp_json *j, const char *k, enum config_src s)
{
	rp_json_kstr(j, k, config_src_name(s));
}

static void
cfg_str(struct rp_json *j, const char *name, const char *v, enum config_src s)
{
	rp_json_key(j, name);
	rp_json_obj(j);
	rp_json_key(j, "value");
	rp_json_str(j, v);
	kv_src(j, "source", s);
	rp_json_obj_end(j);
}

static void
cfg_u64(struct rp_json *j, const char *name, uint64_t v, enum config_src s)
{
	rp_json_key(j, name);
	rp_json_obj(j);
	rp_json_ku64(j, "value", v);
	kv_src(j, "source", s);
	rp_json_obj_end(j);
}

static void
cfg_rate(struct rp_json *j, const char *name, uint32_t n, uint32_t secs,
    enum config_src s)
{
	char v[48];

	if (n == 0 && strcmp(name, "rate_limit") == 0)
		rp_utf8_fmt(v, sizeof(v), "0");
	else
		rp_utf8_fmt(v, sizeof(v), "%u/%u", n, secs);
	cfg_str(j, name, v, s);
}

/* The effective configuration, each value with where it came from. */
static void
admin_json_config(struct broker *b, struct rp_json *j)
{
	const struct config *c = &b->cfg;
	size_t i;

	rp_json_obj(j);
	cfg_str(j, "socket", c->socket, c->socket_src);
	cfg_str(j, "service_dir", c->service_dir[0] ? c->service_dir : NULL,
	    c->service_dir_src);
	cfg_str(j, "instance", c->instance_id, c->instance_src);
	cfg_u64(j, "hello_timeout_ms", (uint64_t)c->hello_timeout_ms,
	    c->hello_timeout_src);
	cfg_rate(j, "rate_limit", c->rate.n, c->rate.secs, c->rate_src);
	cfg_rate(j, "spawn_budget", c->budget.n, c->budget.secs, c->budget_src);
	cfg_u64(j, "spawn_timeout_ms", (uint64_t)c->spawn_timeout_ms,
	    c->spawn_timeout_src);
	cfg_u64(j, "spawn_waiters", c->spawn_waiters, c->spawn_waiters_src);
	cfg_u64(j, "max_backends", c->max_backends, c->max_backends_src);
	cfg_u64(j, "backend_output_rate", c->bout_rate, c->bout_rate_src);
	cfg_u64(j, "backend_output_burst", c->bout_burst, c->bout_burst_src);
	cfg_u64(j, "max_unread", c->max_unread, c->max_unread_src);
	cfg_u64(j, "max_unread_total", c->max_unread_total,
	    c->max_unread_total_src);
	cfg_u64(j, "probe_interval_ms", (uint64_t)c->probe_interval_ms,
	    c->probe_interval_src);
	cfg_u64(j, "probe_timeout_ms", (uint64_t)c->probe_timeout_ms,
	    c->probe_timeout_src);
	cfg_u64(j, "max_clients", c->max_clients, c->max_clients_src);
	cfg_u64(j, "drain_timeout_ms", (uint64_t)c->drain_timeout_ms,
	    c->drain_timeout_src);
	cfg_str(j, "events", c->events_path, c->events_path ? CONFIG_SRC_FLAG :
	    CONFIG_SRC_DEFAULT);
	rp_json_key(j, "handoff");
	rp_json_obj(j);
	rp_json_kbool(j, "value", c->handoff);
	kv_src(j, "source", c->handoff ? CONFIG_SRC_FLAG : CONFIG_SRC_DEFAULT);
	rp_json_obj_end(j);
	cfg_str(j, "handoff_event", c->handoff_event_backend ? "backend" :
	    "broker", c->handoff_event_src);
	cfg_u64(j, "handoff_timeout_ms", (uint64_t)c->handoff_timeout_ms,
	    c->handoff_timeout_src);
	rp_json_key(j, "allow_uids");
	rp_json_obj(j);
	rp_json_key(j, "value");
	rp_json_arr(j);
	rp_json_u64(j, b->euid);
	for (i = 0; i < c->n_allow_uids; i++)
		rp_json_u64(j, c->allow_uids[i]);
	rp_json_arr_end(j);
	kv_src(j, "source",
	    c->n_allow_uids ? CONFIG_SRC_FLAG : CONFIG_SRC_DEFAULT);
	rp_json_obj_end(j);
	rp_json_key(j, "static_backends");
	rp_json_obj(j);
	rp_json_key(j, "value");
	rp_json_arr(j);
	for (i = 0; i < c->n_statics; i++) {
		rp_json_obj(j);
		rp_json_kstr(j, "service_name", c->statics[i].service);
		rp_json_kstr(j, "service_version", c->statics[i].version);
		rp_json_kstr(j, "endpoint", c->statics[i].endpoint);
		rp_json_key(j, "handoff");
		rp_json_str(j, c->statics[i].handoff[0] ?
		    c->statics[i].handoff : NULL);
		rp_json_obj_end(j);
	}
	rp_json_arr_end(j);
	kv_src(
	    j, "source", c->n_statics ? CONFIG_SRC_FLAG : CONFIG_SRC_DEFAULT);
	rp_json_obj_end(j);
	rp_json_key(j, "nofile_soft_limit");
	rp_json_obj(j);
	rp_json_ku64(j, "value", b->nofile_soft);
	rp_json_kstr(j, "source", "rlimit");
	rp_json_obj_end(j);
	rp_json_obj_end(j);
}

/* A backend's handoff state: its socket, the connection, the outcomes. */
static void
json_handoff(struct broker *b, struct rp_json *j, struct bkey *k)
{
	unsigned i;

	rp_json_key(j, "handoff");
	if (!b->cfg.handoff || k->hpipe[0] == '\0') {
		rp_json_null(j);
		return;
	}
	rp_json_obj(j);
	rp_json_kstr(j, "handoff_pipe", k->hpipe);
	rp_json_kstr(j, "event_writer", k->event_backend ? "backend" :
	    "broker");
	rp_json_kbool(j, "connected", k->ho.fd >= 0);
	rp_json_ku64(j, "in_flight", k->ho.ring.n);
	rp_json_key(j, "outcomes");
	rp_json_obj(j);
	for (i = 0; i < HANDOFF_OUTCOMES; i++)
		rp_json_ku64(j, handoff_outcome_name(i), k->handoffs[i]);
	rp_json_obj_end(j);
	rp_json_obj_end(j);
}

static void
json_backend(struct broker *b, struct rp_json *j, struct bkey *k, int full)
{
	uint64_t retry = 0;

	rp_json_obj(j);
	rp_json_kstr(j, "service_name", k->service);
	rp_json_kstr(j, "service_version", k->version);
	rp_json_key(j, "pid");
	if (k->pid > 0)
		rp_json_i64(j, (int64_t)k->pid);
	else
		rp_json_null(j);
	rp_json_key(j, "backend_pipe");
	rp_json_str(j, k->pipe[0] ? k->pipe : NULL);
	rp_json_key(j, "last_active_unix_ms");
	if (k->last_active_wall_ms)
		rp_json_i64(j, k->last_active_wall_ms);
	else
		rp_json_null(j);
	rp_json_kstr(j, "state", bkey_state_name(k));
	if (!full) {
		rp_json_obj_end(j);
		return;
	}
	rp_json_kstr(j, "kind", k->kind == BKEY_STATIC ? "static" : "spawned");
	rp_json_kbool(j, "healthy", bkey_healthy(k));
	rp_json_key(j, "binary");
	rp_json_str(j, k->binary[0] ? k->binary : NULL);
	rp_json_key(j, "started_at_unix_ms");
	if (k->started_wall_ms && k->state == BKEY_LIVE)
		rp_json_i64(j, k->started_wall_ms);
	else
		rp_json_null(j);
	rp_json_key(j, "last_probe");
	rp_json_obj(j);
	rp_json_key(j, "ok");
	if (k->last_probe_ok < 0)
		rp_json_null(j);
	else
		rp_json_bool(j, k->last_probe_ok);
	rp_json_key(j, "at_unix_ms");
	if (k->last_probe_wall_ms)
		rp_json_i64(j, k->last_probe_wall_ms);
	else
		rp_json_null(j);
	rp_json_kstr(j, "detail", k->last_probe_detail);
	rp_json_obj_end(j);
	rp_json_ku64(j, "waiters", k->nwaiters);
	rp_json_ku64(j, "negotiated", k->negotiated);
	json_handoff(b, j, k);
	if (k->kind == BKEY_SPAWNED) {
		rp_json_key(j, "spawn");
		rp_json_obj(j);
		rp_json_ku64(j, "succeeded", k->spawn_ok);
		rp_json_ku64(j, "failed", k->spawn_failed);
		rp_json_ku64(j, "deaths", k->deaths);
		rp_json_ku64(j, "budget_remaining",
		    bkey_budget_left(b, k, &retry));
		rp_json_ku64(j, "budget_limit", b->cfg.budget.n);
		rp_json_ku64(j, "budget_window_secs", b->cfg.budget.secs);
		rp_json_ku64(j, "budget_resets_in_ms", retry);
		rp_json_obj_end(j);
	}
	rp_json_obj_end(j);
}

static void
json_fd(struct broker *b, struct rp_json *j)
{
	int n = rp_fd_count();

	rp_json_key(j, "fd_pressure");
	rp_json_obj(j);
	rp_json_kbool(j, "demoted", b->demoted);
	rp_json_kbool(j, "pressure", broker_fd_pressure(b));
	rp_json_key(j, "fds_open");
	rp_json_i64(j, n);
	rp_json_ku64(j, "fds_accounted", broker_fds_in_use(b));
	rp_json_ku64(j, "soft_limit", b->nofile_soft);
	rp_json_ku64(j, "hard_limit", b->nofile_hard);
	rp_json_key(j, "usage_ratio");
	rp_json_double(j, broker_fd_ratio(b, n));
	rp_json_ku64(j, "episodes", b->pressure_episodes);
	rp_json_obj_end(j);
}

/* Each verb_ returns 0, or -1 with errno when its body could not be
 * built (out of memory): the body is then incomplete and not sent. */
static int
verb_status(struct broker *b, const Rp__AdminRequest *req, struct reply *r)
{
	struct rp_json j;
	struct bkey *k;

	if (!req->json)
		return rp_buf_printf(&r->body,
		    "broker_instance: %s\n"
		    "accepting_hello: %s\n",
		    b->cfg.instance_id, broker_accepting(b) ? "true" : "false");
	rp_json_init(&j, &r->body, 0);
	admin_json_head(b, &j, "status");
	rp_json_key(&j, "uptime_seconds");
	rp_json_double(&j, uptime(b));
	rp_json_kbool(&j, "accepting_hello", broker_accepting(b));
	rp_json_ku64(&j, "connections_open", b->nconns);
	json_fd(b, &j);
	rp_json_key(&j, "backends");
	rp_json_arr(&j);
	for (k = b->keys; k != NULL; k = k->next)
		json_backend(b, &j, k, 0);
	rp_json_arr_end(&j);
	rp_json_obj_end(&j);
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	return rp_json_finish(&j);
}

static void
json_counters(struct broker *b, struct rp_json *j)
{
	const struct counters *m = &b->count;
	uint64_t by[METRICS_OUTCOMES];
	size_t i;

	metrics_by_outcome(&b->m, by);
	rp_json_key(j, "counters");
	rp_json_obj(j);
	rp_json_key(j, "hello_by_outcome");
	rp_json_obj(j);
	for (i = 0; i < METRICS_OUTCOMES; i++)
		rp_json_ku64(j, metrics_outcome_name((unsigned)i), by[i]);
	rp_json_obj_end(j);
	rp_json_ku64(j, "connections_accepted", m->accepted);
	rp_json_ku64(j, "connections_open", b->nconns);
	rp_json_ku64(j, "peer_rejected", m->peer_rejected);
	rp_json_ku64(j, "accept_emfile", m->accept_emfile);
	rp_json_ku64(j, "accept_refused_fd_exhausted", m->accept_refused_emfile);
	rp_json_ku64(j, "accept_refused_max_clients",
	    m->accept_refused_max_clients);
	rp_json_ku64(j, "connections_evicted", m->evicted);
	{
		/* a 64-bit id: a decimal string, as in the events */
		char d[24];

		snprintf(d, sizeof(d), "%llu",
		    (unsigned long long)b->next_connection_id);
		rp_json_kstr(j, "next_connection_id", d);
	}
	rp_json_ku64(j, "backend_crashes", m->deaths_crash);
	rp_json_ku64(j, "events_written", b->ev.written);
	rp_json_ku64(j, "events_failed", b->ev.failed);
	rp_json_obj_end(j);
}

/* ------------------------------------------------- DUMP's output_path */

/*
 * DUMP with output_path also writes the JSON to that file, for a caller
 * of the broker's own uid only (a peer let in by --allow-uid is refused:
 * the broker may be root).  The file is written by rp_fs_write_atomic_
 * nofollow (no symbolic link followed, a new file renamed into place) in
 * a short-lived thread, so that its fsyncs never hold up the loop; the
 * connection is parked meanwhile and answered when the thread is done.
 */
#define DUMP_WRITES_MAX 4

struct admin_work {
	struct admin_work *next;       /* in flight */
	struct broker *b;
	struct conn *c;                /* NULL once it has closed */
	pthread_t th;
	int pfd[2];                    /* the thread says "done" here */
	char dir[PATH_MAX];
	char name[RP_FS_NAME_MAX + 1];
	struct rp_buf file;            /* what goes in the file */
	struct rp_buf body;            /* the reply so far, and its writer */
	struct rp_json j;
	int err;                       /* the write's errno, 0: written */
};

static size_t dump_writes;             /* in flight (one loop thread) */
static struct admin_work *works;       /* the same, listed */

static void
work_free(struct admin_work *w)
{
	rp_fd_close(&w->pfd[0]);
	rp_fd_close(&w->pfd[1]);
	rp_buf_free(&w->file);
	rp_buf_free(&w->body);
	free(w);
}

static void *
work_thread(void *arg)
{
	struct admin_work *w = arg;
	ssize_t n;

	w->err = rp_fs_write_atomic_nofollow(w->dir, w->name, w->file.data,
	    w->file.len, 0600) == 0 ? 0 : errno;
	do
		n = rp_io_write_some(w->pfd[1], "", 1);
	while (n < 0 && errno == EINTR);
	return NULL;
}

static void reply_send(struct broker *b, struct conn *c, struct reply *r);

static void
work_done_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct admin_work *w = arg, **pw;
	struct conn *c = w->c;
	struct reply r;
	char x;

	(void)ev;
	if (rp_io_read_some(fd, &x, 1) != 1 && errno == EAGAIN)
		return;
	(void)rp_loop_del(loop, fd);
	(void)pthread_join(w->th, NULL);
	dump_writes--;
	for (pw = &works; *pw != w; pw = &(*pw)->next)
		;
	*pw = w->next;
	if (c == NULL) {
		work_free(w);
		return;
	}
	c->work = NULL;
	memset(&r, 0, sizeof(r));
	rp_json_kbool(&w->j, "written", w->err == 0);
	if (w->err != 0)
		rp_json_kstr(&w->j, "write_error", strerror(w->err));
	rp_json_obj_end(&w->j);
	r.kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r.content_type = CT_JSON;
	r.body = w->body;
	w->body = (struct rp_buf){ 0 };
	if (rp_json_finish(&w->j) < 0) {
		rp_buf_free(&r.body);
		r.body = (struct rp_buf){ 0 };
		errno = ENOMEM;
		r.built = -1;
	}
	work_free(w);
	reply_send(c->b, c, &r);
}

void
admin_work_forget(struct conn *c)
{
	c->work->c = NULL;
	c->work = NULL;
}

void
admin_work_end(struct broker *b, int64_t deadline)
{
	struct admin_work *w;

	if (works == NULL)
		return;
	cli_warn("waiting for %zu dump file%s being written", dump_writes,
	    dump_writes == 1 ? "" : "s");
	while ((w = works) != NULL) {
		if (rp_io_wait(w->pfd[0], RP_IO_READ, deadline) < 0) {
			/* A disk that does not answer: the thread keeps w. */
			cli_warn("dump file %s/%s: still being written; not "
			    "waiting any longer", w->dir, w->name);
			works = w->next;
			(void)rp_loop_del(b->loop, w->pfd[0]);
			(void)pthread_detach(w->th);
			if (w->c != NULL)
				w->c->work = NULL;
			continue;
		}
		/* Done: joined and answered as on the loop. */
		work_done_cb(b->loop, w->pfd[0], RP_LOOP_READ, w);
	}
}

/* The rest of the DUMP reply once j has every field but the file's: the
 * write started off the loop (1: c is parked), or its failure said at
 * once (the reply's body finished, 0; -1 with errno: out of memory). */
static int
dump_to_file(struct broker *b, struct conn *c, const char *path,
    struct rp_json *j, struct reply *r)
{
	const char *base = strrchr(path, '/');
	struct admin_work *w = NULL;
	const char *why = NULL;
	struct rp_json jc;

	rp_json_kstr(j, "output_path", path);
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	if (path[0] != '/' || base == NULL || base[1] == '\0')
		why = "output_path must be an absolute file path";
	else if (strlen(base + 1) + 26 > RP_FS_NAME_MAX)
		why = strerror(ENAMETOOLONG);
	else if (dump_writes >= DUMP_WRITES_MAX)
		why = "too many dump files being written; try again";
	else if ((w = calloc(1, sizeof(*w))) == NULL)
		why = strerror(ENOMEM);
	if (w != NULL) {
		w->pfd[0] = w->pfd[1] = -1;
		if (rp_fs_dirname(path, w->dir, sizeof(w->dir)) < 0)
			why = strerror(ENAMETOOLONG);
	}
	if (why != NULL) {
		free(w);
		rp_json_kbool(j, "written", 0);
		rp_json_kstr(j, "write_error", why);
		rp_json_obj_end(j);
		return rp_json_finish(j);
	}
	memcpy(w->name, base + 1, strlen(base + 1) + 1);
	/* The file: a copy of the body closed as written. */
	jc = *j;
	if (rp_buf_append(&w->file, r->body.data, r->body.len) != 0)
		jc.err = errno;
	jc.out = &w->file;
	rp_json_kbool(&jc, "written", 1);
	rp_json_obj_end(&jc);
	if (rp_json_finish(&jc) < 0 ||
	    rp_fd_pipe(w->pfd, 1) < 0 ||
	    rp_loop_add(b->loop, w->pfd[0], RP_LOOP_READ, work_done_cb,
	    w) < 0)
		goto fail;
	if ((errno = pthread_create(&w->th, NULL, work_thread, w)) != 0) {
		(void)rp_loop_del(b->loop, w->pfd[0]);
		goto fail;
	}
	/* The reply so far goes with the work; its end comes when the file
	 * is written. */
	w->b = b;
	w->c = c;
	w->body = r->body;
	r->body = (struct rp_buf){ 0 };
	w->j = *j;
	w->j.out = &w->body;
	c->work = w;
	dump_writes++;
	w->next = works;
	works = w;
	conn_park(b, c);
	return 1;
fail:
	work_free(w);
	if (errno == 0)
		errno = ENOMEM;
	return -1;
}

static int
verb_dump(struct broker *b, struct conn *c, const Rp__AdminRequest *req,
    struct reply *r)
{
	struct rp_json j;
	struct defent *d;
	struct bkey *k;

	rp_json_init(&j, &r->body, 0);
	admin_json_head(b, &j, "dump");
	rp_json_key(&j, "started_at_unix_ms");
	rp_json_i64(&j, b->started_wall_ms);
	rp_json_key(&j, "uptime_seconds");
	rp_json_double(&j, uptime(b));
	rp_json_kstr(&j, "socket", b->cfg.socket);
	rp_json_kstr(&j, "endpoint_dir", b->dir);
	rp_json_kbool(&j, "accepting_hello", broker_accepting(b));
	rp_json_kbool(&j, "draining", b->draining);
	rp_json_ku64(&j, "connections_open", b->nconns);
	json_fd(b, &j);
	rp_json_key(&j, "config");
	admin_json_config(b, &j);
	rp_json_key(&j, "backends");
	rp_json_arr(&j);
	for (k = b->keys; k != NULL; k = k->next)
		json_backend(b, &j, k, 1);
	rp_json_arr_end(&j);
	rp_json_key(&j, "definitions");
	rp_json_arr(&j);
	for (d = b->defs.list; d != NULL; d = d->next) {
		rp_json_obj(&j);
		rp_json_kstr(&j, "service_name", d->service);
		rp_json_kbool(&j, "valid", d->def != NULL);
		rp_json_kstr(&j, "error", d->def ? "" : d->why);
		if (d->def != NULL) {
			rp_json_kstr(&j, "binary_path", d->def->binary_path);
			rp_json_kstr(&j, "min_version", d->def->min_version);
		}
		rp_json_obj_end(&j);
	}
	rp_json_arr_end(&j);
	json_counters(b, &j);
	rp_json_key(&j, "events");
	events_json(&b->ev, &j);
	if (req->output_path != NULL && req->output_path[0] != '\0')
		return dump_to_file(b, c, req->output_path, &j, r);
	rp_json_obj_end(&j);
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	return rp_json_finish(&j);
}

static int
verb_config(struct broker *b, struct reply *r)
{
	struct rp_json j;

	rp_json_init(&j, &r->body, 0);
	admin_json_head(b, &j, "config");
	rp_json_key(&j, "config");
	admin_json_config(b, &j);
	rp_json_obj_end(&j);
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	return rp_json_finish(&j);
}

static int
verb_instances(struct broker *b, struct reply *r)
{
	struct rp_json j;

	rp_json_init(&j, &r->body, 0);
	admin_json_head(b, &j, "list-instances");
	rp_json_key(&j, "instances");
	rp_json_arr(&j);
	rp_json_obj(&j);
	rp_json_kstr(&j, "instance_id", b->cfg.instance_id);
	rp_json_kstr(&j, "isolation", rp_names_isolation_name(b->cfg.iso));
	rp_json_kstr(&j, "name", b->cfg.iso == RP_ISOLATION_SHARED ? "shared" :
	    b->cfg.instance_name);
	rp_json_kstr(&j, "socket", b->cfg.socket);
	rp_json_key(&j, "pid");
	rp_json_i64(&j, (int64_t)b->pid);
	rp_json_key(&j, "started_at_unix_ms");
	rp_json_i64(&j, b->started_wall_ms);
	rp_json_kbool(&j, "accepting_hello", broker_accepting(b));
	rp_json_ku64(&j, "backends", b->nkeys);
	rp_json_obj_end(&j);
	rp_json_arr_end(&j);
	rp_json_obj_end(&j);
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	return rp_json_finish(&j);
}

static int
verb_backend_health(struct broker *b, const Rp__AdminRequest *req,
    struct reply *r)
{
	const char *filter = req->service_name != NULL &&
	    req->service_name[0] != '\0' ? req->service_name : NULL;
	int64_t now = rp_now_ms();
	struct rp_json j;
	struct bkey *k;
	size_t listed = 0, sick = 0;

	rp_json_init(&j, &r->body, 0);
	admin_json_head(b, &j, "backend-health");
	rp_json_key(&j, "service_filter");
	rp_json_str(&j, filter);
	rp_json_key(&j, "backends");
	rp_json_arr(&j);
	for (k = b->keys; k != NULL; k = k->next) {
		if (filter != NULL && strcmp(filter, k->service) != 0)
			continue;
		rp_json_obj(&j);
		rp_json_kstr(&j, "service_name", k->service);
		rp_json_kstr(&j, "service_version", k->version);
		rp_json_kstr(&j, "kind", k->kind == BKEY_STATIC ? "static" :
		    "spawned");
		rp_json_kstr(&j, "state", bkey_state_name(k));
		rp_json_kbool(&j, "healthy", bkey_healthy(k));
		listed++;
		sick += !bkey_healthy(k);
		rp_json_key(&j, "pid");
		if (k->pid > 0)
			rp_json_i64(&j, (int64_t)k->pid);
		else
			rp_json_null(&j);
		rp_json_key(&j, "backend_pipe");
		rp_json_str(&j, k->pipe[0] ? k->pipe : NULL);
		rp_json_key(&j, "last_probe_ok");
		if (k->last_probe_ok < 0)
			rp_json_null(&j);
		else
			rp_json_bool(&j, k->last_probe_ok);
		rp_json_key(&j, "last_probe_unix_ms");
		if (k->last_probe_wall_ms)
			rp_json_i64(&j, k->last_probe_wall_ms);
		else
			rp_json_null(&j);
		rp_json_kstr(&j, "last_probe_detail", k->last_probe_detail);
		rp_json_key(&j, "verified_age_ms");
		if (k->state == BKEY_LIVE || k->state == BKEY_PROBING)
			rp_json_i64(&j, now - k->verified_ms);
		else
			rp_json_null(&j);
		rp_json_obj_end(&j);
	}
	rp_json_arr_end(&j);
	rp_json_obj_end(&j);
	/* As grpc_health_probe: a script's "is it healthy?" is the exit
	 * status.  1 when a backend listed is not, or the service asked
	 * about has none. */
	if (sick > 0 || (filter != NULL && listed == 0))
		r->exit_code = 1;
	r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
	r->content_type = CT_JSON;
	return rp_json_finish(&j);
}

/* ------------------------------------------------------------ dispatch */

/* Encode r as the reply to c's request, send it and close c. */
static void
reply_send(struct broker *b, struct conn *c, struct reply *r)
{
	Rp__AdminReply ar = RP__ADMIN_REPLY__INIT;
	struct rp_frame_meta m;
	char failed[128];

	if (r->built < 0) {
		/* Never part of a body under the verb's own exit code: the
		 * reply says that the broker failed (and if even that cannot
		 * be encoded, below, the connection closes unanswered). */
		rp_utf8_fmt(failed, sizeof(failed),
		    "rp-broker: cannot build the "
		    "reply: %s\n",
		    errno == ENOMEM ? "out of memory" : strerror(errno));
		rp_buf_free(&r->body);
		r->text = failed;
		r->kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_TEXT;
		r->content_type = CT_TEXT;
		r->exit_code = RP_EXIT_INTERNAL;
	}
	ar.kind = (Rp__AdminReplyKind)r->kind;
	ar.body = (char *)(uintptr_t)(r->text != NULL ? r->text :
	    r->body.data != NULL ? (char *)r->body.data : "");
	ar.exit_code = r->exit_code;
	ar.content_type = (char *)(uintptr_t)r->content_type;
	rp_wire_echo(&m, c->frame);
	rp_buf_clear(&b->scratch);
	if (rp_wire_frame_encode_msg(&b->scratch, &m, &ar.base) < 0) {
		rp_buf_free(&r->body);
		conn_close(b, c, CONN_CLOSE_WRITE_FAILED);
		return;
	}
	rp_buf_free(&r->body);
	(void)conn_reply(b, c, &b->scratch, CONN_THEN_CLOSE);
}


/* -------------------------------------------------------- METRICS turns */

/* How many METRICS replies one loop round sends, at most: what comes
 * meanwhile (a healthz, a Hello) is served between two turns. */
#define MQ_TURN 4

static void mq_turn_cb(struct rp_loop *loop, void *arg);

static void
mq_arm(struct broker *b)
{
	if (b->mq.timer == 0 && b->mq.n > 0)
		/* Due now: it runs after the round that comes next has
		 * served its own events (rp_loop_timer). */
		b->mq.timer = rp_loop_timer(b->loop, rp_loop_now(b->loop),
		    mq_turn_cb, b);
}

static void
mq_push(struct broker *b, struct conn *c)
{
	struct metrics_queue *q = &b->mq;

	c->wnext = NULL;
	c->in_mq = 1;
	if (q->tail != NULL)
		q->tail->wnext = c;
	else
		q->head = c;
	q->tail = c;
	q->n++;
	conn_park(b, c);
	mq_arm(b);
}

/* The head out of the queue; the snapshot stays (mq_release). */
static struct conn *
mq_pop(struct metrics_queue *q)
{
	struct conn *c = q->head;

	q->head = c->wnext;
	if (q->head == NULL)
		q->tail = NULL;
	c->wnext = NULL;
	c->in_mq = 0;
	q->n--;
	return c;
}

/* One covered connection fewer: the last one frees the snapshot. */
static void
mq_release(struct metrics_queue *q)
{
	if (q->covered > 0 && --q->covered == 0)
		rp_buf_free(&q->snap);
}

void
admin_metrics_forget(struct broker *b, struct conn *c)
{
	struct metrics_queue *q = &b->mq;
	struct conn **pp, *prev = NULL;
	size_t pos = 0;

	for (pp = &q->head; *pp != NULL && *pp != c; pp = &(*pp)->wnext) {
		prev = *pp;
		pos++;
	}
	if (*pp == NULL)
		return;
	*pp = c->wnext;
	if (q->tail == c)
		q->tail = prev;
	c->wnext = NULL;
	c->in_mq = 0;
	q->n--;
	if (pos < q->covered)
		mq_release(q);
}

void
admin_metrics_end(struct broker *b, int why)
{
	struct metrics_queue *q = &b->mq;

	if (q->timer != 0)
		rp_loop_timer_cancel(b->loop, q->timer);
	q->timer = 0;
	while (q->head != NULL)
		conn_close(b, q->head, (enum conn_close)why);
	rp_buf_free(&q->snap);
}

/* One turn: a snapshot for whoever waits and has none yet, then up to
 * MQ_TURN replies from it; the rest wait for the next round. */
static void
mq_turn_cb(struct rp_loop *loop, void *arg)
{
	struct broker *b = arg;
	struct metrics_queue *q = &b->mq;
	struct reply r;
	struct conn *c;
	int i;

	(void)loop;
	q->timer = 0;
	for (i = 0; i < MQ_TURN && q->head != NULL; i++) {
		if (q->covered == 0) {
			rp_buf_clear(&q->snap);
			q->snap_err = admin_metrics(b, &q->snap) < 0 ?
			    errno : 0;
			q->covered = q->n;
		}
		c = mq_pop(q);
		memset(&r, 0, sizeof(r));
		r.kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_OPENMETRICS;
		r.content_type = RP_OPENMETRICS_CONTENT_TYPE;
		if (q->snap_err != 0) {
			errno = q->snap_err;
			r.built = -1;
		} else {
			/* Borrowed: reply_send frees only r.body. */
			r.text = q->snap.data != NULL ?
			    (const char *)q->snap.data : "";
		}
		reply_send(b, c, &r);
		mq_release(q);
	}
	mq_arm(b);
}

void
admin_frame(struct broker *b, struct conn *c, Rp__Frame *f)
{
	Rp__AdminRequest *req;
	struct reply r;
	char refused[128];
	int64_t drain = 0;
	int shutdown = 0, built = 0, n;

	req = rp_wire_unpack(&rp__admin_request__descriptor, f->payload.data,
	    f->payload.len);
	if (req == NULL) {
		conn_close(b, c, CONN_CLOSE_BAD_ADMIN);
		return;
	}
	/* What is reported counts every handoff Ack that has come back. */
	handoff_settle_all(b);
	memset(&r, 0, sizeof(r));
	r.kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_TEXT;
	r.content_type = CT_TEXT;
	b->count.admin[req->verb < 32 ? req->verb : 31]++;
	switch (req->verb) {
	case RP__ADMIN_VERB__ADMIN_VERB_STATUS:
		built = verb_status(b, req, &r);
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_DUMP:
		if (req->output_path != NULL && req->output_path[0] != '\0' &&
		    c->uid != b->euid) {
			/* The broker writes files for its own uid only. */
			rp_utf8_fmt(refused, sizeof(refused), "rp-broker: "
			    "output_path refused: uid %u may not make the "
			    "broker (uid %u) write files\n", (unsigned)c->uid,
			    (unsigned)b->euid);
			r.text = refused;
			r.exit_code = 1;
			break;
		}
		built = verb_dump(b, c, req, &r);
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_LIST_INSTANCES:
		built = verb_instances(b, &r);
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_HEALTHZ:
		r.text = "ok\n";
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_READYZ:
		if (broker_ready(b)) {
			r.text = "ready\n";
		} else {
			r.text = "not ready\n";
			r.exit_code = 1;
		}
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_BACKEND_HEALTH:
		built = verb_backend_health(b, req, &r);
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_CONFIG:
		built = verb_config(b, &r);
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_DIAGNOSE:
		if ((n = admin_diagnose(b, &r.body)) < 0)
			built = -1;
		else
			r.exit_code = (uint32_t)n;
		r.kind = RP__ADMIN_REPLY_KIND__ADMIN_REPLY_KIND_JSON;
		r.content_type = CT_JSON;
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_METRICS:
		/* Its turn comes in the METRICS queue. */
		mq_push(b, c);
		built = 1;
		break;
	case RP__ADMIN_VERB__ADMIN_VERB_SHUTDOWN:
		if (c->uid != b->euid && c->uid != 0) {
			/* --allow-uid lets a peer use the broker, not stop
			 * it for everyone. */
			rp_utf8_fmt(refused, sizeof(refused), "rp-broker: "
			    "shutdown refused: uid %u may not stop the broker "
			    "(uid %u)\n", (unsigned)c->uid, (unsigned)b->euid);
			r.text = refused;
			r.exit_code = 1;
			break;
		}
		r.text = "broker shutting down\n";
		shutdown = 1;
		drain = req->drain_deadline_ms != 0 &&
		    req->drain_deadline_ms < 3600000 ?
		    (int64_t)req->drain_deadline_ms : b->cfg.drain_timeout_ms;
		break;
	default:
		r.text = "unsupported admin verb\n";
		r.exit_code = 2;
		break;
	}
	rp_wire_free(req);
	if (built > 0)
		return;         /* parked: answered when its work is done */
	r.built = built;
	reply_send(b, c, &r);
	if (shutdown)
		broker_begin_drain(b, drain, "SHUTDOWN requested");
}
