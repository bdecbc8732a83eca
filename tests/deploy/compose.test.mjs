// Validates deploy/docker-compose.{dev,prod}.yml: they parse as YAML, hold the seed's services in
// the seed's order with the right dependency conditions, share the dbNetWork network, mount the
// models volume read-only for the inference server, never publish llmd, and use only variables that
// deploy/.env.example documents.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';

const root = process.env.LM_ROOT || process.cwd();
const envExample = readFileSync(join(root, 'deploy/.env.example'), 'utf8');
const documented = new Set(
  envExample.split('\n').map((l) => l.replace(/^#\s*/, '')).filter((l) => /^[A-Z_][A-Z0-9_]*=/.test(l))
    .map((l) => l.split('=')[0]));

function check(file) {
  const text = readFileSync(join(root, 'deploy', file), 'utf8');
  const doc = YAML.parse(text, { merge: true });
  const s = doc.services;
  for (const name of ['llm_init', 'llama_server', 'backend', 'postgres', 'nginx'])
    assert.ok(s[name], `${file}: service ${name} missing`);

  assert.ok(doc.volumes && 'models_data' in doc.volumes, `${file}: volume models_data`);
  assert.ok(doc.networks && 'dbNetWork' in doc.networks, `${file}: network dbNetWork`);
  for (const [name, svc] of Object.entries(s))
    assert.ok((svc.networks || []).includes('dbNetWork'), `${file}: ${name} not on dbNetWork`);

  // llm_init: our image running `ragd pull`, writes the models volume, runs once.
  assert.deepEqual(s.llm_init.command.slice(0, 2), ['ragd', 'pull'], `${file}: llm_init runs ragd pull`);
  assert.ok(s.llm_init.volumes.includes('models_data:/models'), `${file}: llm_init mounts models_data`);
  assert.equal(s.llm_init.restart, 'no');

  // llama_server: llmd, models read-only, expose only, curl -fsS health check, after llm_init.
  const ls = s.llama_server;
  assert.equal(ls.command[0], 'llmd', `${file}: llama_server runs llmd`);
  assert.ok(ls.volumes.includes('models_data:/models:ro'), `${file}: models volume read-only`);
  assert.ok(ls.expose && ls.expose.includes('8080'), `${file}: llama_server exposes 8080`);
  assert.equal(ls.ports, undefined, `${file}: llama_server must not publish ports`);
  assert.match(ls.healthcheck.test.join(' '), /curl -fsS http:\/\/127\.0\.0\.1:8080\/health/);
  assert.equal(ls.depends_on.llm_init.condition, 'service_completed_successfully');
  for (const flag of ['--model', '--host', '--port', '--ctx-size', '--parallel', '--api-key'])
    assert.ok(ls.command.includes(flag), `${file}: llmd flag ${flag}`);

  // backend: ragd after a healthy llama_server and postgres, with the seed's variables.
  const be = s.backend;
  assert.equal(be.depends_on.llama_server.condition, 'service_healthy');
  assert.equal(be.depends_on.postgres.condition, 'service_healthy');
  const env = Object.fromEntries(be.environment.map((e) => [e.split('=')[0], e.slice(e.indexOf('=') + 1)]));
  for (const v of ['LLM_BASE_URL', 'LLM_API_KEY', 'LLM_MODEL', 'EMBEDDING_MODEL', 'RAG_TOP_K', 'DATABASE_URL'])
    assert.ok(v in env, `${file}: backend env ${v}`);
  assert.match(env.DATABASE_URL, /^postgres:\/\/.*@postgres:5432\//);
  assert.match(env.LLM_BASE_URL, /llama_server:8080\/v1/);

  assert.equal(s.postgres.image, 'pgvector/pgvector:pg16');
  assert.ok(s.postgres.healthcheck, `${file}: postgres health check`);
  assert.equal(s.nginx.depends_on.backend.condition, 'service_healthy');
  assert.ok(s.nginx.volumes.some((v) => v.startsWith('./nginx.conf:')), `${file}: nginx.conf mounted`);

  // every ${VAR} the file uses is documented in .env.example
  const used = new Set([...text.matchAll(/\$\{([A-Z_][A-Z0-9_]*)/g)].map((m) => m[1]));
  for (const v of used) assert.ok(documented.has(v), `${file}: variable ${v} not documented in deploy/.env.example`);
  // every env_file exists by convention (.env.dev/.env.prod are made from .env.example)
  for (const svc of Object.values(s))
    for (const f of svc.env_file || []) assert.match(f, /^\.env\.(dev|prod)$/);
  return used.size;
}

let n = 0;
for (const f of ['docker-compose.dev.yml', 'docker-compose.prod.yml']) n += check(f);

// nginx.conf: WebSocket pass-through and the seed's timeouts.
const ngx = readFileSync(join(root, 'deploy/nginx.conf'), 'utf8');
for (const needle of ['proxy_set_header Upgrade $http_upgrade', 'proxy_read_timeout 600s',
  'proxy_send_timeout 600s', 'proxy_buffering off', 'client_max_body_size', 'location /api/'])
  assert.ok(ngx.includes(needle), `nginx.conf lacks ${needle}`);
assert.ok(!/8080/.test(ngx), 'nginx.conf must not route to llmd');
console.log(`compose files valid (${n} variable uses checked)`);
