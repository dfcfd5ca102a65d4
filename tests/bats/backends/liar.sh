#!/bin/sh
# A test backend: rp-test-backend in mode "liar" (see tests/helpers).
exec "$RP_TEST_BACKEND" liar "$@"
