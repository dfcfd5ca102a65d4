/*
 * broker.h — the shared state of rp-broker: configuration, connections,
 * backends, service definitions, rate limits, metrics and events.
 *
 * One thread and one rp_loop.  Nothing here blocks for longer than a
 * bounded, small time: sockets are non-blocking, backend identity probes
 * are asynchronous, and every wait is an absolute deadline on the loop.
 */
#ifndef RP_BROKER_H
#define RP_BROKER_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "cli.h"
#include "connq.h"
#include "defs.h"
#include "events.h"
#include "hring.h"
#include "metrics.h"
#include "ratelimit.h"
#include "rp.h"
#include "window.h"

/* ------------------------------------------------------------- config */

/* Where a configuration value came from (reported by CONFIG and DUMP). */
enum src {
	SRC_DEFAULT = 0,
	SRC_ENV,
	SRC_FLAG,
	SRC_ACTIVATION,
};

struct static_spec {
	char service[RP_NAME_MAX + 1];
	char version[RP_VERSION_MAX + 1];
	char endpoint[RP_SUN_PATH_MAX];
	char handoff[RP_SUN_PATH_MAX];     /* --backend-handoff, or "" */
};

struct config {
	char socket[RP_SUN_PATH_MAX];
	enum src socket_src;
	char service_dir[PATH_MAX];
	enum src service_dir_src;
	int service_dir_err;               /* no directory could be derived */

	enum rp_isolation iso;
	char instance_name[RP_NAME_MAX + 1]; /* explicit or private name */
	char instance_id[RP_NAME_MAX + 16];  /* shared, private:x, explicit:x */
	enum src instance_src;

	uint32_t *allow_uids;
	size_t n_allow_uids;

	int64_t hello_timeout_ms;
	enum src hello_timeout_src;
	uint32_t rate_n, rate_secs;         /* rate_n 0: no limit */
	enum src rate_src;
	uint32_t budget_n, budget_secs;
	enum src budget_src;
	int64_t spawn_timeout_ms;
	enum src spawn_timeout_src;
	uint32_t spawn_waiters;
	enum src spawn_waiters_src;
	int64_t probe_interval_ms;
	enum src probe_interval_src;
	int64_t probe_timeout_ms;
	enum src probe_timeout_src;
	uint32_t max_clients;
	enum src max_clients_src;
	int64_t drain_timeout_ms;
	enum src drain_timeout_src;
	const char *events_path;
	int ready_fd;
	int loop_poll;                     /* RP_BROKER_LOOP=poll */

	int handoff;                       /* --handoff */
	int handoff_event_backend;         /* --handoff-event backend */
	enum src handoff_event_src;
	int64_t handoff_timeout_ms;        /* the Ack deadline */
	enum src handoff_timeout_src;

	struct static_spec *statics;
	size_t n_statics;
};

const char *src_name(enum src s);

/* --------------------------------------------------------- connections */

enum conn_state {
	CONN_READING = 0,  /* waiting for the first frame */
	CONN_WAITING,      /* Hello parsed; waiting for a backend */
	CONN_WRITING,      /* reply partly written; waiting for POLLOUT */
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

struct bkey;

/*
 * One client connection.  Until its frame is complete this struct (and the
 * loop's watch entry) is all it costs; the body, the decoded request and
 * an output buffer exist only while they are needed.
 */
struct broker;

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
	uint8_t labels_ok;             /* service/version valid for metrics */
	uint8_t then;                  /* enum conn_then */
	uint8_t linger;                /* drain once the reply is written */
	uint32_t pid;                  /* kernel peer pid (0: unknown) */

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

	/* A handoff in preparation: its backend, token, correlation id. */
	struct bkey *hk;
	uint64_t corr;
	uint8_t tok[RP_TOKEN_LEN];
};

/* A deadline queue (connq.h) and the loop timer for its head. */
struct conn_queue {
	struct connq q;
	struct broker *b;
	uint64_t timer;
};

/* ------------------------------------------------------------ backends */

enum bkey_kind {
	BK_SPAWNED = 0,
	BK_STATIC,
};

enum bkey_state {
	BS_IDLE = 0,       /* nothing running (spawned keys) */
	BS_SPAWNING,       /* child started, waiting for its identity */
	BS_LIVE,           /* verified and serving */
	BS_PROBING,        /* static: re-verifying before use */
};

/* An asynchronous identity probe of one endpoint. */
struct prober {
	int fd;
	struct rp_frame_decoder dec;
	struct rp_peercred peer;
	uint8_t nonce[RP_PROBE_NONCE_LEN];
	uint64_t timer;                /* attempt deadline or retry backoff */
	int64_t attempt_deadline;
	unsigned backoff_ms;
	unsigned attempts;
};

/* How a handoff ended (the outcome label of the handoff metric). */
enum ho_outcome {
	HO_ACCEPTED = 0,   /* the backend acked it: accepted */
	HO_REFUSED,        /* the backend acked it: not accepted */
	HO_ACK_TIMEOUT,    /* no Ack within --handoff-timeout */
	HO_BAD_ACK,        /* an Ack with the wrong token, correlation id,
	                      envelope or payload */
	HO_BACKEND_GONE,   /* the handoff connection failed or closed with
	                      the transfer on it */
	HO_NO_SOCKET,      /* no handoff connection could be made */
	HO_CLIENT_GONE,    /* the client left before the transfer */
	HO_BUSY,           /* too many transfers in flight to this backend */
	HO_SHUTDOWN,       /* the broker stopped with the transfer pending */
	N_HO
};

/*
 * The broker's one handoff connection to a backend, opened on first use
 * and kept: transfers are pipelined on it and their Acks, which come back
 * in order, are matched by correlation id.
 */
struct hconn {
	int fd;                        /* -1: not connected */
	uint8_t in_loop;
	unsigned events;
	struct rp_frame_decoder dec;   /* the Ack being read */
	struct rp_buf out;             /* offer bytes the socket did not take */
	struct hring ring;             /* transfers whose Ack is not read */
	uint64_t timer;                /* the oldest transfer's deadline */
	int64_t retry_at;              /* after a failed connect, not before */
	int64_t quiet_until;           /* set-up failures: no event before */
};

/*
 * A backend key: (this broker's instance, service, version).  A key
 * outlives the processes spawned for it, so its spawn budget and counters
 * persist.
 */
struct bkey {
	struct bkey *next;
	struct broker *b;
	char service[RP_NAME_MAX + 1];
	char version[RP_VERSION_MAX + 1];
	uint8_t kind;                  /* enum bkey_kind */
	uint8_t state;                 /* enum bkey_state */
	pid_t pid;                     /* child (spawned) or claimed (static) */
	char pipe[RP_SUN_PATH_MAX];
	char hpipe[RP_SUN_PATH_MAX];   /* its handoff socket, or "" */
	char binary[PATH_MAX];

	int64_t started_wall_ms;       /* when it became live */
	int64_t last_active_wall_ms;   /* last Negotiated through it */
	int64_t verified_ms;           /* monotonic, last good probe */
	int64_t last_probe_wall_ms;
	int last_probe_ok;             /* -1 never, 0 failed, 1 ok */
	char last_probe_detail[256];

	/* spawn coordination */
	int64_t spawn_deadline;
	int64_t spawn_t0_ms;
	struct prober probe;
	struct conn *wait_head, *wait_tail;
	uint32_t nwaiters;
	struct window budget;          /* spawns in the --spawn-budget window */

	/* handoff */
	struct hconn ho;
	uint8_t event_backend;         /* the backend writes the event */
	uint32_t hrefs;                /* connections preparing a handoff */

	/* counters */
	uint64_t spawn_ok, spawn_failed, negotiated;
	uint64_t deaths;
	uint64_t handoffs[N_HO];
};

/* A child we stopped or gave up on, waiting to be reaped. */
struct dying {
	struct dying *next;
	pid_t pid;
	int reason;                    /* event kind when it is reaped */
	char service[RP_NAME_MAX + 1];
	char pipe[RP_SUN_PATH_MAX];
	char hpipe[RP_SUN_PATH_MAX];
	uint64_t kill_timer;
	int killed;                    /* SIGKILL sent */
};

/* ------------------------------------------------------------- metrics */

/* File descriptors for what is not a client: listener, loop, signals,
 * events, the reserve, probes, spawning.  The soft RLIMIT_NOFILE should be
 * at least --max-clients plus this (warned at start, in DIAGNOSE). */
#define FD_SLACK 64

enum close_reason {
	CLOSE_REPLIED = 0,
	CLOSE_NO_MEMORY,               /* no memory to decode or answer */
	CLOSE_TIMEOUT,
	CLOSE_WRITE_FAILED,
	CLOSE_BAD_ADMIN,
	CLOSE_DRAIN,
	CLOSE_REFUSED_AT_ACCEPT,
	CLOSE_PEER_REJECTED,
	CLOSE_HANDED_OFF,
	CLOSE_HANDOFF_FAILED,
	N_CLOSE,
};

/* What the rooms count besides the Hello series (metrics.h), the events
 * (events.h) and the backends' own counters; rendered by METRICS and
 * DUMP. */
struct counters {
	uint64_t accepted;
	uint64_t closed[N_CLOSE];
	uint64_t peer_rejected;
	uint64_t accept_emfile;
	uint64_t accept_refused_emfile;
	uint64_t accept_refused_max_clients;
	uint64_t accept_errors;
	uint64_t admin[32];            /* by verb (0..21, others at 31) */
	uint64_t deaths_crash, deaths_shutdown;
};

/* -------------------------------------------------------------- broker */

struct broker {
	struct config cfg;
	struct rp_loop *loop;
	struct rp_sock_listener lst;
	int have_listener;
	int listening;                 /* polled by the loop */
	int reserve_fd;                /* spare fd for accept-and-refuse */
	char dir[PATH_MAX];            /* where backend endpoints go */
	char hash16[17];
	char machine_id[128];
	uint32_t euid;
	pid_t pid;
	int64_t started_wall_ms, started_ms;

	/* connections: every one is on one deadline queue while it reads or
	 * writes (not while it waits for a backend) */
	struct conn_queue q_hello;     /* --hello-timeout from accept */
	struct conn_queue q_grace;     /* over --max-clients: a moment to
	                                  send the frame, then code 9 */
	struct conn *free_conns;
	size_t nfree;
	size_t nconns;
	uint64_t next_connection_id;

	/* file descriptors */
	uint64_t nofile_soft, nofile_hard;
	size_t fd_base;                /* fds open besides conns and probes */
	size_t nprobes;
	size_t nhconns;                /* handoff connections open */
	int demoted;                   /* fd pressure: not ready */
	int64_t demoted_since_wall_ms;
	uint64_t resume_timer;
	uint64_t pressure_episodes;

	/* stopping */
	int draining;
	int stopping;                  /* backends being stopped */
	int done;
	int64_t drain_deadline;
	uint64_t drain_timer;
	uint64_t final_timer;

	struct rp_buf scratch;         /* replies are encoded here */

	struct bkey *keys;
	size_t nkeys;
	struct dying *dying;
	struct defs defs;

	struct ratelimit rl;
	struct metrics m;
	struct counters count;
	struct events ev;
	struct rp_token_store *tokens; /* handoff tokens issued, pending */
};

/* config.c */
void config_parse(struct config *c, int argc, char **argv);
/* snprintf for messages, where a cut is fine: the cut never splits a
 * UTF-8 sequence. */
void fmt(char *dst, size_t n, const char *f, ...)
	__attribute__((format(printf, 3, 4)));
/* One line "rp-broker: ..." on stderr, then exit(code). */
void die(int code, const char *f, ...)
	__attribute__((noreturn, format(printf, 2, 3)));

/* main.c */
void broker_begin_drain(struct broker *b, int64_t deadline_ms,
    const char *why);
void broker_check_drained(struct broker *b);
size_t broker_fds_in_use(const struct broker *b);
int broker_fd_pressure(const struct broker *b);
int broker_uid_allowed(const struct broker *b, uint32_t uid);

/* conn.c */
void conn_listen_cb(struct rp_loop *loop, int fd, unsigned ev, void *arg);
void conn_listen_start(struct broker *b);
void conn_listen_stop(struct broker *b);
void conn_accept_all(struct broker *b);
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
/* c has been sent to its backend, which acks before the broker writes
 * the handoff event: kept, silent, until then. */
void conn_hold(struct broker *b, struct conn *c);
void conn_close(struct broker *b, struct conn *c, enum close_reason why);
void conn_close_all(struct broker *b);
void conn_pressure_check(struct broker *b);
void conn_queues_init(struct broker *b);

/* hello.c */
void hello_frame(struct broker *b, struct conn *c, uint8_t *body,
    size_t len);
void hello_big_frame(struct broker *b, struct conn *c);
void hello_refuse_frame_status(struct broker *b, struct conn *c, int st);
void hello_answer_waiter(struct broker *b, struct conn *c, struct bkey *k,
    enum rp_refusal id, const char *detail, uint64_t retry);
void hello_refuse_pressure_now(struct broker *b, struct conn *c);
void hello_free_request(struct conn *c);

/* backend.c */
void bkey_answer_all(struct broker *b, struct bkey *k, enum rp_refusal id,
    const char *detail, uint64_t retry);
int backends_add_static(struct broker *b, const struct static_spec *s,
    char *why, size_t whysz);
struct bkey *bkey_find(struct broker *b, const char *service,
    const char *version, int kind);
struct bkey *bkey_get(struct broker *b, const char *service,
    const char *version);
struct bkey *bkey_new(struct broker *b, const char *service,
    const char *version, int kind);
int bkey_static_service(struct broker *b, const char *service);
void bkey_enqueue(struct bkey *k, struct conn *c);
void bkey_unqueue(struct bkey *k, struct conn *c);

int bkey_spawn(struct broker *b, struct bkey *k,
    const Rp__ServiceDefinition *def, const Rp__Frame *f, char *why,
    size_t whysz);
uint32_t bkey_budget_left(struct broker *b, struct bkey *k,
    uint64_t *retry_ms);
int bkey_budget_take(struct broker *b, struct bkey *k, uint64_t *retry_ms);
size_t backends_in_flight(const struct broker *b);
void backends_sigchld(struct broker *b);
void backends_stop_all(struct broker *b);
void backends_stop_now(struct broker *b);
void backends_cancel_spawns(struct broker *b);
const char *bkey_state_name(const struct bkey *k);

/* The verdict of k's identity probe (probe.c): verified (pid: the one
 * that answered), or why not; k's state follows. */
void bkey_verified(struct broker *b, struct bkey *k, int ok,
    const char *why, uint32_t pid);
/* A static key to verify before use: in doubt, or verified too long ago. */
int bkey_needs_probe(struct broker *b, struct bkey *k);
/* Verify static k now (its waiters are answered when the verdict comes). */
void bkey_verify(struct broker *b, struct bkey *k);

/* probe.c */
void probe_close(struct broker *b, struct bkey *k);
void probe_record(struct bkey *k, int ok, const char *detail);
/* Attempts at spawned k's identity until its spawn deadline: 0, or -1
 * when they cannot even be scheduled. */
int probe_spawned(struct broker *b, struct bkey *k);
/* One attempt at static k's identity. */
void probe_once(struct broker *b, struct bkey *k);

/* openmetrics.c */
int metrics_render(struct broker *b, struct rp_buf *out);

/* admin.c */
void admin_frame(struct broker *b, struct conn *c, Rp__Frame *f);
void json_config(struct broker *b, struct rp_json *j);
void json_head(struct broker *b, struct rp_json *j, const char *command);
int accepting(const struct broker *b);
int healthy(const struct bkey *k);

/* handoff.c */
/* A handoff for c to k's backend: 1 when the client asked for one and k
 * can take it (c->tok and c->hk are then set, the token issued), else 0
 * (a failure to set one up is counted). */
int handoff_prepare(struct broker *b, struct conn *c, struct bkey *k);
/* The Negotiated reply carrying c's token is written: transfer c.  c is
 * closed, or (the broker writing the event) kept until the Ack. */
void handoff_transfer(struct broker *b, struct conn *c);
/* c goes before its transfer (client gone, drain): forget its token. */
void handoff_drop(struct broker *b, struct conn *c, enum ho_outcome why);
/* Close k's handoff connection; whatever is in flight on it fails. */
void handoff_key_close(struct broker *b, struct bkey *k,
    enum ho_outcome why, const char *detail);
void handoff_close_all(struct broker *b);
void handoff_key_free(struct bkey *k);
const char *handoff_outcome_name(unsigned o);
int handoff_init(struct broker *b);

/* diagnose.c */
int diagnose(struct broker *b, struct rp_buf *out);

#endif
