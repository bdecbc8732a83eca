// pull.test.mjs — `ragd pull` against a local server that answers like the Hugging Face Hub:
// the Hub redirects /{repo}/resolve/{rev}/{file} to a second "file host" port with X-Linked-Etag
// and X-Linked-Size; the file host serves Range/206; a gated repo answers 401 without a token and
// 403 with a wrong one; unknown files 404; one file's connection is dropped mid-body.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import assert from 'node:assert/strict';

const BIN = process.env.LM_BIN || 'build/san/bin';
const TMP = process.env.LM_TMP || fs.mkdtempSync('/tmp/pull-');
const RAGD = path.join(BIN, 'ragd');
if (!fs.existsSync(RAGD)) { console.error(`missing ${RAGD}: build first`); process.exit(1); }

const payload = randomBytes(3 * 1024 * 1024 + 123);
const sha = createHash('sha256').update(payload).digest('hex');
const small = Buffer.from('small gguf body\n');
const smallSha = createHash('sha256').update(small).digest('hex');
const TOKEN = 'hf_secret_token';

const hubLog = [];   // {url, auth}
const fileLog = [];  // {url, auth, range}
let dropOnce = true;

function serveRange(req, res, body, headers = {}) {
  const m = /^bytes=(\d+)-$/.exec(req.headers.range || '');
  if (m) {
    const from = Number(m[1]);
    if (from >= body.length) { res.writeHead(416, { 'Content-Range': `bytes */${body.length}` }); return res.end(); }
    res.writeHead(206, { ...headers, 'Content-Length': body.length - from,
      'Content-Range': `bytes ${from}-${body.length - 1}/${body.length}` });
    return res.end(body.subarray(from));
  }
  res.writeHead(200, { ...headers, 'Content-Length': body.length });
  res.end(body);
}

const fileHost = http.createServer((req, res) => {
  fileLog.push({ url: req.url, auth: req.headers.authorization, range: req.headers.range });
  if (req.url === '/files/drop') {
    if (dropOnce) { // headers promise the whole file, then the connection dies after 1 MB
      dropOnce = false;
      res.writeHead(200, { 'Content-Length': payload.length });
      res.write(payload.subarray(0, 1024 * 1024), () => setTimeout(() => req.socket.destroy(), 50));
      return;
    }
    return serveRange(req, res, payload);
  }
  if (req.url === '/files/model' || req.url === '/files/resume') return serveRange(req, res, payload, { ETag: '"cdn-etag-not-a-sha"' });
  if (req.url === '/files/small') return serveRange(req, res, small);
  if (req.url === '/files/wrongrange') { // answers every Range with the whole file as a 206 from byte 0
    if (req.headers.range) {
      res.writeHead(206, { 'Content-Length': payload.length, 'Content-Range': `bytes 0-${payload.length - 1}/${payload.length}` });
      return res.end(payload);
    }
    return serveRange(req, res, payload);
  }
  res.writeHead(404); res.end();
});

const hub = http.createServer((req, res) => {
  hubLog.push({ url: req.url, auth: req.headers.authorization });
  const m = /^\/([^/]+\/[^/]+)\/resolve\/([^/]+)\/(.+)$/.exec(req.url);
  if (!m) { res.writeHead(404); return res.end(); }
  const [, repo, rev, file] = m;
  const fileBase = `http://127.0.0.1:${fileHost.address().port}/files`;
  const redirect = (to, sum, size) => {
    res.writeHead(302, { Location: to, 'X-Linked-Etag': `"${sum}"`, 'X-Linked-Size': String(size), ETag: 'W/"hub-etag"' });
    res.end('Found');
  };
  if (repo === 'org/gated') {
    if (!req.headers.authorization) { res.writeHead(401, { 'X-Error-Code': 'GatedRepo' }); return res.end('{"error":"gated"}'); }
    if (req.headers.authorization !== `Bearer ${TOKEN}`) { res.writeHead(403, { 'X-Error-Code': 'GatedRepo' }); return res.end(); }
    return redirect(`${fileBase}/small`, smallSha, small.length);
  }
  if (repo !== 'org/public') { res.writeHead(404, { 'X-Error-Code': 'RepoNotFound' }); return res.end(); }
  if (file === 'model.gguf' || file === 'sub/dir/x.gguf') return redirect(`${fileBase}/model`, sha, payload.length);
  if (file === 'drop.gguf') return redirect(`${fileBase}/drop`, sha, payload.length);
  if (file === 'resume.gguf') return redirect(`${fileBase}/resume`, sha, payload.length);
  if (file === 'wrongrange.gguf') return redirect(`${fileBase}/wrongrange`, sha, payload.length);
  if (file === 'bad.gguf') return redirect(`${fileBase}/small`, sha, small.length); // announces the wrong hash
  if (file === 'etag.gguf') return serveRange(req, res, small, { ETag: `"${smallSha}"` }); // no redirect, sha in ETag
  if (file === 'rev.gguf' && rev === 'v1.0') return redirect(`${fileBase}/small`, smallSha, small.length);
  res.writeHead(404, { 'X-Error-Code': 'EntryNotFound' });
  res.end();
});

await new Promise((r) => fileHost.listen(0, '127.0.0.1', r));
await new Promise((r) => hub.listen(0, '127.0.0.1', r));
const ENDPOINT = `http://127.0.0.1:${hub.address().port}`;
const MODELS = path.join(TMP, 'models');

function pull(args, env = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(RAGD, ['pull', ...args], {
      env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '', HF_ENDPOINT: ENDPOINT, MODELS_DIR: MODELS, ...env },
    });
    let out = '', err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`timeout: ${args}`)); }, 60000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolve({ code, out, err }); });
  });
}

const same = (p, buf) => fs.existsSync(p) && Buffer.compare(fs.readFileSync(p), buf) === 0;
const noPart = (name) => assert.ok(!fs.existsSync(path.join(MODELS, `${name}.part`)), `${name}.part left behind`);
const results = [];
async function step(name, fn) {
  await fn();
  results.push(name);
  console.log(`ok - ${name}`);
}

try {
  await step('public file: redirect to the file host, sha256 checked, atomic rename', async () => {
    const r = await pull([], { HF_REPO_ID: 'org/public', HF_FILENAME: 'model.gguf' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Downloaded: .*models\/model\.gguf/);
    assert.ok(same(path.join(MODELS, 'model.gguf'), payload));
    noPart('model.gguf');
    assert.equal(hubLog.at(-1).url, '/org/public/resolve/main/model.gguf');
    assert.equal(hubLog.at(-1).auth, undefined);
    assert.equal(fileLog.at(-1).url, '/files/model');
  });

  await step('idempotent: a complete file is not downloaded again', async () => {
    const before = fileLog.length + hubLog.length;
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'model.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.equal(fileLog.length + hubLog.length, before);
  });

  await step('gated repo without a token: 401 and the FAQ advice, non-zero exit', async () => {
    const r = await pull(['--hf-repo', 'org/gated', '--hf-file', 'small.gguf']);
    assert.equal(r.code, 1);
    assert.match(r.err, /401/);
    assert.match(r.err, /HF_TOKEN/);
    assert.match(r.err, /HF_REPO_ID\/HF_FILENAME/);
    assert.equal(r.err.trim().split('\n').filter((l) => l.includes('401')).length, 1);
    assert.ok(!fs.existsSync(path.join(MODELS, 'small.gguf')));
  });

  await step('gated repo with a wrong token: 403 advice', async () => {
    const r = await pull(['--hf-repo', 'org/gated', '--hf-file', 'small.gguf'], { HF_TOKEN: 'hf_wrong' });
    assert.equal(r.code, 1);
    assert.match(r.err, /403/);
    assert.match(r.err, /license|permission/);
  });

  await step('gated repo with the token: Bearer to the Hub only, never to the file host', async () => {
    const f0 = fileLog.length;
    const r = await pull(['--hf-repo', 'org/gated', '--hf-file', 'small.gguf'], { HF_TOKEN: TOKEN });
    assert.equal(r.code, 0, r.err);
    assert.ok(same(path.join(MODELS, 'small.gguf'), small));
    assert.equal(hubLog.at(-1).auth, `Bearer ${TOKEN}`);
    assert.ok(fileLog.length > f0);
    for (const e of fileLog.slice(f0)) assert.equal(e.auth, undefined, 'token leaked to the file host');
  });

  await step('404: the spelling advice, non-zero exit', async () => {
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'nope.gguf']);
    assert.equal(r.code, 1);
    assert.match(r.err, /404/);
    assert.match(r.err, /HF_FILENAME/);
    const r2 = await pull(['--hf-repo', 'org/missing', '--hf-file', 'x.gguf'], { HF_TOKEN: TOKEN });
    assert.equal(r2.code, 1);
    assert.match(r2.err, /404 RepoNotFound/);
    noPart('nope.gguf');
  });

  await step('connection dropped mid-body: resumed with Range, result intact', async () => {
    const f0 = fileLog.length;
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'drop.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.ok(same(path.join(MODELS, 'drop.gguf'), payload));
    noPart('drop.gguf');
    const ranges = fileLog.slice(f0).map((e) => e.range).filter(Boolean);
    assert.ok(ranges.length >= 1, 'no Range request after the drop');
    assert.ok(Number(/bytes=(\d+)-/.exec(ranges[0])[1]) >= 1024 * 1024 - 65536, `resumed from ${ranges[0]}`);
  });

  await step('an interrupted earlier run (.part on disk) is resumed', async () => {
    fs.mkdirSync(MODELS, { recursive: true });
    fs.writeFileSync(path.join(MODELS, 'resume.gguf.part'), payload.subarray(0, 100000));
    const f0 = fileLog.length;
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'resume.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.equal(fileLog.at(-1).range, 'bytes=100000-');
    assert.equal(fileLog.length, f0 + 1);
    assert.ok(same(path.join(MODELS, 'resume.gguf'), payload));
    noPart('resume.gguf');
  });

  await step('a 206 for another offset than asked is not appended: restarted from byte 0', async () => {
    fs.writeFileSync(path.join(MODELS, 'wrongrange.gguf.part'), payload.subarray(0, 5000));
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'wrongrange.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.ok(same(path.join(MODELS, 'wrongrange.gguf'), payload));
    noPart('wrongrange.gguf');
  });

  await step('sha256 mismatch: error, nothing left behind', async () => {
    const r = await pull(['--hf-repo', 'org/public', '--hf-file', 'bad.gguf']);
    assert.equal(r.code, 1);
    assert.match(r.err, /SHA-256/);
    assert.ok(!fs.existsSync(path.join(MODELS, 'bad.gguf')));
    noPart('bad.gguf');
  });

  await step('ETag that is a sha256 (no redirect) is checked too; sub-folders; revision', async () => {
    let r = await pull(['--hf-repo', 'org/public', '--hf-file', 'etag.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.ok(same(path.join(MODELS, 'etag.gguf'), small));
    r = await pull(['--hf-repo', 'org/public', '--hf-file', 'sub/dir/x.gguf']);
    assert.equal(r.code, 0, r.err);
    assert.ok(same(path.join(MODELS, 'sub/dir/x.gguf'), payload));
    r = await pull(['--hf-repo', 'org/public', '--hf-file', 'rev.gguf'], { HF_REVISION: 'v1.0', HF_ENDPOINT: `${ENDPOINT}/` });
    assert.equal(r.code, 0, r.err);
    assert.equal(hubLog.at(-1).url, '/org/public/resolve/v1.0/rev.gguf');
  });

  await step('unsafe names are refused before any request', async () => {
    const n0 = hubLog.length;
    for (const f of ['../evil.gguf', '/etc/passwd', 'a//b.gguf', 'a/./b.gguf', 'x/..', '']) {
      const r = await pull(['--hf-repo', 'org/public', '--hf-file', f]);
      assert.equal(r.code, 2, `${f}: ${r.err}`);
    }
    for (const repo of ['../x', 'noslash', 'a/b/c', 'a b/c']) {
      const r = await pull(['--hf-repo', repo, '--hf-file', 'm.gguf']);
      assert.equal(r.code, 2, `${repo}: ${r.err}`);
    }
    assert.equal(hubLog.length, n0);
    assert.ok(!fs.existsSync(path.join(TMP, 'evil.gguf')));
  });

  await step('no repo/file configured: one clear line, exit 2', async () => {
    const r = await pull([]);
    assert.equal(r.code, 2);
    assert.match(r.err, /HF_REPO_ID and HF_FILENAME/);
  });

  await step('--embedding: a Hub id resolves to a GGUF already in MODELS_DIR', async () => {
    fs.writeFileSync(path.join(MODELS, 'all-MiniLM-L6-v2-Q8_0.gguf'), 'q8');
    fs.writeFileSync(path.join(MODELS, 'all-MiniLM-L6-v2-f16.gguf'), 'f16');
    const n0 = hubLog.length;
    const r = await pull(['--embedding'], { EMBEDDING_MODEL: 'sentence-transformers/all-MiniLM-L6-v2' });
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /all-MiniLM-L6-v2-f16\.gguf/);
    assert.equal(hubLog.length, n0);
    const r2 = await pull(['--embedding', '--hf-repo', 'org/public', '--hf-file', 'etag-emb.gguf'],
      { EMBEDDING_MODEL: 'someone/other-model' });
    assert.equal(r2.code, 1); // not on the fake Hub: 404 advice
    assert.match(r2.err, /404/);
  });
} finally {
  hub.close();
  fileHost.close();
}
console.log(`${results.length} steps passed`);
process.exit(0);
