// Shared pieces of the benchmarks: start/stop child processes, generate nginx and HAProxy
// configs into a temp dir, run wrk and parse its summary.
import { spawn, execFileSync } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const ROOT = new URL('..', import.meta.url).pathname;

export async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const p = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return p;
}

/** Spawn and resolve once stdout printed a line (the child's "I'm ready" line). */
export function spawnReady(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ child: ChildProcess; line: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl !== -1) resolve({ child, line: out.slice(0, nl) });
    });
    child.on('exit', (code) => reject(new Error(`${cmd} exited early (${code})`)));
  });
}

export async function waitPort(port: number, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    const ok = await new Promise<boolean>((r) => {
      const s = net.connect(port, '127.0.0.1');
      s.on('connect', () => {
        s.destroy();
        r(true);
      });
      s.on('error', () => r(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

export function startBackends(
  count: number,
  fixed: number[] = [],
): Promise<{ child: ChildProcess; ports: number[] }> {
  return spawnReady(process.execPath, [
    '--import',
    'tsx',
    'bench/backends.ts',
    String(count),
    ...fixed.map(String),
  ]).then(({ child, line }) => ({
    child,
    ports: JSON.parse(line) as number[],
  }));
}

/** herd standalone; `workers` > 1 also forks that many proxy processes minus one. */
export async function startHerd(
  listen: number,
  backends: number[],
  workers = 1,
  env: NodeJS.ProcessEnv = {},
): Promise<ChildProcess> {
  const { child } = await spawnReady(
    process.execPath,
    ['--import', 'tsx', 'bench/herd-standalone.ts', String(listen), ...backends.map(String)],
    { ...process.env, HERD_BENCH_WORKERS: String(workers), ...env },
  );
  return child;
}

/** nginx, 1 worker, in front of `backends`; with `tls`, it terminates TLS (and offers HTTP/2)
 * with that certificate and key. */
export async function startNginx(
  listen: number,
  backends: number[],
  tls?: { cert: string; key: string },
): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-bench-nginx-'));
  if (tls) {
    writeFileSync(join(dir, 'tls.crt'), tls.cert);
    writeFileSync(join(dir, 'tls.key'), tls.key, { mode: 0o600 });
  }
  const listenLine = tls
    ? `listen 127.0.0.1:${listen} ssl http2;\n    ssl_certificate ${dir}/tls.crt;\n    ssl_certificate_key ${dir}/tls.key;`
    : `listen 127.0.0.1:${listen};`;
  const conf = `worker_processes 1;
error_log ${dir}/error.log error;
pid ${dir}/nginx.pid;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app {
${backends.map((p) => `    server 127.0.0.1:${p} max_fails=1 fail_timeout=5s;`).join('\n')}
    keepalive 64;
  }
  server {
    ${listenLine}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_next_upstream error timeout http_502;
    }
  }
}
`;
  writeFileSync(join(dir, 'nginx.conf'), conf);
  const child = spawn('nginx', ['-p', dir, '-c', join(dir, 'nginx.conf'), '-g', 'daemon off;'], {
    stdio: 'inherit',
  });
  await waitPort(listen);
  return child;
}

export async function startHaproxy(listen: number, backends: number[]): Promise<ChildProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'herd-bench-haproxy-'));
  const conf = `global
  nbthread 1
defaults
  mode http
  timeout connect 3s
  timeout client 30s
  timeout server 30s
  option http-keep-alive
  option forwardfor
  retries 3
  option redispatch
frontend fe
  bind 127.0.0.1:${listen}
  default_backend be
backend be
  balance roundrobin
  http-reuse always
${backends.map((p, i) => `  server s${i} 127.0.0.1:${p}`).join('\n')}
`;
  writeFileSync(join(dir, 'haproxy.cfg'), conf);
  const child = spawn('haproxy', ['-db', '-f', join(dir, 'haproxy.cfg')], { stdio: 'inherit' });
  await waitPort(listen);
  return child;
}

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  maxms: number;
  requests: number;
  non2xx: number;
  /** requests wrk gave up on after its 2 s timeout */
  timeouts: number;
  socketErrors: string;
  raw: string;
}

function ms(v: string): number {
  const m = /([\d.]+)(us|ms|s|m)\b/.exec(v);
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : m[2] === 'm' ? n * 60_000 : n;
}

export interface WrkOptions {
  path?: string;
  /** 'https' for a TLS target (wrk does not check its certificate). */
  scheme?: 'http' | 'https';
  /** extra request header lines, "Name: value" */
  headers?: string[];
}

export function wrk(
  port: number,
  seconds: number,
  conns = 50,
  opts: WrkOptions = {},
): Promise<WrkResult> {
  return new Promise((resolve, reject) => {
    const args = ['-t1', `-c${conns}`, `-d${seconds}s`, '--latency'];
    for (const h of opts.headers ?? []) args.push('-H', h);
    args.push(`${opts.scheme ?? 'http'}://127.0.0.1:${port}${opts.path ?? '/'}`);
    const child = spawn('wrk', args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let raw = '';
    child.stdout.on('data', (d: Buffer) => (raw += d.toString()));
    child.on('error', reject);
    child.on('exit', () => {
      const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(raw);
      resolve({
        rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(raw)?.[1] ?? 0),
        p50ms: ms(/^\s+50%\s+(\S+)/m.exec(raw)?.[1] ?? ''),
        p99ms: ms(/^\s+99%\s+(\S+)/m.exec(raw)?.[1] ?? ''),
        maxms: ms(/^\s+Latency\s+\S+\s+\S+\s+(\S+)/m.exec(raw)?.[1] ?? ''),
        requests: Number(/(\d+) requests in/.exec(raw)?.[1] ?? 0),
        non2xx: non2xx ? Number(non2xx[1]) : 0,
        timeouts: Number(/timeout (\d+)/.exec(raw)?.[1] ?? 0),
        socketErrors: /Socket errors:[^\n]*/.exec(raw)?.[0] ?? 'Socket errors: none',
        raw,
      });
    });
  });
}

/** CPU time (utime+stime, in µs) of `pid` and every descendant, from /proc. */
export function treeCpuUs(pid: number): number {
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
  return sum * (1e6 / 100); // USER_HZ is 100 on Linux
}

export function stop(child: ChildProcess | undefined): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((r) => {
    child.once('exit', () => r());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 2000).unref();
  });
}

export function loadavg(): string {
  return execFileSync('cat', ['/proc/loadavg']).toString().trim();
}
