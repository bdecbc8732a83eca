#!/usr/bin/env bash
# cli.test.sh — ragd's command line: --help on each command, bad settings are one line and exit
# 2, .env is read (the environment wins), `ragd ingest` adds files and reports duplicates,
# `ragd ask` with no LLM fails with a clear message, `ragd migrate` and `ragd reindex` check
# their settings and find the embedding dimension.
set -u
BIN=${LM_BIN:-build/san/bin}
BIN=$(cd "$BIN" && pwd)
FIX=${LM_FIXTURES:-../shared/fixtures}
FIX=$(cd "$FIX" && pwd)
T=${LM_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }
[ -f "$FIX/bert-uncased-vocab-tiny.gguf" ] || { echo "SKIP: no bert fixture"; exit 77; }
EMB=$FIX/bert-uncased-vocab-tiny.gguf
cd "$T"

for c in "" serve ask ingest; do
  out=$("$BIN/ragd" $c --help 2>&1) || fail "ragd $c --help exits non-zero"
  echo "$out" | grep -q usage || fail "ragd $c --help prints no usage"
done
"$BIN/ragd" serve --help | grep -q RAGD_MAX_WS_MESSAGE || fail "serve --help lists the limits"

# bad values: exit 2, one line naming the variable
bad() {
  local var=$1; shift
  out=$(env "$@" "$BIN/ragd" ingest /dev/null 2>&1); rc=$?
  [ $rc -eq 2 ] || fail "$* → exit $rc (want 2): $out"
  [ "$(echo "$out" | wc -l)" -eq 1 ] || fail "$* → more than one line: $out"
  echo "$out" | grep -q "$var" || fail "$* → message does not name $var: $out"
}
bad PORT PORT=abc
bad PORT PORT=70000
bad RAG_TOP_K RAG_TOP_K=-1
bad CHUNK_OVERLAP CHUNK_SIZE=100 CHUNK_OVERLAP=100
bad LLM_BASE_URL LLM_BASE_URL=ftp://x
bad DATABASE_URL DATABASE_URL=mysql://x
bad RAGD_MAX_BODY RAGD_MAX_BODY=lots
bad EMBEDDING_MODEL EMBEDDING_MODEL=/nonexistent/model.gguf
out=$("$BIN/ragd" frobnicate 2>&1); [ $? -eq 2 ] || fail "unknown command exits 2"
out=$("$BIN/ragd" ask 2>&1); [ $? -eq 2 ] || fail "ask without a question exits 2"
out=$("$BIN/ragd" ingest 2>&1); [ $? -eq 2 ] || fail "ingest without files exits 2"

# .env is read; the environment wins over it
printf '# settings\nexport EMBEDDING_MODEL="%s"\nDATABASE_URL=sqlite:envdir/from-env-file.db\nRAG_TOP_K=oops\n' "$EMB" > .env
out=$("$BIN/ragd" ingest /dev/null 2>&1); [ $? -eq 2 ] && echo "$out" | grep -q RAG_TOP_K || fail ".env value checked: $out"
printf 'The Glimmerfen marsh lies north of the river.\n' > a.txt
printf '# Notes\n\nQuorvath is a city of bridges.\n' > b.md
printf '<html><body><p>Ylvanne orchards grow pears.</p><script>x()</script></body></html>' > c.html
out=$(RAG_TOP_K=2 "$BIN/ragd" ingest a.txt b.md c.html missing.txt 2>&1); rc=$?
[ $rc -eq 1 ] || fail "ingest with a missing file exits 1: $rc $out"
[ -f envdir/from-env-file.db ] || fail "DATABASE_URL from .env used (folder created): $out"
for f in a.txt b.md c.html; do echo "$out" | grep -q "^$f: document [0-9]*, 1 chunks" || fail "ingest $f: $out"; done
echo "$out" | grep -q "missing.txt" || fail "missing file reported: $out"
out=$(RAG_TOP_K=2 "$BIN/ragd" ingest a.txt 2>&1) || fail "second ingest: $out"
echo "$out" | grep -q "already present" || fail "duplicate reported: $out"
out=$(RAG_TOP_K=2 DATABASE_URL=sqlite:other.db "$BIN/ragd" ingest a.txt 2>&1) || fail "ingest into other.db: $out"
[ -f other.db ] || fail "the environment wins over .env"

# ask without an LLM: retrieval works, the LLM error is one clear line, exit 1
out=$(RAG_TOP_K=2 LLM_BASE_URL=http://127.0.0.1:9/v1 LLM_CONNECT_TIMEOUT_MS=2000 "$BIN/ragd" ask "Where is Glimmerfen?" 2>&1); rc=$?
[ $rc -eq 1 ] || fail "ask without LLM exits 1: $rc $out"
echo "$out" | grep -q "127.0.0.1:9" || fail "ask names the LLM URL: $out"

# migrate and reindex before they reach a database (in a folder without the .env above): bad
# settings exit 2 with one line, the dimension comes from --dim, EMBEDDING_DIM or the embedding
# model (migrate skips it for SQLite, reindex does not), an unreachable PostgreSQL exits 1
mkdir mig && cd mig
SQ=sqlite:$T/mig/store.db
PG=postgres://127.0.0.1:1/none   # nothing listens on port 1

# expect RC PATTERN ENV... -- ARGS...: exit code RC, output matching PATTERN
expect() {
  local want=$1 pat=$2; shift 2
  local envs=()
  while [ "$1" != -- ]; do envs+=("$1"); shift; done
  shift
  out=$(env -u DATABASE_URL -u EMBEDDING_DIM -u EMBEDDING_MODEL "${envs[@]}" MODELS_DIR="$T/mig/models" \
        "$BIN/ragd" "$@" 2>&1 </dev/null); rc=$?
  [ $rc -eq "$want" ] || fail "ragd $* (${envs[*]}) → exit $rc (want $want): $out"
  echo "$out" | grep -q -- "$pat" || fail "ragd $* (${envs[*]}) → no \"$pat\" in: $out"
}

expect 0 usage -- migrate --help
expect 2 usage -- migrate sideways
expect 2 "unexpected argument" -- reindex extra
expect 2 DATABASE_URL DATABASE_URL=mysql://x -- migrate status
expect 2 DATABASE_URL DATABASE_URL=mysql://x -- reindex --dim 8

# SQLite: migrate needs no dimension, reindex does
expect 0 "no migrations" DATABASE_URL=$SQ -- migrate status --dim abc
expect 2 "not a number in 1..16000" DATABASE_URL=$SQ -- reindex --dim 0
expect 2 "or give --dim N" DATABASE_URL=$SQ -- reindex
expect 0 "no index to rebuild" DATABASE_URL=$SQ -- reindex --dim 8
expect 0 "no index to rebuild" DATABASE_URL=$SQ EMBEDDING_DIM=8 -- reindex
expect 1 "(dim 64)" DATABASE_URL=$SQ EMBEDDING_MODEL="$FIX/bert-uncased-vocab-tiny.gguf" -- reindex  # the model says 64
expect 0 "no index to rebuild" DATABASE_URL=sqlite:$T/mig/other.db EMBEDDING_MODEL="$FIX/bert-uncased-vocab-tiny.gguf" -- reindex

# PostgreSQL: the dimension is checked before connecting
expect 2 "not a number in 1..16000" DATABASE_URL=$PG -- migrate status --dim abc
expect 2 "not a number in 1..16000" DATABASE_URL=$PG EMBEDDING_DIM=99999 -- migrate up
expect 2 "or give --dim N" DATABASE_URL=$PG EMBEDDING_MODEL=/nonexistent.gguf -- migrate status
expect 1 "ragd migrate status: " DATABASE_URL=$PG EMBEDDING_MODEL="$FIX/bert-uncased-vocab-tiny.gguf" -- migrate status
expect 1 "ragd reindex: " DATABASE_URL=$PG -- reindex --dim 8
cd "$T"
echo OK
