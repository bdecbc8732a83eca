// bench/load/load.mjs — many concurrent WebSocket chats against ragd + llmd with small models.
//
//   node bench/load/load.mjs [CONCURRENCY=200] [CHATS=10000]
//
// Bounded in count and time, on 127.0.0.1 only. Each chat sends one question and must get
// `sources`, then deltas, then exactly one `done` (nothing after it, nothing from another chat:
// each question carries a tag that its sources must name). Reports p50/p99 time to first delta,
// chats per second, and the resident memory of both servers sampled along the run (flat = no
// leak). Prints a Markdown section for bench/RESULTS.md.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import { FIXTURES, RELBIN, TMP, freePort, postJson, ragdEnv, sleep, start, stop, waitHttp } from '../../tests/ragd/lib.mjs';

const CONC = Number(process.argv[2] || 200), CHATS = Number(process.argv[3] || 10000);
const DEADLINE = Date.now() + 30 * 60 * 1000;

const model = path.join(TMP, 'chat.gguf');
spawnSync(path.join(RELBIN, 'gguf-synth'), ['--arch', 'llama', '--vocab-from', path.join(FIXTURES, 'llama-2-tiny-random.gguf'),
  '--n-embd', '64', '--n-layer', '2', '--n-head', '4', '--n-head-kv', '2', '--n-ff', '128', '--n-ctx', '1024', '--type', 'q8_0',
  '-o', model], { stdio: 'inherit' });
const llmPort = await freePort();
const llmd = start('llmd', path.join(RELBIN, 'llmd'), ['-m', model, '--host', '127.0.0.1', '--port', String(llmPort), '-np', '8',
  '-c', '1024', '-n', '16', '-t', '1', '--queue', '1024', '--chat-template', 'llama2'], {});
const { port, env } = await ragdEnv(`http://127.0.0.1:${llmPort}/v1`, { RAGD_MAX_WS_CONNECTIONS: String(CONC + 16),
  RAGD_WS_RATE: '1000', RAG_TOP_K: '2' });
const ragd = start('ragd', path.join(RELBIN, 'ragd'), ['serve'], env);
await waitHttp(`http://127.0.0.1:${llmPort}/health`, llmd, 60000);
await waitHttp(`http://127.0.0.1:${port}/api/v1/health`, ragd, 60000);

const TAGS = 50;
for (let i = 0; i < TAGS; i++)
  await postJson(`http://127.0.0.1:${port}/api/v1/knowledge/add-document`, { source: `tag${i}.txt`,
    content: `Codeword zq${i}x belongs to station ${i}. Station ${i} reports codeword zq${i}x daily.` });

const rss = (pid) => {
  try { return Number(/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))[1]) / 1024; } catch { return 0; }
};
const samples = [];
const ttfd = [];
let done = 0, bad = 0, started = 0;
const problems = [];

function oneChat(i) {
  return new Promise((resolve) => {
    const tag = i % TAGS;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/v1/ws/chat`, { headers: { Origin: `http://127.0.0.1:${port}` } });
    const t0 = Date.now();
    let state = 'open', first = 0;
    const finish = (ok, why) => {
      if (state === 'end') return;
      state = 'end';
      if (ok) { done++; ttfd.push(first - t0); } else { bad++; if (problems.length < 10) problems.push(why); }
      ws.close();
      resolve();
    };
    const timer = setTimeout(() => finish(false, 'timeout'), 120000);
    ws.on('open', () => ws.send(JSON.stringify({ content: `Which station reports codeword zq${tag}x?` })));
    ws.on('error', (e) => { clearTimeout(timer); finish(false, 'socket ' + e.message); });
    ws.on('close', () => { clearTimeout(timer); if (state !== 'end') finish(false, 'closed early in ' + state); });
    ws.on('message', (d) => {
      const m = JSON.parse(d.toString());
      if (state === 'open') {
        if (m.type !== 'sources' || !m.items.some((it) => it.source === `tag${tag}.txt`)) return finish(false, 'sources ' + d);
        state = 'sources';
      } else if (state === 'sources' || state === 'delta') {
        if (m.type === 'delta') { if (!first) first = Date.now(); state = 'delta'; }
        else if (m.type === 'done') { clearTimeout(timer); if (!first) first = Date.now(); setTimeout(() => finish(true), 20); state = 'done'; }
        else finish(false, 'unexpected ' + d);
      } else if (state === 'done') {
        finish(false, 'message after done ' + d);
      }
    });
  });
}

const t0 = Date.now();
const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, chats: done + bad, llmd: rss(llmd.pid), ragd: rss(ragd.pid) }), 2000);
async function worker() {
  while (started < CHATS && Date.now() < DEADLINE) { const i = started++; await oneChat(i); }
}
await Promise.all(Array.from({ length: CONC }, worker));
clearInterval(sampler);
samples.push({ t: (Date.now() - t0) / 1000, chats: done + bad, llmd: rss(llmd.pid), ragd: rss(ragd.pid) });
const secs = (Date.now() - t0) / 1000;
await stop(ragd);
await stop(llmd);

ttfd.sort((a, b) => a - b);
const pct = (p) => ttfd.length ? ttfd[Math.min(ttfd.length - 1, Math.floor(ttfd.length * p))] : NaN;
const at = (frac) => samples[Math.min(samples.length - 1, Math.floor((samples.length - 1) * frac))];
const early = at(0.1), late = samples[samples.length - 1];
console.log(`<!-- load:begin -->
## Concurrent WebSocket chats (bench/load)

Machine: ${fs.readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)[1]}, 2 cores; ${new Date().toISOString().slice(0, 10)}.
Command: \`node bench/load/load.mjs ${CONC} ${CHATS}\` (release builds; llmd \`-np 8 -n 16\` on a 2-layer Q8_0
model written by gguf-synth, ragd with the tiny BERT and SQLite; one question per chat).

| concurrent chats | chats | completed | failed | chats/s | first delta p50 ms | p99 ms |
|---:|---:|---:|---:|---:|---:|---:|
| ${CONC} | ${done + bad} | ${done} | ${bad} | ${(done / secs).toFixed(1)} | ${pct(0.5)} | ${pct(0.99)} |

Resident memory (MiB) after ${early.chats} chats → after ${late.chats}: llmd ${early.llmd.toFixed(1)} → ${late.llmd.toFixed(1)},
ragd ${early.ragd.toFixed(1)} → ${late.ragd.toFixed(1)}.
${problems.length ? 'First problems: ' + problems.join('; ') : 'Every chat got sources naming its own document, deltas, then exactly one done.'}
<!-- load:end -->`);
process.exit(bad ? 1 : 0);
