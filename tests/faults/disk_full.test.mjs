// disk_full.test.mjs — ragd ingesting onto a full disk. Its SQLite store lives on a tiny tmpfs
// (when mounting is allowed; otherwise a file-size limit, RLIMIT_FSIZE, stands in for the full
// disk). Documents go in until the space runs out: the failing add-document gets a clear 5xx
// error, the failed document is absent (list and count consistent), the earlier ones are intact and
// searchable, ragd keeps serving; once space is freed (filler removed / limit lifted) ingestion works.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { BIN, TMP, check, postJson, ragdEnv, skip, start, stop, waitHttp, log } from '../ragd/lib.mjs';

if (process.env.LM_TEST_DATABASE_URL) skip('this test is about the SQLite store');
const mnt = path.join(TMP, 'small');
fs.mkdirSync(mnt);
let mounted = false;
if (process.getuid?.() === 0 && !process.env.LM_FAULTS_NO_MOUNT) mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=4m', 'tmpfs', mnt]).status === 0;
const dbfile = path.join(mnt, 'ragd.db');
const { port, env } = await ragdEnv('http://127.0.0.1:9/v1', { DATABASE_URL: 'sqlite:' + dbfile, RAG_TOP_K: '2' });
const base = `http://127.0.0.1:${port}`;
// without a tmpfs: ragd under a file-size limit, SIGXFSZ ignored so a write past it fails with EFBIG
const FSIZE_KB = 512;
const limited = () => start('ragd', 'bash',
  ['-c', `trap "" XFSZ; ulimit -f ${FSIZE_KB}; exec "$0" serve`, path.join(BIN, 'ragd')], env);
let ragd = mounted ? start('ragd', path.join(BIN, 'ragd'), ['serve'], env) : limited();
console.log(mounted ? 'store on a 4 MiB tmpfs' : `no tmpfs (not root or not allowed): RLIMIT_FSIZE ${FSIZE_KB} KiB`);

// A document of about n bytes with its own words (so each has distinct chunks).
const doc = (i, n) => {
  const words = [];
  for (let k = 0; words.join(' ').length < n; k++) words.push(`doc${i}word${k} about topic${i} number ${i * 1000 + k}.`);
  return words.join(' ');
};
const list = async () => (await fetch(base + '/api/v1/knowledge/documents', { signal: AbortSignal.timeout(10000) })).json();
const fillers = [];
let ok = false;
try {
  await waitHttp(base + '/api/v1/health', ragd);
  let r = await postJson(base + '/api/v1/knowledge/add-document', { source: 'first.txt',
    content: 'The Zorblax reactor was built in 1987 by Doctor Quentin Marsh.' });
  check(r.status === 201, 'first document: ' + r.text);

  if (mounted) { // fill the file system, then give back about 256 KiB
    for (let i = 0; ; i++) {
      const f = path.join(mnt, `filler${i}`);
      try { fs.writeFileSync(f, Buffer.alloc(32 << 10, 1)); fillers.push(f); } catch (e) {
        check(e.code === 'ENOSPC', 'filling: ' + e);
        try { fs.unlinkSync(f); } catch {}
        break;
      }
    }
    for (let k = 0; k < 8; k++) fs.unlinkSync(fillers.pop());
  }

  // add documents until one fails
  let added = 1, failed = null, failedSrc = '';
  for (let i = 0; i < 200 && !failed; i++) {
    const src = `doc${i}.txt`;
    r = await postJson(base + '/api/v1/knowledge/add-document', { source: src, content: doc(i, 6000) });
    if (r.status === 201) added++;
    else { failed = r; failedSrc = src; }
  }
  check(failed, 'the disk never filled up');
  console.log(`${added} documents in, then ${failed.status} ${failed.text}`);
  check(failed.status >= 500 && /full|space|too large|disk|I\/O/i.test(failed.json?.error?.message || ''),
    'error on a full disk: ' + failed.text);
  check((await fetch(base + '/api/v1/health')).status === 200, 'health on a full disk');

  // no partial document: the failed one is absent, the count is what succeeded
  let l = await list();
  check(l.total === added && l.documents.length === added && !l.documents.some((d) => d.source === failedSrc),
    `after the failure: ${added} expected, list ${JSON.stringify(l).slice(0, 400)}`);
  let s = await postJson(base + '/api/v1/knowledge/search', { query: 'Zorblax reactor Quentin Marsh', top_k: 2 });
  check(s.status === 200 && s.text.includes('first.txt'), 'search on a full disk: ' + s.text);
  // another try while still full: the same clean failure, still nothing partial
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: failedSrc, content: doc(999, 6000) });
  check(r.status >= 500, 'second try on a full disk: ' + r.text);
  check((await list()).total === added, 'count after the second try');

  // a delete on the full disk: done or cleanly refused, never half-done
  const victim = l.documents.find((d) => d.source !== 'first.txt');
  const del = await fetch(`${base}/api/v1/knowledge/documents/${victim.id}`, { method: 'DELETE', signal: AbortSignal.timeout(30000) });
  const delText = await del.text();
  l = await list();
  const still = l.documents.some((d) => d.id === victim.id);
  console.log(`delete on a full disk: ${del.status} ${delText}`);
  if (del.status < 300) { check(!still && l.total === added - 1, 'delete on a full disk said done: ' + l.total); added--; }
  else check(del.status >= 500 && still && l.total === added, `delete on a full disk: ${del.status} ${delText}, total ${l.total}`);
  s = await postJson(base + '/api/v1/knowledge/search', { query: 'Zorblax reactor Quentin Marsh', top_k: 2 });
  check(s.status === 200 && s.text.includes('first.txt'), 'search after the delete: ' + s.text);

  // free the space and ingest again
  if (mounted) for (const f of fillers.splice(0)) fs.unlinkSync(f);
  else { // the limit belongs to the process: restart without it on the same store
    await stop(ragd);
    check(ragd.exitCode === 0, 'ragd exit under the limit: ' + ragd.exitCode + '\n' + log(ragd));
    ragd = start('ragd2', path.join(BIN, 'ragd'), ['serve'], env);
    await waitHttp(base + '/api/v1/health', ragd);
  }
  r = await postJson(base + '/api/v1/knowledge/add-document', { source: failedSrc, content: doc(998, 6000) });
  check(r.status === 201, 'after freeing space: ' + r.text);
  l = await list();
  check(l.total === added + 1 && l.documents.filter((d) => d.source === failedSrc).length === 1, 'final list: ' + l.total);
  s = await postJson(base + '/api/v1/knowledge/search', { query: 'doc998word3 topic998', top_k: 2 });
  check(s.status === 200 && s.text.includes(failedSrc), 'the new document is searchable: ' + s.text.slice(0, 300));
  console.log('disk full: failure clean, earlier documents intact, recovery works');
  ok = true;
} finally {
  await stop(ragd);
  if (!ok) console.error(log(ragd));
  if (mounted) spawnSync('umount', ['-l', mnt]);
}
if (ragd.exitCode !== 0) { console.error('ragd exit ' + ragd.exitCode + '\n' + log(ragd)); process.exit(1); }
