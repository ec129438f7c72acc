#!/usr/bin/env bash
# Load test of `orbit serve` (release build) with wrk on loopback, against a generated network
# (default 1M users, ~11M follows) and a trained follow model:
#   1. who-to-follow and mixed-feed requests at 64 connections for DURATION each, saturating
#      (every connection sends its next request as soon as the answer arrives), and
#   2. the same offered at a steady pace (PAUSE_MS between a connection's requests),
# each with ingest running at the same time (a second wrk posting batches of 10 follows).
# Prints wrk's figures as JSON lines and the server's peak RSS.
# Usage: benchmarks/serve_wrk.sh   (env: DIR USERS DURATION PAUSE_MS PORT EPOCHS RANKER=on|off)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/orbit-bench-serve}
USERS=${USERS:-1000000}
DURATION=${DURATION:-60s}
PAUSE_MS=${PAUSE_MS:-50}
PORT=${PORT:-18181}
EPOCHS=${EPOCHS:-1}
TOKEN=bench-token-0123456789abcdef
export USERS TOKEN WRK_DIR="$PWD/benchmarks/wrk"

command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --scratch-path .build-release --product orbit 2>&1 | tail -1
ORBIT=$PWD/.build-release/release/orbit
mkdir -p "$DIR"
if [ ! -f "$DIR/store.sqlite" ]; then
  "$ORBIT" generate --users "$USERS" --out "$DIR/gen"
  "$ORBIT" import --store "$DIR/store.sqlite" "$DIR"/gen/users.csv "$DIR"/gen/follows.csv "$DIR"/gen/blocks.csv \
    "$DIR"/gen/posts.csv "$DIR"/gen/interactions.csv
fi
# RANKER=on fits the ranking stage too (about 5 ms of CPU per answer at 1M users: BENCHMARKS.md);
# by default the load test measures the blend, as its earlier figures did.
if [ ! -f "$DIR/follow.model" ]; then
  echo "{\"ranker\": {\"enabled\": $([ "${RANKER:-off}" = on ] && echo true || echo false), \"requireGain\": false}}" > "$DIR/plan.json"
  "$ORBIT" train --store "$DIR/store.sqlite" --plan "$DIR/plan.json" --factors 8 --layers 32,16,8 --epochs "$EPOCHS" --no-refit --out "$DIR/follow.model"
fi

echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), load $(cut -d' ' -f1-3 /proc/loadavg)"
/usr/bin/time -v -o "$DIR/serve.time" "$ORBIT" serve --store "$DIR/store.sqlite" --port "$PORT" --write-token "$TOKEN" \
  --follow-model "$DIR/follow.model" --click-model "$DIR/none.json" --refresh-seconds 0 --poll-seconds 0 \
  --log-level warning > "$DIR/serve.out" 2> "$DIR/serve.err" &
SERVER=$!
# $SERVER is /usr/bin/time; the signal goes to its child, orbit serve.
trap 'pkill -TERM -P $SERVER 2>/dev/null || true' EXIT
START=$(date +%s)
until curl -sf "localhost:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { echo "server died:"; cat "$DIR/serve.err"; exit 1; }
  sleep 1
done
echo "ready after $(( $(date +%s) - START )) s"

run() {  # name script pause
  local name=$1 script=$2 pause=$3
  PAUSE_MS=100 wrk -t1 -c2 -d"$DURATION" -s "$WRK_DIR/ingest.lua" "http://127.0.0.1:$PORT" > "$DIR/ingest-$name.txt" &
  local ingest=$!
  PAUSE_MS=$pause wrk -t2 -c64 -d"$DURATION" --latency -s "$WRK_DIR/$script" "http://127.0.0.1:$PORT" > "$DIR/$name.txt"
  wait $ingest
  echo "$name: $(tail -1 "$DIR/$name.txt")"
  echo "$name ingest (batches of 10 follows): $(tail -1 "$DIR/ingest-$name.txt")"
}
run follow-saturated follow.lua 0
run feed-saturated feed.lua 0
run follow-paced follow.lua "$PAUSE_MS"
run feed-paced feed.lua "$PAUSE_MS"

curl -s "localhost:$PORT/metrics" | grep -E '^orbit_(events_written|overlay_changes|ingest_lag)' || true
pkill -TERM -P $SERVER
wait $SERVER || true
trap - EXIT
echo "server exit: $(grep 'Exit status' "$DIR/serve.time")"
echo "server peak RSS: $(awk '/Maximum resident/ {printf "%.2f GiB", $6/1048576}' "$DIR/serve.time")"
