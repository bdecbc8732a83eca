#!/usr/bin/env bash
# run_script.test.sh — `make run`'s script (scripts/run.sh): offline without models it prints one
# clear message saying what to set; with LLM_MODEL_PATH and EMBEDDING_MODEL it needs no network,
# starts llmd and ragd, prints the chat URL, and Ctrl-C (SIGINT) stops both.
set -u
ROOT=${LM_ROOT:-$(pwd)}
RELBIN=${LM_RELBIN:-$ROOT/build/rel/bin}
FIX=${LM_FIXTURES:-$ROOT/../shared/fixtures}
T=${LM_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; [ -f "$T/run.log" ] && tail -n 40 "$T/run.log"; exit 1; }
for b in llmd ragd gguf-synth; do [ -x "$RELBIN/$b" ] || { echo "SKIP: $RELBIN/$b not built (make)"; exit 77; }; done
[ -f "$FIX/bert-uncased-vocab-tiny.gguf" ] || { echo "SKIP: fixtures missing"; exit 77; }
free_port() { node -e "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

# offline, no models: one line that says what to set, non-zero exit
out=$(cd "$T" && LM_RELBIN=$RELBIN MODELS_DIR=$T/empty HF_ENDPOINT=http://127.0.0.1:9 LLM_MODEL_PATH= \
      timeout 60 "$ROOT/scripts/run.sh" 2>&1); rc=$?
[ $rc -ne 0 ] || fail "offline without models must fail"
echo "$out" | grep -q "make run: .*LLM_MODEL_PATH=.*EMBEDDING_MODEL=" || fail "offline message names what to set: $out"

# local models: no network needed
"$RELBIN/gguf-synth" --arch llama --vocab-from "$FIX/llama-2-tiny-random.gguf" --n-embd 64 --n-layer 1 --n-head 2 \
  --n-head-kv 2 --n-ff 128 --n-ctx 1024 --type f32 -o "$T/chat.gguf" >/dev/null || fail "gguf-synth"
LLM_PORT=$(free_port); PORT=$(free_port)
( cd "$T" && exec env LM_RELBIN="$RELBIN" LLM_MODEL_PATH="$T/chat.gguf" EMBEDDING_MODEL="$FIX/bert-uncased-vocab-tiny.gguf" \
    LLM_PORT=$LLM_PORT PORT=$PORT HOST=127.0.0.1 DATABASE_URL="sqlite:$T/run.db" HF_ENDPOINT=http://127.0.0.1:9 \
    LLM_THREADS=1 setsid "$ROOT/scripts/run.sh" ) >"$T/run.log" 2>&1 &
pid=$!
for _ in $(seq 1 300); do
  grep -q "Chat: http://localhost:$PORT/" "$T/run.log" && break
  kill -0 $pid 2>/dev/null || fail "run.sh exited early"
  sleep 0.2
done
grep -q "Chat: http://localhost:$PORT/" "$T/run.log" || fail "no chat URL printed"
curl -fsS "http://127.0.0.1:$PORT/api/v1/health" >/dev/null || fail "ragd health"
curl -fsS "http://127.0.0.1:$LLM_PORT/health" >/dev/null || fail "llmd health"
kill -INT $pid
for _ in $(seq 1 100); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
kill -0 $pid 2>/dev/null && { kill -KILL -- -$pid 2>/dev/null; fail "run.sh did not stop on SIGINT"; }
sleep 0.5
curl -fsS -m 2 "http://127.0.0.1:$PORT/api/v1/health" >/dev/null 2>&1 && fail "ragd still running after Ctrl-C"
curl -fsS -m 2 "http://127.0.0.1:$LLM_PORT/health" >/dev/null 2>&1 && fail "llmd still running after Ctrl-C"
echo OK
