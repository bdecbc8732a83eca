#!/usr/bin/env bash
# tok_chat_goldens.sh — regenerates tests/parity/tok_chat_golden.json: llama.cpp's built-in chat
# templates (llama_chat_apply_template of the prebuilt llama.cpp in node-llama-cpp 3.21.1) for
# every family and a few conversations. Needs the peer installed:
#   npm ci --prefix tests/parity/peer && tests/parity/tok_chat_goldens.sh
# PEER_DIR overrides the folder holding node_modules.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
peer=${PEER_DIR:-$here/peer}
lib=$(find "$peer/node_modules/@node-llama-cpp" -path '*linux-x64/bins/*' -name 'libllama*.so' | head -1)
[ -n "$lib" ] || { echo "libllama not found under $peer (npm ci --prefix tests/parity/peer)" >&2; exit 2; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cc -std=c11 -O1 -o "$tmp/gen" "$here/tok_chat_goldens.c" -ldl
LD_LIBRARY_PATH=$(dirname "$lib") "$tmp/gen" "$lib" > "$tmp/out.json"
mv "$tmp/out.json" "$here/tok_chat_golden.json"
echo "$here/tok_chat_golden.json"
