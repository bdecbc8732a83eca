// store_locked.test.mjs — ragd's SQLite store while another process holds a write transaction
// on the database file (the sqlite3 shell, BEGIN IMMEDIATE): add-document and delete answer a
// clear 503 within the busy timeout (no hang), nothing half-written appears, reads (list, search,
// the chat's retrieval) keep working, /health answers; once the lock is released, writes work.
// A ragd starting on a locked store exits with one clear line; unlocked, it starts.
import { spawn, spawnSync } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { BIN, Chat, TMP, check, freePort, postJson, ragdEnv, skip, sleep, start, stop, waitHttp, log } from '../ragd/lib.mjs';

if (process.env.LM_TEST_DATABASE_URL) skip('this test is about the SQLite store');
if (spawnSync('sqlite3', ['-version']).status !== 0) skip('no sqlite3 shell (apt-get install sqlite3)');

// A minimal OpenAI server for the chat: "Hello world!" in two pieces.
const llm = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    if (req.url !== '/v1/chat/completions') {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":{"message":"not found","type":"not_found_error","code":404}}');
      return;
    }
    const c = (delta, fin) => `data: ${JSON.stringify({ choices: [{ index: 0, delta, finish_reason: fin }] })}\n\n`;
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.end(c({ content: 'Hello' }, null) + c({ content: ' world!' }, null) + c({}, 'stop') + 'data: [DONE]\n\n');
  });
});
await new Promise((r) => llm.listen(0, '127.0.0.1', r));
const dbfile = path.join(TMP, 'locked.db');
const { port, env } = await ragdEnv(`http://127.0.0.1:${llm.address().port}/v1`,
  { RAG_TOP_K: '2', DATABASE_URL: 'sqlite:' + dbfile });
const base = `http://127.0.0.1:${port}`;
const ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
const BUSY_LIMIT_MS = 15000; // the store's busy timeout is 10 s; a hang would be far longer

// Holds a write transaction on the file from another process until release().
async function lockHolder() {
  const p = spawn('sqlite3', [dbfile], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  p.stdout.on('data', (d) => { out += d; });
  p.stderr.on('data', (d) => { out += d; });
  p.stdin.write(".timeout 5000\nBEGIN IMMEDIATE;\nINSERT INTO meta(key, value) VALUES ('fault-test', 1);\nSELECT 'lock' || 'ed';\n");
  const end = Date.now() + 10000;
  while (!out.includes('locked') && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
  check(out.includes('locked'), 'sqlite3 did not take the lock: ' + out);
  const exited = new Promise((r) => p.on('exit', r));
  return { release: async () => { p.stdin.end('ROLLBACK;\n.quit\n'); await exited; } };
}

let ok = false;
let holder = null;
try {
  await waitHttp(base + '/api/v1/health', ragd);
  let r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'reactor.txt',
    content: 'The Zorblax reactor was built in 1987 by Doctor Quentin Marsh.' });
  check(r.status === 201, 'add-document: ' + r.text);
  const id1 = r.json.document_id;
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'other.txt', content: 'Penguins live in Antarctica.' });
  check(r.status === 201, 'add-document 2: ' + r.text);
  const id2 = r.json.document_id;

  holder = await lockHolder();
  const chat = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await chat.opened;
  const t0 = Date.now();
  // a write (it waits out the busy timeout) and the reads, all while locked; ragd runs its writes
  // one at a time, so a second write would wait for the first one's timeout too: it goes after
  const took = {};
  const timed = (name, pr) => pr.then((v) => { took[name] = Date.now() - t0; return v; });
  const [add, chatMsgs, list, search, health] = await Promise.all([
    timed('add', postJson(base + '/api/v1/knowledge/add-document', { source: 'blocked.txt', content: 'This must not be stored.' })),
    timed('chat', (async () => { chat.send({ content: 'Who built the Zorblax reactor?' }); return chat.until(['done', 'error'], 30000); })()),
    timed('list', fetch(base + '/api/v1/knowledge/documents', { signal: AbortSignal.timeout(30000) }).then((x) => x.json())),
    timed('search', postJson(base + '/api/v1/knowledge/search', { query: 'Zorblax', top_k: 2 })),
    timed('health', fetch(base + '/api/v1/health', { signal: AbortSignal.timeout(30000) }).then((x) => x.status)),
  ]);

  // still locked: a delete, and (in parallel, another process) a second ragd starting on the store:
  // it exits with one clear line after one busy timeout (no hang, no half-open serving)
  const env2 = { ...env, PORT: String(await freePort()) };
  const t1 = Date.now();
  const ragd2 = start('ragd2', path.join(BIN, 'ragd'), ['serve'], env2);
  const [del, ex] = await Promise.all([
    fetch(`${base}/api/v1/knowledge/documents/${id2}`, { method: 'DELETE', signal: AbortSignal.timeout(30000) })
      .then(async (x) => { took.delete = Date.now() - t1; return { status: x.status, text: await x.text() }; }),
    Promise.race([ragd2.exited, sleep(30000).then(() => null)]).then((x) => { took.start = Date.now() - t1; return x; }),
  ]);
  check(ex && ex.code !== 0 && /locked/.test(log(ragd2)), `start on a locked store: ${JSON.stringify(ex)}\n${log(ragd2)}`);
  // one busy timeout (10 s), not two: closing the failed store must not wait on the lock again
  check(took.start < 17000, `start on a locked store took ${took.start} ms`);
  console.log(`start on a locked store: exit ${ex.code} after ${took.start} ms: ${log(ragd2).trim().split('\n').pop()}`);
  const dt = Math.max(took.add, took.delete);
  console.log('ms while locked: ' + JSON.stringify(took));
  console.log(`locked: add ${add.status} ${add.text}; delete ${del.status} ${del.text}; ${dt} ms`);
  check(add.status === 503 && /locked|busy/i.test(add.json?.error?.message || ''), 'add while locked: ' + add.text);
  check(del.status === 503 && /locked|busy/i.test(del.text), 'delete while locked: ' + del.text);
  check(dt < BUSY_LIMIT_MS, `a locked write took ${dt} ms`);
  for (const k of ['chat', 'list', 'search', 'health']) check(took[k] < 5000, `${k} waited ${took[k]} ms behind the lock`);
  const last = chatMsgs[chatMsgs.length - 1];
  check(last.type === 'done' && chatMsgs[0].type === 'sources' && chatMsgs[0].items[0].source === 'reactor.txt',
    'chat while locked: ' + JSON.stringify(chatMsgs));
  check(list.total === 2, 'list while locked: ' + JSON.stringify(list));
  check(search.status === 200 && search.text.includes('reactor.txt'), 'search while locked: ' + search.text);
  check(health === 200, 'health while locked: ' + health);

  await holder.release();
  holder = null;
  // nothing half-written; the same writes now work
  let l = await (await fetch(base + '/api/v1/knowledge/documents')).json();
  check(l.total === 2 && !JSON.stringify(l).includes('blocked.txt'), 'after the lock: ' + JSON.stringify(l));
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'after.txt', content: 'Written after the lock went away.' });
  check(r.status === 201, 'add after the lock: ' + r.text);
  const d = await fetch(`${base}/api/v1/knowledge/documents/${id2}`, { method: 'DELETE' });
  check(d.status === 200 || d.status === 204, 'delete after the lock: ' + d.status);
  l = await (await fetch(base + '/api/v1/knowledge/documents')).json();
  check(l.total === 2 && l.documents.map((x) => x.source).sort().join() === 'after.txt,reactor.txt', 'final: ' + JSON.stringify(l));
  chat.send({ content: 'Who built the Zorblax reactor?' });
  const again = await chat.until(['done', 'error'], 30000);
  check(again[again.length - 1].type === 'done', 'chat after the lock: ' + JSON.stringify(again));
  check(id1 > 0, 'ids');
  chat.close();
  await chat.closed;

  // unlocked, a second ragd starts on the store and sees the same documents
  const ragd3 = start('ragd3', path.join(BIN, 'ragd'), ['serve'], env2);
  try {
    await waitHttp(`http://127.0.0.1:${env2.PORT}/api/v1/health`, ragd3);
    const l2 = await (await fetch(`http://127.0.0.1:${env2.PORT}/api/v1/knowledge/documents`)).json();
    check(l2.total === 2, 'second ragd after the lock: ' + JSON.stringify(l2));
  } finally {
    await stop(ragd3);
  }
  check(ragd3.exitCode === 0, 'second ragd exit: ' + ragd3.exitCode + '\n' + log(ragd3));
  console.log('4 store-lock cases passed (write refused, reads served, start refused, recovery)');
  ok = true;
} finally {
  if (holder) await holder.release();
  await stop(ragd);
  llm.close();
  if (!ok) console.error(log(ragd));
}
if (ragd.exitCode !== 0) { console.error('ragd exit ' + ragd.exitCode + '\n' + log(ragd)); process.exit(1); }
