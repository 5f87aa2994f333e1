// Scale to zero: what herd adds to a cold start. The same small Node app is started N times on
// its own (spawn → first answer, polling its port every millisecond) and woken N times by a
// request through herd (`autoscale: { min: 0, idle: 1s }`, the request sent once the service is
// at zero → its answer). The difference of the medians is herd's overhead: the proxy's notice,
// the engine starting the replica, seeing it listen, and handing it the held request.
// Usage: node --import tsx bench/cold-start.ts [runs=10]
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, loadavg } from './lib.ts';

const HERD = fileURLToPath(new URL('../bin/herd.js', import.meta.url));
const runs = Number(process.argv[2] ?? 10);
const APP = `
const http = require('http');
http.createServer((req, res) => res.end(process.pid + '\\n')).listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function get(port: number, timeoutMs: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, agent: false, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => (body += d));
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`${res.statusCode}`)),
      );
    });
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end();
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => resolve(true));
    s.once('error', () => resolve(false));
  }).finally(() => undefined) as Promise<boolean>;
}

/** The app on its own: spawn, poll its port each millisecond, then one request. */
async function direct(dir: string): Promise<number> {
  const port = await freePort();
  const t0 = performance.now();
  const child = spawn(process.execPath, ['app.js'], {
    cwd: dir,
    env: { ...process.env, PORT: String(port) },
    stdio: 'ignore',
  });
  while (!(await accepts(port))) await sleep(1);
  await get(port, 5000);
  const ms = performance.now() - t0;
  child.kill('SIGTERM');
  await new Promise((r) => child.once('exit', r));
  return ms;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const root = mkdtempSync(join(tmpdir(), 'herd-cold-'));
const dir = join(root, 'p');
mkdirSync(dir);
writeFileSync(join(dir, 'app.js'), APP);
const port = await freePort();
writeFileSync(
  join(dir, 'compose.yaml'),
  `name: cold${process.pid}
services:
  web:
    command: [node, app.js]
    ports: ["127.0.0.1:${port}:5000"]
    x-herd:
      autoscale: { min: 0, max: 1, rps: 1000, idle: 1s }
`,
);
const env = { ...process.env, HERD_STATE_DIR: join(root, 'state') };
const herd = (args: string[]) =>
  spawnSync(process.execPath, [HERD, ...args], { cwd: dir, env, encoding: 'utf8' });
console.log(`load before: ${loadavg()}`);
try {
  const own: number[] = [];
  for (let i = 0; i < runs; i++) own.push(await direct(dir));
  const up = herd(['up', '-d', '--wait', '--wait-timeout', '30']);
  if (up.status !== 0) throw new Error(`herd up: ${up.stderr}`);
  let last = await get(port, 5000);
  const cold: number[] = [];
  for (let i = 0; i < runs; i++) {
    // idle: 1 s, sampled each second: at zero within ~2.5 s; 4 s leaves the stop done too.
    await sleep(4000);
    const t0 = performance.now();
    const pid = await get(port, 30_000);
    cold.push(performance.now() - t0);
    if (pid === last) throw new Error('answered by the same replica: it was not scaled to zero');
    last = pid;
  }
  const fmt = (xs: number[]) =>
    `median ${median(xs).toFixed(1)} ms (min ${Math.min(...xs).toFixed(1)}, max ${Math.max(...xs).toFixed(1)})`;
  console.log(`app alone, spawn → first answer:          ${fmt(own)}`);
  console.log(`through herd, request at zero → answer:   ${fmt(cold)}`);
  console.log(
    `herd's cold-start overhead (medians):     ${(median(cold) - median(own)).toFixed(1)} ms`,
  );
} finally {
  herd(['down']);
  rmSync(root, { recursive: true, force: true });
  console.log(`load after: ${loadavg()}`);
}
