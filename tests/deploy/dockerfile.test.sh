#!/usr/bin/env bash
# Proves the Dockerfile's recipe is not stale, without Docker: copies exactly what the build stage
# COPYs into a fresh folder, checks the build packages it installs are the ones this machine built
# with, runs the same deploy/build.sh there, and compares the stripped binaries with the release
# build. Also checks the runtime packages provide every shared library the binaries need.
set -euo pipefail
root=${LM_ROOT:-$(pwd)}
tmp=${LM_TMP:-$(mktemp -d)}
cd "$root"

ctx=$tmp/context
mkdir -p "$ctx"
# every COPY of the build stage (source paths relative to the context)
awk '/^FROM .* AS build/{b=1; next} /^FROM /{b=0} b && /^COPY /{for(i=2;i<NF;i++) print $i}' Dockerfile |
while read -r src; do
  [ -e "$src" ] || { echo "Dockerfile copies $src, which does not exist"; exit 1; }
  mkdir -p "$ctx/$(dirname "$src")"
  cp -r "$src" "$ctx/$src"
done
[ -f "$ctx/deploy/build.sh" ] || { echo "build stage does not copy deploy/build.sh"; exit 1; }
grep -q 'RUN deploy/build.sh /out' Dockerfile || { echo "build stage does not run deploy/build.sh"; exit 1; }

for p in $(cat deploy/packages-build.txt); do
  dpkg -s "$p" >/dev/null 2>&1 || { echo "build package $p is not installed here (.ci/run must install it)"; exit 1; }
done

(cd "$ctx" && deploy/build.sh "$tmp/out") > "$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; exit 1; }

for b in llmd ragd gguf-synth; do
  [ -x "$tmp/out/$b" ] || { echo "recipe did not produce $b"; exit 1; }
  [ -x "build/rel/bin/$b" ] || { echo "release build has no $b (run make)"; exit 1; }
  # the build id hashes the debug info, which names the build folder: leave it out
  strip -R .note.gnu.build-id -o "$tmp/a" "$tmp/out/$b"; strip -R .note.gnu.build-id -o "$tmp/b" "build/rel/bin/$b"
  cmp -s "$tmp/a" "$tmp/b" || { echo "$b from the Dockerfile recipe differs from the release build"; exit 1; }
done

# runtime libraries: every NEEDED library resolves to a package listed in packages-runtime.txt
for b in llmd ragd; do
  for lib in $(ldd "$tmp/out/$b" | awk '/=> \//{print $3}'); do
    real=$(readlink -f "$lib")
    pkg=$(dpkg -S "$real" 2>/dev/null | head -1 | cut -d: -f1) || true
    [ -z "$pkg" ] && pkg=$(dpkg -S "$lib" 2>/dev/null | head -1 | cut -d: -f1) || true
    case $pkg in libc6|libgcc-s1|libstdc++6|"") continue;; esac
    # direct dependencies must be listed; transitive ones come with them
    if ! grep -qx "$pkg" deploy/packages-runtime.txt; then
      direct=$(readelf -d "$tmp/out/$b" | awk -F'[][]' '/NEEDED/{print $2}')
      base=$(basename "$lib")
      if echo "$direct" | grep -qx "$base"; then
        echo "$b needs $base from $pkg, not in deploy/packages-runtime.txt"; exit 1
      fi
    fi
  done
done
echo "Dockerfile recipe reproduces the release binaries"
