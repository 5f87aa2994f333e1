// /metrics and the autoscaler through the `herd` binary: Prometheus' own lint (promtool) accepts
// the output, a real Prometheus server scrapes it, the request counter carries on across a
// daemon killed with -9 and a move of /metrics to another address, and a CPU target scales a busy
// service out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, pidAlive, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const APP = `
const http = require('http');
const id = process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA;
const s = http.createServer((req, res) => res.end(id + '\\n'));
s.listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

/** Keeps one core busy (or its cpus limit), whatever the traffic. */
const SPIN = `
const http = require('http');
http.createServer((req, res) => res.end('ok\\n')).listen(+process.env.PORT, '127.0.0.1');
const spin = () => { const end = Date.now() + 20; while (Date.now() < end); setImmediate(spin); };
spin();
process.on('SIGTERM', () => process.exit(0));
`;

function project(files: Record<string, string>): Sandbox {
  const root = tempDir('e2e-metrics');
  const dir = join(root, 'p');
  mkdirSync(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return sandbox(root, dir);
}

/** Sum of a metric's samples whose labels include `match` in Prometheus text. */
function sum(text: string, metric: string, match: string): number {
  let total = 0;
  for (const line of text.split('\n')) {
    const m = /^(\w+)\{(.*)\} (\S+)$/.exec(line);
    if (m && m[1] === metric && m[2]!.includes(match)) total += Number(m[3]);
  }
  return total;
}

async function scrape(port: number): Promise<string> {
  const r = await httpGet(port, '/metrics');
  assert.equal(r.status, 200);
  return r.body;
}

test('promtool accepts /metrics, Prometheus scrapes it, counters survive a replica restart and kill -9 of the daemon', async () => {
  const [web, metrics, prom] = [await freePort(), await freePort(), await freePort()];
  const box = project({
    'app.js': APP,
    'compose.yaml': `name: metrics${process.pid}
x-herd:
  metrics: { listen: "127.0.0.1:${metrics}" }
services:
  web:
    command: [node, app.js]
    ports: ["127.0.0.1:${web}:5000"]
`,
  });
  let server: ReturnType<typeof spawn> | undefined;
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    for (let i = 0; i < 20; i++) assert.equal((await httpGet(web)).status, 200);
    const text = await scrape(metrics);
    const lint = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
    assert.equal(lint.error, undefined, 'promtool (Debian: prometheus) must be installed');
    assert.equal(lint.status, 0, `promtool check metrics: ${lint.stdout}${lint.stderr}`);
    assert.equal(sum(text, 'herd_http_requests_total', 'code="200"'), 20);
    assert.equal(sum(text, 'herd_replicas', 'state="running"'), 1);
    assert.match(text, /^process_cpu_seconds_total /m);

    const pd = tempDir('prometheus');
    writeFileSync(
      join(pd, 'prometheus.yml'),
      `global: { scrape_interval: 1s, scrape_timeout: 1s }
scrape_configs:
  - job_name: herd
    static_configs: [ { targets: ["127.0.0.1:${metrics}"] } ]
`,
    );
    server = spawn(
      'prometheus',
      [
        `--config.file=${join(pd, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(pd, 'data')}`,
        `--web.listen-address=127.0.0.1:${prom}`,
      ],
      { stdio: 'ignore' },
    );
    const query = async (q: string) => {
      const r = await httpGet(prom, `/api/v1/query?query=${encodeURIComponent(q)}`);
      const body = JSON.parse(r.body) as { data: { result: { value: [number, string] }[] } };
      return body.data.result.map((x) => Number(x.value[1]));
    };
    const scraped = await waitFor(
      'Prometheus to have scraped herd',
      async () => {
        const v = await query('sum(herd_http_requests_total{service="web"})').catch(() => []);
        return v.length > 0 ? v : undefined;
      },
      20_000,
    );
    assert.deepEqual(scraped, [20]);

    // A replica restarted (a new process behind the same name): its count carries on.
    box.ok(['restart', 'web']);
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(web)).status, 200);
    assert.equal(sum(await scrape(metrics), 'herd_http_requests_total', 'code="200"'), 25);

    const { daemonPid } = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    process.kill(daemonPid, 'SIGKILL');
    await waitFor('the daemon gone', () => !pidAlive(daemonPid));
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    for (let i = 0; i < 5; i++) assert.equal((await httpGet(web)).status, 200);
    // A new daemon (and a balancer that may have outlived it): the exported counter carries on.
    assert.equal(sum(await scrape(metrics), 'herd_http_requests_total', 'code="200"'), 30);

    // A new address in the file moves /metrics on the next `herd up`, counters and all; none
    // closes it.
    const moved = await freePort();
    const file = join(box.dir, 'compose.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace(`:${metrics}"`, `:${moved}"`));
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    assert.equal(sum(await scrape(moved), 'herd_http_requests_total', 'code="200"'), 30);
    await assert.rejects(httpGet(metrics, '/metrics'), /ECONNREFUSED/);
    writeFileSync(file, readFileSync(file, 'utf8').replace(/^x-herd:\n.*\n/m, ''));
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    await assert.rejects(httpGet(moved, '/metrics'), /ECONNREFUSED/);
    assert.equal((await httpGet(web)).status, 200);
  } finally {
    server?.kill('SIGKILL');
    box.cleanup();
  }
});

test('a cpu target scales a busy service out; ps says why; herd scale leaves it in charge', async () => {
  const web = await freePort();
  const box = project({
    'spin.js': SPIN,
    'compose.yaml': `name: cpu${process.pid}
services:
  web:
    command: [node, spin.js]
    ports: ["127.0.0.1:${web}:5000"]
    deploy: { resources: { limits: { cpus: "0.2" } } }
    x-herd:
      autoscale: { min: 1, max: 2, cpu: 50, cooldown: 1m }
`,
  });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    // One busy replica at its 0.2 cpus limit is ~100 % of it, twice the target: 1 → 2 (max).
    const ps = await waitFor(
      'web autoscaled to 2',
      () => {
        const out = box.ok(['ps']);
        return /web: 2 wanted/.test(out) ? out : undefined;
      },
      30_000,
    );
    assert.match(ps, /web: 2 wanted \(min 1, max 2\); cpu .* per replica \(target 50 %\)/);
    assert.match(
      ps,
      // Above twice the target the step is capped at max: the reason says so.
      /last decision .* ago: cpu \d+(\.\d)? % per ready replica \(1 ready\), target 50 %(, capped at max 2)?: 1 → 2/,
    );
    assert.equal(
      box.ok(['scale', 'web=1']).trim(),
      'web: 2 -> 1 (autoscaled: the autoscaler stays in charge and moves it by load, between 1 and 2)',
    );
  } finally {
    box.cleanup();
  }
});
