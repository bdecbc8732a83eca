// gen-model-goldens.mjs — regenerates tests/parity/model_goldens.json: llama.cpp's greedy
// continuations (32 tokens) on the project's synthetic models and the shared tiny Llama-2,
// with the top-2 logit gap per step and the top logits (relative to the best one).
//
//   (cd tools/peer && npm ci)         # node-llama-cpp, pinned in package.json
//   make                              # build/rel/bin/gguf-synth
//   node tools/peer/gen-model-goldens.mjs
//
// A synth argument "@FIXTURES/x" names a shared fixture. `node gen-model-goldens.mjs a,b`
// regenerates only the models named (the others are kept from the existing file).
// GOLDEN_FLASH_ATTENTION=1 writes tests/parity/model_goldens_fa.json with flash attention on
// (llama.cpp's CPU default); GOLDEN_OUT overrides the output file.
// Env: LM_FIXTURES (default ../shared/fixtures), GGUF_SYNTH (default build/rel/bin/gguf-synth).
// Token ids are used directly (no tokenizer involved). Flash attention is off, the KV cache
// f16 (llama.cpp's default type), one sequence, 2 threads.
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { getLlama, LlamaLogLevel } from "node-llama-cpp";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const fixtures = process.env.LM_FIXTURES || path.join(root, "../shared/fixtures");
const synth = process.env.GGUF_SYNTH || path.join(root, "build/rel/bin/gguf-synth");
const flash = process.env.GOLDEN_FLASH_ATTENTION === "1";  // llama.cpp's "auto" picks it on CPU
const out = process.env.GOLDEN_OUT || path.join(root, `tests/parity/model_goldens${flash ? "_fa" : ""}.json`);
const N_GEN = 32, N_TOP = 8;

// The models: synth = gguf-synth arguments (the test regenerates them the same way).
const shapeA = ["--n-embd", "64", "--n-head", "4", "--n-head-kv", "2", "--n-ff", "128", "--n-layer", "2", "--n-vocab", "512"];
const shapeB = ["--n-embd", "128", "--n-head", "8", "--n-head-kv", "2", "--n-ff", "256", "--n-layer", "3", "--n-vocab", "640"];
const shapeC = ["--n-embd", "256", "--n-head", "4", "--n-head-kv", "1", "--n-ff", "512", "--n-layer", "2", "--n-vocab", "600"];
// E: shape C with a wide feed-forward: 8 K-quant blocks per row in the down projection
const shapeE = ["--n-embd", "256", "--n-head", "4", "--n-head-kv", "1", "--n-ff", "2048", "--n-layer", "2", "--n-vocab", "600"];
const synthPrompt = [1, 300, 301, 310, 420, 333, 290];
// The goldens come from llama.cpp's AVX2 build. The scalar kernels follow ggml's generic C order
// for the K-quants (llama.cpp's x86 and ARM kernels each use other orders), so through them a
// last-bit difference can flip a Q8_K activation rounding on these models.
const kScalar = {
  known_issue: "K-quants through the scalar kernels: they follow ggml's generic float order, these goldens llama.cpp's AVX2 order (the x86 kernels match it bit for bit)",
  known_issue_kernels: ["scalar"],
};
const models = [
  { name: "llama-2-tiny-random", fixture: "llama-2-tiny-random.gguf", prompt: [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203] },
  { name: "llama3-vocab-tiny", fixture: "llama3-vocab-tiny.gguf", prompt: [128000, 791, 4062, 14198, 39935, 35308, 927, 279, 16053, 5679, 13] },
  { name: "llama-f32-A", synth: ["--arch", "llama", "--type", "f32", "--seed", "11", ...shapeA], prompt: synthPrompt },
  { name: "llama-f16-A", synth: ["--arch", "llama", "--type", "f16", "--seed", "12", ...shapeA], prompt: synthPrompt },
  { name: "llama-q8_0-B", synth: ["--arch", "llama", "--type", "q8_0", "--seed", "13", ...shapeB], prompt: synthPrompt },
  { name: "llama-q4_0-B", synth: ["--arch", "llama", "--type", "q4_0", "--seed", "14", ...shapeB], prompt: synthPrompt },
  { name: "llama-q4_0-A-tied", synth: ["--arch", "llama", "--type", "q4_0", "--seed", "15", "--tied", ...shapeA], prompt: synthPrompt },
  { name: "llama-f16-B", synth: ["--arch", "llama", "--type", "f16", "--seed", "16", ...shapeB], prompt: synthPrompt },
  { name: "llama-f32-B", synth: ["--arch", "llama", "--type", "f32", "--seed", "17", ...shapeB], prompt: synthPrompt },
  { name: "llama-q8_0-A", synth: ["--arch", "llama", "--type", "q8_0", "--seed", "18", ...shapeA], prompt: synthPrompt },
  { name: "llama-bf16-A", synth: ["--arch", "llama", "--type", "bf16", "--seed", "31", ...shapeA], prompt: synthPrompt },
  { name: "llama-q4_1-A", synth: ["--arch", "llama", "--type", "q4_1", "--seed", "32", ...shapeA], prompt: synthPrompt },
  { name: "llama-q4_k-C", synth: ["--arch", "llama", "--type", "q4_k", "--seed", "33", ...shapeC], prompt: synthPrompt, ...kScalar },
  { name: "llama-q6_k-C", synth: ["--arch", "llama", "--type", "q6_k", "--seed", "34", ...shapeC], prompt: synthPrompt, ...kScalar },
  { name: "llama-q4_k-E", synth: ["--arch", "llama", "--type", "q4_k", "--seed", "36", ...shapeE], prompt: synthPrompt, ...kScalar },
  { name: "llama-q5_k-C", synth: ["--arch", "llama", "--type", "q5_k", "--seed", "37", ...shapeC], prompt: synthPrompt, ...kScalar },
  { name: "llama-q5_k-E", synth: ["--arch", "llama", "--type", "q5_k", "--seed", "38", ...shapeE], prompt: synthPrompt, ...kScalar },
  { name: "llama-q6_k-E", synth: ["--arch", "llama", "--type", "q6_k", "--seed", "39", ...shapeE], prompt: synthPrompt, ...kScalar },
  // seeds on which the Q5_K order once made a difference (Q5_K is not repacked on AVX2)
  { name: "llama-q5_k-C45", synth: ["--arch", "llama", "--type", "q5_k", "--seed", "45", ...shapeC], prompt: synthPrompt, ...kScalar },
  { name: "llama-q5_k-C47", synth: ["--arch", "llama", "--type", "q5_k", "--seed", "47", ...shapeC], prompt: synthPrompt, ...kScalar },
  { name: "llama-q6_k-E43", synth: ["--arch", "llama", "--type", "q6_k", "--seed", "43", ...shapeE], prompt: synthPrompt, ...kScalar },
  { name: "llama-q8_0-vocab", synth: ["--arch", "llama", "--type", "q8_0", "--seed", "35", "--vocab-from", "@FIXTURES/llama-2-tiny-random.gguf", ...shapeA.slice(0, -2)],
    prompt: [1, 450, 4996, 17354, 1701, 29916, 432, 17204, 975, 278, 17366, 11203] },
  { name: "qwen2-f16-C", synth: ["--arch", "qwen2", "--type", "f16", "--seed", "23", ...shapeC], prompt: synthPrompt },
  { name: "qwen2-f32-A", synth: ["--arch", "qwen2", "--type", "f32", "--seed", "21", ...shapeA], prompt: synthPrompt },
  { name: "qwen2-q8_0-B", synth: ["--arch", "qwen2", "--type", "q8_0", "--seed", "22", ...shapeB], prompt: synthPrompt },
];

const only = process.argv[2] ? process.argv[2].split(",") : null;
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "lm-goldens-"));
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const old = fs.existsSync(out) ? JSON.parse(fs.readFileSync(out, "utf8")) : { models: [] };
const result = { generator: `node-llama-cpp@3.21.1 (llama.cpp), flash attention ${flash ? "on" : "off"}, f16 KV cache`, flash_attention: flash, n_gen: N_GEN, models: [] };

for (const spec of models) {
  if (only && !only.includes(spec.name)) {
    const prev = old.models.find((m) => m.name === spec.name);
    if (prev) result.models.push({ ...prev, known_issue: spec.known_issue, known_issue_kernels: spec.known_issue_kernels });
    continue;
  }
  let file;
  if (spec.fixture) {
    file = path.join(fixtures, spec.fixture);
  } else {
    file = path.join(tmp, spec.name + ".gguf");
    execFileSync(synth, [...spec.synth.map((a) => a.replace("@FIXTURES", fixtures)), "-o", file]);
  }
  const model = await llama.loadModel({ modelPath: file });
  const ctx = await model.createContext({ contextSize: 256, batchSize: 256, threads: 2, flashAttention: flash });
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
    const best = top[0];
    const lp0 = Math.log(best[1]);
    steps.push({
      token: best[0],
      gap: lp0 - Math.log(top[1][1]),
      top: top.map(([id, p]) => [id, Number((Math.log(p) - lp0).toFixed(5))]),
    });
    input = [best[0]];
  }
  result.models.push({ name: spec.name, fixture: spec.fixture, synth: spec.synth, prompt: spec.prompt,
    known_issue: spec.known_issue, known_issue_kernels: spec.known_issue_kernels, steps });
  console.log(spec.name, steps.map((s) => s.token).join(" "), "min gap", Math.min(...steps.map((s) => s.gap)).toFixed(4));
  await ctx.dispose();
  await model.dispose();
}
fs.writeFileSync(out, JSON.stringify(result, null, 0).replace(/\{"token"/g, '\n{"token"') + "\n");
fs.rmSync(tmp, { recursive: true, force: true });
