#!/usr/bin/env bash
# The release build recipe, shared by the Dockerfile's build stage and by the test that proves the
# recipe is not stale (tests/deploy/dockerfile.test.sh runs it outside Docker).
#   deploy/build.sh OUTDIR      builds build/rel and copies llmd, ragd, gguf-synth to OUTDIR
set -euo pipefail
out=${1:?usage: deploy/build.sh OUTDIR}
cd "$(dirname "$0")/.."
make -j"$(nproc)" MODE=rel all
mkdir -p "$out"
for b in llmd ragd gguf-synth; do
  install -m 0755 "build/rel/bin/$b" "$out/$b"
done
