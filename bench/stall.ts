// Serving gaps while a project scales up a lot: `herd up -d` with web ×3 behind a published
// port, a probe of sequential keep-alive GETs through it, `herd scale web=N` (default 100) until
// N replicas are ready, then back to 3. Reports the longest gap between two answers (target
// ≤ 50 ms) and, for comparison, the same probe against a plain Node server outside herd run at
// the same time: when both stall, the machine was short of CPU, not herd.
// Usage: node --import tsx bench/stall.ts [replicas=100] [seconds after ready=3]
// (the probes pause PACE_MS between requests, and readiness is polled every POLL_MS: before
// 2026-12-06 18:20 UTC they ran flat out and polled every 250 ms, which took a core from herd)
import { execFile, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, freePort, loadavg, stop, waitPort } from './lib.ts';

const replicas = Number(process.argv[2] ?? 100);
const settleS = Number(process.argv[3] ?? 3);
const HERD = join(ROOT, 'bin', 'herd.js');
/** Pause between two probe requests; how often `herd ps` is asked whether all are ready. */
const PACE_MS = 2;
const POLL_MS = 1000;

const APP = `const http = require('http');
const id = process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA;
const s = http.createServer((req, res) => res.end(id + ' ' + process.pid + '\\n'));
s.keepAliveTimeout = 65000;
s.listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

/** Sequential keep-alive GETs, PACE_MS apart, until stopped: longest and 99th-percentile gap
 * between answers. Paced, so that the probes measure stalls without taking a core themselves
 * (unpaced, the control's loop alone kept one of the two cores busy and the proxy worker waited
 * for CPU behind it). */
class Probe {
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  private running = true;
  private last = 0;
  readonly gaps: { ms: number; at: number }[] = [];
  ok = 0;
  failed = 0;
  private readonly done: Promise<void>;
  constructor(
    private readonly port: number,
    private readonly t0: number,
  ) {
    this.done = this.loop();
  }
  private one(): Promise<boolean> {
    return new Promise((resolve) => {
      const req = http.get({ host: '127.0.0.1', port: this.port, agent: this.agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode === 200));
        res.on('error', () => resolve(false));
      });
      req.setTimeout(2000, () => req.destroy());
      req.on('error', () => resolve(false));
    });
  }
  private async loop(): Promise<void> {
    while (this.running) {
      const good = await this.one();
      const now = performance.now();
      if (!good) {
        this.failed++;
        await new Promise((r) => setTimeout(r, 10));
        continue;
      }
      if (this.last) this.gaps.push({ ms: now - this.last, at: now - this.t0 });
      this.last = now;
      this.ok++;
      await new Promise((r) => setTimeout(r, PACE_MS));
    }
  }
  async stop(): Promise<string> {
    this.running = false;
    await this.done;
    this.agent.destroy();
    const sorted = this.gaps.map((g) => g.ms).sort((a, b) => a - b);
    const max = this.gaps.reduce((m, g) => (g.ms > m.ms ? g : m), { ms: 0, at: 0 });
    const p99 = sorted[Math.floor(sorted.length * 0.99)] ?? 0;
    return (
      `max gap ${max.ms.toFixed(0)} ms (at ${(max.at / 1000).toFixed(1)} s), ` +
      `p99 gap ${p99.toFixed(1)} ms, ${this.ok} answers, ${this.failed} failed`
    );
  }
}

function herd(dir: string, env: NodeJS.ProcessEnv, ...args: string[]): Promise<string> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [HERD, ...args], { cwd: dir, env }, (err, out, errOut) =>
      err ? reject(new Error(`herd ${args.join(' ')}: ${errOut || err.message}`)) : resolve(out),
    ),
  );
}

async function rows(
  dir: string,
  env: NodeJS.ProcessEnv,
): Promise<{ Ready: boolean; Pid: number }[]> {
  const out = await herd(dir, env, 'ps', '--format', 'json');
  return out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { Ready: boolean; Pid: number });
}

/** Nice value of a process (field 19 of /proc/<pid>/stat). */
function niceOf(pid: number): number {
  return Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[16]);
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-stall-'));
  const env = { ...process.env, HERD_STATE_DIR: join(dir, '.state') };
  const port = await freePort();
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: stall${process.pid}\nservices:\n  web:\n    command: ["node", "app.js"]\n` +
      `    ports: ["127.0.0.1:${port}:5000"]\n    deploy:\n      replicas: 3\n`,
  );
  // The control: a plain Node server outside herd, at the priority of herd's replicas.
  const controlPort = await freePort();
  const control: ChildProcess = spawn(process.execPath, [join(dir, 'app.js')], {
    env: { ...process.env, PORT: String(controlPort), HERD_SERVICE: 'control', HERD_REPLICA: '0' },
    stdio: 'ignore',
  });
  try {
    console.log(`load before: ${loadavg()}`);
    await herd(dir, env, 'up', '-d');
    await waitPort(port, 20_000);
    await waitPort(controlPort, 5000);
    const replicaNice = niceOf((await rows(dir, env))[0]!.Pid);
    setPriority(control.pid!, replicaNice);
    const t0 = performance.now();
    const probe = new Probe(port, t0);
    const ctl = new Probe(controlPort, t0);
    await new Promise((r) => setTimeout(r, 1000));
    const s0 = performance.now();
    await herd(dir, env, 'scale', `web=${replicas}`);
    while ((await rows(dir, env)).filter((r) => r.Ready).length < replicas)
      await new Promise((r) => setTimeout(r, POLL_MS));
    const upS = (performance.now() - s0) / 1000;
    await new Promise((r) => setTimeout(r, settleS * 1000));
    const d0 = performance.now();
    await herd(dir, env, 'scale', 'web=3');
    const downS = (performance.now() - d0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const [viaHerd, direct] = [await probe.stop(), await ctl.stop()];
    console.log(
      `scale 3 → ${replicas}: ${upS.toFixed(1)} s until all ready; back to 3: ${downS.toFixed(1)} s`,
    );
    console.log(`through herd:          ${viaHerd}`);
    console.log(
      `control (outside herd): ${direct}   (replicas and control at nice ${replicaNice})`,
    );
    console.log(`load after: ${loadavg()}`);
  } finally {
    await herd(dir, env, 'down').catch((e: Error) => console.error(e.message));
    await stop(control);
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
