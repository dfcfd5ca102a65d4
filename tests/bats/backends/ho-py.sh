#!/bin/sh
# A test backend whose handoff side is Python: rpwire.py one-recv takes
# two transfers on $RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE, each with one
# socket.recv_fds (its report in $RP_TEST_ENV_DIR/py.out), while
# rp-handoff-recv --serve --echo answers the identity probes.
d=$RP_TEST_ENV_DIR
mkfifo "$d/py-ready" || exit 1
PYTHONPATH="$RP_PB_DIR" /usr/bin/python3 "$RP_ROOT/tests/bats/py/rpwire.py" \
	one-recv "$RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE" "$d/py-ready" 2 \
	>"$d/py.out" 2>"$d/py.err" &
read -r _ <"$d/py-ready"
unset RUNNING_PROCESS_BROKER_V1_HANDOFF_PIPE
exec rp-handoff-recv --serve "$RUNNING_PROCESS_BROKER_V1_BACKEND_PIPE" --echo
