#!/usr/bin/env bash
# The committed src/programs/ragd/web_bundle.c matches web/ as it is now: builds the page into a
# temporary folder, embeds it, and compares byte for byte (catches a forgotten `make web`).
# Needs web/node_modules (`cd web && npm ci`); skips without it, as CI does not build the page.
set -euo pipefail
ROOT=${LM_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
TMP=${LM_TMP:-$(mktemp -d)}
cd "$ROOT/web"
if [ ! -x node_modules/.bin/vite ]; then
  echo "SKIP: web/node_modules not installed (cd web && npm ci)"
  exit 77
fi
node_modules/.bin/vite build --logLevel error --outDir "$TMP/dist" --emptyOutDir
node "$ROOT/tools/embed-web.mjs" "$TMP/dist" "$TMP/web_bundle.c" >/dev/null
if ! cmp -s "$TMP/web_bundle.c" "$ROOT/src/programs/ragd/web_bundle.c"; then
  echo "FAIL: src/programs/ragd/web_bundle.c is out of date with web/ (run: make web, then commit it)"
  exit 1
fi
echo "web_bundle.c matches web/"
