// Autoscaling under a step load (issue 11): does a service that starts at 1 replica and is
// autoscaled (`autoscale: { min: 1, max: 4, rps: 50, cooldown: 30s }`) keep its p99 within 2× of
// the same service pre-scaled to the final size (`scale: 4`)? Two projects through the real
// `herd` binary, each with its own state dir (so its own daemon), run the same app: a 2 ms busy
// loop per request, so more replicas help. Each gets the same step, from idle to wrk -t1 -c8 for
// N seconds; for the autoscaled one the script polls the daemon's socket (/v1/ps, every 250 ms)
// for when 2, 3 and 4 replicas were ready.
// Usage: node --import tsx bench/step-load.ts [seconds=30]
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { PsResponse } from '../src/daemon/api-types.ts';
import { ROOT, freePort, loadavg, waitPort, wrk, type WrkResult } from './lib.ts';

const seconds = Number(process.argv[2] ?? 30);
const HERD = join(ROOT, 'bin/herd.js');
const CONNS = 8;

const APP = `
const http = require('node:http');
const s = http.createServer((req, res) => {
  const end = performance.now() + 2;
  while (performance.now() < end);
  res.end('ok\\n');
});
s.keepAliveTimeout = 65000;
s.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => {
  s.close(() => process.exit(0));
  s.closeIdleConnections();
  setTimeout(() => process.exit(0), 500);
});
`;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Stack {
  name: string;
  dir: string;
  port: number;
  env: NodeJS.ProcessEnv;
}

async function makeStack(root: string, name: string, webExtra: string): Promise<Stack> {
  const dir = join(root, name);
  mkdirSync(dir);
  const port = await freePort();
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: step${name}${process.pid}
services:
  web:
    command: ["node", "app.js"]
    ports: ["127.0.0.1:${port}:5000"]
    ${webExtra}
`,
  );
  return { name, dir, port, env: { ...process.env, HERD_STATE_DIR: join(dir, 'state') } };
}

function herd(s: Stack, args: string[]): void {
  execFileSync(process.execPath, [HERD, ...args], { cwd: s.dir, env: s.env, stdio: 'pipe' });
}

function ps(s: Stack): Promise<PsResponse> {
  return new Promise((resolve, reject) => {
    const socketPath = join(s.dir, 'state', 'herd.sock');
    const req = request({ socketPath, path: '/v1/ps', agent: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => {
        try {
          resolve(JSON.parse(body) as PsResponse);
        } catch (e) {
          reject(e as Error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

async function readyWeb(s: Stack): Promise<number> {
  const r = await ps(s);
  return r.replicas.filter((x) => x.service === 'web' && x.state === 'running' && x.ready).length;
}

/** While `until` is pending: each time the ready count first reaches a new high, and the max. */
async function watchReplicas(
  s: Stack,
  t0: number,
  until: Promise<unknown>,
): Promise<{ reached: Map<number, number>; max: number }> {
  const reached = new Map<number, number>();
  let done = false;
  let max = 0;
  void until.finally(() => (done = true));
  while (!done) {
    const n = await readyWeb(s).catch(() => 0);
    if (n > max) for (let k = max + 1; k <= n; k++) reached.set(k, (performance.now() - t0) / 1000);
    max = Math.max(max, n);
    await sleep(250);
  }
  return { reached, max };
}

async function step(s: Stack, watch: boolean) {
  herd(s, ['up', '-d', '--wait', '--wait-timeout', '60']);
  await waitPort(s.port);
  // From idle: both stacks up, with nothing in flight, before the step starts.
  await sleep(3000);
  const before = await readyWeb(s);
  const t0 = performance.now();
  const load = wrk(s.port, seconds, CONNS);
  const seen = watch ? await watchReplicas(s, t0, load) : undefined;
  const r = await load;
  const after = await ps(s);
  return { r, before, seen, decision: after.autoscaling?.find((a) => a.service === 'web')?.last };
}

function row(name: string, r: WrkResult, extra: string): string {
  return `${name.padEnd(22)} ${r.rps.toFixed(0).padStart(6)} ${r.p50ms.toFixed(2).padStart(7)} ${r.p99ms.toFixed(2).padStart(7)} ${r.maxms.toFixed(1).padStart(7)} ${String(r.non2xx + r.timeouts).padStart(6)}  ${extra}`;
}

async function main(): Promise<void> {
  const root = mkdtempSync(join(tmpdir(), 'herd-bench-step-'));
  const a = await makeStack(
    root,
    'a',
    'x-herd: { autoscale: { min: 1, max: 4, rps: 50, cooldown: 30s } }',
  );
  const b = await makeStack(root, 'b', 'scale: 4');
  try {
    console.log(`# step to wrk -t1 -c${CONNS} for ${seconds}s from idle; loadavg ${loadavg()}`);
    const A = await step(a, true);
    const B = await step(b, false);
    console.log('stack                   req/s  p50 ms  p99 ms  max ms  failed  replicas');
    const times = [2, 3, 4]
      .map((k) => `${k} at ${A.seen!.reached.get(k)?.toFixed(1) ?? '–'} s`)
      .join(', ');
    console.log(row('A autoscale 1→4', A.r, `${A.before} at start; ${times}; max ${A.seen!.max}`));
    console.log(row('B scale: 4', B.r, `${B.before} throughout`));
    if (A.decision)
      console.log(
        `A's last decision: ${A.decision.from} → ${A.decision.to} (${A.decision.reason})`,
      );
    const ratio = A.r.p99ms / B.r.p99ms;
    console.log(
      `p99(A)/p99(B) = ${ratio.toFixed(2)}  (target ≤ 2: ${ratio <= 2 ? 'met' : 'NOT met'}); loadavg ${loadavg()}`,
    );
  } finally {
    for (const s of [a, b]) {
      try {
        herd(s, ['down']);
      } catch {
        // reported by herd itself; the other stack still goes down
      }
    }
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
