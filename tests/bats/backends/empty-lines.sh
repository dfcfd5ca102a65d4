#!/bin/sh
# A test backend that writes empty lines without end (the cheapest text
# there is, and the dearest in the log: each becomes a prefixed line).
yes '' &
exec "$RP_TEST_BACKEND" serve "$@"
