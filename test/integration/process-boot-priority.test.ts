// A process replica boots at a low priority (its session's autogroup nice) and gets the normal
// one back once ready; where the kernel has no autogroups nothing is changed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import { BOOT_NICE, booted } from '../../src/runtime/process/boot-priority.ts';
import { autogroupNice, autogroupsActive, setAutogroupNice } from '../../src/util/autogroup.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('boot-prio');

function spec(): ReplicaSpec {
  return {
    project: 'p',
    service: 's',
    index: 1,
    name: 'p-s-1',
    command: ['sleep', '30'],
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 2000,
  };
}

test('a replica boots at BOOT_NICE in a session of its own, and is back at 0 once ready', async () => {
  const h = await new ProcessRuntime({ bootPriority: true }).start(spec());
  try {
    assert.ok(h.pid);
    if (!autogroupsActive()) {
      // No autogroups: nothing to set, and saying so is the whole contract.
      assert.equal(setAutogroupNice(h.pid, BOOT_NICE), false);
      return;
    }
    const mine = readFileSync('/proc/self/autogroup', 'latin1').split(' ')[0];
    const its = readFileSync(`/proc/${h.pid}/autogroup`, 'latin1').split(' ')[0];
    assert.notEqual(its, mine, 'the replica leads a session (autogroup) of its own');
    assert.equal(autogroupNice(h.pid), BOOT_NICE);
    booted(h.pid);
    assert.equal(autogroupNice(h.pid), 0);
  } finally {
    await h.stop(100);
  }
});

test('a replica a dead daemon left booting (adopted) is set back to 0 when it is ready', async () => {
  // Started without boot priority by this runtime, then lowered by hand: as a replica whose
  // daemon was killed while it booted looks to the daemon that adopts it.
  const h = await new ProcessRuntime({}).start(spec());
  try {
    assert.ok(h.pid);
    if (!autogroupsActive()) {
      // No autogroups: nothing was lowered, nothing to read back, and booted() is a no-op.
      assert.equal(autogroupNice(h.pid), undefined);
      booted(h.pid);
      return;
    }
    assert.ok(setAutogroupNice(h.pid, BOOT_NICE));
    booted(h.pid);
    assert.equal(autogroupNice(h.pid), 0);
    // One at another nice (the user's own choice) is left alone.
    assert.ok(setAutogroupNice(h.pid, 3));
    booted(h.pid);
    assert.equal(autogroupNice(h.pid), 3);
  } finally {
    await h.stop(100);
  }
});
