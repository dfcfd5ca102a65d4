#!/bin/sh
# A test backend that leaves descendants behind: one in its process group
# that ignores SIGTERM, one that left the group with setsid.  Their pids go
# to $RP_TEST_ENV_DIR/gc-term.pid and gc-setsid.pid (after they run), then
# this process becomes rp-test-backend serve.
(trap '' TERM; exec sleep 300) </dev/null >/dev/null 2>&1 &
echo $! >"$RP_TEST_ENV_DIR/gc-term.tmp"
setsid sleep 300 </dev/null >/dev/null 2>&1 &
echo $! >"$RP_TEST_ENV_DIR/gc-setsid.tmp"
mv "$RP_TEST_ENV_DIR/gc-term.tmp" "$RP_TEST_ENV_DIR/gc-term.pid"
mv "$RP_TEST_ENV_DIR/gc-setsid.tmp" "$RP_TEST_ENV_DIR/gc-setsid.pid"
exec "$RP_TEST_BACKEND" serve "$@"
