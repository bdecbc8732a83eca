#!/usr/bin/env bash
# cli.test.sh — ragd's command line: --help on each command, bad settings are one line and exit
# 2, .env is read (the environment wins), `ragd ingest` adds files and reports duplicates,
# `ragd ask` with no LLM fails with a clear message.
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
echo OK
