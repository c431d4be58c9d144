#!/usr/bin/env bash
# A throwaway PostgreSQL on loopback for the store tests. Idempotent: safe to run again.
# Usage: eval "$(bash .ci/postgres.sh [DATA_DIR])"   (default /tmp/mapsheets-pg; port $MAPSHEETS_PG_PORT or 5433)
# Prints only the export line on stdout; progress goes to stderr.
set -euo pipefail

DATA=${1:-/tmp/mapsheets-pg}
PORT=${MAPSHEETS_PG_PORT:-5433}
log() { echo "postgres.sh: $*" >&2; }

if ! compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null; then
  log "installing postgresql"
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >&2
fi
BIN=$(dirname "$(compgen -G "/usr/lib/postgresql/*/bin/initdb" | sort -V | tail -1)")

# The server refuses to run as root: run it as the postgres OS user (the package creates it).
if [ "$(id -u)" = 0 ]; then
  OWNER=postgres
  as_owner() { runuser -u postgres -- "$@"; }
else
  OWNER=$(id -un)
  as_owner() { "$@"; }
fi

if [ ! -s "$DATA/PG_VERSION" ]; then
  log "initdb in $DATA"
  mkdir -p "$DATA"
  chown "$OWNER" "$DATA"
  chmod 700 "$DATA"
  # Trust auth: a test cluster that only listens on 127.0.0.1.
  as_owner "$BIN/initdb" -D "$DATA" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >&2
fi

if ! as_owner "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
  log "starting on 127.0.0.1:$PORT"
  # The socket goes in the data dir: /var/run/postgresql may not exist or be writable.
  as_owner "$BIN/pg_ctl" -D "$DATA" -w -t 60 -l "$DATA/server.log" \
    -o "-h 127.0.0.1 -p $PORT -k $DATA" start >&2
fi

psql_su() { "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -tAq "$@"; }
if [ -z "$(psql_su -c "SELECT 1 FROM pg_roles WHERE rolname = 'mapsheets'")" ]; then
  psql_su -c "CREATE ROLE mapsheets LOGIN"
fi
if [ -z "$(psql_su -c "SELECT 1 FROM pg_database WHERE datname = 'mapsheets_test'")" ]; then
  # The tests create a schema per test, so the role owns the database.
  psql_su -c "CREATE DATABASE mapsheets_test OWNER mapsheets"
fi

echo "export MAPSHEETS_TEST_POSTGRES_URL=postgresql+psycopg://mapsheets@127.0.0.1:$PORT/mapsheets_test"
