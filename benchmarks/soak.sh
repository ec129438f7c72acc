#!/usr/bin/env bash
# Soak of `orbit serve` (release build) on a 1M-user generated network: MINUTES minutes of paced
# mixed reads (who to follow, feed, posts, user summary) with ingest alongside (follows, likes,
# blocks, dismissals), a snapshot rebuild every minute and a retraining with hot swap every three.
# Reads are measured in WINDOW-second wrk runs so that the windows holding a swap can be told
# apart; per window it records throughput, p50/p99/max, errors, the server's RSS and the overlay.
# Prints one line per window, then a per-minute table (Markdown) and the verdict.
# Usage: benchmarks/soak.sh   (env: DIR with store.sqlite and follow.model, e.g. what
#        benchmarks/serve_wrk.sh leaves; USERS MINUTES WINDOW PAUSE_MS PORT RETRAIN_IN=process|server)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/orbit-bench-serve}
USERS=${USERS:-1000000}
MINUTES=${MINUTES:-10}
WINDOW=${WINDOW:-10}
PAUSE_MS=${PAUSE_MS:-50}
PORT=${PORT:-18182}
RETRAIN_IN=${RETRAIN_IN:-process}
TOKEN=bench-token-0123456789abcdef
export USERS TOKEN WRK_DIR="$PWD/benchmarks/wrk" POSTS=${POSTS:-1000000}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --scratch-path .build-release --product orbit 2>&1 | tail -1
ORBIT=$PWD/.build-release/release/orbit
[ -f "$DIR/store.sqlite" ] && [ -f "$DIR/follow.model" ] || { echo "soak.sh: needs $DIR/store.sqlite and $DIR/follow.model (run benchmarks/serve_wrk.sh first)"; exit 1; }
cp "$DIR/follow.model" "$DIR/soak.model"
rm -f "$DIR/soak.model.ranker" "$DIR/soak-click.json"
# Retraining as a 2-core deployment would run it: in a child process at niceness 19 (RETRAIN_IN=server:
# in a thread of the server, as before), one training thread (the other core serves),
# the model size of the load test, no ranker (BENCHMARKS.md: it caps ranked reads near 400/s here).
cat > "$DIR/soak-config.json" <<JSON
{"refreshSeconds": 60, "retrainSeconds": 180, "pollSeconds": 0, "retrainIn": "$RETRAIN_IN",
 "training": {"threads": 1, "seed": 7, "follow": {"factors": 8, "layers": [32, 16, 8], "epochs": 1, "refit": false,
              "validationUsers": 2000}, "ranker": {"enabled": false}}}
JSON
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
"$ORBIT" serve --config "$DIR/soak-config.json" --store "$DIR/store.sqlite" --port "$PORT" --write-token "$TOKEN" \
  --follow-model "$DIR/soak.model" --click-model "$DIR/soak-click.json" --log-level info > "$DIR/soak.out" 2> "$DIR/soak.err" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null || true' EXIT
until curl -sf "localhost:$PORT/ready" >/dev/null; do
  kill -0 $SERVER 2>/dev/null || { echo "server died:"; tail "$DIR/soak.err"; exit 1; }
  sleep 1
done
echo "ready; soaking for $MINUTES minutes in ${WINDOW}-second windows"
OUT=$DIR/soak-windows.jsonl
: > "$OUT"
START=$(date +%s)
echo "$START" > "$DIR/soak-start"  # for soak_report.py on these files later
windows=$(( MINUTES * 60 / WINDOW ))
for w in $(seq 0 $((windows - 1))); do
  ws=$(date +%s)
  PAUSE_MS=100 wrk -t1 -c2 -d"${WINDOW}s" -s "$WRK_DIR/ingest_mixed.lua" "http://127.0.0.1:$PORT" > "$DIR/soak-ingest.txt" &
  ING=$!
  PAUSE_MS=$PAUSE_MS wrk -t2 -c64 -d"${WINDOW}s" --latency -s "$WRK_DIR/mixed.lua" "http://127.0.0.1:$PORT" > "$DIR/soak-read.txt"
  wait $ING
  we=$(date +%s)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
  # A retraining runs as a child of the server (retrainIn: process): its memory is its own.
  child=$( (ps -o rss= --ppid $SERVER 2>/dev/null || true) | awk '{s += $1} END {print s + 0}')
  overlay=$(curl -s "localhost:$PORT/metrics" | awk '/^orbit_overlay_changes / {print $2}')
  echo "{\"window\": $w, \"start\": $((ws - START)), \"end\": $((we - START)), \"rss_kib\": $rss, \"child_rss_kib\": $child, \"overlay\": ${overlay:-0}, \"read\": $(tail -1 "$DIR/soak-read.txt"), \"ingest\": $(tail -1 "$DIR/soak-ingest.txt")}" | tee -a "$OUT"
done
kill -TERM $SERVER; wait $SERVER || true
trap - EXIT
python3 benchmarks/soak_report.py "$OUT" "$DIR/soak.err" "$START" "$WINDOW"
