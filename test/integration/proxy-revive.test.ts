// A proxy primary given a revive command starts the daemon again when the process that
// registered as the daemon is gone: detached, output appended to the log, its own environment
// minus the proxy's config; with a backoff, never two at once, and never while the daemon lives.
// Real processes: the primary, stand-in daemons, the commands it starts.
import { afterEach, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_HTTP_LIMITS } from '../../src/proxy/http-limits.ts';
import type { ReviveCommand } from '../../src/proxy/process/protocol.ts';
import type { ReviveTiming } from '../../src/proxy/process/revive.ts';
import { spawnPrimary } from '../../src/proxy/process/spawn-primary.ts';
import { processStartTime, readEnviron, readStat } from '../../src/util/process-identity.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const FAKE = fileURLToPath(new URL('../helpers/fake-daemon.ts', import.meta.url));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Process groups to end after each test (primaries, the daemons they started). */
const groups = new Set<number>();
const dirs: string[] = [];

afterEach(() => {
  for (const pid of groups) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  groups.clear();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function primaryWith(revive: (dir: string) => ReviveCommand, timing?: Partial<ReviveTiming>) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'herd-revive-'));
  dirs.push(dir);
  const socket = path.join(dir, 'proxy.sock');
  const pid = await spawnPrimary(
    {
      name: 'revive-test',
      socket,
      workers: 1,
      settings: { limits: DEFAULT_HTTP_LIMITS, sniffMs: 300, upstreamIdleMs: 4000, slowStartMs: 0 },
      orphanMs: 60_000,
      revive: revive(dir),
      ...(timing ? { reviveTiming: timing } : {}),
    },
    process.env,
  );
  groups.add(pid);
  return { dir, socket, pid, marker: path.join(dir, 'marker'), log: path.join(dir, 'daemon.log') };
}

/** Lines of the marker file: `<pid> <ms>` per daemon started. */
function marks(marker: string): { pid: number; at: number }[] {
  if (!existsSync(marker)) return [];
  return readFileSync(marker, 'utf8')
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => {
      const [pid, at] = l.split(' ').map(Number);
      return { pid: pid!, at: at! };
    });
}

/** Registers `pid` as the daemon over a connection of its own, then drops the connection. */
async function registerAndLeave(
  socket: string,
  pid: number,
  startTime = processStartTime(pid)!,
): Promise<void> {
  const s = net.connect(socket);
  s.setEncoding('utf8');
  await new Promise<void>((resolve) =>
    s.on('data', (d: string) => d.includes('hello') && resolve()),
  );
  await new Promise<void>((r) => s.end(JSON.stringify({ op: 'daemon', pid, startTime }) + '\n', r));
  await new Promise((r) => s.once('close', r));
}

/** A revive command that marks the marker file and stays, never connecting. */
const markerThatStays = (dir: string): ReviveCommand => ({
  argv: [
    process.execPath,
    '-e',
    `require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'marker'))}, process.pid + ' ' + Date.now() + '\\n'); setInterval(() => {}, 1000)`,
  ],
  cwd: dir,
  log: path.join(dir, 'daemon.log'),
});

const running = (pid: number): boolean => {
  const st = readStat(pid);
  return st !== undefined && st.state !== 'Z';
};

describe('a proxy primary with a revive command', () => {
  it('starts the daemon again when the registered one is killed, and only then', async () => {
    const p = await primaryWith((dir) => ({
      argv: [
        process.execPath,
        '--import',
        import.meta.resolve('tsx'),
        FAKE,
        path.join(dir, 'proxy.sock'),
        path.join(dir, 'marker'),
      ],
      cwd: dir,
      log: path.join(dir, 'daemon.log'),
    }));
    const first = spawn(process.execPath, ['--import', 'tsx', FAKE, p.socket, p.marker], {
      stdio: 'inherit',
    });
    await waitUntil('the first daemon registered', () => marks(p.marker).length === 1, 20_000);
    first.kill('SIGKILL');
    const [, second] = await waitUntil(
      'a daemon started again',
      () => (marks(p.marker).length === 2 ? marks(p.marker) : undefined),
      20_000,
    );
    groups.add(second!.pid);
    const st = readStat(second!.pid)!;
    assert.equal(st.ppid, p.pid, 'started by the primary');
    assert.equal(st.pgid, second!.pid, 'in a session of its own');
    assert.equal(readEnviron(second!.pid)!.has('HERD_PROXY_CONFIG'), false);
    assert.match(
      readFileSync(p.log, 'utf8'),
      new RegExp(`starting the daemon again \\(pid ${first.pid} is gone; attempt 1\\)`),
    );
    // A daemon that is connected is left alone.
    await sleep(1500);
    assert.equal(marks(p.marker).length, 2);
    // Killed again: started again at once (the backoff started over when it connected).
    process.kill(second!.pid, 'SIGKILL');
    const third = await waitUntil('a third daemon', () => marks(p.marker)[2], 20_000);
    groups.add(third.pid);
    assert.ok(running(third.pid));
    assert.match(readFileSync(p.log, 'utf8'), /attempt 2\)/);
  });

  it('waits while the daemon lives though disconnected; backs off a command that fails', async () => {
    const p = await primaryWith((dir) => ({
      argv: [
        process.execPath,
        '-e',
        `require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'marker'))}, process.pid + ' ' + Date.now() + '\\n'); process.exit(1)`,
      ],
      cwd: dir,
      log: path.join(dir, 'daemon.log'),
    }));
    const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
    await registerAndLeave(p.socket, daemon.pid!);
    await sleep(1200);
    assert.deepEqual(marks(p.marker), [], 'nothing started while the daemon lives');
    daemon.kill('SIGKILL');
    await sleep(4500);
    const m = marks(p.marker);
    // 1 s, then 2 s, then 4 s between attempts: 3 in 4.5 s (2 if the box is slow), never a loop.
    assert.ok(m.length >= 2 && m.length <= 4, `${m.length} attempts`);
    assert.ok(m[1]!.at - m[0]!.at >= 900, `first wait ${m[1]!.at - m[0]!.at} ms`);
    if (m[2]) assert.ok(m[2].at - m[1]!.at >= 1900, `second wait ${m[2].at - m[1]!.at} ms`);
    assert.ok(pidAlive(p.pid), 'the primary serves on');
  });

  it('a live process with the PID but another start time is not the daemon (a reused PID)', async () => {
    const p = await primaryWith((dir) => ({
      argv: [
        process.execPath,
        '-e',
        `require('fs').appendFileSync(${JSON.stringify(path.join(dir, 'marker'))}, process.pid + ' ' + Date.now() + '\\n')`,
      ],
      cwd: dir,
      log: path.join(dir, 'daemon.log'),
    }));
    const other = spawn('sleep', ['60'], { stdio: 'ignore' });
    try {
      await registerAndLeave(p.socket, other.pid!, processStartTime(other.pid!)! - 1);
      await waitUntil('the daemon started again', () => marks(p.marker).length >= 1, 10_000);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('never runs two at once: one that does not connect is ended before the next', async () => {
    const p = await primaryWith(markerThatStays, {
      connectWaitMs: 1500,
      killWaitMs: 500,
      firstBackoffMs: 200,
      pollMs: 100,
    });
    const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
    await registerAndLeave(p.socket, daemon.pid!);
    daemon.kill('SIGKILL');
    let most = 0;
    const end = Date.now() + 5000;
    while (Date.now() < end) {
      const live = marks(p.marker).filter((x) => running(x.pid));
      for (const x of live) groups.add(x.pid);
      most = Math.max(most, live.length);
      await sleep(25);
    }
    const m = marks(p.marker);
    assert.equal(most, 1, 'at most one started daemon at a time');
    assert.ok(m.length >= 2 && m.length <= 4, `${m.length} attempts`);
    // Each was given its 1.5 s before the next.
    for (let i = 1; i < m.length; i++) assert.ok(m[i]!.at - m[i - 1]!.at >= 1500);
    assert.match(readFileSync(p.log, 'utf8'), /starting the daemon again/);
  });

  it('ends a daemon it started that has not connected yet when it is told to end (herd down)', async () => {
    const p = await primaryWith(markerThatStays, { connectWaitMs: 30_000, pollMs: 100 });
    const daemon = spawn('sleep', ['60'], { stdio: 'ignore' });
    await registerAndLeave(p.socket, daemon.pid!);
    daemon.kill('SIGKILL');
    const [attempt] = await waitUntil('an attempt started', () => {
      const m = marks(p.marker);
      return m.length > 0 && m;
    });
    groups.add(attempt!.pid);
    // What a daemon ending the stack sends.
    const s = net.connect(p.socket);
    s.resume(); // its hello and answer are read, so its end is seen
    await new Promise<void>((r) => s.once('connect', () => r()));
    s.write(JSON.stringify({ id: 1, op: 'shutdown' }) + '\n');
    await new Promise((r) => s.once('close', r));
    await waitUntil(
      'the primary and its attempt gone',
      () => !running(p.pid) && !running(attempt!.pid),
    );
  });
});
