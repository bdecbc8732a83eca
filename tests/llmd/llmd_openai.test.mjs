// Acceptance test of `llmd` with the official OpenAI Node SDK: models, chat and text
// completions (plain and streamed), embeddings (501 for a decoder), auth, context overflow,
// malformed bodies, continuous batching (4 concurrent greedy streams equal the same requests
// served one at a time), a dropped client freeing its slot, a full queue (503 + Retry-After),
// flags, and a clean SIGTERM. The model is written by gguf-synth into $LM_TMP.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, openSync, writeSync, closeSync, constants as fsc } from 'node:fs';
import path from 'node:path';
import assert from 'node:assert/strict';
import OpenAI from 'openai';

const BIN = process.env.LM_BIN || 'build/san/bin';
const RELBIN = process.env.LM_RELBIN || 'build/rel/bin';
const TMP = process.env.LM_TMP || '/tmp';
const FIX = process.env.LM_FIXTURES || '../shared/fixtures';
const KEY = 'sk-test-123';

function skip(why) { console.log(`SKIP: ${why}`); process.exit(77); }

const llmd = path.join(BIN, 'llmd');
const synth = [path.join(BIN, 'gguf-synth'), path.join(RELBIN, 'gguf-synth')].find(existsSync);
const vocab = path.join(FIX, 'llama-2-tiny-random.gguf');
if (!existsSync(llmd)) skip(`${llmd} not built`);
if (!synth) skip('gguf-synth not built');
if (!existsSync(vocab)) skip('fixture llama-2-tiny-random.gguf missing');

const model = path.join(TMP, 'tiny.gguf');
const syn = spawnSync(synth, ['--arch', 'llama', '--n-embd', '64', '--n-layer', '2', '--n-head', '4', '--n-ff', '128',
  '--n-ctx', '512', '--vocab-from', vocab, '--seed', '7', '-o', model], { encoding: 'utf8' });
assert.equal(syn.status, 0, `gguf-synth failed: ${syn.stderr}`);

const servers = [];
// Starts llmd on a free port; resolves when /health says ok.
async function start(args, env = {}) {
  const p = spawn(llmd, ['-m', model, '--port', '0', '-t', '1', ...args], {
    env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  servers.push(p);
  let log = '';
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`llmd did not start: ${log}`)), 30000);
    p.stderr.on('data', (d) => {
      log += d;
      const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
      if (m) { clearTimeout(t); resolve(Number(m[1])); }
    });
    p.on('exit', (code) => { clearTimeout(t); reject(new Error(`llmd exited ${code}: ${log}`)); });
  });
  p.stderr.on('data', (d) => { log += d; });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${base}/health`).catch(() => null);
    if (r && r.status === 200) break;
    if (r) assert.equal(r.status, 503, 'health while loading');
    await sleep(100);
  }
  return { p, base, log: () => log };
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function metrics(base) {
  const txt = await (await fetch(`${base}/metrics`)).text();
  const get = (name) => Number((new RegExp(`^${name} (\\S+)$`, 'm').exec(txt) || [])[1]);
  return { busy: get('llmd_slots_busy'), queued: get('llmd_queue_length'), gen: get('llmd_generated_tokens_total'),
    prompt: get('llmd_prompt_tokens_total'), txt };
}

async function collect(stream) {
  let text = '', finish = null, first = null, usage = null, n = 0;
  for await (const chunk of stream) {
    n++;
    if (first === null) first = chunk;
    if (chunk.usage) usage = chunk.usage;
    for (const c of chunk.choices) {
      text += c.delta?.content ?? c.text ?? '';
      if (c.finish_reason) finish = c.finish_reason;
    }
  }
  return { text, finish, first, usage, n };
}

async function main() {
  // ---- flags ----
  let r = spawnSync(llmd, ['--help'], { encoding: 'utf8' });
  assert.equal(r.status, 0);
  assert.match(r.stdout, /per slot/i, '--help says the context is per slot');
  r = spawnSync(llmd, ['-m', model, '--bogus'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  assert.match(r.stderr, /unknown option '--bogus'/);
  r = spawnSync(llmd, ['-m', model, '--port', 'x'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  r = spawnSync(llmd, ['-m', model, '-np', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  r = spawnSync(llmd, [], { encoding: 'utf8' });
  assert.equal(r.status, 2);
  r = spawnSync(llmd, ['-m', path.join(TMP, 'missing.gguf'), '--port', '0'], { encoding: 'utf8', timeout: 20000 });
  assert.equal(r.status, 1, `missing model: ${r.stderr}`);
  assert.equal(r.stderr.trim().split('\n').filter((l) => l.startsWith('llmd: cannot')).length, 1);

  // ---- /health says 503 "loading" while the model loads: the "model" is a FIFO, so loading
  // blocks until we open it for writing; then it fails (not a regular file): exit 1 ----
  const fifo = path.join(TMP, 'model.fifo');
  if (spawnSync('mkfifo', [fifo]).status === 0) {
    const lp = spawn(llmd, ['-m', fifo, '--port', '0'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let llog = '';
    lp.stderr.on('data', (d) => { llog += d; });
    const lexit = new Promise((resolve) => lp.on('exit', (code) => resolve(code)));
    for (let i = 0; i < 200 && !/listening on http:\/\/[^:]+:\d+/.test(llog); i++) await sleep(50);
    const lbase = `http://127.0.0.1:${/listening on http:\/\/[^:]+:(\d+)/.exec(llog)[1]}`;
    let lres = await fetch(`${lbase}/health`);
    assert.equal(lres.status, 503);
    assert.deepEqual(await lres.json(), { status: 'loading' });
    lres = await fetch(`${lbase}/v1/chat/completions`, { method: 'POST', body: '{}' });
    assert.equal(lres.status, 503);
    let code = null;
    lexit.then((c) => { code = c; });
    for (let i = 0; i < 100 && code === null; i++) {
      try {
        const fd = openSync(fifo, fsc.O_WRONLY | fsc.O_NONBLOCK);
        try { writeSync(fd, 'not a model'); } catch { /* reader gone */ }
        closeSync(fd);
      } catch { /* no reader right now */ }
      await sleep(50);
    }
    assert.equal(await lexit, 1, llog);
    assert.match(llog, /llmd: cannot load model/);
  }

  // ---- main server: key, 4 slots ----
  const s = await start(['-np', '4', '-c', '256', '--api-key', KEY, '--alias', 'tiny', '--max-body', '64K']);
  const client = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: KEY, maxRetries: 0, timeout: 60000 });

  const health = await (await fetch(`${s.base}/health`)).json();
  assert.deepEqual(health, { status: 'ok' });

  const models = await client.models.list();
  assert.equal(models.data.length, 1);
  assert.equal(models.data[0].id, 'tiny');
  assert.equal(models.data[0].meta.n_ctx, 256);
  assert.equal(models.data[0].meta.n_ctx_train, 512);
  assert.equal(models.data[0].meta.n_embd, 64);
  assert.ok(models.data[0].meta.n_params > 0 && models.data[0].meta.size > 0 && models.data[0].meta.n_vocab === 32000);

  const one = await client.models.retrieve('tiny');
  assert.equal(one.id, 'tiny');
  await assert.rejects(client.models.retrieve('other'), (e) => e.status === 404);

  const props = await (await fetch(`${s.base}/props`)).json();
  assert.equal(props.total_slots, 4);
  assert.equal(props.n_ctx, 256);
  assert.ok('chat_template' in props && props.build_info && props.default_generation_settings.params);

  // wrong key, no key: 401 OpenAI-shaped; /health stays open
  const bad = new OpenAI({ baseURL: `${s.base}/v1`, apiKey: 'wrong', maxRetries: 0 });
  await assert.rejects(bad.models.list(), (e) => e.status === 401 && e.error?.type === 'authentication_error');
  let res = await fetch(`${s.base}/v1/models`);
  assert.equal(res.status, 401);
  assert.ok((await res.json()).error.message);
  res = await fetch(`${s.base}/models`);
  assert.equal(res.status, 401, 'unprefixed alias needs the key too');

  // non-stream chat
  const msgs = [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }];
  const chat = await client.chat.completions.create({ model: 'tiny', messages: msgs, max_tokens: 8, temperature: 0 });
  assert.equal(chat.object, 'chat.completion');
  assert.equal(chat.choices[0].message.role, 'assistant');
  assert.equal(typeof chat.choices[0].message.content, 'string');
  assert.ok(['stop', 'length'].includes(chat.choices[0].finish_reason));
  assert.ok(chat.usage.prompt_tokens > 0);
  assert.ok(chat.usage.completion_tokens > 0 && chat.usage.completion_tokens <= 8);
  assert.equal(chat.usage.total_tokens, chat.usage.prompt_tokens + chat.usage.completion_tokens);
  assert.ok(chat.timings && chat.timings.predicted_n === chat.usage.completion_tokens);

  // the same request streamed: same text (greedy), role first, finish last, usage chunk
  const st = await collect(await client.chat.completions.create({ model: 'tiny', messages: msgs, max_tokens: 8,
    temperature: 0, stream: true, stream_options: { include_usage: true } }));
  assert.equal(st.first.choices[0].delta.role, 'assistant');
  assert.equal(st.text, chat.choices[0].message.content);
  assert.equal(st.finish, chat.choices[0].finish_reason);
  assert.deepEqual(st.usage, chat.usage);

  // the prompt cache: the same request again decodes only the last prompt token, same answer
  const again = await client.chat.completions.create({ model: 'tiny', messages: msgs, max_tokens: 8, temperature: 0 });
  assert.equal(again.choices[0].message.content, chat.choices[0].message.content);
  assert.equal(again.timings.cache_n, again.usage.prompt_tokens - 1);
  assert.equal(again.timings.prompt_n, 1);
  assert.equal(again.usage.prompt_tokens, chat.usage.prompt_tokens);

  // sampling with a seed is reproducible
  const seeded = async (seed) => (await client.completions.create({ model: 'tiny', prompt: 'Once upon a time',
    max_tokens: 12, temperature: 1.0, top_k: 0, top_p: 1, min_p: 0, seed })).choices[0].text;
  const s1 = await seeded(1234);
  assert.equal(await seeded(1234), s1);

  // logit_bias: +100 on one token makes greedy pick it every time
  const tok = (await (await fetch(`${s.base}/tokenize`, { method: 'POST', body: JSON.stringify({ content: ' cat' }) })).json()).tokens;
  const biased = await client.completions.create({ model: 'tiny', prompt: 'x', max_tokens: 3, temperature: 0,
    logit_bias: { [tok[tok.length - 1]]: 100 } });
  assert.equal(biased.choices[0].text, ' cat cat cat');

  // array-of-parts content is the same prompt as the string
  const parts = await client.chat.completions.create({ model: 'tiny', max_tokens: 8, temperature: 0,
    messages: [msgs[0], { role: 'user', content: [{ type: 'text', text: 'Say ' }, { type: 'text', text: 'hello.' }] }] });
  assert.equal(parts.choices[0].message.content, chat.choices[0].message.content);

  // text completions, plain and streamed
  const comp = await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6, temperature: 0 });
  assert.equal(comp.object, 'text_completion');
  assert.equal(typeof comp.choices[0].text, 'string');
  assert.equal(comp.usage.completion_tokens, 6);
  assert.equal(comp.choices[0].finish_reason, 'length');
  const cst = await collect(await client.completions.create({ model: 'tiny', prompt: 'Once upon a time', max_tokens: 6,
    temperature: 0, stream: true }));
  assert.equal(cst.text, comp.choices[0].text);
  assert.equal(cst.finish, 'length');

  // stop strings: cut before the stop, never leaked. Use a piece of the greedy answer as the stop.
  const long = await client.completions.create({ model: 'tiny', prompt: 'The sky', max_tokens: 16, temperature: 0 });
  const full = long.choices[0].text;
  if (full.length > 6) {
    const stop = full.slice(3, 6);
    const cut = full.slice(0, full.indexOf(stop));
    const stopped = await client.completions.create({ model: 'tiny', prompt: 'The sky', max_tokens: 16, temperature: 0, stop: [stop] });
    assert.equal(stopped.choices[0].text, cut);
    assert.equal(stopped.choices[0].finish_reason, 'stop');
    const sst = await collect(await client.completions.create({ model: 'tiny', prompt: 'The sky', max_tokens: 16,
      temperature: 0, stop, stream: true }));
    assert.equal(sst.text, cut);
    assert.equal(sst.finish, 'stop');
  }

  // response_format json_object: the answer parses as JSON (closed before the budget ends)
  const js = await client.chat.completions.create({ model: 'tiny', messages: msgs, max_tokens: 24, temperature: 0,
    response_format: { type: 'json_object' } });
  const obj = JSON.parse(js.choices[0].message.content);
  assert.equal(typeof obj, 'object');

  // embeddings: a decoder model answers 501 with a clear message
  await assert.rejects(client.embeddings.create({ model: 'tiny', input: 'hello' }),
    (e) => e.status === 501 && /embedding/.test(e.message));

  // too long a prompt: 400 with the counts, before any stream starts
  const longPrompt = 'hello world '.repeat(400);
  await assert.rejects(client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: longPrompt }],
    stream: true }), (e) => e.status === 400 && /\d+ tokens/.test(e.message) && /256/.test(e.message));

  // malformed bodies: 400
  for (const body of ['{not json', '[]', '{"messages": "x"}', '{"messages": [{"role": "user", "content": 5}]}',
    '{"messages": [{"role":"user","content":"x"}], "temperature": "hot"}']) {
    res = await fetch(`${s.base}/v1/chat/completions`, { method: 'POST', body,
      headers: { Authorization: `Bearer ${KEY}`, 'Content-Type': 'application/json' } });
    assert.equal(res.status, 400, body);
    const e = await res.json();
    assert.equal(e.error.code, 400);
    assert.ok(e.error.message.length > 0);
  }
  // too big a body: 413; unknown route: 404
  res = await fetch(`${s.base}/v1/completions`, { method: 'POST', body: 'x'.repeat(100 * 1024),
    headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 413);
  res = await fetch(`${s.base}/v1/nope`, { headers: { Authorization: `Bearer ${KEY}` } });
  assert.equal(res.status, 404);
  assert.equal((await res.json()).error.code, 404);

  // tokenize / detokenize round trip
  const tk = await (await fetch(`${s.base}/tokenize`, { method: 'POST',
    body: JSON.stringify({ content: 'Hello world', add_special: true, with_pieces: true }) })).json();
  assert.ok(tk.tokens.length >= 2 && tk.tokens[0].id === 1 && typeof tk.tokens[1].piece === 'string');
  const ids = tk.tokens.map((t) => t.id);
  const dt = await (await fetch(`${s.base}/detokenize`, { method: 'POST', body: JSON.stringify({ tokens: ids }) })).json();
  assert.equal(dt.content.trim(), 'Hello world');
  const tmpl = await (await fetch(`${s.base}/apply-template`, { method: 'POST', body: JSON.stringify({ messages: msgs }) })).json();
  assert.ok(tmpl.prompt.includes('Say hello.'));

  // ---- continuous batching: 4 concurrent greedy streams == the same served one at a time ----
  const prompts = ['The capital of France', 'def fib(n):', 'Lorem ipsum dolor', '1, 2, 3, 4,'];
  const req = (p) => ({ model: 'tiny', messages: [{ role: 'user', content: p }], max_tokens: 12, temperature: 0, stream: true });
  const alone = [];
  for (const p of prompts) alone.push(await collect(await client.chat.completions.create(req(p))));
  const together = await Promise.all(prompts.map(async (p) => collect(await client.chat.completions.create(req(p)))));
  for (let i = 0; i < prompts.length; i++) {
    assert.equal(together[i].text, alone[i].text, `stream ${i} differs when batched`);
    assert.equal(together[i].finish, alone[i].finish);
  }
  // staggered: each request joins while the earlier ones are generating (mixed prompt +
  // generation batches); the prompts differ from the first round's so nothing is cached
  const req2 = (p) => ({ ...req(p), messages: [{ role: 'user', content: `${p}!` }] });
  const alone2 = [];
  for (const p of prompts) alone2.push(await collect(await client.chat.completions.create(req2(p))));
  const started = [];
  for (const p of prompts) {
    const stream = await client.chat.completions.create(req2(p));
    const it2 = stream[Symbol.asyncIterator]();
    const firstChunk = await it2.next();   // the role chunk: this request is queued or running
    started.push((async () => {
      const rest = await collect({ [Symbol.asyncIterator]: () => it2 });
      return { ...rest, first: firstChunk.value };
    })());
    await sleep(30);
  }
  const staggered = await Promise.all(started);
  for (let i = 0; i < prompts.length; i++) assert.equal(staggered[i].text, alone2[i].text, `staggered stream ${i} differs`);
  const before = await metrics(s.base);
  assert.equal(before.busy, 0);

  // ---- a client dropped mid-stream frees its slot within a step ----
  const ac = new AbortController();
  const drop = await client.chat.completions.create({ model: 'tiny', messages: [{ role: 'user', content: 'Tell a long story' }],
    max_tokens: 200, temperature: 0, stream: true }, { signal: ac.signal });
  let got = 0;
  try {
    for await (const chunk of drop) {
      if (chunk.choices[0]?.delta?.content) got++;
      if (got >= 2) { assert.equal((await metrics(s.base)).busy, 1); ac.abort(); }
    }
  } catch (e) { assert.ok(ac.signal.aborted, `unexpected error ${e}`); }
  let m;
  for (let i = 0; i < 40; i++) {
    m = await metrics(s.base);
    if (m.busy === 0) break;
    await sleep(50);
  }
  assert.equal(m.busy, 0, 'slot still busy after the client left');
  assert.ok(m.gen - before.gen < 100, `generation went on for nobody: ${m.gen - before.gen} tokens`);
  assert.match(m.txt, /llmd_requests_total \d+/);

  // ---- the same for a client that gives up on a long non-streamed answer ----
  const ac2 = new AbortController();
  const pending = fetch(`${s.base}/v1/chat/completions`, { method: 'POST', signal: ac2.signal,
    headers: { Authorization: `Bearer ${KEY}` },
    body: JSON.stringify({ messages: [{ role: 'user', content: 'Tell a long story' }], max_tokens: 200, temperature: 0 }) })
    .catch(() => null);
  for (let i = 0; i < 100 && (await metrics(s.base)).busy === 0; i++) await sleep(20);
  ac2.abort();
  await pending;
  for (let i = 0; i < 60; i++) {
    m = await metrics(s.base);
    if (m.busy === 0) break;
    await sleep(50);
  }
  assert.equal(m.busy, 0, 'slot still busy after the non-stream client left');

  // ---- a full queue: 503 with Retry-After; SIGTERM ends the running stream cleanly ----
  const q = await start(['-np', '1', '--queue', '0', '-c', '256']);
  const qc = new OpenAI({ baseURL: `${q.base}/v1`, apiKey: 'none', maxRetries: 0 });
  const running = await qc.chat.completions.create({ model: 'x', messages: [{ role: 'user', content: 'go' }],
    max_tokens: 220, temperature: 0, stream: true });
  const it = running[Symbol.asyncIterator]();
  await it.next();
  res = await fetch(`${q.base}/v1/chat/completions`, { method: 'POST',
    body: JSON.stringify({ messages: [{ role: 'user', content: 'me too' }] }) });
  assert.equal(res.status, 503);
  assert.equal(res.headers.get('retry-after'), '1');
  const exited = new Promise((resolve) => q.p.on('exit', (code, sig) => resolve({ code, sig })));
  q.p.kill('SIGTERM');
  let finish = null;
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    if (value.choices[0]?.finish_reason) finish = value.choices[0].finish_reason;
  }
  assert.ok(finish, 'stream ended with a finish_reason');
  const ex = await exited;
  assert.deepEqual(ex, { code: 0, sig: null }, `llmd log: ${q.log()}`);

  s.p.kill('SIGTERM');
  await new Promise((resolve) => s.p.on('exit', resolve));
  assert.equal(s.p.exitCode, 0, `llmd log: ${s.log()}`);

  // ---- an embedding model (bert fixture) with --embeddings ----
  const bert = path.join(FIX, 'bert-uncased-vocab-tiny.gguf');
  if (existsSync(bert)) {
    const e = await start(['--embeddings'].concat(['-m', bert]));
    const ec = new OpenAI({ baseURL: `${e.base}/v1`, apiKey: 'none', maxRetries: 0 });
    const one = await ec.embeddings.create({ model: 'bert', input: 'hello world' });   // SDK asks for base64
    assert.equal(one.object, 'list');
    assert.equal(one.data.length, 1);
    const v = Array.from(one.data[0].embedding);
    assert.equal(v.length, 64);
    assert.ok(Math.abs(Math.hypot(...v) - 1) < 1e-4, 'L2-normalised');
    assert.ok(one.usage.prompt_tokens >= 4);
    const many = await ec.embeddings.create({ model: 'bert', input: ['hello world', 'a second text'], encoding_format: 'float' });
    assert.equal(many.data.length, 2);
    assert.equal(many.data[1].index, 1);
    for (let i = 0; i < 64; i++) assert.ok(Math.abs(many.data[0].embedding[i] - v[i]) < 1e-6, 'float == base64, batch == single');
    assert.ok(many.data[0].embedding.some((x, i) => Math.abs(x - many.data[1].embedding[i]) > 1e-3));
    await assert.rejects(ec.chat.completions.create({ model: 'bert', messages: [{ role: 'user', content: 'x' }] }),
      (err) => err.status === 501);
    await assert.rejects(ec.embeddings.create({ model: 'bert', input: 5 }), (err) => err.status === 400);
    e.p.kill('SIGTERM');
    await new Promise((resolve) => e.p.on('exit', resolve));
    assert.equal(e.p.exitCode, 0, `llmd log: ${e.log()}`);
  }
  console.log('ok');
}

main().then(() => process.exit(0), (e) => {
  console.error(e);
  for (const p of servers) if (p.exitCode === null) p.kill('SIGKILL');
  process.exit(1);
});
