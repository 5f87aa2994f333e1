#!/bin/sh
# The `db` service: Debian's PostgreSQL 15 as the postgres user, on 127.0.0.1:$PORT.
# First boot initialises the cluster (user/password/database from POSTGRES_*), the way the
# postgres image's entrypoint does: on a temporary server that listens on a unix socket only, so
# the healthcheck (TCP) cannot report ready before the database exists.
set -eu
PG_BIN=${PG_BIN:-/usr/lib/postgresql/15/bin}
DB_DIR=$(cd "${NOTEBOARD_DB_DIR:-./.data/db}" && pwd)
DATA=$DB_DIR/pg
SOCK=$DB_DIR/run
: "${PORT:?PORT is not set: herd sets it, or run PORT=5432 $0}"
POSTGRES_USER=${POSTGRES_USER:-app}
POSTGRES_PASSWORD=${POSTGRES_PASSWORD:-app}
POSTGRES_DB=${POSTGRES_DB:-$POSTGRES_USER}
mkdir -p "$SOCK"

if [ ! -s "$DATA/PG_VERSION" ]; then
  echo "db: first boot, initialising $DATA"
  # NOTEBOARD_INIT_DELAY=N: a first boot N seconds slower, as the postgres image's or a slow
  # disk's is (compose.broken.yaml's race needs one longer than herd's balancer holds a request).
  sleep "${NOTEBOARD_INIT_DELAY:-0}"
  # Build in a side folder and move it in place at the end, so a boot killed halfway through
  # starts over instead of finding a half-made cluster.
  rm -rf "$DATA.init"
  pwfile=$DB_DIR/.pwfile
  ( umask 077 && printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile" )
  "$PG_BIN/initdb" -D "$DATA.init" -U "$POSTGRES_USER" --pwfile="$pwfile" \
    --auth-local=trust --auth-host=scram-sha-256 -E UTF8 --locale=C >/dev/null
  rm -f "$pwfile"
  "$PG_BIN/postgres" -D "$DATA.init" -k "$SOCK" -p "$PORT" -c listen_addresses= &
  init_pid=$!
  until "$PG_BIN/pg_isready" -q -h "$SOCK" -p "$PORT" -U "$POSTGRES_USER"; do sleep 0.2; done
  if [ "$POSTGRES_DB" != postgres ]; then
    "$PG_BIN/createdb" -h "$SOCK" -p "$PORT" -U "$POSTGRES_USER" "$POSTGRES_DB"
  fi
  kill -INT "$init_pid"
  wait "$init_pid" || true
  mv "$DATA.init" "$DATA"
  echo "db: cluster ready (user $POSTGRES_USER, database $POSTGRES_DB)"
fi

exec "$PG_BIN/postgres" -D "$DATA" -p "$PORT" -k "$SOCK" -c listen_addresses=127.0.0.1
