#!/usr/bin/env bash
# Checks that includes between the layers of src/ point down only (SPEC.md §8):
#   core < kernels < engine;  core < store;  core < net;  engine, store, core < rag;  all < programs.
# A header under include/lm/ belongs to the layer that implements it (table below).
# Prints each violation as "file: includes header (layer A may not use layer B)"; exit 1 if any.
set -euo pipefail
cd "$(dirname "$0")/.."

layer_of_header() {
  case $1 in
    err|log|buf|cpu|pool|sha256) echo core ;;
    quant|kernels) echo kernels ;;
    gguf|gguf_write|tokenizer|chat|model|sampler|embed) echo engine ;;
    store) echo store ;;
    rag|chunk) echo rag ;;
    http|ws|sse_parse|llm_client|multipart|hub) echo net ;;
    *) echo unknown ;;
  esac
}
allowed() {   # allowed LAYER USED
  case $1 in
    core)     [[ $2 == core ]] ;;
    kernels)  [[ $2 == core || $2 == kernels ]] ;;
    engine)   [[ $2 == core || $2 == kernels || $2 == engine ]] ;;
    store)    [[ $2 == core || $2 == store ]] ;;
    net)      [[ $2 == core || $2 == net ]] ;;
    rag)      [[ $2 == core || $2 == engine || $2 == store || $2 == rag ]] ;;
    programs) [[ $2 != programs ]] ;;
    *) return 1 ;;
  esac
}

bad=0
for f in $(git ls-files 'src/*.c' 'src/*.h' 'include/lm/*.h'); do
  if [[ $f == include/lm/* ]]; then
    h=$(basename "$f" .h); L=$(layer_of_header "$h")
    [[ $L == unknown ]] && { echo "$f: header not in the layer table of tools/check-layers.sh"; bad=1; continue; }
  else
    L=$(echo "$f" | cut -d/ -f2)
  fi
  while IFS= read -r inc; do
    case $inc in
      lm/*) U=$(layer_of_header "$(basename "$inc" .h)") ;;
      programs/*) U=programs ;;
      core/*|kernels/*|engine/*|store/*|rag/*|net/*) U=${inc%%/*} ;;
      *) continue ;;     # same-folder or system headers
    esac
    if [[ $U == unknown ]] || ! allowed "$L" "$U"; then
      echo "$f: includes $inc (layer $L may not use layer $U)"; bad=1
    fi
  done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
done
[ $bad = 0 ] && echo "layers: every include points down"
exit $bad
