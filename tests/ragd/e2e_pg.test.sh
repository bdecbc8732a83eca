#!/usr/bin/env bash
# The ragd end-to-end chat test (tests/ragd/e2e.test.mjs) again, with the PostgreSQL + pgvector
# store instead of SQLite: PGlite on 127.0.0.1, one connection (PGlite serves one at a time).
set -euo pipefail
root=${LM_ROOT:-$(pwd)}
tmp=${LM_TMP:-$(mktemp -d)}
cd "$root"
PORT=$(( 20000 + RANDOM % 20000 ))
node tests/store/pglite-server.mjs "$PORT" > "$tmp/pglite.log" 2>&1 &
PGPID=$!
trap 'kill $PGPID 2>/dev/null; wait $PGPID 2>/dev/null || true' EXIT
for _ in $(seq 1 480); do grep -q '^ready' "$tmp/pglite.log" && break; sleep 0.25; done
grep -q '^ready' "$tmp/pglite.log" || { cat "$tmp/pglite.log"; echo "PGlite did not start"; exit 1; }
export LM_TEST_DATABASE_URL="postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable"
export RAG_PG_POOL_SIZE=1
node tests/ragd/e2e.test.mjs
