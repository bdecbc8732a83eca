// peer.mjs — the serving benchmark's peer: llama.cpp (node-llama-cpp 3.21.1, prebuilt, CPU)
// decoding N sequences of one context together, as llama-server's slots do, without HTTP.
// Same model, threads, prompt token ids and generation length as the llmd measurement;
// prints one JSON line like load.mjs.
//
//   node bench/serve/peer.mjs MODEL THREADS IDS.json N MAX_TOKENS
// IDS.json holds N arrays of prompt token ids (BOS included).
import { readFileSync } from 'node:fs';

const [model, threads, idsFile, nStr, maxStr] = process.argv.slice(2);
const n = Number(nStr), maxTokens = Number(maxStr);
const prompts = JSON.parse(readFileSync(idsFile, 'utf8')).slice(0, n);
const { getLlama, LlamaLogLevel } = await import(new URL('../engine/node_modules/node-llama-cpp/dist/index.js', import.meta.url));
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error });
const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
const ctx = await m.createContext({ contextSize: 512 * n, sequences: n, batchSize: 512, threads: Number(threads) });

// One sequence: the prompt, then maxTokens greedy tokens (end-of-sequence not special-cased:
// the count decides, as ignore_eos does on the llmd side).
async function run(seq, ids) {
  const t0 = performance.now();
  let count = 0, ttft = null;
  for await (const tok of seq.evaluate(ids, { temperature: 0 })) {
    void tok;
    if (ttft === null) ttft = performance.now() - t0;
    if (++count >= maxTokens) break;
  }
  return { tokens: count, ttft };
}

const seqs = Array.from({ length: n }, () => ctx.getSequence());
const t0 = performance.now();
const out = await Promise.all(seqs.map((s, i) => run(s, prompts[i])));
const wall = (performance.now() - t0) / 1000;
const total = out.reduce((a, o) => a + o.tokens, 0);
const ttfts = out.map((o) => o.ttft).sort((a, b) => a - b);
console.log(JSON.stringify({
  streams: n, tokens: total, seconds: +wall.toFixed(3), tok_per_s: +(total / wall).toFixed(2),
  per_stream_tok_per_s: +(total / n / wall).toFixed(2), ttft_ms_median: +ttfts[Math.floor(n / 2)].toFixed(1),
}));
await ctx.dispose();
await m.dispose();
await llama.dispose();
