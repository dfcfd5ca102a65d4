/*
 * handoff.h — the broker's part of 40-handoff.md: a client that asks for
 * it (capability bit 0) gets a token in its Negotiated reply, and then its
 * very connection goes to the backend over the broker's handoff
 * connection to it, so it never dials backend_pipe.  Every failure is
 * silent to the client (it reconnects); each is counted by outcome.
 */
#ifndef RP_BROKER_HANDOFF_H
#define RP_BROKER_HANDOFF_H

#include <stdint.h>

#include "hring.h"
#include "refusal.h"
#include "rp.h"

struct bkey;
struct broker;
struct conn;

/* How a handoff ended (the outcome label of the handoff metric). */
enum handoff_outcome {
	HANDOFF_ACCEPTED = 0,  /* the backend acked it: accepted */
	HANDOFF_REFUSED,       /* the backend acked it: not accepted */
	HANDOFF_ACK_TIMEOUT,   /* no Ack within --handoff-timeout */
	HANDOFF_BAD_ACK,       /* an Ack with the wrong token, correlation id,
	                          envelope or payload */
	HANDOFF_BACKEND_GONE,  /* the handoff connection failed or closed with
	                          the transfer on it */
	HANDOFF_NO_SOCKET,     /* no handoff connection could be made */
	HANDOFF_CLIENT_GONE,   /* the client left before the transfer */
	HANDOFF_BUSY,          /* too many transfers in flight to this
	                          backend */
	HANDOFF_SHUTDOWN,      /* the broker stopped with the transfer
	                          pending */
	/* The client's handle could not be given to the backend's process
	 * (Windows, 40-handoff.md's failure classes; never on Unix, where
	 * the fd goes on the handoff connection: backend_gone or busy): */
	HANDOFF_OPEN_PROCESS_FAILED, /* it cannot be opened (gone, ...) */
	HANDOFF_PERMISSION_DENIED,   /* access to it is denied */
	HANDOFF_DUPLICATE_FAILED,    /* DuplicateHandle failed otherwise */
	HANDOFF_INTEGRITY_MISMATCH,  /* it runs at a higher integrity
	                                level */
	HANDOFF_OUTCOMES
};

/*
 * The broker's one handoff connection to a backend, opened on first use
 * and kept: transfers are pipelined on it and their Acks, which come back
 * in order, are matched by correlation id.
 */
struct hconn {
	int fd;                        /* -1: not connected */
	uint8_t in_loop;
	uint8_t reading;               /* in read_acks (no second read) */
	unsigned events;
	uint32_t unread;               /* transfers since the Acks were read */
	struct rp_frame_decoder dec;   /* the Ack being read */
	struct rp_buf out;             /* offer bytes the socket did not take */
	struct hring ring;             /* transfers whose Ack is not read */
	uint64_t timer;                /* the oldest transfer's deadline */
	uint64_t settle;               /* lazy Acks: read them by then */
	int64_t retry_at;              /* after a failed connect, not before */
	int64_t quiet_until;           /* set-up failures: no event before */
};

/* The token store, with --handoff: 0, or -1 (out of memory). */
int handoff_init(struct broker *b);

/* A handoff for c to k's backend: 1 when the client asked for one and k
 * can take it (c->tok and c->hk are then set, the token issued), else 0
 * (a failure to set one up is counted). */
int handoff_prepare(struct broker *b, struct conn *c, struct bkey *k);

/* The Negotiated reply carrying c's token is written: transfer c.  c is
 * closed, or (the broker writing the event) held until the Ack. */
void handoff_transfer(struct broker *b, struct conn *c);

/* c goes before its transfer (client gone, drain): forget its token;
 * counted as why (HANDOFF_OUTCOMES: not counted). */
void handoff_drop(struct broker *b, struct conn *c,
    enum handoff_outcome why);

/* Close k's handoff connection; whatever is in flight on it fails. */
void handoff_key_close(struct broker *b, struct bkey *k,
    enum handoff_outcome why, const char *detail);
void handoff_close_all(struct broker *b);

/* Free what k's handoff connection holds (the key is going). */
void handoff_key_free(struct bkey *k);

/* Read the Acks that have arrived for every backend whose event the
 * backend writes (those are read lazily, see handoff.c), so that what is
 * reported next counts them. */
void handoff_settle_all(struct broker *b);

/* "accepted", "refused", ... ("unknown" beyond). */
const char *handoff_outcome_name(unsigned o);

#endif
