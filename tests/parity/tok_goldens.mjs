// tok_goldens.mjs — regenerates llama.cpp's tokenisation goldens for the tokenizer parity test
// (tests/engine/test_tok_parity.c reads tests/parity/tok_golden_*.json).
//
//   npm ci --prefix tests/parity/peer          (once: the pinned node-llama-cpp)
//   LM_FIXTURES=../shared/fixtures node tests/parity/tok_goldens.mjs
//
// Five vocabularies: the three fixtures as they are, plus two variants written here as
// metadata-only GGUF copies of a fixture with changed tokenizer keys (the C test applies the same
// changes to the same fixture): the Llama 3 vocabulary with the qwen2 pre-tokenizer and no BOS,
// and the Llama 2 SentencePiece vocabulary with add_space_prefix = false (as Gemma's converter
// writes it). For every text: ids without and with special-token parsing (llama.cpp's
// common_tokenize with add_special = false) and llama_detokenize of those ids (remove_special =
// false; unparse_special = false / true). PEER_DIR overrides the folder holding node_modules.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const peerDir = process.env.PEER_DIR || path.join(here, "peer");
const entry = path.join(peerDir, "node_modules", "node-llama-cpp", "dist", "index.js");
if (!fs.existsSync(entry)) {
  console.error(`node-llama-cpp not found under ${peerDir}: run npm ci --prefix tests/parity/peer`);
  process.exit(2);
}
const fixtures = process.env.LM_FIXTURES || path.join(here, "..", "..", "..", "shared", "fixtures");
const { getLlama } = await import(pathToFileURL(entry).href);

// ---- texts -------------------------------------------------------------------------------
const COMMON = [
  "",
  " ",
  "  ",
  "\t",
  "\n",
  "\n\n\n",
  " \n ",
  "Hello world",
  " Hello world",
  "Hello  world   with    runs     of spaces",
  "   leading and trailing spaces   ",
  "The quick brown fox jumps over the lazy dog.",
  "I'm sure you're right, they'll say we've done it, but DON'T and I'D or IT'S.",
  "'s 't 're ' ' ''",
  "line1\nline2\r\nline3\n\n\nline4",
  "Tabs\tand\t\tmore\ttabs",
  "1234567890",
  "3.14159 and 1,000,000 and 007 and 12:30",
  "你好，世界！今天天气很好。",
  "北京是中国的首都。",
  "こんにちは世界。カタカナとひらがな、漢字。",
  "안녕하세요 세계",
  "Привет, мир! Как дела?",
  "مرحبا بالعالم",
  "नमस्ते दुनिया",
  "שלום עולם",
  "สวัสดีชาวโลก",
  "Emoji: 👋🏽 🇺🇸 👨‍👩‍👧 🤖🚀✨ ❤️",
  "café naïve résumé Ångström façade Über",
  "e\u0301 vs \u00e9, ﬁ ligature, ＡＢＣ１２３ fullwidth",
  "Ω≈ç√∫˜µ≤≥÷ ∑∏π ∞ ≠ ± °",
  "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝕿𝖊𝖝𝖙 and ancient 𓀀𓀁 glyphs",
  "rare: ǅ ꙮ ᚠᚢᚦ ⵣ ꧁꧂ 〄",
  "control\u0001chars\u007fhere",
  "nbsp\u00a0here and ideographic\u3000space and zero\u200bwidth",
  "pneumonoultramicroscopicsilicovolcanoconiosis",
  "antidisestablishmentarianism supercalifragilisticexpialidocious",
  "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
  "!!!!!!!!!! ???? ...... ---- ____ ====",
  "def fib(n):\n    if n < 2:\n        return n\n    return fib(n - 1) + fib(n - 2)\n",
  "int main(void) {\n\tprintf(\"%d\\n\", x[i] << 2);\n\treturn 0;\n}",
  "const f = (a, b) => a ?? b; // comment\n/* block */",
  "<html><body class=\"x\">Hi &amp; bye</body></html>",
  "e-mail: someone@example.com, url: https://example.org/path?q=1&r=2#frag",
  "$100.00 + €50 = ¥15000; 50% off!",
  "Mixed 中文 and English, with numbers 12345 and 3.14159!",
  "UPPER lower MiXeD CaSe",
  "<s>Hello</s> <unk> [CLS] [SEP] [MASK] [PAD]",
  "<|begin_of_text|><|start_header_id|>user<|end_header_id|>\n\nHi there<|eot_id|>",
  "<|im_start|>system\nYou are helpful.<|im_end|>\n<|im_start|>user\nHi<|im_end|>",
  "<start_of_turn>user\nhello<end_of_turn>",
  "Ελληνικά: Καλημέρα κόσμε! Ωραία.",
  "，。！？；：「」『』（）【】 — “quotes” ‘single’ …",
  "１２３ＡＢＣ ｱｲｳｴｵ ﾊﾟﾝ",
  "trailing spaces at end   ",
  "em\u2003space, line\u2028separator, nel\u0085here",
  "The mitochondria is the powerhouse of the cell; ATP is its currency. " +
    "Retrieval-augmented generation (RAG) combines a retriever with a generator: documents are split " +
    "into chunks, embedded, indexed, and the top-k chunks are placed in the prompt. " +
    "Numbers like 2024-06-01, 10.5%, and 0x1F3A appear; so do words such as naïve, coöperate and Zoë.",
];

// ---- metadata-only GGUF copies with changed tokenizer keys ----------------------------------
function readGgufMeta(file) {
  const b = fs.readFileSync(file);
  let o = 0;
  const u32 = () => { const v = b.readUInt32LE(o); o += 4; return v; };
  const u64 = () => { const v = b.readBigUInt64LE(o); o += 8; return Number(v); };
  if (b.toString("latin1", 0, 4) !== "GGUF") throw new Error(`${file}: not GGUF`);
  o = 4;
  const version = u32();
  u64(); // tensors
  const nkv = u64();
  const kvs = [];
  const sizes = { 0: 1, 1: 1, 2: 2, 3: 2, 4: 4, 5: 4, 6: 4, 7: 1, 10: 8, 11: 8, 12: 8 };
  const skipValue = (t) => {
    if (t === 8) { const n = u64(); o += n; return; }
    if (t === 9) { const et = u32(); const n = u64(); for (let i = 0; i < n; i++) skipValue(et); return; }
    o += sizes[t];
  };
  for (let i = 0; i < nkv; i++) {
    const kl = u64();
    const key = b.toString("utf8", o, o + kl); o += kl;
    const t = u32();
    const start = o;
    skipValue(t);
    kvs.push({ key, type: t, raw: b.subarray(start, o) });
  }
  return { version, kvs };
}

function encStr(s) {
  const sb = Buffer.from(s, "utf8");
  const h = Buffer.alloc(8); h.writeBigUInt64LE(BigInt(sb.length));
  return Buffer.concat([h, sb]);
}

function writeVariant(src, dst, changes) {
  const { kvs } = readGgufMeta(src);
  const out = [];
  const keep = kvs.filter((kv) => !(kv.key in changes));
  for (const [key, value] of Object.entries(changes)) {
    if (value === null) continue;  // null removes the key
    if (typeof value === "string") keep.push({ key, type: 8, raw: encStr(value) });
    else if (typeof value === "boolean") keep.push({ key, type: 7, raw: Buffer.from([value ? 1 : 0]) });
    else throw new Error(`unsupported value for ${key}`);
  }
  const head = Buffer.alloc(24);
  head.write("GGUF", 0, "latin1");
  head.writeUInt32LE(3, 4);
  head.writeBigUInt64LE(0n, 8);
  head.writeBigUInt64LE(BigInt(keep.length), 16);
  out.push(head);
  for (const kv of keep) {
    const t = Buffer.alloc(4); t.writeUInt32LE(kv.type);
    out.push(encStr(kv.key), t, kv.raw);
  }
  let buf = Buffer.concat(out);
  const pad = (32 - (buf.length % 32)) % 32;
  buf = Buffer.concat([buf, Buffer.alloc(pad)]);
  fs.writeFileSync(dst, buf);
}

// ---- generation --------------------------------------------------------------------------
const VOCABS = [
  { name: "llama2_spm", file: "llama-2-tiny-random.gguf", variant: {} },
  { name: "llama3_bpe", file: "llama3-vocab-tiny.gguf", variant: {} },
  { name: "bert_wpm", file: "bert-uncased-vocab-tiny.gguf", variant: {} },
  { name: "qwen2_bpe", file: "llama3-vocab-tiny.gguf",
    variant: { "tokenizer.ggml.pre": "qwen2", "tokenizer.ggml.add_bos_token": false } },
  { name: "spm_nospace", file: "llama-2-tiny-random.gguf",
    variant: { "tokenizer.ggml.add_space_prefix": false } },
  // the other pre-tokenizers on the Llama 3 vocabulary (same merges, different word splits)
  ...[["gpt2", "gpt-2"], ["default", null], ["smollm", "smollm"], ["falcon", "falcon"], ["gpt4o", "gpt-4o"],
      ["tekken", "tekken"], ["command_r", "command-r"], ["glm4", "glm4"], ["stablelm2", "stablelm2"],
      ["deepseek_llm", "deepseek-llm"], ["deepseek_coder", "deepseek-coder"], ["deepseek_v3", "deepseek-v3"],
      ["bloom", "bloom"], ["poro", "poro-chat"], ["viking", "viking"], ["qwen35", "qwen35"], ["tiny_aya", "tiny_aya"],
      ["bailingmoe", "bailingmoe"], ["seed_coder", "seed-coder"], ["grok2", "grok-2"], ["minicpm5", "minicpm5"],
      ["jais2", "jais-2"], ["exaone_moe", "exaone-moe"], ["chameleon", "chameleon"], ["youtu", "youtu"],
      ["laguna", "laguna"], ["granite_emb", "granite-embed-multi-97m"], ["trillion", "trillion"]].map(([n, pre]) => ({
    name: `pre_${n}`, file: "llama3-vocab-tiny.gguf",
    variant: { "tokenizer.ggml.pre": pre, "tokenizer.ggml.add_bos_token": false },
  })),
];

const llama = await getLlama({ gpu: false, logLevel: "error" });
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tokgold-"));
for (const v of VOCABS) {
  let modelPath = path.join(fixtures, v.file);
  if (Object.keys(v.variant).length) {
    const dst = path.join(tmp, `${v.name}.gguf`);
    writeVariant(modelPath, dst, v.variant);
    modelPath = dst;
  }
  const model = await llama.loadModel({ modelPath, vocabOnly: true });
  const cases = [];
  for (const text of COMMON) {
    const ids = model.tokenize(text, false);
    const idsSpecial = model.tokenize(text, true);
    cases.push({
      text,
      ids,
      ids_special: idsSpecial,
      detok: model.detokenize(ids, false),
      detok_special: model.detokenize(idsSpecial, true),
    });
  }
  const t = model.tokens;
  const probe = [t.bos, t.eos, t.eot, t.sep].filter((x) => x != null);
  const out = {
    file: v.file,
    variant: v.variant,
    peer: "node-llama-cpp 3.21.1",
    bos: t.bos ?? -1,
    eos: t.eos ?? -1,
    eot: t.eot ?? -1,
    sep: t.sep ?? -1,
    add_bos: Boolean(t.shouldPrependBosToken),
    add_eos: Boolean(t.shouldAppendEosToken),
    eog: Object.fromEntries(probe.map((id) => [String(id), model.isEogToken(id)])),
    cases,
  };
  const dst = path.join(here, `tok_golden_${v.name}.json`);
  fs.writeFileSync(dst, JSON.stringify(out, null, 1) + "\n");
  console.log(`${dst}: ${cases.length} texts`);
  await model.dispose();
}
fs.rmSync(tmp, { recursive: true, force: true });
await llama.dispose();
