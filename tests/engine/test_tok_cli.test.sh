#!/usr/bin/env bash
# llmd tokenize / llmd template from the command line: ids of the fixtures (with BOS as llama.cpp
# adds it; goldens from tests/parity/tok_golden_*.json), --special, --no-bos, exit codes 1 (bad
# model) and 2 (usage), and the chat template text for a messages file.
set -u
BIN=${LM_BIN:-build/san/bin}/llmd
FX=${LM_FIXTURES:-../shared/fixtures}
TMP=${LM_TMP:-$(mktemp -d)}
[ -f "$FX/llama-2-tiny-random.gguf" ] || { echo "SKIP: fixtures not found"; exit 77; }
fail=0
check() {  # name, expected, actual
  if [ "$2" != "$3" ]; then echo "FAIL $1"; echo "  want: $2"; echo "  got:  $3"; fail=1; else echo "ok   $1"; fi
}

L2=$FX/llama-2-tiny-random.gguf
L3=$FX/llama3-vocab-tiny.gguf
BE=$FX/bert-uncased-vocab-tiny.gguf

check "spm hello" "1 15043 3186" "$("$BIN" tokenize -m "$L2" -p "Hello world")"
check "spm no-bos" "15043 3186" "$("$BIN" tokenize -m "$L2" -p "Hello world" --no-bos)"
check "spm text <s>" "1 529 29879 29958 15043" "$("$BIN" tokenize -m "$L2" -p "<s> Hello")"
check "spm --special <s>" "1 1 29871 15043" "$("$BIN" tokenize -m "$L2" -p "<s> Hello" --special)"
check "bpe hello" "128000 9906 1917" "$("$BIN" tokenize -m "$L3" -p "Hello world")"
check "bpe --special" "128000 128006 882 128007" "$("$BIN" tokenize -m "$L3" -p "<|start_header_id|>user<|end_header_id|>" --special)"
check "wpm cls/sep" "101 7592 1010 2088 999 102" "$("$BIN" tokenize -m "$BE" -p "Hello, world!")"
check "empty prompt" "1" "$("$BIN" tokenize -m "$L2" -p "")"
printf 'line one\nline two' > "$TMP/p.txt"
check "prompt file" "1 1196 697 13 1220 1023" "$("$BIN" tokenize -m "$L2" -f "$TMP/p.txt")"

"$BIN" tokenize -m "$TMP/missing.gguf" -p x > "$TMP/out" 2> "$TMP/err"; rc=$?
check "bad model rc" "1" "$rc"
check "bad model one line" "1" "$(wc -l < "$TMP/err" | tr -d ' ')"
head -c 100 "$L2" > "$TMP/trunc.gguf"
"$BIN" tokenize -m "$TMP/trunc.gguf" -p x > /dev/null 2>&1; check "truncated model rc" "1" "$?"
"$BIN" tokenize -p x > /dev/null 2>&1; check "usage rc" "2" "$?"
"$BIN" tokenize -m "$L2" -p x --bogus > /dev/null 2>&1; check "unknown flag rc" "2" "$?"

cat > "$TMP/msgs.json" <<'EOF'
[{"role": "system", "content": "You are terse."},
 {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}]
EOF
want=$(printf '<|start_header_id|>system<|end_header_id|>\n\nYou are terse.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\nX')
check "template llama3" "$want" "$("$BIN" template -m "$L3" -f "$TMP/msgs.json"; printf X)"
want=$(printf '<start_of_turn>user\nYou are terse.\n\nHi there<end_of_turn>\n<start_of_turn>model\nX')
check "template --chat-template gemma" "$want" "$("$BIN" template -m "$L3" -f "$TMP/msgs.json" --chat-template gemma; printf X)"
want=$(printf '<|im_start|>system\nYou are terse.<|im_end|>\n<|im_start|>user\nHi there<|im_end|>\nX')
check "template default chatml, no generation prompt" "$want" "$("$BIN" template -m "$L2" -f "$TMP/msgs.json" --no-generation-prompt; printf X)"
"$BIN" template -m "$L3" -f "$TMP/msgs.json" --chat-template nope > /dev/null 2>&1; check "template unknown name rc" "2" "$?"
echo '{"messages": 5}' > "$TMP/bad.json"
"$BIN" template -m "$L3" -f "$TMP/bad.json" > /dev/null 2>&1; check "template bad messages rc" "1" "$?"
"$BIN" template -m "$TMP/missing.gguf" -f "$TMP/msgs.json" > /dev/null 2>&1; check "template bad model rc" "1" "$?"
exit $fail
