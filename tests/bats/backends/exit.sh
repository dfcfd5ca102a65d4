#!/bin/sh
# A test backend that exits at once with status 7.
exec "$RP_TEST_BACKEND" exit 7
