#!/bin/sh
# A test backend: rp-test-backend handoff die (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff die "$@"
