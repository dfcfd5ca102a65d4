/*
 * spawn_int.h — internals of spawn.c shared with its unit tests only (not
 * installed, not part of librp's interface).
 */
#ifndef RP_POSIX_SPAWN_INT_H
#define RP_POSIX_SPAWN_INT_H

#include <stddef.h>

/* Close every fd of this process not listed in keep[0..nkeep), found by
 * reading /proc/self/fd with getdents64 (no allocation, so it is safe in
 * a forked child).  The fallback of the child's close step where
 * close_range(2) is missing.  0, or -1 with errno when /proc is not
 * there. */
int rp_spawn_close_scan(const int *keep, size_t nkeep);

#endif
