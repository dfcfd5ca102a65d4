#!/usr/bin/env bash
# Token store: issue + take on a full store at 1k/64k/1M entries, as ratios
# against drawing the random bytes alone.
set -eu
"$RP_BUILD/bench/token_store" "${RP_BENCH_CYCLES:-2000000}"
