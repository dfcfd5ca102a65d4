/*
 * client.h — what the C clients of the broker benchmarks (bench/broker,
 * bench/handoff) share: dying with a message, plain blocking socket I/O,
 * the Hello they send, and percentiles.  The .c files of bench/support/
 * are linked into every bench binary; none is a benchmark of its own.
 *
 * The I/O is plain blocking connect, read and send (no poll, no deadline):
 * the least a client can add to what is timed, and the same on both sides
 * of every comparison.
 */
#ifndef RP_BENCH_CLIENT_H
#define RP_BENCH_CLIENT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "rp.h"

/* How bench_fail names the program ("bench/broker"); set by main. */
extern const char *bench_prog;

/* Print "<bench_prog>: <message>" to stderr and exit 1. */
void bench_fail(const char *fmt, ...)
	__attribute__((noreturn, format(printf, 1, 2)));

/* A connected blocking stream socket to the Unix socket at path (dies on
 * failure). */
int bench_dial(const char *path);

/* Read n bytes: n, fewer at EOF, or -1 with errno.  EINTR is retried. */
ssize_t bench_read_full(int fd, uint8_t *p, size_t n);

/* Send all n bytes (MSG_NOSIGNAL; dies on failure). */
void bench_write_all(int fd, const uint8_t *p, size_t n);

/* The framed Hello both clients send: v1, service "echo" version 1.0.0,
 * client_lib_name "rp-bench", the given client_capabilities (dies when it
 * cannot be encoded). */
void bench_hello(struct rp_buf *out, uint64_t caps);

/* Sort n samples (ns) ascending, and the p-th percentile of sorted
 * samples in microseconds (nearest rank). */
void bench_sort(int64_t *v, size_t n);
double bench_pct(const int64_t *v, size_t n, double p);

/* The CPU time pid's main thread has run so far, in ns (the first field of
 * /proc/PID/schedstat; dies when it cannot be read).  The servers measured
 * are single-threaded. */
int64_t bench_cpu_ns(long pid);

/*
 * One measure with its target, for bench/run's summary: prints
 *   RESULT<TAB>measure<TAB>value<TAB>op<TAB>limit
 * where op is one of <= < >= >; bench/run says met or NOT met.  measure
 * has no tab or newline.
 */
void bench_result(const char *measure, double value, const char *op,
    double limit);

#endif
