#!/usr/bin/env bash
# Runs every test project on a fresh machine and ends with one line: "N passed, N failed, N skipped".
# It installs and starts what the tests need (PostgreSQL for the differential and CDC tests) by itself.
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
export DOTNET_NOLOGO=1 DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results="$root/.build/test-results"
pgdata="$root/.build/pg"
pgport="${STREAMS_TEST_PG_PORT:-54329}"

log() { echo "test.sh: $*" >&2; }

apt_updated=0
apt_install() {
  if [ "$apt_updated" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || log "apt-get update failed"
    apt_updated=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1
}

# PostgreSQL: a private cluster on 127.0.0.1, logical replication enabled for the CDC tests.
start_postgres() {
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)"
  if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
    log "installing postgresql"
    apt_install postgresql || { log "could not install postgresql"; return 1; }
    bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)"
  fi
  local runas=()
  if [ "$(id -u)" = 0 ]; then runas=(runuser -u postgres --); fi
  if [ -f "$pgdata/postmaster.pid" ]; then "${runas[@]}" "$bin/pg_ctl" -D "$pgdata" -m immediate stop >/dev/null 2>&1 || true; fi
  rm -rf "$pgdata"
  mkdir -p "$pgdata"
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$pgdata"
  "${runas[@]}" "$bin/initdb" -D "$pgdata" -U postgres -A trust >/dev/null || { log "initdb failed"; return 1; }
  "${runas[@]}" "$bin/pg_ctl" -D "$pgdata" -l "$pgdata/server.log" -w \
    -o "-p $pgport -k /tmp -c listen_addresses=127.0.0.1 -c wal_level=logical -c max_wal_senders=10 -c max_replication_slots=10 -c fsync=off" \
    start >/dev/null || { log "postgres did not start"; cat "$pgdata/server.log" >&2; return 1; }
  export STREAMS_TEST_PG="Host=127.0.0.1;Port=$pgport;Username=postgres;Database=postgres"
  trap 'stop_postgres' EXIT
  PG_BIN="$bin"
  PG_RUNAS=("${runas[@]}")
}

stop_postgres() {
  "${PG_RUNAS[@]}" "$PG_BIN/pg_ctl" -D "$pgdata" -m fast stop >/dev/null 2>&1 || true
}

mkdir -p "$root/.build"
start_postgres || log "PostgreSQL unavailable: tests that need it will fail"

log "building"
if ! dotnet build Streams.sln -c Release -nologo -v q -clp:ErrorsOnly >"$root/.build/test-build.log" 2>&1; then
  cat "$root/.build/test-build.log"
  echo "0 passed, 1 failed, 0 skipped"
  exit 1
fi

rm -rf "$results"
status=0
for project in tests/*/*.csproj; do
  name="$(basename "$project" .csproj)"
  log "running $name"
  dotnet test "$project" -c Release --no-build --nologo \
    --logger "trx;LogFileName=$name.trx" --logger "console;verbosity=minimal" \
    --results-directory "$results" "$@" || status=1
done

passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters="$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)"
  total="$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")"
  executed="$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  p="$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  f="$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters")"
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0})); skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
# A test host that crashed writes no counters for the tests it did not finish: count the project as failed.
if [ "$status" != 0 ] && [ "$failed" = 0 ]; then failed=1; fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$status" = 0 ] && [ "$failed" = 0 ]
