/*
 * conn.h — a client connection and its one exchange: its frame read under
 * the deadline, handed to hello.c or admin.c, the reply written, then
 * closed (or handed to its backend).  conn.c owns a connection's state:
 * every change of it goes through the functions here.
 *
 *	READING -> WRITING -> closed
 *	READING -> WAITING (for a backend) -> WRITING -> closed
 *	READING -> WAITING (for admin work off the loop) -> WRITING -> closed
 *	WRITING -> (handed to the backend) closed, or HANDOFF -> WRITING
 *	           (the broker writes the handoff event once acked)
 *	READING (over 64 KiB) -> WRITING -> DRAINING -> closed
 */
#ifndef RP_BROKER_CONN_H
#define RP_BROKER_CONN_H

#include <stddef.h>
#include <stdint.h>

#include "connq.h"
#include "rp.h"

struct admin_work;
struct bkey;
struct broker;

enum conn_state {
	CONN_READING = 0,  /* waiting for the first frame */
	CONN_WAITING,      /* Hello parsed; waiting for a backend */
	CONN_WRITING,      /* the reply is being written */
	CONN_HANDOFF,      /* transferred; kept until the backend's Ack, when
	                      the broker writes the handoff event */
	CONN_DRAINING,     /* replied to a frame over 64 KiB; our side shut
	                      down, what the peer still sends read and dropped
	                      until it closes, so it reads the reply rather
	                      than a reset */
};

/* What becomes of a connection once its reply is written. */
enum conn_then {
	CONN_THEN_CLOSE = 0,       /* closed (or drained: over 64 KiB) */
	CONN_THEN_TRANSFER,        /* handed to its backend (handoff.c) */
	CONN_THEN_HANDED_OFF,      /* the reply was the handoff event: closed,
	                              counted as handed off */
};

/* Why a connection was closed (the connections_closed metric). */
enum conn_close {
	CONN_CLOSE_REPLIED = 0,
	CONN_CLOSE_NO_MEMORY,          /* no memory to decode or answer */
	CONN_CLOSE_TIMEOUT,
	CONN_CLOSE_WRITE_FAILED,
	CONN_CLOSE_BAD_ADMIN,
	CONN_CLOSE_DRAIN,
	CONN_CLOSE_REFUSED_AT_ACCEPT,
	CONN_CLOSE_PEER_REJECTED,
	CONN_CLOSE_HANDED_OFF,
	CONN_CLOSE_HANDOFF_FAILED,
	CONN_CLOSE_OUT_BUDGET,         /* its unread reply over the budget */
	CONN_CLOSE_EVICTED,            /* silent, evicted to make room */
	CONN_CLOSES,
};

/*
 * One client connection.  Until its frame is complete this struct (and the
 * loop's watch entry) is all it costs; the body, the decoded request and
 * an output buffer exist only while they are needed.
 */
/* conn.labels_ok once the service's rules let its version through. */
#define LABELS_VERSION 2

struct conn {
	struct broker *b;
	struct connq_link link;        /* on a deadline queue (or none) */
	struct conn *wnext;            /* waiters of a backend key; the
	                                  free list's link once freed */
	struct rp_frame_decoder dec;
	int fd;
	uint8_t state;                 /* enum conn_state */
	uint8_t in_loop;
	uint8_t pressure;              /* accepted only to be refused (row 18):
	                                  1 after a grace for its frame, 2 at
	                                  once unless the frame is there */
	uint8_t labels_ok;             /* service/version valid for metrics;
	                                  LABELS_VERSION: the version too */
	uint8_t then;                  /* enum conn_then */
	uint8_t linger;                /* drain once the reply is written */
	uint8_t in_mq;                 /* in b->mq (admin.h), linked through
	                                  wnext */
	uint8_t evicted;               /* silent, told code 9 to make room:
	                                  no Hello, closed as "evicted" */
	uint32_t pid;                  /* kernel peer pid (0: unknown) */
	uint32_t uid;                  /* kernel peer uid */

	/* A first frame over 64 KiB, read as it streams past (hello.c
	 * answers it once it is all read); then what draining may still
	 * read. */
	struct rp_framescan *scan;
	uint32_t drain_left;

	/* While waiting or writing. */
	Rp__Frame *frame;
	Rp__Hello *hello;
	struct bkey *key;
	int64_t t0_ns;                 /* frame complete */
	uint8_t *out;
	uint32_t out_len, out_off;

	/* Work done off the loop for its reply (admin.c's DUMP file):
	 * told when the connection closes first. */
	struct admin_work *work;

	/* A handoff in preparation: its backend, token, correlation id. */
	struct bkey *hk;
	uint64_t corr;
	uint8_t tok[RP_TOKEN_LEN];
};

/* A deadline queue (connq.h) and the loop timer for its head.  Every
 * connection is on one while it reads or writes (not while it waits for
 * a backend, nor while it is held for an Ack). */
struct conn_queue {
	struct connq q;
	struct broker *b;
	uint64_t timer;
};

/* The queues' timeouts: --hello-timeout, and the grace of a connection
 * over --max-clients. */
void conn_queues_init(struct broker *b);

/* The table is full (for_fds 0), or the fds are (1): evict the oldest
 * connection still waiting for its frame (answered code 9, with the
 * reason: the connection limit, or fds).  1 when one was, else 0. */
int conn_evict_oldest(struct broker *b, int for_fds);

/* Under fd pressure, room for a request that came whole: the oldest
 * silent connections are evicted (at most 64) until less than 90 % of
 * RLIMIT_NOFILE is in use.  1 when it is, 0 when there was nobody left
 * to evict. */
int conn_make_room(struct broker *b);

/* A connection accepted on fd from pid, uid: read at once (a Hello sent right
 * after connect is answered without touching the loop).  pressure: taken
 * only to be refused with code 9 (1: after a grace for its frame, 2: at
 * once).  0, or -1 (no memory: fd is the caller's to close). */
int conn_accept(struct broker *b, int fd, uint32_t pid, uint32_t uid,
    int pressure);

/*
 * Send the reply in out (one write in the common case), then as then
 * says.  When the socket takes only part of it, the rest is kept and
 * written as the peer reads, under the connection's deadline (a fresh one
 * when it had left its queue to wait for a backend).  Returns 0 when the
 * connection is closed (or handed on), 1 when it is still writing.
 */
int conn_reply(struct broker *b, struct conn *c, const struct rp_buf *out,
    enum conn_then then);

/* c waits for k's backend (enqueued; answered by bkey_answer_all). */
void conn_wait(struct broker *b, struct conn *c, struct bkey *k);

/* c waits, off every queue and unwatched, for work done off the loop
 * (c->work); its reply comes with conn_reply once that is done. */
void conn_park(struct broker *b, struct conn *c);

/* c has been sent to its backend, which acks before the broker writes
 * the handoff event: kept, silent, until then. */
void conn_hold(struct broker *b, struct conn *c);

/* Close c and forget it: counted by why, a handoff it prepared dropped,
 * its place in a backend's queue given up. */
void conn_close(struct broker *b, struct conn *c, enum conn_close why);

/* Close every connection on a deadline queue (the end of a drain). */
void conn_close_all(struct broker *b);

/* Free the connections kept for reuse. */
void conn_free_all(struct broker *b);

#endif
