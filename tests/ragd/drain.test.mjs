// drain.test.mjs — SIGTERM drain of `ragd serve` with several chats and an ingestion in flight:
// an answer in flight finishes, one that would not finish in RAGD_DRAIN_TIMEOUT_S ends with
// `done` at the bound, a question asked during the drain gets "server is shutting down", a
// request on an already open connection gets 503, every chat is closed with 1001, the
// ingestion commits whole, ragd exits 0; and the log has one key=value line per request and
// per answer (never the API key). The LLM is a small fake OpenAI server in this process, because
// the test needs answers of exact lengths and one that never ends (nginx.test.mjs drains against
// the real llmd).
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import { BIN, Chat, check, freePort, log, postJson, ragdEnv, sleep, start, stop, waitHttp } from './lib.mjs';

const KEY = 'sk-drain-secret-4711';
const chunk = (delta, finish) => `data: ${JSON.stringify({ id: 'x', object: 'chat.completion.chunk',
  choices: [{ index: 0, delta, finish_reason: finish }] })}\n\n`;
const llm = http.createServer((req, res) => {
  let body = '';
  req.on('data', (d) => { body += d; });
  req.on('end', () => {
    if (req.url === '/v1/models') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ object: 'list', data: [{ id: 'tiny', object: 'model', meta: { n_ctx: 4096 } }] }));
      return;
    }
    if (req.url !== '/v1/chat/completions') { res.writeHead(404); res.end('{}'); return; }
    const msgs = JSON.parse(body).messages;
    const q = msgs[msgs.length - 1].content;
    // "briefly": 20 pieces over 2 s; "forever": a piece every 100 ms for 60 s
    const n = q.includes('forever') ? 600 : 20;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    let i = 0, closed = false;
    res.on('close', () => { closed = true; });
    const tick = () => {
      if (closed) return;
      if (i < n) { res.write(chunk({ content: `w${i++} ` }, null)); setTimeout(tick, 100); }
      else { res.write(chunk({}, 'stop')); res.end('data: [DONE]\n\n'); }
    };
    tick();
  });
});
await new Promise((r) => llm.listen(0, '127.0.0.1', r));
const { port, env } = await ragdEnv(`http://127.0.0.1:${llm.address().port}/v1`, { RAGD_API_KEY: KEY,
  RAGD_DRAIN_TIMEOUT_S: '3', RAG_TOP_K: '2', RAGD_MAX_DOC_BYTES: String(4 << 20) });
const base = `http://127.0.0.1:${port}`;
const auth = { Authorization: 'Bearer ' + KEY };
let ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
let ok = false;
try {
  await waitHttp(base + '/api/v1/health', ragd, 60000);
  let a = await postJson(base + '/api/v1/knowledge/add-document', { source: 'harbor.txt',
    content: 'The Quillfeather harbor lighthouse was rebuilt in 1987.' }, auth);
  check(a.status === 201, 'add-document: ' + a.text);

  const open = async () => { const c = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`, { headers: auth }); await c.opened; return c; };
  const A = await open(), B = await open(), C = await open();
  A.send({ content: 'Tell me briefly about the harbor' });
  C.send({ content: 'Talk forever about the lighthouse' });
  const before = { A: await A.until(['delta'], 20000), C: await C.until(['delta'], 20000) };
  check(before.A[0].type === 'sources' && before.C[0].type === 'sources', 'sources first: ' + JSON.stringify(before));

  // a connection opened before the signal, used after it
  const keep = net.connect(port, '127.0.0.1');
  await new Promise((r, j) => { keep.on('connect', r); keep.on('error', j); });
  let keepData = '';
  keep.on('data', (d) => { keepData += d; });

  // an ingestion in flight when the signal comes
  const big = Array.from({ length: 600 }, (_, i) => `Sentence ${i} of the long drain manual about ferries.`).join(' ');
  const t0 = Date.now();
  const ingest = postJson(base + '/api/v1/knowledge/add-document', { source: 'manual.txt', content: big }, auth);
  for (let i = 0; i < 100; i++) {
    const m = await (await fetch(base + '/metrics')).text();
    if (/^ragd_ingests_running 1$/m.test(m)) break;
    await sleep(20);
  }

  const metrics = await (await fetch(base + '/metrics')).text();
  check(/^ragd_retrieval_seconds_count 2$/m.test(metrics) && /^ragd_retrieval_seconds_sum [\d.]+$/m.test(metrics),
    'retrieval latency in /metrics:\n' + metrics);
  ragd.kill('SIGTERM');
  const tTerm = Date.now();
  await sleep(300);
  B.send({ content: 'A new question during the drain' });
  const bm = await B.next(10000);
  check(bm.type === 'error' && bm.message === 'server is shutting down', 'question during the drain: ' + JSON.stringify(bm));

  keep.write(`GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n${'Authorization: Bearer ' + KEY}\r\n\r\n`);
  for (let i = 0; i < 100 && !keepData.includes('\r\n\r\n'); i++) await sleep(50);
  check(/^HTTP\/1\.1 503/.test(keepData), 'a request during the drain gets 503: ' + JSON.stringify(keepData.slice(0, 200)));
  keep.destroy();
  const fresh = await fetch(base + '/api/v1/health', { signal: AbortSignal.timeout(5000) }).then((r) => r.status, () => 'refused');
  check(fresh === 'refused' || fresh === 503, 'a new connection during the drain: ' + fresh);

  // A's answer finishes whole; C's ends with done at the bound
  const restA = await A.until(['done', 'error'], 20000);
  const deltasA = [...before.A, ...restA].filter((m) => m.type === 'delta').length;
  check(restA[restA.length - 1].type === 'done' && deltasA === 20, `A finishes whole: ${deltasA} deltas, ` +
    JSON.stringify(restA.slice(-2)));
  const restC = await C.until(['done', 'error'], 20000);
  const tC = Date.now() - tTerm;
  check(restC[restC.length - 1].type === 'done', 'C ends with done: ' + JSON.stringify(restC.slice(-2)));
  check(tC >= 2500 && tC < 10000, `C ended at the 3 s bound (${tC} ms after SIGTERM)`);
  for (const [name, c] of [['A', A], ['B', B], ['C', C]]) {
    const cl = await Promise.race([c.closed, sleep(10000).then(() => null)]);
    check(cl && cl.code === 1001, `chat ${name} closed with 1001: ${JSON.stringify(cl)}`);
  }

  const ing = await ingest;
  check(ing.status === 201 && ing.json.chunks > 10, 'the ingestion in flight completes: ' + ing.text.slice(0, 200));
  const ex = await Promise.race([ragd.exited, sleep(30000).then(() => null)]);
  check(ex && ex.code === 0, 'ragd exits 0: ' + JSON.stringify(ex) + '\n' + log(ragd).slice(-3000));
  console.log(`drain: ingestion ${ing.json.chunks} chunks in ${Date.now() - t0} ms; exit ${Date.now() - tTerm} ms after SIGTERM`);

  const text = log(ragd);
  check(!text.includes(KEY), 'the API key never appears in the log');
  const chatLine = /ragd: chat id=\d+ outcome=done sources=\d+ retrieval_ms=[\d.]+ ttft_ms=[\d.]+ tokens=20 tok_s=[\d.]+ total_ms=[\d.]+/;
  check(chatLine.test(text), 'a chat log line with timings:\n' + text.slice(-2000));
  check(/ragd: chat id=\d+ outcome=stopped .*tokens=\d+/.test(text), 'the answer ended by the drain is logged as stopped');
  check(/ragd: http method=POST path=\/api\/v1\/knowledge\/add-document status=201 bytes=\d+ ms=[\d.]+/.test(text),
    'an HTTP log line');
  check(/ragd: http method=GET path=\/api\/v1\/health status=503 /.test(text), 'the 503 during the drain is logged');

  // the store was closed cleanly and holds the whole document
  ragd = start('ragd2', path.join(BIN, 'ragd'), ['serve'], env);
  await waitHttp(base + '/api/v1/health', ragd, 60000);
  const docs = await (await fetch(base + '/api/v1/knowledge/documents', { headers: auth })).json();
  const list = docs.documents || docs.items || docs;
  const man = list.find((d) => d.source === 'manual.txt');
  check(man && man.chunks === ing.json.chunks, 'the ingested document is whole after restart: ' + JSON.stringify(list));
  ok = true;
} finally {
  await stop(ragd);
  llm.close();
  llm.closeAllConnections?.();
  if (!ok) console.error('--- ragd\n' + log(ragd).slice(-3000));
}
console.log('drain: answers finish or end with done, new work refused, chats closed 1001, ingestion whole, exit 0');
process.exit(0); // pending bounded waits (sleep timers in the races above) would hold the event loop
