// hostile.test.mjs — hostile input against running llmd and ragd (sanitizer builds): malformed
// and deeply nested JSON, invalid UTF-8, NUL bytes, wrong types, oversized bodies and frames,
// raw WebSocket frames (fragmented, unmasked, oversized, bad UTF-8, bad opcodes), slow-loris
// clients, unknown routes and methods, path traversal, SQL metacharacters in every field.
// Every case must get its documented answer (a 4xx with a JSON error, or the WebSocket close
// code RFC 6455 names), and both servers must still answer /health afterwards with the stored
// data intact.
import crypto from 'node:crypto';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { BIN, FIXTURES, RELBIN, TMP, check, freePort, log, ragdEnv, skip, sleep, start, stop, waitHttp }
  from '../ragd/lib.mjs';

for (const b of ['llmd', 'ragd']) if (!fs.existsSync(path.join(BIN, b))) skip(`${BIN}/${b} not built`);
const synth = path.join(fs.existsSync(path.join(RELBIN, 'gguf-synth')) ? RELBIN : BIN, 'gguf-synth');
const model = path.join(TMP, 'chat.gguf');
const g = spawnSync(synth, ['--arch', 'llama', '--vocab-from', path.join(FIXTURES, 'llama-2-tiny-random.gguf'),
  '--n-embd', '64', '--n-layer', '1', '--n-head', '2', '--n-head-kv', '2', '--n-ff', '128', '--n-ctx', '256',
  '--type', 'f32', '-o', model], { encoding: 'utf8' });
check(g.status === 0, 'gguf-synth: ' + g.stderr);

const KEY = 'sk-hostile';
const llmPort = await freePort();
const llmd = start('llmd', path.join(BIN, 'llmd'), ['-m', model, '--host', '127.0.0.1', '--port', String(llmPort),
  '-c', '256', '-n', '8', '-t', '1', '--api-key', KEY, '--max-body', String(1 << 20)], {});
const { port: ragdPort, env } = await ragdEnv(`http://127.0.0.1:${llmPort}/v1`, { LLM_API_KEY: KEY,
  RAGD_MAX_BODY: String(1 << 20), RAGD_MAX_WS_MESSAGE: '65536' });
const ragd = start('ragd', path.join(BIN, 'ragd'), ['serve'], env);
const L = `http://127.0.0.1:${llmPort}`, R = `http://127.0.0.1:${ragdPort}`;

let cases = 0;
const failures = [];
function expect(name, cond, detail = '') {
  cases++;
  if (!cond) failures.push(`${name}: ${detail}`);
}

// Raw HTTP/1.1 exchange over a socket (for bytes fetch refuses to send). Resolves with the
// status code (0 when the server closed without answering) and the response text.
function raw(port, bytes, ms = 15000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    const done = () => {
      s.destroy();
      const text = data.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      resolve({ status: m ? Number(m[1]) : 0, text });
    };
    const t = setTimeout(done, ms);
    s.on('data', (d) => {
      data = Buffer.concat([data, d]);
      const text = data.toString('latin1');
      const hdrEnd = text.indexOf('\r\n\r\n');
      if (hdrEnd < 0) return;
      const cl = /content-length: (\d+)/i.exec(text.slice(0, hdrEnd));
      if ((cl && data.length >= hdrEnd + 4 + Number(cl[1])) || /\r\n0\r\n\r\n$/.test(text)) { clearTimeout(t); done(); }
    });
    s.on('error', () => { clearTimeout(t); done(); });
    s.on('close', () => { clearTimeout(t); done(); });
    s.write(bytes);
  });
}

function post(port, route, body, headers = {}) {
  const b = Buffer.isBuffer(body) ? body : Buffer.from(body);
  const h = Object.entries({ Host: `127.0.0.1:${port}`, 'Content-Type': 'application/json',
    'Content-Length': String(b.length), Connection: 'close', ...headers }).map(([k, v]) => `${k}: ${v}\r\n`).join('');
  return raw(port, Buffer.concat([Buffer.from(`POST ${route} HTTP/1.1\r\n${h}\r\n`), b]));
}
const isJsonError = (text) => { try { return !!JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4).replace(/^[0-9a-f]+\r\n/, '').replace(/\r\n0\r\n\r\n$/, '')).error; } catch { return false; } };

async function bad(port, route, body, want, name, headers) {
  const r = await post(port, route, body, headers);
  const okStatus = Array.isArray(want) ? want.includes(r.status) : r.status === want;
  expect(name, okStatus && (r.status === 0 || isJsonError(r.text)), `status ${r.status}, want ${want}: ${r.text.slice(0, 200)}`);
}

try {
  await waitHttp(L + '/health', llmd, 120000);
  await waitHttp(R + '/api/v1/health', ragd, 120000);
  const auth = { Authorization: 'Bearer ' + KEY };

  // a document to check that nothing is lost or changed by what follows
  let r = await post(ragdPort, '/api/v1/knowledge/add-document',
    JSON.stringify({ source: 'keep.txt', content: 'The Ilverton archive keeps 4172 maps.' }));
  check(r.status === 201, 'seed document: ' + r.text);
  const docsBefore = await (await fetch(R + '/api/v1/knowledge/documents')).text();

  // ---- JSON bodies, both servers ----
  const nested = '['.repeat(100000) + ']'.repeat(100000);
  const nestedObj = '{"a":'.repeat(50000) + '1' + '}'.repeat(50000);
  const bodies = [
    ['empty body', ''], ['truncated object', '{"messages":[{"role":"user","content":"hi"'], ['not an object', '[1,2,3]'],
    ['a string', '"hello"'], ['null', 'null'], ['deeply nested array', nested], ['deeply nested object', nestedObj],
    ['trailing garbage', '{"messages":[]} xyz'], ['single quotes', "{'messages': []}"],
    ['invalid UTF-8 in JSON', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
    ['NUL byte in the JSON text', Buffer.from('{"messages"\0:[]}')],
    ['numbers out of range', '{"messages":[{"role":"user","content":"x"}],"max_tokens":1e999}'],
  ];
  for (const [name, body] of bodies) {
    await bad(llmPort, '/v1/chat/completions', body, 400, 'llmd chat: ' + name, auth);
    await bad(ragdPort, '/api/v1/knowledge/add-document', body, 400, 'ragd add-document: ' + name);
    await bad(ragdPort, '/api/v1/knowledge/search', body, 400, 'ragd search: ' + name);
  }
  const wrongTypes = [
    ['messages not a list', { messages: 'hi' }], ['message without role', { messages: [{ content: 'x' }] }],
    ['content an object', { messages: [{ role: 'user', content: { a: 1 } }] }], ['temperature a string', {
      messages: [{ role: 'user', content: 'x' }], temperature: 'hot' }],
    ['max_tokens negative', { messages: [{ role: 'user', content: 'x' }], max_tokens: -5 }],
    ['stop a number', { messages: [{ role: 'user', content: 'x' }], stop: 7 }],
    ['unknown role', { messages: [{ role: 'wizard', content: 'x' }] }],
  ];
  for (const [name, body] of wrongTypes) await bad(llmPort, '/v1/chat/completions', JSON.stringify(body), 400, 'llmd chat: ' + name, auth);
  await bad(llmPort, '/v1/completions', JSON.stringify({ prompt: 5 }), 400, 'llmd completions: prompt a number', auth);
  await bad(llmPort, '/v1/embeddings', JSON.stringify({ input: [1, { x: 2 }] }), [400, 501], 'llmd embeddings: bad input', auth);
  await bad(llmPort, '/tokenize', JSON.stringify({ content: 12 }), 400, 'llmd tokenize: content a number');
  await bad(llmPort, '/detokenize', JSON.stringify({ tokens: [-1, 99999999] }), 400, 'llmd detokenize: ids out of range');
  for (const [name, body] of [['source missing', { content: 'x' }], ['content a list', { source: 'a', content: [1] }],
    ['top_k a string', { query: 'x', top_k: 'many' }]])
    await bad(ragdPort, name.startsWith('top_k') ? '/api/v1/knowledge/search' : '/api/v1/knowledge/add-document',
      JSON.stringify(body), 400, 'ragd: ' + name);

  // NUL and invalid UTF-8 inside JSON strings are data, never a crash
  for (const [name, content] of [['escaped NUL', 'a\u0000b'], ['lone surrogate', '\ud800x']]) {
    r = await post(llmPort, '/v1/chat/completions', JSON.stringify({ messages: [{ role: 'user', content }], max_tokens: 2 }), auth);
    expect('llmd chat: ' + name, [200, 400].includes(r.status), `status ${r.status}`);
  }
  r = await post(ragdPort, '/api/v1/knowledge/add-document', Buffer.concat([Buffer.from('{"source":"u.txt","content":"ok '),
    Buffer.from([0xc3, 0x28, 0xa0, 0xa1]), Buffer.from('"}')]));
  expect('ragd add-document: invalid UTF-8 inside a string', r.status === 400, `status ${r.status}`);

  // ---- sizes ----
  const huge = Buffer.alloc((1 << 20) + 4096, 0x61);
  await bad(llmPort, '/v1/chat/completions', huge, 413, 'llmd: body over the limit', auth);
  await bad(ragdPort, '/api/v1/knowledge/add-document', huge, 413, 'ragd: body over the limit');
  r = await raw(llmPort, `POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
    `Content-Length: 999999999999\r\nConnection: close\r\n\r\n{}`);
  expect('llmd: absurd Content-Length', [400, 413, 0].includes(r.status), `status ${r.status}`);

  // ---- routes, methods, auth, traversal ----
  for (const [port, method, route, want] of [
    [llmPort, 'GET', '/nope', 404], [llmPort, 'DELETE', '/v1/models', [404, 405]], [llmPort, 'PUT', '/health', [404, 405]],
    [llmPort, 'BREW', '/v1/models', [400, 404, 405, 501]], [llmPort, 'GET', '/v1/models', 401],
    [ragdPort, 'GET', '/api/v1/nope', 404], [ragdPort, 'PATCH', '/api/v1/knowledge/documents', [404, 405]],
    [ragdPort, 'DELETE', "/api/v1/knowledge/documents/1%3BDROP%20TABLE%20chunks", [400, 404]],
    [ragdPort, 'DELETE', '/api/v1/knowledge/documents/99999999999999999999999', [400, 404]],
    [ragdPort, 'DELETE', '/api/v1/knowledge/documents/-1', [400, 404]],
  ]) {
    const a = port === llmPort && route !== '/v1/models' || method !== 'GET' ? `Authorization: Bearer ${KEY}\r\n` : '';
    r = await raw(port, `${method} ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\n${a}Connection: close\r\n\r\n`);
    const okStatus = Array.isArray(want) ? want.includes(r.status) : r.status === want;
    expect(`${method} ${route}`, okStatus, `status ${r.status}, want ${want}`);
  }
  r = await raw(llmPort, `GET /v1/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer wrong\r\nConnection: close\r\n\r\n`);
  expect('llmd: wrong key', r.status === 401 && isJsonError(r.text), `status ${r.status}`);
  for (const route of ['/../../etc/passwd', '/%2e%2e/%2e%2e/etc/passwd', '/assets/..%2f..%2f..%2fetc%2fpasswd',
    '/..%5c..%5cetc%5cpasswd', '//etc/passwd', '/assets/%00index.html']) {
    for (const port of [ragdPort, llmPort]) {
      r = await raw(port, `GET ${route} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      expect(`traversal ${route} on ${port === ragdPort ? 'ragd' : 'llmd'}`, !/root:.*:0:0:/.test(r.text) && r.status !== 0 &&
        r.status < 500, `status ${r.status}`);
    }
  }

  // ---- SQL metacharacters in every field: stored and searched as plain text ----
  const sqlish = ["'; DROP TABLE chunks; --", '" OR 1=1 --', 'x\'); DELETE FROM documents; --', '%_\\', 'chunks_fts MATCH *'];
  for (const s of sqlish) {
    r = await post(ragdPort, '/api/v1/knowledge/add-document', JSON.stringify({ source: s, content: `${s} plain words ${s}` }));
    expect('ragd add-document with SQL text ' + s, r.status === 201, `status ${r.status} ${r.text.slice(-120)}`);
    r = await post(ragdPort, '/api/v1/knowledge/search', JSON.stringify({ query: s, top_k: 3 }));
    expect('ragd search with SQL text ' + s, r.status === 200, `status ${r.status}`);
  }
  const docs = JSON.parse((await (await fetch(R + '/api/v1/knowledge/documents')).text()));
  const list = Array.isArray(docs) ? docs : docs.documents;
  expect('documents intact after SQL text', list.some((d) => d.source === 'keep.txt') &&
    list.filter((d) => sqlish.includes(d.source)).length === sqlish.length, JSON.stringify(list).slice(0, 300));

  // ---- slow-loris: a client that never finishes its headers blocks nobody ----
  const slow = [];
  for (let i = 0; i < 8; i++) {
    const s = net.connect(i % 2 ? llmPort : ragdPort, '127.0.0.1');
    s.on('error', () => {});
    s.write('GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ');
    slow.push(s);
  }
  const drip = setInterval(() => slow.forEach((s) => s.write('a')), 200);
  await sleep(1000);
  const h1 = await fetch(L + '/health', { signal: AbortSignal.timeout(5000) }).then((x) => x.status).catch(() => 0);
  const h2 = await fetch(R + '/api/v1/health', { signal: AbortSignal.timeout(5000) }).then((x) => x.status).catch(() => 0);
  expect('slow-loris does not block llmd', h1 === 200, `status ${h1}`);
  expect('slow-loris does not block ragd', h2 === 200, `status ${h2}`);
  clearInterval(drip);
  slow.forEach((s) => s.destroy());

  // ---- raw WebSocket frames against ragd ----
  async function wsRaw(frames, { expectClose, expectText, name, ms = 10000 }) {
    const s = net.connect(ragdPort, '127.0.0.1');
    const key = crypto.randomBytes(16).toString('base64');
    s.write(`GET /api/v1/ws/chat HTTP/1.1\r\nHost: 127.0.0.1:${ragdPort}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://127.0.0.1:${ragdPort}\r\n\r\n`);
    let buf = Buffer.alloc(0), upgraded = false, closeCode = null;
    const texts = [];
    const result = await new Promise((resolve) => {
      const t = setTimeout(() => resolve('timeout'), ms);
      s.on('error', () => {});
      s.on('close', () => { clearTimeout(t); resolve('closed'); });
      s.on('data', (d) => {
        buf = Buffer.concat([buf, d]);
        if (!upgraded) {
          const i = buf.indexOf('\r\n\r\n');
          if (i < 0) return;
          if (!/^HTTP\/1\.1 101/.test(buf.toString('latin1'))) { clearTimeout(t); resolve('refused'); return; }
          upgraded = true;
          buf = buf.subarray(i + 4);
          for (const f of frames) s.write(f);
        }
        while (buf.length >= 2) {
          let len = buf[1] & 0x7f, off = 2;
          if (len === 126) { if (buf.length < 4) return; len = buf.readUInt16BE(2); off = 4; }
          else if (len === 127) { if (buf.length < 10) return; len = Number(buf.readBigUInt64BE(2)); off = 10; }
          if (buf.length < off + len) return;
          const op = buf[0] & 0x0f, payload = buf.subarray(off, off + len);
          buf = buf.subarray(off + len);
          if (op === 1) texts.push(payload.toString());
          if (op === 8) { closeCode = payload.length >= 2 ? payload.readUInt16BE(0) : 1005; clearTimeout(t); resolve('close'); }
          if (expectText && texts.some(expectText)) { clearTimeout(t); resolve('text'); }
        }
      });
    });
    s.destroy();
    if (expectClose) expect('ws: ' + name, closeCode !== null && expectClose.includes(closeCode) ||
      (result === 'closed' && expectClose.includes('tcp')), `result ${result}, close ${closeCode}, texts ${texts.join('|').slice(0, 200)}`);
    if (expectText) expect('ws: ' + name, texts.some(expectText), `result ${result}, close ${closeCode}, texts ${texts.join('|').slice(0, 200)}`);
  }
  const frame = (op, payload, { fin = true, mask = true, len } = {}) => {
    payload = Buffer.from(payload);
    const n = len ?? payload.length;
    const hdr = [((fin ? 0x80 : 0) | op)];
    if (n < 126) hdr.push((mask ? 0x80 : 0) | n);
    else if (n < 65536) hdr.push((mask ? 0x80 : 0) | 126, n >> 8, n & 255);
    else { hdr.push((mask ? 0x80 : 0) | 127); const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); hdr.push(...b); }
    if (!mask) return Buffer.concat([Buffer.from(hdr), payload]);
    const m = crypto.randomBytes(4);
    const out = Buffer.from(payload);
    for (let i = 0; i < out.length; i++) out[i] ^= m[i % 4];
    return Buffer.concat([Buffer.from(hdr), m, out]);
  };
  await wsRaw([frame(1, '{"type":"re', { fin: false }), frame(0, 'set"}')],
    { name: 'fragmented message is reassembled', expectText: (t) => t.includes('reset_ok') });
  await wsRaw([frame(1, '{"type":"reset"}', { mask: false })], { name: 'unmasked client frame', expectClose: [1002, 'tcp'] });
  await wsRaw([frame(1, Buffer.from([0x7b, 0xff, 0xfe, 0x7d]))], { name: 'invalid UTF-8 text', expectClose: [1007] });
  await wsRaw([frame(2, Buffer.from([1, 2, 3]))], { name: 'binary message', expectClose: [1003] });
  await wsRaw([frame(1, 'x'.repeat(70000))], { name: 'message over RAGD_MAX_WS_MESSAGE', expectClose: [1009] });
  await wsRaw([frame(1, 'x', { len: 2 ** 40 })], { name: 'absurd frame length', expectClose: [1009, 1002, 'tcp'] });
  await wsRaw([frame(9, 'p'.repeat(126))], { name: 'control frame over 125 bytes', expectClose: [1002, 'tcp'] });
  await wsRaw([frame(3, 'x')], { name: 'reserved opcode', expectClose: [1002, 'tcp'] });
  await wsRaw([frame(1, 'not json at all')], { name: 'text that is not JSON', expectText: (t) => t.includes('"error"') });
  await wsRaw([frame(1, '['.repeat(20000) + ']'.repeat(20000))], { name: 'deeply nested JSON message',
    expectText: (t) => t.includes('"error"') });
  await wsRaw([frame(1, '{"content":""}')], { name: 'empty content', expectText: (t) => t.includes('empty content') });
  await wsRaw([frame(1, '{"content":"\\u0000\\ud800 hi"}'), frame(1, '{"type":"stop"}')],
    { name: 'NUL and lone surrogate in content', expectText: (t) => /"(done|error|sources|delta)"/.test(t) });

  // ---- both servers alive, data intact ----
  const hl = await fetch(L + '/health').then((x) => x.status).catch(() => 0);
  const hr = await fetch(R + '/api/v1/health').then((x) => x.status).catch(() => 0);
  expect('llmd still answers /health', hl === 200, `status ${hl}`);
  expect('ragd still answers /api/v1/health', hr === 200, `status ${hr}`);
  const after = JSON.parse(await (await fetch(R + '/api/v1/knowledge/documents')).text());
  const keep = (Array.isArray(after) ? after : after.documents).find((d) => d.source === 'keep.txt');
  expect('the first document is unchanged', keep && docsBefore.includes(`"id":${keep.id}`), JSON.stringify(keep));
  check(llmd.exitCode === null && ragd.exitCode === null, 'a server died:\n' + log(llmd).slice(-2000) + log(ragd).slice(-2000));
} finally {
  await stop(ragd);
  await stop(llmd);
}
console.log(`${cases} hostile cases, ${failures.length} failed`);
if (failures.length) {
  for (const f of failures) console.log('  ' + f);
  process.exit(1);
}
