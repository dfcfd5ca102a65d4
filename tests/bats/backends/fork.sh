#!/bin/sh
# A test backend: rp-test-backend in mode "fork" (see tests/helpers).
exec "$RP_TEST_BACKEND" fork "$@"
