// load.mjs — ragd's chat under load: CONC WebSocket chats at a time until TOTAL chats ran. Each
// chat opens a connection, asks one question, and must get sources, then at least one delta,
// then done, nothing else and nothing after done; then it closes. Reports time to first delta
// (p50/p99), chats per second, failures, and the resident memory of ragd and llmd sampled
// after the first CONC chats and at the end (a leak shows as growth). Every wait is bounded.
import fs from 'node:fs';
import WebSocket from 'ws';

const args = Object.fromEntries(process.argv.slice(2).map((a) => a.replace(/^--/, '').split('=')));
const URL = args.url;
const CONC = Number(args.conc || 200);
const TOTAL = Number(args.total || 10000);
const PIDS = { ragd: Number(args['ragd-pid'] || 0), llmd: Number(args['llmd-pid'] || 0) };
const CHAT_TIMEOUT_MS = Number(args['chat-timeout-ms'] || 120000);
const QUESTIONS = ['Who designed the Brightwater turbine?', '西湖在哪里？', 'What powers the Harrowgate valley?',
  'Tell me about 苏堤春晓', 'When was the turbine designed?'];

function rssKiB(pid) {
  try {
    const m = fs.readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+)/);
    return m ? Number(m[1]) : 0;
  } catch { return 0; }
}

// One chat: connect, ask, check the message sequence, close. Resolves {ok, ttfd, why}.
function oneChat(q) {
  return new Promise((resolve) => {
    const ws = new WebSocket(URL);
    let t0 = 0, ttfd = -1, state = 'open', settled = false, deltas = 0;
    const finish = (ok, why) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      ws.terminate();
      resolve({ ok, ttfd, why, deltas });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), CHAT_TIMEOUT_MS);
    ws.on('open', () => { t0 = performance.now(); state = 'sent'; ws.send(JSON.stringify({ content: q })); });
    ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      if (state === 'sent') {
        if (m.type !== 'sources') return finish(false, 'first message ' + m.type + ' ' + (m.message || ''));
        state = 'sources';
      } else if (state === 'sources' || state === 'delta') {
        if (m.type === 'delta') {
          if (typeof m.content !== 'string') return finish(false, 'delta without content');
          if (ttfd < 0) ttfd = performance.now() - t0;
          deltas++;
          state = 'delta';
        } else if (m.type === 'done') {
          if (state !== 'delta') return finish(false, 'done before any delta');
          state = 'done';
          // nothing may follow done: wait a moment, then close
          setTimeout(() => finish(true), 20);
        } else return finish(false, 'unexpected ' + m.type + ' ' + (m.message || ''));
      } else if (state === 'done') return finish(false, 'message after done: ' + m.type);
    });
    ws.on('error', (e) => finish(false, 'socket error ' + e.message));
    ws.on('close', () => { if (state !== 'done') finish(false, 'closed in state ' + state); });
  });
}

const pct = (xs, p) => {
  if (!xs.length) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
};

let started = 0, done = 0;
const ttfds = [], fails = {};
const rss = { start: { ragd: rssKiB(PIDS.ragd), llmd: rssKiB(PIDS.llmd) } };
const t0 = performance.now();
async function worker() {
  while (started < TOTAL) {
    const q = QUESTIONS[started++ % QUESTIONS.length];
    const r = await oneChat(q);
    done++;
    if (r.ok) ttfds.push(r.ttfd);
    else fails[r.why] = (fails[r.why] || 0) + 1;
    if (done === CONC) rss.warm = { ragd: rssKiB(PIDS.ragd), llmd: rssKiB(PIDS.llmd) };
    if (done % 1000 === 0) console.error(`${done}/${TOTAL} chats, ${Object.values(fails).reduce((a, b) => a + b, 0)} failed`);
  }
}
await Promise.all(Array.from({ length: CONC }, worker));
const secs = (performance.now() - t0) / 1000;
rss.end = { ragd: rssKiB(PIDS.ragd), llmd: rssKiB(PIDS.llmd) };
const result = {
  conc: CONC, total: TOTAL, ok: ttfds.length, failed: TOTAL - ttfds.length, fails, seconds: Number(secs.toFixed(1)),
  chats_per_s: Number((TOTAL / secs).toFixed(1)), ttfd_p50_ms: Number(pct(ttfds, 50).toFixed(1)),
  ttfd_p99_ms: Number(pct(ttfds, 99).toFixed(1)), rss_kib: rss,
};
console.log(JSON.stringify(result));
process.exit(result.failed ? 1 : 0);
