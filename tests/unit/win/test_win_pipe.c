/*
 * Unit tests for lib/win's named pipes, I/O, event loop and handoff
 * transfer (sock.c, io.c, wfd.c, loop.c, fdpass.c): listening with our
 * security descriptor, connecting under a deadline, peer pid and SID,
 * readiness that takes nothing, the write behind, DuplicateHandle into
 * another process and back.  Some cases run this executable again as the
 * other process ("--child MODE ...").
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win/win.h"

#include "deadline.h"
#include "fdpass.h"
#include "frame.h"
#include "handoff.h"
#include "io.h"
#include "loop.h"
#include "rp.h"
#include "sock.h"
#include "spawn.h"
#include "../t.h"
#include "token.h"
#include "wire.h"

static char pipe_name[128];

/* A pipe name nobody else uses. */
static const char *
fresh_name(const char *what)
{
	static unsigned n;

	snprintf(pipe_name, sizeof(pipe_name), "rp-unit-%s-%lu-%u-%lld", what,
	    GetCurrentProcessId(), n++, (long long)rp_now_ns());
	return pipe_name;
}

/* This executable, for the cases that need another process. */
static void
self_path(char *out, size_t outsz)
{
	wchar_t w[MAX_PATH];

	GetModuleFileNameW(NULL, w, MAX_PATH);
	T_OK(rp_win_utf8_into(w, out, outsz) > 0);
}

static pid_t
child(const char *mode, const char *arg, int *out_fd)
{
	char self[MAX_PATH * 3], opt[] = "--child", m[32], a[256];
	char *argv[] = { self, opt, m, a, NULL };
	struct rp_spawn_fd map[1];
	struct rp_spawn sp = { .argv = argv, .flags = RP_SPAWN_KEEP_STD };
	int ef = 0;
	pid_t pid;

	self_path(self, sizeof(self));
	snprintf(m, sizeof(m), "%s", mode);
	snprintf(a, sizeof(a), "%s", arg);
	if (out_fd != NULL) {
		map[0] = (struct rp_spawn_fd){ *out_fd, 1 };
		sp.fds = map;
		sp.nfds = 1;
	}
	pid = rp_spawn(&sp, &ef);
	T_OK(pid > 0);
	return pid;
}

/* --------------------------------------------------------- listening */

static void
test_listen_connect_accept_and_peer(void)
{
	struct rp_sock_listener l;
	struct rp_peercred pc, cc;
	char why[200], sid[192], self[192];
	int c, s;

	T_EQ(rp_sock_listen(fresh_name("lca"), RP_DIR_SAFE, 4, &l, why,
	    sizeof(why)), 0);
	/* A bare name gets its prefix. */
	T_OK(strncmp(l.path, "\\\\.\\pipe\\rp-unit-lca-", 21) == 0);
	T_EQ(rp_sock_accept(l.fd, 0), -1);
	T_EQ(errno, EAGAIN);
	c = rp_sock_connect(l.path, 0, rp_deadline_in(2000));
	T_OK(c >= 0);
	T_OK(rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(2000)) & RP_IO_READ);
	s = rp_sock_accept(l.fd, 1);
	T_OK(s >= 0);
	/* Each end names the other: here both are us. */
	T_EQ(rp_sock_peercred(s, &pc), 0);
	T_EQ(rp_sock_peercred(c, &cc), 0);
	T_UEQ(pc.pid, GetCurrentProcessId());
	T_UEQ(cc.pid, GetCurrentProcessId());
	T_OK(pc.sidlen > 0 && EqualSid((PSID)pc.sid, rp_win_self_sid()));
	T_UEQ(pc.uid, rp_host_euid());
	T_EQ(rp_win_sid_string((PSID)pc.sid, sid, sizeof(sid)), 0);
	T_EQ(rp_win_sid_string(rp_win_self_sid(), self, sizeof(self)), 0);
	T_STR(sid, self);
	T_EQ(rp_io_write_full(c, "ping", 4, rp_deadline_in(1000)), 0);
	{
		char b[8];

		T_EQ(rp_io_read_full(s, b, 4, rp_deadline_in(1000)), 4);
		T_MEM(b, "ping", 4);
	}
	rp_fd_close(&c);
	rp_fd_close(&s);
	/* The next instance is there for the next client. */
	c = rp_sock_connect(l.path, 0, rp_deadline_in(2000));
	T_OK(c >= 0);
	s = rp_sock_accept(l.fd, 0);
	T_OK(s >= 0);
	rp_fd_close(&c);
	rp_fd_close(&s);
	rp_sock_unlisten(&l);
	T_EQ(l.fd, -1);
}

static void
test_listen_twice_is_in_use(void)
{
	struct rp_sock_listener a, b;
	char why[200];
	const char *name = fresh_name("twice");

	T_EQ(rp_sock_listen(name, RP_DIR_SAFE, 4, &a, why, sizeof(why)), 0);
	T_EQ(rp_sock_listen(name, RP_DIR_SAFE, 4, &b, why, sizeof(why)), -1);
	T_EQ(errno, EADDRINUSE);
	T_OK(strstr(why, "another process is listening") != NULL);
	T_EQ(b.fd, -1);
	rp_sock_unlisten(&a);
	/* Gone with its last instance: free again. */
	T_EQ(rp_sock_listen(name, RP_DIR_SAFE, 4, &b, why, sizeof(why)), 0);
	rp_sock_unlisten(&b);
}

static void
test_listen_refuses_bad_names(void)
{
	struct rp_sock_listener l;
	char why[200], big[400];

	T_EQ(rp_sock_listen("", RP_DIR_SAFE, 4, &l, why, sizeof(why)), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_sock_listen("a\\b", RP_DIR_SAFE, 4, &l, why, sizeof(why)), -1);
	T_EQ(errno, EINVAL);
	T_OK(strstr(why, "not a pipe name") != NULL);
	T_EQ(rp_sock_listen("\\\\.\\pipe\\", RP_DIR_SAFE, 4, &l, why,
	    sizeof(why)), -1);
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	T_EQ(rp_sock_listen(big, RP_DIR_SAFE, 4, &l, why, sizeof(why)), -1);
	T_EQ(errno, ENAMETOOLONG);
}

static void
test_connect_missing_and_busy(void)
{
	struct rp_sock_listener l;
	char why[200];
	int64_t t0;
	int c1, c2;

	T_EQ(rp_sock_connect(fresh_name("none"), 0, rp_deadline_in(500)), -1);
	T_EQ(errno, ENOENT);
	T_EQ(rp_sock_listen(fresh_name("busy"), RP_DIR_SAFE, 1, &l, why,
	    sizeof(why)), 0);
	c1 = rp_sock_connect(l.path, 0, rp_deadline_in(1000));
	T_OK(c1 >= 0);
	/* The one instance is taken and nobody accepts: the deadline. */
	t0 = rp_now_ms();
	c2 = rp_sock_connect(l.path, 0, rp_deadline_in(300));
	T_EQ(c2, -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 250);
	rp_fd_close(&c1);
	rp_sock_unlisten(&l);
}

/* Instances wait ahead of the clients: once the listener is armed (as a
 * loop arms it), clients that come together each find one at once, none
 * a busy name (ERROR_PIPE_BUSY), and each is accepted. */
static void
test_clients_together_find_instances(void)
{
	struct rp_sock_listener l;
	HANDLE h[1 + RP_WLISTEN_SPARES];
	wchar_t w[200];
	char why[200];
	int i, fd;

	T_EQ(rp_sock_listen(fresh_name("ahead"), RP_DIR_SAFE, 16, &l, why,
	    sizeof(why)), 0);
	errno = 0;
	T_EQ(rp_sock_accept(l.fd, 1), -1);
	T_EQ(errno, EAGAIN);
	swprintf(w, 200, L"%hs", l.path);
	for (i = 0; i < 1 + RP_WLISTEN_SPARES; i++) {
		h[i] = CreateFileW(w, GENERIC_READ | GENERIC_WRITE, 0, NULL,
		    OPEN_EXISTING, 0, NULL);
		if (h[i] == INVALID_HANDLE_VALUE)
			fprintf(stderr, "# client %d: error %lu\n", i,
			    GetLastError());
		T_OK(h[i] != INVALID_HANDLE_VALUE);
	}
	for (i = 0; i < 1 + RP_WLISTEN_SPARES; i++) {
		T_OK(rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(2000)) > 0);
		fd = rp_sock_accept(l.fd, 1);
		T_OK(fd >= 0);
		rp_fd_close(&fd);
	}
	errno = 0;
	T_EQ(rp_sock_accept(l.fd, 1), -1);
	T_EQ(errno, EAGAIN);
	for (i = 0; i < 1 + RP_WLISTEN_SPARES; i++)
		if (h[i] != INVALID_HANDLE_VALUE)
			CloseHandle(h[i]);
	rp_sock_unlisten(&l);
}

/* The raw flag, without rp_sock_listen's own look-up first: Windows
 * refuses a second first instance (ERROR_ACCESS_DENIED); Wine 8 does not
 * (tests/win/wine-gaps.txt). */
static void
test_first_pipe_instance_is_enforced(void)
{
	wchar_t w[160];
	HANDLE a, b;

	swprintf(w, 160, L"\\\\.\\pipe\\%hs", fresh_name("first"));
	a = rp_win_pipe_instance(w, 1);
	T_OK(a != NULL);
	b = rp_win_pipe_instance(w, 1);
	T_OK(b == NULL);
	T_EQ(GetLastError(), ERROR_ACCESS_DENIED);
	if (b != NULL)
		CloseHandle(b);
	CloseHandle(a);
}

/* ---------------------------------------------------------------- io */

static void
test_readiness_takes_nothing(void)
{
	char b[16];
	int sv[2];

	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(50)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_EQ(rp_io_write_full(sv[1], "abc", 3, rp_deadline_in(1000)), 0);
	T_OK(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(1000)) & RP_IO_READ);
	T_OK(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(1000)) & RP_IO_READ);
	/* Still all there after two waits. */
	T_EQ(rp_io_read_full(sv[0], b, 3, rp_deadline_in(1000)), 3);
	T_MEM(b, "abc", 3);
	/* Non-blocking: nothing is EAGAIN, not a wait. */
	T_EQ(rp_fd_set_nonblock(sv[0], 1), 0);
	T_EQ(rp_io_read_some(sv[0], b, sizeof(b)), -1);
	T_EQ(errno, EAGAIN);
	/* The end: a hang-up, then EOF. */
	rp_fd_close(&sv[1]);
	T_OK(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(1000)) & RP_IO_HUP);
	T_EQ(rp_io_read_some(sv[0], b, sizeof(b)), 0);
	rp_fd_close(&sv[0]);
}

static void
test_read_full_deadline_holds_against_a_trickle(void)
{
	char b[8];
	int64_t t0;
	int sv[2];

	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_io_write_full(sv[1], "ab", 2, rp_deadline_in(1000)), 0);
	t0 = rp_now_ms();
	T_EQ(rp_io_read_full(sv[0], b, 8, rp_deadline_in(200)), -1);
	T_EQ(errno, ETIMEDOUT);
	T_OK(rp_now_ms() - t0 >= 180);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

static void
test_write_behind_and_a_gone_reader(void)
{
	static char big[200000];
	char *got;
	size_t have = 0;
	ssize_t n;
	int sv[2], tries;

	memset(big, 'z', sizeof(big));
	T_EQ(rp_sock_pair(sv, 1), 0);
	/* A non-blocking write is taken whole (behind), then EAGAIN until
	 * the reader has made room. */
	n = rp_io_write_some(sv[1], big, sizeof(big));
	T_OK(n > 0);
	for (tries = 0; tries < 100; tries++) {
		if (rp_io_write_some(sv[1], big, 10) < 0)
			break;
	}
	T_OK(errno == EAGAIN || tries < 100);
	got = malloc((size_t)n + 10 * 100);
	T_OK(got != NULL);
	T_EQ(rp_fd_set_nonblock(sv[0], 0), 0);
	while (have < (size_t)n) {
		ssize_t r = rp_io_read_some(sv[0], got + have, (size_t)n - have);

		T_OK(r > 0);
		if (r <= 0)
			break;
		have += (size_t)r;
	}
	T_UEQ(have, (size_t)n);
	T_EQ(got[0], 'z');
	free(got);
	/* The write side's wait ends once its bytes are taken. */
	T_OK(rp_io_wait(sv[1], RP_IO_WRITE, rp_deadline_in(2000)) &
	    RP_IO_WRITE);
	rp_fd_close(&sv[0]);
	/* The reader is gone: EPIPE, never a hang. */
	T_EQ(rp_io_write_full(sv[1], "x", 1, rp_deadline_in(1000)), -1);
	T_EQ(errno, EPIPE);
	rp_fd_close(&sv[1]);
}

/* A closed fd with a write still in flight: its bytes still arrive. */
static void
test_close_keeps_what_was_written(void)
{
	static char big[150000];
	char buf[4096];
	size_t have = 0;
	ssize_t n, r;
	int sv[2];

	memset(big, 'q', sizeof(big));
	T_EQ(rp_sock_pair(sv, 1), 0);
	n = rp_io_write_some(sv[1], big, sizeof(big));
	T_OK(n > 0);
	rp_fd_close(&sv[1]);
	T_EQ(rp_fd_set_nonblock(sv[0], 0), 0);
	while ((r = rp_io_read_some(sv[0], buf, sizeof(buf))) > 0)
		have += (size_t)r;
	T_EQ(r, 0);
	T_UEQ(have, (size_t)n);
	rp_fd_close(&sv[0]);
}

/* -------------------------------------------------------------- loop */

struct lstate {
	int reads, hups, writes, timers, chld;
	int rfd, wfd;
	char buf[64];
	size_t len;
};

static void
on_read(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct lstate *s = arg;
	ssize_t n;

	if (ev & RP_LOOP_READ)
		s->reads++;
	n = rp_io_read_some(fd, s->buf + s->len, sizeof(s->buf) - s->len);
	if (n > 0)
		s->len += (size_t)n;
	if (n == 0 || (ev & RP_LOOP_HUP)) {
		s->hups++;
		rp_loop_del(loop, fd);
	}
}

static void
on_write(struct rp_loop *loop, int fd, unsigned ev, void *arg)
{
	struct lstate *s = arg;

	if (ev & RP_LOOP_WRITE) {
		s->writes++;
		T_EQ(rp_io_write_some(fd, "hello", 5), 5);
		rp_loop_mod(loop, fd, 0);
	}
}

static void
on_timer(struct rp_loop *loop, void *arg)
{
	struct lstate *s = arg;

	s->timers++;
	rp_fd_close(&s->wfd);
	(void)loop;
}

static void
test_loop_read_write_hup_timer(void)
{
	struct lstate s;
	struct rp_loop *loop = rp_loop_new(0);
	int sv[2];

	memset(&s, 0, sizeof(s));
	T_OK(loop != NULL);
	T_STR(rp_loop_backend(loop), "iocp");
	T_EQ(rp_sock_pair(sv, 1), 0);
	s.rfd = sv[0];
	s.wfd = sv[1];
	T_EQ(rp_loop_add(loop, sv[0], RP_LOOP_READ, on_read, &s), 0);
	T_EQ(rp_loop_add(loop, sv[0], RP_LOOP_READ, on_read, &s), -1);
	T_EQ(errno, EEXIST);
	T_EQ(rp_loop_add(loop, sv[1], RP_LOOP_WRITE, on_write, &s), 0);
	T_OK(rp_loop_timer(loop, rp_now_ms() + 100, on_timer, &s) != 0);
	/* The writer says hello, the timer closes it, the reader reads
	 * the hello and then the end; nothing is left and run returns. */
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(s.writes, 1);
	T_EQ(s.timers, 1);
	T_EQ(s.hups, 1);
	T_UEQ(s.len, 5);
	T_MEM(s.buf, "hello", 5);
	rp_loop_free(loop);
	rp_fd_close(&sv[0]);
}

static void
test_loop_refuses_what_is_always_ready(void)
{
	struct lstate s;
	struct rp_loop *loop = rp_loop_new(0);
	char path[MAX_PATH];
	int fd;

	memset(&s, 0, sizeof(s));
	snprintf(path, sizeof(path), "%s\\f", t_tmpdir());
	fd = rp_fs_open_write(path);
	T_OK(fd >= 0);
	/* As epoll: a regular file is EPERM; a closed fd EBADF. */
	T_EQ(rp_loop_add(loop, fd, RP_LOOP_READ, on_read, &s), -1);
	T_EQ(errno, EPERM);
	rp_fd_close(&fd);
	T_EQ(rp_loop_add(loop, 1999, RP_LOOP_READ, on_read, &s), -1);
	T_EQ(errno, EBADF);
	rp_loop_free(loop);
}

static void
on_chld(struct rp_loop *loop, int signo, void *arg)
{
	struct lstate *s = arg;

	T_EQ(signo, SIGCHLD);
	s->chld++;
	rp_loop_stop(loop);
}

static void
on_give_up(struct rp_loop *loop, void *arg)
{
	(void)arg;
	rp_loop_stop(loop);
}

static void
test_loop_sigchld_when_a_child_ends(void)
{
	struct rp_spawn_status st;
	struct lstate s;
	struct rp_loop *loop = rp_loop_new(0);
	pid_t pid;

	memset(&s, 0, sizeof(s));
	T_EQ(rp_loop_signal(loop, SIGCHLD, on_chld, &s), 0);
	T_EQ(rp_loop_signal(loop, SIGKILL, on_chld, &s), -1);
	T_EQ(errno, EINVAL);
	pid = child("exit", "7", NULL);
	T_OK(rp_loop_timer(loop, rp_now_ms() + 10000, on_give_up, &s) != 0);
	T_EQ(rp_loop_run(loop), 0);
	T_EQ(s.chld, 1);
	T_EQ(rp_spawn_wait(pid, RP_SPAWN_WAIT_NOHANG, &st), 1);
	T_EQ(st.code, 7);
	rp_loop_free(loop);
}

/* ------------------------------------------------------------ handoff */

/* The receiving side of a transfer, as the tools do it. */
static int
receive(int conn, int64_t deadline, int *rfd, char *detail, size_t dsz)
{
	struct rp_token_store *store = rp_token_store_new(4, 30000);
	enum rp_fdpass_status fst;
	Rp__HandoffOffer *offer;
	struct rp_buf ack = { 0 };
	const char *why = NULL, *no;
	uint8_t side[64], *body = NULL;
	size_t got, len;
	int nfds, rc = -1;

	fst = rp_fdpass_recv(conn, side, sizeof(side), &got, rfd, &nfds,
	    deadline);
	if (rp_frame_read(conn, RP_FRAME_SMALL_MAX, deadline, &body, &len) !=
	    RP_FRAME_OK)
		goto out;
	offer = rp_wire_offer_parse(body, len, &why);
	if (offer == NULL)
		goto out;
	no = rp_handoff_judge(fst, nfds, side, got, offer, store,
	    RP_HANDOFF_REPLAY, rp_now_ms(), detail, dsz);
	if (no != NULL && no != detail)
		snprintf(detail, dsz, "%s", no);
	else if (no == NULL)
		detail[0] = '\0';
	rc = no == NULL ? 0 : 1;
	if (rp_wire_ack_encode(&ack, RP_KIND_RESPONSE, offer->correlation_id,
	    offer->token.data, offer->token.len, no == NULL, no,
	    offer->correlation_id) == 0)
		(void)rp_io_write_full(conn, ack.data, ack.len, deadline);
	rp_buf_free(&ack);
	rp_wire_free(offer);
out:
	free(body);
	rp_token_store_free(store);
	return rc;
}

/* The child's part of test_handoff_into_another_process: receive on
 * pipe NAME, prove the adopted handle works by writing through it. */
static int
child_receive(const char *name)
{
	char detail[128];
	int c, rfd = -1, rc;

	c = rp_sock_connect(name, 0, rp_deadline_in(5000));
	if (c < 0)
		return 3;
	rc = receive(c, rp_deadline_in(5000), &rfd, detail, sizeof(detail));
	if (rc == 0 && rfd >= 0)
		rc = rp_io_write_full(rfd, "adopted", 7, rp_deadline_in(2000));
	rp_fd_close(&rfd);
	rp_fd_close(&c);
	return rc == 0 ? 0 : 1;
}

static void
test_handoff_into_another_process(void)
{
	struct rp_sock_listener l;
	struct rp_spawn_status st;
	uint8_t tok[RP_TOKEN_LEN];
	char why[200], detail[128], b[8];
	int s, sv[2];
	pid_t pid;

	rp_token_generate(tok);
	T_EQ(rp_sock_listen(fresh_name("ho"), RP_DIR_SAFE, 4, &l, why,
	    sizeof(why)), 0);
	pid = child("receive", l.path, NULL);
	T_OK(rp_io_wait(l.fd, RP_IO_READ, rp_deadline_in(10000)) & RP_IO_READ);
	s = rp_sock_accept(l.fd, 0);
	T_OK(s >= 0);
	/* What we hand over: one end of a pipe whose other end we read. */
	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_handoff_send(s, sv[1], tok, "svc", 0, 1, rp_deadline_in(5000),
	    detail, sizeof(detail)), RP_HANDOFF_SENT_ACCEPTED);
	rp_fd_close(&sv[1]);
	T_EQ(rp_io_read_full(sv[0], b, 7, rp_deadline_in(5000)), 7);
	T_MEM(b, "adopted", 7);
	T_EQ(rp_spawn_wait(pid, 0, &st), 1);
	T_EQ(rp_spawn_status_exit(&st), 0);
	/* The child has gone, and with it every copy: the end. */
	T_EQ(rp_io_read_some(sv[0], b, sizeof(b)), 0);
	rp_fd_close(&sv[0]);
	rp_fd_close(&s);
	rp_sock_unlisten(&l);
}

static void
test_give_and_take_back(void)
{
	uint8_t tok[RP_TOKEN_LEN] = { 1 };
	uint64_t value = 0;
	char why[160];
	DWORD flags;
	int sv[2], p[2];

	/* Into our own process (the peer of a pair is us). */
	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_sock_pair(p, 0), 0);
	T_EQ(rp_fdpass_give(sv[0], p[0], tok, &value, rp_deadline_in(1000), why,
	    sizeof(why)), RP_GIVE_OK);
	T_OK(value != 0);
	T_OK(GetHandleInformation((HANDLE)(uintptr_t)value, &flags));
	rp_fdpass_take_back(sv[0], value);
	T_OK(!GetHandleInformation((HANDLE)(uintptr_t)value, &flags));
	T_EQ(rp_fdpass_has_sideband(), 0);
	/* Nothing to send on Windows but through give. */
	T_EQ(rp_fdpass_send(sv[0], p[0], tok, 16, rp_deadline_in(100)), -1);
	T_EQ(errno, ENOTSUP);
	/* A bad fd: said as such. */
	T_EQ(rp_fdpass_give(sv[0], 1999, tok, &value, rp_deadline_in(1000), why,
	    sizeof(why)), RP_GIVE_DUPLICATE_FAILED);
	T_OK(strstr(why, "not open") != NULL);
	T_EQ(errno, EBADF);
	/* No pipe to learn the receiver from: the channel's failure. */
	T_EQ(rp_fdpass_give(1999, p[0], tok, &value, rp_deadline_in(1000), why,
	    sizeof(why)), RP_GIVE_CHANNEL);
	T_OK(strstr(why, "receiver's process") != NULL);
	rp_fd_close(&p[0]);
	rp_fd_close(&p[1]);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

/* A refused transfer: the receiver keeps nothing. */
static void
test_refused_transfer_is_taken_back(void)
{
	struct rp_token_store *store = rp_token_store_new(4, 30000);
	uint8_t tok[RP_TOKEN_LEN] = { 7 }, side[64], *body = NULL;
	struct rp_buf offer = { 0 };
	Rp__HandoffOffer *o;
	uint64_t value = 0;
	const char *why = NULL;
	char buf[96], w2[160];
	size_t got, len;
	DWORD flags;
	int sv[2], p[2], rfd = -1, nfds;

	T_EQ(rp_sock_pair(sv, 0), 0);
	T_EQ(rp_sock_pair(p, 0), 0);
	T_EQ(rp_fdpass_give(sv[0], p[0], tok, &value, rp_deadline_in(1000), w2,
	    sizeof(w2)), RP_GIVE_OK);
	T_EQ(rp_wire_offer_encode(&offer, tok, 16, "s", 99, value), 0);
	T_EQ(rp_io_write_full(sv[0], offer.data, offer.len,
	    rp_deadline_in(1000)), 0);
	rp_buf_free(&offer);
	T_EQ(rp_fdpass_recv(sv[1], side, sizeof(side), &got, &rfd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_OK);
	T_UEQ(got, 16);
	T_EQ(nfds, 1);
	T_OK(rfd >= 0);
	/* Looked at, not taken: the frame is still there to read. */
	T_EQ(rp_frame_read(sv[1], RP_FRAME_SMALL_MAX, rp_deadline_in(1000),
	    &body, &len), RP_FRAME_OK);
	o = rp_wire_offer_parse(body, len, &why);
	T_OK(o != NULL);
	/* Not a token the store knows as pending: a replay store takes any
	 * once, so present it twice to be refused. */
	T_OK(rp_handoff_judge(RP_FDPASS_OK, 1, side, got, o, store,
	    RP_HANDOFF_EXPECT, rp_now_ms(), buf, sizeof(buf)) != NULL);
	rp_fd_close(&rfd);
	/* Refused: the original is the sender's to take back, still open
	 * until it does. */
	T_OK(GetHandleInformation((HANDLE)(uintptr_t)value, &flags));
	rp_fdpass_take_back(sv[0], value);
	T_OK(!GetHandleInformation((HANDLE)(uintptr_t)value, &flags));
	rp_wire_free(o);
	free(body);
	rp_token_store_free(store);
	rp_fd_close(&p[0]);
	rp_fd_close(&p[1]);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

/* An offer naming a handle that is no pipe or file of someone's giving:
 * no fd, and the token still there to judge. */
static void
test_offer_of_a_bad_handle_is_no_fd(void)
{
	uint8_t tok[RP_TOKEN_LEN] = { 9 }, side[64];
	struct rp_buf offer = { 0 };
	size_t got;
	int sv[2], rfd = 5, nfds = 3;
	HANDLE ev = CreateEventW(NULL, TRUE, FALSE, NULL);

	T_EQ(rp_sock_pair(sv, 0), 0);
	/* An event is no pipe; one of our own fds is refused too. */
	T_EQ(rp_wire_offer_encode(&offer, tok, 16, "s", 5,
	    (uint64_t)(uintptr_t)ev), 0);
	T_EQ(rp_io_write_full(sv[0], offer.data, offer.len,
	    rp_deadline_in(1000)), 0);
	rp_buf_free(&offer);
	T_EQ(rp_fdpass_recv(sv[1], side, sizeof(side), &got, &rfd, &nfds,
	    rp_deadline_in(1000)), RP_FDPASS_NO_FD);
	T_EQ(rfd, -1);
	T_EQ(nfds, 0);
	T_UEQ(got, 16);
	CloseHandle(ev);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);
}

/* What rp-broker asks of lib/win beyond the tools: peers judged by SID,
 * backend pipe names, a pipe pair for the loop, the event log's open,
 * NUL and a file's stamp. */
static void
test_broker_helpers(void)
{
	static const uint8_t rnd[16] = { 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11,
	    12, 13, 14, 15 };
	struct rp_peercred pc;
	struct rp_fs_stamp a, b2;
	char out[160], f[512], buf[8];
	int sv[2], fd;

	T_EQ(rp_fd_pipe(sv, 1), 0);
	T_EQ(rp_fd_is_socket(sv[0]), 0);
	T_EQ(rp_sock_peercred(sv[0], &pc), 0);
	T_UEQ(pc.pid, GetCurrentProcessId());
	T_EQ(rp_peercred_allowed(&pc, NULL, 0), 1);
	/* A uid (a RID) alone admits nobody. */
	pc.sidlen = 0;
	T_EQ(rp_peercred_allowed(&pc, &pc.uid, 1), 0);
	T_EQ(rp_io_send_nowait(sv[1], "x", 1), 1);
	T_EQ(rp_io_wait(sv[0], RP_IO_READ, rp_deadline_in(2000)) > 0, 1);
	T_EQ(rp_io_recv_nowait(sv[0], buf, sizeof(buf)), 1);
	errno = 0;
	T_EQ(rp_sock_shutdown_write(sv[0]), -1);
	T_EQ(errno, ENOTSUP);
	rp_fd_close(&sv[0]);
	rp_fd_close(&sv[1]);

	T_OK(rp_sock_backend_endpoint(out, sizeof(out), "ignored",
	    "0123456789abcdef", rnd, 0) > 0);
	T_STR(out, "\\\\.\\pipe\\rpb-v1-0123456789abcdef-be-"
	    "000102030405060708090a0b0c0d0e0f");
	T_OK(rp_sock_backend_endpoint(out, sizeof(out), NULL,
	    "0123456789abcdef", rnd, 1) > 0);
	T_STR(out, "\\\\.\\pipe\\rpb-v1-0123456789abcdef-ho-"
	    "000102030405060708090a0b0c0d0e0f");
	T_EQ(rp_sock_backend_endpoint(out, 20, NULL, "0123456789abcdef", rnd,
	    0), -1);
	T_EQ(rp_sock_namespace(out, sizeof(out)), 8);
	T_STR(out, "\\\\.\\pipe");

	snprintf(f, sizeof(f), "%s\\events.log", t_tmpdir());
	T_OK((fd = rp_fs_open_append(f, 1)) >= 0);
	T_EQ(rp_io_write_full(fd, "ab", 2, rp_deadline_in(1000)), 0);
	rp_fd_close(&fd);
	errno = 0;
	T_EQ(rp_fs_open_append(f, 1), -1);
	T_EQ(errno, EEXIST);
	T_EQ(rp_fs_stamp(f, &a), 0);
	T_UEQ(a.size, 2);
	T_OK((fd = rp_fs_open_append(f, 0)) >= 0);
	T_EQ(rp_io_write_full(fd, "cd", 2, rp_deadline_in(1000)), 0);
	rp_fd_close(&fd);
	T_EQ(rp_fs_stamp(f, &b2), 0);
	T_UEQ(b2.size, 4);
	T_UEQ(b2.ino, a.ino);
	T_UEQ(b2.dev, a.dev);
	T_OK(b2.mtime_ns >= a.mtime_ns && a.mtime_ns > 0);
	T_OK((fd = rp_fs_open_read(f)) >= 0);
	T_EQ(rp_io_read_full(fd, buf, sizeof(buf), rp_deadline_in(1000)), 4);
	T_EQ(memcmp(buf, "abcd", 4), 0);
	rp_fd_close(&fd);
	T_OK((fd = rp_fs_open_null()) >= 0);
	rp_fd_close(&fd);
	DeleteFileA(f);
}

static int
child_main(int argc, char **argv)
{
	if (argc >= 4 && strcmp(argv[2], "exit") == 0)
		return atoi(argv[3]);
	if (argc >= 4 && strcmp(argv[2], "receive") == 0)
		return child_receive(argv[3]);
	return 99;
}

int
main(int argc, char **argv)
{
	if (rp_init() != 0)
		return 125;
	if (argc >= 3 && strcmp(argv[1], "--child") == 0)
		return child_main(argc, argv);
	T_RUN(test_listen_connect_accept_and_peer);
	T_RUN(test_listen_twice_is_in_use);
	T_RUN(test_listen_refuses_bad_names);
	T_RUN(test_connect_missing_and_busy);
	T_RUN(test_clients_together_find_instances);
	T_RUN(test_first_pipe_instance_is_enforced);
	T_RUN(test_readiness_takes_nothing);
	T_RUN(test_read_full_deadline_holds_against_a_trickle);
	T_RUN(test_write_behind_and_a_gone_reader);
	T_RUN(test_close_keeps_what_was_written);
	T_RUN(test_loop_read_write_hup_timer);
	T_RUN(test_loop_refuses_what_is_always_ready);
	T_RUN(test_loop_sigchld_when_a_child_ends);
	T_RUN(test_handoff_into_another_process);
	T_RUN(test_give_and_take_back);
	T_RUN(test_refused_transfer_is_taken_back);
	T_RUN(test_offer_of_a_bad_handle_is_no_fd);
	T_RUN(test_broker_helpers);
	return t_done();
}
