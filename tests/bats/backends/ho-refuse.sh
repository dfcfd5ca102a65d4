#!/bin/sh
# A test backend: rp-test-backend handoff refuse (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff refuse "$@"
