import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { groupMembers } from '../../src/util/process-identity.ts';
import { groupProcesses, groupStats, UsageSampler } from '../../src/daemon/proc-stats.ts';

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('replica CPU and memory from /proc', () => {
  it('sums a process group, and measures a busy group above an idle one', async () => {
    // A replica group with a bounded busy loop (2 s) and an idle sleeper; and an idle group.
    const busy = spawn(
      'sh',
      [
        '-c',
        `sleep 5 & exec ${JSON.stringify(process.execPath)} -e "const e=Date.now()+2000; while (Date.now()<e);"`,
      ],
      { detached: true, stdio: 'ignore' },
    );
    const idle = spawn('sleep', ['5'], { detached: true, stdio: 'ignore' });
    try {
      await waitFor(() => groupMembers(busy.pid!).length === 2);
      const stats = groupStats([busy.pid!, idle.pid!]);
      const b = stats.get(busy.pid!)!;
      assert.deepEqual([...b.pids].sort(), groupMembers(busy.pid!).sort());
      assert.ok(b.rssBytes > 10 * 1024 * 1024, 'node + sleep RSS summed');
      assert.ok(stats.get(idle.pid!)!.rssBytes > 0);

      const sampler = new UsageSampler(300);
      const usage = await sampler.sample([busy.pid!, idle.pid!]);
      const busyCpu = usage.get(busy.pid!)!.cpuPercent;
      const idleCpu = usage.get(idle.pid!)!.cpuPercent;
      // The machine is shared, so only the order and a low floor are asserted.
      assert.ok(busyCpu > 5, `busy group at ${busyCpu}%`);
      assert.ok(idleCpu < busyCpu, `idle ${idleCpu}% < busy ${busyCpu}%`);

      const procs = groupProcesses(busy.pid!);
      assert.equal(procs.length, 2);
      assert.ok(procs.some((p) => p.command.startsWith('sleep 5')));
      assert.ok(procs.every((p) => p.uid === process.getuid!()));
    } finally {
      for (const pid of [busy.pid!, idle.pid!])
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          // already gone
        }
    }
  });
});
