/*
 * config.h — rp-broker's configuration: the command line and the
 * environment, each value with where it came from (CONFIG and DUMP say).
 * Read once, before anything starts; read-only afterwards.
 */
#ifndef RP_BROKER_CONFIG_H
#define RP_BROKER_CONFIG_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "names.h"

/* Where a configuration value came from. */
enum config_src {
	CONFIG_SRC_DEFAULT = 0,
	CONFIG_SRC_ENV,
	CONFIG_SRC_FLAG,
	CONFIG_SRC_ACTIVATION,
};

/* A backend given with -b, and its --backend-handoff socket. */
struct config_static {
	char service[RP_NAME_MAX + 1];
	char version[RP_VERSION_MAX + 1];
	char endpoint[RP_SUN_PATH_MAX];
	char handoff[RP_SUN_PATH_MAX];     /* --backend-handoff, or "" */
};

/* N per SECS seconds (--rate-limit, --spawn-budget). */
struct config_rate {
	uint32_t n;                        /* rate limit 0: no limit */
	uint32_t secs;
};

struct config {
	char socket[RP_SUN_PATH_MAX];
	enum config_src socket_src;
	char service_dir[PATH_MAX];        /* "": none could be derived */
	enum config_src service_dir_src;
	int service_dir_err;               /* why not (errno) */

	enum rp_isolation iso;
	char instance_name[RP_NAME_MAX + 1]; /* explicit or private name */
	char instance_id[RP_NAME_MAX + 16];  /* shared, private:x, explicit:x */
	enum config_src instance_src;

	uint32_t *allow_uids;
	size_t n_allow_uids;

	int64_t hello_timeout_ms;
	enum config_src hello_timeout_src;
	struct config_rate rate;
	enum config_src rate_src;
	struct config_rate budget;
	enum config_src budget_src;
	int64_t spawn_timeout_ms;
	enum config_src spawn_timeout_src;
	uint32_t spawn_waiters;
	enum config_src spawn_waiters_src;
	uint32_t max_backends;             /* spawned, per service */
	enum config_src max_backends_src;
	uint32_t bout_rate;                /* a backend's output to the log: */
	enum config_src bout_rate_src;     /* bytes a second, */
	uint32_t bout_burst;               /* and at once */
	enum config_src bout_burst_src;
	uint32_t max_unread;               /* reply bytes kept for one */
	enum config_src max_unread_src;    /* connection that does not read, */
	uint32_t max_unread_total;         /* and for all of them */
	enum config_src max_unread_total_src;
	int64_t probe_interval_ms;
	enum config_src probe_interval_src;
	int64_t probe_timeout_ms;
	enum config_src probe_timeout_src;
	uint32_t max_clients;
	enum config_src max_clients_src;
	int64_t drain_timeout_ms;
	enum config_src drain_timeout_src;
	const char *events_path;           /* NULL: no --events */
	int ready_fd;                      /* -1: no --ready-fd */
	int loop_poll;                     /* RP_BROKER_LOOP=poll */

	int handoff;                       /* --handoff */
	int handoff_event_backend;         /* --handoff-event backend */
	enum config_src handoff_event_src;
	int64_t handoff_timeout_ms;        /* the Ack deadline */
	enum config_src handoff_timeout_src;

	struct config_static *statics;
	size_t n_statics;
};

/* Parse argv and the environment into c.  --help and --version exit 0;
 * a usage error exits 2 after one line on stderr, no memory 125. */
void config_parse(struct config *c, int argc, char **argv);

void config_free(struct config *c);

/* "default", "env", "flag", "socket-activation". */
const char *config_src_name(enum config_src s);

#endif
