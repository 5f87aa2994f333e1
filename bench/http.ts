// Throughput/latency of herd's balancer against nginx, HAProxy and direct access, same run,
// same 3 backends. Usage: node --import tsx bench/http.ts [seconds=10] [connections=50]
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
import type { WrkResult } from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const conns = Number(process.argv[3] ?? 50);
console.log(`load before: ${loadavg()}`);
const backends = await startBackends(3);
const results: Record<string, WrkResult> = {};
try {
  const runs: [
    string,
    (p: number) => Promise<import('node:child_process').ChildProcess | undefined>,
  ][] = [
    ['direct', async () => undefined],
    ['nginx', (p) => startNginx(p, backends.ports)],
    ['haproxy', (p) => startHaproxy(p, backends.ports)],
    ['herd', (p) => startHerd(p, backends.ports)],
  ];
  for (const [name, start] of runs) {
    const port = name === 'direct' ? backends.ports[0]! : await freePort();
    const child = await start(port);
    await wrk(port, 1, conns); // warm-up (JIT, keep-alive pools)
    results[name] = await wrk(port, seconds, conns);
    await stop(child);
    const r = results[name]!;
    console.log(
      `${name.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  non-2xx ${r.non2xx}  ${r.socketErrors}`,
    );
  }
} finally {
  await stop(backends.child);
}
const h = results.herd!;
const n = results.nginx!;
const d = results.direct!;
console.log(
  `herd/nginx req/s ${(h.rps / n.rps).toFixed(2)}  p99 ${(h.p99ms / n.p99ms).toFixed(2)}x | herd/direct req/s ${(h.rps / d.rps).toFixed(2)} | herd/haproxy req/s ${(h.rps / results.haproxy!.rps).toFixed(2)}`,
);
console.log(`load after: ${loadavg()}`);
