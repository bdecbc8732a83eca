#!/usr/bin/env bash
# gguf-synth: deterministic bytes per seed, every tensor type loads and runs, --vocab-from copies
# the tokenizer, --tied drops output.weight, and bad options are usage errors (2), bad inputs 1.
set -u
SYNTH=${LM_BIN:-build/san/bin}/gguf-synth
LLMD=${LM_RELBIN:-build/rel/bin}/llmd
[ -x "$LLMD" ] || LLMD=${LM_BIN:-build/san/bin}/llmd
FIX=${LM_FIXTURES:-../shared/fixtures}
T=${LM_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }

"$SYNTH" --seed 5 -o "$T/a.gguf" || fail "synth a"
"$SYNTH" --seed 5 -o "$T/b.gguf" || fail "synth b"
"$SYNTH" --seed 6 -o "$T/c.gguf" || fail "synth c"
cmp -s "$T/a.gguf" "$T/b.gguf" || fail "same seed, different bytes"
cmp -s "$T/a.gguf" "$T/c.gguf" && fail "different seeds, same bytes"

for t in f32 f16 bf16 q8_0 q4_0 q4_1 q4_k q5_k q6_k; do
  "$SYNTH" --type $t --n-embd 256 --n-ff 256 --n-layer 1 --seed 1 -o "$T/$t.gguf" || fail "synth $t"
  ids=$("$LLMD" run -m "$T/$t.gguf" -p "abc" -n 3 --print-ids -t 1 2>/dev/null) || fail "run $t"
  [ -n "$ids" ] || fail "no ids for $t"
done
"$SYNTH" --arch qwen2 --n-head 4 --n-head-kv 1 -o "$T/qwen2.gguf" || fail "synth qwen2"
"$LLMD" run -m "$T/qwen2.gguf" -p "abc" -n 3 --print-ids -t 1 >/dev/null 2>&1 || fail "run qwen2"

# a 256-wide K-quant needs rows that are multiples of 256
"$SYNTH" --type q4_k --n-embd 64 -o "$T/bad.gguf" 2>"$T/err"; rc=$?
[ $rc -eq 1 ] && grep -q "block size 256" "$T/err" || fail "q4_k with n_embd 64: rc $rc $(cat "$T/err")"

if [ -f "$FIX/llama-2-tiny-random.gguf" ]; then
  "$SYNTH" --vocab-from "$FIX/llama-2-tiny-random.gguf" --tied -o "$T/v.gguf" || fail "vocab-from"
  a=$("$LLMD" tokenize -m "$T/v.gguf" -p "Hello world" 2>/dev/null)
  b=$("$LLMD" tokenize -m "$FIX/llama-2-tiny-random.gguf" -p "Hello world" 2>/dev/null)
  [ -n "$a" ] && [ "$a" = "$b" ] || fail "copied vocabulary tokenizes differently: '$a' vs '$b'"
  "$LLMD" run -m "$T/v.gguf" -p "Hello world" -n 4 --print-ids -t 1 >/dev/null 2>&1 || fail "run tied"
fi

"$SYNTH" -o "$T/x.gguf" --type q9_9 >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad type"
"$SYNTH" -o "$T/x.gguf" --arch nope >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad arch"
"$SYNTH" --n-embd 64 >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing -o"
"$SYNTH" --vocab-from "$T/absent.gguf" -o "$T/x.gguf" >/dev/null 2>&1; [ $? -eq 1 ] || fail "absent vocab file"
"$SYNTH" -o /nonexistent-dir/x.gguf >/dev/null 2>&1; [ $? -eq 1 ] || fail "unwritable output"
echo ok
