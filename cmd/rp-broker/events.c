/*
 * events.c — lifecycle events: JSON lines appended to --events FILE, and
 * a ring of recent ones for DUMP.
 *
 * Each line is written with one write(2) of at most 4096 bytes to a file
 * opened O_APPEND, so lines from several writers never interleave: an
 * over-long reason is cut (then the extra fields dropped) to fit.  Nothing
 * is formatted unless --events is on; the ring keeps plain structs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "broker.h"

#define LINE_MAX_BYTES 4096

static int
open_events(const char *path)
{
	return open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY,
	    0600);
}

int
events_open(struct broker *b)
{
	if (b->cfg.events_path == NULL)
		return 0;
	b->ev.fd = open_events(b->cfg.events_path);
	return b->ev.fd < 0 ? -1 : 0;
}

/* SIGHUP: the file may have been rotated away; a failed reopen keeps
 * writing to the old one. */
void
events_reopen(struct broker *b)
{
	int fd;

	if (b->cfg.events_path == NULL)
		return;
	fd = open_events(b->cfg.events_path);
	if (fd < 0) {
		cli_warn("cannot reopen --events %s: %s; keeping the old file",
		    b->cfg.events_path, strerror(errno));
		return;
	}
	rp_fd_close(&b->ev.fd);
	b->ev.fd = fd;
}

void
events_close(struct broker *b)
{
	rp_fd_close(&b->ev.fd);
	rp_buf_free(&b->ev.line);
}

static const char *
severity_text(uint32_t sev)
{
	return sev >= SEV_ERROR ? "ERROR" : sev >= SEV_WARN ? "WARN" : "INFO";
}

static void
format(struct broker *b, struct rp_buf *out, int64_t ts, uint32_t kind,
    uint32_t sev, const char *service, const char *reason, size_t rlen,
    const char *request_id, uint64_t connection_id, uint32_t pid,
    const struct ev_kv *extra, size_t nextra)
{
	struct rp_json j;
	size_t i;

	rp_buf_clear(out);
	rp_json_init(&j, out, 0);
	rp_json_obj(&j);
	rp_json_key(&j, "ts_ms");
	rp_json_i64(&j, ts);
	rp_json_ku64(&j, "pid", pid);
	rp_json_kstr(&j, "service_name", service ? service : "");
	rp_json_kstr(&j, "kind", rp_wire_event_kind_name(kind));
	rp_json_key(&j, "reason");
	rp_json_strn(&j, reason, rlen);
	rp_json_ku64(&j, "severity_number", sev);
	rp_json_kstr(&j, "severity_text", severity_text(sev));
	rp_json_kstr(&j, "request_id", request_id ? request_id : "");
	rp_json_ku64(&j, "connection_id", connection_id);
	rp_json_kstr(&j, "broker_instance", b->cfg.instance_id);
	rp_json_key(&j, "extra");
	rp_json_obj(&j);
	for (i = 0; i < nextra; i++)
		rp_json_kstr(&j, extra[i].k, extra[i].v ? extra[i].v : "");
	rp_json_obj_end(&j);
	rp_json_obj_end(&j);
	if (rp_json_finish(&j) < 0)
		rp_buf_clear(out);
}

static void
write_line(struct broker *b, int64_t ts, uint32_t kind, uint32_t sev,
    const char *service, const char *reason, const char *request_id,
    uint64_t connection_id, uint32_t pid, const struct ev_kv *extra,
    size_t nextra)
{
	struct rp_buf *out = &b->ev.line;
	size_t rlen = strlen(reason), over;
	ssize_t n;

	format(b, out, ts, kind, sev, service, reason, rlen, request_id,
	    connection_id, pid, extra, nextra);
	/* Too long: cut the reason by the excess (escaping can only make
	 * the cut worth more), then, if needed, lose the extras. */
	while (out->len > LINE_MAX_BYTES && rlen > 0) {
		over = out->len - LINE_MAX_BYTES;
		rlen = over >= rlen ? 0 : rlen - over;
		format(b, out, ts, kind, sev, service, reason, rlen, request_id,
		    connection_id, pid, extra, nextra);
	}
	if (out->len > LINE_MAX_BYTES)
		format(b, out, ts, kind, sev, service, reason, 0, request_id,
		    connection_id, pid, NULL, 0);
	if (out->len == 0 || out->len > LINE_MAX_BYTES) {
		b->m.events_failed++;
		return;
	}
	do
		n = write(b->ev.fd, out->data, out->len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)out->len)
		b->m.events_written++;
	else
		b->m.events_failed++;
}

void
event_emit(struct broker *b, uint32_t kind, uint32_t severity,
    const char *service, const char *reason, const char *request_id,
    uint64_t connection_id, uint32_t pid, const struct ev_kv *extra,
    size_t nextra)
{
	int64_t ts = rp_wall_ms();
	struct ev_rec *r;

	if (reason == NULL)
		reason = "";
	/* The ring would be all acceptances on a busy broker; those are in
	 * the metrics, and in --events. */
	if (kind != RP__EVENT_KIND__EVENT_KIND_HELLO_ACCEPTED) {
		r = &b->ev.ring[b->ev.ring_n++ % EV_RING];
		r->ts_ms = ts;
		r->kind = kind;
		r->pid = pid;
		r->severity = severity;
		r->connection_id = connection_id;
		fmt(r->service, sizeof(r->service), "%s",
		    service ? service : "");
		fmt(r->request_id, sizeof(r->request_id), "%s",
		    request_id ? request_id : "");
		fmt(r->reason, sizeof(r->reason), "%s", reason);
	}
	if (b->ev.fd >= 0)
		write_line(b, ts, kind, severity, service, reason, request_id,
		    connection_id, pid, extra, nextra);
}

/* The ring, oldest first, as a JSON array (for DUMP). */
void
events_json(struct broker *b, struct rp_json *j)
{
	size_t n = b->ev.ring_n < EV_RING ? b->ev.ring_n : EV_RING;
	size_t i, start = b->ev.ring_n - n;
	const struct ev_rec *r;

	rp_json_arr(j);
	for (i = 0; i < n; i++) {
		r = &b->ev.ring[(start + i) % EV_RING];
		rp_json_obj(j);
		rp_json_key(j, "ts_ms");
		rp_json_i64(j, r->ts_ms);
		rp_json_ku64(j, "pid", r->pid);
		rp_json_kstr(j, "service_name", r->service);
		rp_json_kstr(j, "kind", rp_wire_event_kind_name(r->kind));
		rp_json_kstr(j, "reason", r->reason);
		rp_json_ku64(j, "severity_number", r->severity);
		rp_json_kstr(j, "severity_text", severity_text(r->severity));
		rp_json_kstr(j, "request_id", r->request_id);
		rp_json_ku64(j, "connection_id", r->connection_id);
		rp_json_obj_end(j);
	}
	rp_json_arr_end(j);
}
