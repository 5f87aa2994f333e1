// A/B of two herd checkouts (or one with two environments) on the same backends: short wrk runs
// alternate between them, and each gets its CPU time per request (its process tree, /proc).
// Usage: node --import tsx bench/ab.ts <dirA>[@NAME=value] <dirB>[@NAME=value] [path=/] [conns=50] [rounds=8] [header]
// e.g. node --import tsx bench/ab.ts /tmp/herd-old . /1m 16 8
//      node --import tsx bench/ab.ts . .@HERD_BENCH_PROTO=http / 50 8 'Connection: close'
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { freePort, startBackends, stop, treeCpuUs, wrk } from './lib.ts';

const [a = '.', b = '.', path = '/', conns = '50', rounds = '8', header] = process.argv.slice(2);
const backends = await startBackends(3);

function start(spec: string, port: number): Promise<ChildProcess> {
  const [dir, env] = spec.split('@');
  const extra = env ? Object.fromEntries([env.split('=') as [string, string]]) : {};
  const args = ['--import', 'tsx', 'bench/herd-standalone.ts', String(port)];
  return new Promise((resolve, reject) => {
    const c = spawn(process.execPath, [...args, ...backends.ports.map(String)], {
      cwd: dir,
      env: { ...process.env, ...extra },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    c.stdout!.once('data', () => resolve(c));
    c.once('exit', (code) => reject(new Error(`${spec} exited (${code})`)));
  });
}

const targets: {
  spec: string;
  port: number;
  child: ChildProcess;
  cpu: number;
  n: number;
  rps: number[];
}[] = [];
try {
  for (const spec of [a, b]) {
    const port = await freePort();
    targets.push({ spec, port, child: await start(spec, port), cpu: 0, n: 0, rps: [] });
  }
  const opts = { path, headers: header ? [header] : [] };
  for (const t of targets) await wrk(t.port, 1, Number(conns), opts);
  for (let r = 0; r < Number(rounds); r++) {
    for (const t of r % 2 ? [...targets].reverse() : targets) {
      const c0 = treeCpuUs(t.child.pid!);
      const res = await wrk(t.port, 2, Number(conns), opts);
      t.cpu += treeCpuUs(t.child.pid!) - c0;
      t.n += res.requests;
      t.rps.push(res.rps);
    }
  }
  for (const t of targets)
    console.log(
      `${t.spec}: ${(t.cpu / t.n).toFixed(1)} µs/req, req/s per run ${t.rps.map((x) => x.toFixed(0)).join(' ')}`,
    );
} finally {
  for (const t of targets) await stop(t.child);
  await stop(backends.child);
}
