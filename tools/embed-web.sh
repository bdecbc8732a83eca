#!/bin/sh
# Embeds the built web bundle into ragd as C source.
# Usage: tools/embed-web.sh [DIST_DIR [OUT.c]]   (defaults: web/dist src/programs/ragd/web_bundle.c)
# Needs Node.js and gzip; only `make web` runs it, so building the C programs needs neither.
set -eu
cd "$(dirname "$0")/.."
exec node tools/embed-web.mjs "${1:-web/dist}" "${2:-src/programs/ragd/web_bundle.c}"
