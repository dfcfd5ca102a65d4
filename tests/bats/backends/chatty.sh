#!/bin/sh
# A test backend that says a few things as it starts (a line in two
# writes, one on stderr with a terminal escape and UTF-8, one without its
# newline), then serves.
printf 'starting %s\n' "$RUNNING_PROCESS_BROKER_V1_SERVICE_NAME"
printf 'part one, '
printf 'part two\n'
printf 'on stderr: caf\303\251 \033[31mred\033[0m\n' >&2
printf 'last words'
exec "$RP_TEST_BACKEND" serve "$@"
