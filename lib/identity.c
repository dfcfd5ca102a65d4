/* identity.c — DaemonProcess and the 0xB232 nonce probe (see identity.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sodium.h>

#include "cdefs.h"
#include "deadline.h"
#include "frame.h"
#include "host.h"
#include "identity.h"
#include "parse.h"
#include "io.h"
#include "sock.h"
#include "wire.h"

/* A probe reply is nonce + DaemonProcess: with a maximal exe path and
 * endpoint that is still well under this. */
#define PROBE_REPLY_MAX (16u * 1024u)

static int
copy_str(char *dst, size_t dstsz, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= dstsz)
		return -1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
	return 0;
}

int
rp_identity_self(struct rp_identity *id, const char *namespace_id,
    const char *endpoint)
{
	memset(id, 0, sizeof(*id));
	id->pid = rp_host_pid();
	if (copy_str(id->namespace_id, sizeof(id->namespace_id),
	    namespace_id) != 0 ||
	    copy_str(id->endpoint, sizeof(id->endpoint), endpoint) != 0) {
		errno = ENAMETOOLONG;
		return -1;
	}
	/* As it is served and dialled: on Windows a pipe's full name. */
	if (endpoint != NULL && *endpoint != '\0') {
		char name[sizeof(id->endpoint)];

		if (rp_sock_endpoint_name(endpoint, name, sizeof(name)) >= 0)
			memcpy(id->endpoint, name, strlen(name) + 1);
	}
	if (rp_host_exe_path(0, id->exe_path, sizeof(id->exe_path)) < 0)
		return -1;
	/* Hash the file that is running (rp_host_exe_open), not whatever
	 * the path names now: a replaced binary must not vouch for us. */
	if (rp_host_exe_hash(0, id->exe_hash) != 0)
		return -1;
	id->exe_hash_len = 32;
	memcpy(id->hash_algorithm, "blake3", sizeof("blake3"));
	if (rp_host_boot_id(id->boot_id, sizeof(id->boot_id)) < 0)
		return -1;
	if (rp_host_process_start_ms(0, &id->started_at_unix_ms) != 0)
		return -1;
	return 0;
}

int
rp_identity_encode(const struct rp_identity *id, struct rp_buf *out)
{
	Rp__DaemonProcess dp = RP__DAEMON_PROCESS__INIT;
	Rp__Endpoint ep = RP__ENDPOINT__INIT;

	dp.pid = id->pid;
	dp.exe_path = (char *)id->exe_path;
	ep.namespace_id = (char *)id->namespace_id;
	ep.path = (char *)id->endpoint;
	dp.ipc_endpoint = &ep;
	dp.started_at_unix_ms = id->started_at_unix_ms;
	dp.boot_id = (char *)id->boot_id;
	if (id->has_idle_timeout) {
		dp._idle_timeout_secs_case =
		    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS_IDLE_TIMEOUT_SECS;
		dp.idle_timeout_secs = id->idle_timeout_secs;
	}
	dp.exe_hash_algorithm = (char *)id->hash_algorithm;
	dp.exe_hash.data = (uint8_t *)id->exe_hash;
	dp.exe_hash.len = id->exe_hash_len;
	return rp_wire_pack(out, &dp.base);
}

/* Decode and check the shape the probe requires; *why on failure. */
static int
identity_decode(const uint8_t *p, size_t len, struct rp_identity *id,
    const char **why)
{
	Rp__DaemonProcess *dp;
	int r = -1;

	memset(id, 0, sizeof(*id));
	dp = rp_wire_unpack(&rp__daemon_process__descriptor, p, len);
	if (dp == NULL) {
		*why = "DaemonProcess does not decode";
		errno = EPROTO;
		return -1;
	}
	id->pid = dp->pid;
	id->started_at_unix_ms = dp->started_at_unix_ms;
	if (dp->_idle_timeout_secs_case ==
	    RP__DAEMON_PROCESS___IDLE_TIMEOUT_SECS_IDLE_TIMEOUT_SECS) {
		id->has_idle_timeout = 1;
		id->idle_timeout_secs = dp->idle_timeout_secs;
	}
	if (dp->ipc_endpoint == NULL)
		*why = "DaemonProcess has no ipc_endpoint";
	else if (copy_str(id->exe_path, sizeof(id->exe_path),
	    dp->exe_path) != 0)
		*why = "exe_path is too long";
	else if (copy_str(id->boot_id, sizeof(id->boot_id), dp->boot_id) != 0)
		*why = "boot_id is too long";
	else if (copy_str(id->namespace_id, sizeof(id->namespace_id),
	    dp->ipc_endpoint->namespace_id) != 0)
		*why = "ipc_endpoint.namespace_id is too long";
	else if (copy_str(id->endpoint, sizeof(id->endpoint),
	    dp->ipc_endpoint->path) != 0)
		*why = "ipc_endpoint.path is too long";
	else if (copy_str(id->hash_algorithm, sizeof(id->hash_algorithm),
	    dp->exe_hash_algorithm) != 0 ||
	    strcmp(id->hash_algorithm, "blake3") != 0)
		*why = "exe_hash_algorithm is not \"blake3\"";
	else if (dp->exe_hash.len != 32)
		*why = "exe_hash is not 32 bytes";
	else {
		memcpy(id->exe_hash, dp->exe_hash.data, 32);
		id->exe_hash_len = 32;
		r = 0;
	}
	rp_wire_free(dp);
	if (r != 0)
		errno = EPROTO;
	return r;
}

int
rp_identity_decode(const uint8_t *p, size_t len, struct rp_identity *id)
{
	const char *why;

	return identity_decode(p, len, id, &why);
}

int
rp_probe_answer(const Rp__Frame *req, const uint8_t *daemon,
    size_t daemon_len, struct rp_buf *out)
{
	struct rp_frame_meta m;
	uint8_t *payload;
	int r;

	if (rp_wire_envelope_check(req, RP_KIND_REQUEST, RP_PP_PROBE) !=
	    RP_ENV_OK || req->payload.len != RP_PROBE_NONCE_LEN) {
		errno = EPROTO;
		return -1;
	}
	payload = malloc(RP_PROBE_NONCE_LEN + daemon_len);
	if (payload == NULL)
		return -1;
	memcpy(payload, req->payload.data, RP_PROBE_NONCE_LEN);
	if (daemon_len)
		memcpy(payload + RP_PROBE_NONCE_LEN, daemon, daemon_len);
	rp_wire_echo(&m, req);
	r = rp_wire_frame_encode(out, &m, payload,
	    RP_PROBE_NONCE_LEN + daemon_len);
	free(payload);
	return r;
}

int
rp_probe_is_request(const uint8_t *body, size_t len)
{
	Rp__Frame *f = rp_wire_unpack(&rp__frame__descriptor, body, len);
	int yes;

	if (f == NULL)
		return 0;
	yes = f->payload_protocol == RP_PP_PROBE &&
	    f->kind == RP_KIND_REQUEST;
	rp_wire_free(f);
	return yes;
}

int
rp_probe_serve(int fd, const uint8_t *daemon, size_t daemon_len,
    int64_t deadline)
{
	struct rp_buf out = { 0 };
	enum rp_frame_status st;
	Rp__Frame *req;
	uint8_t *body = NULL;
	size_t len = 0;
	int r = -1;

	st = rp_frame_read(fd, RP_FRAME_SMALL_MAX, deadline, &body, &len);
	if (st != RP_FRAME_OK) {
		if (st == RP_FRAME_TIMEOUT)
			errno = ETIMEDOUT;
		else if (st != RP_FRAME_IO)
			errno = EPROTO;
		return -1;
	}
	req = rp_wire_unpack(&rp__frame__descriptor, body, len);
	free(body);
	if (req == NULL) {
		errno = EPROTO;
		return -1;
	}
	if (rp_probe_answer(req, daemon, daemon_len, &out) == 0)
		r = rp_io_write_full(fd, out.data, out.len, deadline);
	rp_wire_free(req);
	rp_buf_free(&out);
	return r;
}

int
rp_probe_request(uint8_t nonce[RP_PROBE_NONCE_LEN], struct rp_buf *out)
{
	struct rp_frame_meta m = {
		.kind = RP_KIND_REQUEST,
		.protocol = RP_PP_PROBE,
	};
	int i;

	randombytes_buf(nonce, RP_PROBE_NONCE_LEN);
	for (i = 7; i >= 0; i--)
		m.request_id = m.request_id << 8 | nonce[i];
	return rp_wire_frame_encode(out, &m, nonce, RP_PROBE_NONCE_LEN);
}

static enum rp_probe_status
set_report(struct rp_probe_report *rep, enum rp_probe_status st,
    const char *field, const char *fmt, ...)
	RP_PRINTF(4, 5);

static enum rp_probe_status
set_report(struct rp_probe_report *rep, enum rp_probe_status st,
    const char *field, const char *fmt, ...)
{
	va_list ap;

	rep->status = st;
	rep->field = field;
	va_start(ap, fmt);
	vsnprintf(rep->detail, sizeof(rep->detail), fmt, ap);
	va_end(ap);
	return st;
}

int
rp_identity_uid_allowed(uint32_t uid, uint32_t self, const uint32_t *allowed,
    size_t n)
{
	size_t i;

	if (uid == self)
		return 1;
	for (i = 0; i < n; i++)
		if (allowed[i] == uid)
			return 1;
	return 0;
}

enum rp_probe_status
rp_probe_verify(const uint8_t *body, size_t len,
    const uint8_t nonce[RP_PROBE_NONCE_LEN], const char *endpoint,
    const struct rp_peercred *peer, const struct rp_probe_expect *exp,
    struct rp_probe_report *rep)
{
	static const struct rp_probe_expect none;
	struct rp_identity *id = &rep->id;
	uint64_t rid = 0;
	const char *why = NULL;
	Rp__Frame *f;
	char path[RP_IDENTITY_PATH_MAX], boot[RP_IDENTITY_BOOT_ID_MAX];
	char a[65], b[65];
	uint8_t hash[32];
	uint32_t euid = rp_host_euid();
	size_t i;
	int r;

	if (exp == NULL)
		exp = &none;
	rep->peer = *peer;
	for (i = 8; i-- > 0;)
		rid = rid << 8 | nonce[i];
	f = rp_wire_frame_parse(body, len, RP_KIND_RESPONSE, RP_PP_PROBE, 1,
	    rid, &why);
	if (f == NULL)
		return set_report(rep, RP_PROBE_MALFORMED, NULL,
		    "malformed probe reply: %s", why ? why : "bad frame");
	if (f->payload.len < RP_PROBE_NONCE_LEN ||
	    memcmp(f->payload.data, nonce, RP_PROBE_NONCE_LEN) != 0) {
		rp_wire_free(f);
		return set_report(rep, RP_PROBE_MALFORMED, NULL,
		    "malformed probe reply: the nonce was not echoed");
	}
	r = identity_decode(f->payload.data + RP_PROBE_NONCE_LEN,
	    f->payload.len - RP_PROBE_NONCE_LEN, id, &why);
	rp_wire_free(f);
	if (r != 0)
		return set_report(rep, RP_PROBE_MALFORMED, NULL,
		    "malformed probe reply: %s", why);

	/* The checks, in the order the spec reports them. */
	if (!rp_identity_uid_allowed(peer->uid, euid, exp->allowed_uids,
	    exp->n_allowed_uids))
		return set_report(rep, RP_PROBE_MISMATCH, "uid",
		    "the endpoint is served by uid %u, not %u", peer->uid,
		    euid);
	if (peer->pid != 0 && id->pid != peer->pid)
		return set_report(rep, RP_PROBE_MISMATCH, "pid",
		    "claimed pid %u, but the kernel says the peer is pid %u",
		    id->pid, peer->pid);
	if (exp->pid != 0 && id->pid != exp->pid)
		return set_report(rep, RP_PROBE_MISMATCH, "pid",
		    "pid %u, expected %u", id->pid, exp->pid);
	if (rp_host_exe_path(id->pid, path, sizeof(path)) < 0)
		return set_report(rep, RP_PROBE_MISMATCH, "exe_path",
		    "cannot resolve the executable of pid %u: %s", id->pid,
		    strerror(errno));
	if (strcmp(path, id->exe_path) != 0)
		return set_report(rep, RP_PROBE_MISMATCH, "exe_path",
		    "claimed exe_path %s, but pid %u runs %s", id->exe_path,
		    id->pid, path);
	if (exp->exe_path != NULL && strcmp(exp->exe_path, id->exe_path) != 0)
		return set_report(rep, RP_PROBE_MISMATCH, "exe_path",
		    "exe_path %s, expected %s", id->exe_path, exp->exe_path);
	if (rp_host_exe_hash(id->pid, hash) != 0)
		return set_report(rep, RP_PROBE_MISMATCH, "exe_hash",
		    "cannot hash the executable of pid %u: %s", id->pid,
		    strerror(errno));
	if (memcmp(hash, id->exe_hash, 32) != 0) {
		rp_hex_encode(id->exe_hash, 32, a);
		rp_hex_encode(hash, 32, b);
		return set_report(rep, RP_PROBE_MISMATCH, "exe_hash",
		    "claimed exe_hash %s, but the running executable hashes "
		    "to %s", a, b);
	}
	if (exp->exe_hash != NULL && memcmp(exp->exe_hash, hash, 32) != 0) {
		rp_hex_encode(hash, 32, a);
		rp_hex_encode(exp->exe_hash, 32, b);
		return set_report(rep, RP_PROBE_MISMATCH, "exe_hash",
		    "exe_hash %s, expected %s", a, b);
	}
	if (rp_host_boot_id(boot, sizeof(boot)) < 0)
		return set_report(rep, RP_PROBE_FAILED, NULL,
		    "cannot read this machine's boot id: %s", strerror(errno));
	/* A system that keeps none (Windows under Wine: no BootId) cannot
	 * check it; that is said below. */
	if (boot[0] != '\0' && strcmp(boot, id->boot_id) != 0)
		return set_report(rep, RP_PROBE_MISMATCH, "boot_id",
		    "claimed boot_id %s, but this machine's is %s",
		    id->boot_id, boot);
	if (endpoint != NULL && !rp_sock_endpoint_equal(endpoint, id->endpoint))
		return set_report(rep, RP_PROBE_MISMATCH, "ipc_endpoint",
		    "claimed ipc_endpoint %s, but we dialled %s", id->endpoint,
		    endpoint);
	if (exp->namespace_id != NULL &&
	    strcmp(exp->namespace_id, id->namespace_id) != 0)
		return set_report(rep, RP_PROBE_MISMATCH, "ipc_endpoint",
		    "namespace %s, expected %s", id->namespace_id,
		    exp->namespace_id);
	if (boot[0] == '\0')
		return set_report(rep, RP_PROBE_OK, NULL, "verified (this "
		    "system keeps no boot id: boot_id not checked)");
	return set_report(rep, RP_PROBE_OK, NULL, "verified");
}

static enum rp_probe_status
io_failure(struct rp_probe_report *rep, const char *what)
{
	rep->err = errno;
	if (errno == ETIMEDOUT)
		return set_report(rep, RP_PROBE_TIMEOUT, NULL,
		    "no answer before the deadline");
	return set_report(rep, RP_PROBE_MALFORMED, NULL, "%s: %s", what,
	    strerror(rep->err));
}

enum rp_probe_status
rp_probe(const char *endpoint, const struct rp_probe_expect *exp,
    int64_t deadline, struct rp_probe_report *rep)
{
	struct rp_buf req = { 0 };
	struct rp_peercred peer;
	uint8_t nonce[RP_PROBE_NONCE_LEN];
	enum rp_frame_status fst;
	enum rp_probe_status st;
	uint8_t *body = NULL;
	size_t len = 0;
	int fd;

	memset(rep, 0, sizeof(*rep));
	fd = rp_sock_connect(endpoint, 0, deadline);
	if (fd < 0) {
		rep->err = errno;
		if (errno == ETIMEDOUT)
			return set_report(rep, RP_PROBE_TIMEOUT, NULL,
			    "connect did not complete before the deadline");
		return set_report(rep, RP_PROBE_UNREACHABLE, NULL, "%s",
		    strerror(rep->err));
	}
	if (rp_sock_peercred(fd, &peer) != 0) {
		rep->err = errno;
		st = set_report(rep, RP_PROBE_FAILED, NULL,
		    "cannot read peer credentials: %s", strerror(errno));
		goto out;
	}
	if (rp_probe_request(nonce, &req) != 0) {
		rep->err = errno;
		st = set_report(rep, RP_PROBE_FAILED, NULL, "%s",
		    strerror(errno));
		goto out;
	}
	if (rp_io_write_full(fd, req.data, req.len, deadline) != 0) {
		st = io_failure(rep, "sending the probe");
		goto out;
	}
	fst = rp_frame_read(fd, PROBE_REPLY_MAX, deadline, &body, &len);
	switch (fst) {
	case RP_FRAME_OK:
		st = rp_probe_verify(body, len, nonce, endpoint, &peer, exp,
		    rep);
		break;
	case RP_FRAME_TIMEOUT:
		errno = ETIMEDOUT;
		st = io_failure(rep, "reading the reply");
		break;
	case RP_FRAME_IO:
		st = io_failure(rep, "reading the reply");
		break;
	default:
		st = set_report(rep, RP_PROBE_MALFORMED, NULL,
		    "malformed probe reply: %s", rp_frame_status_str(fst));
		break;
	}
out:
	free(body);
	rp_buf_free(&req);
	rp_fd_close(&fd);
	return st;
}
