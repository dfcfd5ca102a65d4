/*
 * Unit tests for identity: our own DaemonProcess, encoding, the probe
 * answer, and rp_probe() against honest, lying, malformed and silent
 * backends in child processes.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "blake3.h"
#include "deadline.h"
#include "frame.h"
#include "host.h"
#include "identity.h"
#include "io.h"
#include "rp.h"
#include "sock.h"
#include "t.h"

static void
hex(const uint8_t *p, size_t n, char *out)
{
	size_t i;

	for (i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", p[i]);
}

static void
test_self(void)
{
	struct rp_identity id;
	char exe[4096], cmd[4200], want[80], got[65], boot[64];
	ssize_t n;
	FILE *p;
	uint64_t now = (uint64_t)rp_wall_ms();

	T_EQ(rp_init(), 0);
	T_EQ(rp_identity_self(&id, "shared", "/run/x.sock"), 0);
	T_EQ(id.pid, getpid());
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	T_OK(n > 0);
	exe[n] = '\0';
	T_STR(id.exe_path, exe);
	T_STR(id.hash_algorithm, "blake3");
	T_EQ(id.exe_hash_len, 32);
	/* The independent peer: b3sum of the same file. */
	snprintf(cmd, sizeof(cmd), "b3sum --no-names '%s'", exe);
	p = popen(cmd, "r");
	T_OK(p != NULL);
	T_OK(fgets(want, sizeof(want), p) != NULL);
	pclose(p);
	hex(id.exe_hash, 32, got);
	T_OK(strncmp(want, got, 64) == 0);
	T_OK(rp_host_boot_id(boot, sizeof(boot)) > 0);
	T_STR(id.boot_id, boot);
	T_STR(id.namespace_id, "shared");
	T_STR(id.endpoint, "/run/x.sock");
	/* A test process started within the last few minutes. */
	T_OK(id.started_at_unix_ms <= now + 1000);
	T_OK(id.started_at_unix_ms + 600000 > now);
	T_EQ(id.has_idle_timeout, 0);
}

static void
test_self_too_long(void)
{
	struct rp_identity id;
	char big[5000];

	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	errno = 0;
	T_EQ(rp_identity_self(&id, "shared", big), -1);
	T_EQ(errno, ENAMETOOLONG);
	T_EQ(rp_identity_self(&id, big, "/x"), -1);
}

static struct rp_identity *
sample(void)
{
	static struct rp_identity id;

	memset(&id, 0, sizeof(id));
	id.pid = 4242;
	id.started_at_unix_ms = 1700000000123ULL;
	memcpy(id.hash_algorithm, "blake3", 7);
	id.exe_hash_len = 32;
	memset(id.exe_hash, 0xab, 32);
	strcpy(id.boot_id, "0c7e6a0e-1e4e-4c0e-9d7a-000000000001");
	strcpy(id.namespace_id, "shared");
	strcpy(id.endpoint, "/tmp/be.sock");
	strcpy(id.exe_path, "/usr/bin/backend");
	return &id;
}

static void
test_encode_decode(void)
{
	struct rp_identity *a = sample(), b;
	struct rp_buf buf = { 0 };

	T_EQ(rp_identity_encode(a, &buf), 0);
	T_EQ(rp_identity_decode(buf.data, buf.len, &b), 0);
	T_EQ(b.pid, 4242);
	T_UEQ(b.started_at_unix_ms, 1700000000123ULL);
	T_STR(b.exe_path, "/usr/bin/backend");
	T_STR(b.endpoint, "/tmp/be.sock");
	T_STR(b.namespace_id, "shared");
	T_STR(b.boot_id, a->boot_id);
	T_MEM(b.exe_hash, a->exe_hash, 32);
	T_EQ(b.has_idle_timeout, 0);
	/* Presence of idle_timeout_secs survives even for 0. */
	rp_buf_clear(&buf);
	a->has_idle_timeout = 1;
	a->idle_timeout_secs = 0;
	T_EQ(rp_identity_encode(a, &buf), 0);
	T_EQ(rp_identity_decode(buf.data, buf.len, &b), 0);
	T_EQ(b.has_idle_timeout, 1);
	T_EQ(b.idle_timeout_secs, 0);
	/* The legacy SHA-256 trailer (field 3) is skipped. */
	{
		uint8_t trailer[34] = { 0x1a, 0x20 };

		memset(trailer + 2, 0x55, 32);
		T_EQ(rp_buf_append(&buf, trailer, sizeof(trailer)), 0);
		T_EQ(rp_identity_decode(buf.data, buf.len, &b), 0);
		T_STR(b.exe_path, "/usr/bin/backend");
	}
	rp_buf_free(&buf);
}

static void
test_decode_rejects(void)
{
	struct rp_identity *a, b;
	struct rp_buf buf = { 0 };
	static const uint8_t garbage[] = { 0xff, 0xff, 0xff };

	errno = 0;
	T_EQ(rp_identity_decode(garbage, sizeof(garbage), &b), -1);
	T_EQ(errno, EPROTO);
	/* No endpoint at all: an empty message. */
	T_EQ(rp_identity_decode(garbage, 0, &b), -1);
	a = sample();
	strcpy(a->hash_algorithm, "sha256");
	T_EQ(rp_identity_encode(a, &buf), 0);
	T_EQ(rp_identity_decode(buf.data, buf.len, &b), -1);
	rp_buf_clear(&buf);
	a = sample();
	a->exe_hash_len = 31;
	T_EQ(rp_identity_encode(a, &buf), 0);
	T_EQ(rp_identity_decode(buf.data, buf.len, &b), -1);
	rp_buf_free(&buf);
}

static void
test_answer(void)
{
	Rp__Frame req = RP__FRAME__INIT;
	struct rp_buf out = { 0 };
	uint8_t nonce[32], *body;
	Rp__Frame *resp;
	const char *why;

	memset(nonce, 7, 32);
	req.envelope_version = 1;
	req.kind = RP_KIND_REQUEST;
	req.payload_protocol = RP_PP_PROBE;
	req.payload.data = nonce;
	req.payload.len = 32;
	req.request_id = 99;
	req.traceparent = (char *)"00-abc-def-01";
	T_EQ(rp_probe_answer(&req, (const uint8_t *)"DP", 2, &out), 0);
	body = out.data + RP_FRAME_HEADER;
	resp = rp_wire_frame_parse(body, out.len - RP_FRAME_HEADER,
	    RP_KIND_RESPONSE, RP_PP_PROBE, 1, 99, &why);
	T_OK(resp != NULL);
	T_EQ(resp->payload.len, 34);
	T_MEM(resp->payload.data, nonce, 32);
	T_MEM(resp->payload.data + 32, "DP", 2);
	T_STR(resp->traceparent, "00-abc-def-01");
	rp_wire_free(resp);
	T_EQ(rp_probe_is_request(body, out.len - RP_FRAME_HEADER), 0);

	/* Every fault of the request is refused. */
	rp_buf_clear(&out);
	req.payload.len = 31;
	errno = 0;
	T_EQ(rp_probe_answer(&req, NULL, 0, &out), -1);
	T_EQ(errno, EPROTO);
	req.payload.len = 32;
	req.kind = RP_KIND_EVENT;
	T_EQ(rp_probe_answer(&req, NULL, 0, &out), -1);
	req.kind = RP_KIND_REQUEST;
	req.payload_protocol = RP_PP_CONTROL;
	T_EQ(rp_probe_answer(&req, NULL, 0, &out), -1);
	req.payload_protocol = RP_PP_PROBE;
	req.payload_encoding = 1;
	T_EQ(rp_probe_answer(&req, NULL, 0, &out), -1);
	req.payload_encoding = 0;
	req.envelope_version = 2;
	T_EQ(rp_probe_answer(&req, NULL, 0, &out), -1);
	T_EQ(out.len, 0);
	rp_buf_free(&out);
}

static void
test_request_shape(void)
{
	struct rp_buf out = { 0 };
	uint8_t nonce[32];
	Rp__Frame *f;
	const char *why;
	uint64_t rid = 0;
	int i;

	T_EQ(rp_init(), 0);
	T_EQ(rp_probe_request(nonce, &out), 0);
	for (i = 7; i >= 0; i--)
		rid = rid << 8 | nonce[i];
	f = rp_wire_frame_parse(out.data + 5, out.len - 5, RP_KIND_REQUEST,
	    RP_PP_PROBE, 1, rid, &why);
	T_OK(f != NULL);
	T_EQ(f->payload.len, 32);
	T_MEM(f->payload.data, nonce, 32);
	rp_wire_free(f);
	T_EQ(rp_probe_is_request(out.data + 5, out.len - 5), 1);
	/* The wire signature backends use to spot probes. */
	T_EQ(out.data[0], 0x01);
	T_MEM(out.data + 5, "\x08\x01\x18\xb2\xe4\x02", 6);
	rp_buf_free(&out);
}

/* ---------------------------------------------------- probe scenarios */

enum lie {
	HONEST, LIE_PID, LIE_EXE, LIE_HASH, LIE_BOOT, LIE_ENDPOINT,
	BAD_NONCE, BAD_RID, BAD_FRAMING, BAD_DP, SILENT, HANG_UP, AS_NOBODY,
};

static char sockpath[256];

/* A backend in a child process: listens, signals readiness on a pipe,
 * answers one probe in the manner given. */
static pid_t
backend(enum lie how)
{
	int ready[2];
	pid_t pid;
	char c;

	snprintf(sockpath, sizeof(sockpath), "%s/be.sock", t_tmpdir());
	/* Sticky and world-writable, like /tmp: a uid-65534 backend can
	 * listen here and the directory still passes RP_DIR_SAFE. */
	chmod(t_tmpdir(), 01777);
	T_EQ(pipe(ready), 0);
	pid = fork();
	if (pid == 0) {
		struct rp_sock_listener l;
		struct rp_identity id;
		struct rp_buf dp = { 0 }, out = { 0 };
		uint8_t *body;
		size_t len;
		Rp__Frame *req;
		int fd;
		char why[128];

		close(ready[0]);
		if (how == AS_NOBODY && (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534)))
			_exit(90);
		if (rp_init() || rp_identity_self(&id, "shared", sockpath))
			_exit(91);
		if (rp_sock_listen(sockpath, RP_DIR_SAFE, 8, &l, why,
		    sizeof(why)) != 0)
			_exit(92);
		if (write(ready[1], "r", 1) != 1)
			_exit(93);
		if (rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(5000)) < 0)
			_exit(97);
		fd = rp_sock_accept(l.fd, 0);
		if (fd < 0)
			_exit(94);
		switch (how) {
		case LIE_PID: id.pid = 1; break;
		case LIE_EXE: strcpy(id.exe_path, "/bin/true"); break;
		case LIE_HASH: id.exe_hash[0] ^= 1; break;
		case LIE_BOOT: strcpy(id.boot_id, "not-this-machine"); break;
		case LIE_ENDPOINT: strcpy(id.endpoint, "/elsewhere.sock"); break;
		default: break;
		}
		rp_identity_encode(&id, &dp);
		if (how == SILENT) {
			pause();
			_exit(0);
		}
		if (rp_frame_read(fd, 4096, rp_deadline_in(5000), &body,
		    &len) != RP_FRAME_OK)
			_exit(95);
		req = rp_wire_unpack(&rp__frame__descriptor, body, len);
		if (req == NULL)
			_exit(96);
		if (how == BAD_NONCE)
			((uint8_t *)req->payload.data)[0] ^= 1;
		if (how == BAD_RID)
			req->request_id ^= 1;
		if (how == BAD_DP) {
			rp_buf_clear(&dp);
			rp_buf_append(&dp, "\xff\xff", 2);
		}
		rp_probe_answer(req, dp.data, dp.len, &out);
		if (how == BAD_FRAMING)
			out.data[0] = 0x02;
		if (how != HANG_UP)
			rp_io_write_full(fd, out.data, out.len,
			    rp_deadline_in(5000));
		/* Stay alive until the prober hangs up: it inspects
		 * /proc/<pid> after reading the answer. */
		if (how != HANG_UP) {
			char sink[64];

			while (read(fd, sink, sizeof(sink)) > 0)
				;
		}
		free(body);
		rp_wire_free(req);
		rp_buf_free(&out);
		rp_buf_free(&dp);
		close(fd);
		rp_sock_unlisten(&l);
		_exit(0);
	}
	close(ready[1]);
	T_EQ(read(ready[0], &c, 1), 1);
	close(ready[0]);
	return pid;
}

static void
reap(pid_t pid)
{
	int st;

	kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
}

static enum rp_probe_status
probe_backend(enum lie how, const struct rp_probe_expect *exp,
    struct rp_probe_report *rep, int64_t timeout)
{
	pid_t pid;
	enum rp_probe_status st;
	int fds;

	T_EQ(rp_init(), 0);
	pid = backend(how);
	fds = rp_fd_count();
	st = rp_probe(sockpath, exp, rp_deadline_in(timeout), rep);
	/* Whatever happened, the probe leaves no fd behind. */
	T_EQ(rp_fd_count(), fds);
	reap(pid);
	return st;
}

static void
test_probe_honest(void)
{
	struct rp_probe_report rep;

	T_EQ(probe_backend(HONEST, NULL, &rep, 5000), RP_PROBE_OK);
	T_STR(rep.id.endpoint, sockpath);
	T_EQ(rep.peer.uid, getuid());
	T_EQ(rep.id.pid, rep.peer.pid);
}

static void
test_probe_expectations(void)
{
	struct rp_probe_report rep;
	struct rp_probe_expect exp = { .pid = 1 };
	uint8_t h[32];
	char self[4096];

	T_EQ(probe_backend(HONEST, &exp, &rep, 5000), RP_PROBE_MISMATCH);
	T_STR(rep.field, "pid");
	memset(&exp, 0, sizeof(exp));
	exp.exe_path = "/bin/true";
	T_EQ(probe_backend(HONEST, &exp, &rep, 5000), RP_PROBE_MISMATCH);
	T_STR(rep.field, "exe_path");
	memset(&exp, 0, sizeof(exp));
	memset(h, 0, sizeof(h));
	exp.exe_hash = h;
	T_EQ(probe_backend(HONEST, &exp, &rep, 5000), RP_PROBE_MISMATCH);
	T_STR(rep.field, "exe_hash");
	memset(&exp, 0, sizeof(exp));
	exp.namespace_id = "explicit:other";
	T_EQ(probe_backend(HONEST, &exp, &rep, 5000), RP_PROBE_MISMATCH);
	T_STR(rep.field, "ipc_endpoint");
	/* And all of them right at once. */
	T_OK(rp_host_exe_path(0, self, sizeof(self)) > 0);
	T_EQ(rp_blake3_file(self, h), 0);
	memset(&exp, 0, sizeof(exp));
	exp.exe_path = self;
	exp.exe_hash = h;
	exp.namespace_id = "shared";
	T_EQ(probe_backend(HONEST, &exp, &rep, 5000), RP_PROBE_OK);
}

static void
test_probe_liars(void)
{
	static const struct {
		enum lie how;
		const char *field;
	} cases[] = {
		{ LIE_PID, "pid" },
		{ LIE_EXE, "exe_path" },
		{ LIE_HASH, "exe_hash" },
		{ LIE_BOOT, "boot_id" },
		{ LIE_ENDPOINT, "ipc_endpoint" },
	};
	struct rp_probe_report rep;
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		T_EQ(probe_backend(cases[i].how, NULL, &rep, 5000),
		    RP_PROBE_MISMATCH);
		T_STR(rep.field, cases[i].field);
		T_OK(rep.detail[0] != '\0');
	}
}

static void
test_probe_malformed(void)
{
	static const enum lie bad[] = { BAD_NONCE, BAD_RID, BAD_FRAMING,
		BAD_DP, HANG_UP };
	struct rp_probe_report rep;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		T_EQ(probe_backend(bad[i], NULL, &rep, 5000),
		    RP_PROBE_MALFORMED);
		T_OK(rep.field == NULL);
	}
}

static void
test_probe_timeout_and_unreachable(void)
{
	struct rp_probe_report rep;
	int64_t t0 = rp_now_ms();

	T_EQ(probe_backend(SILENT, NULL, &rep, 100), RP_PROBE_TIMEOUT);
	T_OK(rp_now_ms() - t0 < 3000);
	snprintf(sockpath, sizeof(sockpath), "%s/none.sock", t_tmpdir());
	T_EQ(rp_probe(sockpath, NULL, rp_deadline_in(500), &rep),
	    RP_PROBE_UNREACHABLE);
	T_EQ(rep.err, ENOENT);
}

static void
test_probe_other_uid(void)
{
	struct rp_probe_report rep;
	uint32_t nobody = 65534;
	struct rp_probe_expect exp = { .allowed_uids = &nobody,
		.n_allowed_uids = 1 };

	if (getuid() != 0) {
		printf("# skipped: needs root to run a backend as uid 65534\n");
		return;
	}
	T_EQ(probe_backend(AS_NOBODY, NULL, &rep, 5000), RP_PROBE_MISMATCH);
	T_STR(rep.field, "uid");
	T_EQ(rep.peer.uid, 65534);
	/* Allowed explicitly, the same backend verifies. */
	T_EQ(probe_backend(AS_NOBODY, &exp, &rep, 5000), RP_PROBE_OK);
}

static void
test_uid_allowed(void)
{
	static const uint32_t allow[] = { 65534, 1000 };

	T_EQ(rp_identity_uid_allowed(0, 0, NULL, 0), 1);
	T_EQ(rp_identity_uid_allowed(1000, 0, NULL, 0), 0);
	T_EQ(rp_identity_uid_allowed(1000, 0, allow, 2), 1);
	T_EQ(rp_identity_uid_allowed(65534, 0, allow, 1), 1);
	T_EQ(rp_identity_uid_allowed(1000, 0, allow, 1), 0);
	T_EQ(rp_identity_uid_allowed(0, 1000, allow, 1), 0);
	T_EQ(rp_identity_uid_allowed(1000, 1000, allow, 0), 1);
}

int
main(void)
{
	T_RUN(test_self);
	T_RUN(test_uid_allowed);
	T_RUN(test_self_too_long);
	T_RUN(test_encode_decode);
	T_RUN(test_decode_rejects);
	T_RUN(test_answer);
	T_RUN(test_request_shape);
	T_RUN(test_probe_honest);
	T_RUN(test_probe_expectations);
	T_RUN(test_probe_liars);
	T_RUN(test_probe_malformed);
	T_RUN(test_probe_timeout_and_unreachable);
	T_RUN(test_probe_other_uid);
	return t_done();
}
