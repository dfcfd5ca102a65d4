/*
 * identity.h — the backend identity a process proves (DaemonProcess) and
 * the 0xB232 nonce probe, with the kernel cross-checks of 30-identity.md.
 *
 * Serving: compute the identity once (rp_identity_self hashes the running
 * executable), encode it once, then answer each probe with rp_probe_answer
 * or rp_probe_serve.  Probing: rp_probe() does the whole exchange under one
 * deadline; rp_probe_request() and rp_probe_verify() are its two halves for
 * callers with their own event loop (the broker).
 *
 * Hashing an executable is the costly step of both sides: it goes through
 * rp_host_exe_hash (host.h), which remembers the last 8 files' hashes for
 * the whole process, keyed by the file's identity, under a lock.  So
 * every function here may be called from any thread, and re-probing the
 * same backend does not read its binary again.
 */
#ifndef RP_IDENTITY_H
#define RP_IDENTITY_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "sock.h"
#include "wire.h"

#define RP_PROBE_NONCE_LEN 32
#define RP_PROBE_TIMEOUT_MS 500        /* default deadline of a probe */
#define RP_IDENTITY_PATH_MAX 4096
#define RP_IDENTITY_NS_MAX 256
#define RP_IDENTITY_BOOT_ID_MAX 64

/* Our C view of DaemonProcess.  Strings longer than their field make a
 * decoded identity malformed. */
struct rp_identity {
	uint32_t pid;
	uint64_t started_at_unix_ms;
	int has_idle_timeout;
	uint32_t idle_timeout_secs;
	size_t exe_hash_len;
	uint8_t exe_hash[32];
	char hash_algorithm[16];
	char boot_id[RP_IDENTITY_BOOT_ID_MAX];
	char namespace_id[RP_IDENTITY_NS_MAX];
	char endpoint[RP_IDENTITY_PATH_MAX];
	char exe_path[RP_IDENTITY_PATH_MAX];
};

/* This process's identity for the endpoint (namespace_id, path): our pid,
 * exe path, BLAKE3 of the running executable (the file that runs, not
 * whatever its path names now), boot id, start time.  0 or -1 with
 * errno. */
int rp_identity_self(struct rp_identity *id, const char *namespace_id,
    const char *endpoint);

/* DaemonProcess bytes of id, appended to out. */
int rp_identity_encode(const struct rp_identity *id, struct rp_buf *out);

/* Decode DaemonProcess bytes (unknown fields, such as the legacy SHA-256
 * trailer in field 3, are skipped).  0, or -1 with EPROTO. */
int rp_identity_decode(const uint8_t *p, size_t len, struct rp_identity *id);

/* Backend side: append the response frame for a decoded request frame:
 * {1, RESPONSE, 0xB232, request_id and trace echoed, nonce || daemon}.
 * -1 with EPROTO when req is not a valid probe request (v1, REQUEST,
 * 0xB232, NONE, payload exactly 32 bytes). */
int rp_probe_answer(const Rp__Frame *req, const uint8_t *daemon,
    size_t daemon_len, struct rp_buf *out);

/* 1 when a frame body is a probe request (decodes and has payload_protocol
 * 0xB232), else 0; lets a backend tell probes from other traffic. */
int rp_probe_is_request(const uint8_t *body, size_t len);

/* Read one frame from fd under the deadline and answer it.  0, or -1 with
 * errno (EPROTO for anything but a valid probe request). */
int rp_probe_serve(int fd, const uint8_t *daemon, size_t daemon_len,
    int64_t deadline);

/* What the prober expects on top of the kernel checks; zero/NULL fields
 * expect nothing. */
struct rp_probe_expect {
	uint32_t pid;
	const char *exe_path;
	const uint8_t *exe_hash;           /* 32 bytes */
	const char *namespace_id;
	const uint32_t *allowed_uids;      /* besides our own euid */
	size_t n_allowed_uids;
};

enum rp_probe_status {
	RP_PROBE_OK = 0,
	RP_PROBE_MISMATCH,      /* exit 1: report.field names the field */
	RP_PROBE_UNREACHABLE,   /* exit 3 */
	RP_PROBE_TIMEOUT,       /* exit 4 */
	RP_PROBE_MALFORMED,     /* exit 5 */
	RP_PROBE_FAILED,        /* a local failure (errno in report.err) */
};

struct rp_probe_report {
	enum rp_probe_status status;
	/* MISMATCH: "uid", "pid", "exe_path", "exe_hash", "boot_id" or
	 * "ipc_endpoint" — the first failing one, in that order. */
	const char *field;
	int err;                        /* errno behind UNREACHABLE/FAILED */
	char detail[512];               /* one human line */
	struct rp_peercred peer;        /* SO_PEERCRED of the connection */
	struct rp_identity id;          /* the claim (from MISMATCH on) */
};

/* A fresh 32-byte nonce and the whole request frame, appended to out;
 * request_id = the nonce's first 8 bytes as little-endian u64. */
int rp_probe_request(uint8_t nonce[RP_PROBE_NONCE_LEN], struct rp_buf *out);

/* The peer-uid rule of 30-identity.md, for probes and for our own
 * listeners: uid is allowed when it is self (our effective uid) or one of
 * the n in allowed.  1 or 0. */
int rp_identity_uid_allowed(uint32_t uid, uint32_t self,
    const uint32_t *allowed, size_t n);

/* Verify a reply body against the nonce, the endpoint we dialled, the
 * connection's peer credentials and the expectations: envelope, request
 * id, nonce echo, DaemonProcess, then uid, pid (kernel and expected),
 * /proc/<pid>/exe vs exe_path, BLAKE3 of it (rp_host_exe_hash) vs
 * exe_hash, boot_id, ipc_endpoint.  Fills rep and returns rep->status. */
enum rp_probe_status rp_probe_verify(const uint8_t *body, size_t len,
    const uint8_t nonce[RP_PROBE_NONCE_LEN], const char *endpoint,
    const struct rp_peercred *peer, const struct rp_probe_expect *exp,
    struct rp_probe_report *rep);

/* The whole exchange with endpoint under one deadline. */
enum rp_probe_status rp_probe(const char *endpoint,
    const struct rp_probe_expect *exp, int64_t deadline,
    struct rp_probe_report *rep);

#endif
