#!/bin/sh
# A test backend: rp-test-backend handoff none (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff none "$@"
