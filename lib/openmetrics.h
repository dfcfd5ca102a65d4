/*
 * openmetrics.h — metrics text in the two forms scrapers read.
 *
 * A running-process v1 broker answers the admin verb METRICS in
 * OpenMetrics 1.0 text (application/openmetrics-text), which is what its
 * clients ask for: a counter family is declared without "_total" and its
 * samples carry it.  The Prometheus text format 0.0.4 (text/plain;
 * version=0.0.4), which node_exporter's textfile collector and
 * "promtool check metrics" read, declares the sample's own name instead;
 * read as that format, OpenMetrics counters come out as untyped metrics
 * of another name.  rp_openmetrics_to_prometheus turns the first form into
 * the second:
 *
 *   - counter X: "# TYPE X_total counter" (and its HELP); X_created
 *     samples are dropped (the format has no creation time);
 *   - info X: "# TYPE X_info gauge"; stateset: gauge; unknown: untyped;
 *     gaugehistogram: histogram, its _gcount and _gsum as _count and _sum;
 *     histogram and summary: their _created samples dropped;
 *   - "# UNIT" lines and "# EOF" dropped; exemplars dropped; timestamps
 *     (seconds) written as whole milliseconds;
 *   - in HELP text, \" (an OpenMetrics escape only) becomes ".
 * Everything else (label sets, values, the order of lines) is kept.
 */
#ifndef RP_OPENMETRICS_H
#define RP_OPENMETRICS_H

#include <stddef.h>

#include "buf.h"

/* Convert text[0..len) (OpenMetrics) and append it to out (Prometheus
 * text).  0, or -1 with errno EINVAL (a line that is not OpenMetrics:
 * a bad metric name, an unterminated label set, a timestamp that is not
 * a number, text after "# EOF"; why says which line and what) or ENOMEM;
 * on failure out's length is as it was. */
int rp_openmetrics_to_prometheus(const char *text, size_t len,
    struct rp_buf *out, char *why, size_t whysz);

#endif
