#!/usr/bin/env bash
# bench/pg/run.sh [N] — PostgreSQL + pgvector store (PGlite: PostgreSQL 18 + pgvector 0.8 in
# WebAssembly, served over the wire protocol on 127.0.0.1) next to the embedded SQLite store:
# top-10 latency and recall@10 on N clustered 384-d vectors (default 20000; 100000 takes PGlite ~20 minutes to load). Prints Markdown.
# PGlite runs PostgreSQL in WebAssembly, so its absolute latencies are those of a slow server;
# the recall figures are pgvector's own.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
N=${1:-20000}
make -s MODE=rel build/rel/liblm.a
OUT=build/rel/bench/pg_bench
mkdir -p "$(dirname "$OUT")"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -I/usr/include/postgresql -pthread -o "$OUT" bench/pg/pg_bench.c \
  build/rel/liblm.a -lsqlite3 -lutf8proc -lcurl -lpq -lm -lpthread
[ -d node_modules/@electric-sql/pglite ] || npm ci --no-audit --no-fund >/dev/null
TMPD=$(mktemp -d /tmp/pgbench.XXXXXX)
PORT=$(( 20000 + RANDOM % 20000 ))
node tests/store/pglite-server.mjs "$PORT" > "$TMPD/pglite.log" 2>&1 &
PGPID=$!
trap 'kill $PGPID 2>/dev/null; wait $PGPID 2>/dev/null; rm -rf "$TMPD"' EXIT
for _ in $(seq 1 240); do grep -q '^ready' "$TMPD/pglite.log" && break; sleep 0.25; done
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores; $(date -u +%F)"
echo "command: bench/pg/run.sh $N"
echo
"$OUT" "postgresql://postgres@127.0.0.1:$PORT/postgres?sslmode=disable" "$TMPD/bench.db" "$N" 384
