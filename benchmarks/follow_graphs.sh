#!/usr/bin/env bash
# Who-to-follow on every real graph in ../shared/data (release build): the time-stamped graphs
# split by time, wiki-Vote and Slashdot with the random hold-out; baselines, every source, the
# blends and the learned ranking stage (chosen on validation, reported on test, with ablations).
# Usage: benchmarks/follow_graphs.sh [WORKDIR]   (default /tmp/orbit-follow-graphs)
# The data stays in ../shared/data: the script writes sorted edge lists and stores to WORKDIR.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
data=${ORBIT_DATA:-$root/../shared/data}
work=${1:-/tmp/orbit-follow-graphs}
mkdir -p "$work"
cd "$root" && swift build -c release --scratch-path .build-release --product orbit >/dev/null
orbit=$root/.build-release/release/orbit
cd "$work"
# Time-stamped graphs as `follower followee time`, sorted by time so that a pair seen again keeps
# its first time. Bitcoin: positive ratings only (trust), fractional seconds truncated.
# email-Eu-core's times count seconds from 0: shifted by 1e9 to read as Unix seconds.
prep() { [ -f "$1.txt" ] || eval "$2" > "$1.txt"; }
prep bitcoinotc "zcat $data/soc-sign-bitcoinotc/soc-sign-bitcoinotc.csv.gz | awk -F, '\$3>0 {printf \"%s %s %d\\n\",\$1,\$2,\$4}' | sort -k3,3n -s"
prep bitcoinalpha "zcat $data/soc-sign-bitcoinalpha/soc-sign-bitcoinalpha.csv.gz | awk -F, '\$3>0 {printf \"%s %s %d\\n\",\$1,\$2,\$4}' | sort -k3,3n -s"
prep collegemsg "zcat $data/collegemsg/CollegeMsg.txt.gz | sort -k3,3n -s"
prep emaileu "zcat $data/email-eu-core-temporal/email-Eu-core-temporal.txt.gz | sort -k3,3n -s | awk '{print \$1, \$2, \$3 + 1000000000}'"
prep mathoverflow "zcat $data/sx-mathoverflow/sx-mathoverflow.txt.gz | sort -k3,3n -s"
prep askubuntu "zcat $data/sx-askubuntu/sx-askubuntu-a2q.txt.gz | sort -k3,3n -s"
for g in bitcoinotc bitcoinalpha collegemsg emaileu mathoverflow askubuntu; do
  [ -f "$g.sqlite" ] || "$orbit" import --store "$g.sqlite" --format edges "$g.txt" | tail -1
done
[ -f wiki.sqlite ] || "$orbit" import --store wiki.sqlite "$data/wiki-vote/wiki-Vote.txt.gz" | tail -1
[ -f slash.sqlite ] || "$orbit" import --store slash.sqlite "$data/soc-slashdot0902/soc-Slashdot0902.txt.gz" | tail -1
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"
# The follow model of these runs is f = 8, [64, 32, 16, 8], 10 epochs without refit (not the
# default plan's f = 64): the NeuMF features are measured by the ablation rows.
EV=${EV:---factors 8 --layers 64,32,16,8 --epochs 10 --no-refit}
for g in ${GRAPHS:-bitcoinotc bitcoinalpha collegemsg emaileu wiki mathoverflow askubuntu slash}; do
  echo "== $g"
  /usr/bin/time -f "  time: wall %e s, peak RSS %M KiB" "$orbit" evaluate follow --store "$g.sqlite" $EV --report "$g.md" > "$g.log" 2>&1
  grep -E "split|hold-out" "$g.log" | head -2
  cat "$g.md"
done
