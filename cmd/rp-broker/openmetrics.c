/*
 * openmetrics.c — the METRICS admin verb: the Hello series (metrics.c)
 * and what every other room of the broker counts, as OpenMetrics text.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "broker.h"

#define PREFIX METRICS_PREFIX

static int
render_backends(struct broker *b, struct rp_buf *o)
{
	struct bout_series *s;
	struct bkey *k, *j;
	uint64_t retry;
	int r = 0;

	r |= metrics_family(o, "active_backends", "gauge",
	    "Backends verified and serving (not stopped), by service.");
	for (k = b->keys; k != NULL; k = k->next) {
		uint64_t live = 0;

		/* Once per service: skip services seen earlier in the list. */
		for (j = b->keys; j != k; j = j->next)
			if (strcmp(j->service, k->service) == 0)
				break;
		if (j != k)
			continue;
		for (j = k; j != NULL; j = j->next)
			if (strcmp(j->service, k->service) == 0 &&
			    bkey_healthy(j))
				live++;
		r |= rp_buf_puts(o, PREFIX "active_backends{");
		r |= metrics_label(o, "service", k->service, 1);
		r |= rp_buf_printf(o, "} %" PRIu64 "\n", live);
	}
	r |= metrics_family(o, "spawn_attempts", "counter",
	    "Backend spawns, by service, version and outcome.");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BKEY_SPAWNED)
			continue;
		for (int ok = 1; ok >= 0; ok--) {
			r |= rp_buf_puts(o, PREFIX "spawn_attempts_total{");
			r |= metrics_label(o, "service", k->service, 1);
			r |= metrics_label(o, "version", k->version, 0);
			r |= metrics_label(o, "outcome", ok ? "success" :
			    "failure", 0);
			r |= rp_buf_printf(o, "} %" PRIu64 "\n", ok ?
			    k->spawn_ok : k->spawn_failed);
		}
	}
	r |= metrics_family(o, "spawn_budget_remaining", "gauge",
	    "Spawns left in the current budget window, by service and "
	    "version.");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BKEY_SPAWNED)
			continue;
		r |= rp_buf_puts(o, PREFIX "spawn_budget_remaining{");
		r |= metrics_label(o, "service", k->service, 1);
		r |= metrics_label(o, "version", k->version, 0);
		r |= rp_buf_printf(o, "} %u\n", bkey_budget_left(b, k, &retry));
	}
	r |= metrics_family(o, "backend_output_dropped_bytes", "counter",
	    "Bytes of spawned backends' output dropped over the log budget, "
	    "by service.");
	for (s = b->bout_series; s != NULL; s = s->next) {
		r |= rp_buf_puts(o, PREFIX "backend_output_dropped_bytes_total{");
		r |= metrics_label(o, "service", s->service, 1);
		r |= rp_buf_printf(o, "} %" PRIu64 "\n", s->dropped);
	}
	return r;
}

/*
 * What every Prometheus exporter has: the build as an info gauge (value
 * 1, the version in a label), and the process collector's standard
 * names, so that stock dashboards and alerts work on the broker too.
 */
static int
render_standard(const struct broker *b, struct rp_buf *o, int nfd)
{
	int r = 0;

	r |= metrics_family(o, "build_info", "gauge",
	    "The broker's build: always 1, the version in a label.");
	r |= rp_buf_puts(o, PREFIX "build_info{");
	r |= metrics_label(o, "version", RP_VERSION, 1);
	r |= metrics_label(o, "protocol", "v1", 0);
	r |= rp_buf_puts(o, "} 1\n");
	r |= rp_buf_printf(o, "# HELP process_open_fds Number of open file "
	    "descriptors.\n# TYPE process_open_fds gauge\n"
	    "process_open_fds %d\n", nfd < 0 ? 0 : nfd);
	r |= rp_buf_puts(o, "# HELP process_max_fds Maximum number of open "
	    "file descriptors (the soft RLIMIT_NOFILE).\n"
	    "# TYPE process_max_fds gauge\n");
	if (b->nofile_soft == UINT64_MAX)
		r |= rp_buf_puts(o, "process_max_fds +Inf\n");
	else
		r |= rp_buf_printf(o, "process_max_fds %" PRIu64 "\n",
		    b->nofile_soft);
	r |= rp_buf_printf(o, "# HELP process_start_time_seconds Start time "
	    "of the process since the Unix epoch in seconds.\n"
	    "# TYPE process_start_time_seconds gauge\n"
	    "process_start_time_seconds %" PRId64 ".%03" PRId64 "\n",
	    b->started_wall_ms / 1000, b->started_wall_ms % 1000);
	return r;
}

/* Handoffs by backend and outcome (with --handoff). */
static int
render_handoffs(struct broker *b, struct rp_buf *o)
{
	struct bkey *k;
	uint64_t inflight = 0;
	unsigned i;
	int r = 0;

	if (!b->cfg.handoff)
		return 0;
	r |= metrics_family(o, "handoff", "counter",
	    "Client connections handed to a backend, by service, version and "
	    "outcome (anything but accepted fell back to backend_pipe).");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind == BKEY_STATIC && k->hpipe[0] == '\0')
			continue;
		inflight += k->ho.ring.n;
		for (i = 0; i < HANDOFF_OUTCOMES; i++) {
			r |= rp_buf_puts(o, PREFIX "handoff_total{");
			r |= metrics_label(o, "service", k->service, 1);
			r |= metrics_label(o, "version", k->version, 0);
			r |= metrics_label(o, "outcome",
			    handoff_outcome_name(i), 0);
			r |= rp_buf_printf(o, "} %" PRIu64 "\n",
			    k->handoffs[i]);
		}
	}
	r |= metrics_family(o, "handoff_refusals", "counter",
	    "Handoffs the backend refused (outcome refused), by service, "
	    "version and the reason its Ack gave: replay, store_full, "
	    "expired, token, fd, offer or other.");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind == BKEY_STATIC && k->hpipe[0] == '\0')
			continue;
		for (i = 0; i < REFUSALS; i++) {
			r |= rp_buf_puts(o, PREFIX "handoff_refusals_total{");
			r |= metrics_label(o, "service", k->service, 1);
			r |= metrics_label(o, "version", k->version, 0);
			r |= metrics_label(o, "reason", refusal_name(i), 0);
			r |= rp_buf_printf(o, "} %" PRIu64 "\n",
			    k->refusals[i]);
		}
	}
	r |= metrics_simple(o, "handoffs_in_flight", "gauge",
	    "Transfers sent to backends whose Ack has not been read yet.", "",
	    inflight);
	r |= metrics_simple(o, "handoff_connections", "gauge",
	    "Handoff connections open to backends.", "", b->nhconns);
	return r;
}

/* An admin verb as a label value: its command-line name, with '_' for
 * '-' ("list_instances"). */
static void
verb_label(char *out, size_t outsz, const char *cli)
{
	char *p;

	rp_utf8_fmt(out, outsz, "%s", cli);
	for (p = out; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
}

static int
render_admin(const struct counters *n, struct rp_buf *o)
{
	size_t i;
	int r = 0;

	r |= metrics_family(o, "admin_requests", "counter",
	    "Admin requests answered, by verb.");
	for (i = 0; i < 32; i++) {
		char vb[32];
		const char *name = i == 0 ? "unspecified" :
		    rp_wire_admin_verb_cli((uint32_t)i);

		if (name == NULL && n->admin[i] == 0)
			continue;
		if (name == NULL)
			rp_utf8_fmt(vb, sizeof(vb), "verb_%zu", i);
		else
			verb_label(vb, sizeof(vb), name);
		r |= metrics_counter_lv(o, "admin_requests", "verb", vb,
		    n->admin[i]);
	}
	return r;
}

int
admin_metrics(struct broker *b, struct rp_buf *o)
{
	static const char *const close_names[CONN_CLOSES] = {
		"replied", "out_of_memory", "timeout", "write_failed",
		"bad_admin", "drain", "refused_at_accept", "peer_rejected",
		"handed_off", "handoff_failed", "output_budget", "evicted",
	};
	const struct counters *n = &b->count;
	int64_t up_ms = rp_now_ms() - b->started_ms;
	int nfd = rp_fd_count();
	size_t i;
	int r = 0;

	r |= metrics_render_hellos(&b->m, o);
	r |= render_backends(b, o);
	r |= render_handoffs(b, o);
	r |= metrics_simple(o, "connections_open", "gauge",
	    "Client connections open now.", "", b->nconns);
	r |= metrics_family(o, "fd_usage_ratio", "gauge",
	    "Open file descriptors over the soft RLIMIT_NOFILE.");
	r |= rp_buf_printf(o, PREFIX "fd_usage_ratio %.6f\n",
	    broker_fd_ratio(b, nfd));
	r |= metrics_family(o, "uptime_seconds", "gauge",
	    "Seconds since the broker started.");
	r |= rp_buf_printf(o, PREFIX "uptime_seconds %" PRId64 ".%03" PRId64
	    "\n", up_ms / 1000, up_ms % 1000);

	/* Beyond the frozen set. */
	r |= metrics_simple(o, "ready", "gauge",
	    "1 when the broker accepts Hellos (not draining, no fd pressure).",
	    "", broker_ready(b));
	r |= metrics_simple(o, "connections_accepted", "counter",
	    "Connections accepted, including those refused at once.", "_total",
	    n->accepted);
	r |= metrics_family(o, "connections_closed", "counter",
	    "Connections closed, by why.");
	for (i = 0; i < CONN_CLOSES; i++)
		r |= metrics_counter_lv(o, "connections_closed", "reason",
		    close_names[i], n->closed[i]);
	r |= metrics_simple(o, "peer_rejected", "counter",
	    "Connections from a uid that is not allowed, closed unread.",
	    "_total", n->peer_rejected);
	r |= metrics_simple(o, "accept_emfile", "counter",
	    "accept calls that failed for want of file descriptors.", "_total",
	    n->accept_emfile);
	r |= metrics_family(o, "accept_refused", "counter",
	    "Connections accepted only to be refused with code 9, by why.");
	r |= metrics_counter_lv(o, "accept_refused", "reason", "fd_exhausted",
	    n->accept_refused_emfile);
	r |= metrics_counter_lv(o, "accept_refused", "reason", "max_clients",
	    n->accept_refused_max_clients);
	r |= metrics_simple(o, "accept_errors", "counter",
	    "accept calls that failed for other reasons.", "_total",
	    n->accept_errors);
	r |= metrics_simple(o, "fd_pressure_episodes", "counter",
	    "Times the broker ran out of file descriptors.", "_total",
	    b->pressure_episodes);
	r |= render_admin(n, o);
	r |= metrics_family(o, "backend_deaths", "counter",
	    "Spawned backends that ended, by why.");
	r |= metrics_counter_lv(o, "backend_deaths", "reason", "crash",
	    n->deaths_crash);
	r |= metrics_counter_lv(o, "backend_deaths", "reason", "shutdown",
	    n->deaths_shutdown);
	r |= metrics_simple(o, "definition_loads", "counter",
	    "Service definition files read.", "_total", b->defs.loads);
	r |= metrics_family(o, "events", "counter",
	    "Lifecycle events written to --events, by result.");
	r |= metrics_counter_lv(o, "events", "result", "written",
	    b->ev.written);
	r |= metrics_counter_lv(o, "events", "result", "failed", b->ev.failed);
	r |= metrics_simple(o, "fd_limit", "gauge", "The soft RLIMIT_NOFILE.",
	    "", b->nofile_soft == UINT64_MAX ? 0 : b->nofile_soft);
	r |= metrics_simple(o, "fds_open", "gauge", "Open file descriptors.",
	    "", nfd < 0 ? 0 : (uint64_t)nfd);
	r |= render_standard(b, o, nfd);
	r |= rp_buf_puts(o, "# EOF\n");
	if (r != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
