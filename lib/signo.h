/*
 * signo.h — the signal numbers librp's interfaces speak of (loop.h,
 * spawn.h), with the POSIX numbering where the system's <signal.h> has no
 * such signal.  Windows' has only SIGINT, SIGTERM, SIGABRT, SIGFPE,
 * SIGILL, SIGSEGV and SIGBREAK; there lib/win gives the others their
 * meaning: SIGCHLD is the end of a child started by rp_spawn, SIGHUP the
 * console's close event, SIGKILL and SIGTERM end a process (or its Job
 * Object) with exit code 128 + N, and a signal that has no counterpart
 * can be watched but never arrives (SIGQUIT, SIGWINCH).
 */
#ifndef RP_SIGNO_H
#define RP_SIGNO_H

#include <signal.h>

#ifndef SIGHUP
#define SIGHUP 1
#endif
#ifndef SIGQUIT
#define SIGQUIT 3
#endif
#ifndef SIGKILL
#define SIGKILL 9
#endif
#ifndef SIGUSR1
#define SIGUSR1 10
#endif
#ifndef SIGUSR2
#define SIGUSR2 12
#endif
#ifndef SIGPIPE
#define SIGPIPE 13
#endif
#ifndef SIGALRM
#define SIGALRM 14
#endif
#ifndef SIGCHLD
#define SIGCHLD 17
#endif
#ifndef SIGCONT
#define SIGCONT 18
#endif
#ifndef SIGSTOP
#define SIGSTOP 19
#endif
#ifndef SIGTSTP
#define SIGTSTP 20
#endif
#ifndef SIGXFSZ
#define SIGXFSZ 25
#endif
#ifndef SIGWINCH
#define SIGWINCH 28
#endif

#endif
