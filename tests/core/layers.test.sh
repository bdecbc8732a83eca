#!/usr/bin/env bash
# The layers of src/ depend downwards only (SPEC.md §8): tools/check-layers.sh over the tree, and
# proof that the check fails on an include that points up (a store module reaching the HTTP layer).
set -u
tools/check-layers.sh || exit 1
TMP=$(mktemp -d); trap 'rm -rf "$TMP"' EXIT
git ls-files -z src include | tar --null -T - -cf - | tar -C "$TMP" -xf -
mkdir -p "$TMP/tools" && cp tools/check-layers.sh "$TMP/tools/"
(cd "$TMP" && git init -q && sed -i '1i #include "lm/http.h"' src/store/store.c && git add -A >/dev/null)
out=$(cd "$TMP" && tools/check-layers.sh) && { echo "check-layers accepted store -> net"; exit 1; }
echo "$out" | grep -q 'src/store/store.c: includes lm/http.h (layer store may not use layer net)' ||
  { echo "unexpected output: $out"; exit 1; }
echo "ok: upward include refused"
