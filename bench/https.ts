// HTTPS through herd's ingress against nginx (1 worker) terminating TLS with the same certificate
// (issued by a herd local CA made for this run) in front of the same 3 replicas. Usage:
//   node --import tsx bench/https.ts [seconds=10] [connections=50]
// Two scenarios: keep-alive, and a new TLS connection per request (`Connection: close`, so every
// request pays a handshake). wrk speaks HTTP/1.1 over TLS; herd's ingress offers h2 and http/1.1.
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalCA } from '../src/proxy/ingress/ca.ts';
import {
  ROOT,
  freePort,
  loadavg,
  startNginx,
  stop,
  treeCpuUs,
  waitPort,
  wrk,
  type WrkResult,
} from './lib.ts';

const seconds = Number(process.argv[2] ?? 10);
const conns = Number(process.argv[3] ?? 50);
const HERD = join(ROOT, 'bin/herd.js');

const app = `
const http = require('node:http');
const fs = require('node:fs');
http.createServer((q, r) => r.end('hello from ' + process.env.HERD_REPLICA + '\\n'))
  .listen(Number(process.env.PORT), '127.0.0.1', () =>
    fs.writeFileSync('ports/' + process.env.HERD_REPLICA, process.env.PORT));
`;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-bench-https-'));
  const env = {
    ...process.env,
    HERD_STATE_DIR: join(dir, 'state'),
    XDG_DATA_HOME: join(dir, 'data'),
  };
  const [httpsPort, nginxPort] = [await freePort(), await freePort()];
  mkdirSync(join(dir, 'ports'));
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: benchtls
x-herd:
  ingress: { https: "127.0.0.1:${httpsPort}", tls: internal }
services:
  web: { command: ["node", "app.js"], scale: 3, x-herd: { routes: ["/"] } }
`,
  );
  let nginx: ChildProcess | undefined;
  const herd = (args: string[]) =>
    execFileSync(process.execPath, [HERD, ...args], { cwd: dir, env, stdio: 'pipe' });
  try {
    herd(['up', '-d', '--wait']);
    const ports = readdirSync(join(dir, 'ports')).map((f) =>
      Number(readFileSync(join(dir, 'ports', f), 'utf8')),
    );
    // The same CA and leaf key as herd's ingress uses, for a certificate of the same kind.
    const leaf = LocalCA.open(join(dir, 'data', 'herd', 'ca')).issue('localhost');
    nginx = await startNginx(nginxPort, ports, leaf);
    await waitPort(httpsPort);
    const herdPid = await daemonPid(join(dir, 'state', 'herd.sock'));
    console.log(`# ${seconds}s per run, ${conns} connections, loadavg ${loadavg()}`);
    console.log('scenario      target   req/s      p50 ms  p99 ms  max ms  timeouts  CPU µs/req');
    for (const [name, headers] of [
      ['keep-alive', []],
      ['new-conn', ['Connection: close']],
    ] as const) {
      const rows: [string, WrkResult, number][] = [];
      for (const [target, port, pid] of [
        ['nginx', nginxPort, nginx.pid!],
        ['herd', httpsPort, herdPid],
      ] as const) {
        const own = target === 'herd' ? dir : undefined;
        const cpu0 = proxyCpuUs(pid, own);
        const r = await wrk(port, seconds, conns, { scheme: 'https', headers: [...headers] });
        rows.push([target, r, (proxyCpuUs(pid, own) - cpu0) / Math.max(1, r.requests)]);
      }
      for (const [target, r, cpu] of rows)
        console.log(
          `${name.padEnd(13)} ${target.padEnd(8)} ${r.rps.toFixed(0).padStart(8)} ${r.p50ms.toFixed(2).padStart(8)} ${r.p99ms.toFixed(2).padStart(7)} ${r.maxms.toFixed(0).padStart(7)} ${String(r.timeouts).padStart(9)} ${cpu.toFixed(0).padStart(11)}`,
        );
      const [n, h] = [rows[0]![1], rows[1]![1]];
      console.log(`${name.padEnd(13)} herd/nginx req/s ${(h.rps / n.rps).toFixed(2)}x`);
    }
  } finally {
    await stop(nginx);
    try {
      herd(['down']);
    } catch {
      // reported by herd itself
    }
    rmSync(dir, { recursive: true, force: true });
  }
}

/** CPU of a proxy's process tree without the replicas herd runs under it (nginx has none). */
function proxyCpuUs(pid: number, herdDir: string | undefined): number {
  let replicas = 0;
  if (herdDir === undefined) return treeCpuUs(pid);
  try {
    const state = JSON.parse(readFileSync(join(herdDir, 'state', 'state.json'), 'utf8')) as {
      replicas?: { pid: number }[];
    };
    for (const r of state.replicas ?? []) replicas += treeCpuUs(r.pid);
  } catch {
    // no replica recorded yet
  }
  return treeCpuUs(pid) - replicas;
}

/** The daemon's PID, as its control API tells it: its tree holds the proxy process group, and
 * in it the ingress process. */
function daemonPid(socketPath: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path: '/v1/ping' }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(Number((JSON.parse(body) as { pid: number }).pid)));
    });
    req.on('error', reject);
    req.end();
  });
}

await main();
