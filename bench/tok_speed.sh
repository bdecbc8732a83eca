#!/usr/bin/env bash
# tok_speed.sh — tokenizer speed sanity on the release build: a ~100 KB mixed text (English,
# code, CJK, emoji, numbers, whitespace runs; built from the parity texts) through the three
# fixture vocabularies with `llmd tokenize --time`, best of 3 runs. Prints load and tokenisation
# times; a 100 KB text should tokenize in well under a second.
#   bench/tok_speed.sh            (LM_RELBIN, LM_FIXTURES as for the tests)
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BIN=${LM_RELBIN:-$ROOT/build/rel/bin}/llmd
FX=${LM_FIXTURES:-$ROOT/../shared/fixtures}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the golden texts repeated up to 100 KB
node -e '
const fs = require("fs");
const texts = JSON.parse(fs.readFileSync(process.argv[1], "utf8")).cases.map((c) => c.text);
let s = "";
for (let i = 0; Buffer.byteLength(s) < 100 * 1024; i++) s += texts[i % texts.length] + "\n";
fs.writeFileSync(process.argv[2], s);
' "$ROOT/tests/parity/tok_golden_llama3_bpe.json" "$tmp/text.txt"
echo "text: $(wc -c < "$tmp/text.txt") bytes"
for m in llama-2-tiny-random llama3-vocab-tiny bert-uncased-vocab-tiny; do
  best=""
  for i in 1 2 3; do
    line=$("$BIN" tokenize -m "$FX/$m.gguf" -f "$tmp/text.txt" --time 2>&1 >/dev/null | tail -1)
    ms=$(sed -n 's/.*tokenize_ms=\([0-9.]*\).*/\1/p' <<< "$line")
    if [ -z "$best" ] || awk "BEGIN{exit !($ms < $best)}"; then best=$ms; bestline=$line; fi
  done
  printf '%-28s %s\n' "$m" "$bestline"
done
