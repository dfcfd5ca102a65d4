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

/* Answer c's admin request f, and close c. */
void admin_frame(struct broker *b, struct conn *c, Rp__Frame *f);

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
