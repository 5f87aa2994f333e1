import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { isSameProcess, processStartTime } from '../../src/util/process-identity.ts';
import { stopOrphans } from '../../src/daemon/orphans.ts';
import { groupMembers } from '../../src/util/process-identity.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { prepareDaemon } from '../../src/daemon/session.ts';
import { emptyState, writeState } from '../../src/daemon/state-file.ts';
import { testProject, testService } from '../helpers/daemon-transport-fake.ts';
import { tempDir } from '../helpers/tmp.ts';

/** A replica as the process runtime starts it: its own process group, here a shell with a child,
 * with the HERD_PROJECT and HERD_SERVICE herd gives every replica (none: a process not herd's). */
function spawnGroup(
  script: string,
  service: string | null = 'web',
  project = 'shop',
): ChildProcess {
  const env = { ...process.env };
  if (service !== null) Object.assign(env, { HERD_PROJECT: project, HERD_SERVICE: service });
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore', env });
  child.unref();
  return child;
}

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('orphan cleanup', () => {
  it('stops a recorded replica group whose pid and start time match', async () => {
    const leader = spawnGroup('sleep 60 & sleep 60; wait');
    const pid = leader.pid!;
    await waitFor(() => groupMembers(pid).length >= 3);
    const startTime = processStartTime(pid)!;
    const result = await stopOrphans([{ name: 'shop-web-1', service: 'web', pid, startTime }], {
      project: 'shop',
      graceMs: 2000,
    });
    assert.deepEqual(result, { stopped: ['shop-web-1'], skipped: [] });
    assert.deepEqual(groupMembers(pid), [], 'every process of the group is gone');
  });

  it('escalates to SIGKILL when the group ignores SIGTERM', async () => {
    const leader = spawnGroup('trap "" TERM; sleep 60 & wait; sleep 60');
    const pid = leader.pid!;
    await waitFor(() => groupMembers(pid).length >= 2);
    const t0 = Date.now();
    const result = await stopOrphans(
      [{ name: 'shop-web-1', service: 'web', pid, startTime: processStartTime(pid)! }],
      { project: 'shop', graceMs: 300 },
    );
    assert.deepEqual(result.stopped, ['shop-web-1']);
    assert.deepEqual(groupMembers(pid), []);
    assert.ok(Date.now() - t0 >= 300, 'waited the grace period before SIGKILL');
  });

  it('stops what a dead replica left in its process group', async () => {
    // The shell (the replica) dies; its background sleep lives on in the group, as a server's
    // worker would, holding whatever it held.
    const leader = spawnGroup('sleep 60 & kill -9 $$');
    const pid = leader.pid!;
    await waitFor(() => groupMembers(pid).length >= 1 && processStartTime(pid) === undefined);
    const [child] = groupMembers(pid);
    // Stands for the leader's recorded start time, which can be no later than its child's.
    const recorded = processStartTime(child!)!;
    const result = await stopOrphans(
      [{ name: 'shop-web-1', service: 'web', pid, startTime: recorded }],
      { project: 'shop', graceMs: 2000 },
    );
    assert.deepEqual(result, { stopped: ['shop-web-1'], skipped: [] });
    assert.deepEqual(groupMembers(pid), [], 'the leftover child is gone');
  });

  it('never signals a pid whose start time does not match the record (a reused pid)', async () => {
    // exec: one process from the start, so the membership snapshot below cannot race a fork.
    const bystander = spawnGroup('exec sleep 60');
    const pid = bystander.pid!;
    try {
      await waitFor(() => groupMembers(pid).length >= 1);
      const members = groupMembers(pid);
      const result = await stopOrphans(
        [{ name: 'shop-web-1', service: 'web', pid, startTime: processStartTime(pid)! - 1 }],
        { project: 'shop', graceMs: 300 },
      );
      assert.deepEqual(result, { stopped: [], skipped: ['shop-web-1'] });
      assert.deepEqual(groupMembers(pid), members, 'the unrelated processes are still running');
    } finally {
      process.kill(-pid, 'SIGKILL');
    }
  });

  it('skips records of processes that are already gone', async () => {
    const gone = spawn('true');
    const pid = gone.pid!;
    const startTime = processStartTime(pid) ?? 1;
    await new Promise((r) => gone.once('exit', r));
    const result = await stopOrphans([{ name: 'x-y-1', service: 'y', pid, startTime }], {
      project: 'x',
    });
    assert.deepEqual(result, { stopped: [], skipped: ['x-y-1'] });
  });

  it("a new daemon stops a dead one's processes but leaves its containers to be adopted", async () => {
    // Three groups stand for what a killed daemon recorded: a process replica, a container's
    // main process (service with `image`), and a replica of a service since removed.
    const groups = ['worker', 'web', 'old'].map((svc) => spawnGroup('sleep 60', svc));
    const dir = tempDir('orphans');
    try {
      const [proc, container, removed] = groups.map((g) => g.pid!) as [number, number, number];
      for (const pid of [proc, container, removed])
        await waitFor(() => processStartTime(pid) !== undefined);
      const project = testProject('shop', [
        testService('worker'),
        testService('web', { image: 'node:20-alpine' }),
      ]);
      const paths = daemonPaths(join(dir, 'state'));
      mkdirSync(paths.dir, { mode: 0o700 });
      const record = (name: string, service: string, pid: number) => ({
        name,
        service,
        pid,
        startTime: processStartTime(pid)!,
      });
      writeState(paths.stateFile, {
        ...emptyState('shop'),
        replicas: [
          record('shop-worker-1', 'worker', proc),
          record('shop-web-1', 'web', container),
          record('shop-old-1', 'old', removed),
        ],
      });
      const session = await prepareDaemon(project, { paths, orphanGraceMs: 2000 });
      await session.close();
      assert.deepEqual(session.orphans.stopped.sort(), ['shop-old-1', 'shop-worker-1']);
      assert.deepEqual(groupMembers(proc), []);
      assert.deepEqual(groupMembers(removed), []);
      assert.ok(groupMembers(container).includes(container), 'the container is left running');
    } finally {
      for (const g of groups) {
        try {
          process.kill(-g.pid!, 'SIGKILL');
        } catch {
          // already stopped
        }
      }
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never kills a process a forged state file names, though pid and start time match', async () => {
    // What another user (or a stale file) could plant: a process that is not herd's, and a herd
    // replica of another project, both recorded with their true pid and start time.
    const stranger = spawnGroup('exec sleep 60', null);
    const otherProject = spawnGroup('exec sleep 60', 'web', 'other');
    const dir = tempDir('forged');
    try {
      for (const g of [stranger, otherProject])
        await waitFor(() => processStartTime(g.pid!) !== undefined);
      const paths = daemonPaths(join(dir, 'state'));
      mkdirSync(paths.dir, { mode: 0o700 });
      const record = (name: string, pid: number) => ({
        name,
        service: 'web',
        pid,
        startTime: processStartTime(pid)!,
      });
      writeState(paths.stateFile, {
        ...emptyState('shop'),
        replicas: [record('shop-web-1', stranger.pid!), record('shop-web-2', otherProject.pid!)],
      });
      const session = await prepareDaemon(testProject('shop', [testService('web')]), {
        paths,
        orphanGraceMs: 300,
      });
      await session.close();
      assert.deepEqual(session.orphans.stopped, []);
      assert.deepEqual(session.orphans.skipped.sort(), ['shop-web-1', 'shop-web-2']);
      for (const g of [stranger, otherProject])
        assert.ok(isSameProcess(g.pid!, processStartTime(g.pid!)!), 'still running');
    } finally {
      for (const g of [stranger, otherProject]) process.kill(-g.pid!, 'SIGKILL');
    }
  });

  it('does not believe a state file that is writable by others', async () => {
    const victim = spawnGroup('exec sleep 60', 'web');
    const dir = tempDir('forged');
    try {
      await waitFor(() => processStartTime(victim.pid!) !== undefined);
      const paths = daemonPaths(join(dir, 'state'));
      mkdirSync(paths.dir, { mode: 0o700 });
      writeState(paths.stateFile, {
        ...emptyState('shop'),
        replicas: [
          {
            name: 'shop-web-1',
            service: 'web',
            pid: victim.pid!,
            startTime: processStartTime(victim.pid!)!,
          },
        ],
      });
      chmodSync(paths.stateFile, 0o666);
      await assert.rejects(
        prepareDaemon(testProject('shop', [testService('web')]), { paths, orphanGraceMs: 300 }),
        /refusing state file .*state\.json: it is writable by other users \(unsafe permissions\)/,
      );
      assert.ok(isSameProcess(victim.pid!, processStartTime(victim.pid!)!), 'still running');
    } finally {
      process.kill(-victim.pid!, 'SIGKILL');
    }
  });
});
