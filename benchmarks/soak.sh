#!/usr/bin/env bash
# Soak of `orbit serve` (release build) on a 1M-user generated network: MINUTES minutes of paced
# mixed reads (who to follow, feed, posts, user summary) with ingest alongside (follows, likes,
# blocks, dismissals), a snapshot rebuild every minute and a retraining with hot swap every three.
# Reads are measured in WINDOW-second wrk runs so that the windows holding a swap can be told
# apart; per window it records throughput, p50/p99/max, errors, the server's RSS and the overlay.
# Prints one line per window, then a per-minute table (Markdown) and the verdict.
# Usage: benchmarks/soak.sh   (env: DIR with store.sqlite and follow.model, e.g. what
#        benchmarks/serve_wrk.sh leaves; USERS MINUTES WINDOW PAUSE_MS PORT)
set -euo pipefail
cd "$(dirname "$0")/.."
DIR=${DIR:-/tmp/orbit-bench-serve}
USERS=${USERS:-1000000}
MINUTES=${MINUTES:-10}
WINDOW=${WINDOW:-10}
PAUSE_MS=${PAUSE_MS:-50}
PORT=${PORT:-18182}
TOKEN=bench-token-0123456789abcdef
export USERS TOKEN WRK_DIR="$PWD/benchmarks/wrk" POSTS=${POSTS:-1000000}
command -v wrk >/dev/null || { apt-get update -qq && apt-get install -y -qq wrk; }
swift build -c release --scratch-path .build-release --product orbit 2>&1 | tail -1
ORBIT=$PWD/.build-release/release/orbit
[ -f "$DIR/store.sqlite" ] && [ -f "$DIR/follow.model" ] || { echo "soak.sh: needs $DIR/store.sqlite and $DIR/follow.model (run benchmarks/serve_wrk.sh first)"; exit 1; }
cp "$DIR/follow.model" "$DIR/soak.model"
rm -f "$DIR/soak.model.ranker" "$DIR/soak-click.json"
# Retraining as a 2-core deployment would run it: one training thread (the other core serves),
# the model size of the load test, no ranker (BENCHMARKS.md: it caps ranked reads near 400/s here).
cat > "$DIR/soak-config.json" <<JSON
{"refreshSeconds": 60, "retrainSeconds": 180, "pollSeconds": 0,
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
windows=$(( MINUTES * 60 / WINDOW ))
for w in $(seq 0 $((windows - 1))); do
  ws=$(date +%s)
  PAUSE_MS=100 wrk -t1 -c2 -d"${WINDOW}s" -s "$WRK_DIR/ingest_mixed.lua" "http://127.0.0.1:$PORT" > "$DIR/soak-ingest.txt" &
  ING=$!
  PAUSE_MS=$PAUSE_MS wrk -t2 -c64 -d"${WINDOW}s" --latency -s "$WRK_DIR/mixed.lua" "http://127.0.0.1:$PORT" > "$DIR/soak-read.txt"
  wait $ING
  we=$(date +%s)
  rss=$(awk '/VmRSS/ {print $2}' /proc/$SERVER/status)
  overlay=$(curl -s "localhost:$PORT/metrics" | awk '/^orbit_overlay_changes / {print $2}')
  echo "{\"window\": $w, \"start\": $((ws - START)), \"end\": $((we - START)), \"rss_kib\": $rss, \"overlay\": ${overlay:-0}, \"read\": $(tail -1 "$DIR/soak-read.txt"), \"ingest\": $(tail -1 "$DIR/soak-ingest.txt")}" | tee -a "$OUT"
done
kill -TERM $SERVER; wait $SERVER || true
trap - EXIT
python3 - "$OUT" "$DIR/soak.err" "$START" "$WINDOW" <<'PY'
import json, sys, re, datetime
out, log, start, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rows = [json.loads(l) for l in open(out)]
swaps, retrains = [], []
for line in open(log):
    m = re.match(r'(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4})', line)
    if not m or 'engine swapped' not in line: continue
    t = int(datetime.datetime.strptime(m.group(1), '%Y-%m-%dT%H:%M:%S%z').timestamp()) - start
    (retrains if 'retrained=true' in line else swaps).append(t)
events = sorted(swaps + retrains)
def has_swap(r): return any(r['start'] - 1 <= t <= r['end'] + 1 for t in events)
print(f"\nswaps: {len(swaps)} rebuilds at {swaps} s, {len(retrains)} retrainings at {retrains} s")
print("\n| minute | reads/s | p50 (windows) | p99 max of windows | max | read errors | batches/s | RSS MiB | overlay | swaps |")
print("|---|---|---|---|---|---|---|---|---|---|")
for m in range(len(rows) * window // 60):
    ws = [r for r in rows if m * 60 <= r['start'] < (m + 1) * 60]
    if not ws: continue
    rd = [r['read'] for r in ws]
    req = sum(x['requests'] for x in rd); sec = sum(x['seconds'] for x in rd)
    err = sum(x['errors_connect'] + x['errors_read'] + x['errors_write'] + x['errors_status'] + x['errors_timeout'] for x in rd)
    ing = sum(r['ingest']['requests'] for r in ws) / sec
    n = sum(1 for t in events if m * 60 <= t < (m + 1) * 60)
    print(f"| {m + 1} | {req / sec:.0f} | {min(x['p50_ms'] for x in rd):.2f}–{max(x['p50_ms'] for x in rd):.2f} ms | {max(x['p99_ms'] for x in rd):.2f} ms | "
          f"{max(x['max_ms'] for x in rd):.0f} ms | {err} | {ing:.1f} | {ws[-1]['rss_kib'] / 1024:.0f} | {ws[-1]['overlay']} | {n} |")
quiet = [r for r in rows if not has_swap(r)]; loud = [r for r in rows if has_swap(r)]
allerr = sum(r['read']['errors_connect'] + r['read']['errors_read'] + r['read']['errors_write'] + r['read']['errors_status'] + r['read']['errors_timeout'] + r['ingest']['errors_status'] for r in rows)
p99q = max((r['read']['p99_ms'] for r in quiet), default=0); p99l = max((r['read']['p99_ms'] for r in loud), default=0)
warm = [r['rss_kib'] for r in rows if r['start'] >= 120]
growth = (warm[-1] - warm[0]) / warm[0] * 100 if len(warm) > 1 else 0
rps = sum(r['read']['requests'] for r in rows) / sum(r['read']['seconds'] for r in rows)
print(f"\nverdict: {allerr} errors (reads and writes); reads {rps:.0f}/s overall; p99 outside swap windows at most {p99q:.2f} ms "
      f"({len(quiet)} windows), inside them at most {p99l:.2f} ms ({len(loud)} windows); RSS after warm-up (minute 3 on) "
      f"{warm[0] / 1024 if warm else 0:.0f} → {warm[-1] / 1024 if warm else 0:.0f} MiB ({growth:+.1f}%)")
PY
