/*
 * metrics.c — counters kept on the Hello path (cheap: a hash lookup and
 * an add) and their OpenMetrics text (20-broker.md "Metrics"; names are
 * frozen).  A counter family is declared without "_total" and its samples
 * carry it, so an OpenMetrics parser accepts it and the sample names are
 * those of the reference implementation.
 *
 * Label values come only from names that passed validation, and the
 * number of series is capped: past the cap, Hellos are counted under
 * service "~other" rather than dropped, so no Hello goes uncounted.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

#define PREFIX "running_process_broker_v1_"
#define HELLO_CAP 2048          /* slots; at most 3/4 used */
#define HIST_CAP 512
#define OTHER "~other"

/* Upper bounds of the histogram buckets in ns, and how they are written
 * (50 us to 10 s). */
static const int64_t bucket_ns[N_BUCKETS] = {
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
	1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const bucket_le[N_BUCKETS] = {
	"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
	"0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
	"10.0",
};

static const char *const outcomes[N_OUTCOMES] = {
	"negotiated", "version_unsupported", "service_unknown",
	"backend_spawn_failed", "rate_limited", "shutting_down",
	"peer_rejected", "internal", "version_blocked", "fd_pressure",
};

const char *
outcome_name(unsigned outcome)
{
	return outcome < N_OUTCOMES ? outcomes[outcome] : "unknown";
}

static uint64_t
hash_str(uint64_t h, const char *s)
{
	/* FNV-1a */
	while (*s != '\0') {
		h ^= (uint8_t)*s++;
		h *= UINT64_C(0x100000001b3);
	}
	h ^= 0xff;
	return h * UINT64_C(0x100000001b3);
}

int
metrics_init(struct metrics *m)
{
	size_t i;

	memset(m, 0, sizeof(*m));
	m->hello = calloc(HELLO_CAP, sizeof(*m->hello));
	m->hist = calloc(HIST_CAP, sizeof(*m->hist));
	if (m->hello == NULL || m->hist == NULL) {
		free(m->hello);
		free(m->hist);
		return -1;
	}
	m->hello_cap = HELLO_CAP;
	m->hist_cap = HIST_CAP;
	for (i = 0; i < N_OUTCOMES; i++) {
		fmt(m->hello_other[i].service,
		    sizeof(m->hello_other[i].service), "%s", OTHER);
		fmt(m->hello_other[i].version,
		    sizeof(m->hello_other[i].version), "%s", OTHER);
		m->hello_other[i].outcome = (uint8_t)i;
	}
	fmt(m->hist_other.service, sizeof(m->hist_other.service), "%s",
	    OTHER);
	return 0;
}

void
metrics_free(struct metrics *m)
{
	free(m->hello);
	free(m->hist);
	m->hello = NULL;
	m->hist = NULL;
}

void
metrics_hello(struct metrics *m, const char *service, const char *version,
    unsigned outcome)
{
	struct hello_series *s;
	size_t i;

	if (outcome >= N_OUTCOMES)
		outcome = 7;            /* internal */
	i = (size_t)hash_str(hash_str(UINT64_C(0xcbf29ce484222325) + outcome,
	    service), version) & (m->hello_cap - 1);
	for (;;) {
		s = &m->hello[i];
		if (!s->used)
			break;
		if (s->outcome == outcome && strcmp(s->service, service) == 0 &&
		    strcmp(s->version, version) == 0) {
			s->count++;
			return;
		}
		i = (i + 1) & (m->hello_cap - 1);
	}
	if ((m->hello_n + 1) * 4 > m->hello_cap * 3) {
		m->hello_other[outcome].count++;
		return;
	}
	s->used = 1;
	s->outcome = (uint8_t)outcome;
	fmt(s->service, sizeof(s->service), "%s", service);
	fmt(s->version, sizeof(s->version), "%s", version);
	s->count = 1;
	m->hello_n++;
}

void
metrics_duration(struct metrics *m, const char *service, int64_t ns)
{
	struct hist_series *s;
	size_t i, bk;

	if (ns < 0)
		ns = 0;
	i = (size_t)hash_str(UINT64_C(0xcbf29ce484222325), service) &
	    (m->hist_cap - 1);
	for (;;) {
		s = &m->hist[i];
		if (!s->used || strcmp(s->service, service) == 0)
			break;
		i = (i + 1) & (m->hist_cap - 1);
	}
	if (!s->used) {
		if ((m->hist_n + 1) * 4 > m->hist_cap * 3) {
			s = &m->hist_other;
		} else {
			s->used = 1;
			fmt(s->service, sizeof(s->service), "%s", service);
			m->hist_n++;
		}
	}
	for (bk = 0; bk < N_BUCKETS && ns > bucket_ns[bk]; bk++)
		;
	if (bk < N_BUCKETS)
		s->buckets[bk]++;
	s->count++;
	s->sum_ns += (uint64_t)ns;
}

/* ----------------------------------------------------------- rendering */

/* A label value: backslash, double quote and newline escaped. */
static int
label(struct rp_buf *o, const char *name, const char *v, int first)
{
	int r = rp_buf_printf(o, "%s%s=\"", first ? "" : ",", name);

	for (; r == 0 && *v != '\0'; v++) {
		if (*v == '\\')
			r = rp_buf_puts(o, "\\\\");
		else if (*v == '"')
			r = rp_buf_puts(o, "\\\"");
		else if (*v == '\n')
			r = rp_buf_puts(o, "\\n");
		else
			r = rp_buf_append(o, v, 1);
	}
	return r | rp_buf_puts(o, "\"");
}

static int
family(struct rp_buf *o, const char *name, const char *type,
    const char *help)
{
	return rp_buf_printf(o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
	    "%s %s\n", name, help, name, type);
}

static int
hello_sample(struct rp_buf *o, const struct hello_series *s)
{
	int r = rp_buf_puts(o, PREFIX "hello_total{");

	r |= label(o, "service", s->service, 1);
	r |= label(o, "version", s->version, 0);
	r |= label(o, "outcome", outcomes[s->outcome], 0);
	return r | rp_buf_printf(o, "} %" PRIu64 "\n", s->count);
}

static int
hist_samples(struct rp_buf *o, const struct hist_series *s)
{
	uint64_t cum = 0;
	size_t i;
	int r = 0;

	for (i = 0; i < N_BUCKETS; i++) {
		cum += s->buckets[i];
		r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_bucket{");
		r |= label(o, "service", s->service, 1);
		r |= label(o, "le", bucket_le[i], 0);
		r |= rp_buf_printf(o, "} %" PRIu64 "\n", cum);
	}
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_bucket{");
	r |= label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, ",le=\"+Inf\"} %" PRIu64 "\n", s->count);
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_count{");
	r |= label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, "} %" PRIu64 "\n", s->count);
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_sum{");
	r |= label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, "} %" PRIu64 ".%09" PRIu64 "\n",
	    s->sum_ns / 1000000000, s->sum_ns % 1000000000);
	return r;
}

static int
simple(struct rp_buf *o, const char *name, const char *type,
    const char *help, const char *suffix, uint64_t v)
{
	return family(o, name, type, help) |
	    rp_buf_printf(o, PREFIX "%s%s %" PRIu64 "\n", name, suffix, v);
}

static int
counter_lv(struct rp_buf *o, const char *name, const char *lname,
    const char *lval, uint64_t v)
{
	return rp_buf_printf(o, PREFIX "%s_total{", name) |
	    label(o, lname, lval, 1) | rp_buf_printf(o, "} %" PRIu64 "\n", v);
}

static int
render_backends(struct broker *b, struct rp_buf *o)
{
	struct bkey *k, *j;
	uint64_t retry;
	int r = 0;

	r |= family(o, "active_backends", "gauge",
	    "Backends verified and serving, by service.");
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
			    j->state == BS_LIVE)
				live++;
		r |= rp_buf_puts(o, PREFIX "active_backends{");
		r |= label(o, "service", k->service, 1);
		r |= rp_buf_printf(o, "} %" PRIu64 "\n", live);
	}
	r |= family(o, "spawn_attempts", "counter",
	    "Backend spawns, by service, version and outcome.");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BK_SPAWNED)
			continue;
		for (int ok = 1; ok >= 0; ok--) {
			r |= rp_buf_puts(o, PREFIX "spawn_attempts_total{");
			r |= label(o, "service", k->service, 1);
			r |= label(o, "version", k->version, 0);
			r |= label(o, "outcome", ok ? "success" : "failure", 0);
			r |= rp_buf_printf(o, "} %" PRIu64 "\n", ok ?
			    k->spawn_ok : k->spawn_failed);
		}
	}
	r |= family(o, "spawn_budget_remaining", "gauge",
	    "Spawns left in the current budget window, by service and "
	    "version.");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind != BK_SPAWNED)
			continue;
		r |= rp_buf_puts(o, PREFIX "spawn_budget_remaining{");
		r |= label(o, "service", k->service, 1);
		r |= label(o, "version", k->version, 0);
		r |= rp_buf_printf(o, "} %u\n", bkey_budget_left(b, k, &retry));
	}
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
	r |= family(o, "handoff", "counter",
	    "Client connections handed to a backend, by service, version and "
	    "outcome (anything but accepted fell back to backend_pipe).");
	for (k = b->keys; k != NULL; k = k->next) {
		if (k->kind == BK_STATIC && k->hpipe[0] == '\0')
			continue;
		inflight += k->ho.ring.n;
		for (i = 0; i < N_HO; i++) {
			r |= rp_buf_puts(o, PREFIX "handoff_total{");
			r |= label(o, "service", k->service, 1);
			r |= label(o, "version", k->version, 0);
			r |= label(o, "outcome", handoff_outcome_name(i), 0);
			r |= rp_buf_printf(o, "} %" PRIu64 "\n", k->handoffs[i]);
		}
	}
	r |= simple(o, "handoffs_in_flight", "gauge",
	    "Transfers sent to backends whose Ack has not been read yet.", "",
	    inflight);
	r |= simple(o, "handoff_connections", "gauge",
	    "Handoff connections open to backends.", "", b->nhconns);
	return r;
}

/* An admin verb as a label value: its command-line name, with '_' for
 * '-' ("list_instances"). */
static void
verb_label(char *out, size_t outsz, const char *cli)
{
	char *p;

	fmt(out, outsz, "%s", cli);
	for (p = out; *p != '\0'; p++)
		if (*p == '-')
			*p = '_';
}

int
metrics_render(struct broker *b, struct rp_buf *o)
{
	static const char *const close_names[N_CLOSE] = {
		"replied", "out_of_memory", "timeout", "write_failed", "bad_admin",
		"drain", "refused_at_accept", "peer_rejected", "handed_off",
		"handoff_failed",
	};
	struct metrics *m = &b->m;
	int64_t up_ms = rp_now_ms() - b->started_ms;
	int nfd = rp_fd_count();
	size_t i;
	int r = 0;

	r |= family(o, "hello", "counter",
	    "Hellos answered, by service, version and outcome.");
	for (i = 0; i < m->hello_cap; i++)
		if (m->hello[i].used)
			r |= hello_sample(o, &m->hello[i]);
	for (i = 0; i < N_OUTCOMES; i++)
		if (m->hello_other[i].count != 0)
			r |= hello_sample(o, &m->hello_other[i]);
	r |= family(o, "hello_duration_seconds", "histogram",
	    "Time from a complete Hello frame to its reply, by service.");
	for (i = 0; i < m->hist_cap; i++)
		if (m->hist[i].used)
			r |= hist_samples(o, &m->hist[i]);
	if (m->hist_other.count != 0)
		r |= hist_samples(o, &m->hist_other);
	r |= render_backends(b, o);
	r |= render_handoffs(b, o);
	r |= simple(o, "connections_open", "gauge",
	    "Client connections open now.", "", b->nconns);
	r |= family(o, "fd_usage_ratio", "gauge",
	    "Open file descriptors over the soft RLIMIT_NOFILE.");
	r |= rp_buf_printf(o, PREFIX "fd_usage_ratio %.6f\n",
	    b->nofile_soft == 0 || b->nofile_soft == UINT64_MAX || nfd < 0 ?
	    0.0 : (double)nfd / (double)b->nofile_soft);
	r |= family(o, "uptime_seconds", "gauge",
	    "Seconds since the broker started.");
	r |= rp_buf_printf(o, PREFIX "uptime_seconds %" PRId64 ".%03" PRId64
	    "\n", up_ms / 1000, up_ms % 1000);

	/* Beyond the frozen set. */
	r |= simple(o, "ready", "gauge",
	    "1 when the broker accepts Hellos (not draining, no fd pressure).",
	    "", !b->draining && !broker_fd_pressure(b));
	r |= simple(o, "connections_accepted", "counter",
	    "Connections accepted, including those refused at once.", "_total",
	    m->accepted);
	r |= family(o, "connections_closed", "counter",
	    "Connections closed, by why.");
	for (i = 0; i < N_CLOSE; i++)
		r |= counter_lv(o, "connections_closed", "reason",
		    close_names[i], m->closed[i]);
	r |= simple(o, "peer_rejected", "counter",
	    "Connections from a uid that is not allowed, closed unread.",
	    "_total", m->peer_rejected);
	r |= simple(o, "accept_emfile", "counter",
	    "accept calls that failed for want of file descriptors.", "_total",
	    m->accept_emfile);
	r |= family(o, "accept_refused", "counter",
	    "Connections accepted only to be refused with code 9, by why.");
	r |= counter_lv(o, "accept_refused", "reason", "fd_exhausted",
	    m->accept_refused_emfile);
	r |= counter_lv(o, "accept_refused", "reason", "max_clients",
	    m->accept_refused_max_clients);
	r |= simple(o, "accept_errors", "counter",
	    "accept calls that failed for other reasons.", "_total",
	    m->accept_errors);
	r |= simple(o, "fd_pressure_episodes", "counter",
	    "Times the broker ran out of file descriptors.", "_total",
	    b->pressure_episodes);
	r |= family(o, "admin_requests", "counter",
	    "Admin requests answered, by verb.");
	for (i = 0; i < 32; i++) {
		char vb[32];
		const char *name = i == 0 ? "unspecified" :
		    rp_wire_admin_verb_cli((uint32_t)i);

		if (name == NULL && m->admin[i] == 0)
			continue;
		if (name == NULL)
			fmt(vb, sizeof(vb), "verb_%zu", i);
		else
			verb_label(vb, sizeof(vb), name);
		r |= counter_lv(o, "admin_requests", "verb", vb, m->admin[i]);
	}
	r |= family(o, "backend_deaths", "counter",
	    "Spawned backends that ended, by why.");
	r |= counter_lv(o, "backend_deaths", "reason", "crash",
	    m->deaths_crash);
	r |= counter_lv(o, "backend_deaths", "reason", "shutdown",
	    m->deaths_shutdown);
	r |= simple(o, "definition_loads", "counter",
	    "Service definition files read.", "_total", m->def_loads);
	r |= family(o, "events", "counter",
	    "Lifecycle events written to --events, by result.");
	r |= counter_lv(o, "events", "result", "written", b->ev.written);
	r |= counter_lv(o, "events", "result", "failed", b->ev.failed);
	r |= simple(o, "fd_limit", "gauge", "The soft RLIMIT_NOFILE.", "",
	    b->nofile_soft == UINT64_MAX ? 0 : b->nofile_soft);
	r |= simple(o, "fds_open", "gauge", "Open file descriptors.", "",
	    nfd < 0 ? 0 : (uint64_t)nfd);
	r |= rp_buf_puts(o, "# EOF\n");
	if (r != 0) {
		errno = ENOMEM;
		return -1;
	}
	return 0;
}
