#!/usr/bin/env bash
# A/B of two `orbit` binaries as servers, on a noisy machine: runs each binary's server in turn
# (ROUNDS pairs, A B then B A, so neither always goes first), offers the soak's paced read mix in
# WINDOWS windows of 10 s, and prints per window the throughput, p50/p99/max, errors, and the
# server's CPU per request (its utime+stime over the window divided by the window's requests),
# which varies less than latency.
# Usage: benchmarks/ab_serve.sh BINARY_A BINARY_B
#   env: DIR (store.sqlite and MODEL), MODEL (default follow.model), ROUNDS (2), WINDOWS (4),
#        PAUSE_MS (50), ARRIVALS (fixed|exponential|uniform), USERS, PORT
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -eq 2 ] || { echo "usage: benchmarks/ab_serve.sh BINARY_A BINARY_B" >&2; exit 2; }
DIR=${DIR:-/tmp/orbit-bench-serve}
MODEL=${MODEL:-follow.model}
ROUNDS=${ROUNDS:-2}
WINDOWS=${WINDOWS:-4}
PORT=${PORT:-18190}
export USERS=${USERS:-1000000} WRK_DIR="$PWD/benchmarks/wrk" PAUSE_MS=${PAUSE_MS:-50} ARRIVALS=${ARRIVALS:-fixed}
case "$ARRIVALS" in fixed|exponential|uniform) ;; *) echo "ARRIVALS must be fixed, exponential or uniform (got $ARRIVALS)" >&2; exit 2;; esac
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
for f in "$1" "$2" "$DIR/store.sqlite" "$DIR/$MODEL"; do [ -e "$f" ] || { echo "ab_serve.sh: $f not found" >&2; exit 1; }; done
echo '{"refreshSeconds": 0, "retrainSeconds": 0, "pollSeconds": 0}' > "$DIR/ab-config.json"
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; arrivals $ARRIVALS, pause $PAUSE_MS ms"
pid=
trap '[ -n "$pid" ] && kill -TERM $pid 2>/dev/null || true' EXIT
# utime + stime of every thread, in clock ticks (fields 14 and 15; the name in field 2 may hold spaces).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
run() {
  local label=$1 bin=$2
  # No click model (a file that does not exist), as serve_wrk.sh: only the follow model is compared.
  "$bin" serve --config "$DIR/ab-config.json" --store "$DIR/store.sqlite" --port "$PORT" --write-token ab-token-0123456789abcdef \
    --follow-model "$DIR/$MODEL" --click-model "$DIR/none.json" --log-level warning > "$DIR/ab.out" 2> "$DIR/ab.err" &
  pid=$!
  local waited=0
  until curl -sf "localhost:$PORT/ready" >/dev/null; do
    kill -0 $pid 2>/dev/null || { echo "server $bin died:"; tail "$DIR/ab.err"; exit 1; }
    waited=$((waited + 1))
    [ $waited -lt 600 ] || { echo "server $bin not ready after 600 s"; exit 1; }
    sleep 1
  done
  wrk -t2 -c64 -d5s -s "$WRK_DIR/mixed.lua" "http://127.0.0.1:$PORT" >/dev/null  # warm-up
  for _ in $(seq "$WINDOWS"); do
    local t0 t1 r
    t0=$(cpu_ticks $pid)
    r=$(wrk -t2 -c64 -d10s --latency -s "$WRK_DIR/mixed.lua" "http://127.0.0.1:$PORT" | tail -1)
    t1=$(cpu_ticks $pid)
    TICKS=$((t1 - t0)) HZ=$(getconf CLK_TCK) LABEL=$label python3 -c '
import json, os, sys
d = json.loads(sys.stdin.read())
errors = sum(d[k] for k in d if k.startswith("errors_"))
cpu = int(os.environ["TICKS"]) * 1000.0 / int(os.environ["HZ"]) / max(1, d["requests"])
print("%s  %7.1f req/s  p50 %6.2f ms  p99 %6.2f ms  max %6.1f ms  errors %d  cpu/request %.3f ms"
      % (os.environ["LABEL"], d["rps"], d["p50_ms"], d["p99_ms"], d["max_ms"], errors, cpu))' <<< "$r"
  done
  kill -TERM $pid; wait $pid || true
  pid=
}
for round in $(seq "$ROUNDS"); do
  if [ $((round % 2)) -eq 1 ]; then run A "$1"; run B "$2"; else run B "$2"; run A "$1"; fi
done
