// bert_goldens.mjs — regenerates llama.cpp's embeddings for the bert parity test.
//
//   npm ci --prefix tests/parity/peer          (once: the pinned node-llama-cpp)
//   node tests/parity/bert_goldens.mjs MODEL.gguf OUT.json [LABEL]
//
// Embeds every text of TEXTS one at a time with llama.cpp (createEmbeddingContext ->
// getEmbeddingFor: mean pooling from the model's bert.pooling_type; the vector comes back NOT
// normalised), L2-normalises it and writes {model, texts, tokens, vectors} to OUT.json.
// PEER_DIR overrides the folder holding node_modules/node-llama-cpp.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = process.env.PEER_DIR || path.join(here, "peer");
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`node-llama-cpp not found under ${peerDir}: run npm ci --prefix tests/parity/peer`);
  process.exit(2);
}
const { getLlama } = await import(pathToFileURL(entry).href);

export const TEXTS = [
  "hello world",
  "The quick brown fox jumps over the lazy dog.",
  "",
  "a",
  "Héllo, Wörld! Ça va? Naïve café résumé.",
  "北京是中国的首都。",
  "Mixed 中文 and English, with numbers 12345 and 3.14159!",
  "supercalifragilisticexpialidocious antidisestablishmentarianism",
  "Retrieval-augmented generation combines a retriever with a generator.",
  "   leading and trailing spaces   ",
  "UPPER lower MiXeD case",
  "e-mail: someone@example.com, url: https://example.org/path?q=1",
  "Tabs\tand\nnewlines\r\nare whitespace.",
  "The mitochondria is the powerhouse of the cell; ATP is its currency.",
];

const [modelPath, outPath, label] = process.argv.slice(2);
if (!modelPath || !outPath) {
  console.error("usage: node bert_goldens.mjs MODEL.gguf OUT.json [LABEL]");
  process.exit(2);
}
const llama = await getLlama({ gpu: false, logLevel: "error" });
const model = await llama.loadModel({ modelPath });
const ctx = await model.createEmbeddingContext({ threads: 2 });
const vectors = [], tokens = [];
for (const t of TEXTS) {
  const v = Array.from((await ctx.getEmbeddingFor(t)).vector);
  const n = Math.sqrt(v.reduce((a, b) => a + b * b, 0));
  vectors.push(v.map((x) => (n > 0 ? x / n : x)));
  tokens.push(Array.from(model.tokenize(t)));
}
await ctx.dispose();
await model.dispose();
const out = { model: label || path.basename(modelPath), peer: "node-llama-cpp@3.21.1", texts: TEXTS, tokens, vectors };
fs.writeFileSync(outPath, JSON.stringify(out) + "\n");
console.log(`wrote ${TEXTS.length} vectors of ${vectors[0].length} to ${outPath}`);
