#!/usr/bin/env bash
# make bench: every benchmark in turn; each writes its own section of bench/RESULTS.md.
# A benchmark that fails is reported and the others still run. Benchmarks want an idle machine:
# on 2 cores any other busy process distorts them.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
fail=0
run() { echo "== $*"; "$@" || { echo "benchmark failed: $*" >&2; fail=1; }; }
# for benchmarks that print their Markdown: title, then the command; the output becomes a section
section() {
  local name=$1 title=$2; shift 2
  echo "== $*"
  local out; out=$("$@") || { echo "benchmark failed: $*" >&2; fail=1; return; }
  printf '## %s\n\n%s\n' "$title" "$out" | node bench/section.mjs "$name"
}

[ -d node_modules/ws ] || npm ci --no-audit --no-fund >/dev/null
run bench/engine/run.sh
run bench/serve/run.sh
run bench/embed/run.sh
run bench/ragd/run.sh
section store "Embedded SQLite store (bench/store)" bench/store/run.sh
section pg "PostgreSQL + pgvector store next to the embedded one (bench/pg)" bench/pg/run.sh
section tok "Tokenizer speed (bench/tok_speed.sh)" bench/tok_speed.sh
run sh -c 'node bench/load/load.mjs 200 10000 | node bench/section.mjs load'
exit $fail
