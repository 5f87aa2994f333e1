// One Docker engine for a test run. The first test file that needs it starts `dockerd` with its
// own data/exec roots and a socket under os.tmpdir(); later files reuse it while it answers. Each
// user (a scripts/test.js run, else a test file run alone) registers; the last one to release it
// stops it and removes its folder, so a run leaves neither a process nor a dir behind.
// HERD_TEST_DOCKER_HOST=unix:///path uses an engine you already run instead. A missing engine
// fails the tests with what to install — never skips.
import Dockerode from 'dockerode';
import { spawn, spawnSync } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterFile } from './file-end.ts';
import { pidAlive } from './wait.ts';

/** Shared by concurrent runs (two engines would fight over the docker0 bridge): scripts/test.js
 * names it, as each run's TMPDIR is its own. */
export const DOCKERD_DIR = process.env.HERD_TEST_DOCKERD_DIR ?? join(tmpdir(), 'herd-test-dockerd');
const USERS_DIR = join(DOCKERD_DIR, 'users');
const LOCK = join(DOCKERD_DIR, 'start.lock');
const START_TIMEOUT_MS = 60_000;

export interface TestDockerd {
  socketPath: string;
  docker: Dockerode;
}

let shared: Promise<TestDockerd> | undefined;

export function ensureDockerd(): Promise<TestDockerd> {
  shared ??= startOrReuse();
  return shared;
}

/** Who holds the engine: the scripts/test.js run this process belongs to, else this process. */
function userPid(): number {
  return Number(process.env.HERD_TEST_RUNNER_PID) || process.pid;
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
    return { socketPath, docker };
  }

  const socketPath = join(DOCKERD_DIR, 'docker.sock');
  const docker = new Dockerode({ socketPath });
  const handle = { socketPath, docker };
  // Under the lock, so that a release either sees this user or is over (engine stopped) before.
  await withLock(async () => {
    mkdirSync(USERS_DIR, { recursive: true });
    writeFileSync(join(USERS_DIR, String(userPid())), `${process.pid}\n`);
  });
  // A file run alone releases at its end; under scripts/test.js the run releases once at the end.
  if (!process.env.HERD_TEST_RUNNER_PID) afterFile(releaseOrFail);
  if (await answers(docker)) return handle;

  // Test files run in parallel: only the one holding the lock starts dockerd, the rest wait.
  const deadline = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (await answers(docker)) return handle;
    if (takeLock()) {
      try {
        await launchDockerd(docker);
        return handle;
      } finally {
        rmSync(LOCK, { force: true });
      }
    }
    await sleep(250);
  }
  throw new Error(
    failureMessage(`dockerd did not answer at ${socketPath} within ${START_TIMEOUT_MS / 1000} s`),
  );
}

async function withLock<T>(fn: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + START_TIMEOUT_MS + 5000;
  while (!takeLock()) {
    if (Date.now() > deadline) throw new Error(`could not take ${LOCK} in time`);
    await sleep(100);
  }
  try {
    return await fn();
  } finally {
    rmSync(LOCK, { force: true });
  }
}

function takeLock(): boolean {
  try {
    mkdirSync(DOCKERD_DIR, { recursive: true });
    closeSync(openSync(LOCK, 'wx'));
    return true;
  } catch {
    // A lock left by a crashed run is taken over once it is clearly stale.
    try {
      if (Date.now() - statSync(LOCK).mtimeMs > START_TIMEOUT_MS) rmSync(LOCK, { force: true });
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
  mkdirSync(join(DOCKERD_DIR, 'tmp'), { recursive: true });
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
    { detached: true, stdio: ['ignore', log, log], env: engineEnv() },
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

function engineEnv(): NodeJS.ProcessEnv {
  // Its own temp folder: the run's TMPDIR goes away with the run, the engine may not.
  const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: join(DOCKERD_DIR, 'tmp') };
  // Not marked as this run's: the engine may outlive the run, for another run that uses it.
  delete env.HERD_TEST_RUN;
  delete env.HERD_TEST_RUNNER_PID;
  return env;
}

/** Drops this user's hold on the engine; the last user stops it and removes its folder. Returns
 * the containers that were still there (tests should leave none). */
export async function releaseDockerd(): Promise<string[]> {
  if (process.env.HERD_TEST_DOCKER_HOST) return [];
  let stopped = false;
  const left = await withLock(async () => {
    rmSync(join(USERS_DIR, String(userPid())), { force: true });
    if (liveUsers().length > 0) return [];
    const docker = new Dockerode({ socketPath: join(DOCKERD_DIR, 'docker.sock') });
    const containers = (await answers(docker)) ? await docker.listContainers({ all: true }) : [];
    await stopDockerd();
    for (const entry of readdirSync(DOCKERD_DIR)) {
      const path = join(DOCKERD_DIR, entry);
      if (path !== LOCK) rmSync(path, { recursive: true, force: true, maxRetries: 5 });
    }
    stopped = true;
    return containers.map((c) => `${c.Names.join(',')} (${c.State})`);
  });
  shared = undefined;
  // Empty now, unless another run came to start the engine again meanwhile.
  if (stopped) {
    try {
      rmdirSync(DOCKERD_DIR);
    } catch {
      // Taken again by another run.
    }
  }
  return left;
}

async function releaseOrFail(): Promise<void> {
  const left = await releaseDockerd();
  if (left.length > 0) throw new Error(`containers left behind: ${left.join(', ')}`);
}

function liveUsers(): string[] {
  try {
    return readdirSync(USERS_DIR).filter((pid) => pidAlive(Number(pid)));
  } catch {
    return []; // nobody registered
  }
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
      return;
    }
    await sleep(100);
  }
  throw new Error(`dockerd (pid ${pid}) did not stop within 15 s`);
}
