// e2e.test.mjs — ragd end to end with the real llmd: a small chat model and a small BERT
// written by gguf-synth, a temporary SQLite store, an English and a Chinese document. A
// WebSocket client gets sources naming the right document, deltas, done; reset; empty content;
// stop mid-answer (done quickly, the slot is free for the next question); llmd killed (an error
// message, ragd keeps serving).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Chat, FIXTURES, RELBIN, TMP, check, freePort, log, postJson, ragdEnv, skip, start, stop, waitHttp }
  from './lib.mjs';

const N_PREDICT = 300;
for (const b of ['llmd', 'gguf-synth']) if (!fs.existsSync(path.join(RELBIN, b))) skip(`${RELBIN}/${b} not built (make)`);
if (!fs.existsSync(path.join(FIXTURES, 'llama-2-tiny-random.gguf'))) skip('fixtures missing (LM_FIXTURES)');

const chatModel = path.join(TMP, 'chat.gguf');
const r = spawnSync(path.join(RELBIN, 'gguf-synth'), ['--arch', 'llama', '--vocab-from',
  path.join(FIXTURES, 'llama-2-tiny-random.gguf'), '--n-embd', '64', '--n-layer', '2', '--n-head', '4', '--n-head-kv', '4',
  '--n-ff', '128', '--n-ctx', '2048', '--type', 'f32', '--seed', '11', '-o', chatModel], { encoding: 'utf8', timeout: 60000 });
check(r.status === 0, 'gguf-synth: ' + r.stderr);

const llmPort = await freePort();
const llmArgs = ['-m', chatModel, '--host', '127.0.0.1', '--port', String(llmPort), '--alias', 'chat', '-c', '2048',
  '-n', String(N_PREDICT), '-t', '1', '--api-key', 'sk-e2e', '--chat-template', 'llama2'];
const llmd = start('llmd', path.join(RELBIN, 'llmd'), llmArgs, {});
await waitHttp(`http://127.0.0.1:${llmPort}/health`, llmd, 60000);

const { port, env } = await ragdEnv(`http://127.0.0.1:${llmPort}/v1`, { LLM_API_KEY: 'sk-e2e', LLM_MODEL: 'chat',
  RAG_TOP_K: '2' });
const base = `http://127.0.0.1:${port}`;
const ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
let ok = false;
try {
  await waitHttp(base + '/api/v1/health', ragd, 60000);
  const h = await (await fetch(base + '/api/v1/health')).json();
  check(h.llm.ok === true && h.llm.model === 'chat', 'health sees llmd: ' + JSON.stringify(h));

  const en = 'The Brightwater turbine was designed by engineer Odalys Fenwick in 2011. It powers the Harrowgate valley.';
  const zh = '西湖位于中国浙江省杭州市。西湖十景闻名天下，其中有苏堤春晓和断桥残雪。';
  let a = await postJson(base + '/api/v1/knowledge/add-document', { source: 'turbine-en.txt', content: en });
  check(a.status === 201 && a.json.message === `文档已添加并切分为 ${a.json.chunks} 块`, 'add en: ' + a.text);
  a = await postJson(base + '/api/v1/knowledge/add-document', { source: 'xihu-zh.txt', content: zh });
  check(a.status === 201, 'add zh: ' + a.text);

  const chat = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await chat.opened;
  chat.send({ content: 'Who designed the Brightwater turbine?' });
  let msgs = await chat.until(['done', 'error'], 120000);
  check(msgs[0].type === 'sources' && msgs[0].items[0]?.source === 'turbine-en.txt', 'en sources: ' + JSON.stringify(msgs[0]));
  const deltas = msgs.filter((m) => m.type === 'delta');
  check(deltas.length >= 1 && msgs[msgs.length - 1].type === 'done', 'deltas then done: ' + JSON.stringify(msgs.slice(-3)));
  check(msgs.slice(1, -1).every((m) => m.type === 'delta' && typeof m.content === 'string'), 'only deltas between');
  check(/context is 2048 tokens/.test(log(ragd)), 'ragd learned the context size from llmd');

  chat.send({ content: '西湖在哪里？' });
  msgs = await chat.until(['done', 'error'], 120000);
  check(msgs[0].type === 'sources' && msgs[0].items[0]?.source === 'xihu-zh.txt', 'zh sources: ' + JSON.stringify(msgs[0]));
  check(msgs[msgs.length - 1].type === 'done', 'zh answer done');

  chat.send({ type: 'reset' });
  check((await chat.next()).type === 'reset_ok', 'reset_ok');
  chat.send({ content: '' });
  let m = await chat.next();
  check(m.type === 'error' && m.message === 'empty content', 'empty content');

  // stop mid-answer: done comes quickly, far fewer pieces than the model would write
  chat.send({ content: 'Tell me everything about Harrowgate' });
  check((await chat.next(60000)).type === 'sources', 'sources');
  check((await chat.next(60000)).type === 'delta', 'first delta');
  const t0 = Date.now();
  chat.send({ type: 'stop' });
  msgs = await chat.until(['done', 'error'], 10000);
  const dt = Date.now() - t0;
  check(msgs[msgs.length - 1].type === 'done' && dt < 2000, `done ${dt} ms after stop`);
  check(msgs.length < N_PREDICT / 2, `stopped early (${msgs.length} pieces after stop)`);
  // the slot is free again: the next answer starts promptly (llmd has one slot)
  const t1 = Date.now();
  chat.send({ content: 'And the turbine?' });
  check((await chat.next(30000)).type === 'sources', 'sources after stop');
  m = await chat.next(10000);
  check(m.type === 'delta' && Date.now() - t1 < 10000, 'next answer starts after a stop: ' + JSON.stringify(m));
  chat.send({ type: 'stop' });
  await chat.until(['done', 'error'], 10000);

  // llmd killed: an error message, the socket and ragd keep working
  llmd.kill('SIGKILL');
  await llmd.exited;
  chat.send({ content: 'Who designed the Brightwater turbine?' });
  msgs = await chat.until(['done', 'error'], 30000);
  m = msgs[msgs.length - 1];
  check(m.type === 'error' && /LLM/.test(m.message), 'error after llmd died: ' + JSON.stringify(msgs));
  chat.send({ type: 'reset' });
  check((await chat.next()).type === 'reset_ok', 'socket still usable');
  const h2 = await fetch(base + '/api/v1/health');
  check(h2.status === 200 && (await h2.json()).status === 'degraded', 'ragd healthy, degraded without llmd');
  chat.close();
  await chat.closed;
  ok = true;
} finally {
  await stop(ragd);
  await stop(llmd);
  if (!ok) console.error('ragd log:\n' + log(ragd) + '\nllmd log:\n' + log(llmd).slice(-3000));
}
const exit = await ragd.exited;
check(exit.code === 0, 'ragd exits cleanly: ' + JSON.stringify(exit) + '\n' + log(ragd));
console.log('ok');
process.exit(0);
