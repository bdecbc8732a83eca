#!/usr/bin/env bash
# bench/store/run.sh — embedded SQLite store benchmark (release build of liblm.a).
# Prints a Markdown table for bench/RESULTS.md. Usage: bench/store/run.sh [N...] (default 10000 100000)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
make -s MODE=rel build/rel/liblm.a
OUT=build/rel/bench/store_bench
mkdir -p "$(dirname "$OUT")"
cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -pthread -o "$OUT" bench/store/store_bench.c build/rel/liblm.a \
  -lsqlite3 -lutf8proc -lcurl -lpq -lm -lpthread
TMPD=$(mktemp -d /tmp/storebench.XXXXXX)
trap 'rm -rf "$TMPD"' EXIT
echo "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) cores, SQLite $(sqlite3 --version 2>/dev/null | cut -d' ' -f1)"
echo
echo "Wall time, with the process CPU time in parentheses (the machine is shared)."
echo
echo "| chunks | ingest chunks/s, embeddings given (per CPU s) | cold open | exact vector top-10 p50 ms (CPU) | p95 ms | keyword top-10 p50 ms (CPU) | p95 ms |"
echo "|---|---|---|---|---|---|---|"
for n in "${@:-10000 100000}"; do
  for m in $n; do "$OUT" "$TMPD" "$m" 384; done
done

# End-to-end ingestion with embeddings, on a MiniLM-shaped BERT (6 layers, 384 wide, random
# weights from gguf-synth, the fixtures' real bert-base-uncased vocabulary).
VOCAB=${LM_FIXTURES:-$ROOT/../shared/fixtures}/bert-uncased-vocab-tiny.gguf
if [ -f "$VOCAB" ] && [ -x build/rel/bin/gguf-synth ]; then
  make -s MODE=rel all
  cc -std=c11 -D_GNU_SOURCE -O2 -Iinclude -Isrc -pthread -o build/rel/bench/ingest_bench bench/store/ingest_bench.c \
    build/rel/liblm.a -lsqlite3 -lutf8proc -lpcre2-8 -lcurl -lpq -lm -lpthread
  build/rel/bin/gguf-synth --arch bert --n-embd 384 --n-layer 6 --n-head 12 --n-ff 1536 --n-ctx 512 --type q8_0 \
    --vocab-from "$VOCAB" -o "$TMPD/minilm.gguf" >/dev/null
  echo
  echo "| ingestion with embedding (MiniLM shape, Q8_0) | throughput (wall) | time split (wall) | process CPU |"
  echo "|---|---|---|---|"
  build/rel/bench/ingest_bench "$TMPD/minilm.gguf" "$TMPD" "${INGEST_CHUNKS:-200}"
fi
