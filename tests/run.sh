#!/usr/bin/env bash
# Test runner: runs every test binary under build/san/tests and every script test
# (tests/**/*.test.sh, tests/**/*.test.mjs), each in its own process with a timeout.
# Last line: "N passed, N failed".
#
# Environment given to each test:
#   LM_BIN       sanitizer build of the programs (build/san/bin)
#   LM_RELBIN    release build of the programs (build/rel/bin), for slow end-to-end tests
#   LM_FIXTURES  the shared fixtures folder (../shared/fixtures)
#   LM_TMP       a fresh temporary folder for this test, removed afterwards on success
#   LM_ROOT      the repository root
# A test may print "SKIP: reason" and exit 77 to be counted as skipped.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
export LM_ROOT=$ROOT
export LM_BIN=${LM_BIN:-$ROOT/build/san/bin}
export LM_RELBIN=${LM_RELBIN:-$ROOT/build/rel/bin}
export LM_FIXTURES=${LM_FIXTURES:-$(cd "$ROOT/../shared/fixtures" 2>/dev/null && pwd)}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
TIMEOUT=${TEST_TIMEOUT:-600}
FILTER=${1:-}
OUT=$ROOT/build/test-out
mkdir -p "$OUT"

pass=0; fail=0; skip=0; failed=()
run_one() {
  local name=$1; shift
  [ -n "$FILTER" ] && [[ "$name" != *"$FILTER"* ]] && return
  local tmp; tmp=$(mktemp -d /tmp/lmtest.XXXXXX)
  local log="$OUT/$(echo "$name" | tr '/' '_').log"
  local t0=$SECONDS
  LM_TMP=$tmp timeout -k 10 "$TIMEOUT" "$@" >"$log" 2>&1
  local rc=$?
  local dt=$((SECONDS - t0))
  if [ $rc -eq 0 ]; then
    pass=$((pass + 1)); printf 'PASS %-50s %4ds\n' "$name" "$dt"; rm -rf "$tmp"
  elif [ $rc -eq 77 ]; then
    skip=$((skip + 1)); printf 'SKIP %-50s %s\n' "$name" "$(grep -m1 '^SKIP' "$log")"; rm -rf "$tmp"
  else
    fail=$((fail + 1)); failed+=("$name"); printf 'FAIL %-50s %4ds (rc %d, log %s)\n' "$name" "$dt" "$rc" "$log"
    tail -n 30 "$log" | sed 's/^/    | /'
  fi
}

for t in $(find build/san/tests -type f -perm -u+x -name 'test_*' 2>/dev/null | sort); do
  run_one "${t#build/san/}" "$t"
done
for t in $(find build/san/fuzz -name 'replay-*' -type f 2>/dev/null | sort); do
  n=${t##*/replay-}
  [ -d "fuzz/corpus/$n" ] && run_one "fuzz-replay/$n" "$t" "fuzz/corpus/$n"
done
for t in $(find tests -name '*.test.sh' | sort); do run_one "$t" bash "$t"; done
for t in $(find tests -name '*.test.mjs' -not -path '*/node_modules/*' | sort); do run_one "$t" node "$t"; done

[ ${#failed[@]} -gt 0 ] && printf 'failed: %s\n' "${failed[*]}"
if [ $skip -gt 0 ]; then echo "$pass passed, $fail failed, $skip skipped"; else echo "$pass passed, $fail failed"; fi
[ $fail -eq 0 ]
