#!/usr/bin/env bash
# Engine benchmark: our llmd against llama.cpp (node-llama-cpp@3.21.1, prebuilt, CPU) on the same
# GGUF files, same threads, same token ids: prompt processing of 512 tokens (pp512) and
# generation of 128 tokens (tg128), medians of alternating runs; a kernel microbenchmark and the
# machine's read bandwidth; peak resident memory. Writes the engine section of bench/RESULTS.md.
#
#   bench/engine/run.sh                       TinyLlama-1.1B shape in Q4_0, Q4_K_M and Q8_0
#   BENCH_TYPES="q4_0" BENCH_RUNS=5 BENCH_THREADS=2 bench/engine/run.sh
#   BENCH_RUNS_VARIANTS=1                      runs for the types after the first (default BENCH_RUNS)
#   BENCH_SHAPE=small                          a 60M-parameter shape, for a quick look
#   BENCH_IDLE_MAX=0.10                        busy share of the CPUs (others) that marks a run disturbed
#   BENCH_TYPES="q4_k"                          any gguf-synth --type (q4_k: every matrix Q4_K)
#   BENCH_KBENCH_TYPES="q4_0 q8_0"              weight types of the kernel microbenchmark (default
#                                              "q4_0_r8 q4_k q6_k q8_0_r8": what the models run;
#                                              q4_0_r8, q8_0_r8 = as the loader repacks them for AVX)
#   BENCH_IDLE_WAIT=120                         seconds to wait for an idle machine before each run
#
# Models are written by gguf-synth (random weights, Llama 2 vocabulary from the fixtures; its
# Q4_K_M tensor types are checked against llama.cpp's quantizer by bench/engine/mixcheck.sh). On a
# 2-core machine any other busy process ruins a 2-thread measurement, so each run waits for the
# machine to be idle and is repeated (up to 3 times) when other processes took CPU during it.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
cd "$ROOT"
BIN=${LM_RELBIN:-$ROOT/build/rel/bin}
FIX=${LM_FIXTURES:-$(cd "$ROOT/../shared/fixtures" 2>/dev/null && pwd)}
TYPES=${BENCH_TYPES:-q4_0 q4_k_m q8_0}
RUNS=${BENCH_RUNS:-3}
THREADS=${BENCH_THREADS:-2}
SHAPE=${BENCH_SHAPE:-1.1b}
IDLE_MAX=${BENCH_IDLE_MAX:-0.10}
WORK=${BENCH_WORK:-$ROOT/build/bench-engine}
mkdir -p "$WORK"
HERE=bench/engine

[ -x "$BIN/llmd" ] && [ -x "$BIN/gguf-synth" ] || { echo "build first: make" >&2; exit 1; }
command -v node >/dev/null || { echo "node is needed for the peer" >&2; exit 1; }

# the peer, pinned (package.json); installed once into bench/engine/node_modules
if [ ! -d "$HERE/node_modules/node-llama-cpp" ]; then
  (cd "$HERE" && npm install --no-audit --no-fund --loglevel=error) >&2
fi

# kernel microbenchmark (also the machine's read bandwidth with these threads)
for try in 1 2 3 4 5; do    # (another build may be rewriting liblm.a this very moment)
  cc -O2 -std=c11 -D_GNU_SOURCE -Iinclude -Isrc -pthread -o "$WORK/kbench" $HERE/kbench.c build/rel/liblm.a -lm && break
  [ $try = 5 ] && exit 1; sleep 5
done
# the kernels the models run: q4_0_r8 is Q4_0 as the loader prepares it (repacked with the AVX
# kernels, as is elsewhere); Q4_K_M adds Q6_K
KB=$("$WORK/kbench" "$THREADS" ${BENCH_KBENCH_TYPES:-q4_0_r8 q4_k q6_k q8_0_r8})
echo "$KB" >&2
BW=$(echo "$KB" | sed -n 's/^read bandwidth: \([0-9.]*\) GB\/s/\1/p')

case $SHAPE in
  1.1b)  SARGS="--n-embd 2048 --n-layer 22 --n-head 32 --n-head-kv 4 --n-ff 5632 --n-ctx 2048"
         NE=2048; NL=22; NKV=256; NFF=5632 ;;
  # (FFN 1536: K-quant rows must be multiples of 256)
  small) SARGS="--n-embd 512 --n-layer 8 --n-head 8 --n-head-kv 4 --n-ff 1536 --n-ctx 2048"
         NE=512; NL=8; NKV=256; NFF=1536 ;;
  *) echo "unknown BENCH_SHAPE $SHAPE" >&2; exit 2 ;;
esac

# prompt: "hello" x 511 is 511 tokens (+ BOS) in the Llama 2 vocabulary
PROMPT=$(printf 'hello %.0s' $(seq 511)); PROMPT=${PROMPT% }
PP_IDS=1$(printf ',22172%.0s' $(seq 511))
TG_IDS=1,22172

# CPU jiffies: busy and total, over all CPUs
cpu_now() { awk '/^cpu /{b=$2+$3+$4+$7+$8+$9; t=b+$5+$6; print b, t}' /proc/stat; }
# Waits (up to BENCH_IDLE_WAIT seconds, default 120) until the last second was idle enough.
wait_idle() {
  local tries=$(( (${BENCH_IDLE_WAIT:-120} + 4) / 5 ))
  for _ in $(seq "$tries"); do
    read -r b0 t0 < <(cpu_now); sleep 1; read -r b1 t1 < <(cpu_now)
    awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v m="$IDLE_MAX" 'BEGIN{exit !(t > 0 && b / t <= m)}' && return 0
    sleep 4
  done
  return 1
}
HZ=$(getconf CLK_TCK)
# run_one ENGINE TEST MODEL -> prints "tok_s rss_mb disturbed(0/1)"
run_one() {
  local eng=$1 test=$2 model=$3 tries=0 out tok rss dist
  while :; do
    tries=$((tries + 1))
    wait_idle || true
    read -r b0 t0 < <(cpu_now)
    if [ "$eng" = ours ]; then
      if [ "$test" = pp ]; then
        out=$(/usr/bin/time -f 'TIME %U %S %M' "$BIN/llmd" run -m "$model" -p "$PROMPT" -n 1 -t "$THREADS" -c 1024 --print-ids 2>&1 >/dev/null)
        tok=$(echo "$out" | sed -n 's/^timings: prompt [0-9]* tokens, \([0-9.]*\) tok\/s.*/\1/p')
      else
        out=$(/usr/bin/time -f 'TIME %U %S %M' "$BIN/llmd" run -m "$model" -p "hello" -n 128 -t "$THREADS" -c 1024 --print-ids 2>&1 >/dev/null)
        tok=$(echo "$out" | sed -n 's/.*generation [0-9]* tokens, \([0-9.]*\) tok\/s.*/\1/p')
      fi
    else
      if [ "$test" = pp ]; then
        out=$(/usr/bin/time -f 'TIME %U %S %M' node $HERE/peer.mjs "$model" pp "$THREADS" "$PP_IDS" 2>&1)
      else
        out=$(/usr/bin/time -f 'TIME %U %S %M' node $HERE/peer.mjs "$model" tg "$THREADS" "$TG_IDS" 128 2>&1)
      fi
      tok=$(echo "$out" | sed -n 's/.*"tok_s":\([0-9.]*\).*/\1/p')
    fi
    read -r b1 t1 < <(cpu_now)
    local us; us=$(echo "$out" | sed -n 's/^TIME \([0-9.]*\) \([0-9.]*\) \([0-9]*\)$/\1 \2 \3/p')
    rss=$(echo "$us" | awk '{printf "%.0f", $3 / 1024}')
    # CPU time taken by other processes during the run, as a share of all CPU time
    dist=$(echo "$us" | awk -v b=$((b1 - b0)) -v t=$((t1 - t0)) -v hz="$HZ" -v m="$IDLE_MAX" \
      '{own = ($1 + $2) * hz; o = (b - own) / (t > 0 ? t : 1); print (o > m) ? 1 : 0}')
    [ -n "$tok" ] || { echo "$eng $test failed: $out" >&2; tok=0; }
    if [ "$dist" = 0 ] || [ $tries -ge 3 ]; then echo "$tok $rss $dist"; return; fi
    echo "  ($eng $test disturbed by other processes, repeating)" >&2
  done
}
# weight bytes read per generated token, from the file as our reader lists it: every tensor, with
# one row of token_embd when there is an output.weight (else the table is the output matrix);
# then the tensor count per type ("Q4_K:154 Q6_K:21 ...")
weight_bytes() {
  "$BIN/gguf-synth" --list "$1" | awk '$1 == "tensor" {
      n[$3]++; split($4, ne, ","); rows = 1; for (i = 2; i in ne; i++) rows *= ne[i]
      if ($2 == "token_embd.weight") { emb = $5; row = $5 / rows } else b += $5
      if ($2 == "output.weight") untied = 1 }
    END { b += untied ? row : emb; printf "%.0f", b
      k = split("F32 F16 BF16 Q4_0 Q4_1 Q8_0 Q4_K Q5_K Q6_K", order, " ")
      for (i = 1; i <= k; i++) if (order[i] in n) printf " %s:%d", order[i], n[order[i]]
      printf "\n" }'
}
median() { sort -g | awk '{a[NR]=$1} END{ if (NR==0) {print 0} else if (NR%2) print a[(NR+1)/2]; else print (a[NR/2]+a[NR/2+1])/2 }'; }

ROWS=""
MIXES=""
LOAD0=$(cut -d' ' -f1-3 /proc/loadavg)
for T in $TYPES; do
  MODEL=$WORK/tinyllama-$SHAPE-$T.gguf
  if [ ! -f "$MODEL" ]; then
    echo "writing $MODEL" >&2
    if ! "$BIN/gguf-synth" --arch llama $SARGS --type "$T" --vocab-from "$FIX/llama-2-tiny-random.gguf" --seed 1 -o "$MODEL.part" >&2; then
      rm -f "$MODEL.part"; echo "skipping $T: gguf-synth failed" >&2; continue
    fi
    mv "$MODEL.part" "$MODEL"
  fi
  NRUNS=$RUNS
  [ "$T" != "$(echo $TYPES | cut -d' ' -f1)" ] && NRUNS=${BENCH_RUNS_VARIANTS:-$RUNS}
  cat "$MODEL" >/dev/null     # page cache
  declare -A V=()
  dcount=0
  for r in $(seq "$NRUNS"); do
    for test in pp tg; do
      for eng in ours peer; do
        read -r tok rss dist < <(run_one $eng $test "$MODEL")
        echo "$T run $r $eng $test: $tok tok/s, peak RSS $rss MB$([ "$dist" = 1 ] && echo ', disturbed')" >&2
        V[$eng.$test]+="$tok "
        V[$eng.rss]+="$rss "
        dcount=$((dcount + ${dist:-0}))
      done
    done
  done
  med() { echo "${V[$1]}" | tr ' ' '\n' | grep -v '^$' | median; }
  opp=$(med ours.pp); ppp=$(med peer.pp); otg=$(med ours.tg); ptg=$(med peer.tg)
  orss=$(echo "${V[ours.rss]}" | tr ' ' '\n' | sort -n | tail -1); prss=$(echo "${V[peer.rss]}" | tr ' ' '\n' | sort -n | tail -1)
  read -r wb wtypes < <(weight_bytes "$MODEL")
  echo "$T: $wb bytes read per token; tensors by type: $wtypes" >&2
  MIXES+="$T: ${wtypes}; "
  bpt=$(awk -v b="$wb" 'BEGIN{printf "%.0f", b / 1e6}')
  row=$(awk -v t="$T" -v nr="$NRUNS" -v opp="$opp" -v ppp="$ppp" -v otg="$otg" -v ptg="$ptg" -v bpt="$bpt" -v bw="$BW" \
        -v orss="$orss" -v prss="$prss" -v d="$dcount" 'BEGIN{
      r1 = ppp > 0 ? opp / ppp : 0; r2 = ptg > 0 ? otg / ptg : 0;
      gb = bpt * otg / 1000; pgb = bpt * ptg / 1000;
      printf("| %s (%d runs) | %.1f | %.1f | %.2fx | %.1f | %.1f | %.2fx | %d MB: %.1f GB/s = %.0f%% (peer %.0f%%) | %d / %d MB | %d |", toupper(t), nr, opp, ppp, r1, otg, ptg, r2, bpt, gb, (bw > 0 ? 100 * gb / bw : 0), (bw > 0 ? 100 * pgb / bw : 0), orss, prss, d) }')
  echo "$row" >&2
  ROWS+="$row"$'\n'
done

CPU=$(lscpu | sed -n 's/^Model name: *//p' | head -1)
KERN=$(echo "$KB" | sed -n 's/^kernels: \([^,]*\),.*/\1/p')
SECTION=$(cat <<MD
<!-- engine:begin -->
## Engine speed against llama.cpp (bench/engine)

Machine: $CPU, $(nproc) cores, $(uname -m); $(date -u +%Y-%m-%d); load average before / after:
$LOAD0 / $(cut -d' ' -f1-3 /proc/loadavg). Our kernels: $KERN. Read bandwidth
with $THREADS threads (kbench, 1 GiB): $BW GB/s. Command: \`bench/engine/run.sh\` (\`make bench\`).
Model: gguf-synth llama, shape $SHAPE (1.1b = TinyLlama-1.1B: n_embd $NE, $NL layers, GQA, FFN $NFF;
Llama 2 vocabulary), random weights; Q4_K_M is llama.cpp's mix of that name (Q4_K, with Q6_K for
output.weight and for attn_v and ffn_down in the first and last eighth of the layers and every third
layer between), the other types have every matrix in the named type (tensors by type: ${MIXES%; }). Both engines
read the same file with $THREADS threads and the same token ids: pp512 = one batch of 512 prompt
tokens; tg128 = 128 greedy tokens after a 2-token prompt. Medians of alternating runs
(ours, peer, ours, ...; the count is in the first column). Peer: node-llama-cpp@3.21.1 (prebuilt llama.cpp, CPU, flash attention,
f16 KV cache); its peak RSS includes the Node.js runtime. "disturbed" counts runs during which other
processes took more than $(awk -v m="$IDLE_MAX" 'BEGIN{printf "%d", m * 100}') % of the CPU time (each was repeated up to 3 times first).

| weights | pp512 ours tok/s | pp512 llama.cpp | ratio | tg128 ours tok/s | tg128 llama.cpp | ratio | weights read per token, at our tg speed, share of read bandwidth | peak RSS ours / llama.cpp | disturbed runs |
|---|---:|---:|---:|---:|---:|---:|---|---|---:|
${ROWS%$'\n'}

The read bandwidth is a plain load loop without software prefetch, measured once per run; the
prefetching R8 kernels can stream faster than it, and on a shared VM it varies between runs,
so a share near or above 100% means "at the machine's limit".

Kernel microbenchmark (\`kbench $THREADS\`: one token through 22 layers' matrices = GB/s of weights
streamed; 512 tokens through one layer = GOP/s):

\`\`\`
$KB
\`\`\`
<!-- engine:end -->
MD
)
RES=bench/RESULTS.md
[ -f "$RES" ] || printf '# Benchmark results\n' > "$RES"
if grep -q '<!-- engine:begin -->' "$RES"; then
  awk -v sec="$SECTION" '/<!-- engine:begin -->/{print sec; skip=1; next} /<!-- engine:end -->/{skip=0; next} !skip' "$RES" > "$RES.tmp"
else
  { cat "$RES"; printf '\n%s\n' "$SECTION"; } > "$RES.tmp"
fi
mv "$RES.tmp" "$RES"
echo "$SECTION"
