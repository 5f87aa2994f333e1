// Two `herd up -d` at the same moment on a project with no daemon: the state dir's lock lets one
// daemon start; the other `up` hands its request to that one. One daemon, one set of replicas,
// and both commands succeed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { tinyBox } from '../helpers/tiny-stack.ts';

/** The command lines of the processes working in `dir`. */
function processesIn(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      if (readlinkSync(`/proc/${pid}/cwd`) !== dir) continue;
      found.push(readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' '));
    } catch {
      // gone, or not ours to read
    }
  }
  return found;
}

test('two `herd up -d` at once: one daemon, one replica, both succeed', async () => {
  const box = tinyBox('uprace');
  try {
    const [a, b] = await Promise.all([box.run(['up', '-d']), box.run(['up', '-d'])]);
    assert.equal(a.status, 0, `first up: ${a.stdout}${a.stderr}`);
    assert.equal(b.status, 0, `second up: ${b.stdout}${b.stderr}`);
    // One of them started the daemon; the other lost the lock to it (or found it answering) and
    // applied its `up` to that one.
    const started = [a, b].filter((r) =>
      /herd daemon for uprace started \(pid \d+\)/.test(r.stdout),
    );
    assert.equal(started.length, 1, `${a.stdout}\n---\n${b.stdout}`);
    const procs = processesIn(box.dir);
    assert.equal(
      procs.filter((c) => c.includes('--foreground-daemon')).length,
      1,
      `daemons:\n${procs.join('\n')}`,
    );
    assert.equal(
      procs.filter((c) => c.includes('setInterval')).length,
      1,
      `replicas:\n${procs.join('\n')}`,
    );
    const rows = box.ps(false);
    assert.deepEqual(
      rows.map((r) => [r.Name, r.State]),
      [['uprace-tick-1', 'running']],
    );
  } finally {
    box.cleanup();
  }
});
