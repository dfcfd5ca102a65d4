/*
 * hello.c — the Hello pipeline of 10-wire.md §6, in the order of its rows
 * (the definitions behind rows 19-22 are defs.c's).
 *
 * Rows 1-3 come from the frame decoder (conn.c), 4-8 from
 * rp_wire_request_parse (0xAD01 goes to admin.c), with fd pressure (18)
 * between rows 4 and 5 as running-process v1 has it, 9 from the Hello
 * decode, 10-15 from rp_wire_hello_check with the kernel's pid, then the
 * broker's own state: rate limit (16), draining (17), the service (19-22)
 * and its backend (23-26, with backend.c).  A first frame over 64 KiB is
 * hello_big_frame's.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "broker.h"

void
hello_free_request(struct conn *c)
{
	rp_wire_free(c->hello);
	rp_wire_free(c->frame);
	c->hello = NULL;
	c->frame = NULL;
}

/* The Hello's request id for events: its own string, else the frame's. */
static const char *
request_id(const struct conn *c, char buf[24])
{
	if (c->hello != NULL && c->hello->request_id[0] != '\0')
		return c->hello->request_id;
	if (c->frame != NULL && c->frame->request_id != 0) {
		rp_utf8_fmt(buf, 24, "%" PRIu64, c->frame->request_id);
		return buf;
	}
	return NULL;
}

/* A service the broker knows: a backend key (static or spawned) or a
 * valid definition in the cache. */
static int
service_known(const struct broker *b, const char *svc)
{
	const struct defent *d;
	const struct bkey *k;

	for (k = b->keys; k != NULL; k = k->next)
		if (strcmp(k->service, svc) == 0)
			return 1;
	for (d = b->defs.list; d != NULL; d = d->next)
		if (d->def != NULL && strcmp(d->service, svc) == 0)
			return 1;
	return 0;
}

/* Service and version make metric labels only once they are known to be
 * valid names (rows 11 and 12 passed) of a service that exists: a
 * made-up name, each a new series, would grow METRICS without bound, so
 * its Hellos are counted under service "" (whatever the outcome, the
 * rate limit's included).  Likewise the version is a label only once
 * the service's rules let it through (LABELS_VERSION: a static backend
 * of that version, or a definition's min_version and allow-list), and
 * not when it is refused for want of a backend slot: any string passes
 * row 12, and each would be a series, so a Hello refused before (rate
 * limit, draining) or for its version is counted under version "". */
static void
labels(const struct broker *b, const struct conn *c, int version_ok,
    const char **svc, const char **ver)
{
	int ok = c->hello != NULL && c->labels_ok != 0 &&
	    service_known(b, c->hello->service_name);

	*svc = ok ? c->hello->service_name : "";
	*ver = ok && version_ok && c->labels_ok == LABELS_VERSION ?
	    c->hello->wanted_version : "";
}

static void
account_as(struct broker *b, struct conn *c, unsigned outcome,
    int version_ok)
{
	const char *svc, *ver;

	labels(b, c, version_ok, &svc, &ver);
	metrics_hello(&b->m, svc, ver, outcome);
	if (c->t0_ns != 0)
		metrics_duration(&b->m, svc, rp_now_ns() - c->t0_ns);
}

static void
account(struct broker *b, struct conn *c, unsigned outcome)
{
	account_as(b, c, outcome, 1);
}

/* Refuse with row `id` and close. */
static void
refuse(struct broker *b, struct conn *c, enum rp_refusal id,
    const char *detail, uint64_t retry)
{
	const struct rp_refusal_row *row = &rp_refusal_table[id];
	struct rp_frame_meta m;
	struct ev_kv extra[2];
	char reason[256], rid[24];
	const char *svc, *ver;

	rp_wire_echo(&m, c->frame);
	rp_buf_clear(&b->scratch);
	/* A connection evicted before it said anything sent no Hello:
	 * counted as evicted (connections_closed), not as a Hello, and no
	 * event of its own (the pressure has one). */
	if (!c->evicted)
		account_as(b, c, row->code, id != RP_REFUSE_SPAWN_BUDGET);
	if (rp_wire_refused_encode(&b->scratch, &m, id, detail, retry) < 0) {
		/* Out of memory (the text is repaired, the echo was decoded):
		 * as running-process v1 when it cannot encode a reply, none
		 * is sent. */
		conn_close(b, c, CONN_CLOSE_NO_MEMORY);
		return;
	}
	if (c->evicted) {
		(void)conn_reply(b, c, &b->scratch, CONN_THEN_CLOSE);
		return;
	}
	/* Refusals also go to the DUMP ring, so they are recorded even
	 * without --events; acceptances only with it (the fast path). */
	rp_utf8_fmt(reason, sizeof(reason), "%s%s%s", row->reason,
	    row->takes_detail && detail && *detail ? ": " : "",
	    row->takes_detail && detail ? detail : "");
	/* The event names the service asked for (a line in a log, not a
	 * series): only its validity matters. */
	svc = c->hello != NULL && c->labels_ok ? c->hello->service_name : "";
	ver = c->hello != NULL && c->labels_ok ? c->hello->wanted_version : "";
	extra[0] = (struct ev_kv){ "wanted_version", ver };
	extra[1] = (struct ev_kv){ "code", rp_wire_error_code_name(row->code) };
	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_HELLO_REFUSED,
	    row->code == 7 || row->code == 3 ? EV_ERROR : EV_WARN, svc,
	    reason, request_id(c, rid), 0, c->pid, extra, 2);
	(void)conn_reply(b, c, &b->scratch, CONN_THEN_CLOSE);
}

void
hello_refuse_frame_status(struct broker *b, struct conn *c, int st)
{
	enum rp_refusal id = rp_wire_refusal_from_frame_status(st);

	if (id == RP_REFUSE_NONE)
		id = RP_REFUSE_INCOMPLETE;
	refuse(b, c, id, NULL, 0);
}

/* Code 9, with the reason that is true: over --max-clients (pressure 1,
 * or evicted for it), else short of fds (at accept, or evicted for
 * them). */
static enum rp_refusal
pressure_row(const struct conn *c)
{
	return c->pressure == 1 ? RP_REFUSE_MAX_CLIENTS :
	    RP_REFUSE_FD_PRESSURE;
}

void
hello_refuse_pressure_now(struct broker *b, struct conn *c)
{
	rp_frame_decoder_reset(&c->dec);
	refuse(b, c, pressure_row(c), NULL, 0);
}

static void
negotiate(struct broker *b, struct conn *c, struct bkey *k)
{
	struct rp_negotiated n;
	struct rp_frame_meta m;
	struct ev_kv extra[1];
	char rid[24];

	memset(&n, 0, sizeof(n));
	n.daemon_version = k->version;
	n.backend_pipe = k->pipe;
	n.keepalive_interval_secs = c->hello->client_keepalive_secs;
	n.connection_id = b->next_connection_id;
	/* The handoff's correlation id is the connection id. */
	c->corr = n.connection_id;
	if (handoff_prepare(b, c, k)) {
		n.token = c->tok;
		n.token_len = RP_TOKEN_LEN;
	}
	rp_wire_echo(&m, c->frame);
	rp_buf_clear(&b->scratch);
	if (rp_wire_negotiated_encode(&b->scratch, &m, &n) < 0) {
		/* The backend's endpoint cannot go on the wire (a broker
		 * directory that is not UTF-8), or no memory: it is not a
		 * backend this broker can offer. */
		handoff_drop(b, c, HANDOFF_OUTCOMES);
		refuse(b, c, RP_REFUSE_INSTALL, errno == EILSEQ ?
		    "its backend_pipe is not UTF-8" : "out of memory", 0);
		return;
	}
	/* The counter is consumed only by Hellos that are negotiated. */
	b->next_connection_id++;
	k->negotiated++;
	k->last_active_wall_ms = rp_wall_ms();
	account(b, c, METRICS_NEGOTIATED);
	if (events_on(&b->ev)) {
		extra[0] = (struct ev_kv){ "route", c->hk != NULL ? "handoff" :
		    "reconnect" };
		events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_HELLO_ACCEPTED,
		    EV_INFO, k->service, "negotiated", request_id(c, rid),
		    n.connection_id, c->pid, extra, 1);
	}
	/* With a token, the connection goes to the backend once the reply
	 * is out (conn.c). */
	(void)conn_reply(b, c, &b->scratch, c->hk != NULL ?
	    CONN_THEN_TRANSFER : CONN_THEN_CLOSE);
}

void
hello_answer_waiter(struct broker *b, struct conn *c, struct bkey *k,
    enum rp_refusal id, const char *detail, uint64_t retry)
{
	if (id == RP_REFUSE_NONE)
		negotiate(b, c, k);
	else
		refuse(b, c, id, detail, retry);
}

/* The backend part: rows 23-26, or Negotiated. */
static void
serve_key(struct broker *b, struct conn *c, struct bkey *k,
    const Rp__ServiceDefinition *def)
{
	char why[512];
	uint64_t retry = 0;

	if (k->kind == BKEY_STATIC) {
		if (k->state == BKEY_PROBING) {
			if (k->nwaiters >= (uint64_t)b->cfg.spawn_waiters + 1) {
				refuse(b, c, RP_REFUSE_SPAWN_IN_PROGRESS, NULL, 0);
				return;
			}
			conn_wait(b, c, k);
			return;
		}
		if (k->state != BKEY_LIVE || bkey_needs_probe(b, k)) {
			/* Queue first: a probe that fails at once answers
			 * its waiters before returning. */
			conn_wait(b, c, k);
			bkey_verify(b, k);
			return;
		}
		negotiate(b, c, k);
		return;
	}
	switch (k->state) {
	case BKEY_LIVE:
		if (k->stopped != 0) {
			/* It would take the client and never answer. */
			refuse(b, c, RP_REFUSE_BACKEND_STOPPED, NULL, 0);
			return;
		}
		negotiate(b, c, k);
		return;
	case BKEY_SPAWNING:
		/* The Hello that started the spawn waits too; it is not one
		 * of the --spawn-waiters. */
		if (k->nwaiters >= (uint64_t)b->cfg.spawn_waiters + 1) {
			refuse(b, c, RP_REFUSE_SPAWN_IN_PROGRESS, NULL, 0);
			return;
		}
		conn_wait(b, c, k);
		return;
	default:
		/* One more backend for this service would be over
		 * --max-backends: the budget's answer, code 4, retry 1 s. */
		if (bkey_running(b, k->service) >= b->cfg.max_backends) {
			refuse(b, c, RP_REFUSE_SPAWN_BUDGET, NULL, 1000);
			bkey_forget_unused(b, k);
			return;
		}
		if (bkey_budget_take(b, k, &retry) < 0) {
			refuse(b, c, RP_REFUSE_SPAWN_BUDGET, NULL, retry);
			return;
		}
		if (bkey_spawn(b, k, def, c->frame, why, sizeof(why)) < 0) {
			refuse(b, c, RP_REFUSE_SPAWN_FAILED, why, 0);
			return;
		}
		conn_wait(b, c, k);
		return;
	}
}

static void
version_mismatch(struct broker *b, struct conn *c, const char *why)
{
	char rid[24];

	events_emit(&b->ev, RP__EVENT_KIND__EVENT_KIND_VERSION_MISMATCH,
	    EV_WARN, c->hello->service_name, why, request_id(c, rid), 0, c->pid,
	    NULL, 0);
}

/* Rows 19-22, then the backend. */
static void
route(struct broker *b, struct conn *c)
{
	const Rp__Hello *h = c->hello;
	const Rp__ServiceDefinition *def;
	const char *why = NULL;
	struct bkey *k;
	int err;

	k = bkey_find(b, h->service_name, h->wanted_version, BKEY_STATIC);
	if (k != NULL) {
		c->labels_ok = LABELS_VERSION;
		serve_key(b, c, k, NULL);
		return;
	}
	err = defs_lookup(&b->defs, h->service_name, &def, &why);
	if (err == ENOENT) {
		/* A service served only by -b backends has nothing to start
		 * another version with: running-process v1's router says
		 * so with code 3 (it has no launcher in that mode). */
		refuse(b, c, bkey_static_service(b, h->service_name) ?
		    RP_REFUSE_BACKEND_NOT_REGISTERED : RP_REFUSE_NO_DEFINITION,
		    NULL, 0);
		return;
	}
	if (err != 0) {
		refuse(b, c, RP_REFUSE_DEFINITION_INVALID, why, 0);
		return;
	}
	if (def->min_version != NULL && def->min_version[0] != '\0' &&
	    rp_names_version_floor(h->wanted_version, def->min_version) ==
	    RP_FLOOR_BELOW) {
		version_mismatch(b, c, "wanted_version is below min_version");
		refuse(b, c, RP_REFUSE_BELOW_MIN, NULL, 0);
		return;
	}
	if (!rp_names_version_allowed(h->wanted_version,
	    (const char *const *)def->version_allow_list,
	    def->n_version_allow_list)) {
		version_mismatch(b, c,
		    "wanted_version is not in version_allow_list");
		refuse(b, c, RP_REFUSE_NOT_ALLOWED, NULL, 0);
		return;
	}
	c->labels_ok = LABELS_VERSION;
	if ((k = bkey_get(b, h->service_name, h->wanted_version)) == NULL) {
		refuse(b, c, RP_REFUSE_INSTALL, errno == ENOSPC ?
		    "too many backend keys" : "out of memory", 0);
		return;
	}
	serve_key(b, c, k, def);
}

void
hello_frame(struct broker *b, struct conn *c, uint8_t *body, size_t len)
{
	enum rp_refusal id;
	Rp__Frame *f = NULL;
	uint64_t retry = 0;

	id = rp_wire_request_parse(body, len, &f);
	free(body);
	c->frame = f;
	if (f != NULL && f->payload_protocol == RP_PP_ADMIN) {
		if (id != RP_REFUSE_NONE) {
			/* A malformed admin frame gets no reply at all. */
			conn_close(b, c, CONN_CLOSE_BAD_ADMIN);
			return;
		}
		admin_frame(b, c, f);
		return;
	}
	if (id == RP_REFUSE_OUT_OF_MEMORY) {
		/* running-process v1 has no answer for this (it aborts). */
		conn_close(b, c, CONN_CLOSE_NO_MEMORY);
		return;
	}
	/* File-descriptor pressure (row 18) is judged where running-process
	 * v1 judges it: once the body decoded as a Frame (row 4) and before
	 * anything else is looked at, the envelope included. */
	if (id != RP_REFUSE_MALFORMED_FRAME && (c->pressure ||
	    (broker_fd_pressure(b) && !conn_make_room(b)))) {
		refuse(b, c, c->pressure ? pressure_row(c) :
		    RP_REFUSE_FD_PRESSURE, NULL, 0);
		return;
	}
	if (id != RP_REFUSE_NONE) {
		refuse(b, c, id, NULL, 0);
		return;
	}
	c->hello = rp_wire_hello_decode(f);
	if (c->hello == NULL) {
		if (errno == ENOMEM)
			conn_close(b, c, CONN_CLOSE_NO_MEMORY);
		else
			refuse(b, c, RP_REFUSE_MALFORMED_HELLO, NULL, 0);
		return;
	}
	id = rp_wire_hello_check(c->hello, c->pid);
	c->labels_ok = id == RP_REFUSE_NONE || id > RP_REFUSE_WANTED_VERSION;
	if (id != RP_REFUSE_NONE) {
		refuse(b, c, id, NULL, 0);
		return;
	}
	if (ratelimit_check(&b->rl, c->pid, rp_loop_now(b->loop), &retry)) {
		refuse(b, c, RP_REFUSE_RATE_LIMITED, NULL, retry);
		return;
	}
	if (b->draining) {
		refuse(b, c, RP_REFUSE_SHUTTING_DOWN, NULL, 0);
		return;
	}
	route(b, c);
}

/*
 * A first frame over 64 KiB, read to its end as it streamed past (conn.c),
 * answered as running-process v1 answers it once it has read and decoded
 * it: a body that is no Frame is row 4 (request_id 0); an admin request
 * is served as any other (a malformed one closed without a reply); a
 * Hello is refused with row 2, "initial Hello frame exceeds 64 KiB", its
 * request_id and trace context echoed, before fd pressure or anything
 * else is looked at.
 */
void
hello_big_frame(struct broker *b, struct conn *c)
{
	struct rp_framescan *s = c->scan;
	int frame_ok = rp_framescan_frame_ok(s);
	int admin_ok = rp_framescan_admin_ok(s);

	c->frame = frame_ok ? rp_framescan_frame(s) : NULL;
	rp_framescan_free(s);
	free(s);
	c->scan = NULL;
	if (frame_ok && c->frame == NULL) {
		conn_close(b, c, CONN_CLOSE_NO_MEMORY);
		return;
	}
	if (c->frame == NULL) {
		refuse(b, c, RP_REFUSE_MALFORMED_FRAME, NULL, 0);
		return;
	}
	if (c->frame->payload_protocol == RP_PP_ADMIN) {
		if (rp_wire_envelope_check(c->frame, RP_KIND_REQUEST,
		    RP_PP_ADMIN) != RP_ENV_OK || !admin_ok) {
			conn_close(b, c, CONN_CLOSE_BAD_ADMIN);
			return;
		}
		/* The request was re-encoded as the frame's payload. */
		admin_frame(b, c, c->frame);
		return;
	}
	refuse(b, c, RP_REFUSE_TOO_LARGE, NULL, 0);
}
