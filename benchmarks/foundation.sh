#!/usr/bin/env bash
# Issue 2 benchmarks (release build): import rates, snapshot load and build, generator.
# Usage: benchmarks/foundation.sh [WORKDIR]   (default /tmp/orbit-bench-foundation)
# Reads ../shared/data (never copied into the repository). Prints what it measured.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${ORBIT_DATA:-$root/../shared/data}
work=${1:-/tmp/orbit-bench-foundation}
mkdir -p "$work"
cd "$root" && swift build -c release --scratch-path .build-release --product orbit >/dev/null
orbit=$root/.build-release/release/orbit
cd "$work"
rm -rf slash.sqlite* gen big.sqlite*
t() { /usr/bin/time -f "  time: wall %e s, user %U s, sys %S s, peak RSS %M KiB" "$@"; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== SNAP soc-Slashdot0902 (948,464 rows, 78,303 self-loops)"
t "$orbit" import --store slash.sqlite "$data/soc-slashdot0902/soc-Slashdot0902.txt.gz" 2>&1 | grep -v '%$'
t "$orbit" stats --store slash.sqlite 2>&1 | grep -E "snapshot|follows |time:"

echo "== generated network: 1M users, ~11M follows"
t "$orbit" generate --users 1000000 --mean-follows 8.9 --mean-views 10 --mean-posts 2 --out gen 2>&1 | grep -v '%$'
echo "-- users, then follows alone (the follows/s figure)"
t "$orbit" import --store big.sqlite gen/users.csv 2>&1 | grep -v '%$'
t "$orbit" import --store big.sqlite gen/follows.csv 2>&1 | grep -v '%$'
echo "-- blocks, posts, interactions"
t "$orbit" import --store big.sqlite gen/blocks.csv gen/posts.csv gen/interactions.csv 2>&1 | grep -v '%$'
echo "-- snapshot of the whole network"
t "$orbit" stats --store big.sqlite 2>&1 | grep -v '%$'
echo "-- re-import of the same follows (idempotent: nothing added)"
t "$orbit" import --store big.sqlite gen/follows.csv 2>&1 | grep -v '%$'
ls -la big.sqlite
