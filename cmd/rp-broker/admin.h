/*
 * admin.h — the admin verbs (payload_protocol 0xAD01, 20-broker.md
 * "Admin verbs"), each answered from the broker's real state: admin.c
 * (dispatch and the JSON verbs), diagnose.c (DIAGNOSE), openmetrics.c
 * (METRICS).
 */
#ifndef RP_BROKER_ADMIN_H
#define RP_BROKER_ADMIN_H

#include "rp.h"

struct broker;
struct conn;

/*
 * METRICS requests wait their turn here (admin.c): a burst of them must
 * not hold up the cheap verbs and the Hellos that come meanwhile.  Those
 * that arrived before a snapshot was rendered are all answered from it
 * (one rendering for many; each sees the broker as it was after its
 * request came), at most a few per loop round.
 */
struct metrics_queue {
	struct conn *head, *tail;      /* linked through conn.wnext */
	size_t n;
	size_t covered;                /* the first this many are older than
	                                  snap */
	struct rp_buf snap;            /* the body, while any is covered */
	int snap_err;                  /* its errno when it failed, else 0 */
	uint64_t timer;                /* the next turn */
};

/* Answer c's admin request f, and close c. */
void admin_frame(struct broker *b, struct conn *c, Rp__Frame *f);

/* c closed while waiting in the METRICS queue: out of it. */
void admin_metrics_forget(struct broker *b, struct conn *c);

/* On the way out: close whoever still waits in the METRICS queue (why:
 * enum conn_close) and free the snapshot. */
void admin_metrics_end(struct broker *b, int why);

/* c closed while its admin work (c->work) was still running off the
 * loop: the work finishes, and its reply is dropped. */
void admin_work_forget(struct conn *c);

/* On the way out: wait until deadline (absolute, rp_now_ms) for the work
 * still running off the loop (DUMP files being written), answer its
 * connections, and join its threads; work that outlasts the deadline is
 * said and left to end with the process. */
void admin_work_end(struct broker *b, int64_t deadline);

/* The head every JSON body has: schema_version 1, the command,
 * generated_at_unix_ms, the broker's instance and pid. */
void admin_json_head(struct broker *b, struct rp_json *j,
    const char *command);

/* DIAGNOSE into out: the reply's exit code (1 when a check fails), or -1
 * with errno when the body could not be built. */
int admin_diagnose(struct broker *b, struct rp_buf *out);

/* METRICS into out: 0, or -1 with errno (out of memory). */
int admin_metrics(struct broker *b, struct rp_buf *out);

#endif
