// Failover: kill -9 one of 3 backend processes during a wrk run, restart it 3 s later, and
// count what clients saw. herd (standalone, no engine telling it anything) vs nginx.
// Usage: node --import tsx bench/failover.ts [seconds=10] [herd workers=1]
import { freePort, loadavg, startBackends, startHerd, startNginx, stop, wrk } from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const workers = Number(process.argv[3] ?? 1);
console.log(`load before: ${loadavg()}`);
for (const [name, start] of [
  [workers > 1 ? `herd-${workers}w` : 'herd', (p: number, b: number[]) => startHerd(p, b, workers)],
  ['nginx', startNginx],
] as const) {
  const ports = [await freePort(), await freePort(), await freePort()];
  const procs = await Promise.all(ports.map((p) => startBackends(1, [p])));
  const lp = await freePort();
  const lb = await start(lp, ports);
  await wrk(lp, 1); // warm-up
  const run = wrk(lp, seconds);
  await new Promise((r) => setTimeout(r, 2000));
  const t0 = Date.now();
  procs[1]!.child.kill('SIGKILL');
  await new Promise((r) => setTimeout(r, 3000));
  procs[1] = await startBackends(1, [ports[1]!]);
  const restarted = Date.now() - t0;
  const r = await run;
  console.log(
    `${name.padEnd(6)} ${r.requests} requests, ${r.rps.toFixed(0)} req/s, p99 ${r.p99ms.toFixed(2)} ms, non-2xx ${r.non2xx}, ${r.socketErrors} (backend 2 killed at 2 s, back after ${restarted} ms)`,
  );
  await stop(lb);
  await Promise.all(procs.map((p) => stop(p.child)));
}
console.log(`load after: ${loadavg()}`);
