#!/usr/bin/env bash
# The PostgreSQL store against a real PostgreSQL with pgvector: PGlite (PostgreSQL 18 + pgvector
# 0.8, WebAssembly, npm) served on 127.0.0.1 over the wire protocol, reached through libpq.
# Runs the pg-only tests (schema, migrations, recall) and then the shared store suite that the
# SQLite store also passes. PGlite takes one connection at a time: pool size 1.
set -euo pipefail
root=${LM_ROOT:-$(pwd)}
tmp=${LM_TMP:-$(mktemp -d)}
cd "$root"
bin=build/san/tests/store

start_pglite() { # sets PGPID, PORT (in-memory database)
  PORT=$(( 20000 + RANDOM % 20000 ))
  node tests/store/pglite-server.mjs "$PORT" > "$tmp/pglite.log" 2>&1 &
  PGPID=$!
  for _ in $(seq 1 480); do
    grep -q '^ready' "$tmp/pglite.log" && return 0
    kill -0 "$PGPID" 2>/dev/null || break
    sleep 0.25
  done
  cat "$tmp/pglite.log"; echo "PGlite did not start"; exit 1
}
stop_pglite() { kill "$PGPID" 2>/dev/null || true; wait "$PGPID" 2>/dev/null || true; }
trap stop_pglite EXIT

start_pglite
export RAG_PG_POOL_SIZE=1
LM_PG_URL="postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" "$bin/drv_pg_store"
stop_pglite

# the shared contract suite, on a fresh database
start_pglite
LM_STORE_URL="postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" "$bin/test_store_suite"
stop_pglite
echo "postgres store: pg-only tests and the shared suite passed"
