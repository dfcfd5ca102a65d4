/* client.c — the broker benchmarks' shared client code (see client.h). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "client.h"

const char *bench_prog = "bench";

void
bench_fail(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "%s: ", bench_prog);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

int
bench_dial(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd;

	snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		bench_fail("socket: %s", strerror(errno));
	while (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0)
		if (errno != EINTR && errno != EAGAIN)
			bench_fail("connect %s: %s", path, strerror(errno));
	return fd;
}

ssize_t
bench_read_full(int fd, uint8_t *p, size_t n)
{
	size_t have = 0;
	ssize_t r;

	while (have < n) {
		r = read(fd, p + have, n - have);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0)
			break;
		have += (size_t)r;
	}
	return (ssize_t)have;
}

void
bench_write_all(int fd, const uint8_t *p, size_t n)
{
	ssize_t r;

	while (n > 0) {
		r = send(fd, p, n, MSG_NOSIGNAL);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			bench_fail("write: %s", strerror(errno));
		}
		p += r;
		n -= (size_t)r;
	}
}

void
bench_hello(struct rp_buf *out, uint64_t caps)
{
	Rp__Hello h = RP__HELLO__INIT;
	struct rp_frame_meta m = { .kind = RP_KIND_REQUEST,
		.protocol = RP_PP_CONTROL, .request_id = 1 };

	h.client_min_protocol = 1;
	h.client_max_protocol = 1;
	h.service_name = (char *)"echo";
	h.wanted_version = (char *)"1.0.0";
	h.client_lib_name = (char *)"rp-bench";
	h.client_capabilities = caps;
	if (rp_wire_frame_encode_msg(out, &m, &h.base) < 0)
		bench_fail("cannot encode the Hello");
}

static int
cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

void
bench_sort(int64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_i64);
}

double
bench_pct(const int64_t *v, size_t n, double p)
{
	size_t i = (size_t)ceil(p / 100.0 * (double)n);

	if (i > 0)
		i--;
	if (i >= n)
		i = n - 1;
	return (double)v[i] / 1000.0;
}

int64_t
bench_cpu_ns(long pid)
{
	char path[64];
	long long ns = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%ld/schedstat", pid);
	if ((f = fopen(path, "r")) == NULL)
		bench_fail("%s: %s", path, strerror(errno));
	if (fscanf(f, "%lld", &ns) != 1 || ns < 0)
		bench_fail("%s: not a schedstat line", path);
	fclose(f);
	return (int64_t)ns;
}

void
bench_result(const char *measure, double value, const char *op,
    double limit)
{
	printf("RESULT\t%s\t%.3f\t%s\t%g\n", measure, value, op, limit);
	fflush(stdout);
}
