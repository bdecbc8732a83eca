// lib.mjs — helpers for the ragd tests: free ports, starting and stopping servers, a WebSocket
// client that collects messages, bounded waits. Every wait has a deadline.
import { spawn } from 'node:child_process';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';

export const BIN = process.env.LM_BIN || path.resolve('build/san/bin');
export const RELBIN = process.env.LM_RELBIN || path.resolve('build/rel/bin');
export const FIXTURES = process.env.LM_FIXTURES || path.resolve('../shared/fixtures');
export const TMP = process.env.LM_TMP || fs.mkdtempSync('/tmp/ragdtest.');

export function fail(msg) {
  console.error('FAIL: ' + msg);
  process.exit(1);
}
export function check(cond, msg) {
  if (!cond) fail(msg);
}
export function skip(msg) {
  console.log('SKIP: ' + msg);
  process.exit(77);
}

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Starts a program; output goes to a log file in TMP. Returns the child with .logfile.
export function start(name, bin, args, env) {
  const logfile = path.join(TMP, name + '.log');
  const out = fs.openSync(logfile, 'w');
  const child = spawn(bin, args, { env: { ...process.env, ...env }, stdio: ['ignore', out, out], cwd: TMP });
  child.logfile = logfile;
  child.exited = new Promise((r) => child.on('exit', (code, sig) => r({ code, sig })));
  return child;
}

export function log(child) {
  try { return fs.readFileSync(child.logfile, 'utf8'); } catch { return ''; }
}

// Polls url until it answers 200 (or the child dies, or the deadline passes).
export async function waitHttp(url, child, ms = 60000) {
  const end = Date.now() + ms;
  let dead = false;
  child?.exited.then(() => { dead = true; });
  while (Date.now() < end) {
    if (dead) fail(`${url}: server exited early:\n${log(child)}`);
    try {
      const r = await fetch(url, { signal: AbortSignal.timeout(2000) });
      if (r.status === 200) return;
    } catch {}
    await sleep(100);
  }
  fail(`${url} not ready in ${ms} ms:\n${child ? log(child) : ''}`);
}

export async function stop(child, ms = 10000) {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const t = setTimeout(() => child.kill('SIGKILL'), ms);
  await child.exited;
  clearTimeout(t);
}

export async function postJson(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(30000) });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch {}
  return { status: r.status, json, text };
}

// A WebSocket client that queues incoming JSON messages; next() waits for the next one.
export class Chat {
  constructor(url, opts = {}) {
    this.url = url;
    this.queue = [];
    this.waiters = [];
    this.ws = new WebSocket(url, opts);
    this.closed = new Promise((r) => this.ws.on('close', (code, reason) => r({ code, reason: reason.toString() })));
    this.ws.on('message', (data) => {
      const m = JSON.parse(data.toString());
      const w = this.waiters.shift();
      if (w) w(m); else this.queue.push(m);
    });
    this.opened = new Promise((resolve, reject) => {
      this.ws.on('open', resolve);
      this.ws.on('error', reject);
      this.ws.on('unexpected-response', (req, res) => reject(new Error('HTTP ' + res.statusCode)));
    });
  }
  send(obj) { this.ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj)); }
  next(ms = 30000) {
    if (this.queue.length) return Promise.resolve(this.queue.shift());
    return new Promise((resolve) => {
      const t = setTimeout(() => fail(`no WebSocket message within ${ms} ms`), ms);
      this.waiters.push((m) => { clearTimeout(t); resolve(m); });
    });
  }
  // Collects messages up to and including the first of the given types.
  async until(types, ms = 60000) {
    const end = Date.now() + ms;
    const got = [];
    for (;;) {
      const m = await this.next(Math.max(1, end - Date.now()));
      got.push(m);
      if (types.includes(m.type)) return got;
    }
  }
  close() { this.ws.close(); }
}

// ragd environment for a test: the tiny BERT (written by gguf-synth when it supports bert,
// else the shared fixture itself), a temporary SQLite store, a free port.
export async function ragdEnv(llmBaseUrl, extra = {}) {
  const port = await freePort();
  let emb = path.join(FIXTURES, 'bert-uncased-vocab-tiny.gguf');
  const synth = path.join(fs.existsSync(path.join(RELBIN, 'gguf-synth')) ? RELBIN : BIN, 'gguf-synth');
  const out = path.join(TMP, 'bert-tiny.gguf');
  if (fs.existsSync(synth)) {
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync(synth, ['--arch', 'bert', '--vocab-from', emb, '-o', out], { encoding: 'utf8' });
    if (r.status === 0 && fs.existsSync(out)) emb = out;
  }
  if (!fs.existsSync(emb)) skip('no bert fixture (LM_FIXTURES)');
  return {
    port,
    env: {
      HOST: '127.0.0.1', PORT: String(port), EMBEDDING_MODEL: emb, DATABASE_URL: process.env.LM_TEST_DATABASE_URL || 'sqlite:' + path.join(TMP, 'ragd.db'),
      LLM_BASE_URL: llmBaseUrl, LLM_API_KEY: 'sk-test', LLM_MODEL: 'tiny', RAGD_THREADS: '1',
      ...extra,
    },
  };
}
