/* Unit tests for rp-broker's Hello series and their OpenMetrics text
 * (cmd/rp-broker/metrics.c). */
#include <stdio.h>
#include <string.h>

#include "buf.h"
#include "metrics.h"
#include "t.h"

#define P METRICS_PREFIX

static const char *
render(const struct metrics *m, struct rp_buf *b)
{
	rp_buf_clear(b);
	T_EQ(metrics_render_hellos(m, b), 0);
	return rp_buf_str(b);
}

/* One series per (service, version, outcome); the durations by service,
 * in cumulative buckets. */
static void
test_series(void)
{
	struct metrics m;
	struct rp_buf b = { 0 };
	uint64_t by[METRICS_OUTCOMES];
	const char *s;

	T_EQ(metrics_init(&m), 0);
	metrics_hello(&m, "echo", "1.0.0", METRICS_NEGOTIATED);
	metrics_hello(&m, "echo", "1.0.0", METRICS_NEGOTIATED);
	metrics_hello(&m, "echo", "2.0.0", METRICS_NEGOTIATED);
	metrics_hello(&m, "echo", "1.0.0", 2);
	metrics_hello(&m, "", "", 99);          /* out of range: internal */
	metrics_duration(&m, "echo", 40000);     /* le 5e-05 */
	metrics_duration(&m, "echo", 2000000);   /* le 0.0025 */
	metrics_duration(&m, "echo", -5);        /* as 0 */
	metrics_duration(&m, "echo", 20000000000); /* past 10 s: +Inf */
	s = render(&m, &b);
	T_OK(strstr(s, "# HELP " P "hello Hellos answered, by service, "
	    "version and outcome.\n# TYPE " P "hello counter\n") == s);
	T_OK(strstr(s, P "hello_total{service=\"echo\",version=\"1.0.0\","
	    "outcome=\"negotiated\"} 2\n") != NULL);
	T_OK(strstr(s, P "hello_total{service=\"echo\",version=\"2.0.0\","
	    "outcome=\"negotiated\"} 1\n") != NULL);
	T_OK(strstr(s, P "hello_total{service=\"echo\",version=\"1.0.0\","
	    "outcome=\"service_unknown\"} 1\n") != NULL);
	T_OK(strstr(s, P "hello_total{service=\"\",version=\"\","
	    "outcome=\"internal\"} 1\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_bucket{service=\"echo\","
	    "le=\"5e-05\"} 2\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.001\"} 2\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_bucket{service=\"echo\","
	    "le=\"0.0025\"} 3\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_bucket{service=\"echo\","
	    "le=\"10.0\"} 3\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_bucket{service=\"echo\","
	    "le=\"+Inf\"} 4\n") != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_count{service=\"echo\"} 4\n")
	    != NULL);
	T_OK(strstr(s, P "hello_duration_seconds_sum{service=\"echo\"} "
	    "20.002040000\n") != NULL);
	metrics_by_outcome(&m, by);
	T_UEQ(by[METRICS_NEGOTIATED], 3);
	T_UEQ(by[2], 1);
	T_UEQ(by[7], 1);
	T_STR(metrics_outcome_name(9), "fd_pressure");
	T_STR(metrics_outcome_name(10), "unknown");
	metrics_free(&m);
	rp_buf_free(&b);
}

/* Past the cap, new series are counted under "~other": no Hello goes
 * uncounted, and the text stays bounded. */
static void
test_cap(void)
{
	struct metrics m;
	struct rp_buf b = { 0 };
	uint64_t by[METRICS_OUTCOMES];
	char svc[32];
	int i;

	T_EQ(metrics_init(&m), 0);
	for (i = 0; i < 5000; i++) {
		snprintf(svc, sizeof(svc), "svc-%d", i);
		metrics_hello(&m, svc, "1.0.0", 4);
		metrics_duration(&m, svc, 1000);
	}
	T_OK(m.hello_n < 5000 && m.hello_n * 4 <= m.hello_cap * 3);
	T_UEQ(m.hello_other[4].count, 5000 - m.hello_n);
	T_UEQ(m.hist_other.count, 5000 - m.hist_n);
	metrics_by_outcome(&m, by);
	T_UEQ(by[4], 5000);
	T_OK(strstr(render(&m, &b), P "hello_total{service=\"~other\","
	    "version=\"~other\",outcome=\"rate_limited\"}") != NULL);
	T_OK(strstr(rp_buf_str(&b), P "hello_duration_seconds_count{"
	    "service=\"~other\"}") != NULL);
	metrics_free(&m);
	rp_buf_free(&b);
}

/* Label values escaped as OpenMetrics wants them; the other helpers. */
static void
test_text(void)
{
	struct rp_buf b = { 0 };

	T_EQ(metrics_label(&b, "reason", "a\"b\\c\nd", 1), 0);
	T_EQ(metrics_label(&b, "x", "", 0), 0);
	T_STR(rp_buf_str(&b), "reason=\"a\\\"b\\\\c\\nd\",x=\"\"");
	rp_buf_clear(&b);
	T_EQ(metrics_simple(&b, "ready", "gauge", "Ready.", "", 1), 0);
	T_STR(rp_buf_str(&b), "# HELP " P "ready Ready.\n# TYPE " P
	    "ready gauge\n" P "ready 1\n");
	rp_buf_clear(&b);
	T_EQ(metrics_counter_lv(&b, "events", "result", "written", 12), 0);
	T_STR(rp_buf_str(&b), P "events_total{result=\"written\"} 12\n");
	rp_buf_free(&b);
}

int
main(void)
{
	T_RUN(test_series);
	T_RUN(test_cap);
	T_RUN(test_text);
	return t_done();
}
