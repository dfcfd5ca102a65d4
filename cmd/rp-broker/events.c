/* events.c — lifecycle events to --events and the DUMP ring (events.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "deadline.h"
#include "events.h"
#include "fs.h"
#include "io.h"
#include "parse.h"
#include "wire.h"

#define LINE_MAX_BYTES 4096

static int
open_file(const char *path)
{
	return rp_fs_open_append(path, 0);
}

int
events_open(struct events *ev, const char *path, const char *instance)
{
	ev->fd = -1;
	ev->path = path;
	ev->instance = instance;
	if (path == NULL || events_stderr(ev))
		return 0;
	/* Whether we made the file: start-up that fails removes it again. */
	ev->fd = rp_fs_open_append(path, 1);
	ev->created = ev->fd >= 0;
	if (ev->fd < 0 && errno == EEXIST)
		ev->fd = open_file(path);
	return ev->fd < 0 ? -1 : 0;
}

void
events_abandon(struct events *ev)
{
	struct stat st;

	if (ev->fd >= 0 && ev->created && fstat(ev->fd, &st) == 0 &&
	    st.st_size == 0)
		(void)unlink(ev->path);
	ev->created = 0;
}

int
events_stderr(const struct events *ev)
{
	return ev->path != NULL && strcmp(ev->path, "-") == 0;
}

void
events_set_sink(struct events *ev,
    int (*sink)(void *arg, const char *line, size_t len), void *arg)
{
	ev->sink = sink;
	ev->sink_arg = arg;
}

int
events_reopen(struct events *ev)
{
	int fd;

	if (ev->path == NULL || events_stderr(ev))
		return 0;
	if ((fd = open_file(ev->path)) < 0)
		return -1;
	rp_fd_close(&ev->fd);
	ev->fd = fd;
	return 0;
}

void
events_close(struct events *ev)
{
	rp_fd_close(&ev->fd);
	rp_buf_free(&ev->line);
}

int
events_on(const struct events *ev)
{
	return ev->fd >= 0 || events_stderr(ev);
}

/* A 64-bit id as a decimal JSON string: JSON readers that hold numbers
 * in doubles lose digits past 2^53 (rp-probe writes its ids alike). */
static void
key_dec(struct rp_json *j, const char *k, uint64_t v)
{
	char d[24];

	snprintf(d, sizeof(d), "%llu", (unsigned long long)v);
	rp_json_kstr(j, k, d);
}

static const char *
severity_text(uint32_t sev)
{
	return sev >= EV_ERROR ? "ERROR" : sev >= EV_WARN ? "WARN" : "INFO";
}

static void
format(const struct events *ev, struct rp_buf *out, int64_t ts,
    uint32_t kind, uint32_t sev, const char *service, const char *reason,
    size_t rlen, const char *request_id, uint64_t connection_id,
    uint32_t pid, const struct ev_kv *extra, size_t nextra)
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
	key_dec(&j, "connection_id", connection_id);
	rp_json_kstr(&j, "broker_instance", ev->instance ? ev->instance : "");
	rp_json_key(&j, "extra");
	rp_json_obj(&j);
	for (i = 0; i < nextra; i++)
		rp_json_kstr(&j, extra[i].k, extra[i].v ? extra[i].v : "");
	if (ev->lost > 0) {
		char n[24];

		snprintf(n, sizeof(n), "%llu", (unsigned long long)ev->lost);
		rp_json_kstr(&j, "events_lost", n);
	}
	rp_json_obj_end(&j);
	rp_json_obj_end(&j);
	if (rp_json_finish(&j) < 0)
		rp_buf_clear(out);
}

static void
lose(struct events *ev)
{
	ev->failed++;
	ev->lost++;
}

/*
 * Only the first n bytes of a line went out (the disk filled, or a file
 * size limit): cut them off again so that every line in the file is
 * whole.  Where that cannot be done, the fragment is ended with the next
 * line's newline, so only it is lost.
 */
static void
untear(struct events *ev, size_t n)
{
	off_t end = lseek(ev->fd, 0, SEEK_CUR);

	if (end >= (off_t)n && ftruncate(ev->fd, end - (off_t)n) == 0)
		return;
	ev->torn = 1;
}

static void
write_line(struct events *ev, int64_t ts, uint32_t kind, uint32_t sev,
    const char *service, const char *reason, const char *request_id,
    uint64_t connection_id, uint32_t pid, const struct ev_kv *extra,
    size_t nextra)
{
	struct rp_buf *out = &ev->line;
	size_t rlen = strlen(reason), over;
	ssize_t n;

	format(ev, out, ts, kind, sev, service, reason, rlen, request_id,
	    connection_id, pid, extra, nextra);
	/* Too long: cut the reason by the excess (escaping can only make
	 * the cut worth more), then, if needed, lose the extras. */
	while (out->len > LINE_MAX_BYTES && rlen > 0) {
		over = out->len - LINE_MAX_BYTES;
		rlen = over >= rlen ? 0 : rlen - over;
		format(ev, out, ts, kind, sev, service, reason, rlen,
		    request_id, connection_id, pid, extra, nextra);
	}
	if (out->len > LINE_MAX_BYTES)
		format(ev, out, ts, kind, sev, service, reason, 0, request_id,
		    connection_id, pid, NULL, 0);
	if (out->len == 0 || out->len > LINE_MAX_BYTES) {
		lose(ev);
		return;
	}
	if (ev->fd < 0 && ev->sink != NULL) {
		/* --events -: the queue takes it or counts it dropped */
		if (ev->sink(ev->sink_arg, (const char *)out->data,
		    out->len) == 0) {
			ev->written++;
			ev->lost = 0;
		} else {
			lose(ev);
		}
		return;
	}
	if (ev->fd < 0) {
		/* --events - before the queue exists (start-up): stderr */
		if (rp_io_write_full(2, out->data, out->len,
		    rp_now_ms() + 1000) == 0)
			ev->written++;
		else
			lose(ev);
		return;
	}
	if (ev->torn) {
		if (write(ev->fd, "\n", 1) != 1) {
			lose(ev);
			return;
		}
		ev->torn = 0;
	}
	do
		n = write(ev->fd, out->data, out->len);
	while (n < 0 && errno == EINTR);
	if (n == (ssize_t)out->len) {
		ev->written++;
		ev->lost = 0;
		ev->torn = 0;
		return;
	}
	lose(ev);
	if (n > 0)
		untear(ev, (size_t)n);
}

void
events_emit(struct events *ev, uint32_t kind, uint32_t severity,
    const char *service, const char *reason, const char *request_id,
    uint64_t connection_id, uint32_t pid, const struct ev_kv *extra,
    size_t nextra)
{
	int64_t ts = rp_wall_ms();
	struct ev_rec *r;
	char rid[sizeof(r->request_id)];

	if (reason == NULL)
		reason = "";
	/* A client's request_id is any string it likes: as long as in the
	 * ring (64 bytes), so that it can never push its event out of a
	 * line (nor anything else out of the record). */
	if (request_id != NULL) {
		rp_utf8_fmt(rid, sizeof(rid), "%s", request_id);
		request_id = rid;
	}
	if (kind != RP__EVENT_KIND__EVENT_KIND_HELLO_ACCEPTED) {
		r = &ev->ring[ev->ring_n++ % EV_RING];
		r->ts_ms = ts;
		r->kind = kind;
		r->pid = pid;
		r->severity = severity;
		r->connection_id = connection_id;
		rp_utf8_fmt(r->service, sizeof(r->service), "%s",
		    service ? service : "");
		rp_utf8_fmt(r->request_id, sizeof(r->request_id), "%s",
		    request_id ? request_id : "");
		rp_utf8_fmt(r->reason, sizeof(r->reason), "%s", reason);
	}
	if (events_on(ev))
		write_line(ev, ts, kind, severity, service, reason, request_id,
		    connection_id, pid, extra, nextra);
}

void
events_json(const struct events *ev, struct rp_json *j)
{
	size_t n = ev->ring_n < EV_RING ? ev->ring_n : EV_RING;
	size_t i, start = ev->ring_n - n;
	const struct ev_rec *r;

	rp_json_arr(j);
	for (i = 0; i < n; i++) {
		r = &ev->ring[(start + i) % EV_RING];
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
		key_dec(j, "connection_id", r->connection_id);
		rp_json_obj_end(j);
	}
	rp_json_arr_end(j);
}
