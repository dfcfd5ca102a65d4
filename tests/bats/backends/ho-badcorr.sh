#!/bin/sh
# A test backend: rp-test-backend handoff badcorr (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff badcorr "$@"
