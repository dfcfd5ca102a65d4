#!/bin/sh
# A test backend: rp-test-backend in mode "silent" (see tests/helpers).
exec "$RP_TEST_BACKEND" silent "$@"
