// llm_faults.test.mjs — ragd's chat when the LLM misbehaves: down (connection refused), silent
// (accepts and never answers; stalls mid-stream), drops the connection mid-stream, ends the stream
// early without a finish, answers HTTP 500, invalid JSON in the stream, a non-SSE body; a port
// that never completes the TCP handshake (blackhole.c) for the connect timeout. Each case:
// the WebSocket gets an "error" (never a "done" that would pass a cut answer off as complete), ragd
// keeps answering /health, the cut answer does not enter the history, and the same socket answers
// the next question once the LLM behaves again. The LLM here is a small fake OpenAI server whose
// faults are chosen per request; ragd itself is the real program.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BIN, Chat, TMP, check, postJson, ragdEnv, sleep, start, stop, waitHttp, log } from '../ragd/lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
let mode = 'ok';
const requests = [];
const upstream = []; // per chat request: when it came, when ragd closed it
const sockets = new Set();
const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;

// The fake LLM: what /v1/chat/completions does depends on `mode`.
function handler(req, res) {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (mode === 'hangall') return; // accepts every request (models, props, tokenize too), answers none
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model', meta: { n_ctx: 4096 } }] }));
      return;
    }
    if (req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"not_found_error","code":404}}');
      return;
    }
    requests.push(JSON.parse(body));
    const opened = { at: Date.now(), closedAt: 0 };
    upstream.push(opened);
    res.on('close', () => { opened.closedAt = Date.now(); });
    switch (mode) {
      case 'hang': return; // accepted, never answered
      case 'http500':
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"model crashed","type":"server_error","code":500}}');
        return;
      case 'http401':
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":{"message":"Invalid API Key","type":"authentication_error","code":401}}');
        return;
      case 'busy': // always a full queue: ragd retries with backoff, then gives up
        res.writeHead(503, { 'content-type': 'application/json', 'retry-after': '1' });
        res.end('{"error":{"message":"server busy, queue full","type":"overloaded_error","code":503}}');
        return;
      case 'nonsse': // a whole non-streamed completion where a stream was asked for
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ id: 'x', object: 'chat.completion',
          choices: [{ index: 0, message: { role: 'assistant', content: 'PARTIAL whole' }, finish_reason: 'stop' }] }));
        return;
      case 'htmlbody': // a proxy's error page with status 200
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html><body>Bad gateway PARTIAL</body></html>');
        return;
    }
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.write(chunk({ role: 'assistant', content: '' }, null));
    res.write(chunk({ content: 'PARTIAL one' }, null));
    res.write(chunk({ content: ' PARTIAL two' }, null));
    switch (mode) {
      case 'drop': setTimeout(() => req.socket.destroy(), 100); return; // connection reset mid-stream
      case 'endearly': setTimeout(() => res.end(), 100); return; // clean end, no finish, no [DONE]
      case 'stall': return; // deltas, then silence
      case 'sseerror': // llama.cpp's way to fail after the headers: an error event in the stream
        setTimeout(() => res.end('data: {"error":{"message":"context shift failed","type":"server_error","code":500}}\n\n'), 100);
        return;
      case 'badjson': setTimeout(() => res.end('data: {"choices":[{"delta":{"content":\n\n'), 100); return;
    }
    res.write(chunk({ content: 'Hello world!' }, null));
    res.write(chunk({}, 'stop'));
    res.end('data: [DONE]\n\n');
  });
}

const llm = http.createServer(handler);
llm.on('connection', (s) => { sockets.add(s); s.on('close', () => sockets.delete(s)); });
await new Promise((r) => llm.listen(0, '127.0.0.1', r));
const llmPort = llm.address().port;
const { port, env } = await ragdEnv(`http://127.0.0.1:${llmPort}/v1`,
  { RAG_TOP_K: '1', LLM_IDLE_TIMEOUT_S: '2', LLM_CONNECT_TIMEOUT_MS: '1000' });
const base = `http://127.0.0.1:${port}`;
const ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
let ok = false;
let cases = 0;
try {
  await waitHttp(base + '/api/v1/health', ragd);
  const r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'a.txt', content: 'The Zorblax reactor makes 42 megawatts.' });
  check(r.status === 201, 'add-document: ' + r.text);
  const chat = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await chat.opened;

  // One good question: sources, deltas, done; the answer is whole.
  const good = async (what) => {
    mode = 'ok';
    const n0 = requests.length;
    chat.send({ content: 'What does the reactor make?' });
    const msgs = await chat.until(['done', 'error'], 30000);
    const text = msgs.filter((m) => m.type === 'delta').map((m) => m.content).join('');
    check(msgs[msgs.length - 1].type === 'done' && text === 'PARTIAL one PARTIAL twoHello world!',
      `recovery after ${what}: ${JSON.stringify(msgs)}`);
    // the history sent with this question holds no cut answer
    const sent = JSON.stringify(requests[requests.length - 1].messages);
    check(requests.length === n0 + 1, `recovery after ${what}: one request`);
    // (a turn the client stopped stays, as the SPEC says; it had no deltas here: '')
    const cut = requests[requests.length - 1].messages.filter((m) => m.role === 'assistant' &&
      m.content !== 'PARTIAL one PARTIAL twoHello world!' && m.content !== '');
    check(cut.length === 0, `a cut answer entered the history after ${what}: ${sent}`);
  };

  // One faulty question: an error (possibly after some deltas), never done, within `ms`.
  const faulty = async (m, what, re, ms) => {
    mode = m;
    const t0 = Date.now();
    chat.send({ content: 'What does the reactor make?' });
    const msgs = await chat.until(['done', 'error'], ms + 10000);
    const dt = Date.now() - t0;
    const last = msgs[msgs.length - 1];
    check(last.type === 'error', `${what}: ends with ${JSON.stringify(last)} (all: ${JSON.stringify(msgs)})`);
    check(re.test(last.message), `${what}: error message ${JSON.stringify(last.message)}`);
    check(dt < ms, `${what}: error after ${dt} ms (limit ${ms})`);
    const h = await fetch(base + '/api/v1/health', { signal: AbortSignal.timeout(5000) });
    check(h.status === 200, `${what}: health ${h.status}`);
    console.log(`ok ${what}: ${JSON.stringify(last.message)} in ${dt} ms`);
    cases++;
    await good(what);
  };

  // silent from the start (ragd has not learnt the context size yet): the metadata requests a chat
  // makes first (/v1/models, /props, /tokenize) must be bounded by the idle timeout too
  mode = 'hangall';
  let t0 = Date.now();
  chat.send({ content: 'What does the reactor make?' });
  let msgs = await chat.until(['done', 'error'], 60000);
  check(msgs[msgs.length - 1].type === 'error', 'silent LLM from the start: ' + JSON.stringify(msgs));
  check(Date.now() - t0 < 15000, `silent LLM from the start: error after ${Date.now() - t0} ms`);
  console.log(`ok silent LLM from the start: ${JSON.stringify(msgs[msgs.length - 1].message)} in ${Date.now() - t0} ms`);
  cases++;
  // /health with a silent LLM: answers (200, degraded), bounded
  t0 = Date.now();
  const hs = await fetch(base + '/api/v1/health', { signal: AbortSignal.timeout(15000) });
  const hj = await hs.json();
  check(hs.status === 200 && hj.status === 'degraded' && !hj.llm.ok, 'health with a silent LLM: ' + JSON.stringify(hj));
  check(Date.now() - t0 < 8000, `health with a silent LLM took ${Date.now() - t0} ms`);
  console.log(`ok health with a silent LLM: degraded in ${Date.now() - t0} ms`);
  cases++;
  await good('start');
  await faulty('http500', 'HTTP 500', /LLM unavailable.*500.*model crashed/, 5000);
  await faulty('http401', 'HTTP 401 (wrong key)', /LLM unavailable.*401.*Invalid API Key/, 5000);
  await faulty('busy', 'HTTP 503 on every retry', /LLM unavailable.*503.*busy/, 15000);
  await faulty('sseerror', 'error event mid-stream', /LLM unavailable.*context shift failed/, 5000);
  await faulty('nonsse', 'non-SSE JSON body', /LLM unavailable.*not an event stream.*application\/json/, 5000);
  await faulty('htmlbody', 'HTML body with 200', /LLM unavailable.*not an event stream.*text\/html/, 5000);
  await faulty('drop', 'connection reset mid-stream', /LLM unavailable/, 5000);
  await faulty('endearly', 'stream ended without finish', /LLM unavailable.*(early|ended)/, 5000);
  await faulty('badjson', 'invalid JSON mid-stream', /LLM unavailable/, 5000);
  await faulty('hang', 'no answer (idle timeout 2 s)', /LLM unavailable.*(no data|time)/i, 6000);
  await faulty('stall', 'stall mid-stream (idle timeout 2 s)', /LLM unavailable.*(no data|time)/i, 6000);

  // down: nothing listens on the port (connection refused); then it comes back on the same port
  await new Promise((r) => { llm.close(r); for (const s of sockets) s.destroy(); });
  mode = 'ok';
  t0 = Date.now();
  chat.send({ content: 'What does the reactor make?' });
  msgs = await chat.until(['done', 'error'], 15000);
  check(msgs[msgs.length - 1].type === 'error' && /LLM unavailable/.test(msgs[msgs.length - 1].message),
    'LLM down: ' + JSON.stringify(msgs));
  check(Date.now() - t0 < 5000, `LLM down: error after ${Date.now() - t0} ms`);
  check((await fetch(base + '/api/v1/health')).status === 200, 'health while the LLM is down');
  console.log(`ok LLM down: ${JSON.stringify(msgs[msgs.length - 1].message)} in ${Date.now() - t0} ms`);
  cases++;
  // unreachable: the port never completes a connection (a full backlog drops the SYNs);
  // LLM_CONNECT_TIMEOUT_MS (1 s here) ends the attempt
  const bh = path.join(TMP, 'blackhole');
  if (spawnSync('cc', ['-O1', '-o', bh, path.join(HERE, 'blackhole.c')]).status === 0) {
    const hole = spawn(bh, [String(llmPort)], { stdio: ['pipe', 'pipe', 'inherit'] });
    let out = '';
    hole.stdout.on('data', (d) => { out += d; });
    for (let i = 0; i < 200 && !out.includes('ready'); i++) await sleep(20);
    check(out.includes('ready'), 'blackhole did not start');
    t0 = Date.now();
    chat.send({ content: 'What does the reactor make?' });
    msgs = await chat.until(['done', 'error'], 15000);
    const dt = Date.now() - t0;
    hole.stdin.end();
    await new Promise((r) => hole.on('exit', r));
    check(msgs[msgs.length - 1].type === 'error' && /LLM unavailable.*(time|Timeout)/i.test(msgs[msgs.length - 1].message),
      'LLM unreachable: ' + JSON.stringify(msgs));
    check(dt >= 900 && dt < 5000, `LLM unreachable: error after ${dt} ms (connect timeout 1000)`);
    console.log(`ok LLM unreachable (connect timeout 1 s): ${JSON.stringify(msgs[msgs.length - 1].message)} in ${dt} ms`);
    cases++;
  } else {
    console.log('note: no C compiler, the connect-timeout case did not run');
  }
  await new Promise((r) => llm.listen(llmPort, '127.0.0.1', r));
  await good('LLM down');

  // a stop while the LLM is silent: done at once, the upstream request closed, the socket usable
  mode = 'hang';
  chat.send({ content: 'What does the reactor make?' });
  for (let i = 0; i < 100 && upstream.length < requests.length; i++) await sleep(20);
  await sleep(300);
  t0 = Date.now();
  chat.send({ type: 'stop' });
  msgs = await chat.until(['done', 'error'], 5000);
  check(msgs[msgs.length - 1].type === 'done' && Date.now() - t0 < 1000, 'stop while the LLM is silent: ' + JSON.stringify(msgs));
  const up = upstream[upstream.length - 1];
  for (let i = 0; i < 100 && !up.closedAt; i++) await sleep(20);
  check(up.closedAt && up.closedAt - t0 < 1500, `stop: the upstream request was not closed (${up.closedAt - t0} ms)`);
  console.log(`ok stop while the LLM is silent: done in ${Date.now() - t0} ms, upstream closed`);
  cases++;
  await good('stop');

  // the documents are untouched by all this
  const list = await (await fetch(base + '/api/v1/knowledge/documents')).json();
  check(list.total === 1, 'documents: ' + JSON.stringify(list));

  // the client leaves while the LLM is silent: ragd closes the upstream request well before the
  // idle timeout would
  mode = 'hang';
  chat.send({ content: 'What does the reactor make?' });
  for (let i = 0; i < 100 && upstream.length < requests.length; i++) await sleep(20);
  await sleep(300);
  t0 = Date.now();
  chat.close();
  await chat.closed;
  const up2 = upstream[upstream.length - 1];
  for (let i = 0; i < 100 && !up2.closedAt; i++) await sleep(20);
  check(up2.closedAt && up2.closedAt - t0 < 1500, `client gone: the upstream request was not closed (${up2.closedAt - t0} ms)`);
  console.log(`ok client gone while the LLM is silent: upstream closed in ${up2.closedAt - t0} ms`);
  cases++;

  // SIGTERM while a chat waits on a silent LLM: ragd ends promptly and cleanly
  const chat2 = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await chat2.opened;
  chat2.send({ content: 'What does the reactor make?' });
  for (let i = 0; i < 100 && upstream.length < requests.length; i++) await sleep(20);
  await sleep(300);
  check(ragd.exitCode === null, 'ragd still running');
  t0 = Date.now();
  ragd.kill('SIGTERM');
  const ex = await Promise.race([ragd.exited, sleep(8000).then(() => null)]);
  check(ex && ex.code === 0, `SIGTERM with an answer in flight: ${JSON.stringify(ex)} after ${Date.now() - t0} ms`);
  console.log(`ok SIGTERM with a silent LLM: exit 0 in ${Date.now() - t0} ms`);
  cases++;
  console.log(`${cases} LLM fault cases passed`);
  ok = true;
} finally {
  await stop(ragd);
  llm.close();
  for (const s of sockets) s.destroy();
  if (!ok) console.error(log(ragd));
}
if (ragd.exitCode !== 0) { console.error('ragd exit ' + ragd.exitCode + '\n' + log(ragd)); process.exit(1); }
