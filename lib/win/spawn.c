/*
 * spawn.c — starting, waiting for and ending processes on Windows (see
 * spawn.h and 70-windows.md "Processes").
 *
 * Every child is created suspended, put in a Job Object of its own with
 * JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE and only then resumed: when we end,
 * or when the child is reaped, the job's handle closes and whatever the
 * child left running dies with it (the Windows counterpart of a child
 * subreaper that kills what is left).  A child inherits exactly the
 * handles we list (PROC_THREAD_ATTRIBUTE_HANDLE_LIST), each an inheritable
 * duplicate made for that one call, so a spawn on another thread never
 * leaks ours into its child.  Descriptors above 2 reach the child through
 * the C runtime's inheritance block (STARTUPINFO.lpReserved2), which the
 * Microsoft C runtimes read at start-up.
 *
 * A registered wait on each child's process handle posts SIGCHLD to the
 * loop that watches it (loop.c) when the child ends.
 */
#include <errno.h>
#include <io.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "win.h"

#include "deadline.h"
#include "err.h"
#include "io.h"
#include "spawn.h"

/* Windows' exception codes, as the POSIX side would report them. */
#define ST_ACCESS_VIOLATION 0xC0000005u
#define ST_IN_PAGE_ERROR 0xC0000006u
#define ST_MISALIGNMENT 0x80000002u
#define ST_ILLEGAL_INSTRUCTION 0xC000001Du
#define ST_PRIV_INSTRUCTION 0xC0000096u
#define ST_FLT_FIRST 0xC000008Du
#define ST_FLT_LAST 0xC0000093u
#define ST_INT_DIVIDE_BY_ZERO 0xC0000094u
#define ST_INT_OVERFLOW 0xC0000095u
#define ST_STACK_OVERFLOW 0xC00000FDu
#define ST_CONTROL_C_EXIT 0xC000013Au
#define ST_STACK_BUFFER_OVERRUN 0xC0000409u
#define POSIX_SIGABRT 6

/* The C runtime's flags in the inheritance block. */
#define FOPEN 0x01
#define FPIPE 0x08
#define FDEV 0x40

#define CMDLINE_MAX 32767

struct child {
	struct child *next;
	pid_t pid;
	HANDLE proc;
	HANDLE job;
	HANDLE wait;            /* posts SIGCHLD when it ends */
	int killed_by;          /* the signal we ended it with, 0 */
};

static struct child *children;
static SRWLOCK kids_lock = SRWLOCK_INIT;

static struct child *
find_child(pid_t pid)
{
	struct child *c;

	AcquireSRWLockShared(&kids_lock);
	for (c = children; c != NULL && c->pid != pid; c = c->next)
		;
	ReleaseSRWLockShared(&kids_lock);
	return c;
}

HANDLE
rp_win_spawn_job(pid_t pid)
{
	struct child *c = find_child(pid);

	return c != NULL ? c->job : NULL;
}

static VOID CALLBACK
on_child_end(void *arg, BOOLEAN timed_out)
{
	(void)arg;
	(void)timed_out;
	rp_win_sigchld_post();
}

/* ------------------------------------------------------ command line */

static int
needs_quotes(const wchar_t *a)
{
	return *a == L'\0' || wcspbrk(a, L" \t\n\v\"") != NULL;
}

/*
 * One argument as CommandLineToArgvW (and the C runtime) will read it
 * back: in quotes when it holds blanks or quotes or is empty; inside
 * quotes, backslashes are literal except before a quote, where each one
 * and the quote are escaped by a backslash, and before the closing quote,
 * where they are doubled.
 */
static size_t
quote_arg(const wchar_t *a, wchar_t *out)
{
	size_t n = 0, bs;

	if (!needs_quotes(a)) {
		while (*a != L'\0') {
			if (out != NULL)
				out[n] = *a;
			n++;
			a++;
		}
		return n;
	}
	if (out != NULL)
		out[n] = L'"';
	n++;
	for (;;) {
		for (bs = 0; *a == L'\\'; a++)
			bs++;
		if (*a == L'\0') {
			bs *= 2;
		} else if (*a == L'"') {
			bs = bs * 2 + 1;
		}
		for (; bs > 0; bs--) {
			if (out != NULL)
				out[n] = L'\\';
			n++;
		}
		if (*a == L'\0')
			break;
		if (out != NULL)
			out[n] = *a;
		n++;
		a++;
	}
	if (out != NULL)
		out[n] = L'"';
	return n + 1;
}

/*
 * The program name (argv[0]) is read by other rules: up to the first
 * blank, or between quotes, with no escapes at all.  So it is quoted
 * when it has a blank, and a quote in it cannot be said (nor can it be
 * in a Windows file name).
 */
static size_t
quote_prog(const wchar_t *a, wchar_t *out)
{
	size_t len = wcslen(a);
	int q = len == 0 || wcspbrk(a, L" \t") != NULL;

	if (out != NULL) {
		if (q)
			*out++ = L'"';
		memcpy(out, a, len * sizeof(*a));
		if (q)
			out[len] = L'"';
	}
	return len + (q ? 2 : 0);
}

wchar_t *
rp_win_cmdline(char *const *argv)
{
	wchar_t **w, *line = NULL;
	size_t n, i, len = 0, pos = 0;

	for (n = 0; argv[n] != NULL; n++)
		;
	if (n == 0) {
		errno = EINVAL;
		return NULL;
	}
	if ((w = calloc(n, sizeof(*w))) == NULL)
		return NULL;
	for (i = 0; i < n; i++) {
		if ((w[i] = rp_win_wide(argv[i])) == NULL)
			goto out;
		if (i == 0 && wcschr(w[0], L'"') != NULL) {
			errno = EINVAL;
			goto out;
		}
		len += (i == 0 ? quote_prog(w[i], NULL) :
		    quote_arg(w[i], NULL)) + 1;
	}
	if (len > CMDLINE_MAX) {
		errno = E2BIG;
		goto out;
	}
	if ((line = malloc((len + 1) * sizeof(*line))) == NULL)
		goto out;
	for (i = 0; i < n; i++) {
		if (i > 0)
			line[pos++] = L' ';
		pos += i == 0 ? quote_prog(w[i], line + pos) :
		    quote_arg(w[i], line + pos);
	}
	line[pos] = L'\0';
out:
	for (i = 0; i < n; i++)
		free(w[i]);
	free(w);
	return line;
}

/* ----------------------------------------------------- environment */

/* UTF-8, else (environ as the C runtime made it) the ANSI code page. */
static wchar_t *
env_wide(const char *s)
{
	wchar_t *w = rp_win_wide(s);
	int n;

	if (w != NULL || errno != EILSEQ)
		return w;
	n = MultiByteToWideChar(CP_ACP, 0, s, -1, NULL, 0);
	if (n <= 0 || (w = malloc((size_t)n * sizeof(*w))) == NULL)
		return NULL;
	MultiByteToWideChar(CP_ACP, 0, s, -1, w, n);
	return w;
}

static wchar_t *
env_block(char *const *envp)
{
	wchar_t *block = NULL, *w, *nb;
	size_t len = 0, n, i;

	for (i = 0; envp[i] != NULL; i++) {
		/* Only NAME=VALUE: anything else would end the block. */
		if (strchr(envp[i], '=') == NULL || envp[i][0] == '\0')
			continue;
		if ((w = env_wide(envp[i])) == NULL)
			goto fail;
		n = wcslen(w) + 1;
		if ((nb = realloc(block, (len + n + 1) * sizeof(*nb))) == NULL) {
			free(w);
			goto fail;
		}
		block = nb;
		memcpy(block + len, w, n * sizeof(*w));
		len += n;
		free(w);
	}
	if ((nb = realloc(block, (len + 2) * sizeof(*nb))) == NULL)
		goto fail;
	block = nb;
	block[len] = L'\0';
	block[len + 1] = L'\0';     /* an empty block still ends twice */
	return block;
fail:
	free(block);
	return NULL;
}

/* -------------------------------------------------- finding programs */

/* 1 a file, 0 missing, -1 a directory. */
static int
file_kind(const char *path)
{
	wchar_t *w = rp_win_wide(path);
	DWORD a;

	if (w == NULL)
		return 0;
	a = GetFileAttributesW(w);
	free(w);
	if (a == INVALID_FILE_ATTRIBUTES)
		return 0;
	return (a & FILE_ATTRIBUTE_DIRECTORY) ? -1 : 1;
}

static int
has_ext(const char *path)
{
	const char *base = path, *p;

	for (p = path; *p != '\0'; p++)
		if (*p == '/' || *p == '\\' || *p == ':')
			base = p + 1;
	return strchr(base, '.') != NULL;
}

/* path, or path.exe: 1 found (into out), 0 not, -1 a directory. */
static int
try_path(const char *path, char *out, size_t outsz)
{
	char buf[4096];
	int k = file_kind(path);

	if (k == 0 && !has_ext(path)) {
		if (snprintf(buf, sizeof(buf), "%s.exe", path) >=
		    (int)sizeof(buf))
			return 0;
		if ((k = file_kind(buf)) == 1)
			path = buf;
	}
	if (k != 1)
		return k;
	if (strlen(path) >= outsz)
		return 0;
	memcpy(out, path, strlen(path) + 1);
	return 1;
}

int
rp_win_find_exe(const char *file, char *out, size_t outsz)
{
	wchar_t *wpath;
	char *path, *dir, *next, cand[4096];
	DWORD n;
	int r, isdir = 0;

	if (file == NULL || *file == '\0') {
		errno = ENOENT;
		return -1;
	}
	if (strpbrk(file, "/\\:") != NULL) {
		r = try_path(file, out, outsz);
		if (r == 1)
			return 0;
		errno = r < 0 ? EACCES : ENOENT;
		return -1;
	}
	/* PATH as the system has it (not the runtime's ANSI copy). */
	n = GetEnvironmentVariableW(L"PATH", NULL, 0);
	if (n == 0) {
		errno = ENOENT;
		return -1;
	}
	if ((wpath = malloc(n * sizeof(*wpath))) == NULL)
		return -1;
	GetEnvironmentVariableW(L"PATH", wpath, n);
	path = rp_win_utf8(wpath);
	free(wpath);
	if (path == NULL)
		return -1;
	for (dir = path; dir != NULL; dir = next) {
		next = strchr(dir, ';');
		if (next != NULL)
			*next++ = '\0';
		if (*dir == '\0')
			continue;
		if (snprintf(cand, sizeof(cand), "%s\\%s", dir, file) >=
		    (int)sizeof(cand))
			continue;
		r = try_path(cand, out, outsz);
		if (r == 1) {
			free(path);
			return 0;
		}
		if (r < 0)
			isdir = 1;
	}
	free(path);
	errno = isdir ? EACCES : ENOENT;
	return -1;
}

/* spawn.h's contract on Windows: where rp_spawn will start file from. */
int
rp_spawn_find(const char *file, char *out, size_t outsz)
{
	return rp_win_find_exe(file, out, outsz);
}

/* ---------------------------------------------------------- starting */

static HANDLE
new_job(void)
{
	JOBOBJECT_EXTENDED_LIMIT_INFORMATION li;
	HANDLE job = CreateJobObjectW(NULL, NULL);

	if (job == NULL)
		return NULL;
	memset(&li, 0, sizeof(li));
	li.BasicLimitInformation.LimitFlags = JOB_OBJECT_LIMIT_KILL_ON_JOB_CLOSE;
	if (!SetInformationJobObject(job, JobObjectExtendedLimitInformation,
	    &li, sizeof(li))) {
		CloseHandle(job);
		return NULL;
	}
	return job;
}

/* Everything one CreateProcessW call needs, made and freed together. */
struct startup {
	STARTUPINFOEXW si;
	HANDLE *dups;           /* inheritable duplicates, for this call */
	size_t ndups;
	uint8_t *crt;           /* the runtime's inheritance block */
	size_t crtlen;
	void *attrs;
};

static void
startup_free(struct startup *s)
{
	size_t i;

	if (s->attrs != NULL)
		DeleteProcThreadAttributeList(s->attrs);
	free(s->attrs);
	for (i = 0; i < s->ndups; i++)
		CloseHandle(s->dups[i]);
	free(s->dups);
	free(s->crt);
	memset(s, 0, sizeof(*s));
}

/* An inheritable duplicate of h, listed for the child. */
static HANDLE
dup_inherit(struct startup *s, HANDLE h)
{
	HANDLE self = GetCurrentProcess(), d;

	if (h == NULL || h == INVALID_HANDLE_VALUE)
		return h;
	if (!DuplicateHandle(self, h, self, &d, 0, TRUE,
	    DUPLICATE_SAME_ACCESS))
		return NULL;
	s->dups[s->ndups++] = d;
	return d;
}

static uint8_t
crt_flags(HANDLE h)
{
	switch (GetFileType(h)) {
	case FILE_TYPE_PIPE:
		return FOPEN | FPIPE;
	case FILE_TYPE_CHAR:
		return FOPEN | FDEV;
	default:
		return FOPEN;
	}
}

static int
startup_make(struct startup *s, const struct rp_win_start *ws,
    const int *crt_fds, size_t ncrt)
{
	SIZE_T size = 0;
	DWORD count = 0;
	size_t i, max;
	HANDLE h;

	memset(s, 0, sizeof(*s));
	s->si.StartupInfo.cb = sizeof(s->si);
	max = 3 + ws->ninherit + ncrt;
	if ((s->dups = calloc(max, sizeof(*s->dups))) == NULL)
		return -1;
	if (ws->hpc == NULL) {
		s->si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
		s->si.StartupInfo.hStdInput = dup_inherit(s, ws->std[0]);
		s->si.StartupInfo.hStdOutput = dup_inherit(s, ws->std[1]);
		s->si.StartupInfo.hStdError = dup_inherit(s, ws->std[2]);
		if ((ws->std[0] != NULL && s->si.StartupInfo.hStdInput == NULL) ||
		    (ws->std[1] != NULL && s->si.StartupInfo.hStdOutput == NULL) ||
		    (ws->std[2] != NULL && s->si.StartupInfo.hStdError == NULL))
			goto fail;
	} else {
		/* On a pseudo console: none of ours, its own come with it
		 * (as running-process's rmux-pty does it). */
		s->si.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
		s->si.StartupInfo.hStdInput = INVALID_HANDLE_VALUE;
		s->si.StartupInfo.hStdOutput = INVALID_HANDLE_VALUE;
		s->si.StartupInfo.hStdError = INVALID_HANDLE_VALUE;
	}
	for (i = 0; i < ws->ninherit; i++)
		if (dup_inherit(s, ws->inherit[i]) == NULL)
			goto fail;
	if (ncrt > 0) {
		/* int count; count flag bytes; count handles (intptr_t). */
		s->crtlen = sizeof(int) + ncrt + ncrt * sizeof(intptr_t);
		if (s->crtlen > 65535 ||
		    (s->crt = calloc(1, s->crtlen)) == NULL)
			goto fail;
		memcpy(s->crt, &(int){ (int)ncrt }, sizeof(int));
		for (i = 0; i < ncrt; i++) {
			intptr_t v = (intptr_t)INVALID_HANDLE_VALUE;

			if (crt_fds[i] >= 0 && (h = rp_wfd_handle(crt_fds[i])) !=
			    INVALID_HANDLE_VALUE) {
				if ((h = dup_inherit(s, h)) == NULL)
					goto fail;
				s->crt[sizeof(int) + i] = crt_flags(h);
				v = (intptr_t)h;
			}
			memcpy(s->crt + sizeof(int) + ncrt + i * sizeof(v), &v,
			    sizeof(v));
		}
		s->si.StartupInfo.cbReserved2 = (WORD)s->crtlen;
		s->si.StartupInfo.lpReserved2 = s->crt;
	}
	count = (s->ndups > 0) + (ws->hpc != NULL);
	if (count == 0)
		return 0;
	InitializeProcThreadAttributeList(NULL, count, 0, &size);
	if ((s->attrs = malloc(size)) == NULL)
		goto fail;
	if (!InitializeProcThreadAttributeList(s->attrs, count, 0, &size)) {
		free(s->attrs);
		s->attrs = NULL;
		goto fail_win;
	}
	s->si.lpAttributeList = s->attrs;
	if (s->ndups > 0 && !UpdateProcThreadAttribute(s->attrs, 0,
	    PROC_THREAD_ATTRIBUTE_HANDLE_LIST, s->dups,
	    s->ndups * sizeof(HANDLE), NULL, NULL))
		goto fail_win;
	if (ws->hpc != NULL && !UpdateProcThreadAttribute(s->attrs, 0,
	    RP_PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE, ws->hpc, sizeof(void *),
	    NULL, NULL))
		goto fail_win;
	return 0;
fail_win:
	rp_win_fail();
	startup_free(s);
	return -1;
fail:
	if (errno == 0)
		errno = ENOMEM;
	rp_win_fail();
	startup_free(s);
	return -1;
}

/* The error of CreateProcessW as spawn.h's two kinds of failure. */
static int
start_errno(DWORD err, int *exec_failed)
{
	switch (err) {
	case ERROR_FILE_NOT_FOUND:
	case ERROR_PATH_NOT_FOUND:
		*exec_failed = 1;
		return ENOENT;
	case ERROR_DIRECTORY:
		*exec_failed = 1;
		return EACCES;
	case ERROR_ACCESS_DENIED:
	case ERROR_BAD_FORMAT:
	case ERROR_BAD_EXE_FORMAT:
	case ERROR_EXE_MACHINE_TYPE_MISMATCH:
	case ERROR_INVALID_EXE_SIGNATURE:
	case ERROR_EXE_MARKED_INVALID:
	case ERROR_ELEVATION_REQUIRED:
		*exec_failed = 1;
		return err == ERROR_ACCESS_DENIED ||
		    err == ERROR_ELEVATION_REQUIRED ? EACCES : ENOEXEC;
	default:
		return rp_win_errno(err);
	}
}

static int
create(const wchar_t *app, wchar_t *cmd, wchar_t *env, const wchar_t *cwd,
    struct startup *s, DWORD extra, int inherit, PROCESS_INFORMATION *pi)
{
	DWORD flags = EXTENDED_STARTUPINFO_PRESENT | CREATE_SUSPENDED |
	    CREATE_UNICODE_ENVIRONMENT | extra;

	memset(pi, 0, sizeof(*pi));
	return CreateProcessW(app, cmd, NULL, NULL, inherit, flags, env, cwd,
	    &s->si.StartupInfo, pi) ? 0 : -1;
}

static pid_t
start(const struct rp_win_start *ws, const int *crt_fds, size_t ncrt,
    DWORD extra, int *exec_failed, char *why, size_t whysz)
{
	char exe[4096];
	wchar_t *app = NULL, *cmd = NULL, *env = NULL, *cwd = NULL;
	struct startup s;
	PROCESS_INFORMATION pi;
	struct child *c = NULL;
	HANDLE job = NULL;
	DWORD err = 0;
	int inherit, failed = 0;

	*exec_failed = 0;
	rp_err_why(why, whysz, "%s", "");
	if (rp_win_find_exe(ws->file != NULL ? ws->file : ws->argv[0], exe,
	    sizeof(exe)) != 0) {
		*exec_failed = 1;
		return -1;
	}
	if ((app = rp_win_wide(exe)) == NULL ||
	    (cmd = rp_win_cmdline(ws->argv)) == NULL ||
	    (ws->envp != NULL && (env = env_block(ws->envp)) == NULL) ||
	    (ws->cwd != NULL && (cwd = rp_win_wide(ws->cwd)) == NULL) ||
	    (c = calloc(1, sizeof(*c))) == NULL) {
		err = (DWORD)-1;
		goto out;
	}
	if ((job = new_job()) == NULL) {
		err = GetLastError();
		rp_err_why(why, whysz, "cannot make a Job Object");
		goto out;
	}
	if (startup_make(&s, ws, crt_fds, ncrt) != 0) {
		err = (DWORD)-1;
		goto out;
	}
	inherit = s.ndups > 0;
	if (create(app, cmd, env, cwd, &s, extra, inherit, &pi) != 0) {
		err = GetLastError();
		startup_free(&s);
		if (err == ERROR_ACCESS_DENIED && (extra &
		    CREATE_BREAKAWAY_FROM_JOB)) {
			rp_err_why(why, whysz, "breakaway process creation "
			    "denied; refusing to run the child without a Job "
			    "Object");
			failed = 1;
		}
		goto out;
	}
	startup_free(&s);
	if (!AssignProcessToJobObject(job, pi.hProcess)) {
		err = GetLastError();
		TerminateProcess(pi.hProcess, 1);
		WaitForSingleObject(pi.hProcess, INFINITE);
		CloseHandle(pi.hThread);
		CloseHandle(pi.hProcess);
		if (err == ERROR_ACCESS_DENIED && !(extra &
		    CREATE_BREAKAWAY_FROM_JOB)) {
			/* The job we run in does not take nested ones (before
			 * Windows 8) or forbids it: once more, out of it. */
			CloseHandle(job);
			job = NULL;
			free(app);
			free(cmd);
			free(env);
			free(cwd);
			free(c);
			return start(ws, crt_fds, ncrt, extra |
			    CREATE_BREAKAWAY_FROM_JOB, exec_failed, why, whysz);
		}
		rp_err_why(why, whysz, "%s; refusing to run the child without "
		    "a Job Object", err == ERROR_ACCESS_DENIED ?
		    "breakaway job assignment denied" : "job assignment failed");
		failed = 1;
		goto out;
	}
	if (ResumeThread(pi.hThread) == (DWORD)-1) {
		err = GetLastError();
		TerminateJobObject(job, 1);
		WaitForSingleObject(pi.hProcess, INFINITE);
		CloseHandle(pi.hThread);
		CloseHandle(pi.hProcess);
		goto out;
	}
	CloseHandle(pi.hThread);
	c->pid = (pid_t)pi.dwProcessId;
	c->proc = pi.hProcess;
	c->job = job;
	job = NULL;
	if (!RegisterWaitForSingleObject(&c->wait, c->proc, on_child_end, NULL,
	    INFINITE, WT_EXECUTEONLYONCE | WT_EXECUTEINWAITTHREAD))
		c->wait = NULL;         /* no SIGCHLD: waiting still works */
	AcquireSRWLockExclusive(&kids_lock);
	c->next = children;
	children = c;
	ReleaseSRWLockExclusive(&kids_lock);
	free(app);
	free(cmd);
	free(env);
	free(cwd);
	SetLastError(0);
	return c->pid;
out:
	if (job != NULL)
		CloseHandle(job);
	free(app);
	free(cmd);
	free(env);
	free(cwd);
	free(c);
	if (err != (DWORD)-1 && err != 0)
		errno = start_errno(err, exec_failed);
	if (failed) {
		*exec_failed = 0;
		errno = EPERM;
	}
	if (errno == 0)
		errno = EIO;
	SetLastError(err == (DWORD)-1 ? 0 : err);
	return -1;
}

pid_t
rp_win_start(const struct rp_win_start *ws, int *exec_failed, char *why,
    size_t whysz)
{
	int ef = 0;
	pid_t pid;

	if (ws == NULL || ws->argv == NULL || ws->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	pid = start(ws, NULL, 0, 0, &ef, why, whysz);
	if (exec_failed != NULL)
		*exec_failed = ef;
	return pid;
}

/* The handle that goes to the child for parent_fd (-1: NUL). */
static HANDLE
std_handle(int parent_fd, HANDLE *nul)
{
	if (parent_fd >= 0)
		return rp_wfd_handle(parent_fd);
	if (*nul == NULL) {
		*nul = CreateFileW(L"NUL", GENERIC_READ | GENERIC_WRITE,
		    FILE_SHARE_READ | FILE_SHARE_WRITE, NULL, OPEN_EXISTING, 0,
		    NULL);
		if (*nul == INVALID_HANDLE_VALUE)
			*nul = NULL;
	}
	return *nul;
}

pid_t
rp_spawn(const struct rp_spawn *sp, int *exec_failed)
{
	struct rp_win_start ws;
	HANDLE nul = NULL;
	int *crt = NULL, ef = 0, saved;
	size_t i, j, ncrt = 0;
	char why[160];
	pid_t pid;

	if (exec_failed != NULL)
		*exec_failed = 0;
	if (sp == NULL || sp->argv == NULL || sp->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	memset(&ws, 0, sizeof(ws));
	for (i = 0; i < sp->nfds; i++) {
		if (sp->fds[i].child_fd < 0 || sp->fds[i].parent_fd < -1 ||
		    sp->fds[i].child_fd > 2047)
			goto inval;
		for (j = 0; j < i; j++)
			if (sp->fds[j].child_fd == sp->fds[i].child_fd)
				goto inval;
		if ((size_t)sp->fds[i].child_fd + 1 > ncrt)
			ncrt = (size_t)sp->fds[i].child_fd + 1;
	}
	/* Descriptors above 2: the whole table up to the highest goes in
	 * the runtime's block (0-2 there too, as the std handles; an entry
	 * left empty makes the child's runtime take its std handle). */
	if (ncrt > 3 && (crt = calloc(ncrt, sizeof(*crt))) == NULL)
		return -1;
	for (i = 0; crt != NULL && i < ncrt; i++)
		crt[i] = -1;
	for (i = 0; i < 3; i++) {
		ws.std[i] = (sp->flags & RP_SPAWN_KEEP_STD) ?
		    rp_wfd_handle((int)i) : std_handle(-1, &nul);
		if (ws.std[i] == INVALID_HANDLE_VALUE)
			ws.std[i] = std_handle(-1, &nul);
		if (crt != NULL && (sp->flags & RP_SPAWN_KEEP_STD))
			crt[i] = (int)i;
	}
	for (i = 0; i < sp->nfds; i++) {
		int cfd = sp->fds[i].child_fd, pfd = sp->fds[i].parent_fd;

		if (cfd <= 2)
			ws.std[cfd] = std_handle(pfd, &nul);
		if (crt != NULL)
			crt[cfd] = pfd;
	}
	ws.file = sp->file;
	ws.argv = sp->argv;
	ws.envp = sp->envp;
	ws.cwd = sp->cwd;
	pid = start(&ws, crt, crt != NULL ? ncrt : 0,
	    (sp->flags & (RP_SPAWN_SETSID | RP_SPAWN_SETPGID)) ?
	    CREATE_NEW_PROCESS_GROUP : 0, &ef, why, sizeof(why));
	saved = errno;
	if (nul != NULL)
		CloseHandle(nul);
	free(crt);
	if (exec_failed != NULL)
		*exec_failed = ef;
	errno = saved;
	return pid;
inval:
	errno = EINVAL;
	return -1;
}

/* ----------------------------------------------------------- waiting */

void
rp_win_exit_status(DWORD code, int killed_by, struct rp_spawn_status *st)
{
	memset(st, 0, sizeof(*st));
	if (killed_by != 0 && code == 128u + (DWORD)killed_by) {
		st->signo = killed_by;
		return;
	}
	switch (code) {
	case ST_ACCESS_VIOLATION:
	case ST_IN_PAGE_ERROR:
	case ST_MISALIGNMENT:
	case ST_STACK_OVERFLOW:
		st->signo = SIGSEGV;
		return;
	case ST_ILLEGAL_INSTRUCTION:
	case ST_PRIV_INSTRUCTION:
		st->signo = SIGILL;
		return;
	case ST_INT_DIVIDE_BY_ZERO:
	case ST_INT_OVERFLOW:
		st->signo = SIGFPE;
		return;
	case ST_CONTROL_C_EXIT:
		st->signo = SIGINT;
		return;
	case ST_STACK_BUFFER_OVERRUN:
		/* __fastfail: what abort() is on POSIX. */
		st->signo = POSIX_SIGABRT;
		return;
	default:
		break;
	}
	if (code >= ST_FLT_FIRST && code <= ST_FLT_LAST) {
		st->signo = SIGFPE;
		return;
	}
	st->code = (int)(code & 0xff);
}

/* Forget c: its wait, handles and job (which kills what it left). */
static void
reap(struct child *c)
{
	struct child **pp;

	AcquireSRWLockExclusive(&kids_lock);
	for (pp = &children; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	ReleaseSRWLockExclusive(&kids_lock);
	if (c->wait != NULL)
		UnregisterWaitEx(c->wait, INVALID_HANDLE_VALUE);
	CloseHandle(c->proc);
	if (c->job != NULL)
		CloseHandle(c->job);
	free(c);
}

/* c has ended (waited for): its status; reaped unless nowait. */
static void
ended(struct child *c, unsigned flags, struct rp_spawn_status *st)
{
	struct rp_spawn_status tmp;
	DWORD code = 0;

	if (!GetExitCodeProcess(c->proc, &code))
		code = RP_EXIT_INTERNAL;
	rp_win_exit_status(code, c->killed_by, st != NULL ? st : &tmp);
	if (!(flags & RP_SPAWN_WAIT_NOWAIT)) {
		rp_win_pty_child_ended(c->pid);
		reap(c);
	}
}

int
rp_spawn_wait(pid_t pid, unsigned flags, struct rp_spawn_status *st)
{
	struct child *c = find_child(pid);
	DWORD w;

	if (c == NULL) {
		errno = ECHILD;
		return -1;
	}
	w = WaitForSingleObject(c->proc,
	    (flags & RP_SPAWN_WAIT_NOHANG) ? 0 : INFINITE);
	if (w == WAIT_TIMEOUT)
		return 0;
	if (w != WAIT_OBJECT_0)
		return rp_win_fail();
	ended(c, flags, st);
	return 1;
}

int
rp_spawn_wait_until(pid_t pid, unsigned flags, int64_t deadline,
    struct rp_spawn_status *st)
{
	struct child *c = find_child(pid);
	int ms;
	DWORD w;

	if (c == NULL) {
		errno = ECHILD;
		return -1;
	}
	ms = rp_deadline_poll_ms(deadline);
	w = WaitForSingleObject(c->proc, ms < 0 ? INFINITE : (DWORD)ms);
	if (w == WAIT_TIMEOUT)
		return 0;
	if (w != WAIT_OBJECT_0)
		return rp_win_fail();
	ended(c, flags, st);
	return 1;
}

int
rp_spawn_status_exit(const struct rp_spawn_status *st)
{
	return st->signo ? 128 + st->signo : st->code;
}

const char *
rp_spawn_signame(int signo, char buf[16])
{
	/* The POSIX names and numbers the statuses above use. */
	static const char *const names[] = {
		NULL, "HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS",
		"FPE", "KILL", "USR1", "SEGV", "USR2", "PIPE", "ALRM", "TERM",
		"STKFLT", "CHLD", "CONT", "STOP", "TSTP", "TTIN", "TTOU",
		"URG", "XCPU", "XFSZ", "VTALRM", "PROF", "WINCH", "IO", "PWR",
		"SYS",
	};

	if (signo > 0 && signo < (int)(sizeof(names) / sizeof(names[0])))
		snprintf(buf, 16, "SIG%s", names[signo]);
	else
		snprintf(buf, 16, "SIG%d", signo);
	return buf;
}

int
rp_spawn_kill(pid_t pid, int sig, int group)
{
	struct child *c;
	int r;

	if (pid <= 0) {
		errno = EINVAL;
		return -1;
	}
	c = find_child(pid);
	if (c == NULL) {
		errno = ESRCH;
		return -1;
	}
	switch (sig) {
	case 0:
	case SIGCONT:
	case SIGWINCH:
	case SIGCHLD:
		/* Nothing to do to a process here; it exists. */
		return 0;
	case SIGINT:
		/* A pseudo console's child: Ctrl-C as \x03 on its input. */
		if ((r = rp_win_pty_interrupt(pid)) != 0)
			return r < 0 ? -1 : 0;
		break;
	case SIGSTOP:
	case SIGTSTP:
		errno = ENOSYS;
		return -1;
	default:
		break;
	}
	if (WaitForSingleObject(c->proc, 0) == WAIT_OBJECT_0)
		return 0;       /* ended, not yet waited for: as a zombie */
	/* No signals: it ends, with the code the shell gives a process
	 * killed by sig, which rp_spawn_wait reads back as sig. */
	c->killed_by = sig;
	if (group && c->job != NULL ?
	    !TerminateJobObject(c->job, 128u + (UINT)sig) :
	    !TerminateProcess(c->proc, 128u + (UINT)sig)) {
		if (WaitForSingleObject(c->proc, 0) == WAIT_OBJECT_0)
			return 0;
		return rp_win_fail();
	}
	return 0;
}

int
rp_spawn_subreaper(void)
{
	/* Each child's Job Object already keeps its descendants from
	 * outliving it unseen. */
	return 0;
}

int
rp_spawn_reap_others(pid_t keep, struct rp_spawn_status *st)
{
	struct child *c, *next, *k = NULL;

	AcquireSRWLockShared(&kids_lock);
	for (c = children; c != NULL; c = c->next)
		if (c->pid == keep)
			k = c;
	ReleaseSRWLockShared(&kids_lock);
	if (k == NULL) {
		errno = ECHILD;
		return -1;
	}
	for (;;) {
		AcquireSRWLockShared(&kids_lock);
		for (c = children; c != NULL; c = next) {
			next = c->next;
			if (c != k && WaitForSingleObject(c->proc, 0) ==
			    WAIT_OBJECT_0)
				break;
		}
		ReleaseSRWLockShared(&kids_lock);
		if (c == NULL)
			break;
		ended(c, 0, NULL);
	}
	if (WaitForSingleObject(k->proc, 0) != WAIT_OBJECT_0)
		return 0;
	ended(k, RP_SPAWN_WAIT_NOWAIT, st);
	return 1;
}

/* Windows has no zombies and no children inherited across an exec: the
 * children to reap are the ones we started (our table). */
pid_t
rp_spawn_reap_any(struct rp_spawn_status *st)
{
	struct child *c;
	pid_t pid;

	AcquireSRWLockShared(&kids_lock);
	for (c = children; c != NULL; c = c->next)
		if (WaitForSingleObject(c->proc, 0) == WAIT_OBJECT_0)
			break;
	ReleaseSRWLockShared(&kids_lock);
	if (c == NULL)
		return 0;
	pid = c->pid;
	ended(c, 0, st);
	return pid;
}

/* The same with the flags of spawn.h: nothing is ever stopped here. */
pid_t
rp_spawn_wait_any(unsigned flags, struct rp_spawn_status *st)
{
	struct child *c;
	pid_t pid;

	if (flags & RP_SPAWN_WAIT_STOPS)
		return 0;
	AcquireSRWLockShared(&kids_lock);
	for (c = children; c != NULL; c = c->next)
		if (WaitForSingleObject(c->proc, 0) == WAIT_OBJECT_0)
			break;
	ReleaseSRWLockShared(&kids_lock);
	if (c == NULL)
		return 0;
	pid = c->pid;
	ended(c, flags, st);
	return pid;
}

int
rp_spawn_kill_children(int sig)
{
	struct child *c;
	pid_t pids[256];
	int n = 0, i, count = 0;

	AcquireSRWLockShared(&kids_lock);
	for (c = children; c != NULL && n < 256; c = c->next)
		pids[n++] = c->pid;
	ReleaseSRWLockShared(&kids_lock);
	for (i = 0; i < n; i++)
		if (rp_spawn_kill(pids[i], sig, 1) == 0)
			count++;
	return count;
}

int
rp_spawn_kill_all(void)
{
	struct child *c;
	int n = 0;

	for (;;) {
		AcquireSRWLockShared(&kids_lock);
		c = children;
		ReleaseSRWLockShared(&kids_lock);
		if (c == NULL)
			break;
		if (WaitForSingleObject(c->proc, 0) != WAIT_OBJECT_0) {
			c->killed_by = SIGKILL;
			if (c->job != NULL)
				TerminateJobObject(c->job, 128u + SIGKILL);
			else
				TerminateProcess(c->proc, 128u + SIGKILL);
			WaitForSingleObject(c->proc, INFINITE);
		}
		ended(c, 0, NULL);
		n++;
	}
	return n;
}

void
rp_spawn_die_of_signal(int sig)
{
	/* No signals to die of: the exit status a parent reads as one. */
	ExitProcess(128u + (UINT)sig);
}

int
rp_spawn_exec(const struct rp_spawn *sp)
{
	struct rp_spawn sp2;
	struct rp_spawn_status st;
	int ef = 0, fd;
	pid_t pid;

	if (sp == NULL || sp->argv == NULL || sp->argv[0] == NULL) {
		errno = EINVAL;
		return -1;
	}
	/*
	 * No exec here: the program runs as our child (fds as exec would
	 * leave them: 0-2 unless mapped), everything else of ours is
	 * closed as exec closes close-on-exec fds, and we end with its
	 * status once it has.  Its Job Object goes with us.
	 */
	sp2 = *sp;
	sp2.flags = RP_SPAWN_KEEP_STD;
	pid = rp_spawn(&sp2, &ef);
	if (pid < 0)
		return -1;
	for (fd = 3; fd < 2048; fd++)
		if (_get_osfhandle(fd) != -1) {
			int x = fd;

			rp_fd_close(&x);
		}
	if (rp_spawn_wait(pid, 0, &st) != 1)
		ExitProcess(RP_EXIT_INTERNAL);
	ExitProcess((UINT)rp_spawn_status_exit(&st));
}
