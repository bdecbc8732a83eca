#!/usr/bin/env bash
# llmd run end to end: ids and text output, determinism (greedy and seeded), the timing line,
# and exit codes with one-line messages for bad models (1) and bad usage (2).
set -u
LLMD=${LM_BIN:-build/san/bin}/llmd
SYNTH=${LM_RELBIN:-build/rel/bin}/gguf-synth
[ -x "$SYNTH" ] || SYNTH=${LM_BIN:-build/san/bin}/gguf-synth
T=${LM_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }

"$SYNTH" --type q8_0 --seed 9 -o "$T/m.gguf" || fail "gguf-synth"

ids=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 --print-ids -t 1 2>"$T/err") || fail "run --print-ids exit $?"
[ "$(echo "$ids" | wc -l)" -eq 1 ] || fail "ids not on one line: $ids"
n=$(echo "$ids" | wc -w)
[ "$n" -ge 1 ] && [ "$n" -le 12 ] || fail "expected up to 12 ids, got '$ids'"
echo "$ids" | grep -Eq '^[0-9]+( [0-9]+)*$' || fail "ids format: $ids"
grep -Eq '^timings: prompt [0-9]+ tokens, [0-9.]+ tok/s; generation [0-9]+ tokens, [0-9.]+ tok/s$' "$T/err" || fail "timing line: $(cat "$T/err")"

again=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 --print-ids -t 2 2>/dev/null)
[ "$ids" = "$again" ] || fail "greedy not deterministic: '$ids' vs '$again'"
s1=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 --print-ids --temp 1.5 --seed 5 2>/dev/null)
s2=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 --print-ids --temp 1.5 --seed 5 2>/dev/null)
[ "$s1" = "$s2" ] || fail "seeded sampling not reproducible"
s3=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 --print-ids --temp 1.5 --seed 6 --top-k 50 --top-p 0.9 2>/dev/null) || fail "sampling options"

text=$("$LLMD" run -m "$T/m.gguf" -p "hello world" -n 12 2>/dev/null) || fail "text run"
[ -n "$text" ] || fail "no text"

# bad models: exit 1, exactly one line on stderr
printf 'not a model' >"$T/junk.gguf"
head -c 5000 "$T/m.gguf" >"$T/trunc.gguf"
for bad in "$T/junk.gguf" "$T/trunc.gguf" "$T/absent.gguf"; do
  "$LLMD" run -m "$bad" -p hi -n 2 >/dev/null 2>"$T/err"; rc=$?
  [ $rc -eq 1 ] || fail "$bad: exit $rc"
  [ "$(wc -l <"$T/err")" -eq 1 ] || fail "$bad: stderr not one line: $(cat "$T/err")"
done
# usage errors: exit 2
"$LLMD" run -p hi >/dev/null 2>&1; [ $? -eq 2 ] || fail "missing -m"
"$LLMD" run -m "$T/m.gguf" -p hi --bogus 1 >/dev/null 2>&1; [ $? -eq 2 ] || fail "unknown option"
"$LLMD" run -m "$T/m.gguf" -p hi -n abc >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad -n"
# a prompt longer than the context: exit 1
"$LLMD" run -m "$T/m.gguf" -p "one two three four five six seven" -c 3 -n 2 >/dev/null 2>"$T/err"; rc=$?
[ $rc -eq 1 ] || fail "prompt over context: exit $rc"
echo ok
