#!/usr/bin/env bash
# Serving benchmark: aggregate generation tok/s of llmd with 1, 2 and 4 concurrent streams
# (continuous batching, -np 4), written as a section of bench/RESULTS.md.
#
#   bench/serve/run.sh                 1.1B shape (TinyLlama: 2048 x 22 layers, GQA 32/4, ffn 5632), Q4_0
#   SERVE_SHAPE=small bench/serve/run.sh   a 60M-parameter shape, for a quick look
#   SERVE_TOKENS=64 SERVE_ROUNDS=2 SERVE_THREADS=2   generation length, repetitions, threads
#
# The model is written by gguf-synth (random weights, Llama 2 vocabulary from the fixtures),
# so the text is noise; tokens per second is what is measured (ignore_eos keeps lengths equal).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${LM_RELBIN:-$ROOT/build/rel/bin}
FIX=${LM_FIXTURES:-$(cd "$ROOT/../shared/fixtures" 2>/dev/null && pwd)}
SHAPE=${SERVE_SHAPE:-1.1b}
TOKENS=${SERVE_TOKENS:-64}
ROUNDS=${SERVE_ROUNDS:-2}
THREADS=${SERVE_THREADS:-$(nproc)}
WORK=${SERVE_WORK:-$ROOT/build/bench-serve}
mkdir -p "$WORK"
MODEL=$WORK/serve-$SHAPE.gguf

[ -x "$BIN/llmd" ] && [ -x "$BIN/gguf-synth" ] || { echo "build first: make" >&2; exit 1; }
if [ ! -f "$MODEL" ]; then
  case $SHAPE in
    1.1b)  ARGS="--n-embd 2048 --n-layer 22 --n-head 32 --n-head-kv 4 --n-ff 5632 --n-ctx 2048 --type q4_0" ;;
    small) ARGS="--n-embd 512 --n-layer 8 --n-head 8 --n-head-kv 4 --n-ff 1408 --n-ctx 2048 --type q4_0" ;;
    *) echo "unknown SERVE_SHAPE $SHAPE" >&2; exit 2 ;;
  esac
  "$BIN/gguf-synth" --arch llama $ARGS --vocab-from "$FIX/llama-2-tiny-random.gguf" --seed 1 -o "$MODEL" >/dev/null
fi

LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
LOG=$WORK/llmd.log
"$BIN/llmd" -m "$MODEL" --port 0 -np 4 -c 512 -t "$THREADS" >"$LOG" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 600); do
  PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG" | head -1)
  [ -n "$PORT" ] && curl -fsS "http://127.0.0.1:$PORT/health" >/dev/null 2>&1 && break
  kill -0 $PID 2>/dev/null || { cat "$LOG" >&2; exit 1; }
  sleep 0.5
done
BASE=http://127.0.0.1:$PORT

node bench/serve/load.mjs "$BASE" 1 8 1 >/dev/null   # warm-up (page in the weights)
declare -A R
for n in 1 2 4; do
  R[$n]=$(node bench/serve/load.mjs "$BASE" "$n" "$TOKENS" "$ROUNDS")
  echo "streams=$n ${R[$n]}"
done
node bench/serve/load.mjs "$BASE" --ids 4 >"$WORK/ids.json"
kill $PID; wait $PID 2>/dev/null || true

# the peer: llama.cpp through node-llama-cpp (the engine benchmark's pinned install)
declare -A P
PEER=bench/engine/node_modules/node-llama-cpp
if [ ! -d "$PEER" ]; then
  (cd bench/engine && npm install --no-audit --no-fund --loglevel=error) >&2 || true
fi
for n in 1 2 4; do
  if [ -d "$PEER" ]; then
    P[$n]=$(node bench/serve/peer.mjs "$MODEL" "$THREADS" "$WORK/ids.json" "$n" "$TOKENS" 2>/dev/null | tail -1 || true)
    echo "peer streams=$n ${P[$n]}"
  fi
  P[$n]=${P[$n]:-"{}"}
done
field() { echo "$1" | sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p"; }
ratio() { python3 -c "import sys; a,b=sys.argv[1:]; print(f'{float(a)/float(b):.2f}' if a and b and float(b)>0 else '–')" "$1" "$2"; }

LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)
CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
SECTION=$(cat <<MD
<!-- serve:begin -->
## llmd serving: continuous batching (bench/serve)

Machine: $CPU, $(nproc) cores, $(uname -m); $(date -u +%Y-%m-%d); load average before the run: $LOAD, after: $LOAD_AFTER.
Model: gguf-synth \`$SHAPE\` llama shape, Q4_0, random weights (Llama 2 vocabulary).
Server: \`llmd -m MODEL -np 4 -c 512 -t $THREADS\`; client: \`node bench/serve/load.mjs\`, $TOKENS tokens per
stream (greedy, ignore_eos), $ROUNDS rounds. Command: \`bench/serve/run.sh\`.

| concurrent streams | llmd aggregate tok/s | llmd per-stream tok/s | llmd median TTFT (ms) | peer aggregate tok/s | llmd / peer |
|---:|---:|---:|---:|---:|---:|
| 1 | $(field "${R[1]}" tok_per_s) | $(field "${R[1]}" per_stream_tok_per_s) | $(field "${R[1]}" ttft_ms_median) | $(field "${P[1]}" tok_per_s) | $(ratio "$(field "${R[1]}" tok_per_s)" "$(field "${P[1]}" tok_per_s)") |
| 2 | $(field "${R[2]}" tok_per_s) | $(field "${R[2]}" per_stream_tok_per_s) | $(field "${R[2]}" ttft_ms_median) | $(field "${P[2]}" tok_per_s) | $(ratio "$(field "${R[2]}" tok_per_s)" "$(field "${P[2]}" tok_per_s)") |
| 4 | $(field "${R[4]}" tok_per_s) | $(field "${R[4]}" per_stream_tok_per_s) | $(field "${R[4]}" ttft_ms_median) | $(field "${P[4]}" tok_per_s) | $(ratio "$(field "${R[4]}" tok_per_s)" "$(field "${P[4]}" tok_per_s)") |

Aggregate tok/s = generated tokens of all streams / wall time from the first request to the last
token (prompt processing included). All streams of a step are decoded in one batched forward pass,
so the weights are read once per step for every stream. Peer: llama.cpp through node-llama-cpp
3.21.1 (\`bench/serve/peer.mjs\`), one context with N sequences decoded together, same model,
threads, prompt token ids and length, in-process (no HTTP). llmd reuses cached prompt prefixes (as
llama-server does; the warm-up and the earlier prompts share the chat-template prefix), the peer
decodes every prompt in full. On this shared 2-core machine other processes disturb the numbers;
the load average above says how much.
<!-- serve:end -->
MD
)
RES=bench/RESULTS.md
[ -f "$RES" ] || printf '# Benchmark results\n\n' >"$RES"
if grep -q '<!-- serve:begin -->' "$RES"; then
  python3 - "$RES" "$SECTION" <<'PY'
import re, sys
p, sec = sys.argv[1], sys.argv[2]
s = open(p).read()
s = re.sub(r'<!-- serve:begin -->.*?<!-- serve:end -->', lambda m: sec, s, flags=re.S)
open(p, 'w').write(s)
PY
else
  printf '\n%s\n' "$SECTION" >>"$RES"
fi
echo "written to $RES"
