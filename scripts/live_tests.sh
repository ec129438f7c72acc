#!/usr/bin/env bash
# The live tests: a real `orbit serve` on a small generated store, driven from outside the way
# clients and people reach it.
#   contract  schemathesis (pinned, fixed seed, every check, stateful phase on) against /openapi.json
#   client    a Python client generated from /openapi.json (openapi-python-client) drives ingest,
#             recommendations and the feed
#   browser   chromium through selenium opens /dashboard (read token on), looks up users, checks the
#             page against the JSON API, every chart and table drawn, no console error; screenshots
#             of every view at laptop and phone width land in $ORBIT_LIVE_OUT (default .build/live)
# scripts/test.sh runs this after `swift test`; alone: scripts/live_tests.sh [contract|client|browser]...
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
OUT=${ORBIT_LIVE_OUT:-$ROOT/.build/live}
WHICH=("$@")
[ ${#WHICH[@]} -gt 0 ] || WHICH=(contract client browser)

PY=$ROOT/.build/python
[ -x "$PY/bin/python" ] || python3 -m venv "$PY"
"$PY/bin/pip" install -q --disable-pip-version-check -r scripts/live/requirements.txt

swift build --product orbit >/dev/null
ORBIT="$(swift build --show-bin-path)/orbit"

W=$(mktemp -d /tmp/orbit-live.XXXXXX)
cleanup() {
  local status=$?
  # Servers start inside $(...) subshells: their pids are in files, not in a variable.
  for f in "$W"/*/serve.pid; do [ -f "$f" ] && kill "$(cat "$f")" 2>/dev/null || true; done
  [ "$status" -eq 0 ] && rm -rf "$W" || echo "live tests: logs kept in $W" >&2
  exit "$status"
}
trap cleanup EXIT
mkdir -p "$OUT"

free_port() {
  local p
  for _ in $(seq 1 50); do
    p=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then echo "$p"; return; fi
  done
  echo "live tests: no free port" >&2; exit 1
}

# A small generated network, imported once and copied for each server.
"$ORBIT" generate --users 300 --seed 7 --out "$W/gen" >/dev/null
"$ORBIT" import --store "$W/base.sqlite" "$W/gen/users.csv" "$W/gen/follows.csv" "$W/gen/blocks.csv" "$W/gen/posts.csv" "$W/gen/interactions.csv" >/dev/null
cat > "$W/config.json" <<'JSON'
{"maxBatch": 20, "refreshSeconds": 0, "retrainSeconds": 0, "pollSeconds": 0,
 "training": {"follow": {"epochs": 4, "factors": 8, "layers": [16, 8], "validationUsers": 60, "refit": false}}}
JSON
WRITE_TOKEN=live-write-token-0123456789
READ_TOKEN=live-read-token-0123456789

# serve NAME [extra flags]: starts a server on its own copy of the store, trains its models through
# the API, and prints its base URL.
serve() {
  local name=$1; shift
  local port; port=$(free_port)
  mkdir -p "$W/$name"
  cp "$W/base.sqlite" "$W/$name/store.sqlite"
  "$ORBIT" serve --config "$W/config.json" --store "$W/$name/store.sqlite" --port "$port" --write-token "$WRITE_TOKEN" \
    --follow-model "$W/$name/follow.model" --click-model "$W/$name/click.json" --log-level warning "$@" >"$W/$name/serve.log" 2>&1 &
  echo $! >"$W/$name/serve.pid"
  for _ in $(seq 1 300); do
    curl -sf "http://127.0.0.1:$port/ready" >/dev/null 2>&1 && break
    sleep 0.2
  done
  curl -sf "http://127.0.0.1:$port/ready" >/dev/null || { cat "$W/$name/serve.log" >&2; exit 1; }
  curl -sf -X POST -H "Authorization: Bearer $WRITE_TOKEN" "http://127.0.0.1:$port/v1/admin/refresh?retrain=true&wait=true" >/dev/null \
    || { echo "live tests: training through the API failed" >&2; cat "$W/$name/serve.log" >&2; exit 1; }
  echo "http://127.0.0.1:$port"
}

# stop NAME: ends a server, and fails the run if it had crashed (a crash the client did not notice).
stop() {
  local pid; pid=$(cat "$W/$1/serve.pid")
  kill -0 "$pid" 2>/dev/null || { echo "live tests: the $1 server is gone:" >&2; tail -40 "$W/$1/serve.log" >&2; exit 1; }
  kill "$pid"; rm "$W/$1/serve.pid"
}

export ORBIT_WRITE_TOKEN=$WRITE_TOKEN ORBIT_READ_TOKEN=$READ_TOKEN ORBIT_LIVE_OUT=$OUT
for t in "${WHICH[@]}"; do
  case "$t" in
    contract)
      BASE=$(serve contract)
      echo "live tests: schemathesis against $BASE" >&2
      # The two status lists say where the document draws its lines (README, "The API contract"):
      # 422 answers a well-formed request the data refuses (a self-follow, an unknown post), which
      # JSON Schema cannot express; 413 answers a batch over maxItems. The request timeout is a
      # liveness bound: the fuzzing phase sends POST /v1/admin/refresh?retrain=true&wait=true,
      # which answers when a retraining has finished (over 30 s on a loaded two-core machine).
      "$PY/bin/schemathesis" --config-file scripts/live/schemathesis.toml run "$BASE/openapi.json" --checks all --phases examples,coverage,fuzzing,stateful \
        --seed 20261203 --max-examples 40 --workers 1 --request-timeout 180 \
        -H "Authorization: Bearer $WRITE_TOKEN" \
        --suppress-health-check all \
        --report junit --report-dir "$OUT/schemathesis" 2>&1 | tee "$OUT/schemathesis.txt"
      stop contract
      ;;
    client)
      BASE=$(serve client)
      echo "live tests: generated client against $BASE" >&2
      "$PY/bin/python" scripts/live/client_test.py "$BASE" "$W/client"
      stop client
      ;;
    browser)
      BASE=$(serve browser --read-token "$READ_TOKEN")
      echo "live tests: chromium against $BASE/dashboard" >&2
      "$PY/bin/python" scripts/live/browser_test.py "$BASE"
      stop browser
      ;;
    *) echo "live tests: unknown test $t (contract, client, browser)" >&2; exit 2 ;;
  esac
done
echo "live tests: ${WHICH[*]} passed; output in $OUT" >&2
