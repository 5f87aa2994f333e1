import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { describe, it } from 'node:test';
import { processStartTime } from '../../src/daemon/identity.ts';
import { groupMembers, stopOrphans } from '../../src/daemon/orphans.ts';

/** A replica as the process runtime starts it: its own process group, here a shell with a child. */
function spawnGroup(script: string): ChildProcess {
  const child = spawn('sh', ['-c', script], { detached: true, stdio: 'ignore' });
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
      { graceMs: 300 },
    );
    assert.deepEqual(result.stopped, ['shop-web-1']);
    assert.deepEqual(groupMembers(pid), []);
    assert.ok(Date.now() - t0 >= 300, 'waited the grace period before SIGKILL');
  });

  it('never signals a pid whose start time does not match the record (a reused pid)', async () => {
    const bystander = spawnGroup('sleep 60');
    const pid = bystander.pid!;
    try {
      await waitFor(() => groupMembers(pid).length >= 1);
      const members = groupMembers(pid);
      const result = await stopOrphans(
        [{ name: 'shop-web-1', service: 'web', pid, startTime: processStartTime(pid)! - 1 }],
        { graceMs: 300 },
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
    const result = await stopOrphans([{ name: 'x-y-1', service: 'y', pid, startTime }]);
    assert.deepEqual(result, { stopped: [], skipped: ['x-y-1'] });
  });
});
