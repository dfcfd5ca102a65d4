/*
 * metrics.h — the Hello series kept on the Hello path (cheap: a hash
 * lookup and an add) and the OpenMetrics text they and the rest of the
 * broker's counters are written in (20-broker.md "Metrics"; names are
 * frozen).  A counter family is declared without "_total" and its
 * samples carry it, so an OpenMetrics parser accepts it and the sample
 * names are those of the reference implementation.
 *
 * Label values come only from names that passed validation, and the
 * number of series is capped: past the cap, Hellos are counted under
 * service "~other" rather than dropped, so no Hello goes uncounted.
 *
 * A leaf: the series and the text format.  What the broker's other rooms
 * count is rendered by admin (openmetrics.c) with these helpers.
 */
#ifndef RP_BROKER_METRICS_H
#define RP_BROKER_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "names.h"

#define METRICS_PREFIX "running_process_broker_v1_"
#define METRICS_NEGOTIATED 0           /* else the ErrorCode (1..9) */
#define METRICS_OUTCOMES 10
#define METRICS_BUCKETS 17

struct metrics_hello {
	char service[RP_NAME_MAX + 1];
	char version[RP_VERSION_MAX + 1];
	uint8_t used;
	uint8_t outcome;
	uint64_t count;
};

struct metrics_hist {
	char service[RP_NAME_MAX + 1];
	uint8_t used;
	uint64_t buckets[METRICS_BUCKETS];  /* non-cumulative */
	uint64_t count;
	uint64_t sum_ns;
};

struct metrics {
	struct metrics_hello *hello;   /* open addressing */
	size_t hello_cap, hello_n;
	struct metrics_hello hello_other[METRICS_OUTCOMES];
	struct metrics_hist *hist;
	size_t hist_cap, hist_n;
	struct metrics_hist hist_other;
};

/* 0, or -1 (out of memory). */
int metrics_init(struct metrics *m);
void metrics_free(struct metrics *m);

/* One Hello answered with outcome (METRICS_NEGOTIATED or the ErrorCode;
 * anything else counts as internal), and how long it took. */
void metrics_hello(struct metrics *m, const char *service,
    const char *version, unsigned outcome);
void metrics_duration(struct metrics *m, const char *service, int64_t ns);

/* "negotiated", "version_unsupported", ... ("unknown" beyond). */
const char *metrics_outcome_name(unsigned outcome);

/* Hellos by outcome, every series summed (for DUMP). */
void metrics_by_outcome(const struct metrics *m,
    uint64_t by[METRICS_OUTCOMES]);

/*
 * OpenMetrics text into o; each returns 0, or nonzero when o could not
 * grow (OR them together and check once).
 */
/* "# HELP" and "# TYPE" of the family PREFIX name. */
int metrics_family(struct rp_buf *o, const char *name, const char *type,
    const char *help);
/* name="v" (after a ',' unless first), v escaped. */
int metrics_label(struct rp_buf *o, const char *name, const char *v,
    int first);
/* "PREFIX name suffix v" as a whole family of one sample. */
int metrics_simple(struct rp_buf *o, const char *name, const char *type,
    const char *help, const char *suffix, uint64_t v);
/* "PREFIX name_total{lname="lval"} v". */
int metrics_counter_lv(struct rp_buf *o, const char *name, const char *lname,
    const char *lval, uint64_t v);
/* The hello and hello_duration_seconds families. */
int metrics_render_hellos(const struct metrics *m, struct rp_buf *o);

#endif
