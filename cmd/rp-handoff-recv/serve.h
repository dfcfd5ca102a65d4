/*
 * serve.h — the parts of rp-handoff-recv --serve: serve.c (listeners,
 * children, stopping, set-up), serve_conn.c (one client connection: is it
 * a probe, the echo, queueing) and serve_handoff.c (transfers from the
 * broker).
 *
 * Counting, so that nothing is ever dropped:
 *   busy  = running PROG children + echo connections, at most --max-conns;
 *   held  = connections accepted but not (yet) served: being classified,
 *           being answered as a probe, or queued for a free slot; at most
 *           --max-conns or RECV_HOLD_MIN, whichever is more.
 * When held is full the listeners and the handoff connections are no
 * longer polled, so further clients wait in the kernel's backlog (or the
 * broker's socket buffer) until a slot frees.  Probes keep being answered
 * while clients are queued, so a saturated backend still proves it is
 * alive.
 */
#ifndef RP_HANDOFF_RECV_SERVE_H
#define RP_HANDOFF_RECV_SERVE_H

#include <stdint.h>
#include <sys/types.h>

#include "rp.h"
#include "recv.h"


#define ECHO_BUF 8192
#define ACCEPT_BATCH 32
#define ECHO_ROUNDS 16
#define MAX_CTLS 16               /* handoff connections from the broker */
#define CTL_OUT_HIGH (64u * 1024u) /* unread Acks before we stop reading */
#define EMFILE_PAUSE_MS 100
#define SIDEBAND_BUF 512          /* the token and, from rp-broker, the
                                     offer in the same message */
#define SCAN_ROUNDS 64            /* reads of an over-cap offer per turn */
#define PROBE_EVERY 8             /* see ctl_more */

enum route { ROUTE_RECONNECT = 0, ROUTE_HANDOFF = 1 };

enum cstate {
	C_FREE = 0,
	C_CLASSIFY,   /* held: is it a probe? */
	C_PROBE,      /* held: reading the probe request */
	C_QUEUED,     /* held: a client waiting for a slot */
	C_ECHO,       /* busy: echoed by the loop */
};

struct serve;

struct conn {
	struct serve *sv;
	struct conn *next;          /* free list or wait queue */
	struct conn *prev_all, *next_all;
	int fd;
	enum cstate state;
	uint8_t route;
	uint8_t classified;         /* echo: first bytes looked at */
	uint8_t rd_eof;
	uint8_t have_peer;
	uint8_t fill;               /* read once before writing what buf
	                               holds (the handoff event), so both
	                               go out in one write */
	uint8_t nowait;             /* an adopted fd, flags not asked for:
	                               I/O with MSG_DONTWAIT (c_read) */
	uint8_t drained;            /* the last read left the socket empty */
	unsigned events;            /* what the loop watches (0: nothing) */
	int watched;
	uint64_t timer;
	int64_t window_end;         /* classification gives up here */
	int64_t backoff_ms;
	struct rp_peercred peer;
	struct rp_frame_decoder dec;
	uint32_t off, len;          /* buf[off..len): bytes to write */
	uint8_t buf[ECHO_BUF];
};

/* CTL_TOO_LARGE: an offer frame over the cap, read to its end and
 * dropped before its Ack (rp_handoff_ack_too_large). */
enum ctlstate { CTL_SIDEBAND, CTL_OFFER, CTL_TOO_LARGE };

/* A handoff connection from the broker (transfers back to back). */
struct ctl {
	struct serve *sv;
	struct ctl *prev, *next;
	int fd;
	enum ctlstate state;
	unsigned events;
	uint64_t timer;
	uint8_t busy;                     /* the last look found a transfer */
	unsigned rounds;                  /* transfers taken, for PROBE_EVERY */
	int rfd;                          /* the fd that came with the token */
	enum rp_fdpass_status fst;        /* how the sideband came, judged */
	int nfds;                         /* with the offer, later */
	size_t got;
	uint8_t side[SIDEBAND_BUF];
	struct rp_frame_decoder dec;
	struct rp_framescan scan;         /* CTL_TOO_LARGE */
	struct rp_buf out;                /* Acks not yet written */
};

struct serve {
	struct recv_opts *o;
	struct rp_loop *loop;
	struct rp_sock_listener ep, ho;
	int have_ho;
	int polling;                /* listeners are being watched */
	int stopping;
	uint64_t pause_timer;
	struct rp_buf daemon;       /* our DaemonProcess, encoded once */
	struct rp_replay *replay;   /* the tokens accepted (replay.h) */

	char **envp;                /* environ + RP_ROUTE, RP_PEER_PID/UID */
	size_t env_slot;
	char env_route[32], env_pid[32], env_uid[32];

	pid_t *kids;
	size_t nkids;
	unsigned busy, held;
	unsigned hold_max;

	struct conn *free_conns;
	struct conn *all;
	struct conn *q_head, *q_tail;
	struct ctl *ctls;
	unsigned nctls;
	int rc;
};

/* serve.c */
/* Serve queued clients while there are slots; poll the listeners and the
 * handoff connections only while there is room to hold more. */
void serve_kick(struct serve *sv);
/* Run PROG on fd (always closed here).  0 when a child runs. */
int serve_spawn(struct serve *sv, int fd, int route,
    const struct rp_peercred *peer, int have_peer);
/* accept failed with errno: 1 to keep going, 0 to stop this round. */
int serve_accept_failed(struct serve *sv);

/* serve_conn.c */
/* A connection in state s.  Watched (quietly) from now on, or, lazy,
 * only once it asks for events: an adopted fd, for which nothing is
 * asked of the system before it is used. */
struct conn *conn_new(struct serve *sv, int fd, enum cstate s, int lazy);
/* Release c (the fd too, unless handed on: c->fd == -1). */
void conn_release(struct conn *c);
/* Release c and let others have its place. */
void conn_close(struct conn *c);
/* c is a client: serve it now, or queue it for a free slot. */
void conn_serve(struct conn *c);
/* A new connection on the endpoint, from an allowed peer. */
void conn_start(struct serve *sv, int fd, const struct rp_peercred *peer);
/* Echo on c (C_ECHO, classified) from now on. */
void echo_start(struct conn *c);

/* serve_handoff.c */
void handoff_on_accept(struct rp_loop *loop, int lfd, unsigned events,
    void *arg);
void ctl_watch(struct ctl *k);
void ctl_run(struct ctl *k);
void ctl_close(struct ctl *k);

#endif
