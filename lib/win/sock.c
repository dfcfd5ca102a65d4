/*
 * sock.c — local endpoints as named pipes (see sock.h and 70-windows.md
 * "Endpoints: named pipes").
 *
 * A listener is one instance waiting for a client (ConnectNamedPipe,
 * overlapped); accepting hands that instance on as the connection and
 * makes the next one.  Every instance is byte mode, rejects remote
 * clients and carries a security descriptor that admits only our SID and
 * SYSTEM; the first one of a name is created with
 * FILE_FLAG_FIRST_PIPE_INSTANCE, so a name some other process created
 * first (a squatter) is refused rather than shared.  Wine does not
 * enforce that flag, so the name is also looked up first.  The listener's
 * fd wraps a handle to NUL (the C runtime takes no other kind of object
 * without a file type); its entry holds the instance.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "err.h"
#include "io.h"
#include "sock.h"

HANDLE
rp_win_pipe_instance(const wchar_t *name, int first)
{
	SECURITY_ATTRIBUTES sa = { sizeof(sa), NULL, FALSE };
	HANDLE h;

	if ((sa.lpSecurityDescriptor = rp_win_private_sd(0)) == NULL) {
		SetLastError(ERROR_NOT_ENOUGH_MEMORY);
		return NULL;
	}
	h = CreateNamedPipeW(name, PIPE_ACCESS_DUPLEX | FILE_FLAG_OVERLAPPED |
	    (first ? FILE_FLAG_FIRST_PIPE_INSTANCE : 0),
	    PIPE_TYPE_BYTE | PIPE_READMODE_BYTE | PIPE_WAIT |
	    PIPE_REJECT_REMOTE_CLIENTS, PIPE_UNLIMITED_INSTANCES,
	    RP_WIN_PIPE_BUF, RP_WIN_PIPE_BUF, 0, &sa);
	return h == INVALID_HANDLE_VALUE ? NULL : h;
}

int
rp_sock_listen(const char *path, int dir_policy, int backlog,
    struct rp_sock_listener *out, char *why, size_t whysz)
{
	struct rp_wfd *w;
	char full[RP_SUN_PATH_MAX];
	wchar_t *wname;
	HANDLE inst, nul;
	DWORD err;
	int fd;

	/* A pipe has no directory to check: its own security descriptor
	 * is what keeps others out.  One instance waits at a time; clients
	 * that find it taken wait for the next (rp_sock_connect). */
	(void)dir_policy;
	(void)backlog;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	rp_err_why(why, whysz, "%s", "");
	if (path == NULL || *path == '\0') {
		rp_err_why(why, whysz, "socket path is empty");
		errno = ENOENT;
		return -1;
	}
	if (rp_win_pipe_name(path, full, sizeof(full)) < 0) {
		if (errno == ENAMETOOLONG)
			rp_err_why(why, whysz, "pipe name %s is too long", path);
		else
			rp_err_why(why, whysz, "%s is not a pipe name "
			    "(\\\\.\\pipe\\NAME, NAME without a backslash)",
			    path);
		return -1;
	}
	if ((wname = rp_win_wide(full)) == NULL) {
		rp_err_why(why, whysz, "pipe name %s is not UTF-8", path);
		return -1;
	}
	/* Somebody serves this name already (or holds it): never shared. */
	if (WaitNamedPipeW(wname, 1) ||
	    GetLastError() != ERROR_FILE_NOT_FOUND) {
		rp_err_why(why, whysz, "another process is listening on %s",
		    full);
		free(wname);
		errno = EADDRINUSE;
		return -1;
	}
	if ((inst = rp_win_pipe_instance(wname, 1)) == NULL) {
		err = GetLastError();
		if (err == ERROR_ACCESS_DENIED || err == ERROR_PIPE_BUSY) {
			rp_err_why(why, whysz, "the endpoint %s is held by "
			    "another process", full);
			errno = EADDRINUSE;
		} else {
			rp_err_why(why, whysz, "cannot create pipe %s", full);
			rp_win_fail_err(err);
		}
		free(wname);
		return -1;
	}
	/* The fd wraps a handle to NUL (the C runtime takes no event): what
	 * it stands for lives in its entry. */
	fd = -1;
	nul = CreateFileW(L"NUL", 0, FILE_SHARE_READ | FILE_SHARE_WRITE, NULL,
	    OPEN_EXISTING, 0, NULL);
	if (nul == INVALID_HANDLE_VALUE) {
		rp_win_fail();
		goto fail;
	}
	if ((fd = rp_wfd_open(nul, RP_WFD_LISTEN, 1)) < 0)
		goto fail;
	if ((w = rp_wfd_peek(fd)) == NULL ||
	    (w->ls = calloc(1, sizeof(*w->ls))) == NULL) {
		errno = ENOMEM;
		goto fail;
	}
	if (rp_wop_init(&w->rd) < 0)
		goto fail;
	w->ls->name = wname;
	w->ls->inst = inst;
	out->fd = fd;
	out->owns_path = 1;
	memcpy(out->path, full, strlen(full) + 1);
	return 0;
fail:
	err = (DWORD)errno;
	CloseHandle(inst);
	free(wname);
	rp_fd_close(&fd);
	rp_err_why(why, whysz, "cannot listen on %s", full);
	errno = (int)err;
	return -1;
}

int
rp_sock_listen_fd(int fd, struct rp_sock_listener *out)
{
	/* Nothing hands a listening pipe on; socket activation is Unix. */
	(void)fd;
	memset(out, 0, sizeof(*out));
	out->fd = -1;
	errno = ENOTSOCK;
	return -1;
}

void
rp_sock_unlisten(struct rp_sock_listener *l)
{
	int saved = errno;

	if (l == NULL)
		return;
	/* The instance goes with the fd; a pipe name is gone with its last
	 * instance, so there is nothing to remove. */
	rp_fd_close(&l->fd);
	l->owns_path = 0;
	errno = saved;
}

int
rp_sock_accept(int lfd, int nonblock)
{
	struct rp_wfd *w = rp_wfd_get(lfd);
	struct rp_wlisten *ls;
	HANDLE conn;
	DWORD err;
	int a, i;

	if (w == NULL)
		return -1;
	if (w->kind != RP_WFD_LISTEN || (ls = w->ls) == NULL) {
		errno = ENOTSOCK;
		return -1;
	}
	a = rp_wfd_arm_read(w);
	if (a < 0)
		return -1;
	if (a == 0) {
		errno = EAGAIN;
		return -1;
	}
	if (!(a & RP_IO_ERR) && w->rd.state != RP_WOP_DONE) {
		/* A spare instance has the client. */
		for (i = 0; i < RP_WLISTEN_SPARES; i++) {
			if (ls->sready[i]) {
				conn = ls->spare[i];
				ls->spare[i] = NULL;
				ls->sready[i] = 0;
				return rp_wfd_open(conn, RP_WFD_PIPE, nonblock);
			}
		}
		errno = EAGAIN;
		return -1;
	}
	if (a & RP_IO_ERR) {
		err = w->rd.state == RP_WOP_DONE ? w->rd.err : ls->inst_err;
		w->rd.state = RP_WOP_IDLE;
		if (ls->inst != NULL && w->rd.err != 0) {
			/* The instance is in a state we cannot use: drop it,
			 * the next accept makes another. */
			CloseHandle(ls->inst);
			ls->inst = NULL;
		}
		return rp_win_fail_err(err ? err : ERROR_PIPE_NOT_CONNECTED);
	}
	conn = ls->inst;
	w->rd.state = RP_WOP_IDLE;
	ls->inst = rp_win_pipe_instance(ls->name, 0);
	if (ls->inst == NULL)
		ls->inst_err = GetLastError();
	return rp_wfd_open(conn, RP_WFD_PIPE, nonblock);
}

int
rp_sock_connect(const char *path, int nonblock, int64_t deadline)
{
	char full[RP_SUN_PATH_MAX];
	wchar_t *wname;
	HANDLE h;
	DWORD err;
	int ms;

	if (rp_win_pipe_name(path, full, sizeof(full)) < 0)
		return -1;
	if ((wname = rp_win_wide(full)) == NULL)
		return -1;
	for (;;) {
		/*
		 * Identification only: a server (ours or one squatting on
		 * the name) may learn who we are, never act as us.
		 */
		h = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL,
		    OPEN_EXISTING, FILE_FLAG_OVERLAPPED | SECURITY_SQOS_PRESENT |
		    SECURITY_IDENTIFICATION, NULL);
		if (h != INVALID_HANDLE_VALUE)
			break;
		err = GetLastError();
		if (err != ERROR_PIPE_BUSY) {
			free(wname);
			return rp_win_fail_err(err);
		}
		/* Every instance has a client: wait for one to come free,
		 * but never past the deadline (0 would mean the pipe's own
		 * default there). */
		ms = rp_deadline_poll_ms(deadline);
		if (ms == 0) {
			free(wname);
			errno = ETIMEDOUT;
			return -1;
		}
		if (!WaitNamedPipeW(wname, ms < 0 ? NMPWAIT_WAIT_FOREVER :
		    (DWORD)ms)) {
			err = GetLastError();
			if (err != ERROR_SEM_TIMEOUT) {
				free(wname);
				return rp_win_fail_err(err);
			}
		}
	}
	free(wname);
	return rp_wfd_open(h, RP_WFD_PIPE, nonblock);
}

int
rp_win_pipe_peer_pid(int fd, DWORD *pid, int *server_end)
{
	HANDLE h = rp_wfd_handle(fd);
	ULONG p = 0;
	DWORD flags = 0;

	if (h == INVALID_HANDLE_VALUE)
		return -1;
	if (!GetNamedPipeInfo(h, &flags, NULL, NULL, NULL)) {
		errno = ENOTSOCK;
		return -1;
	}
	if (!((flags & PIPE_SERVER_END) ?
	    GetNamedPipeClientProcessId(h, &p) :
	    GetNamedPipeServerProcessId(h, &p)))
		return rp_win_fail();
	*pid = p;
	if (server_end != NULL)
		*server_end = (flags & PIPE_SERVER_END) != 0;
	return 0;
}

int
rp_sock_peercred(int fd, struct rp_peercred *out)
{
	HANDLE h, tok;
	union {
		TOKEN_USER tu;
		uint8_t b[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE + 16];
	} u;
	DWORD pid = 0, len;
	int n, server_end = 0;

	memset(out, 0, sizeof(*out));
	if (rp_win_pipe_peer_pid(fd, &pid, &server_end) != 0)
		return -1;
	h = rp_wfd_handle(fd);
	out->pid = (uint32_t)pid;
	n = rp_win_process_sid(pid, out->sid, sizeof(out->sid));
	if (n < 0 && server_end) {
		/* The client may be gone already; its token came with the
		 * connection (identification level is enough to read it). */
		if (!ImpersonateNamedPipeClient(h))
			return rp_win_fail();
		if (OpenThreadToken(GetCurrentThread(), TOKEN_QUERY, TRUE,
		    &tok)) {
			if (GetTokenInformation(tok, TokenUser, u.b,
			    sizeof(u.b), &len) &&
			    (len = GetLengthSid(u.tu.User.Sid)) <=
			    sizeof(out->sid)) {
				memcpy(out->sid, u.tu.User.Sid, len);
				n = (int)len;
			}
			CloseHandle(tok);
		}
		RevertToSelf();
	}
	if (n < 0)
		return -1;
	out->sidlen = (uint8_t)n;
	out->uid = rp_win_sid_rid((PSID)out->sid);
	return 0;
}

int
rp_sock_pair(int sv[2], int nonblock)
{
	static LONG counter;
	char name[96];
	wchar_t wname[96];
	OVERLAPPED ov;
	HANDLE s, c, ev;
	DWORD n, err;
	int tries;

	for (tries = 0; tries < 16; tries++) {
		snprintf(name, sizeof(name), "\\\\.\\pipe\\rp-pair-%lu-%ld-%llx",
		    GetCurrentProcessId(), InterlockedIncrement(&counter),
		    (unsigned long long)rp_now_ns());
		MultiByteToWideChar(CP_UTF8, 0, name, -1, wname, 96);
		s = rp_win_pipe_instance(wname, 1);
		if (s != NULL)
			break;
		if (GetLastError() != ERROR_ACCESS_DENIED)
			return rp_win_fail();
	}
	if (s == NULL)
		return rp_win_fail();
	c = CreateFileW(wname, GENERIC_READ | GENERIC_WRITE, 0, NULL,
	    OPEN_EXISTING, FILE_FLAG_OVERLAPPED, NULL);
	if (c == INVALID_HANDLE_VALUE) {
		err = GetLastError();
		CloseHandle(s);
		return rp_win_fail_err(err);
	}
	memset(&ov, 0, sizeof(ov));
	if ((ev = rp_win_event(&ov.hEvent)) == NULL) {
		CloseHandle(s);
		CloseHandle(c);
		return -1;
	}
	/* The client is there already: ERROR_PIPE_CONNECTED at once. */
	if (!ConnectNamedPipe(s, &ov)) {
		err = GetLastError();
		if (err == ERROR_IO_PENDING &&
		    rp_win_ov_wait(s, &ov, ev, &n, RP_DEADLINE_NEVER))
			err = ERROR_PIPE_CONNECTED;
		else if (err == ERROR_IO_PENDING)
			err = GetLastError();
		if (err != ERROR_PIPE_CONNECTED) {
			CloseHandle(ev);
			CloseHandle(s);
			CloseHandle(c);
			return rp_win_fail_err(err);
		}
	}
	CloseHandle(ev);
	if ((sv[0] = rp_wfd_open(s, RP_WFD_PIPE, nonblock)) < 0) {
		CloseHandle(c);
		return -1;
	}
	if ((sv[1] = rp_wfd_open(c, RP_WFD_PIPE, nonblock)) < 0) {
		rp_fd_close(&sv[0]);
		return -1;
	}
	return 0;
}

int
rp_sock_endpoint_name(const char *path, char *out, size_t outsz)
{
	return rp_win_pipe_name(path, out, outsz);
}

int
rp_sock_endpoint_abs(const char *path, char *out, size_t outsz)
{
	size_t n = strlen(path);

	if (n >= outsz) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, path, n + 1);
	return 0;
}

int
rp_sock_endpoint_equal(const char *a, const char *b)
{
	char fa[RP_SUN_PATH_MAX], fb[RP_SUN_PATH_MAX];

	if (rp_win_pipe_name(a, fa, sizeof(fa)) < 0 ||
	    rp_win_pipe_name(b, fb, sizeof(fb)) < 0)
		return strcmp(a, b) == 0;
	/* Pipe names are not case-sensitive. */
	return _stricmp(fa, fb) == 0;
}

int
rp_sock_connect_wait(const char *path, int nonblock, int64_t deadline)
{
	int64_t nap = 1;
	int fd, left;

	/*
	 * A named pipe that does not exist yet leaves nothing to watch
	 * (WaitNamedPipeW fails at once for a missing name), so the name is
	 * tried again at growing intervals up to 100 ms.
	 */
	for (;;) {
		fd = rp_sock_connect(path, nonblock, deadline);
		if (fd >= 0 || errno != ENOENT)
			return fd;
		left = rp_deadline_poll_ms(deadline);
		if (left == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
		rp_sleep_ms(left > 0 && left < nap ? left : nap);
		if (nap < 100)
			nap = nap * 2 > 100 ? 100 : nap * 2;
	}
}

int
rp_sock_path_bound(const char *path)
{
	(void)path;
	errno = ENOTSUP;
	return -1;
}

int
rp_peercred_allowed(const struct rp_peercred *pc, const uint32_t *allow,
    size_t n)
{
	PSID self = rp_win_self_sid();

	(void)allow;
	(void)n;
	return self != NULL && pc->sidlen > 0 && IsValidSid((PSID)pc->sid) &&
	    GetLengthSid((PSID)pc->sid) == pc->sidlen &&
	    EqualSid((PSID)pc->sid, self);
}

int
rp_sock_shutdown_write(int fd)
{
	(void)fd;
	errno = ENOTSUP;
	return -1;
}

int
rp_sock_backend_endpoint(char *out, size_t outsz, const char *dir,
    const char *hash16, const uint8_t rnd[16], int handoff)
{
	static const char hex[] = "0123456789abcdef";
	char r[33];
	int i, n;

	(void)dir;
	if (rnd == NULL || hash16 == NULL || strlen(hash16) != 16) {
		errno = EINVAL;
		return -1;
	}
	for (i = 0; i < 16; i++) {
		r[2 * i] = hex[rnd[i] >> 4];
		r[2 * i + 1] = hex[rnd[i] & 15];
	}
	r[32] = '\0';
	n = snprintf(out, outsz, "\\\\.\\pipe\\rpb-v1-%s-%s-%s", hash16,
	    handoff ? "ho" : "be", r);
	if (n < 0 || (size_t)n >= outsz) {
		if (outsz > 0)
			out[0] = '\0';
		errno = ENAMETOOLONG;
		return -1;
	}
	return n;
}

int
rp_sock_namespace(char *out, size_t outsz)
{
	static const char ns[] = "\\\\.\\pipe";

	if (outsz < sizeof(ns)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(out, ns, sizeof(ns));
	return (int)sizeof(ns) - 1;
}

int
rp_sock_listener_intact(const struct rp_sock_listener *l)
{
	(void)l;
	return 1;
}
