#!/usr/bin/env bash
# Issue 3 benchmarks: Orbit's NeuMF beside the reference Keras model in one run (same machine,
# back to back), at the ML-1M shape and at the reference notebook's shape; then accuracy on the
# NCF ML-1M split. Usage: benchmarks/neumf_vs_keras.sh [quick]
# Needs python3; installs tensorflow-cpu into a virtualenv outside the repository on first use.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
shared=${ORBIT_SHARED:-$root/../shared}
venv=${ORBIT_PEERS_VENV:-/tmp/orbit-peers-venv}
if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q tensorflow-cpu==2.21.0
fi
cd "$root" && swift build -c release --scratch-path .build-release --product orbit >/dev/null
orbit=$root/.build-release/release/orbit
t() { /usr/bin/time -f "  time: wall %e s, user %U s, peak RSS %M KiB" "$@"; }
echo "machine: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; load: $(cut -d' ' -f1-3 /proc/loadavg)"

echo "== ML-1M shape (6,040 x 3,706, 994,169 positives, 4 negatives, batch 512), 2 epochs"
t "$orbit" bench train --shape 6040,3706,994169 --epochs 2 2>&1
t "$orbit" bench train --shape 6040,3706,994169 --epochs 2 --grouped 2>&1
t "$venv/bin/python" "$shared/peers/keras_neumf.py" --synthetic 6040 3706 994169 --epochs 2 2>&1 | grep -E "^keras_neumf|time:"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
[ "${1:-}" = quick ] && exit 0

echo "== reference shape (1,023,161 x 1,372,452, 11,000,000 positives), 1 epoch; Keras capped at 180 s"
t "$orbit" bench train --shape 1023161,1372452,11000000 --epochs 1 2>&1
t "$venv/bin/python" "$shared/peers/keras_neumf.py" --synthetic 1023161 1372452 11000000 --max-seconds 180 2>&1 | grep -E "^keras_neumf|time:"
echo "load: $(cut -d' ' -f1-3 /proc/loadavg)"
