#!/usr/bin/env bash
# Start a throwaway PostgreSQL on loopback for the database tests and print its URL.
# Installs the server with apt-get when it is missing (CI machines start bare).
set -euo pipefail
if ! ls /usr/lib/postgresql/*/bin/pg_ctl >/dev/null 2>&1; then
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
data=${CLIPMILL_PG_DATA:-/tmp/clipmill-pg}
port=${CLIPMILL_PG_PORT:-55432}
if ! "$bin/pg_isready" -q -h 127.0.0.1 -p "$port" 2>/dev/null; then
  rm -rf "$data" && mkdir -p "$data" && chown postgres "$data"
  su postgres -c "$bin/initdb -D $data -U clipmill --auth=trust" >/dev/null
  su postgres -c "$bin/pg_ctl -D $data -o '-c listen_addresses=127.0.0.1 -p $port -k /tmp' -l $data/log -w start" >/dev/null
fi
echo "postgresql+psycopg://clipmill@127.0.0.1:$port/postgres"
