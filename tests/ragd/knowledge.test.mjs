// knowledge.test.mjs — the knowledge API over HTTP: add-document, upload of .txt/.md/.html/.pdf
// (PDF text through the extractor child), list, search, delete, health, metrics, the API key,
// limits and clear 4xx errors for bad input. No LLM is needed (its URL points nowhere).
import path from 'node:path';
import { BIN, check, freePort, log, postJson, ragdEnv, start, stop, waitHttp } from './lib.mjs';

// A one-page PDF whose page shows text (built here, offsets computed, so no binary fixture).
function makePdf(text) {
  const content = `BT /F1 24 Tf 72 700 Td (${text}) Tj ET`;
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${content.length} >>\nstream\n${content}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ];
  let pdf = '%PDF-1.4\n';
  const offs = [];
  objs.forEach((o, i) => { offs.push(pdf.length); pdf += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = pdf.length;
  pdf += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n`;
  for (const o of offs) pdf += String(o).padStart(10, '0') + ' 00000 n \n';
  pdf += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(pdf, 'latin1');
}

async function upload(base, name, data, type, extra = {}, headers = {}) {
  const fd = new FormData();
  for (const [k, v] of Object.entries(extra)) fd.append(k, v);
  fd.append('file', new Blob([data], { type }), name);
  const r = await fetch(base + '/api/v1/knowledge/upload', { method: 'POST', body: fd, headers,
    signal: AbortSignal.timeout(60000) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, json, text };
}

const dead = await freePort();
const { port, env } = await ragdEnv(`http://127.0.0.1:${dead}/v1`,
  { RAGD_API_KEY: 'secret-key-123', RAGD_MAX_BODY: '256K', RAGD_MAX_CHUNKS: '40' });
const base = `http://127.0.0.1:${port}`;
const ragd = start('ragd', path.join(BIN, 'ragd'), [], env);
const auth = { authorization: 'Bearer secret-key-123' };
let ok = false;
try {
  await waitHttp(base + '/api/v1/health', ragd);
  check(!log(ragd).includes('secret-key-123'), 'the API key is masked in the start-up line');

  // the key guards writes
  let r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'a', content: 'b' });
  check(r.status === 401 && r.json?.error?.message, 'no key → 401: ' + r.text);
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'a', content: 'b' }, { authorization: 'Bearer nope' });
  check(r.status === 401, 'wrong key → 401');

  // bad input: clear 4xx JSON errors
  for (const [body, want] of [['{', 400], ['[]', 400], ['{"source":"x"}', 400], ['{"source":"x","content":5}', 400],
    ['{"source":"","content":"y"}', 400], ['{"source":"x","content":"   "}', 400]]) {
    r = await postJson(base + '/api/v1/knowledge/add-document', body, auth);
    check(r.status === want && r.json?.error?.message, `add-document ${body} → ${r.status} ${r.text}`);
  }
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'big', content: 'word. '.repeat(60000) }, auth);
  check(r.status === 413, 'body over RAGD_MAX_BODY → 413: ' + r.status);
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'many', content: 'Sentence number one is here. '.repeat(1000) }, auth);
  check(r.status === 413 && /RAGD_MAX_CHUNKS/.test(r.json.error.message), 'too many chunks → 413: ' + r.text);

  // uploads: txt, md, html (script dropped), pdf (child process)
  r = await upload(base, 'notes.txt', 'Plain text about the Vexmoor lighthouse.', 'text/plain', {}, auth);
  check(r.status === 201 && r.json.chunks === 1 && r.json.source === 'notes.txt', 'txt upload: ' + r.text);
  r = await upload(base, 'readme.md', '# Title\n\nMarkdown mentions Quillfeather bridges.', 'text/markdown', { source: 'My Readme' }, auth);
  check(r.status === 201 && r.json.source === 'My Readme', 'md upload with source: ' + r.text);
  const html = '<html><head><title>T</title><script>var hidden="Snarkwidget";</script></head>' +
    '<body><p>The Pellucid orchard grows figs.</p><style>.x{}</style><div>Second block.</div></body></html>';
  r = await upload(base, 'page.html', html, 'text/html', {}, auth);
  check(r.status === 201, 'html upload: ' + r.text);
  r = await upload(base, 'doc.pdf', makePdf('Hello Quasarville PDF'), 'application/pdf', {}, auth);
  check(r.status === 201 && r.json.chunks >= 1, 'pdf upload: ' + r.text);
  const pdfId = r.json.document_id;
  r = await upload(base, 'doc.pdf', makePdf('Hello Quasarville PDF'), 'application/pdf', {}, auth);
  check(r.status === 200 && r.json.duplicate === true && r.json.document_id === pdfId, 'same PDF again is a duplicate: ' + r.text);
  r = await upload(base, 'broken.pdf', Buffer.from('%PDF-1.4 garbage'), 'application/pdf', {}, auth);
  check(r.status === 400 && /pdf/i.test(r.json.error.message), 'broken PDF → 400: ' + r.text);
  r = await upload(base, 'tool.exe', 'MZ', 'application/octet-stream', {}, auth);
  check(r.status === 415, 'unsupported type → 415: ' + r.text);
  const bad = await fetch(base + '/api/v1/knowledge/upload', { method: 'POST', headers: { ...auth, 'content-type': 'multipart/form-data; boundary=zz' },
    body: '--zz\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\n\r\nunterminated' });
  check(bad.status === 400, 'truncated multipart → 400');

  // search finds exact names through the keyword half; text from HTML has no script content
  r = await postJson(base + '/api/v1/knowledge/search', { query: 'Pellucid orchard', top_k: 2 });
  check(r.status === 200 && r.json.results[0].source === 'page.html', 'search html: ' + r.text);
  check(r.json.results[0].text.includes('figs') && !r.json.results[0].text.includes('Snarkwidget'), 'html text: ' + r.json.results[0].text);
  r = await postJson(base + '/api/v1/knowledge/search', { query: 'Quasarville', top_k: 1 });
  check(r.json.results.length === 1 && r.json.results[0].source === 'doc.pdf' && r.json.results[0].text.includes('Quasarville'), 'search pdf: ' + r.text);
  check(typeof r.json.results[0].score === 'number' && r.json.results[0].score > 0, 'fused score reported');
  r = await postJson(base + '/api/v1/knowledge/search', { query: 'x', top_k: 0 });
  check(r.status === 400, 'top_k 0 → 400');

  // list and delete
  let list = await (await fetch(base + '/api/v1/knowledge/documents')).json();
  check(list.total === 4 && list.documents.some((d) => d.source === 'doc.pdf'), 'list: ' + JSON.stringify(list));
  let d = await fetch(`${base}/api/v1/knowledge/documents/${pdfId}`, { method: 'DELETE' });
  check(d.status === 401, 'delete needs the key');
  d = await fetch(`${base}/api/v1/knowledge/documents/${pdfId}`, { method: 'DELETE', headers: auth });
  check(d.status === 200, 'delete');
  d = await fetch(`${base}/api/v1/knowledge/documents/${pdfId}`, { method: 'DELETE', headers: auth });
  check(d.status === 404, 'delete again → 404');
  d = await fetch(`${base}/api/v1/knowledge/documents/abc`, { method: 'DELETE', headers: auth });
  check(d.status === 400, 'delete bad id → 400');
  list = await (await fetch(base + '/api/v1/knowledge/documents')).json();
  check(list.total === 3, 'three left');

  // health, metrics, unknown routes and methods
  const h = await (await fetch(base + '/api/v1/health')).json();
  check(h.store.ok && h.store.documents === 3 && h.embedder.ok && !h.llm.ok && h.status === 'degraded', 'health: ' + JSON.stringify(h));
  const metrics = await (await fetch(base + '/metrics')).text();
  check(/ragd_documents_added_total 4/.test(metrics) && /ragd_store_documents 3/.test(metrics), 'metrics:\n' + metrics);
  check((await fetch(base + '/api/v1/nope')).status === 404, 'unknown API route → 404');
  check((await fetch(base + '/api/v1/knowledge/search')).status === 405, 'GET on a POST route → 405');
  const page = await fetch(base + '/some/client/route');
  check(page.status === 200 && /text\/html/.test(page.headers.get('content-type')), 'unknown page path → index.html');
  // the chat page: gzip when accepted, ETag and 304, no-cache for the page, immutable assets
  const root = await fetch(base + '/', { headers: { 'accept-encoding': 'gzip' } });
  const pageHtml = await root.text();
  const etag = root.headers.get('etag');
  check(root.status === 200 && root.headers.get('content-encoding') === 'gzip' && etag && /<html/i.test(pageHtml),
    'GET / gzip + etag: ' + JSON.stringify([...root.headers]));
  check(/no-cache/.test(root.headers.get('cache-control')), 'the page is revalidated');
  const again = await fetch(base + '/', { headers: { 'if-none-match': etag } });
  check(again.status === 304, 'If-None-Match → 304: ' + again.status);
  const asset = pageHtml.match(/\/assets\/[^"']+\.js/);
  if (asset) {
    const a = await fetch(base + asset[0]);
    check(a.status === 200 && /immutable/.test(a.headers.get('cache-control')) && /javascript/.test(a.headers.get('content-type')),
      'asset headers: ' + JSON.stringify([...a.headers]));
  }
  const trav = await fetch(base + '/assets/..%2f..%2fetc%2fpasswd');
  check(!(await trav.text()).includes('root:'), 'no path traversal');

  // the WebSocket needs the key too: without a header, the first message must authenticate
  const { Chat } = await import('./lib.mjs');
  const c = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await c.opened;
  c.send({ content: 'hi' });
  const m = await c.next();
  check(m.type === 'error' && /unauthorized/.test(m.message), 'unauthenticated chat refused: ' + JSON.stringify(m));
  const closed = await c.closed;
  check(closed.code === 1008, 'closed with 1008: ' + closed.code);
  const c2 = new Chat(`ws://127.0.0.1:${port}/api/v1/ws/chat`);
  await c2.opened;
  c2.send({ type: 'auth', token: 'secret-key-123' });
  check((await c2.next()).type === 'auth_ok', 'auth message accepted');
  c2.send({ type: 'reset' });
  check((await c2.next()).type === 'reset_ok', 'reset after auth');
  c2.close();
  ok = true;
} finally {
  await stop(ragd);
  if (!ok) console.error(log(ragd));
}
const exit = await ragd.exited;
check(exit.code === 0, 'clean exit: ' + JSON.stringify(exit) + '\n' + log(ragd));
console.log('ok');
process.exit(0);
