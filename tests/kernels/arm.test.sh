#!/usr/bin/env bash
# ARM64 kernels, run, not only compiled: cross-builds the kernel tests (make cross: static,
# aarch64-linux-gnu-gcc) and runs them under qemu-aarch64. With -cpu max the NEON and the
# dotprod kernels are both checked against the scalar reference; with -cpu cortex-a53 (no
# dotprod) detection must fall back to plain NEON.
set -u
ROOT=${LM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$ROOT"
for tool in aarch64-linux-gnu-gcc qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool not installed (apt-get install gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-user)"; exit 77; }
done
[ -d /usr/aarch64-linux-gnu ] || { echo "SKIP: aarch64 sysroot missing (libc6-dev-arm64-cross)"; exit 77; }
make -s cross -j2 >"${LM_TMP:-/tmp}/cross.log" 2>&1 || { tail -30 "${LM_TMP:-/tmp}/cross.log"; echo "FAIL: make cross"; exit 1; }
fail=0
# Only *_dotprod_neon.o may contain dotprod instructions (kernels installed after the HWCAP
# check); the other NEON objects must be baseline ARMv8-A: no SDOT/UDOT, no FP16 arithmetic
# (half<->single FCVT* is ARMv8.0 and allowed).
if command -v aarch64-linux-gnu-objdump >/dev/null; then
  ndp=0
  for o in build/aarch64/src/kernels/*_neon.o; do
    dis=$(aarch64-linux-gnu-objdump -d "$o")
    case $o in
      *_dotprod_neon.o) ndp=$(echo "$dis" | grep -c -w sdot);;
      *) bad=$(echo "$dis" | grep -E -w '[su]dot' | head -3)
         bad=$bad$(echo "$dis" | grep -E '\sf[a-z0-9]*\s' | grep -v -E '\sfcvt[a-z]*\s' | grep -E '\.[48]h\b|\sh[0-9]+\b' | head -3)
         [ -z "$bad" ] || { echo "FAIL: $o has instructions beyond ARMv8.0:"; echo "$bad"; fail=1; };;
    esac
  done
  [ "$ndp" -gt 0 ] || { echo "FAIL: no SDOT in the dotprod kernel object"; fail=1; }
fi
n=0
simd_out=""
for t in build/aarch64/tests/kernels/test_*; do
  case $t in *.d|*.o) continue;; esac
  [ -x "$t" ] || continue
  n=$((n + 1))
  echo "== $t (qemu -cpu max)"
  out=$(timeout 600 qemu-aarch64 -cpu max -L /usr/aarch64-linux-gnu "$t" 2>&1); rc=$?
  echo "$out" | tail -3
  if [ $rc -ne 0 ]; then echo "FAIL: $t under qemu -cpu max (rc $rc)"; echo "$out" | tail -20; fail=1; fi
  case $t in */test_simd) simd_out=$out;; esac
done
[ $n -ge 3 ] || { echo "FAIL: only $n kernel tests cross-built"; exit 1; }
echo "$simd_out" | grep -q '^-- neon+dotprod$' || { echo "FAIL: the dotprod kernels were not exercised"; fail=1; }
echo "$simd_out" | grep -q 'active kernels: neon+dotprod' || { echo "FAIL: -cpu max should select neon+dotprod"; fail=1; }
echo "== test_simd (qemu -cpu cortex-a53)"
out=$(timeout 600 qemu-aarch64 -cpu cortex-a53 -L /usr/aarch64-linux-gnu build/aarch64/tests/kernels/test_simd 2>&1); rc=$?
echo "$out" | tail -2
[ $rc -eq 0 ] || { echo "FAIL: test_simd on cortex-a53"; fail=1; }
echo "$out" | grep -q 'active kernels: neon ' || { echo "FAIL: cortex-a53 (no dotprod) should select plain neon"; fail=1; }
[ $fail -eq 0 ] && echo "arm64 kernel tests passed under qemu"
exit $fail
