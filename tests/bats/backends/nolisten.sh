#!/bin/sh
# A test backend: rp-test-backend in mode "nolisten" (see tests/helpers).
exec "$RP_TEST_BACKEND" nolisten "$@"
