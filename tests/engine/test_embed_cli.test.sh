#!/usr/bin/env bash
# llmd embed on the bert fixture: one line of n_embd numbers per text, each vector of norm 1,
# -f reads one text per line, and bad usage exits 2 with a message.
set -u
BIN=${LM_BIN:-build/san/bin}
M=${LM_FIXTURES:-../shared/fixtures}/bert-uncased-vocab-tiny.gguf
[ -f "$M" ] || { echo "SKIP: fixtures absent"; exit 77; }
T=${LM_TMP:-$(mktemp -d)}
fail() { echo "FAIL: $*"; exit 1; }

"$BIN/llmd" embed -m "$M" -p "hello world" -p "second text" > "$T/out" 2> "$T/err" || fail "llmd embed failed: $(cat "$T/err")"
[ "$(wc -l < "$T/out")" -eq 2 ] || fail "expected 2 lines, got $(wc -l < "$T/out")"
awk '{ if (NF != 64) { print "line " NR ": " NF " numbers"; exit 1 }
       s = 0; for (i = 1; i <= NF; i++) s += $i * $i
       if (s < 0.9999 || s > 1.0001) { print "line " NR ": squared norm " s; exit 1 } }' "$T/out" || fail "bad vectors"

printf 'hello world\n\nsecond text\n' > "$T/texts"
"$BIN/llmd" embed -m "$M" -f "$T/texts" > "$T/out2" 2> "$T/err" || fail "llmd embed -f failed: $(cat "$T/err")"
cmp -s "$T/out" "$T/out2" || fail "-f output differs from -p output"

"$BIN/llmd" embed -m "$M" > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 2 ] || fail "no text: exit $rc, want 2"
grep -q "need" "$T/err" || fail "no usage message: $(cat "$T/err")"
"$BIN/llmd" embed -m "$M" -p x --bogus > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 2 ] || fail "unknown flag: exit $rc, want 2"
"$BIN/llmd" embed -m "$M.missing" -p x > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 1 ] || fail "missing model: exit $rc, want 1"
"$BIN/llmd" embed -m "${LM_FIXTURES:-../shared/fixtures}/llama-2-tiny-random.gguf" -p x > /dev/null 2> "$T/err"; rc=$?
[ $rc -eq 1 ] || fail "decoder model: exit $rc, want 1"
grep -q "not an embedding model" "$T/err" || fail "decoder model message: $(cat "$T/err")"
echo "ok"
