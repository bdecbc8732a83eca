#!/usr/bin/env bash
# bench/ragd/run.sh — ragd's chat under load (issue 10): CONC (200) concurrent WebSocket chats,
# TOTAL (10000) chats in all, against release builds of ragd + llmd with small random models
# (a gguf-synth llama chat model, the tiny BERT fixture). Writes its section of
# bench/RESULTS.md. Environment: CONC, TOTAL, NPRED (tokens per answer, 16), LM_RELBIN,
# LM_FIXTURES.
set -eu
cd "$(dirname "$0")/../.."
RELBIN=${LM_RELBIN:-build/rel/bin}
FIX=${LM_FIXTURES:-../shared/fixtures}
CONC=${CONC:-200}; TOTAL=${TOTAL:-10000}; NPRED=${NPRED:-16}
T=$(mktemp -d /tmp/ragd-bench.XXXXXX)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { for _ in $(seq 1 600); do curl -fsS "$1" >/dev/null 2>&1 && return 0; sleep 0.1; done; echo "not ready: $1" >&2; exit 1; }

"$RELBIN/gguf-synth" --arch llama --vocab-from "$FIX/llama-2-tiny-random.gguf" --n-embd 64 --n-layer 2 --n-head 4 \
  --n-head-kv 4 --n-ff 128 --n-ctx 1024 --type f32 --seed 5 -o "$T/chat.gguf" >/dev/null
LP=$(free_port); RP=$(free_port)
"$RELBIN/llmd" -m "$T/chat.gguf" --host 127.0.0.1 --port "$LP" --alias chat -c 1024 -np 4 --queue 1024 \
  -n "$NPRED" -t 1 --chat-template llama2 >"$T/llmd.log" 2>&1 &
pids+=($!); LLMD=$!
wait_http "http://127.0.0.1:$LP/health"
HOST=127.0.0.1 PORT=$RP LLM_BASE_URL="http://127.0.0.1:$LP/v1" LLM_MODEL=chat EMBEDDING_MODEL="$FIX/bert-uncased-vocab-tiny.gguf" \
  DATABASE_URL="sqlite:$T/ragd.db" RAG_TOP_K=2 RAGD_THREADS=1 RAGD_MAX_WS_CONNECTIONS=$((CONC + 64)) RAGD_WS_RATE=100000 \
  "$RELBIN/ragd" serve >"$T/ragd.log" 2>&1 &
pids+=($!); RAGD=$!
wait_http "http://127.0.0.1:$RP/api/v1/health"
curl -fsS -XPOST "http://127.0.0.1:$RP/api/v1/knowledge/add-document" -H 'content-type: application/json' \
  -d '{"source":"turbine-en.txt","content":"The Brightwater turbine was designed by engineer Odalys Fenwick in 2011. It powers the Harrowgate valley."}' >/dev/null
curl -fsS -XPOST "http://127.0.0.1:$RP/api/v1/knowledge/add-document" -H 'content-type: application/json' \
  -d '{"source":"xihu-zh.txt","content":"西湖位于中国浙江省杭州市。西湖十景闻名天下，其中有苏堤春晓和断桥残雪。"}' >/dev/null

set +e
RES=$(node bench/ragd/load.mjs --url="ws://127.0.0.1:$RP/api/v1/ws/chat" --conc="$CONC" --total="$TOTAL" \
  --ragd-pid="$RAGD" --llmd-pid="$LLMD")
rc=$?
set -e
echo "$RES"
[ -n "$RES" ] || { tail -20 "$T/ragd.log"; exit 1; }

MACHINE="$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $(nproc) cores, $(uname -m)"
SECTION=$(RES="$RES" MACHINE="$MACHINE" NPRED="$NPRED" node -e '
const r = JSON.parse(process.env.RES);
const kb = (x) => (x / 1024).toFixed(1) + " MiB";
const fails = Object.entries(r.fails).map(([k, v]) => `${v} × ${k}`).join("; ") || "none";
console.log(`<!-- ragd:begin -->
## ragd chat under load (bench/ragd)

Machine: ${process.env.MACHINE}; ${new Date().toISOString().slice(0, 10)}.
Command: \`bench/ragd/run.sh\` (CONC=${r.conc}, TOTAL=${r.total}, NPRED=${process.env.NPRED}). Release builds; llmd with
a gguf-synth llama chat model (n_embd 64, 2 layers, f32, random weights), \`-np 4 --queue 1024 -n ${process.env.NPRED}\`;
ragd with the tiny BERT fixture, SQLite, RAG_TOP_K=2, two documents. Each chat opens a WebSocket, asks
one question, checks sources → deltas → done (nothing after done), and closes.

| concurrent chats | chats | failed | chats/s | time to first delta p50 | p99 |
|---:|---:|---:|---:|---:|---:|
| ${r.conc} | ${r.total} | ${r.failed} | ${r.chats_per_s} | ${r.ttfd_p50_ms} ms | ${r.ttfd_p99_ms} ms |

Resident memory (after the first ${r.conc} chats → after all ${r.total}): ragd ${kb(r.rss_kib.warm.ragd)} → ${kb(r.rss_kib.end.ragd)},
llmd ${kb(r.rss_kib.warm.llmd)} → ${kb(r.rss_kib.end.llmd)}. Failures: ${fails}. The time to first delta is mostly
the wait for one of llmd's 4 slots (all chats share them), so it measures the LLM's throughput on
this machine more than ragd.
<!-- ragd:end -->`);')
F=bench/RESULTS.md
if grep -q '<!-- ragd:begin -->' "$F"; then
  SECTION="$SECTION" python3 -c '
import os, re
f = "bench/RESULTS.md"; s = open(f).read()
s = re.sub(r"<!-- ragd:begin -->.*?<!-- ragd:end -->", lambda m: os.environ["SECTION"], s, flags=re.S)
open(f, "w").write(s)'
else
  printf '\n%s\n' "$SECTION" >> "$F"
fi
exit $rc
