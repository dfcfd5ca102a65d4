#!/bin/sh
# A test backend: rp-test-backend in mode "serve" (see tests/helpers).
exec "$RP_TEST_BACKEND" serve "$@"
