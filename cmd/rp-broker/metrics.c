/* metrics.c — the Hello series and the OpenMetrics text (metrics.h). */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "parse.h"

#define PREFIX METRICS_PREFIX
#define HELLO_CAP 2048          /* slots; at most 3/4 used */
#define HIST_CAP 512
#define OTHER "~other"
#define INTERNAL 7              /* the outcome of what is out of range */

/* Upper bounds of the histogram buckets in ns, and how they are written
 * (50 us to 10 s). */
static const int64_t bucket_ns[METRICS_BUCKETS] = {
	50000, 100000, 250000, 500000, 1000000, 2500000, 5000000,
	10000000, 25000000, 50000000, 100000000, 250000000, 500000000,
	1000000000, 2500000000, 5000000000, 10000000000,
};
static const char *const bucket_le[METRICS_BUCKETS] = {
	"5e-05", "0.0001", "0.00025", "0.0005", "0.001", "0.0025", "0.005",
	"0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "2.5", "5.0",
	"10.0",
};

static const char *const outcomes[METRICS_OUTCOMES] = {
	"negotiated", "version_unsupported", "service_unknown",
	"backend_spawn_failed", "rate_limited", "shutting_down",
	"peer_rejected", "internal", "version_blocked", "fd_pressure",
};

const char *
metrics_outcome_name(unsigned outcome)
{
	return outcome < METRICS_OUTCOMES ? outcomes[outcome] : "unknown";
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
		m->hello = NULL;
		m->hist = NULL;
		return -1;
	}
	m->hello_cap = HELLO_CAP;
	m->hist_cap = HIST_CAP;
	for (i = 0; i < METRICS_OUTCOMES; i++) {
		rp_utf8_fmt(m->hello_other[i].service,
		    sizeof(m->hello_other[i].service), "%s", OTHER);
		rp_utf8_fmt(m->hello_other[i].version,
		    sizeof(m->hello_other[i].version), "%s", OTHER);
		m->hello_other[i].outcome = (uint8_t)i;
	}
	rp_utf8_fmt(m->hist_other.service, sizeof(m->hist_other.service),
	    "%s", OTHER);
	return 0;
}

void
metrics_free(struct metrics *m)
{
	free(m->hello);
	free(m->hist);
	m->hello = NULL;
	m->hist = NULL;
	m->hello_cap = m->hist_cap = 0;
}

void
metrics_hello(struct metrics *m, const char *service, const char *version,
    unsigned outcome)
{
	struct metrics_hello *s;
	size_t i;

	if (outcome >= METRICS_OUTCOMES)
		outcome = INTERNAL;
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
	rp_utf8_fmt(s->service, sizeof(s->service), "%s", service);
	rp_utf8_fmt(s->version, sizeof(s->version), "%s", version);
	s->count = 1;
	m->hello_n++;
}

void
metrics_duration(struct metrics *m, const char *service, int64_t ns)
{
	struct metrics_hist *s;
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
			rp_utf8_fmt(s->service, sizeof(s->service), "%s",
			    service);
			m->hist_n++;
		}
	}
	for (bk = 0; bk < METRICS_BUCKETS && ns > bucket_ns[bk]; bk++)
		;
	if (bk < METRICS_BUCKETS)
		s->buckets[bk]++;
	s->count++;
	s->sum_ns += (uint64_t)ns;
}

void
metrics_by_outcome(const struct metrics *m, uint64_t by[METRICS_OUTCOMES])
{
	size_t i;

	memset(by, 0, METRICS_OUTCOMES * sizeof(by[0]));
	for (i = 0; i < m->hello_cap; i++)
		if (m->hello[i].used)
			by[m->hello[i].outcome] += m->hello[i].count;
	for (i = 0; i < METRICS_OUTCOMES; i++)
		by[i] += m->hello_other[i].count;
}

/* ----------------------------------------------------------- rendering */

int
metrics_label(struct rp_buf *o, const char *name, const char *v, int first)
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

int
metrics_family(struct rp_buf *o, const char *name, const char *type,
    const char *help)
{
	return rp_buf_printf(o, "# HELP " PREFIX "%s %s\n# TYPE " PREFIX
	    "%s %s\n", name, help, name, type);
}

int
metrics_simple(struct rp_buf *o, const char *name, const char *type,
    const char *help, const char *suffix, uint64_t v)
{
	return metrics_family(o, name, type, help) |
	    rp_buf_printf(o, PREFIX "%s%s %" PRIu64 "\n", name, suffix, v);
}

int
metrics_counter_lv(struct rp_buf *o, const char *name, const char *lname,
    const char *lval, uint64_t v)
{
	return rp_buf_printf(o, PREFIX "%s_total{", name) |
	    metrics_label(o, lname, lval, 1) |
	    rp_buf_printf(o, "} %" PRIu64 "\n", v);
}

static int
hello_sample(struct rp_buf *o, const struct metrics_hello *s)
{
	int r = rp_buf_puts(o, PREFIX "hello_total{");

	r |= metrics_label(o, "service", s->service, 1);
	r |= metrics_label(o, "version", s->version, 0);
	r |= metrics_label(o, "outcome", outcomes[s->outcome], 0);
	return r | rp_buf_printf(o, "} %" PRIu64 "\n", s->count);
}

static int
hist_samples(struct rp_buf *o, const struct metrics_hist *s)
{
	uint64_t cum = 0;
	size_t i;
	int r = 0;

	for (i = 0; i < METRICS_BUCKETS; i++) {
		cum += s->buckets[i];
		r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_bucket{");
		r |= metrics_label(o, "service", s->service, 1);
		r |= metrics_label(o, "le", bucket_le[i], 0);
		r |= rp_buf_printf(o, "} %" PRIu64 "\n", cum);
	}
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_bucket{");
	r |= metrics_label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, ",le=\"+Inf\"} %" PRIu64 "\n", s->count);
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_count{");
	r |= metrics_label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, "} %" PRIu64 "\n", s->count);
	r |= rp_buf_puts(o, PREFIX "hello_duration_seconds_sum{");
	r |= metrics_label(o, "service", s->service, 1);
	r |= rp_buf_printf(o, "} %" PRIu64 ".%09" PRIu64 "\n",
	    s->sum_ns / 1000000000, s->sum_ns % 1000000000);
	return r;
}

int
metrics_render_hellos(const struct metrics *m, struct rp_buf *o)
{
	size_t i;
	int r = 0;

	r |= metrics_family(o, "hello", "counter",
	    "Hellos answered, by service, version and outcome.");
	for (i = 0; i < m->hello_cap; i++)
		if (m->hello[i].used)
			r |= hello_sample(o, &m->hello[i]);
	for (i = 0; i < METRICS_OUTCOMES; i++)
		if (m->hello_other[i].count != 0)
			r |= hello_sample(o, &m->hello_other[i]);
	r |= metrics_family(o, "hello_duration_seconds", "histogram",
	    "Time from a complete Hello frame to its reply, by service.");
	for (i = 0; i < m->hist_cap; i++)
		if (m->hist[i].used)
			r |= hist_samples(o, &m->hist[i]);
	if (m->hist_other.count != 0)
		r |= hist_samples(o, &m->hist_other);
	return r;
}
