// gemma_goldens.mjs — regenerates tests/parity/gemma_goldens.json: llama.cpp's greedy
// continuations (32 tokens) on gemma3 models written by gguf-synth, with per step the top-2
// logit gap and the top logits relative to the best one (same format as model_goldens.json).
//
//   npm ci --prefix tests/parity/peer          # the pinned node-llama-cpp
//   make                                       # build/rel/bin/gguf-synth
//   node tests/parity/gemma_goldens.mjs
//
// A synth argument "@FIXTURES/x" names a shared fixture. Env: LM_FIXTURES (default
// ../shared/fixtures), GGUF_SYNTH (default build/rel/bin/gguf-synth), PEER_DIR (folder holding
// node_modules/node-llama-cpp, default tests/parity/peer). Token ids are used directly. Flash
// attention off, f16 KV cache (llama.cpp's default type), one sequence, 2 threads.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const peerDir = process.env.PEER_DIR || path.join(here, "peer");
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`node-llama-cpp not found under ${peerDir}: run npm ci --prefix tests/parity/peer`);
  process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(entry).href);
const fixtures = process.env.LM_FIXTURES || path.join(root, "../shared/fixtures");
const synth = process.env.GGUF_SYNTH || path.join(root, "build/rel/bin/gguf-synth");
const out = path.join(here, "gemma_goldens.json");
const N_GEN = 32, N_TOP = 8;

// 12 layers: with the default pattern layers 5 and 11 are global, the other 10 local; n_ctx 256
// gives the preset's sliding window of 8, so prompts of 20 tokens already slide.
const shapeA = ["--n-embd", "64", "--n-head", "4", "--n-head-kv", "2", "--head-dim", "32", "--n-ff", "128", "--n-layer", "12", "--n-ctx", "256"];
const shapeB = ["--n-embd", "128", "--n-head", "8", "--n-head-kv", "1", "--n-ff", "256", "--n-layer", "12", "--n-ctx", "256", "--n-vocab", "640"];
const vocab = ["--vocab-from", "@FIXTURES/llama-2-tiny-random.gguf"];
const spmPrompt = [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203, 29889, 450, 11203, 338, 451, 17366, 29892, 372];
const synthPrompt = [1, 300, 301, 310, 420, 333, 290, 512, 513, 300, 301, 310, 600, 601, 290, 280, 281, 282, 283, 284];
const models = [
  { name: "gemma3-f32-A-tied", synth: ["--arch", "gemma3", "--type", "f32", "--seed", "41", "--tied", ...vocab, ...shapeA], prompt: spmPrompt },
  { name: "gemma3-q8_0-A-tied", synth: ["--arch", "gemma3", "--type", "q8_0", "--seed", "42", "--tied", ...vocab, ...shapeA], prompt: spmPrompt },
  { name: "gemma3-f32-B", synth: ["--arch", "gemma3", "--type", "f32", "--seed", "43", ...shapeB], prompt: synthPrompt },
  { name: "gemma3-q8_0-B", synth: ["--arch", "gemma3", "--type", "q8_0", "--seed", "44", ...shapeB], prompt: synthPrompt },
  { name: "gemma3-f16-B-tied", synth: ["--arch", "gemma3", "--type", "f16", "--seed", "45", "--tied", ...shapeB], prompt: synthPrompt },
];

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lm-gemma-goldens-"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const result = { generator: "node-llama-cpp@3.21.1 (llama.cpp), flash attention off, f16 KV cache", n_gen: N_GEN, models: [] };
for (const spec of models) {
  const file = path.join(tmp, spec.name + ".gguf");
  execFileSync(synth, [...spec.synth.map((a) => a.replace("@FIXTURES", fixtures)), "-o", file]);
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 256, batchSize: 256, threads: 2, flashAttention: false });
  const seq = ctx.getSequence();
  const steps = [];
  let input = spec.prompt.slice();
  for (let step = 0; step < N_GEN; step++) {
    const items = input.map((t, i) => (i === input.length - 1
      ? [t, { generateNext: { probabilities: true, options: { temperature: 1, topK: 0, topP: 1, minP: 0 } } }]
      : t));
    const res = await seq.controlledEvaluate(items);
    const probs = res[input.length - 1].next.probabilities;
    const top = [...probs.entries()].sort((a, b) => b[1] - a[1]).slice(0, N_TOP);
    const lp0 = Math.log(top[0][1]);
    steps.push({
      token: top[0][0],
      gap: lp0 - Math.log(top[1][1]),
      top: top.map(([id, p]) => [id, Number((Math.log(p) - lp0).toFixed(5))]),
    });
    input = [top[0][0]];
  }
  result.models.push({ name: spec.name, synth: spec.synth, prompt: spec.prompt, steps });
  console.log(spec.name, steps.map((s) => s.token).join(" "), "min gap", Math.min(...steps.map((s) => s.gap)).toFixed(4));
  await ctx.dispose();
  await model.dispose();
}
fs.writeFileSync(out, JSON.stringify(result, null, 0).replace(/\{"token"/g, '\n{"token"') + "\n");
fs.rmSync(tmp, { recursive: true, force: true });
