#!/usr/bin/env bash
# Runs each libFuzzer target in $1 for FUZZ_TIME seconds on its corpus (new finds are kept
# in build/fuzz-corpus/<name>, the committed corpus is only read).
set -u
dir=${1:-build/fuzz}/fuzz
t=${FUZZ_TIME:-60}
rc=0
for f in "$dir"/*; do
  [ -x "$f" ] || continue
  case $f in *replay-*) continue;; esac
  n=$(basename "$f")
  mkdir -p "build/fuzz-corpus/$n"
  dict=""; [ -f "fuzz/$n.dict" ] && dict="-dict=fuzz/$n.dict"
  echo "== $n ($t s)"
  "$f" -max_total_time="$t" -print_final_stats=1 $dict "build/fuzz-corpus/$n" "fuzz/corpus/$n" > "build/fuzz-corpus/$n.log" 2>&1 || rc=1
  grep -E "DONE|ERROR|SUMMARY|number_of_executed_units|new_units_added" "build/fuzz-corpus/$n.log"
done
exit $rc
