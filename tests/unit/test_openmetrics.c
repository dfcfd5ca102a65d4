/* Unit tests for openmetrics: OpenMetrics text into Prometheus text, line
 * by line, and every way a line can fail to be OpenMetrics. */
#include <errno.h>
#include <string.h>

#include "buf.h"
#include "openmetrics.h"
#include "t.h"

/* Convert in; the result (NUL-terminated) or NULL with why. */
static char *
conv(const char *in, char *why, size_t whysz)
{
	static struct rp_buf out;

	rp_buf_free(&out);
	if (rp_openmetrics_to_prometheus(in, strlen(in), &out, why,
	    whysz) != 0)
		return NULL;
	if (rp_buf_append(&out, "", 1) != 0)
		return NULL;
	return (char *)out.data;
}

static void
same(const char *in, const char *want)
{
	char why[256];
	const char *got = conv(in, why, sizeof(why));

	if (got == NULL) {
		t_fail(__FILE__, __LINE__, "failed: %s", why);
		return;
	}
	T_STR(got, want);
}

static void
test_counter_takes_the_sample_name(void)
{
	/* HELP before TYPE, as rp-broker writes them, and after. */
	same("# HELP x_hello Hellos answered.\n"
	    "# TYPE x_hello counter\n"
	    "x_hello_total{service=\"echo\",outcome=\"negotiated\"} 3\n"
	    "x_hello_total{service=\"b\",outcome=\"negotiated\"} 0\n"
	    "# TYPE x_peer counter\n"
	    "# HELP x_peer Peers.\n"
	    "x_peer_total 1\n"
	    "# EOF\n",
	    "# HELP x_hello_total Hellos answered.\n"
	    "# TYPE x_hello_total counter\n"
	    "x_hello_total{service=\"echo\",outcome=\"negotiated\"} 3\n"
	    "x_hello_total{service=\"b\",outcome=\"negotiated\"} 0\n"
	    "# TYPE x_peer_total counter\n"
	    "# HELP x_peer_total Peers.\n"
	    "x_peer_total 1\n");
	/* A counter family that (against OpenMetrics) carries the suffix
	 * already keeps its name; an empty family stays declared. */
	same("# TYPE a_total counter\na_total 1\n# TYPE b counter\n# EOF\n",
	    "# TYPE a_total counter\na_total 1\n# TYPE b_total counter\n");
	/* Creation times have no place in the classic format. */
	same("# TYPE c counter\nc_total 1\nc_created 1.7e9\n# EOF\n",
	    "# TYPE c_total counter\nc_total 1\n");
	/* Without # EOF (or a last newline) it converts all the same. */
	same("# TYPE c counter\nc_total 1", "# TYPE c_total counter\nc_total 1\n");
}

static void
test_other_types(void)
{
	same("# HELP g A gauge.\n# TYPE g gauge\n# UNIT g seconds\ng 0.5\n"
	    "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3.5\nh_created 5\n"
	    "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\ns_sum 1\n"
	    "s_created 1\n# EOF\n",
	    "# HELP g A gauge.\n# TYPE g gauge\ng 0.5\n"
	    "# TYPE h histogram\nh_bucket{le=\"1.0\"} 1\n"
	    "h_bucket{le=\"+Inf\"} 2\nh_count 2\nh_sum 3.5\n"
	    "# TYPE s summary\ns{quantile=\"0.5\"} 1\ns_count 1\ns_sum 1\n");
	same("# HELP b Build.\n# TYPE b info\nb_info{version=\"1\"} 1\n"
	    "# TYPE st stateset\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n"
	    "# TYPE u unknown\nu 7\n"
	    "# TYPE gh gaugehistogram\ngh_bucket{le=\"+Inf\"} 4\n"
	    "gh_gcount 4\ngh_gsum 2\n# EOF\n",
	    "# HELP b_info Build.\n# TYPE b_info gauge\nb_info{version=\"1\"} 1\n"
	    "# TYPE st gauge\nst{st=\"a\"} 1\nst{st=\"b\"} 0\n"
	    "# TYPE u untyped\nu 7\n"
	    "# TYPE gh histogram\ngh_bucket{le=\"+Inf\"} 4\n"
	    "gh_count 4\ngh_sum 2\n");
}

static void
test_sample_details(void)
{
	/* Exemplars go; timestamps (seconds) become milliseconds; label
	 * values keep whatever they hold, braces, quotes and " # " too. */
	same("# TYPE c counter\n"
	    "c_total{a=\"x} # {y\",b=\"q\\\"}\"} 2 # {trace_id=\"1\"} 1 1.5\n"
	    "c_total{a=\"z\"} 4 1700000000.25\n"
	    "c_total 5 -1.5 # {} 1\n"
	    "# EOF\n",
	    "# TYPE c_total counter\n"
	    "c_total{a=\"x} # {y\",b=\"q\\\"}\"} 2\n"
	    "c_total{a=\"z\"} 4 1700000000250\n"
	    "c_total 5 -1500\n");
	/* HELP: \" is OpenMetrics only; \\ and \n are both formats'. */
	same("# HELP g say \\\"hi\\\" \\\\ \\n ok\n# TYPE g gauge\ng 1\n",
	    "# HELP g say \"hi\" \\\\ \\n ok\n# TYPE g gauge\ng 1\n");
	/* Values pass as they are; other comments stay comments. */
	same("# a comment\n# TYPE g gauge\ng +Inf\ng{a=\"\"} NaN\n\n",
	    "# a comment\n# TYPE g gauge\ng +Inf\ng{a=\"\"} NaN\n");
}

static void
bad(const char *in, const char *want_why)
{
	struct rp_buf out = { 0 };
	char why[256];

	T_EQ(rp_buf_puts(&out, "kept"), 0);
	errno = 0;
	T_EQ(rp_openmetrics_to_prometheus(in, strlen(in), &out, why,
	    sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	T_STR(why, want_why);
	T_UEQ(out.len, 4);      /* what was there before, and no more */
	rp_buf_free(&out);
}

static void
test_not_openmetrics(void)
{
	bad("# TYPE g gauge\n9g 1\n", "line 2: not a metric name");
	bad("# TYPE 9g gauge\n", "line 1: not a metric name");
	bad("# TYPE g gauges\n", "line 1: not a metric type");
	bad("# TYPE g\n", "line 1: not a metric type");
	bad("g{a=\"1\" 1\n", "line 1: unterminated label set");
	bad("g{a=\"}\n", "line 1: unterminated label set");
	bad("g\n", "line 1: no value after the metric");
	bad("g{a=\"b\"}1\n", "line 1: no value after the metric");
	bad("g 1 soon\n", "line 1: not a timestamp");
	bad("g 1 1 2\n", "line 1: not a timestamp");
	bad("g 1\n# EOF\ng 2\n", "line 3: text after # EOF");
	bad("g 1\n# EOF\n\n", "line 3: text after # EOF");
	T_EQ(rp_openmetrics_to_prometheus("g 1\0", 4, &(struct rp_buf){ 0 },
	    (char[64]){ 0 }, 64), -1);
}

int
main(void)
{
	T_RUN(test_counter_takes_the_sample_name);
	T_RUN(test_other_types);
	T_RUN(test_sample_details);
	T_RUN(test_not_openmetrics);
	return t_done();
}
