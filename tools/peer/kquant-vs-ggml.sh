#!/usr/bin/env bash
# kquant-vs-ggml.sh — builds tools/peer/kquant-vs-ggml.c against the release library and the
# ggml CPU library node-llama-cpp ships for this machine, and runs it (x86-64 Linux with AVX2:
# the "haswell" variant of ggml-cpu, the one llama.cpp loads on such a CPU).
#   (cd tools/peer && npm ci) && make && tools/peer/kquant-vs-ggml.sh
# Env: GGML_CPU_LIB (default: the haswell variant under tools/peer/node_modules).
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
bins=$root/tools/peer/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64
lib=${GGML_CPU_LIB:-$bins/libggml-cpu-haswell.so}
[ -f "$lib" ] || { echo "no $lib: run npm ci in tools/peer" >&2; exit 2; }
dir=$(dirname "$lib")
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
cc -O2 -std=c11 -D_GNU_SOURCE -I"$root/include" -I"$root/src" "$root/tools/peer/kquant-vs-ggml.c" \
   "$root/build/rel/liblm.a" -o "$out/kquant-vs-ggml" "$lib" -L"$dir" -l:libggml-base.so \
   -Wl,-rpath,"$dir" -lm -lpthread
"$out/kquant-vs-ggml"
