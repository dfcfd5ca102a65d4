/* Unit tests for rp-broker's lifecycle events (cmd/rp-broker/events.c):
 * the JSON lines, their 4096-byte cap, a short write, the DUMP ring. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "events.h"
#include "fs.h"
#include "json.h"
#include "t.h"

static void
file_of(const char *path, struct rp_buf *b)
{
	rp_buf_clear(b);
	T_EQ(rp_fs_read_file(path, 1 << 20, b), 0);
}

/* One line per event, every field there, the extras as an object. */
static void
test_line(void)
{
	struct ev_kv extra[2] = { { "code", "SERVICE_UNKNOWN" },
		{ "wanted_version", NULL } };
	struct events ev;
	struct rp_buf b = { 0 };
	char path[4096];
	const char *s;

	memset(&ev, 0, sizeof(ev));
	snprintf(path, sizeof(path), "%s/ev.jsonl", t_tmpdir());
	T_EQ(events_open(&ev, path, "private:echo"), 0);
	T_EQ(events_on(&ev), 1);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_HELLO_REFUSED, EV_WARN,
	    "echo", "no service definition", "r-1", 7, 4242, extra, 2);
	file_of(path, &b);
	s = rp_buf_str(&b);
	T_OK(strncmp(s, "{\"ts_ms\":", 9) == 0);
	T_OK(strstr(s, "\"pid\":4242,\"service_name\":\"echo\","
	    "\"kind\":\"HELLO_REFUSED\",\"reason\":\"no service definition\","
	    "\"severity_number\":13,\"severity_text\":\"WARN\","
	    "\"request_id\":\"r-1\",\"connection_id\":\"7\","
	    "\"broker_instance\":\"private:echo\",\"extra\":{\"code\":"
	    "\"SERVICE_UNKNOWN\",\"wanted_version\":\"\"}}\n") != NULL);
	T_UEQ(ev.written, 1);
	T_UEQ(ev.failed, 0);
	events_close(&ev);
	rp_buf_free(&b);
}

/* An over-long reason is cut so that the line fits in one 4096-byte
 * write; the line is still JSON, and still one line.  Escaping can only
 * make a cut worth more, so a reason of quotes is cut further. */
static void
test_line_cap(void)
{
	struct ev_kv extra[1] = { { "binary", "/usr/bin/x" } };
	struct events ev;
	struct rp_buf b = { 0 };
	char path[4096], *reason;

	memset(&ev, 0, sizeof(ev));
	reason = malloc(10000);
	T_OK(reason != NULL);
	memset(reason, 'x', 9999);
	reason[9999] = '\0';
	snprintf(path, sizeof(path), "%s/ev.jsonl", t_tmpdir());
	T_EQ(events_open(&ev, path, "shared"), 0);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, EV_ERROR,
	    "svc", reason, NULL, 0, 0, extra, 1);
	file_of(path, &b);
	T_EQ(b.len, 4096);
	T_EQ(b.data[b.len - 1], '\n');
	T_OK(memchr(b.data, '\n', b.len - 1) == NULL);
	T_OK(strstr(rp_buf_str(&b), "\"binary\":\"/usr/bin/x\"") != NULL);
	memset(reason, '"', 9999);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_SPAWN_ATTEMPT, EV_ERROR,
	    "svc", reason, NULL, 0, 0, extra, 1);
	file_of(path, &b);
	T_OK(b.len > 4096 && b.len <= 8192);
	T_EQ(b.data[b.len - 1], '\n');
	T_OK(memchr(b.data + 4096, '\n', b.len - 4097) == NULL);
	T_UEQ(ev.written, 2);
	T_UEQ(ev.failed, 0);
	events_close(&ev);
	free(reason);
	rp_buf_free(&b);
}

/* A full disk (here a file size limit, which fails a write the same way:
 * short, then not at all) loses lines but never tears one: the part
 * written is cut off again, every line in the file is whole JSON, and
 * the next line written says how many were lost. */
static void
test_short_write(void)
{
	struct sigaction ign = { .sa_handler = SIG_IGN }, old;
	struct rlimit rl, small;
	struct events ev;
	struct rp_buf b = { 0 };
	char path[4096];
	const char *s;
	size_t first;

	memset(&ev, 0, sizeof(ev));
	sigemptyset(&ign.sa_mask);
	T_EQ(sigaction(SIGXFSZ, &ign, &old), 0);
	T_EQ(getrlimit(RLIMIT_FSIZE, &rl), 0);
	snprintf(path, sizeof(path), "%s/ev.jsonl", t_tmpdir());
	T_EQ(events_open(&ev, path, "shared"), 0);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "one", NULL, 0, 0, NULL, 0);
	file_of(path, &b);
	first = b.len;
	/* room for half a line more */
	small = rl;
	small.rlim_cur = (rlim_t)(first + first / 2);
	T_EQ(setrlimit(RLIMIT_FSIZE, &small), 0);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "two", NULL, 0, 0, NULL, 0);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "three", NULL, 0, 0, NULL, 0);
	file_of(path, &b);
	T_UEQ(b.len, first);
	T_UEQ(ev.failed, 2);
	T_UEQ(ev.lost, 2);
	/* space again */
	T_EQ(setrlimit(RLIMIT_FSIZE, &rl), 0);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "four", NULL, 0, 0, NULL, 0);
	file_of(path, &b);
	s = rp_buf_str(&b);
	T_OK(strstr(s, "\"reason\":\"two\"") == NULL);
	T_OK(strstr(s + first, "{\"ts_ms\":") == s + first);
	T_OK(strstr(s + first, "\"reason\":\"four\"") != NULL);
	T_OK(strstr(s + first, "\"extra\":{\"events_lost\":\"2\"}}\n") != NULL);
	T_EQ(b.data[b.len - 1], '\n');
	T_OK(memchr(s + first, '\n', b.len - first - 1) == NULL);
	T_UEQ(ev.written, 2);
	T_UEQ(ev.lost, 0);
	/* and the line after that is plain again */
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "five", NULL, 0, 0, NULL, 0);
	file_of(path, &b);
	T_OK(strstr(rp_buf_str(&b), "\"reason\":\"five\"") != NULL);
	T_OK(strstr(rp_buf_str(&b), "\"extra\":{}}\n") != NULL);
	events_close(&ev);
	T_EQ(sigaction(SIGXFSZ, &old, NULL), 0);
	rp_buf_free(&b);
}

/* Without a file: the ring only, and acceptances stay out of it; it
 * keeps the last EV_RING, oldest first. */
static void
test_ring(void)
{
	struct events *ev = calloc(1, sizeof(*ev));
	struct rp_buf b = { 0 };
	struct rp_json j;
	char reason[32];
	int i;

	T_OK(ev != NULL);
	T_EQ(events_open(ev, NULL, "shared"), 0);
	T_EQ(events_on(ev), 0);
	events_emit(ev, RP__EVENT_KIND__EVENT_KIND_HELLO_ACCEPTED, EV_INFO,
	    "echo", "negotiated", NULL, 1, 1, NULL, 0);
	T_EQ(ev->ring_n, 0);
	for (i = 0; i < EV_RING + 3; i++) {
		snprintf(reason, sizeof(reason), "event %d", i);
		events_emit(ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
		    "echo", reason, NULL, 0, 0, NULL, 0);
	}
	T_UEQ(ev->written, 0);
	rp_json_init(&j, &b, 0);
	events_json(ev, &j);
	T_EQ(rp_json_finish(&j), 0);
	T_OK(strstr(rp_buf_str(&b), "\"reason\":\"event 2\"") == NULL);
	T_OK(strstr(rp_buf_str(&b), "[{\"ts_ms\":") != NULL);
	T_OK(strstr(rp_buf_str(&b), "\"reason\":\"event 3\",") <
	    strstr(rp_buf_str(&b), "\"reason\":\"event 258\","));
	events_close(ev);
	free(ev);
	rp_buf_free(&b);
}

/* A file that cannot be opened is an error at the start; a failed
 * reopen keeps the old file. */
static void
test_open_errors(void)
{
	struct events ev;
	char dir[4096], path[4200];

	memset(&ev, 0, sizeof(ev));
	errno = 0;
	T_EQ(events_open(&ev, "/nonexistent/dir/ev.jsonl", "shared"), -1);
	T_EQ(errno, ENOENT);
	T_EQ(ev.fd, -1);
	snprintf(dir, sizeof(dir), "%s/d", t_tmpdir());
	snprintf(path, sizeof(path), "%s/ev.jsonl", dir);
	T_EQ(mkdir(dir, 0700), 0);
	T_EQ(events_open(&ev, path, "shared"), 0);
	T_EQ(unlink(path), 0);
	T_EQ(rmdir(dir), 0);
	errno = 0;
	T_EQ(events_reopen(&ev), -1);
	T_EQ(errno, ENOENT);
	T_EQ(events_on(&ev), 1);
	events_emit(&ev, RP__EVENT_KIND__EVENT_KIND_DIED_CRASH, EV_ERROR,
	    "echo", "still written", NULL, 0, 0, NULL, 0);
	T_UEQ(ev.written, 1);
	events_close(&ev);
}

int
main(void)
{
	T_RUN(test_line);
	T_RUN(test_line_cap);
	T_RUN(test_short_write);
	T_RUN(test_ring);
	T_RUN(test_open_errors);
	return t_done();
}
