import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, it } from 'node:test';
import { isSameProcess, parseStat, processStartTime } from '../../src/util/process-identity.ts';

describe('process identity', () => {
  it('parses /proc stat text whose command name holds spaces and parens', () => {
    const fields = Array.from({ length: 50 }, (_, i) => String(i + 3));
    fields[0] = 'S';
    const s = parseStat(`1234 (my (odd) name) ${fields.join(' ')}`);
    assert.equal(s?.pid, 1234);
    assert.equal(s?.comm, 'my (odd) name');
    assert.equal(s?.ppid, 4);
    assert.equal(s?.pgid, 5);
    assert.equal(s?.utime, 14);
    assert.equal(s?.stime, 15);
    assert.equal(s?.startTime, 22);
  });

  it('recognises a live process by pid + start time, and rejects a wrong start time', async () => {
    const child = spawn('sleep', ['30']);
    try {
      const start = processStartTime(child.pid!);
      assert.ok(start !== undefined && start > 0);
      assert.equal(isSameProcess(child.pid!, start), true);
      // A reused PID looks exactly like this: same number, different start time.
      assert.equal(isSameProcess(child.pid!, start + 1), false);
    } finally {
      child.kill('SIGKILL');
      await once(child, 'exit');
    }
    assert.equal(isSameProcess(child.pid!, processStartTime(process.pid)!), false);
  });

  it('a process that is gone is not the same process', async () => {
    const child = spawn('true');
    const start = processStartTime(child.pid!);
    await once(child, 'exit');
    assert.equal(isSameProcess(child.pid!, start ?? 0), false);
  });
});
