// Adoption of process replicas with real processes: a "daemon" (test/helpers/runtime-child.ts,
// the real ProcessRuntime in a child process) starts a replica and is kill -9'd; a new
// AdoptionPool takes the replica over — same process, output continued without a gap, its cgroup
// kept — or refuses it: a reused PID, a forged record, a changed definition, a slot nobody wants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AdoptedReplica } from '../../src/runtime/process/adopted-replica.ts';
import { AdoptionPool } from '../../src/runtime/process/adoption.ts';
import { cgroups } from '../../src/runtime/process/cgroups.ts';
import { captureFiles } from '../../src/runtime/process/output-files.ts';
import { recordFile } from '../../src/runtime/process/replica-record.ts';
import type { OutputStream, ReplicaSpec } from '../../src/runtime/types.ts';
import { processStartTime, readStat } from '../../src/util/process-identity.ts';
import { tempDir } from '../helpers/tmp.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const CHILD = new URL('../helpers/runtime-child.ts', import.meta.url).pathname;
const PROJECT = `adopt${process.pid}`;
/** Prints `tick <n>` every 40 ms, forever. */
const TICKER = 'let n = 0; setInterval(() => console.log("tick " + n++), 40);';

function spec(dir: string, index: number, definition = 'd1'): ReplicaSpec {
  return {
    project: PROJECT,
    service: 'web',
    index,
    name: `${PROJECT}-web-${index}`,
    command: [process.execPath, '-e', TICKER],
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HERD_PROJECT: PROJECT,
      HERD_SERVICE: 'web',
    },
    cwd: dir,
    port: 40000 + index,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 2000,
    memoryLimitBytes: 256 * 1024 * 1024,
    definition,
  };
}

interface Dead {
  pid: number;
  pids: number[];
  /** Lines the dead daemon had passed on (`<stream> <line>`). */
  seen: string[];
}

/** Starts the replicas in a child "daemon", waits for `lines` lines, then kill -9s the daemon. */
async function startThenKillDaemon(dir: string, s: ReplicaSpec[], lines = 5): Promise<Dead> {
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', CHILD, dir, ...s.map((x) => JSON.stringify(x))],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const seen: string[] = [];
  const pids: number[] = [];
  let partial = '';
  child.stdout!.on('data', (d: Buffer) => {
    const all = (partial + d.toString()).split('\n');
    partial = all.pop()!;
    for (const l of all) {
      if (l.startsWith('pid ')) pids.push(Number(l.slice(4)));
      else if (l.startsWith('out ')) seen.push(l.slice(4));
    }
  });
  await waitUntil('the first daemon passed lines on', () => seen.length >= lines, 15_000);
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  assert.ok(pids.length === s.length && pids.every(pidAlive), 'the replicas outlive their daemon');
  return { pid: pids[0]!, pids, seen };
}

function pool(dir: string, sink: [string, OutputStream, string][] = []): AdoptionPool {
  return AdoptionPool.load({
    dir,
    project: PROJECT,
    cgroups,
    processServices: new Set(['web']),
    sink: (name, stream, line) => sink.push([name, stream, line]),
  });
}

/** Running, not a zombie init has yet to reap. */
const running = (pid: number) => (readStat(pid)?.state ?? 'Z') !== 'Z';

const ticks = (lines: string[]) =>
  lines.filter((l) => l.startsWith('stdout tick ')).map((l) => Number(l.split(' ')[2]));

function killQuietly(pid: number): void {
  try {
    process.kill(-pid, 'SIGKILL');
  } catch {
    // gone
  }
}

test('a live replica is adopted: the same process, its output continued without a gap, its cgroup kept; its later exit is a failure with an unknown code', async () => {
  assert.ok(
    cgroups.available().includes('memory'),
    'this test needs a writable memory cgroup (v1 or v2), as CI has',
  );
  const dir = tempDir('adopt-live');
  const s = spec(dir, 1);
  const dead = await startThenKillDaemon(dir, [s]);
  try {
    const p = pool(dir);
    assert.deepEqual(p.pids(), [dead.pid]);
    // What an orphan sweep would kill (a cgroup whose maker is dead) was claimed first.
    await cgroups.sweep(PROJECT);
    assert.ok(pidAlive(dead.pid), 'the sweep left the adopted replica alone');
    const handle = await p.take(s);
    assert.ok(handle, 'adopted');
    assert.equal(handle.pid, dead.pid);
    assert.deepEqual(handle.address, { host: '127.0.0.1', port: 40001 });
    const after: string[] = [];
    handle.onOutput((stream, line) => after.push(`${stream} ${line}`));
    await waitUntil('output continues', () => after.length >= 5, 10_000);
    // No tick lost across the daemon's death (a few may come twice: the position is saved
    // every 250 ms).
    const all = [...new Set([...ticks(dead.seen), ...ticks(after)])].sort((a, b) => a - b);
    assert.deepEqual(
      all,
      all.map((_, i) => i),
      'ticks 0..n, none missing',
    );
    const twice = ticks(after).filter((n) => ticks(dead.seen).includes(n)).length;
    assert.ok(twice <= 10, `${twice} lines came twice`);

    process.kill(dead.pid, 'SIGKILL');
    const exit = await handle.exited;
    assert.deepEqual(exit, { exitCode: 255, codeUnknown: true });
    assert.ok(!existsSync(recordFile(dir, s.name)), 'its record is gone');
    assert.ok(!existsSync(captureFiles(dir, s.name).stdout), 'its output files are gone');
  } finally {
    killQuietly(dead.pid);
  }
});

test('a reused PID is never adopted nor signalled, and a forged record naming a stranger neither', async () => {
  const dir = tempDir('adopt-reused');
  const s = spec(dir, 1);
  const dead = await startThenKillDaemon(dir, [s], 2);
  killQuietly(dead.pid);
  await waitUntil('the replica is gone', () => !pidAlive(dead.pid), 5000);
  const stranger = spawn('sleep', ['30'], { stdio: 'ignore', detached: true });
  try {
    const file = recordFile(dir, s.name);
    const record = JSON.parse(readFileSync(file, 'utf8')) as { pid: number; startTime: number };
    // The stranger has the replica's PID now (as a reused one would), not its start time.
    writeFileSync(file, JSON.stringify({ ...record, pid: stranger.pid }));
    const sink: [string, OutputStream, string][] = [];
    const p = pool(dir, sink);
    assert.deepEqual(p.pids(), [], 'nothing to adopt');
    const handle = await p.take(s);
    assert.ok(handle, 'the slot learns that its replica ended while no daemon watched');
    assert.deepEqual(await handle.exited, { exitCode: 255, codeUnknown: true });
    assert.ok(pidAlive(stranger.pid!), 'the stranger was not signalled');
    assert.ok(!existsSync(file), 'the record is gone');

    // A record with the stranger's true start time: the same process, but not herd's.
    const again = spec(dir, 2);
    const forged = { ...record, name: again.name, index: 2, pid: stranger.pid };
    writeFileSync(
      recordFile(dir, again.name),
      JSON.stringify({ ...forged, startTime: processStartTime(stranger.pid!) }),
    );
    const q = pool(dir);
    assert.deepEqual(q.pids(), []);
    await q.releaseUnclaimed();
    assert.ok(pidAlive(stranger.pid!), 'a forged record gets no one signalled');
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('an adopted replica whose PID has come to lead another process group never signals it', async () => {
  const dir = tempDir('adopt-reused-later');
  // Stands for a process that took the PID of an adopted replica that ended between two looks
  // at /proc: a group leader of its own, same PID, another start time.
  const stranger = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  try {
    const startTime = readStat(stranger.pid!)!.startTime;
    const replica = new AdoptedReplica(
      {
        project: PROJECT,
        service: 'web',
        index: 9,
        name: `${PROJECT}-web-9`,
        pid: stranger.pid!,
        startTime: startTime - 1,
        startedAt: Date.now(),
      },
      { dir, stopSignal: 'SIGTERM', stopGracePeriodMs: 500, alive: true },
    );
    replica.kill('SIGKILL');
    await replica.pause();
    assert.deepEqual(await replica.stop(), { exitCode: 255, codeUnknown: true });
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(readStat(stranger.pid!)?.state, 'S', 'the stranger runs on, never stopped');
  } finally {
    stranger.kill('SIGKILL');
  }
});

test('a replica of a changed definition is stopped, one nobody takes over is stopped at the end; their output goes to the logs', async () => {
  const dir = tempDir('adopt-changed');
  const dead = await startThenKillDaemon(dir, [spec(dir, 1), spec(dir, 2)]);
  const [one, two] = dead.pids.map((pid) => ({ pid })) as [{ pid: number }, { pid: number }];
  try {
    const sink: [string, OutputStream, string][] = [];
    const p = pool(dir, sink);
    assert.deepEqual(p.pids().sort(), [one.pid, two.pid].sort());
    const handle = await p.take(spec(dir, 1, 'd2'));
    assert.equal(handle, undefined, 'a new definition: start a new replica');
    assert.ok(!running(one.pid), 'the old one was stopped');
    assert.deepEqual(await p.releaseUnclaimed(), [`${PROJECT}-web-2`]);
    assert.ok(!running(two.pid), 'the unclaimed one was stopped');
    const names = new Set(sink.map(([n]) => n));
    assert.deepEqual([...names].sort(), [`${PROJECT}-web-1`, `${PROJECT}-web-2`]);
    assert.deepEqual(
      readdirSync(dir).filter((f) => !f.startsWith('.')),
      [],
      'records and output files are gone',
    );
  } finally {
    dead.pids.forEach(killQuietly);
  }
});

test('records are read only for this project, and a torn record is skipped', async () => {
  const dir = tempDir('adopt-torn');
  writeFileSync(join(dir, `${PROJECT}-web-1.replica.json`), '{"project": "');
  writeFileSync(
    join(dir, `other-web-1.replica.json`),
    JSON.stringify({ ...spec(dir, 1), project: 'other', name: 'other-web-1', pid: process.pid }),
  );
  const p = pool(dir);
  assert.equal(p.size, 0);
  assert.equal(await p.take(spec(dir, 1)), undefined);
});
