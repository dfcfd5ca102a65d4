/*
 * listen.h — the listening socket: accepting in batches, peer credentials
 * first, --max-clients, and what to do when file descriptors run out
 * (accept-and-refuse with a reserve fd, demotion to not ready, a pause
 * when not even that helps).
 */
#ifndef RP_BROKER_LISTEN_H
#define RP_BROKER_LISTEN_H

struct broker;

/* Watch the listener (b->listening says whether that worked). */
void listen_start(struct broker *b);
/* Stop watching it. */
void listen_stop(struct broker *b);
/* Take in everything already waiting (when the drain starts). */
void listen_accept_all(struct broker *b);
/* After fds were freed: ready again once usage is below 80 %. */
void listen_pressure_check(struct broker *b);

#endif
