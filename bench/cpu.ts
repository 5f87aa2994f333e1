// CPU time per proxied request of one balancer (its whole process tree), from /proc:
// utime+stime before and after one bounded wrk run, divided by the requests wrk completed.
// Usage: node --import tsx bench/cpu.ts [target=herd|herd-2w|nginx|haproxy] [seconds=5] [connections=50]
import type { ChildProcess } from 'node:child_process';
import {
  freePort,
  loadavg,
  startBackends,
  startHaproxy,
  startHerd,
  startNginx,
  stop,
  treeCpuUs,
  wrk,
} from './lib.ts';

const target = process.argv[2] ?? 'herd';
const seconds = Number(process.argv[3] ?? 5);
const conns = Number(process.argv[4] ?? 50);
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
  const b0 = treeCpuUs(backends.child.pid!);
  const t0 = treeCpuUs(child.pid!);
  const r = await wrk(port, seconds, conns);
  const t1 = treeCpuUs(child.pid!);
  const b1 = treeCpuUs(backends.child.pid!);
  console.log(
    `${target}: ${r.rps.toFixed(0)} req/s p99 ${r.p99ms.toFixed(2)} ms, proxy CPU ${((t1 - t0) / r.requests).toFixed(1)} µs/req (${((t1 - t0) / 1e6 / seconds).toFixed(2)} cores), backends ${((b1 - b0) / r.requests).toFixed(1)} µs/req`,
  );
} finally {
  await stop(child);
  await stop(backends.child);
}
console.log(`load after: ${loadavg()}`);
