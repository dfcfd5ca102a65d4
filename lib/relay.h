/*
 * relay.h — copy between one connection and a local pair of fds, the way
 * `nc -U` does: what in_fd yields goes to the connection, whose write side
 * is shut down when in_fd ends; what the connection yields goes to out_fd.
 * It is over when both directions are: the connection has ended its data
 * and in_fd has ended too, or the peer is gone altogether (a peer that
 * only shut down its writing still gets the rest of in_fd; one that
 * closed does not make us wait for in_fd).  (lib/posix/relay.c.)
 *
 * The connection is never made non-blocking (its file description may be
 * shared) and neither are in_fd and out_fd (a terminal's would be): the
 * connection is written with MSG_DONTWAIT and read only when poll says
 * so, in_fd is read only when poll says so, and out_fd is written
 * blocking.  The connection is always read while anything is pending
 * towards it, so a peer that echoes cannot deadlock us however much is
 * sent.
 */
#ifndef RP_RELAY_H
#define RP_RELAY_H

/*
 * Relay until both directions are done, as above.  When conn is not a
 * socket (a pipe, a file) it is only read,
 * and in_fd is not used; in_fd may also be -1.  A peer that stops reading
 * (EPIPE) ends only the sending direction.  Returns 0, or -1 with errno:
 * the failed read or write (EPIPE when out_fd's reader went away,
 * ECONNRESET when the peer reset the connection).  EIO from a terminal
 * (a PTY master whose slave side was closed) is its end of file.
 */
int rp_relay(int conn, int in_fd, int out_fd);

#endif
