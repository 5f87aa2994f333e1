// Throughput/latency of herd's balancer against nginx, HAProxy and direct access, same run,
// same 3 backends. Usage:
//   node --import tsx bench/http.ts [seconds=10] [connections=50] [herd workers=1,2] [rounds=1]
// "herd" is one process; "herd-2w" is x-herd.proxy.workers: 2, and so on. Every target is
// started once; each round then runs wrk against every target in turn, so that a machine whose
// load drifts (it is shared) penalises all targets alike. Per target: total requests / total
// time, and the median of the rounds' p50/p99. HERD_BENCH_DATA_EVENTS=1 adds "herd-dataev":
// one herd process reading through 'data' events instead of onread (to measure that change).
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
import type { WrkResult } from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const conns = Number(process.argv[3] ?? 50);
const herdWorkers = (process.argv[4] ?? '1,2').split(',').map(Number);
const rounds = Number(process.argv[5] ?? 1);

type Start = (p: number) => Promise<ChildProcess | undefined>;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

console.log(`load before: ${loadavg()}`);
const backends = await startBackends(3);
const targets: {
  name: string;
  port: number;
  child: ChildProcess | undefined;
  runs: WrkResult[];
}[] = [];
try {
  const starts: [string, Start][] = [
    ['direct', async () => undefined],
    ['nginx', (p) => startNginx(p, backends.ports)],
    ['haproxy', (p) => startHaproxy(p, backends.ports)],
    ...herdWorkers.map((w): [string, Start] => [
      w === 1 ? 'herd' : `herd-${w}w`,
      (p) => startHerd(p, backends.ports, w),
    ]),
  ];
  if (process.env.HERD_BENCH_DATA_EVENTS === '1')
    starts.push([
      'herd-dataev',
      (p) => startHerd(p, backends.ports, 1, { HERD_PROXY_DATA_EVENTS: '1' }),
    ]);
  for (const [name, start] of starts) {
    const port = name === 'direct' ? backends.ports[0]! : await freePort();
    targets.push({ name, port, child: await start(port), runs: [] });
  }
  for (const t of targets) await wrk(t.port, 1, conns); // warm-up (JIT, keep-alive pools)
  for (let r = 1; r <= rounds; r++) {
    for (const t of targets) {
      const res = await wrk(t.port, seconds, conns);
      t.runs.push(res);
      console.log(
        `${rounds > 1 ? `round ${r} ` : ''}${t.name.padEnd(8)} ${res.rps.toFixed(0).padStart(8)} req/s  p50 ${res.p50ms.toFixed(2)} ms  p99 ${res.p99ms.toFixed(2)} ms  non-2xx ${res.non2xx}  ${res.socketErrors}`,
      );
    }
    if (rounds > 1) console.log(`load: ${loadavg()}`);
  }
} finally {
  for (const t of targets) await stop(t.child);
  await stop(backends.child);
}
const sum = Object.fromEntries(
  targets.map((t) => [
    t.name,
    {
      rps: t.runs.reduce((n, r) => n + r.requests, 0) / (seconds * t.runs.length),
      p50: median(t.runs.map((r) => r.p50ms)),
      p99: median(t.runs.map((r) => r.p99ms)),
    },
  ]),
);
if (rounds > 1) {
  console.log(`over ${rounds} rounds:`);
  for (const [name, s] of Object.entries(sum))
    console.log(
      `${name.padEnd(8)} ${s.rps.toFixed(0).padStart(8)} req/s  median p50 ${s.p50.toFixed(2)} ms  median p99 ${s.p99.toFixed(2)} ms`,
    );
}
const n = sum.nginx!;
for (const [name, h] of Object.entries(sum)) {
  if (!name.startsWith('herd')) continue;
  console.log(
    `${name}/nginx req/s ${(h.rps / n.rps).toFixed(2)}  p99 ${(h.p99 / n.p99).toFixed(2)}x | ${name}/direct req/s ${(h.rps / sum.direct!.rps).toFixed(2)} | ${name}/haproxy req/s ${(h.rps / sum.haproxy!.rps).toFixed(2)}`,
  );
}
console.log(`load after: ${loadavg()}`);
