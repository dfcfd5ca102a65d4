/*
 * bench/handoff — the C client for bench/handoff.sh: connection handoff
 * through rp-broker against reconnecting to backend_pipe, side by side.
 *
 *   handoff latency BROKER_SOCKET SAMPLES BROKER_PID BACKEND_PID [naive]
 *
 * One sample, end to end, either way:
 *   handoff    connect the broker, Hello with capability bit 0, read the
 *              Negotiated reply (token), send the 100-byte request at once
 *              on the same socket, read the handoff event (checked: v1,
 *              EVENT, 0xD0FF, the connection id, our token, accepted),
 *              read the 100-byte answer, close;
 *   reconnect  connect the broker, Hello without bit 0, read the reply,
 *              close, connect backend_pipe, send the request, read the
 *              answer, close.
 *   handoff repeat BROKER_SOCKET N handoff|reconnect
 *
 * runs N samples of one kind only and prints nothing but a failure (for
 * counting system calls with strace -c -p on the broker and the backend).
 * With RP_BENCH_EARLY=1 in the environment, a handoff sample sends its
 * request in the same write as the Hello (rp-probe --early-request),
 * instead of right after the reply.
 * With "naive" (a broker run with --handoff-event broker: the spec's own
 * sequence, the event written by the broker after the backend's Ack) the
 * client waits for the event before it sends the request, as it must
 * there.
 * A handoff that does not happen falls back as a real client would
 * (reconnect, send the request again); such samples are counted and
 * reported, so a run that did not measure handoffs cannot pass for one.
 *
 * The two kinds run in interleaved rounds after a warm-up.  Printed: P50
 * and P99 of each and their ratio, the median time of each step, and the
 * context switches per exchange of the client, the broker and the backend
 * (voluntary switches are sleeps, each one a wake-up), and the CPU time
 * per exchange of the broker and the backend (and of the client: a
 * reconnect's connect makes the backend's end of the socket on the
 * client's CPU, a handoff's fd passing costs the servers).  Nothing asserted; the
 * ratios with a target (issue 16) are RESULT lines for bench/run's
 * summary, in the handoff run only (not the naive one).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rp.h"
#include "support/client.h"

#define REQ_LEN 100
#define ROUNDS 10
#define WARMUP 1000
#define REPLY_MAX 4096
#define NSTEPS 4

static struct rp_buf hello_ho, hello_rc;
static uint8_t req[REQ_LEN];

/* Read exactly n bytes: 0, or -1 at EOF or on an error. */
static int
read_exact(int fd, uint8_t *p, size_t n)
{
	return bench_read_full(fd, p, n) == (ssize_t)n ? 0 : -1;
}

/* One frame's body into buf: its length, or -1. */
static ssize_t
read_frame(int fd, uint8_t *buf, size_t cap)
{
	uint8_t hdr[RP_FRAME_HEADER];
	uint32_t len;

	if (read_exact(fd, hdr, sizeof(hdr)) < 0)
		return -1;
	len = (uint32_t)hdr[1] | (uint32_t)hdr[2] << 8 |
	    (uint32_t)hdr[3] << 16 | (uint32_t)hdr[4] << 24;
	if (hdr[0] != RP_FRAME_VERSION || len > cap)
		return -1;
	if (read_exact(fd, buf, len) < 0)
		return -1;
	return (ssize_t)len;
}

struct neg {
	char pipe[RP_SUN_PATH_MAX];
	uint8_t tok[RP_TOKEN_LEN];
	int have_tok;
	uint64_t connection_id;
};

static void
parse_reply(const uint8_t *body, size_t len, struct neg *n)
{
	Rp__HelloReply *r = NULL;
	Rp__Frame *f;

	f = rp_wire_unpack(&rp__frame__descriptor, body, len);
	if (f != NULL)
		r = rp_wire_unpack(&rp__hello_reply__descriptor,
		    f->payload.data, f->payload.len);
	if (r == NULL || r->result_case != RP__HELLO_REPLY__RESULT_NEGOTIATED)
		bench_fail("the Hello was not negotiated: %s",
		    r && r->result_case == RP__HELLO_REPLY__RESULT_REFUSED ?
		    r->refused->reason : "malformed reply");
	snprintf(n->pipe, sizeof(n->pipe), "%s", r->negotiated->backend_pipe);
	n->connection_id = r->negotiated->connection_id;
	n->have_tok = (r->negotiated->server_capabilities &
	    RP_CAP_HANDLE_PASSING) &&
	    r->negotiated->handle_passed_token.len == RP_TOKEN_LEN;
	if (n->have_tok)
		memcpy(n->tok, r->negotiated->handle_passed_token.data,
		    RP_TOKEN_LEN);
	rp_wire_free(r);
	rp_wire_free(f);
}

/* The request there and back on fd: 0, or -1. */
static int
exchange(int fd)
{
	uint8_t back[REQ_LEN];

	bench_write_all(fd, req, REQ_LEN);
	if (read_exact(fd, back, REQ_LEN) < 0)
		return -1;
	return memcmp(back, req, REQ_LEN) == 0 ? 0 : -1;
}

static void
over_backend_pipe(const char *pipe)
{
	int fd = bench_dial(pipe);

	if (exchange(fd) < 0)
		bench_fail("the backend did not echo the request");
	close(fd);
}

/* Step times of one sample (ns from its start): reply in, event in (or
 * backend connected), answer in, closed. */
typedef int64_t steps_t[NSTEPS];

static uint64_t fallbacks;
static int naive, early;

static void
one_handoff(const char *broker, steps_t st, int64_t t0)
{
	uint8_t body[REPLY_MAX], back[REQ_LEN];
	Rp__HandoffAck *a;
	const char *why;
	struct neg n;
	ssize_t len;
	int fd = bench_dial(broker), ok = 0;

	if (early) {
		uint8_t both[4096];

		if (hello_ho.len + REQ_LEN > sizeof(both))
			bench_fail("the Hello is too long");
		memcpy(both, hello_ho.data, hello_ho.len);
		memcpy(both + hello_ho.len, req, REQ_LEN);
		bench_write_all(fd, both, hello_ho.len + REQ_LEN);
	} else {
		bench_write_all(fd, hello_ho.data, hello_ho.len);
	}
	if ((len = read_frame(fd, body, sizeof(body))) < 0)
		bench_fail("no reply to the Hello");
	parse_reply(body, (size_t)len, &n);
	st[0] = rp_now_ns() - t0;
	if (n.have_tok) {
		/* The request goes at once: it waits in the socket for
		 * whoever owns the connection by then. */
		if (!naive && !early)
			bench_write_all(fd, req, REQ_LEN);
		len = read_frame(fd, body, sizeof(body));
		if (naive && len >= 0)
			bench_write_all(fd, req, REQ_LEN);
		a = len < 0 ? NULL : rp_wire_ack_parse(body, (size_t)len,
		    RP_KIND_EVENT, 1, n.connection_id, &why);
		ok = a != NULL && a->accepted &&
		    a->token.len == RP_TOKEN_LEN &&
		    rp_token_equal(a->token.data, n.tok);
		rp_wire_free(a);
		st[1] = rp_now_ns() - t0;
		ok = ok && read_exact(fd, back, REQ_LEN) == 0 &&
		    memcmp(back, req, REQ_LEN) == 0;
	}
	close(fd);
	if (!ok) {
		/* Silently, as a client does: the other way (the early
		 * request, too, is sent again there). */
		fallbacks++;
		over_backend_pipe(n.pipe);
		st[1] = st[0];
	}
	st[2] = rp_now_ns() - t0;
	st[3] = st[2];
}

static void
one_reconnect(const char *broker, steps_t st, int64_t t0)
{
	uint8_t body[REPLY_MAX];
	struct neg n;
	ssize_t len;
	int fd = bench_dial(broker);

	bench_write_all(fd, hello_rc.data, hello_rc.len);
	if ((len = read_frame(fd, body, sizeof(body))) < 0)
		bench_fail("no reply to the Hello");
	parse_reply(body, (size_t)len, &n);
	close(fd);
	if (n.have_tok)
		bench_fail("a token for a Hello without capability bit 0");
	st[0] = rp_now_ns() - t0;
	fd = bench_dial(n.pipe);
	st[1] = rp_now_ns() - t0;
	if (exchange(fd) < 0)
		bench_fail("the backend did not echo the request");
	st[2] = rp_now_ns() - t0;
	close(fd);
	st[3] = rp_now_ns() - t0;
}

/* Context switches of a process so far: voluntary + involuntary; and
 * its CPU time (ns, bench_cpu_ns; ours, the client's, from getrusage). */
struct csw {
	long vol, invol;
	int64_t cpu;
};

static void
csw_of(long pid, struct csw *c)
{
	char path[64], line[256];
	FILE *f;

	c->vol = c->invol = 0;
	c->cpu = 0;
	if (pid == 0) {
		struct rusage ru;

		if (getrusage(RUSAGE_SELF, &ru) == 0) {
			c->vol = ru.ru_nvcsw;
			c->invol = ru.ru_nivcsw;
			c->cpu = ((int64_t)ru.ru_utime.tv_sec +
			    ru.ru_stime.tv_sec) * 1000000000 +
			    ((int64_t)ru.ru_utime.tv_usec +
			    ru.ru_stime.tv_usec) * 1000;
		}
		return;
	}
	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		bench_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL) {
		(void)sscanf(line, "voluntary_ctxt_switches: %ld", &c->vol);
		(void)sscanf(line, "nonvoluntary_ctxt_switches: %ld",
		    &c->invol);
	}
	fclose(f);
	c->cpu = bench_cpu_ns(pid);
}

struct side {
	const char *name;
	int ho;
	int64_t *v;                 /* end-to-end ns per sample */
	int64_t *st[NSTEPS];        /* step times per sample */
	struct csw cs[3];           /* client, broker, backend: totals */
};

static void
run_round(const char *broker, struct side *s, size_t from, size_t n,
    const long pids[3])
{
	struct csw a[3], z[3];
	steps_t st;
	size_t i;
	int64_t t0;
	int j;

	for (j = 0; j < 3; j++)
		csw_of(pids[j], &a[j]);
	for (i = from; i < from + n; i++) {
		t0 = rp_now_ns();
		if (s->ho)
			one_handoff(broker, st, t0);
		else
			one_reconnect(broker, st, t0);
		s->v[i] = rp_now_ns() - t0;
		for (j = 0; j < NSTEPS; j++)
			s->st[j][i] = st[j];
	}
	for (j = 0; j < 3; j++) {
		csw_of(pids[j], &z[j]);
		s->cs[j].vol += z[j].vol - a[j].vol;
		s->cs[j].invol += z[j].invol - a[j].invol;
		s->cs[j].cpu += z[j].cpu - a[j].cpu;
	}
}

static void
side_init(struct side *s, const char *name, int ho, size_t n)
{
	int j;

	memset(s, 0, sizeof(*s));
	s->name = name;
	s->ho = ho;
	s->v = calloc(n, sizeof(*s->v));
	for (j = 0; j < NSTEPS; j++)
		s->st[j] = calloc(n, sizeof(*s->st[j]));
	if (s->v == NULL || s->st[NSTEPS - 1] == NULL)
		bench_fail("out of memory");
}

static void
report(struct side *s, size_t n, const char *const steps[NSTEPS])
{
	static const char *const who[3] = { "client", "broker", "backend" };
	double med[NSTEPS];
	int j;

	bench_sort(s->v, n);
	for (j = 0; j < NSTEPS; j++) {
		bench_sort(s->st[j], n);
		med[j] = bench_pct(s->st[j], n, 50);
	}
	printf("  %-10s p50 %7.1f us  p99 %7.1f us   steps (median, from "
	    "connect): %s %.1f, %s %.1f, %s %.1f, %s %.1f us\n", s->name,
	    bench_pct(s->v, n, 50), bench_pct(s->v, n, 99), steps[0], med[0],
	    steps[1], med[1], steps[2], med[2], steps[3], med[3]);
	printf("  %-10s context switches per exchange:", "");
	for (j = 0; j < 3; j++)
		printf(" %s %.2f (+%.2f involuntary)%s", who[j],
		    (double)s->cs[j].vol / (double)n,
		    (double)s->cs[j].invol / (double)n, j < 2 ? "," : "\n");
	printf("  %-10s CPU per exchange: broker %.1f us, backend %.1f us, "
	    "together %.1f us (and the client %.1f us)\n", "",
	    (double)s->cs[1].cpu / 1e3 / (double)n,
	    (double)s->cs[2].cpu / 1e3 / (double)n,
	    (double)(s->cs[1].cpu + s->cs[2].cpu) / 1e3 / (double)n,
	    (double)s->cs[0].cpu / 1e3 / (double)n);
}

static int
latency(const char *broker, size_t n, long broker_pid, long backend_pid)
{
	static const char *const ho_steps[NSTEPS] = { "reply", "event",
		"answer", "closed" };
	static const char *const rc_steps[NSTEPS] = { "reply",
		"backend connected", "answer", "closed" };
	const long pids[3] = { 0, broker_pid, backend_pid };
	struct side ho, rc;
	size_t per = n / ROUNDS, r, i;
	steps_t st;
	double p50h, p99h, p50r, p99r, cpu;

	side_init(&ho, naive ? "naive" : "handoff", 1, n);
	side_init(&rc, "reconnect", 0, n);
	for (i = 0; i < WARMUP; i++) {
		one_handoff(broker, st, rp_now_ns());
		one_reconnect(broker, st, rp_now_ns());
	}
	if (fallbacks > 0)
		bench_fail("%llu of %d warm-up handoffs fell back to "
		    "reconnecting", (unsigned long long)fallbacks, WARMUP);
	for (r = 0; r < ROUNDS; r++) {
		run_round(broker, &rc, r * per, per, pids);
		run_round(broker, &ho, r * per, per, pids);
	}
	n = per * ROUNDS;
	printf("%s vs reconnect (%zu samples each, interleaved rounds; "
	    "Hello sent to one 100-byte request/response done):\n",
	    naive ? "naive handoff (the broker writes the event; the client "
	    "waits for it)" : "handoff", n);
	report(&ho, n, ho_steps);
	report(&rc, n, rc_steps);
	p50h = bench_pct(ho.v, n, 50);
	p99h = bench_pct(ho.v, n, 99);
	p50r = bench_pct(rc.v, n, 50);
	p99r = bench_pct(rc.v, n, 99);
	printf("  %s/reconnect  p50 %.2fx  p99 %.2fx  (bar: both < 1); "
	    "handoffs that fell back: %llu\n", ho.name, p50h / p50r,
	    p99h / p99r, (unsigned long long)fallbacks);
	cpu = (double)(ho.cs[1].cpu + ho.cs[2].cpu) /
	    (double)(rc.cs[1].cpu + rc.cs[2].cpu);
	printf("  %s/reconnect  broker + backend CPU per exchange %.2fx "
	    "(target < 1)\n", ho.name, cpu);
	if (naive)
		return 0;
	printf("  %s\n", p50h < p50r && p99h < p99r && fallbacks == 0 ?
	    "bar met: handoff faster at P50 and P99" : "bar NOT met");
	/* Issue 16's targets; a run in which handoffs fell back did not
	 * measure only handoffs, hence the fourth. */
	bench_result("handoff / Hello + reconnect, p50", p50h / p50r, "<", 0.9);
	bench_result("handoff / Hello + reconnect, p99", p99h / p99r, "<", 0.9);
	bench_result("broker + backend CPU per handoff / per reconnect", cpu,
	    "<", 1.0);
	bench_result("handoffs that fell back", (double)fallbacks, "<=", 0);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t v, bp, kp;

	bench_prog = "bench/handoff";
	if (rp_init() < 0)
		bench_fail("init: %s", strerror(errno));
	bench_hello(&hello_ho, RP_CAP_HANDLE_PASSING);
	bench_hello(&hello_rc, 0);
	memset(req, 'r', sizeof(req));
	early = getenv("RP_BENCH_EARLY") != NULL &&
	    strcmp(getenv("RP_BENCH_EARLY"), "1") == 0;
	if (argc == 7 && strcmp(argv[6], "naive") == 0) {
		naive = 1;
		argc--;
	}
	if (argc == 5 && strcmp(argv[1], "repeat") == 0) {
		steps_t st;
		int ho = strcmp(argv[4], "handoff") == 0;

		if (rp_parse_u64(argv[3], 1, 10000000, &v) < 0 ||
		    (!ho && strcmp(argv[4], "reconnect") != 0))
			bench_fail("bad count or kind");
		while (v-- > 0) {
			if (ho)
				one_handoff(argv[2], st, rp_now_ns());
			else
				one_reconnect(argv[2], st, rp_now_ns());
		}
		if (fallbacks > 0)
			bench_fail("%llu handoffs fell back to reconnecting",
			    (unsigned long long)fallbacks);
		return 0;
	}
	if (argc == 6 && strcmp(argv[1], "latency") == 0) {
		if (rp_parse_u64(argv[3], ROUNDS, 10000000, &v) < 0 ||
		    rp_parse_u64(argv[4], 1, INT32_MAX, &bp) < 0 ||
		    rp_parse_u64(argv[5], 1, INT32_MAX, &kp) < 0)
			bench_fail("bad sample count or pid");
		return latency(argv[2], (size_t)v, (long)bp, (long)kp);
	}
	fprintf(stderr, "usage: see the comment at the top of "
	    "bench/handoff.c\n");
	return 2;
}
