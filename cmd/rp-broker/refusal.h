/*
 * refusal.h — why a backend refused a transfer, in a few classes for the
 * metrics (handoff_refusals_total by reason), read from its Ack's
 * error_detail: the texts of 40-handoff.md and of our receivers.
 */
#ifndef RP_BROKER_REFUSAL_H
#define RP_BROKER_REFUSAL_H

enum refusal {
	REFUSAL_REPLAY = 0,  /* "handoff token is not pending" */
	REFUSAL_STORE_FULL,  /* "handoff token store is full" */
	REFUSAL_EXPIRED,     /* "handoff token expired" */
	REFUSAL_TOKEN,       /* missing, wrong length, mismatch */
	REFUSAL_FD,          /* no fd, several, truncated */
	REFUSAL_OFFER,       /* the offer frame too large */
	REFUSAL_OTHER,       /* anything else (a backend's own reason) */
	REFUSALS
};

/* The class of an Ack's error_detail (NULL or "" is other). */
enum refusal refusal_of(const char *detail);

/* "replay", "store_full", ... ("unknown" beyond). */
const char *refusal_name(unsigned r);

#endif
