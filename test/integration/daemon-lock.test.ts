// One daemon per project: a lock the kernel holds (an abstract unix socket) for as long as the
// process lives, named after a private key in the state dir. Real processes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { acquireDaemonLock } from '../../src/daemon/daemon-lock.ts';
import { prepareDaemon } from '../../src/daemon/session.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { testProject, testService } from '../helpers/daemon-transport-fake.ts';
import { waitUntil } from '../helpers/wait.ts';

const CHILD = fileURLToPath(new URL('../helpers/lock-child.ts', import.meta.url));

function lockChild(dir: string, mode: 'hold' | 'once'): { child: ChildProcess; out: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, mode], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  return { child, out: () => out };
}

const exited = (c: ChildProcess): Promise<number | null> =>
  c.exitCode !== null ? Promise.resolve(c.exitCode) : new Promise((r) => c.once('exit', r));

describe('the daemon lock', () => {
  let dir: string;
  const children: ChildProcess[] = [];

  before(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'herd-lock-'));
  });

  after(() => {
    for (const c of children) c.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('two processes racing for it: exactly one wins, the other gets CONFLICT', async () => {
    const racers = [lockChild(dir, 'hold'), lockChild(dir, 'hold')];
    children.push(...racers.map((r) => r.child));
    const outs = await waitUntil(
      'both answered',
      () => {
        const o = racers.map((r) => r.out().trim());
        return o.every(Boolean) ? o : undefined;
      },
      20_000,
    );
    assert.deepEqual(outs.filter((o) => o === 'locked').length, 1, outs.join(' | '));
    const loser = outs.find((o) => o !== 'locked')!;
    assert.match(
      loser,
      /^CONFLICT a herd daemon for project shop is already running or starting \(another one holds its lock\)/,
    );
    assert.equal(statSync(path.join(dir, 'daemon.key')).mode & 0o777, 0o600);
    // The winner is killed as a crash would: the lock is free at once.
    const winner = racers[outs.indexOf('locked')]!.child;
    await assert.rejects(acquireDaemonLock(dir, 'shop'), { code: 'CONFLICT' });
    winner.kill('SIGKILL');
    await exited(winner);
    const lock = await acquireDaemonLock(dir, 'shop');
    const other = lockChild(dir, 'once');
    children.push(other.child);
    await exited(other.child);
    assert.match(other.out(), /^CONFLICT /);
    lock.release();
  });

  it('does not keep a process running by itself', async () => {
    const c = lockChild(dir, 'once');
    children.push(c.child);
    assert.equal(await exited(c.child), 0);
    assert.equal(c.out(), 'locked\n');
  });

  it('another state dir has another lock', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'herd-lock2-'));
    try {
      const a = await acquireDaemonLock(dir, 'shop');
      const b = await acquireDaemonLock(other, 'shop');
      a.release();
      b.release();
      assert.notEqual(
        readFileSync(path.join(dir, 'daemon.key'), 'utf8'),
        readFileSync(path.join(other, 'daemon.key'), 'utf8'),
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('refuses a key file others may write, and a damaged one', async () => {
    const other = mkdtempSync(path.join(os.tmpdir(), 'herd-lock3-'));
    const key = path.join(other, 'daemon.key');
    try {
      writeFileSync(key, 'x'.repeat(64));
      chmodSync(key, 0o600);
      await assert.rejects(acquireDaemonLock(other, 'shop'), /daemon\.key is damaged; remove it/);
      writeFileSync(key, 'ab'.repeat(32));
      chmodSync(key, 0o666);
      await assert.rejects(
        acquireDaemonLock(other, 'shop'),
        /refusing state file .*daemon\.key: it is writable by other users/,
      );
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });

  it('prepareDaemon holds it until the session closes', async () => {
    const paths = daemonPaths(mkdtempSync(path.join(os.tmpdir(), 'herd-lock4-')));
    const project = testProject('shop', [testService('web')]);
    const session = await prepareDaemon(project, { paths });
    try {
      const c = lockChild(paths.dir, 'once');
      children.push(c.child);
      await exited(c.child);
      assert.match(c.out(), /^CONFLICT /);
    } finally {
      await session.close();
    }
    const again = await acquireDaemonLock(paths.dir, 'shop');
    again.release();
    rmSync(paths.dir, { recursive: true, force: true });
  });
});
