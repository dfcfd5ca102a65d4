/*
 * bench/broker — the C client (and the baseline server) for bench/broker.sh.
 *
 *   broker echo-server SOCKET READY_FD
 *       the baseline: a trivial blocking echo server (accept, read 100
 *       bytes, write them back, close), one connection at a time
 *   broker latency ECHO_SOCKET BROKER_SOCKET SAMPLES
 *       connect + 100-byte echo + close, and connect + Hello + reply +
 *       close, interleaved in rounds; P50 and P99 of each and the ratios
 *   broker throughput ECHO_SOCKET BROKER_SOCKET CLIENTS SECONDS
 *       CLIENTS threads doing the same exchanges back to back; rates
 *   broker memory BROKER_SOCKET BROKER_PID CONNECTIONS SAMPLES
 *       the broker's RSS idle and with CONNECTIONS idle connections open,
 *       and a fresh client's Hello latency with and without them
 *
 * The Hello asks for service "echo" version 1.0.0 and must be negotiated
 * (the script sets that up).  Everything is printed; nothing is asserted.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "rp.h"
#include "support/client.h"

#define ECHO_LEN 100
#define ROUNDS 10

static struct rp_buf hello_frame;
static uint8_t echo_msg[ECHO_LEN];

/* Read exactly n bytes or die. */
static void
read_exact(int fd, uint8_t *p, size_t n)
{
	ssize_t r = bench_read_full(fd, p, n);

	if (r != (ssize_t)n)
		bench_fail("read: %s", r < 0 ? strerror(errno) : "EOF");
}

/* connect + 100 bytes there and back + close */
static void
one_echo(const char *path)
{
	uint8_t back[ECHO_LEN];
	int fd = bench_dial(path);

	bench_write_all(fd, echo_msg, ECHO_LEN);
	read_exact(fd, back, ECHO_LEN);
	close(fd);
}

/* connect + Hello + the reply frame + close; check it once in a while */
static void
one_hello(const char *path, int check)
{
	uint8_t hdr[5], body[4096];
	uint32_t len;
	int fd = bench_dial(path);

	bench_write_all(fd, hello_frame.data, hello_frame.len);
	read_exact(fd, hdr, 5);
	len = (uint32_t)hdr[1] | (uint32_t)hdr[2] << 8 | (uint32_t)hdr[3] << 16 |
	    (uint32_t)hdr[4] << 24;
	if (hdr[0] != 1 || len > sizeof(body))
		bench_fail("bad reply header");
	read_exact(fd, body, len);
	close(fd);
	if (check) {
		Rp__Frame *f = rp_wire_unpack(&rp__frame__descriptor, body, len);
		Rp__HelloReply *r = f ? rp_wire_unpack(
		    &rp__hello_reply__descriptor, f->payload.data,
		    f->payload.len) : NULL;

		if (r == NULL || r->result_case !=
		    RP__HELLO_REPLY__RESULT_NEGOTIATED)
			bench_fail("the Hello was not negotiated: %s", r &&
			    r->result_case == RP__HELLO_REPLY__RESULT_REFUSED ?
			    r->refused->reason : "malformed reply");
		rp_wire_free(r);
		rp_wire_free(f);
	}
}

/* ------------------------------------------------------------ baseline */

static int
echo_server(const char *path, int ready_fd)
{
	struct rp_sock_listener l;
	uint8_t buf[ECHO_LEN];
	char why[256];
	int fd;

	if (rp_sock_listen(path, RP_DIR_PRIVATE | RP_DIR_CREATE, 4096, &l, why,
	    sizeof(why)) < 0)
		bench_fail("listen %s: %s", path, why);
	if (rp_fd_set_nonblock(l.fd, 0) < 0)
		bench_fail("blocking: %s", strerror(errno));
	if (write(ready_fd, "\n", 1) != 1)
		bench_fail("ready fd: %s", strerror(errno));
	close(ready_fd);
	for (;;) {
		fd = accept4(l.fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			bench_fail("accept: %s", strerror(errno));
		}
		if (rp_io_read_full(fd, buf, ECHO_LEN, RP_DEADLINE_NEVER) ==
		    ECHO_LEN)
			(void)send(fd, buf, ECHO_LEN, MSG_NOSIGNAL);
		close(fd);
	}
}

/* ------------------------------------------------------------- latency */

struct lat {
	double p50, p99;
};

/* n samples of one kind, after a warm-up. */
static void
sample(const char *path, int hello, int64_t *v, size_t n)
{
	size_t i;
	int64_t t0;

	for (i = 0; i < n; i++) {
		t0 = rp_now_ns();
		if (hello)
			one_hello(path, i == 0);
		else
			one_echo(path);
		v[i] = rp_now_ns() - t0;
	}
}

/* Interleaved rounds of each, so drift hits both sides alike. */
static void
latency_pair(const char *echo, const char *broker, size_t n,
    struct lat *e, struct lat *h)
{
	int64_t *ve = calloc(n, sizeof(*ve)), *vh = calloc(n, sizeof(*vh));
	size_t per = n / ROUNDS, r, i;

	if (ve == NULL || vh == NULL)
		bench_fail("out of memory");
	for (i = 0; i < 1000; i++) {
		if (echo != NULL)
			one_echo(echo);
		one_hello(broker, i == 0);
	}
	for (r = 0; r < ROUNDS; r++) {
		if (echo != NULL)
			sample(echo, 0, ve + r * per, per);
		sample(broker, 1, vh + r * per, per);
	}
	n = per * ROUNDS;
	bench_sort(vh, n);
	h->p50 = bench_pct(vh, n, 50);
	h->p99 = bench_pct(vh, n, 99);
	if (echo != NULL) {
		bench_sort(ve, n);
		e->p50 = bench_pct(ve, n, 50);
		e->p99 = bench_pct(ve, n, 99);
	}
	free(ve);
	free(vh);
}

static int
latency(const char *echo, const char *broker, size_t n)
{
	struct lat e, h;

	latency_pair(echo, broker, n, &e, &h);
	printf("hello latency (%zu samples each, interleaved):\n", n);
	printf("  echo baseline  p50 %7.1f us  p99 %7.1f us\n", e.p50, e.p99);
	printf("  broker Hello   p50 %7.1f us  p99 %7.1f us\n", h.p50, h.p99);
	printf("  ratio          p50 %6.2fx (target <= 1.3)  p99 %6.2fx "
	    "(target <= 1.5)\n", h.p50 / e.p50, h.p99 / e.p99);
	return 0;
}

/* ---------------------------------------------------------- throughput */

struct worker {
	pthread_t t;
	const char *path;
	int hello;
	volatile int *stop;
	uint64_t done;
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	while (!*w->stop) {
		if (w->hello)
			one_hello(w->path, w->done == 0);
		else
			one_echo(w->path);
		w->done++;
	}
	return NULL;
}

static double
rate(const char *path, int hello, int clients, int secs)
{
	struct worker *w = calloc((size_t)clients, sizeof(*w));
	volatile int stop = 0;
	int64_t t0, t1;
	uint64_t total = 0;
	int i;

	if (w == NULL)
		bench_fail("out of memory");
	t0 = rp_now_ns();
	for (i = 0; i < clients; i++) {
		w[i].path = path;
		w[i].hello = hello;
		w[i].stop = &stop;
		if (pthread_create(&w[i].t, NULL, worker_main, &w[i]) != 0)
			bench_fail("pthread_create");
	}
	usleep((useconds_t)secs * 1000000);
	stop = 1;
	for (i = 0; i < clients; i++) {
		pthread_join(w[i].t, NULL);
		total += w[i].done;
	}
	t1 = rp_now_ns();
	free(w);
	return (double)total * 1e9 / (double)(t1 - t0);
}

static int
throughput(const char *echo, const char *broker, int clients, int secs)
{
	double e = 0, h = 0;
	int r;

	/* Two alternating rounds each. */
	for (r = 0; r < 2; r++) {
		e += rate(echo, 0, clients, secs);
		h += rate(broker, 1, clients, secs);
	}
	e /= 2;
	h /= 2;
	printf("throughput (%d concurrent clients, 2 x %d s each, "
	    "alternating):\n", clients, secs);
	printf("  echo baseline  %9.0f exchanges/s\n", e);
	printf("  broker Hello   %9.0f Hellos/s\n", h);
	printf("  ratio          %6.2fx (target >= 0.8)\n", h / e);
	return 0;
}

/* -------------------------------------------------------------- memory */

static long
rss_kib(long pid)
{
	char path[64], line[256];
	long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		bench_fail("%s: %s", path, strerror(errno));
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "VmRSS: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

static long
fds_of(long pid)
{
	char path[64];
	struct dirent *de;
	long n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%ld/fd", pid);
	if ((d = opendir(path)) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int
memory(const char *broker, long pid, int conns, size_t n)
{
	struct rlimit rl;
	struct lat idle, loaded, none;
	long rss0, rss1, fd0;
	int *fds, i;
	int64_t deadline;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 &&
	    rl.rlim_cur < (rlim_t)conns + 64) {
		rl.rlim_cur = (rlim_t)conns + 64;
		if (rl.rlim_max < rl.rlim_cur)
			rl.rlim_max = rl.rlim_cur;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			bench_fail("RLIMIT_NOFILE %d: %s", conns + 64,
			    strerror(errno));
	}
	fds = calloc((size_t)conns, sizeof(*fds));
	if (fds == NULL)
		bench_fail("out of memory");
	latency_pair(NULL, broker, n, &none, &idle);
	rss0 = rss_kib(pid);
	fd0 = fds_of(pid);
	for (i = 0; i < conns; i++)
		fds[i] = bench_dial(broker);
	/* Wait (bounded) until the broker holds them all. */
	deadline = rp_deadline_in(30000);
	while (fds_of(pid) < fd0 + conns && !rp_deadline_passed(deadline))
		usleep(10000);
	rss1 = rss_kib(pid);
	latency_pair(NULL, broker, n, &none, &loaded);
	for (i = 0; i < conns; i++)
		close(fds[i]);
	free(fds);
	printf("memory (%d idle connections):\n", conns);
	printf("  broker RSS idle %ld KiB, with the connections %ld KiB: "
	    "%.0f bytes per connection (target <= 8192)\n", rss0, rss1,
	    (double)(rss1 - rss0) * 1024.0 / conns);
	printf("  fresh client's Hello  p99 %7.1f us idle, %7.1f us with "
	    "them open: %.2fx (target <= 2)  [p50 %.1f / %.1f us]\n",
	    idle.p99, loaded.p99, loaded.p99 / idle.p99, idle.p50,
	    loaded.p50);
	return 0;
}

int
main(int argc, char **argv)
{
	uint64_t v;

	bench_prog = "bench/broker";
	if (rp_init() < 0)
		bench_fail("init: %s", strerror(errno));
	bench_hello(&hello_frame, 0);
	memset(echo_msg, 'e', sizeof(echo_msg));
	if (argc == 4 && strcmp(argv[1], "echo-server") == 0) {
		if (rp_parse_u64(argv[3], 0, 1024, &v) < 0)
			bench_fail("bad fd");
		return echo_server(argv[2], (int)v);
	}
	if (argc == 5 && strcmp(argv[1], "latency") == 0) {
		if (rp_parse_u64(argv[4], ROUNDS, 10000000, &v) < 0)
			bench_fail("bad sample count");
		return latency(argv[2], argv[3], (size_t)v);
	}
	if (argc == 6 && strcmp(argv[1], "throughput") == 0) {
		uint64_t c, s;

		if (rp_parse_u64(argv[4], 1, 1024, &c) < 0 ||
		    rp_parse_u64(argv[5], 1, 600, &s) < 0)
			bench_fail("bad clients or seconds");
		return throughput(argv[2], argv[3], (int)c, (int)s);
	}
	if (argc == 6 && strcmp(argv[1], "memory") == 0) {
		uint64_t pid, c, n;

		if (rp_parse_u64(argv[3], 1, INT32_MAX, &pid) < 0 ||
		    rp_parse_u64(argv[4], 1, 100000, &c) < 0 ||
		    rp_parse_u64(argv[5], ROUNDS, 10000000, &n) < 0)
			bench_fail("bad pid, connections or samples");
		return memory(argv[2], (long)pid, (int)c, (size_t)n);
	}
	fprintf(stderr, "usage: see the comment at the top of bench/broker.c\n");
	return 2;
}
