// Throughput/latency of herd's balancer against nginx, HAProxy and direct access, same run,
// same 3 backends. Usage: node --import tsx bench/http.ts [seconds=10] [connections=50] [herd workers=1,2]
// ("herd" is one process; "herd-2w" is x-herd.proxy.workers: 2, and so on.)
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
const herdWorkers = (process.argv[4] ?? '1,2').split(',').map(Number);
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
    ...herdWorkers.map(
      (w) =>
        [w === 1 ? 'herd' : `herd-${w}w`, (p: number) => startHerd(p, backends.ports, w)] as [
          string,
          (p: number) => Promise<import('node:child_process').ChildProcess | undefined>,
        ],
    ),
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
const n = results.nginx!;
const d = results.direct!;
for (const [name, h] of Object.entries(results)) {
  if (!name.startsWith('herd')) continue;
  console.log(
    `${name}/nginx req/s ${(h.rps / n.rps).toFixed(2)}  p99 ${(h.p99ms / n.p99ms).toFixed(2)}x | ${name}/direct req/s ${(h.rps / d.rps).toFixed(2)} | ${name}/haproxy req/s ${(h.rps / results.haproxy!.rps).toFixed(2)}`,
  );
}
console.log(`load after: ${loadavg()}`);
