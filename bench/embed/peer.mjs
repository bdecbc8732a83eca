// peer.mjs — llama.cpp's embedding speed on the same file and texts (node-llama-cpp, the way
// its API embeds: one text at a time), and the cosine between its vectors and ours.
//   node bench/embed/peer.mjs MODEL.gguf SENTENCES.txt THREADS [OURS.txt]
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dirs = [process.env.PEER_DIR, path.join(root, "tests/parity/peer"), path.join(root, "tools/peer")].filter(Boolean);
const dir = dirs.find((d) => fs.existsSync(path.join(d, "node_modules/node-llama-cpp/dist/index.js")));
if (!dir) {
  console.error("node-llama-cpp not installed: npm ci --prefix tests/parity/peer");
  process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(path.join(dir, "node_modules/node-llama-cpp/dist/index.js")).href);
const [modelPath, sentPath, threads, oursPath] = process.argv.slice(2);
const texts = fs.readFileSync(sentPath, "utf8").split("\n").filter((l) => l.length);
const llama = await getLlama({ gpu: false, build: "never", logLevel: LlamaLogLevel.error });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createEmbeddingContext({ threads: Number(threads), contextSize: 512 });
await ctx.getEmbeddingFor(texts[0]);   // warm-up
const vecs = [];
const c0 = process.cpuUsage();
const t0 = performance.now();
for (const t of texts) vecs.push(Array.from((await ctx.getEmbeddingFor(t)).vector));
const dt = (performance.now() - t0) / 1000;
const cu = process.cpuUsage(c0);
const cpu = (cu.user + cu.system) / 1e6;
let tokens = 0;
for (const t of texts) tokens += model.tokenize(t).length + 2;
let worst = 1;
if (oursPath) {
  const ours = fs.readFileSync(oursPath, "utf8").split("\n").filter((l) => l.length).map((l) => l.split(" ").map(Number));
  for (let i = 0; i < texts.length; i++) {
    let ab = 0, aa = 0, bb = 0;
    for (let k = 0; k < vecs[i].length; k++) ab += vecs[i][k] * ours[i][k], aa += vecs[i][k] ** 2, bb += ours[i][k] ** 2;
    worst = Math.min(worst, ab / Math.sqrt(aa * bb));
  }
}
console.log(JSON.stringify({ texts: texts.length, tokens, seconds: dt, per_s: texts.length / dt, tokens_per_s: tokens / dt,
  cpu_seconds: cpu, per_cpu_s: texts.length / cpu, worst_cosine: worst }));
await ctx.dispose();
await model.dispose();
