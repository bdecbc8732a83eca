// Load generator for llmd: N concurrent streamed chat completions (greedy, fixed length),
// repeated R rounds; prints one JSON line with the aggregate generation rate.
//   node bench/serve/load.mjs BASE_URL N MAX_TOKENS ROUNDS
//   node bench/serve/load.mjs BASE_URL --ids N     the prompt token ids of round 0 (for the peer)
const [base, nStr, maxStr, roundsStr] = process.argv.slice(2);
const message = (i) => [{ role: 'user', content: `Write a story number ${i} about a lighthouse keeper.` }];

if (nStr === '--ids') {
  const out = [];
  for (let i = 0; i < Number(maxStr); i++) {
    const post = async (route, body) => (await fetch(`${base}${route}`, { method: 'POST', body: JSON.stringify(body) })).json();
    const { prompt } = await post('/apply-template', { messages: message(i) });
    const { tokens } = await post('/tokenize', { content: prompt, add_special: true, parse_special: true });
    out.push(tokens);
  }
  console.log(JSON.stringify(out));
  process.exit(0);
}
const n = Number(nStr || 1), maxTokens = Number(maxStr || 64), rounds = Number(roundsStr || 1);

// One streamed request; returns completion tokens and the time to its first content chunk.
async function one(i) {
  const t0 = performance.now();
  const res = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({
      messages: message(i),
      max_tokens: maxTokens, temperature: 0, stream: true, stream_options: { include_usage: true },
      ignore_eos: true,
    }),
  });
  if (!res.ok) throw new Error(`HTTP ${res.status}: ${await res.text()}`);
  const dec = new TextDecoder();
  let buf = '', tokens = 0, ttft = null;
  for await (const part of res.body) {
    buf += dec.decode(part, { stream: true });
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, k);
      buf = buf.slice(k + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const j = JSON.parse(ev.slice(6));
      if (j.usage) tokens = j.usage.completion_tokens;
      if (ttft === null && j.choices?.[0]?.delta?.content) ttft = performance.now() - t0;
    }
  }
  return { tokens, ttft };
}

let total = 0, wall = 0;
const ttfts = [];
for (let r = 0; r < rounds; r++) {
  const t0 = performance.now();
  const out = await Promise.all(Array.from({ length: n }, (_, i) => one(r * n + i)));
  wall += performance.now() - t0;
  for (const o of out) { total += o.tokens; ttfts.push(o.ttft ?? 0); }
}
ttfts.sort((a, b) => a - b);
console.log(JSON.stringify({
  streams: n, tokens: total, seconds: +(wall / 1000).toFixed(3),
  tok_per_s: +(total / (wall / 1000)).toFixed(2),
  per_stream_tok_per_s: +(total / n / (wall / 1000)).toFixed(2),
  ttft_ms_median: +ttfts[Math.floor(ttfts.length / 2)].toFixed(1),
}));
