// CPU time per proxied request of one balancer (its whole process tree), from /proc:
// utime+stime before and after one bounded wrk run, divided by the requests wrk completed.
// Usage: node --import tsx bench/cpu.ts [target=herd|herd-2w|nginx|haproxy] [seconds=5] [connections=50]
import { readdirSync, readFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  loadavg,
  startBackends,
  startHaproxy,
  startHerd,
  startNginx,
  stop,
  wrk,
} from './lib.ts';

const target = process.argv[2] ?? 'herd';
const seconds = Number(process.argv[3] ?? 5);
const conns = Number(process.argv[4] ?? 50);
const TICK_US = 1e6 / 100; // USER_HZ is 100 on Linux

/** utime+stime (ticks) of `pid` and every descendant. */
export function treeTicks(pid: number): number {
  const parent = new Map<number, number>();
  const ticks = new Map<number, number>();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const st = readFileSync(`/proc/${d}/stat`, 'latin1');
      const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
      parent.set(Number(d), Number(f[1]));
      ticks.set(Number(d), Number(f[11]) + Number(f[12]));
    } catch {
      // process went away
    }
  }
  let sum = 0;
  for (const [p, t] of ticks) {
    let q: number | undefined = p;
    while (q !== undefined && q > 1 && q !== pid) q = parent.get(q);
    if (q === pid) sum += t;
  }
  return sum;
}

console.log(`load before: ${loadavg()}`);
const backends = await startBackends(3);
let child: ChildProcess | undefined;
try {
  const port = await freePort();
  const w = /^herd-(\d+)w$/.exec(target);
  const start = w
    ? (p: number, b: number[]) => startHerd(p, b, Number(w[1]))
    : { herd: startHerd, nginx: startNginx, haproxy: startHaproxy }[target];
  if (!start) throw new Error(`unknown target ${target}`);
  child = await start(port, backends.ports);
  await wrk(port, 1, conns);
  const b0 = treeTicks(backends.child.pid!);
  const t0 = treeTicks(child.pid!);
  const r = await wrk(port, seconds, conns);
  const t1 = treeTicks(child.pid!);
  const b1 = treeTicks(backends.child.pid!);
  console.log(
    `${target}: ${r.rps.toFixed(0)} req/s p99 ${r.p99ms.toFixed(2)} ms, proxy CPU ${(((t1 - t0) * TICK_US) / r.requests).toFixed(1)} µs/req (${(((t1 - t0) * TICK_US) / 1e6 / seconds).toFixed(2)} cores), backends ${(((b1 - b0) * TICK_US) / r.requests).toFixed(1)} µs/req`,
  );
} finally {
  await stop(child);
  await stop(backends.child);
}
console.log(`load after: ${loadavg()}`);
