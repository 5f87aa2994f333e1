// One Docker engine for the whole test run. The first test file that needs it starts `dockerd`
// with its own data/exec roots and a socket under os.tmpdir(); later files (and later runs) reuse
// it while it answers, and it is left running. HERD_TEST_DOCKER_HOST=unix:///path uses an engine
// you already run instead. A missing engine fails the tests with what to install — never skips.
import Dockerode from 'dockerode';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DOCKERD_DIR = join(tmpdir(), 'herd-test-dockerd');
const START_TIMEOUT_MS = 60_000;

export interface TestDockerd {
  socketPath: string;
  docker: Dockerode;
  /** Stops the shared dockerd (only for a run that wants a clean slate; tests leave it running). */
  stop(): Promise<void>;
}

let shared: Promise<TestDockerd> | undefined;

export function ensureDockerd(): Promise<TestDockerd> {
  shared ??= startOrReuse();
  return shared;
}

async function answers(docker: Dockerode): Promise<boolean> {
  try {
    await Promise.race([
      docker.ping(),
      sleep(2000).then(() => Promise.reject(new Error('timeout'))),
    ]);
    return true;
  } catch {
    return false;
  }
}

async function startOrReuse(): Promise<TestDockerd> {
  const external = process.env.HERD_TEST_DOCKER_HOST;
  if (external) {
    const socketPath = external.replace(/^unix:\/\//, '');
    const docker = new Dockerode({ socketPath });
    if (!(await answers(docker))) {
      throw new Error(`HERD_TEST_DOCKER_HOST=${external}: no Docker engine answers there`);
    }
    return { socketPath, docker, stop: async () => {} };
  }

  mkdirSync(DOCKERD_DIR, { recursive: true });
  const socketPath = join(DOCKERD_DIR, 'docker.sock');
  const docker = new Dockerode({ socketPath });
  const handle = { socketPath, docker, stop: () => stopDockerd() };
  if (await answers(docker)) return handle;

  // Test files run in parallel: only the one holding the lock starts dockerd, the rest wait.
  const lock = join(DOCKERD_DIR, 'start.lock');
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answers(docker)) return handle;
    if (takeLock(lock)) {
      try {
        await launchDockerd(docker);
        return handle;
      } finally {
        rmSync(lock, { force: true });
      }
    }
    await sleep(250);
  }
  throw new Error(
    failureMessage(`dockerd did not answer at ${socketPath} within ${START_TIMEOUT_MS / 1000} s`),
  );
}

function takeLock(lock: string): boolean {
  try {
    closeSync(openSync(lock, 'wx'));
    return true;
  } catch {
    // A lock left by a crashed run is taken over once it is clearly stale.
    try {
      if (Date.now() - statSync(lock).mtimeMs > START_TIMEOUT_MS) rmSync(lock, { force: true });
    } catch {
      // Removed meanwhile by its holder.
    }
    return false;
  }
}

function failureMessage(what: string): string {
  return (
    `${what}. The Docker tests need the Debian package docker.io (dockerd, containerd, runc, iptables) ` +
    `and root; install it with: apt-get install -y docker.io. dockerd's log: ${join(DOCKERD_DIR, 'dockerd.log')}`
  );
}

async function launchDockerd(docker: Dockerode): Promise<void> {
  const which = spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' });
  if (which.status !== 0) throw new Error(failureMessage('dockerd is not installed'));
  if (process.getuid?.() !== 0) throw new Error(failureMessage('dockerd must be started as root'));

  const log = openSync(join(DOCKERD_DIR, 'dockerd.log'), 'a');
  const pidfile = join(DOCKERD_DIR, 'dockerd.pid');
  rmSync(pidfile, { force: true });
  // The default bridge and iptables work in the CI sandbox; user-defined project networks need
  // them for name resolution between containers and for publishing ports on 127.0.0.1.
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      join(DOCKERD_DIR, 'data'),
      '--exec-root',
      join(DOCKERD_DIR, 'exec'),
      '--pidfile',
      pidfile,
      '-H',
      `unix://${join(DOCKERD_DIR, 'docker.sock')}`,
      '--log-level',
      'warn',
    ],
    { detached: true, stdio: ['ignore', log, log] },
  );
  closeSync(log);
  let exitedEarly: string | undefined;
  child.once('exit', (code, signal) => (exitedEarly = `dockerd exited with ${code ?? signal}`));
  child.once('error', (err) => (exitedEarly = `dockerd could not start: ${err.message}`));
  child.unref();
  writeFileSync(
    join(DOCKERD_DIR, 'started-by'),
    `pid ${process.pid} at ${new Date().toISOString()}\n`,
  );

  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (exitedEarly) throw new Error(failureMessage(exitedEarly));
    if (await answers(docker)) return;
    await sleep(200);
  }
  throw new Error(failureMessage(`dockerd did not answer within ${START_TIMEOUT_MS / 1000} s`));
}

async function stopDockerd(): Promise<void> {
  let pid: number;
  try {
    pid = Number(readFileSync(join(DOCKERD_DIR, 'dockerd.pid'), 'utf8').trim());
  } catch {
    return;
  }
  if (!pid) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  for (let i = 0; i < 150; i++) {
    try {
      process.kill(pid, 0);
    } catch {
      shared = undefined;
      return;
    }
    await sleep(100);
  }
  throw new Error(`dockerd (pid ${pid}) did not stop within 15 s`);
}
