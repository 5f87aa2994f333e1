// End-to-end helpers: run `node bin/herd.js` as a user would, each test with its own state dir
// and free ports, and always clean up (down, then kill what the state file still lists).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  cpSync,
  existsSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
} from 'node:fs';
import { request } from 'node:http';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { psJson, selectReplicas } from '../../src/cli/format/ps.ts';
import type { PsResponse } from '../../src/daemon/api-types.ts';
import { DaemonClient } from '../../src/daemon/client.ts';
import { readEnviron } from '../../src/util/process-identity.ts';
import { waitUntil } from './wait.ts';
import { allocatePort } from '../../src/runtime/ports.ts';
import { tempDir } from './tmp.ts';

export const HERD = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));
export const EXAMPLES = fileURLToPath(new URL('../../examples/', import.meta.url));

export interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  /** Where the compose file is (the command's cwd). */
  dir: string;
  stateDir: string;
  env: NodeJS.ProcessEnv;
  herd(args: string[], opts?: { timeoutMs?: number }): Result;
  /** Like herd() but throws with both streams when the exit code is not 0. */
  ok(args: string[], opts?: { timeoutMs?: number }): string;
  /** herd() without blocking this process (for verbs that run while a client loop sends). */
  run(args: string[]): Promise<Result>;
  /** A long-running verb (`logs -f`, `events`): its output so far and a way to stop it. */
  spawn(args: string[]): Streamed;
  /** `herd ps --format json -a` (all = true) or without -a, from the binary. */
  ps(all?: boolean): PsRow[];
  /** The same rows asked of the daemon's socket in this process, without the second of
   * start-up per call the binary costs: for polling. */
  psNow(all?: boolean): Promise<PsRow[]>;
  /** `herd down`, then SIGKILL anything the state file still lists; removes the temp dirs. */
  cleanup(): void;
}

export interface Streamed {
  child: ChildProcess;
  output(): string;
  stop(): Promise<void>;
}

export interface PsRow {
  Name: string;
  Service: string;
  Index: number;
  State: string;
  Status: string;
  Health: string;
  /** In the balancer's pool: running and accepting connections (or healthy). */
  Ready: boolean;
  ExitCode: number;
  Restarts: number;
  Pid: number | null;
  Ports: string;
  /** Requests herd's balancer sent to the replica (null when it serves no port). */
  Requests: number | null;
}

/** A copy of examples/<name> in a temp dir (without its .data), with its own state dir. */
export function sandboxFromExample(name: string, env: Record<string, string> = {}): Sandbox {
  const root = tempDir(`e2e-${name}`);
  const dir = join(root, name);
  cpSync(join(EXAMPLES, name), dir, {
    recursive: true,
    filter: (src) => !src.includes(`${name}/.data`),
  });
  // Examples import the repo's packages (noteboard uses `pg`): let Node find them from the copy.
  symlinkSync(
    fileURLToPath(new URL('../../node_modules', import.meta.url)),
    join(root, 'node_modules'),
  );
  return sandbox(root, dir, env);
}

/** examples/noteboard's copy: its `db` runs as the postgres user, which must reach .data/db
 * inside the (otherwise private) temp dir. */
export function noteboardSandbox(env: Record<string, string>): Sandbox {
  const box = sandboxFromExample('noteboard', env);
  chmodSync(dirname(box.dir), 0o755);
  chmodSync(box.dir, 0o755);
  return box;
}

export function sandbox(root: string, dir: string, extra: Record<string, string> = {}): Sandbox {
  const stateDir = join(root, 'state');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    NO_COLOR: '1',
    HERD_STATE_DIR: stateDir,
    ...extra,
  };
  delete env.COMPOSE_PROJECT_NAME;
  const herd = (args: string[], opts: { timeoutMs?: number } = {}): Result => {
    const r = spawnSync(process.execPath, [HERD, ...args], {
      cwd: dir,
      env,
      encoding: 'utf8',
      timeout: opts.timeoutMs ?? 60_000,
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  };
  const ok = (args: string[], opts?: { timeoutMs?: number }): string => {
    const r = herd(args, opts);
    if (r.status !== 0)
      throw new Error(`herd ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
    return r.stdout;
  };
  return {
    dir,
    stateDir,
    env,
    herd,
    ok,
    run(args) {
      return new Promise((resolve) => {
        const child = spawn(process.execPath, [HERD, ...args], { cwd: dir, env });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        child.once('close', (status) => resolve({ status, stdout, stderr }));
      });
    },
    spawn(args) {
      const child = spawn(process.execPath, [HERD, ...args], { cwd: dir, env });
      let out = '';
      child.stdout.on('data', (d) => (out += d));
      child.stderr.on('data', (d) => (out += d));
      const exited = new Promise<void>((r) => child.once('exit', () => r()));
      return {
        child,
        output: () => out,
        stop: async () => {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGINT');
          await exited;
        },
      };
    },
    ps(all = true) {
      return ok(['ps', '--format', 'json', ...(all ? ['-a'] : [])])
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as PsRow);
    },
    async psNow(all = true) {
      const state = JSON.parse(readFileSync(join(stateDir, 'state.json'), 'utf8')) as {
        project: string;
      };
      const client = new DaemonClient(join(stateDir, 'herd.sock'), state.project);
      const ps = await client.get<PsResponse>('/v1/ps');
      return psJson(ps, selectReplicas(ps, { all, services: [] }))
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as PsRow);
    },
    cleanup() {
      herd(['down'], { timeoutMs: 30_000 });
      for (const pid of recordedPids(stateDir)) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

/** The replica PIDs (and the daemon's) the state file records. */
export function recordedPids(stateDir: string): number[] {
  const file = join(stateDir, 'state.json');
  if (!existsSync(file)) return [];
  try {
    const s = JSON.parse(readFileSync(file, 'utf8')) as {
      replicas: { pid: number }[];
      daemonPid?: number;
    };
    return [...s.replicas.map((r) => r.pid), ...(s.daemonPid ? [s.daemonPid] : [])];
  } catch {
    return [];
  }
}

/** A free TCP port on 127.0.0.1, drawn as herd draws replica ports (outside the kernel's
 * ephemeral range, so no outgoing connection of a parallel test takes it meanwhile). */
export const freePort = allocatePort;

export interface HttpAnswer {
  status: number;
  body: string;
}

/** One HTTP request to 127.0.0.1 without keep-alive (each request picks a replica afresh). */
export function httpGet(
  port: number,
  path = '/',
  opts: {
    method?: string;
    body?: string;
    headers?: Record<string, string>;
    timeoutMs?: number;
  } = {},
): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: opts.method ?? 'GET',
        agent: false,
        headers: { connection: 'close', ...opts.headers },
        timeout: opts.timeoutMs ?? 5000,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d) => (body += d));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timed out')));
    req.on('error', reject);
    req.end(opts.body);
  });
}

/** True while the process runs. A zombie counts as gone: a killed daemon's children are
 * re-parented to whatever reaps orphans here, which may take its time. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

/** Like waitUntil, polling less often: each poll of an e2e test may start a `herd` process. */
export function waitFor<T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
  timeoutMs = 10_000,
): Promise<T> {
  return waitUntil(what, fn, timeoutMs, 100);
}

/** Runs `herd scale <arg>` while `herd events --json` listens; returns the scaled events seen. */
export async function scaledEventsDuring(
  box: Sandbox,
  arg: string,
  timeoutMs = 30_000,
): Promise<{ service: string; from: number; to: number }[]> {
  const events = box.spawn(['events', '--json']);
  await new Promise((r) => setTimeout(r, 500));
  box.ok(['scale', arg], { timeoutMs });
  await waitFor('a scaled event', () => /"type":"scaled"/.test(events.output()), 5000);
  await events.stop();
  return events
    .output()
    .split('\n')
    .filter((l) => l.includes('"scaled"'))
    .map((l) => JSON.parse(l) as { service: string; from: number; to: number })
    .map(({ service, from, to }) => ({ service, from, to }));
}

/** Sequential GETs through `port` until stopped (at most `maxMs`): how many were answered, how
 * many failed and why. */
export function requestLoop(port: number, maxMs = 30_000) {
  let stop = false;
  const counts = { ok: 0, failed: 0, errors: [] as string[] };
  const done = (async () => {
    const end = Date.now() + maxMs;
    while (!stop && Date.now() < end) {
      const r = await httpGet(port).catch((e: Error) => ({ status: 0, body: e.message }));
      if (r.status === 200) counts.ok++;
      else {
        counts.failed++;
        counts.errors.push(`${r.status} ${r.body.slice(0, 80)}`);
      }
    }
  })();
  return {
    counts,
    stop: async () => {
      stop = true;
      await done;
    },
  };
}

/** The pid of a stack's proxy primary: `herd-proxy …` with `stateDir` in its environment. */
export function proxyPrimaryOf(stateDir: string): number {
  for (const e of readdirSync('/proc')) {
    if (!/^\d+$/.test(e)) continue;
    const pid = Number(e);
    let cmd: string;
    try {
      cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    } catch {
      continue;
    }
    if (cmd.startsWith('herd-proxy') && readEnviron(pid)?.get('HERD_STATE_DIR') === stateDir)
      return pid;
  }
  throw new Error(`no proxy process for the stack in ${stateDir}`);
}

/** `herd ARGS` (a shell command line) under `script`, in a pseudo-terminal of its own: its output
 * as the terminal shows it (\r\n line ends), without the `^@` the terminal may echo when
 * `script` passes on the end of its (empty) input while herd has the terminal in raw mode —
 * something a user's terminal never sends. */
export function inTerminal(b: Sandbox, args: string): string {
  const r = spawnSync('script', ['-qec', `'${process.execPath}' '${HERD}' ${args}`, '/dev/null'], {
    cwd: b.dir,
    env: b.env,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.status !== 0) throw new Error(`herd ${args} exited ${r.status}\n${r.stdout}${r.stderr}`);
  return r.stdout.replaceAll('^@', '');
}
