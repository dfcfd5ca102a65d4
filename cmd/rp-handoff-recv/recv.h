/*
 * recv.h — what the parts of rp-handoff-recv share: the parsed command
 * line, diagnostics, and the two modes.
 */
#ifndef RP_HANDOFF_RECV_H
#define RP_HANDOFF_RECV_H

#include <stddef.h>
#include <stdint.h>

#include "cli.h"
#include "token.h"

#define RECV_MAX_ALLOW_UIDS 16
#define RECV_MAX_TOKENS 1024          /* and so at most this --count */

#define RECV_TIMEOUT_MS 5000         /* --timeout default */
#define RECV_PROBE_WINDOW_MS 100     /* --probe-window default */
#define RECV_MAX_CONNS 128           /* --max-conns default */
#define RECV_HOLD_MIN 64             /* held connections: max(this, N) */

struct recv_opts {
	/* both modes */
	int64_t timeout_ms;
	int ready_fd;                    /* -1: none */
	uint32_t allow_uids[RECV_MAX_ALLOW_UIDS];
	size_t n_allow_uids;
	char **prog;                     /* PROG ARGS... (NULL-terminated) */
	int new_token;                   /* --new-token: print one, exit */

	/* one-shot mode */
	const char *socket;
	uint8_t (*tokens)[RP_TOKEN_LEN];  /* the expected ones, each once */
	size_t ntokens;
	unsigned count;
	int fd;                          /* --fd N, or -1 for 0 and 1 */
	int raw;

	/* serve mode */
	int serve;
	const char *endpoint;
	const char *handoff;             /* NULL: no handoff socket */
	const char *namespace_id;
	unsigned max_conns;
	int64_t probe_window_ms;
	uint32_t broker_uid;
	uint32_t broker_pid;             /* 0: any pid of broker_uid */
	int event_backend;               /* write the handoff EVENT ourselves */
	int echo;
};

/* Signal readiness on --ready-fd (a newline, then close); no-op without. */
void recv_ready(struct recv_opts *o);

/* 1 when uid may hand us things or connect to us: our euid or one of
 * --allow-uid. */
int recv_uid_allowed(const struct recv_opts *o, uint32_t uid);

/* The modes; each returns the exit status. */
int recv_serve(struct recv_opts *o);
int recv_oneshot(struct recv_opts *o);

#endif
