#!/bin/sh
# A test backend: rp-test-backend handoff badtoken (see tests/helpers).
exec "$RP_TEST_BACKEND" handoff badtoken "$@"
