// llmd_loading.test.mjs — llmd while its model is still loading: every API route (embeddings,
// tokenize, detokenize, models, props, completions) answers 503 with Retry-After and a JSON error,
// never a hang or a dropped connection; a load that fails ends the process with one clear line.
// Then a real embedding model: from the moment the port listens, /v1/embeddings answers only
// 503 (loading) or 200 (loaded), and works once loaded. (A client dropping mid-stream freeing its
// slot is covered by tests/llmd/llmd_openai.test.mjs.)
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, RELBIN, FIXTURES, TMP, check, skip, sleep } from '../ragd/lib.mjs';

const llmd = path.join(BIN, 'llmd');
const synth = [path.join(BIN, 'gguf-synth'), path.join(RELBIN, 'gguf-synth')].find((f) => fs.existsSync(f));
const vocab = path.join(FIXTURES, 'bert-uncased-vocab-tiny.gguf');
if (!fs.existsSync(llmd) || !synth) skip('llmd or gguf-synth not built');
if (!fs.existsSync(vocab)) skip('fixture bert-uncased-vocab-tiny.gguf missing');

// Starts llmd and resolves with its base URL once it prints where it listens.
async function launch(args) {
  const p = spawn(llmd, ['--port', '0', '-t', '1', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  p.stderr.on('data', (d) => { log += d; });
  p.stdout.on('data', (d) => { log += d; });
  p.exited = new Promise((r) => p.on('exit', (code) => r(code)));
  const end = Date.now() + 30000;
  while (!/listening on http:\/\/[^:]+:\d+/.test(log) && Date.now() < end && p.exitCode === null) await sleep(20);
  const m = /listening on http:\/\/[^:]+:(\d+)/.exec(log);
  check(m, 'llmd did not start: ' + log);
  return { p, base: `http://127.0.0.1:${m[1]}`, log: () => log };
}

const requests = [
  ['POST', '/v1/embeddings', { input: 'hello' }],
  ['POST', '/embedding', { content: 'hello' }],
  ['POST', '/tokenize', { content: 'hello' }],
  ['POST', '/detokenize', { tokens: [1, 2] }],
  ['GET', '/v1/models'],
  ['GET', '/props'],
  ['POST', '/v1/completions', { prompt: 'hi', max_tokens: 2 }],
  ['POST', '/v1/chat/completions', { messages: [{ role: 'user', content: 'hi' }] }],
];
const call = (base, [method, p, body]) => fetch(base + p, { method, signal: AbortSignal.timeout(5000),
  headers: { 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });

// 1. the "model" is a FIFO: loading blocks until we write to it, so the server stays loading
const fifo = path.join(TMP, 'model.fifo');
if (spawnSync('mkfifo', [fifo]).status !== 0) skip('mkfifo failed');
const s = await launch(['-m', fifo, '--embeddings']);
let cases = 0;
try {
  for (const rq of requests) {
    const r = await call(s.base, rq);
    const text = await r.text();
    check(r.status === 503, `${rq[1]} while loading: ${r.status} ${text}`);
    check(r.headers.get('retry-after') !== null, `${rq[1]} while loading: no Retry-After`);
    let j = null;
    try { j = JSON.parse(text); } catch {}
    check(j?.error?.message && /load/i.test(j.error.message), `${rq[1]} while loading: body ${text}`);
    cases++;
  }
  const h = await fetch(s.base + '/health');
  check(h.status === 503 && (await h.json()).status === 'loading', 'health while loading');
  // the load fails (garbage through the FIFO): one clear line, exit 1
  const wr = spawn('sh', ['-c', 'printf "not a model" > "$0"', fifo]);
  const code = await Promise.race([s.p.exited, sleep(20000).then(() => 'timeout')]);
  wr.kill();
  check(code === 1, `failed load: exit ${code}\n${s.log()}`);
  check(/cannot load model/.test(s.log()), 'failed load message: ' + s.log());
  cases++;
} finally {
  if (s.p.exitCode === null) s.p.kill('SIGKILL');
}

// 2. a real embedding model: only 503 or 200 from the first moment, then embeddings work
const model = path.join(TMP, 'bert.gguf');
const syn = spawnSync(synth, ['--arch', 'bert', '--vocab-from', vocab, '-o', model], { encoding: 'utf8' });
check(syn.status === 0, 'gguf-synth: ' + syn.stderr);
const e = await launch(['-m', model, '--embeddings']);
try {
  const seen = new Set();
  let last = null;
  const end = Date.now() + 60000;
  while (Date.now() < end) {
    const r = await call(e.base, requests[0]);
    const text = await r.text();
    seen.add(r.status);
    check(r.status === 503 || r.status === 200, `embeddings during start-up: ${r.status} ${text}`);
    if (r.status === 200) { last = JSON.parse(text); break; }
    await sleep(10);
  }
  check(last && last.data?.[0]?.embedding?.length > 0, 'embeddings after loading: ' + JSON.stringify(last));
  const t = await call(e.base, requests[2]);
  check(t.status === 200 && (await t.json()).tokens?.length > 0, 'tokenize after loading');
  console.log(`start-up statuses seen: ${[...seen].join(',')}`);
  cases++;
  e.p.kill('SIGTERM');
  const code = await Promise.race([e.p.exited, sleep(15000).then(() => 'timeout')]);
  check(code === 0, `llmd exit ${code}\n${e.log()}`);
} finally {
  if (e.p.exitCode === null) e.p.kill('SIGKILL');
}
console.log(`${cases} llmd loading cases passed`);
