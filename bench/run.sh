#!/usr/bin/env bash
# make bench: every benchmark in turn; each writes its own section of bench/RESULTS.md.
# A benchmark that fails is reported and the others still run.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
fail=0
run() { echo "== $*"; "$@" || { echo "benchmark failed: $*" >&2; fail=1; }; }

run bench/engine/run.sh
run bench/serve/run.sh
exit $fail
