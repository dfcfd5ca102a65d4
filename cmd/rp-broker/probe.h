/*
 * probe.h — asking a backend who it is: the identity probe of
 * 30-identity.md, asynchronous, on the loop.  A spawned backend is asked
 * again and again until its spawn deadline; a static one once each time
 * it is in doubt.  The verdict goes to backend.c (bkey_verified), which
 * decides what it means.
 */
#ifndef RP_BROKER_PROBE_H
#define RP_BROKER_PROBE_H

#include <stdint.h>

#include "rp.h"

struct bkey;
struct broker;

/* One backend's probe in progress. */
struct prober {
	int fd;                        /* -1: no attempt connected */
	struct rp_frame_decoder dec;
	struct rp_peercred peer;
	uint8_t nonce[RP_PROBE_NONCE_LEN];
	uint64_t timer;                /* attempt deadline or retry backoff */
	int64_t attempt_deadline;
	unsigned backoff_ms;
	unsigned attempts;
};

/* Attempts at spawned k's identity, from a moment after it started
 * until its spawn deadline: 0, or -1 when they cannot be scheduled. */
int probe_spawned(struct broker *b, struct bkey *k);

/* One attempt at static k's identity, now. */
void probe_once(struct broker *b, struct bkey *k);

/* Stop k's probe: its connection and timer go (no verdict). */
void probe_close(struct broker *b, struct bkey *k);

/* k's last probe, as BACKEND-HEALTH and DUMP show it. */
void probe_record(struct bkey *k, int ok, const char *detail);

#endif
