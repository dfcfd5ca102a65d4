#!/bin/sh
# A test backend that floods its output without end, before it serves and
# after: text lines (yes), binary junk, and a line that never ends, on
# stdout and stderr; it never reads its stdin.
yes 'flood flood flood flood flood flood flood flood flood flood flood' &
tr -d '\n' </dev/urandom >&2 &
head -c 200000 /dev/urandom | tr -d '\n'
exec "$RP_TEST_BACKEND" serve "$@"
