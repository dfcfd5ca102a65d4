# shellcheck shell=bash
# bench/support/pin.sh — sourced (not run) by the bench scripts: where the
# client and the servers run.  With 2 or more CPUs (and taskset), the
# client is pinned to CPU 0 and the servers to the last CPU, so that the
# client never competes with what it measures and every server of a
# comparison shares the same CPU; with one CPU nothing is pinned (said).
#   "${pin_client[@]}" CMD...   run CMD where the client runs
#   "${pin_server[@]}" CMD...   run CMD where the servers run (its children
#                               inherit that); CMD is exec'd, so $! of
#                               "${pin_server[@]}" CMD & is CMD's pid
#   pin_say WHAT                print where the client and WHAT run
# shellcheck disable=SC2034 # used by the scripts that source this
ncpu=$(nproc)
if [ "$ncpu" -ge 2 ] && command -v taskset >/dev/null; then
	client_cpu=0
	server_cpu=$((ncpu - 1))
	pin_client=(taskset -c "$client_cpu")
	pin_server=(taskset -c "$server_cpu")
	pin_say() { echo "client on CPU $client_cpu; $1 on CPU $server_cpu"; }
else
	pin_client=(env)
	pin_server=(env)
	pin_say() { echo "not pinned ($ncpu CPU, or no taskset): client and $1 share the machine"; }
fi
