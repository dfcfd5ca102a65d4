#!/bin/sh
# A test backend: rp-test-backend handoff silent (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff silent "$@"
