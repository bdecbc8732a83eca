#!/usr/bin/env bash
# gguf-synth: deterministic bytes per seed, every tensor type loads and runs, the Q4_K_M / Q5_K_M
# mixes put each tensor in the type llama.cpp's quantizer picks (read back with --list), --vocab-from
# copies the tokenizer, --tied drops output.weight, and bad options are usage errors (2), bad inputs 1.
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

# the Q4_K_M mix, as llama.cpp's quantizer writes it: Q6_K for output.weight and for attn_v and
# ffn_down on layers 0, 1, 4, 7, 10, 13, 16, 19, 20, 21 of 22 (first and last eighth, every
# third between), Q4_K for every other matrix, F32 norms, general.file_type 15
M="--n-embd 256 --n-ff 512 --n-head 4 --n-head-kv 1 --seed 2"
"$SYNTH" --type q4_k_m $M --n-layer 22 -o "$T/km.gguf" || fail "synth q4_k_m"
"$SYNTH" --list "$T/km.gguf" > "$T/km.txt" || fail "list q4_k_m"
grep -qx "file_type 15" "$T/km.txt" || fail "q4_k_m file type: $(head -1 "$T/km.txt")"
want=""
for i in $(seq 0 21); do
  more=Q4_K; case " 0 1 4 7 10 13 16 19 20 21 " in *" $i "*) more=Q6_K ;; esac
  want+="blk.$i.attn_norm.weight F32 blk.$i.attn_q.weight Q4_K blk.$i.attn_k.weight Q4_K blk.$i.attn_v.weight $more "
  want+="blk.$i.attn_output.weight Q4_K blk.$i.ffn_norm.weight F32 blk.$i.ffn_gate.weight Q4_K "
  want+="blk.$i.ffn_up.weight Q4_K blk.$i.ffn_down.weight $more "
done
want="token_embd.weight Q4_K ${want}output_norm.weight F32 output.weight Q6_K"
got=$(awk '$1 == "tensor" {printf "%s%s %s", n++ ? " " : "", $2, $3}' "$T/km.txt")
[ "$got" = "$want" ] || fail "q4_k_m tensor types: $(diff <(echo "$want" | xargs -n2) <(echo "$got" | xargs -n2) | head -5)"
grep -q "^tensor blk.21.ffn_down.weight Q6_K 512,256 " "$T/km.txt" || fail "q4_k_m shape: $(grep blk.21.ffn_down "$T/km.txt")"
"$LLMD" run -m "$T/km.gguf" -p "abc" -n 3 --print-ids -t 1 >/dev/null 2>&1 || fail "run q4_k_m"
# tied: token_embd doubles as the output matrix, so it gets the output's Q6_K; so does an encoder's
"$SYNTH" --type q4_k_m $M --n-layer 2 --tied -o "$T/kt.gguf" || fail "synth q4_k_m tied"
"$SYNTH" --list "$T/kt.gguf" | grep -q "^tensor token_embd.weight Q6_K " || fail "q4_k_m tied token_embd"
"$LLMD" run -m "$T/kt.gguf" -p "abc" -n 3 --print-ids -t 1 >/dev/null 2>&1 || fail "run q4_k_m tied"
"$SYNTH" --arch bert --type q4_k_m --n-embd 256 --n-ff 512 --n-head 4 --n-layer 2 -o "$T/kb.gguf" || fail "synth bert q4_k_m"
"$SYNTH" --list "$T/kb.gguf" | grep -q "^tensor token_embd.weight Q6_K " || fail "bert q4_k_m token_embd"
"$SYNTH" --list "$T/kb.gguf" | grep -q "^tensor position_embd.weight F32 " || fail "bert q4_k_m position_embd"
# a Q6_K row that is not a multiple of 256 falls back to Q8_0 (one layer: every layer gets more bits)
"$SYNTH" --type q4_k_m --n-embd 256 --n-ff 384 --n-layer 1 -o "$T/k8.gguf" || fail "synth q4_k_m n_ff 384"
"$SYNTH" --list "$T/k8.gguf" | grep -q "^tensor blk.0.ffn_down.weight Q8_0 384,256 " || fail "q4_k_m Q8_0 fallback"
# Q5_K_M: the same choice over Q5_K, file type 17
"$SYNTH" --type q5_k_m $M --n-layer 8 -o "$T/k5.gguf" || fail "synth q5_k_m"
"$SYNTH" --list "$T/k5.gguf" > "$T/k5.txt" || fail "list q5_k_m"
grep -qx "file_type 17" "$T/k5.txt" && grep -q "^tensor blk.2.attn_v.weight Q5_K " "$T/k5.txt" &&
  grep -q "^tensor blk.7.ffn_down.weight Q6_K " "$T/k5.txt" && grep -q "^tensor output.weight Q6_K " "$T/k5.txt" ||
  fail "q5_k_m types: $(grep -v F32 "$T/k5.txt" | head -12)"
"$SYNTH" --list "$T/absent.gguf" >/dev/null 2>&1; [ $? -eq 1 ] || fail "--list absent file"

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
