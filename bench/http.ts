// Throughput, latency and CPU of herd's balancer against nginx (1 worker, upstream keepalive),
// HAProxy (1 thread) and direct access: same run, same 3 backends. Usage:
//   node --import tsx bench/http.ts [seconds=10] [scenarios=ka50,ka500,close50,big16] [herd workers=1] [rounds=1]
// Scenarios: kaN = keep-alive GETs on N connections; closeN = a new connection per request
// (`Connection: close`) on N; bigN = GETs of a 1 MiB body, keep-alive, on N. A bare number N
// means kaN. Every target is started once; each round then runs every scenario against every
// target in turn, so that load drifting on the shared machine hits all alike. Per scenario and
// target: total requests / total time, the median of the rounds' p50/p99, the worst max
// latency, wrk's timeouts (2 s), and the CPU time of the target's process tree per request.
// "herd" is one process; "herd-2w" is x-herd.proxy.workers: 2, and so on.
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
import type { WrkOptions, WrkResult } from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const scenarios = (process.argv[3] ?? 'ka50,ka500,close50,big16').split(',').map(scenario);
const herdWorkers = (process.argv[4] ?? '1').split(',').map(Number);
const rounds = Number(process.argv[5] ?? 1);

interface Scenario {
  name: string;
  conns: number;
  opts: WrkOptions;
}

function scenario(s: string): Scenario {
  const m = /^(ka|close|big)?(\d+)$/.exec(s);
  if (!m) throw new Error(`unknown scenario ${s} (kaN, closeN or bigN)`);
  const kind = m[1] ?? 'ka';
  const opts: WrkOptions =
    kind === 'close' ? { headers: ['Connection: close'] } : kind === 'big' ? { path: '/1m' } : {};
  return { name: `${kind}${m[2]}`, conns: Number(m[2]), opts };
}

interface Run extends WrkResult {
  cpuUs: number;
}
interface Target {
  name: string;
  port: number;
  child: ChildProcess | undefined;
  runs: Map<string, Run[]>;
}

type Start = (p: number) => Promise<ChildProcess | undefined>;
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function measure(t: Target, sc: Scenario): Promise<Run> {
  const c0 = t.child ? treeCpuUs(t.child.pid!) : 0;
  const r = await wrk(t.port, seconds, sc.conns, sc.opts);
  const c1 = t.child ? treeCpuUs(t.child.pid!) : 0;
  return { ...r, cpuUs: t.child ? (c1 - c0) / Math.max(1, r.requests) : NaN };
}

const line = (name: string, r: Run): string =>
  `  ${name.padEnd(8)} ${r.rps.toFixed(0).padStart(7)} req/s  p50 ${r.p50ms.toFixed(2)} ms  p99 ${r.p99ms.toFixed(2)} ms  max ${r.maxms.toFixed(0)} ms  cpu ${Number.isNaN(r.cpuUs) ? '-' : r.cpuUs.toFixed(1)} µs/req  non-2xx ${r.non2xx}  ${r.socketErrors}`;

console.log(`load before: ${loadavg()}`);
const backends = await startBackends(3);
const targets: Target[] = [];
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
  for (const [name, start] of starts) {
    const port = name === 'direct' ? backends.ports[0]! : await freePort();
    targets.push({ name, port, child: await start(port), runs: new Map() });
  }
  for (let r = 1; r <= rounds; r++) {
    for (const sc of scenarios) {
      console.log(`${rounds > 1 ? `round ${r} ` : ''}${sc.name}:`);
      for (const t of targets) {
        await wrk(t.port, 1, sc.conns, sc.opts); // warm-up (JIT, keep-alive pools)
        const res = await measure(t, sc);
        t.runs.set(sc.name, [...(t.runs.get(sc.name) ?? []), res]);
        console.log(line(t.name, res));
      }
    }
    console.log(`load: ${loadavg()}`);
  }
} finally {
  for (const t of targets) await stop(t.child);
  await stop(backends.child);
}

const sum = (t: Target, sc: Scenario): Run => {
  const runs = t.runs.get(sc.name) ?? [];
  const requests = runs.reduce((n, r) => n + r.requests, 0);
  return {
    ...runs[0]!,
    rps: requests / (seconds * runs.length),
    requests,
    p50ms: median(runs.map((r) => r.p50ms)),
    p99ms: median(runs.map((r) => r.p99ms)),
    maxms: Math.max(...runs.map((r) => r.maxms)),
    timeouts: runs.reduce((n, r) => n + r.timeouts, 0),
    non2xx: runs.reduce((n, r) => n + r.non2xx, 0),
    cpuUs: median(runs.map((r) => r.cpuUs)),
  };
};
console.log(`summary${rounds > 1 ? ` over ${rounds} rounds` : ''}:`);
for (const sc of scenarios) {
  const n = sum(
    targets.find((t) => t.name === 'nginx')!,
    sc,
  );
  const h = sum(
    targets.find((t) => t.name === 'haproxy')!,
    sc,
  );
  for (const t of targets) {
    if (!t.name.startsWith('herd')) continue;
    const s = sum(t, sc);
    console.log(
      `${sc.name.padEnd(8)} ${t.name}/nginx req/s ${(s.rps / n.rps).toFixed(2)}  p99 ${(s.p99ms / n.p99ms).toFixed(2)}x  cpu/req ${(s.cpuUs / n.cpuUs).toFixed(2)}x  | max ${s.maxms.toFixed(0)} ms (nginx ${n.maxms.toFixed(0)})  timeouts ${s.timeouts} (nginx ${n.timeouts})  non-2xx ${s.non2xx} | ${t.name}/haproxy req/s ${(s.rps / h.rps).toFixed(2)}`,
    );
  }
}
console.log(`load after: ${loadavg()}`);
