#!/usr/bin/env bash
# Compares gguf-synth's Q4_K_M / Q5_K_M / Q6_K files with what llama.cpp's own quantizer makes of
# the same model in F32: tensor names, types and shapes, and general.file_type, for several
# architectures and layer counts. Uses the peer's prebuilt library (node-llama-cpp, x86-64 Linux;
# installed by bench/engine/run.sh) and the llama.h of its bundled source. Exit 1 on a difference.
#
#   bench/engine/mixcheck.sh
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${LM_RELBIN:-$ROOT/build/rel/bin}
WORK=${BENCH_WORK:-$ROOT/build/bench-engine}/mixcheck
NM=bench/engine/node_modules
LIB=$NM/@node-llama-cpp/linux-x64/bins/linux-x64
[ -x "$BIN/gguf-synth" ] || { echo "build first: make" >&2; exit 1; }
[ -d "$LIB" ] && [ -f "$NM/node-llama-cpp/llama/gitRelease.bundle" ] ||
  { echo "the peer is not installed (run bench/engine/run.sh once, on x86-64 Linux)" >&2; exit 1; }
mkdir -p "$WORK"
LIB=$(cd "$LIB" && pwd)
SO=$(ls "$LIB"/libllama.*so | grep -v common | head -1)
[ -d "$WORK/src" ] || git clone -q "$NM/node-llama-cpp/llama/gitRelease.bundle" "$WORK/src" 2>/dev/null
cc -O1 -o "$WORK/mixcheck" bench/engine/mixcheck.c -I"$WORK/src/include" -I"$WORK/src/ggml/include" \
  "$SO" -Wl,-rpath,"$LIB"

listed() { "$BIN/gguf-synth" --list "$1" | awk '{print $1, $2, $3, $4}' | sort; }
bad=0
check() {   # check FTYPE TYPE gguf-synth-args...
  local ft=$1 ty=$2; shift 2
  "$BIN/gguf-synth" --type f32 "$@" -o "$WORK/f32.gguf"
  "$WORK/mixcheck" "$WORK/f32.gguf" "$WORK/ref.gguf" "$ft" >"$WORK/quantize.log" 2>&1 ||
    { echo "llama.cpp's quantizer failed: $(tail -2 "$WORK/quantize.log")"; bad=1; return; }
  "$BIN/gguf-synth" --type "$ty" "$@" -o "$WORK/ours.gguf"
  if diff <(listed "$WORK/ref.gguf") <(listed "$WORK/ours.gguf") >"$WORK/diff.txt"; then
    echo "same: $ty $*"
  else
    echo "DIFFERENT: $ty $*"; head -6 "$WORK/diff.txt"; bad=1
  fi
}
C="--n-embd 256 --n-ff 512 --n-head 4 --n-head-kv 1"
for nl in 1 2 3 5 8 9 16 22 32; do check 15 q4_k_m $C --n-layer $nl; done
check 15 q4_k_m $C --n-layer 8 --tied
check 15 q4_k_m $C --n-layer 8 --arch qwen2
check 15 q4_k_m $C --n-layer 12 --arch gemma3
check 15 q4_k_m $C --n-layer 12 --arch gemma3 --tied
check 15 q4_k_m --n-embd 256 --n-ff 512 --n-head 4 --n-layer 6 --arch bert
check 15 q4_k_m --n-embd 256 --n-ff 384 --n-head 4 --n-head-kv 1 --n-layer 1   # Q6_K -> Q8_0 fallback
check 17 q5_k_m $C --n-layer 22
check 17 q5_k_m $C --n-layer 8 --tied
check 18 q6_k $C --n-layer 22
rm -f "$WORK"/*.gguf
exit $bad
