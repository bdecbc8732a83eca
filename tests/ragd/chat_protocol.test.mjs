// chat_protocol.test.mjs — the chat WebSocket's protocol and the exact prompt ragd sends,
// checked against a small fake OpenAI server that records every request (a test double for
// the prompt check only; e2e.test.mjs runs the chat against the real llmd).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { BIN, Chat, TMP, check, postJson, ragdEnv, sleep, start, stop, waitHttp, log } from './lib.mjs';

const requests = [];
const embedRequests = [];
let busyLeft = 2;

// Runs a ragd command to its end (asynchronously: the fake LLM lives in this process).
function run(args, env) {
  return new Promise((resolve) => {
    const p = spawn(path.join(BIN, 'ragd'), args, { env: { ...process.env, ...env }, cwd: TMP });
    let out = '', err = '';
    p.stdout.on('data', (d) => { out += d; });
    p.stderr.on('data', (d) => { err += d; });
    const t = setTimeout(() => p.kill('SIGKILL'), 60000);
    p.on('exit', (code) => { clearTimeout(t); resolve({ code, out, err }); });
  });
}
const openStreams = new Set();
const nCtx = 4096;

// The fake LLM: /v1/models with a context size, /v1/chat/completions streaming "Hello world"
// (slowly, 60 pieces over 6 s, when the question contains "slowly").
function fakeLlm() {
  return http.createServer((req, res) => {
    let body = '';
    req.on('data', (d) => { body += d; });
    req.on('end', () => {
      if (req.url === '/v1/embeddings') {
        // deterministic 8-dimensional vectors from the text's letters (for EMBEDDING_BASE_URL)
        const j = JSON.parse(body);
        embedRequests.push(j);
        const data = j.input.map((t, index) => {
          const v = new Array(8).fill(0);
          for (const ch of t.toLowerCase()) v[ch.charCodeAt(0) % 8] += 1;
          const n = Math.hypot(...v) || 1;
          return { object: 'embedding', index, embedding: v.map((x) => x / n) };
        });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data, model: j.model }));
        return;
      }
      if (req.url === '/v1/models') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model', meta: { n_ctx: nCtx } }] }));
        return;
      }
      if (req.url !== '/v1/chat/completions') {
        res.writeHead(404, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"not found","type":"not_found_error","code":404}}');
        return;
      }
      const j = JSON.parse(body);
      const lastQ = j.messages[j.messages.length - 1].content;
      if (lastQ.includes('busy') && busyLeft > 0) { // a full queue: 503, as llmd answers
        busyLeft--;
        res.writeHead(503, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"server busy, queue full","type":"overloaded_error","code":503}}');
        return;
      }
      requests.push({ headers: req.headers, body: j });
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      const last = j.messages[j.messages.length - 1].content;
      const pieces = last.includes('slowly') ? Array.from({ length: 60 }, (_, i) => `p${i} `) : ['Hello', ' world', '!'];
      const delay = last.includes('slowly') ? 100 : 5;
      const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk',
        choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
      let i = 0;
      const state = { res, closed: false };
      openStreams.add(state);
      res.on('close', () => { state.closed = true; openStreams.delete(state); });
      res.write(chunk({ role: 'assistant', content: '' }, null));
      const tick = () => {
        if (state.closed) return;
        if (i < pieces.length) {
          // split one event across two writes to exercise the client's SSE parser
          const c = chunk({ content: pieces[i++] }, null);
          res.write(c.slice(0, 7));
          res.write(c.slice(7));
          setTimeout(tick, delay);
        } else {
          res.write(chunk({}, 'stop'));
          res.end('data: [DONE]\n\n');
        }
      };
      setTimeout(tick, delay);
    });
  });
}

const llm = fakeLlm();
await new Promise((r) => llm.listen(0, '127.0.0.1', r));
const llmUrl = `http://127.0.0.1:${llm.address().port}/v1`;
const { port, env } = await ragdEnv(llmUrl, { RAG_TOP_K: '2' });
const base = `http://127.0.0.1:${port}`;
const ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
let ok = false;
try {
  await waitHttp(base + '/api/v1/health', ragd);

  const en = 'The Zorblax reactor was built in 1987 by Doctor Quentin Marsh. It produces 42 megawatts of power.';
  const zh = '长城是中国古代的军事防御工程。它的总长度超过两万公里，被称为万里长城。';
  let r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'reactor-en.txt', content: en });
  check(r.status === 201, 'add-document en: ' + r.text);
  check(r.json.message === '文档已添加并切分为 1 块' && r.json.chunks === 1 && r.json.document_id > 0, r.text);
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'greatwall-zh.txt', content: zh });
  check(r.status === 201, 'add-document zh: ' + r.text);

  // a question with an exact name: sources name the English document first
  const chat = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await chat.opened;
  const q1 = 'Who built the Zorblax reactor?';
  chat.send({ content: '  ' + q1 + '\n' });
  let msgs = await chat.until(['done', 'error']);
  check(msgs[0].type === 'sources', 'first message is sources: ' + JSON.stringify(msgs[0]));
  check(msgs[0].items.length >= 1 && msgs[0].items[0].source === 'reactor-en.txt', 'sources: ' + JSON.stringify(msgs[0]));
  const it = msgs[0].items[0];
  check(typeof it.chunk_id === 'number' && typeof it.score === 'number' && it.text === en.replace('. It', '. It'),
    'source item fields: ' + JSON.stringify(it));
  const deltas = msgs.filter((m) => m.type === 'delta').map((m) => m.content).join('');
  check(deltas === 'Hello world!', 'deltas: ' + JSON.stringify(msgs));
  check(msgs[msgs.length - 1].type === 'done', 'ends with done: ' + JSON.stringify(msgs));

  // the exact prompt: system prompt, the seed's wording, chunks joined by \n---\n, temperature 0.2
  const req1 = requests[0].body;
  check(requests[0].headers.authorization === 'Bearer sk-test', 'bearer key sent');
  check(req1.stream === true && req1.temperature === 0.2 && req1.model === 'tiny', 'request fields: ' + JSON.stringify(req1));
  check(req1.messages.length === 2, 'system + user: ' + JSON.stringify(req1.messages));
  check(req1.messages[0].role === 'system' && req1.messages[0].content === 'You are a helpful assistant.', 'system prompt');
  const u1 = req1.messages[1].content;
  const ctx = msgs[0].items.map((x) => x.text).join('\n---\n');
  check(u1 === `请参考以下资料回答问题，若资料不足请说明：\n${ctx}\n问题：${q1}`, 'user turn: ' + JSON.stringify(u1));
  check(msgs[0].items.length === 2 && u1.includes('\n---\n') && u1.includes('Quentin Marsh') && u1.includes('长城'),
    'both chunks (RAG_TOP_K=2) in the prompt');

  // the second question carries the history as plain question and answer (not the context)
  const q2 = '长城有多长？';
  chat.send({ content: q2 });
  msgs = await chat.until(['done', 'error']);
  check(msgs[0].type === 'sources' && msgs[0].items[0].source === 'greatwall-zh.txt', 'zh sources: ' + JSON.stringify(msgs[0]));
  const req2 = requests[1].body;
  check(req2.messages.length === 4, 'history in the second request: ' + JSON.stringify(req2.messages));
  check(req2.messages[1].role === 'user' && req2.messages[1].content === q1, 'plain question in history');
  check(req2.messages[2].role === 'assistant' && req2.messages[2].content === 'Hello world!', 'answer in history');
  check(req2.messages[3].content.startsWith('请参考以下资料回答问题，若资料不足请说明：\n') &&
    req2.messages[3].content.endsWith('\n问题：' + q2), 'second user turn');

  // reset → reset_ok, and the history is gone
  chat.send({ type: 'reset' });
  check((await chat.next()).type === 'reset_ok', 'reset_ok');
  chat.send({ content: q1 });
  await chat.until(['done']);
  check(requests[2].body.messages.length === 2, 'no history after reset');

  // empty content → the seed's error; the socket stays usable
  chat.send({ content: '   ' });
  let m = await chat.next();
  check(m.type === 'error' && m.message === 'empty content', 'empty content: ' + JSON.stringify(m));
  chat.send({});
  m = await chat.next();
  check(m.type === 'error' && m.message === 'empty content', 'missing content: ' + JSON.stringify(m));
  chat.send('not json');
  m = await chat.next();
  check(m.type === 'error', 'invalid JSON gives an error: ' + JSON.stringify(m));

  // a busy LLM (503) is retried: the answer still comes
  chat.send({ content: 'Are you busy?' });
  msgs = await chat.until(['done', 'error'], 20000);
  check(msgs[msgs.length - 1].type === 'done' && busyLeft === 0, '503 retried: ' + JSON.stringify(msgs));

  // stop mid-answer: done comes quickly and the LLM request is closed
  chat.send({ content: 'Tell me about the reactor slowly' });
  m = await chat.next();
  check(m.type === 'sources', 'sources before the slow answer');
  m = await chat.next();
  check(m.type === 'delta', 'a first delta');
  const t0 = Date.now();
  chat.send({ type: 'stop' });
  msgs = await chat.until(['done', 'error'], 5000);
  const dt = Date.now() - t0;
  check(msgs[msgs.length - 1].type === 'done' && dt < 1500, `done ${dt} ms after stop: ${JSON.stringify(msgs.slice(-2))}`);
  for (let i = 0; i < 50 && openStreams.size; i++) await sleep(20);
  check(openStreams.size === 0, 'the LLM stream was closed after stop');

  // ragd ask: the answer streamed on stdout, then the sources
  const asked = await run(['ask', 'Who built the Zorblax reactor?'], env);
  check(asked.code === 0 && asked.out.startsWith('Hello world!') && /Sources:\n\[1\] reactor-en\.txt/.test(asked.out),
    'ragd ask: ' + JSON.stringify(asked));
  const askReq = requests[requests.length - 1].body;
  check(askReq.messages[1].content.startsWith('请参考以下资料回答问题，若资料不足请说明：\n'), 'ask uses the same prompt');

  // embeddings through a server (EMBEDDING_BASE_URL) instead of in-process
  fs.writeFileSync(path.join(TMP, 'remote.txt'), 'The Ostrander lighthouse guards the northern harbour.');
  const renv = { ...env, EMBEDDING_BASE_URL: llmUrl, EMBEDDING_MODEL: 'remote-embedder',
    DATABASE_URL: 'sqlite:' + path.join(TMP, 'remote.db') };
  const ing = await run(['ingest', 'remote.txt'], renv);
  check(ing.code === 0 && /remote\.txt: document \d+, 1 chunks/.test(ing.out), 'ingest via remote embeddings: ' + JSON.stringify(ing));
  const ask2 = await run(['ask', 'Ostrander lighthouse?'], renv);
  check(ask2.code === 0 && /\[1\] remote\.txt/.test(ask2.out), 'ask with remote embeddings: ' + JSON.stringify(ask2));
  check(embedRequests.length >= 3 && embedRequests.every((r) => r.model === 'remote-embedder'), 'embeddings requested from the server');

  // a long conversation never overflows the context (4096 tokens here): old turns are dropped
  for (let i = 0; i < 3; i++) {
    chat.send({ content: 'question ' + i + ' ' + 'a long question about rivers and hills. '.repeat(40) });
    await chat.until(['done']);
  }
  const lastReq = requests[requests.length - 1].body;
  const total = lastReq.messages.reduce((n, x) => n + Buffer.byteLength(x.content), 0);
  check(total <= 4096, `prompt bytes ${total} stay within the 4096-token context (bytes bound tokens)`);

  // the LLM going away: an error message, and the socket keeps working
  for (const s of openStreams) s.res.destroy();
  await new Promise((r) => { llm.closeAllConnections?.(); llm.close(r); });
  chat.send({ content: q1 });
  msgs = await chat.until(['done', 'error']);
  m = msgs[msgs.length - 1];
  check(m.type === 'error' && /LLM/.test(m.message), 'LLM down gives error: ' + JSON.stringify(msgs));
  chat.send({ type: 'reset' });
  check((await chat.next()).type === 'reset_ok', 'socket usable after the LLM error');
  chat.close();
  await chat.closed;

  // health still answers; a foreign Origin is refused
  const h = await fetch(base + '/api/v1/health');
  check(h.status === 200 && (await h.json()).llm.ok === false, 'health: degraded without LLM');
  const evil = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`, { origin: 'http://evil.example' });
  let refused = false;
  try { await evil.opened; } catch (e) { refused = /403/.test(String(e)); }
  check(refused, 'foreign Origin refused with 403');
  ok = true;
} finally {
  await stop(ragd);
  llm.close();
  if (!ok) console.error(log(ragd));
}
const exit = await ragd.exited;
check(exit.code === 0, 'ragd exits cleanly on SIGTERM: ' + JSON.stringify(exit) + '\n' + log(ragd));
console.log('ok');
process.exit(0);
