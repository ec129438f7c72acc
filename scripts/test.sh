#!/usr/bin/env bash
# The test command: starts a throwaway PostgreSQL cluster so the store suite runs against both
# SQLite and PostgreSQL, runs `swift test` with any arguments given, then removes the cluster.
# With no arguments it then runs the live tests (scripts/live_tests.sh: the API contract with
# schemathesis, a generated Python client, the dashboard in chromium).
#   scripts/test.sh                                  # everything
#   scripts/test.sh --filter StoreConformanceTests   # swift test with these arguments only
# Installs missing system packages when run as root; otherwise says what to install.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
dpkg -s libsqlite3-dev >/dev/null 2>&1 || need+=(libsqlite3-dev)
dpkg -s zlib1g-dev >/dev/null 2>&1 || need+=(zlib1g-dev)
dpkg -s libxgboost-dev >/dev/null 2>&1 || need+=(libxgboost-dev)
command -v gzip >/dev/null 2>&1 || need+=(gzip)
compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null || need+=(postgresql)
# The live tests: a headless browser for the dashboard, curl to wait for servers.
if [ $# -eq 0 ]; then
  [ -x /usr/bin/chromium ] || need+=(chromium)
  [ -x /usr/bin/chromedriver ] || need+=(chromium-driver)
  command -v curl >/dev/null 2>&1 || need+=(curl)
  python3 -c "import venv, ensurepip" >/dev/null 2>&1 || need+=(python3-venv)
fi
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "scripts/test.sh: missing packages: ${need[*]}" >&2
    echo "install them with: sudo apt-get install -y ${need[*]}" >&2
    exit 1
  fi
  apt-get update -q
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${need[@]}"
fi

# The newest installed PostgreSQL.
PGBIN=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)

D=$(mktemp -d /tmp/orbit-pg.XXXXXX)
chmod 755 "$D"
as_pg=()
if [ "$(id -u)" -eq 0 ]; then
  # initdb refuses to run as root.
  chown postgres "$D"
  as_pg=(runuser -u postgres --)
fi

cleanup() {
  local status=$?
  if [ -f "$D/data/postmaster.pid" ]; then
    "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$D/data" -m immediate stop >/dev/null 2>&1 || true
  fi
  rm -rf "$D"
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

"${as_pg[@]}" "$PGBIN/initdb" -D "$D/data" -U postgres -A trust --no-sync >"$D/initdb.log" 2>&1 \
  || { cat "$D/initdb.log" >&2; exit 1; }

# A free port: a random one that nothing answers on (a fixed one would clash with a second run).
PORT=
for _ in $(seq 1 50); do
  p=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then PORT=$p; break; fi
done
[ -n "$PORT" ] || { echo "scripts/test.sh: found no free port for PostgreSQL" >&2; exit 1; }
"${as_pg[@]}" "$PGBIN/pg_ctl" -D "$D/data" -l "$D/server.log" -w \
  -o "-p $PORT -k $D -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null \
  || { cat "$D/server.log" >&2; exit 1; }
echo "scripts/test.sh: PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') on 127.0.0.1:$PORT" >&2

export ORBIT_TEST_POSTGRES_URL="postgres://postgres@127.0.0.1:$PORT/postgres"
export ORBIT_REQUIRE_POSTGRES=1
swift test "$@"
if [ $# -eq 0 ]; then
  # PostgreSQL restarted under two replicas, alone: beside the other suites it has hung the run
  # (FaultTests.swift says more); the time limit turns a hang into a failure.
  ORBIT_RESTART_TEST=1 timeout 600 swift test --skip-build --filter PostgresRestartTests
  scripts/live_tests.sh
fi
