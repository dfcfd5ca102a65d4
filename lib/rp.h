/*
 * rp.h — the public face of librp, the core of the rp toolkit.
 *
 * librp speaks the running-process broker v1 wire protocol: framing, the
 * protobuf messages, names and versions, one-time handoff tokens, fd
 * passing, backend identity and the probe, and a small event loop.
 *
 * Conventions for every function in the library:
 *   - it never prints and never exits;
 *   - it returns -1 (or NULL) with errno set, or a typed status documented
 *     next to it;
 *   - every fd it creates is close-on-exec from the moment it exists;
 *   - its header says who owns each fd and each allocation afterwards.
 */
#ifndef RP_RP_H
#define RP_RP_H

#ifndef RP_VERSION
#define RP_VERSION "0.1.0"
#endif

#include "err.h"
#include "deadline.h"
#include "buf.h"
#include "io.h"
#include "frame.h"
#include "wire.h"
#include "framescan.h"
#include "names.h"
#include "blake3.h"
#include "token.h"
#include "replay.h"
#include "fdpass.h"
#include "fs.h"
#include "host.h"
#include "sock.h"
#include "identity.h"
#include "loop.h"
#include "spawn.h"
#include "pty.h"
#include "json.h"
#include "daemon.h"
#include "servicedef.h"
#include "parse.h"
#include "handoff.h"
#include "relay.h"
#include "openmetrics.h"

/*
 * Common start-up for a program: SIGPIPE ignored (writes report EPIPE),
 * fds 0, 1 and 2 open (on /dev/null when they were closed, so a later
 * open() cannot land there by accident), libsodium initialised.
 * Returns 0, or -1 with errno set.
 */
int rp_init(void);

/* 1 when fd (0, 1 or 2) was closed when rp_init ran, and so is /dev/null
 * now: what is written there is lost, which a program whose output
 * matters must say rather than discard in silence.  Else 0. */
int rp_init_closed(int fd);

/* How many times this process's line has forked since rp_init (a child
 * of fork() counts one more than its parent had), so that state drawn
 * from a random source is never shared by two processes (the token
 * pool, token.h).  Always 0 where there is no fork (Windows). */
unsigned long rp_fork_generation(void);

#endif
