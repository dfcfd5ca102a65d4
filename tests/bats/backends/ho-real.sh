#!/bin/sh
# A test backend: rp-test-backend handoff real (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff real "$@"
