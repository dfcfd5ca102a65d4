/*
 * probe.h — what the parts of rp-probe share: diagnostics, option
 * parsing helpers, JSON output, the default broker socket.
 */
#ifndef RP_PROBE_TOOL_H
#define RP_PROBE_TOOL_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "rp.h"

#define IDENTITY_TIMEOUT_MS RP_PROBE_TIMEOUT_MS   /* 500 */
#define HELLO_TIMEOUT_MS 15000   /* covers a broker's 10 s spawn deadline */
#define ADMIN_TIMEOUT_MS 5000
#define HANDOFF_TIMEOUT_MS 2000
#define MAX_ALLOW_UIDS 16

/* Print the usage (and help) to stdout; returns 0 (or 125 when stdout
 * cannot be written). */
int probe_help(void);

/* Start a JSON document on out, pretty when stdout is a terminal. */
void probe_json_begin(struct rp_json *j, struct rp_buf *out);
/* Finish it and write it to stdout.  0, or 125 after a diagnostic. */
int probe_json_end(struct rp_json *j, struct rp_buf *out);
/* Write out to stdout and free it: 0, or 125 after a diagnostic (also
 * when oom says building it ran out of memory). */
int probe_flush(struct rp_buf *out, int oom);

/* The broker socket: -s, else $RUNNING_PROCESS_BROKER_V1_SOCKET, else the
 * shared instance's default path.  0, or the exit status after a
 * diagnostic. */
int probe_broker_socket(const char *opt, char *out, size_t outsz);

/* A fresh non-zero request id for a frame. */
uint64_t probe_request_id(void);

/* "out of memory" on stderr; returns 125. */
int probe_oom(void);

/* Connect to the broker at path before the deadline; with wait, waiting
 * for it to come up (rp_sock_connect_wait) instead of failing at once on
 * a socket that is not there yet or not listening yet.  The fd, or -1
 * with errno after one line on stderr. */
int probe_connect_broker(const char *path, int wait, int64_t deadline);

/* Sending the request on fd (to the broker at path) failed with err:
 * report it as "<what>: ..." and return the exit status.  A broker that
 * closed the connection on us is said to have done so, and why it most
 * likely did. */
int probe_send_failed(int fd, const char *path, const char *what, int err);
/* 1 when sending failed because the broker closed its end (EPIPE,
 * ECONNRESET): what it sent before closing (a refusal, under fd
 * pressure) is still there to read, and is read before anything is said. */
int probe_send_broken(int err);
/* body is not the reply expected but perhaps a Refused HelloReply
 * (request_id rid or 0: the broker refused before it read our frame,
 * code 9 under fd pressure): say so and return the exit status, 10 + the
 * code (admin_readyz: 1, not ready); -1 when it is no refusal. */
int probe_broker_refused(const uint8_t *body, size_t len, const char *what,
    uint64_t rid, int admin_readyz);

/* Read one reply frame under the deadline; on failure report it (as
 * "<what>: ...", a connection the broker at path closed without a reply
 * as probe_send_failed says it) and return the exit status (4, 5, ...)
 * with *body NULL. */
int probe_read_reply(int fd, const char *path, size_t cap, int64_t deadline,
    const char *what, uint8_t **body, size_t *len);

/* The subcommands; each takes argv from its own name on and returns the
 * exit status. */
int probe_identity(int argc, char **argv);
int probe_hello(int argc, char **argv);
int probe_admin(int argc, char **argv);
int probe_doctor(int argc, char **argv);

#endif
