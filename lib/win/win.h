/*
 * win.h — what the files of lib/win share (internal: never installed).
 *
 * The descriptor model.  Every interface keeps its `int fd`: a C runtime
 * descriptor wrapping a HANDLE (_open_osfhandle, binary mode).  What a
 * handle needs beyond that lives in a side table indexed by the fd, made
 * on first use from what the handle is (wfd.c):
 *
 *   PLAIN   a disk file, a character device (NUL, a console) or anything
 *           else read and written directly; always ready.
 *   PIPE    a pipe opened for overlapped I/O (ours always are).  Readiness
 *           for reading is a zero-byte overlapped read, which completes
 *           when data (or the end) is there without taking any of it; a
 *           non-blocking write is written behind (one overlapped write in
 *           flight, its bytes copied), as a socket buffer would take it.
 *   SYNC    a pipe or console opened for synchronous I/O (what a parent
 *           hands us on 0-2, and what Wine makes of a Unix pipe).  It
 *           cannot be waited for, so once someone waits, a reader thread
 *           reads ahead into a buffer and reads are served from there.
 *   LISTEN  a named-pipe listener: the fd wraps a handle to NUL; the
 *           instance waiting for a client, and its ConnectNamedPipe,
 *           live here.
 *
 * Every overlapped operation has its own manual-reset event, passed with
 * its low bit set so that no completion port hears of it: a handle handed
 * to us may belong to a file object another process associated with its
 * port (a broker's), and its completions must not land there.  The event
 * loop (loop.c) learns of completions through registered waits that post
 * to its own port, never through association.
 */
#ifndef RP_WIN_H
#define RP_WIN_H

#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * What MinGW's headers declare only for newer targets than we build for
 * (the ConPTY calls themselves are looked up in kernel32 at run time:
 * pty.c).
 */
#define RP_PROC_THREAD_ATTRIBUTE_PSEUDOCONSOLE 0x00020016u
#ifndef ERROR_ELEVATION_REQUIRED
#define ERROR_ELEVATION_REQUIRED 740
#endif

/* ------------------------------------------------------------- errors */

/* The errno nearest to a Win32 error (ERROR_FILE_NOT_FOUND -> ENOENT,
 * ERROR_ACCESS_DENIED -> EACCES, ERROR_BROKEN_PIPE -> EPIPE, ...). */
int rp_win_errno(DWORD err);
/* errno from err; returns -1. */
int rp_win_fail_err(DWORD err);
/* errno from GetLastError(); returns -1. */
int rp_win_fail(void);

/* --------------------------------------------------------------- text */

/* UTF-8 to a wide string and back, malloc'd; NULL with errno (EILSEQ for
 * text that is not UTF-8 / UTF-16, ENOMEM). */
wchar_t *rp_win_wide(const char *s);
char *rp_win_utf8(const wchar_t *w);
/* A wide string as UTF-8 into out: its length, or -1 with errno
 * (ENAMETOOLONG when out is too small, EILSEQ). */
int rp_win_utf8_into(const wchar_t *w, char *out, size_t outsz);

/* --------------------------------------------------------------- SIDs */

/* The user SID of our process token (made once; never freed), or NULL
 * with errno. */
PSID rp_win_self_sid(void);
/* The user SID of process pid into buf (at least SECURITY_MAX_SID_SIZE
 * bytes): its length, or -1 with errno (ESRCH, EACCES). */
int rp_win_process_sid(DWORD pid, uint8_t *buf, size_t bufsz);
/* "S-1-5-21-..." into out (at least 192 bytes); 0 or -1. */
int rp_win_sid_string(PSID sid, char *out, size_t outsz);
/* The last sub-authority (the RID), 0 when there is none. */
uint32_t rp_win_sid_rid(PSID sid);

/* --------------------------------------------------------- named pipes */

#define RP_WIN_PIPE_PREFIX "\\\\.\\pipe\\"
#define RP_WIN_PIPE_PREFIX_LEN 9
#define RP_WIN_PIPE_BUF 65536

/* The full pipe name for an endpoint: name itself when it starts with
 * \\.\pipe\ (any case), else \\.\pipe\ + name.  A name part that is empty,
 * holds a backslash or makes the whole longer than 256 characters is
 * EINVAL / ENAMETOOLONG.  Into out (UTF-8): its length or -1. */
int rp_win_pipe_name(const char *name, char *out, size_t outsz);

/* The security descriptor our pipes and private directories get: only
 * our own SID and SYSTEM, nothing inherited (dir: inheritable to what is
 * created inside).  Made once per kind; never freed.  NULL with errno. */
PSECURITY_DESCRIPTOR rp_win_private_sd(int dir);

/* ------------------------------------------------------ the fd table */

enum rp_wfd_kind {
	RP_WFD_PLAIN = 0,
	RP_WFD_PIPE,
	RP_WFD_SYNC,
	RP_WFD_LISTEN,
};

enum rp_wop_state {
	RP_WOP_IDLE = 0,        /* nothing issued */
	RP_WOP_PENDING,         /* issued, not yet looked at since */
	RP_WOP_DONE,            /* finished: n and err hold the result */
};

/* One overlapped operation and what it needs to outlive its caller. */
struct rp_wop {
	OVERLAPPED ov;          /* ov.hEvent is ev with its low bit set */
	HANDLE ev;              /* manual-reset */
	HANDLE h;               /* the handle it was issued on */
	int state;
	DWORD n, err;           /* when DONE */
	HANDLE wait;            /* a loop's registered wait, or NULL */
	HANDLE port;            /* where that wait posts ... */
	ULONG_PTR key;          /* ... and with which key */
	uint8_t *buf;           /* a write behind: its bytes */
	size_t cap;
};

struct rp_wreader;
struct rp_wpty;
struct rp_loop;

/* A listener's state (sock.c makes it, wfd.c arms it). */
#define RP_WLISTEN_SPARES 3
struct rp_wlisten {
	wchar_t *name;          /* \\.\pipe\... */
	HANDLE inst;            /* the instance waiting for a client, or
	                           NULL when one could not be made */
	DWORD inst_err;         /* why not */
	/* More instances waiting, so that clients arriving together find
	 * one each rather than a busy name: their ConnectNamedPipe signals
	 * the listener's read event too. */
	HANDLE spare[RP_WLISTEN_SPARES];
	OVERLAPPED sov[RP_WLISTEN_SPARES];
	uint8_t sready[RP_WLISTEN_SPARES];  /* a client is connected */
};

/* The spares' end: their waits cancelled, their handles closed. */
void rp_wlisten_free(struct rp_wlisten *ls);

/* The pid of the process at the other end of pipe fd (sock.c; the
 * client's for a server end, else the server's), *server_end (may be
 * NULL) 1 when fd is a server end.  0, or -1 with errno. */
int rp_win_pipe_peer_pid(int fd, DWORD *pid, int *server_end);

/* A new instance of our pipe name (sock.c): overlapped, byte mode, remote
 * clients rejected, our security descriptor; the first one of a name
 * with FILE_FLAG_FIRST_PIPE_INSTANCE.  NULL with GetLastError(). */
HANDLE rp_win_pipe_instance(const wchar_t *name, int first);

struct rp_wfd {
	HANDLE h;               /* the fd's handle when the entry was made */
	HANDLE hw;              /* where writes go when not h (a pseudo
	                           console's input pipe), else NULL */
	int kind;
	int nonblock;
	int eof;                /* the readiness read saw the end */
	struct rp_wop rd;       /* zero-byte read, or ConnectNamedPipe */
	struct rp_wop wr;       /* the write behind */
	int wr_err;             /* errno of a finished write behind, for the
	                           next write to report */
	struct rp_wreader *rt;  /* SYNC, once waited for */
	struct rp_wlisten *ls;  /* LISTEN */
	struct rp_wpty *pty;    /* a pseudo console's master */
	/* The loop watching it (loop.c). */
	struct rp_loop *loop;
	uint32_t lgen;          /* bumped on every add and del */
	uint32_t cgen;          /* the core's generation of the watcher */
	unsigned lev;           /* RP_LOOP_READ | RP_LOOP_WRITE */
	unsigned rep;           /* events gathered for this round */
	int armq;               /* on the loop's list to (re)arm */
	int repq;               /* on the loop's list of reports */
	HANDLE rwait, wwait;    /* registered waits on the read / write
	                           events, posting rctx / wctx */
	struct rp_wpost {
		HANDLE port;
		ULONG_PTR key;
	} rctx, wctx;
};

/* Unregister w's waits, if any, waiting for a callback in progress
 * (never call it from one). */
void rp_wfd_unwait(struct rp_wfd *w);

/*
 * The entry of fd, made from its handle when there is none yet (or when
 * the fd now wraps another handle than the entry was made for).  NULL
 * with EBADF for a closed fd.  Entries are used by the thread that owns
 * the fd; the table itself is locked.
 */
struct rp_wfd *rp_wfd_get(int fd);
/* The entry of fd if there is one, without making it. */
struct rp_wfd *rp_wfd_peek(int fd);

/* A new fd for h (ours from now on) with an entry of the given kind
 * (RP_WFD_PIPE / RP_WFD_LISTEN, or -1 to find out); -1 with errno, and
 * then h is closed. */
int rp_wfd_open(HANDLE h, int kind, int nonblock);

/* Tear down fd's entry before its handle goes (called by rp_fd_close):
 * the readiness operation is cancelled and waited for, a write behind
 * still in flight is left to finish on a handle of its own. */
void rp_wfd_release(int fd);

/* The handle of fd (for reading), or INVALID_HANDLE_VALUE with EBADF. */
HANDLE rp_wfd_handle(int fd);

/* Issue or look at fd's readiness operation (a zero-byte read, a
 * ConnectNamedPipe, the reader thread's buffer): RP_IO_* flags when
 * ready now, 0 when pending (wait on w->rd.ev or the reader's event,
 * rp_wfd_read_event), -1 with errno. */
int rp_wfd_arm_read(struct rp_wfd *w);
/* RP_IO_WRITE when a write would be taken now, 0 while a write behind is
 * in flight (its event: w->wr.ev). */
int rp_wfd_arm_write(struct rp_wfd *w);
/* The event that a pending rp_wfd_arm_read waits on. */
HANDLE rp_wfd_read_event(struct rp_wfd *w);

/* Take up to len bytes a SYNC fd's reader has read ahead (waiting for
 * some when wait is set): the count, 0 at the end, -1 with errno (EAGAIN
 * when nothing is there and wait is not set). */
ssize_t rp_wfd_reader_take(struct rp_wfd *w, void *buf, size_t len,
    int wait);

/* Cancel w's readiness operation and wait until it has ended. */
void rp_wfd_cancel_read(struct rp_wfd *w);

/* An overlapped operation's event and OVERLAPPED, set up on first use;
 * 0 or -1 with errno. */
int rp_wop_init(struct rp_wop *op);
/* Look at a pending op without waiting (wait: until it ends): 1 when it
 * has ended (state DONE, n and err set), 0 when still pending. */
int rp_wop_reap(struct rp_wop *op, int wait);
/* Free what the op holds (it must not be pending). */
void rp_wop_free(struct rp_wop *op);

/* Wait for an overlapped operation on h begun with ov until the absolute
 * deadline; cancel it then.  TRUE with *n, or FALSE with GetLastError()
 * (WAIT_TIMEOUT... as ERROR_TIMEOUT after the cancel). */
BOOL rp_win_ov_wait(HANDLE h, OVERLAPPED *ov, HANDLE ev, DWORD *n,
    int64_t deadline);

/* A manual-reset event for one blocking operation, with the low bit set
 * for OVERLAPPED.hEvent in *tagged.  NULL with errno. */
HANDLE rp_win_event(HANDLE *tagged);

/* -------------------------------------------------- processes, spawn */

/*
 * The loop's hook for SIGCHLD: spawn.c calls it (from a wait thread) when
 * a child it started ends.  loop.c sets it while a loop watches SIGCHLD.
 */
void rp_win_sigchld_post(void);
/* Deliver signo to the loop watching it (from any thread): 1 when one
 * does, else 0. */
int rp_win_signal_post(int signo);

/* The Job Object spawn.c put pid in (NULL when none), for pty.c. */
HANDLE rp_win_spawn_job(pid_t pid);

/*
 * Start a process: the command line quoted for CommandLineToArgvW, the
 * environment block built from envp (UTF-8 "K=V", or ours when NULL), the
 * handles in inherit[0..ninherit) (and only those) inherited through
 * PROC_THREAD_ATTRIBUTE_HANDLE_LIST, std handles as given (NULL: none),
 * pseudo console hpc when not NULL, suspended, in a new kill-on-close Job
 * Object (breakaway retried as 50-pty.md says), then resumed.  Returns the
 * pid and registers the child for waiting (and SIGCHLD); -1 with errno
 * and *exec_failed as rp_spawn.
 */
struct rp_win_start {
	const char *file;               /* searched on PATH when bare */
	char *const *argv;
	char *const *envp;
	const char *cwd;
	HANDLE std[3];
	HANDLE *inherit;
	size_t ninherit;
	void *hpc;                      /* HPCON */
};
pid_t rp_win_start(const struct rp_win_start *ws, int *exec_failed,
    char *why, size_t whysz);

/* The command line for argv by the rules CommandLineToArgvW reads back
 * (malloc'd, wide), or NULL with errno. */
wchar_t *rp_win_cmdline(char *const *argv);

/* The executable for file: as it is when it holds a slash, backslash or
 * colon (with .exe added when it has no extension and the name as given
 * does not exist), else searched on PATH (then cwd, as CreateProcess
 * would, is not searched: only PATH, like execvp).  Into out (UTF-8):
 * 0, or -1 with ENOENT / EACCES (a directory) / ENAMETOOLONG. */
int rp_win_find_exe(const char *file, char *out, size_t outsz);

/* The exit status of a Windows exit code: NTSTATUS crash codes as the
 * signal the POSIX side would report (access violation: SIGSEGV, ...),
 * 128 + N codes we kill with as SIGN, anything else its low 8 bits. */
struct rp_spawn_status;
void rp_win_exit_status(DWORD code, int killed_by, struct rp_spawn_status *st);

/* pty.c's part of reading a pseudo console's master (fd's entry w):
 * the first cursor-position query in data[0..n) is answered on its input
 * (50-pty.md).  Called by io.c after every read of such a master. */
void rp_win_pty_scan(struct rp_wfd *w, const uint8_t *data, size_t n);
/* The cursor-position query (ESC [ 6 n) in data[0..n), which may come
 * split over calls: *state holds how much of it was seen (0 to start).
 * 1 when it is complete. */
int rp_win_dsr_match(int *state, const uint8_t *data, size_t n);
/* Free w->pty (rp_wfd_release). */
void rp_win_pty_release(struct rp_wfd *w);

/* A pseudo console child's input, for rp_spawn_kill(SIGINT): 1 when pid
 * is one of pty.c's children and \x03 was written, 0 when it is not
 * one, -1 on failure. */
int rp_win_pty_interrupt(pid_t pid);
/* pid, a pseudo console's child, has ended: close its pseudo console so
 * that its output ends (pty.c; from the loop's thread). */
void rp_win_pty_child_ended(pid_t pid);

#endif
