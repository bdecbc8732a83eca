// peer.mjs — one llama.cpp measurement through node-llama-cpp (prebuilt llama.cpp, CPU only),
// printed as one JSON line. Token ids come from the command line so both engines see the same
// tokens.
//
//   node peer.mjs MODEL pp THREADS id,id,...     prompt processing of the ids (one batch)
//   node peer.mjs MODEL tg THREADS id,id,... N   generation of N tokens after the ids (greedy,
//                                                end-of-sequence ignored)
// Flash attention on and an f16 KV cache, as llama.cpp's own benchmark runs on CPU.
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const [model, mode, threads, idsArg, nArg] = process.argv.slice(2);
const ids = idsArg.split(",").map(Number);
const N = Number(nArg || 0);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const t0 = performance.now();
const m = await llama.loadModel({ modelPath: model, gpuLayers: 0 });
const ctx = await m.createContext({
  contextSize: 1024, batchSize: 512, threads: Number(threads), flashAttention: true,
});
const loadMs = performance.now() - t0;
const seq = ctx.getSequence();
let out;
if (mode === "pp") {
  const a = performance.now();
  await seq.evaluateWithoutGeneratingNewTokens(ids);
  const s = (performance.now() - a) / 1000;
  out = { mode, tokens: ids.length, tok_s: ids.length / s };
} else {
  // the first sampled token comes from the prompt's logits; time the N-1 decode steps after it
  let count = 0, first = 0;
  const it = seq.evaluate(ids, { temperature: 0 });
  for await (const tok of it) {
    void tok;
    count++;
    if (count === 1) first = performance.now();
    if (count >= N) break;
  }
  const s = (performance.now() - first) / 1000;
  out = { mode, tokens: count - 1, tok_s: (count - 1) / s };
}
out.load_ms = Math.round(loadMs);
out.max_rss_mb = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
await ctx.dispose();
await m.dispose();
await llama.dispose();
