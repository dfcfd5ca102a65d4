/*
 * bench/broker — the C client (and the baseline server) for bench/broker.sh.
 *
 *   broker echo-server SOCKET READY_FD
 *       the baseline: a lean blocking echo server (accept, read 100
 *       bytes, write them back, close), one connection at a time
 *   broker floor-server SOCKET READY_FD
 *       the floor of an epoll server: one accept4 per wake-up,
 *       SO_PEERCRED, read, send, close, speaking the same echo
 *   broker latency SAMPLES ECHO_SOCKET ECHO_PID BROKER_SOCKET BROKER_PID
 *                  [FLOOR_SOCKET FLOOR_PID]
 *       connect + 100-byte echo + close (echo, floor), and connect +
 *       Hello + reply + close (broker), interleaved in rounds; P50 and
 *       P99 of each, each server's CPU time per exchange (from
 *       /proc/PID/schedstat before and after each round; pid 0: none),
 *       and the ratios to the echo baseline
 *   broker hellos BROKER_SOCKET COUNT
 *       COUNT Hellos one after the other, nothing measured (for
 *       bench/syscalls.sh, which counts the broker's system calls)
 *   broker throughput ECHO_SOCKET BROKER_SOCKET CLIENTS SECONDS
 *       CLIENTS threads doing the same exchanges back to back; rates
 *   broker memory BROKER_SOCKET BROKER_PID CONNECTIONS SAMPLES
 *       the broker's RSS idle and with CONNECTIONS idle connections open,
 *       and a fresh client's Hello latency with and without them
 *
 * The Hello asks for service "echo" version 1.0.0 and must be negotiated
 * (the script sets that up).  Everything is printed; nothing is asserted.
 * Measures with a target are also printed as RESULT lines for bench/run's
 * summary (bench_result).
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/epoll.h>
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

/* ----------------------------------------------------------- baselines */

static int
listen_ready(const char *path, int ready_fd, int nonblock)
{
	struct rp_sock_listener l;
	char why[256];

	if (rp_sock_listen(path, RP_DIR_PRIVATE | RP_DIR_CREATE, 4096, &l, why,
	    sizeof(why)) < 0)
		bench_fail("listen %s: %s", path, why);
	if (rp_fd_set_nonblock(l.fd, nonblock) < 0)
		bench_fail("non-blocking: %s", strerror(errno));
	if (write(ready_fd, "\n", 1) != 1)
		bench_fail("ready fd: %s", strerror(errno));
	close(ready_fd);
	return l.fd;
}

/*
 * The lean baseline: blocking accept, read, send, close, one connection
 * at a time; four system calls per exchange (the client writes its 100
 * bytes in one send, so one read takes them all).
 */
static int
echo_server(const char *path, int ready_fd)
{
	uint8_t buf[ECHO_LEN];
	int lfd = listen_ready(path, ready_fd, 0), fd;
	size_t have;
	ssize_t n;

	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			bench_fail("accept: %s", strerror(errno));
		}
		for (have = 0; have < ECHO_LEN; have += (size_t)n) {
			n = read(fd, buf + have, ECHO_LEN - have);
			if (n <= 0)
				break;
		}
		if (have == ECHO_LEN)
			(void)send(fd, buf, ECHO_LEN, MSG_NOSIGNAL);
		close(fd);
	}
}

/*
 * The floor of an event-driven server such as the broker: epoll, one
 * accept4 per wake-up of the listener (non-blocking, close-on-exec),
 * SO_PEERCRED, read, send, close: what the broker cannot do without, and
 * nothing else.  A connection whose bytes are not there yet is watched
 * until they are.
 */
#define FLOOR_FDS 4096
static struct {
	uint8_t have;
	uint8_t buf[ECHO_LEN];
} floor_conn[FLOOR_FDS];

static void
floor_serve(int ep, int fd, int watched)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	ssize_t n;

	n = read(fd, floor_conn[fd].buf + floor_conn[fd].have,
	    ECHO_LEN - floor_conn[fd].have);
	if (n > 0)
		floor_conn[fd].have += (uint8_t)n;
	if (n > 0 && floor_conn[fd].have == ECHO_LEN)
		(void)send(fd, floor_conn[fd].buf, ECHO_LEN, MSG_NOSIGNAL);
	else if (n < 0 && errno == EAGAIN) {
		if (!watched && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) < 0)
			bench_fail("epoll_ctl: %s", strerror(errno));
		return;
	} else if (n > 0)
		return;
	floor_conn[fd].have = 0;
	close(fd);     /* also leaves the epoll set */
}

static int
floor_server(const char *path, int ready_fd)
{
	struct epoll_event ev = { .events = EPOLLIN }, evs[64];
	int lfd = listen_ready(path, ready_fd, 1), ep, n, i, fd;
	struct ucred uc;
	socklen_t len;

	if ((ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		bench_fail("epoll: %s", strerror(errno));
	ev.data.fd = lfd;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev) < 0)
		bench_fail("epoll_ctl: %s", strerror(errno));
	for (;;) {
		n = epoll_wait(ep, evs, 64, -1);
		for (i = 0; i < n; i++) {
			if (evs[i].data.fd != lfd) {
				floor_serve(ep, evs[i].data.fd, 1);
				continue;
			}
			fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK |
			    SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			len = sizeof(uc);
			if (fd >= FLOOR_FDS || getsockopt(fd, SOL_SOCKET,
			    SO_PEERCRED, &uc, &len) < 0) {
				close(fd);
				continue;
			}
			floor_serve(ep, fd, 0);
		}
	}
}

/* ------------------------------------------------------------- latency */

struct lat {
	double p50, p99;
	double cpu_us;         /* the server's CPU per exchange (or -1) */
};

/* One server measured: where it listens, its pid (0: no CPU figure), and
 * whether it is spoken to with a Hello or the echo. */
struct side {
	const char *path;
	long pid;
	int hello;
	int64_t *v;
	int64_t cpu;
	struct lat lat;
};

static void
one(const struct side *s, int check)
{
	if (s->hello)
		one_hello(s->path, check);
	else
		one_echo(s->path);
}

/* n samples of one kind, after a warm-up; the server's CPU added up. */
static void
sample(struct side *s, int64_t *v, size_t n)
{
	size_t i;
	int64_t t0, c0 = s->pid > 0 ? bench_cpu_ns(s->pid) : 0;

	for (i = 0; i < n; i++) {
		t0 = rp_now_ns();
		one(s, i == 0);
		v[i] = rp_now_ns() - t0;
	}
	if (s->pid > 0)
		s->cpu += bench_cpu_ns(s->pid) - c0;
}

/* Interleaved rounds of each side, so drift hits them all alike. */
static void
latency_sides(struct side *sd, size_t ns, size_t n)
{
	size_t per = n / ROUNDS, r, i, k;

	for (k = 0; k < ns; k++) {
		sd[k].v = calloc(n, sizeof(*sd[k].v));
		sd[k].cpu = 0;
		if (sd[k].v == NULL)
			bench_fail("out of memory");
	}
	for (i = 0; i < 1000; i++)
		for (k = 0; k < ns; k++)
			one(&sd[k], i == 0);
	for (r = 0; r < ROUNDS; r++)
		for (k = 0; k < ns; k++)
			sample(&sd[k], sd[k].v + r * per, per);
	n = per * ROUNDS;
	for (k = 0; k < ns; k++) {
		bench_sort(sd[k].v, n);
		sd[k].lat.p50 = bench_pct(sd[k].v, n, 50);
		sd[k].lat.p99 = bench_pct(sd[k].v, n, 99);
		sd[k].lat.cpu_us = sd[k].pid > 0 ?
		    (double)sd[k].cpu / 1000.0 / (double)n : -1;
		free(sd[k].v);
		sd[k].v = NULL;
	}
}

/* Hello latency alone (the memory test's fresh client). */
static void
latency_pair(const char *broker, size_t n, struct lat *h)
{
	struct side s = { .path = broker, .hello = 1 };

	latency_sides(&s, 1, n);
	*h = s.lat;
}

static void
print_side(const char *name, const struct lat *l)
{
	printf("  %-14s p50 %7.1f us  p99 %7.1f us", name, l->p50, l->p99);
	if (l->cpu_us >= 0)
		printf("  server CPU %6.2f us per exchange", l->cpu_us);
	putchar('\n');
}

static void
print_ratio(const char *name, const struct lat *x, const struct lat *e)
{
	printf("  %-14s p50 %6.2fx       p99 %6.2fx", name, x->p50 / e->p50,
	    x->p99 / e->p99);
	if (x->cpu_us >= 0 && e->cpu_us > 0)
		printf("       CPU %6.2fx", x->cpu_us / e->cpu_us);
	putchar('\n');
}

/*
 * sides: the echo server, the broker, and optionally the epoll floor
 * (floor == NULL: none).  Pids 0: no CPU figures.
 */
static int
latency(const char *echo, long epid, const char *broker, long bpid,
    const char *floor, long fpid, size_t n)
{
	struct side sd[3] = {
		{ .path = echo, .pid = epid, .hello = 0 },
		{ .path = broker, .pid = bpid, .hello = 1 },
		{ .path = floor, .pid = fpid, .hello = 0 },
	};
	size_t ns = floor != NULL ? 3 : 2;
	const struct lat *e = &sd[0].lat, *h = &sd[1].lat;

	latency_sides(sd, ns, n);
	printf("hello latency (%zu samples each, interleaved rounds):\n", n);
	print_side("echo baseline", e);
	if (ns == 3)
		print_side("epoll floor", &sd[2].lat);
	print_side("broker Hello", h);
	printf("ratios to the echo baseline:\n");
	if (ns == 3)
		print_ratio("epoll floor", &sd[2].lat, e);
	print_ratio("broker Hello", h, e);
	bench_result("Hello latency / bare echo, p50", h->p50 / e->p50, "<=",
	    1.15);
	bench_result("Hello latency / bare echo, p99", h->p99 / e->p99, "<=",
	    1.3);
	if (h->cpu_us >= 0 && e->cpu_us > 0)
		bench_result("broker CPU per Hello / echo CPU per exchange",
		    h->cpu_us / e->cpu_us, "<=", 1.15);
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
	bench_result("Hello throughput / echo, 32 clients", h / e, ">=", 0.8);
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
	struct lat idle, loaded;
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
	latency_pair(broker, n, &idle);
	rss0 = rss_kib(pid);
	fd0 = fds_of(pid);
	for (i = 0; i < conns; i++)
		fds[i] = bench_dial(broker);
	/* Wait (bounded) until the broker holds them all. */
	deadline = rp_deadline_in(30000);
	while (fds_of(pid) < fd0 + conns && !rp_deadline_passed(deadline))
		usleep(10000);
	rss1 = rss_kib(pid);
	latency_pair(broker, n, &loaded);
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
	bench_result("broker bytes per idle connection",
	    (double)(rss1 - rss0) * 1024.0 / conns, "<=", 8192);
	bench_result("fresh Hello p99, idle conns open / none",
	    loaded.p99 / idle.p99, "<=", 2);
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
	if (argc == 4 && (strcmp(argv[1], "echo-server") == 0 ||
	    strcmp(argv[1], "floor-server") == 0)) {
		if (rp_parse_u64(argv[3], 0, 1024, &v) < 0)
			bench_fail("bad fd");
		return argv[1][0] == 'e' ? echo_server(argv[2], (int)v) :
		    floor_server(argv[2], (int)v);
	}
	if ((argc == 7 || argc == 9) && strcmp(argv[1], "latency") == 0) {
		uint64_t epid, bpid, fpid = 0;

		if (rp_parse_u64(argv[2], ROUNDS, 10000000, &v) < 0 ||
		    rp_parse_u64(argv[4], 0, INT32_MAX, &epid) < 0 ||
		    rp_parse_u64(argv[6], 0, INT32_MAX, &bpid) < 0 ||
		    (argc == 9 && rp_parse_u64(argv[8], 0, INT32_MAX,
		    &fpid) < 0))
			bench_fail("bad sample count or pid");
		return latency(argv[3], (long)epid, argv[5], (long)bpid,
		    argc == 9 ? argv[7] : NULL, (long)fpid, (size_t)v);
	}
	if (argc == 4 && strcmp(argv[1], "hellos") == 0) {
		if (rp_parse_u64(argv[3], 1, 100000000, &v) < 0)
			bench_fail("bad count");
		while (v-- > 0)
			one_hello(argv[2], v == 0);
		return 0;
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
