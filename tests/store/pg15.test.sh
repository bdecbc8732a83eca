#!/usr/bin/env bash
# Debian's PostgreSQL 15 (no pgvector) for what needs no vector type: the connection pool, its
# recovery after a server restart, and migration bookkeeping. Starts a private cluster on a free
# port on 127.0.0.1 as the postgres user and removes it afterwards.
set -euo pipefail
root=${LM_ROOT:-$(pwd)}
cd "$root"
pgbin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -x "$pgbin/initdb" ] || { echo "SKIP: PostgreSQL server binaries not installed (.ci/run installs postgresql-15)"; exit 77; }
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

dir=$(mktemp -d /tmp/lmpg15.XXXXXX)
chmod 755 "$dir"
[ "$(id -u)" = 0 ] && chown postgres "$dir"
port=$(( 20000 + RANDOM % 20000 ))
cleanup() { as_pg "$pgbin/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$dir"; }
trap cleanup EXIT

as_pg "$pgbin/initdb" -D "$dir/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
opts="-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories=$dir -c fsync=off"
as_pg "$pgbin/pg_ctl" -D "$dir/data" -o "$opts" -w -l "$dir/log" start >/dev/null

export LM_PG15_URL="postgresql://postgres@127.0.0.1:$port/postgres?sslmode=disable"
export LM_PG15_RESTART="$( [ "$(id -u)" = 0 ] && echo 'runuser -u postgres -- ')$pgbin/pg_ctl -D $dir/data -o '$opts' -w -m fast -l $dir/log restart >/dev/null"
build/san/tests/store/drv_pg_pool
