// The process runtime against real child processes: groups, signals, output, limits, users.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, existsSync, writeFileSync, chmodSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import type { ReplicaSpec } from '../../src/runtime/types.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';
import { tempDir } from '../helpers/tmp.ts';

const runtime = new ProcessRuntime();
const dir = tempDir('proc');

function spec(command: string[], over: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    project: 'p',
    service: 's',
    index: 1,
    name: 'p-s-1',
    command,
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 2000,
    ...over,
  };
}

test('captures stdout and stderr line by line, flushing a partial last line', async () => {
  const h = await runtime.start(
    spec([process.execPath, '-e', 'process.stdout.write("a\\nb\\r\\nc"); console.error("err")']),
  );
  const lines: string[] = [];
  h.onOutput((s, l) => lines.push(`${s}:${l}`));
  const exit = await h.exited;
  assert.equal(exit.exitCode, 0);
  assert.deepEqual(
    lines.filter((l) => l.startsWith('stdout')),
    ['stdout:a', 'stdout:b', 'stdout:c'],
  );
  assert.ok(lines.includes('stderr:err'));
});

test('runs in the working dir with the given env and reports the exit code', async () => {
  const h = await runtime.start(
    spec([process.execPath, '-e', 'console.log(process.cwd(), process.env.FOO); process.exit(3)'], {
      env: { FOO: 'bar' },
    }),
  );
  const lines: string[] = [];
  h.onOutput((_s, l) => lines.push(l));
  assert.equal((await h.exited).exitCode, 3);
  assert.deepEqual(lines, [`${dir} bar`]);
});

test('a signalled exit is reported as 128 + signal number', async () => {
  const h = await runtime.start(spec(['sleep', '30']));
  assert.ok(h.pid);
  process.kill(h.pid, 'SIGKILL');
  const exit = await h.exited;
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.signal, 'SIGKILL');
});

test('a missing command resolves exited with a clear startError', async () => {
  const h = await runtime.start(spec(['herd-no-such-command-xyz']));
  const exit = await h.exited;
  assert.equal(exit.exitCode, 127);
  assert.match(exit.startError ?? '', /^command not found: herd-no-such-command-xyz \(PATH=/);
  assert.equal(h.startError, exit.startError);
});

test('a non-executable file resolves exited with "not executable"', async () => {
  const file = join(dir, 'notexec.sh');
  writeFileSync(file, '#!/bin/sh\necho hi\n');
  chmodSync(file, 0o644);
  const h = await runtime.start(spec([file]));
  const exit = await h.exited;
  assert.match(exit.startError ?? '', /^not executable: /);
});

test('stop sends the stop signal, which the child sees', async () => {
  const marker = join(dir, 'got-signal');
  const code = `process.on('SIGUSR1', () => { require('fs').writeFileSync(${JSON.stringify(marker)}, 'USR1'); process.exit(0); }); console.log('up'); setInterval(() => {}, 1000);`;
  const h = await runtime.start(spec([process.execPath, '-e', code], { stopSignal: 'SIGUSR1' }));
  await new Promise<void>((r) => h.onOutput(() => r()));
  const exit = await h.stop();
  assert.equal(exit.exitCode, 0);
  assert.equal(readFileSync(marker, 'utf8'), 'USR1');
});

test('stop escalates to SIGKILL after the grace period when SIGTERM is ignored', async () => {
  const code = `process.on('SIGTERM', () => console.log('ignoring')); console.log('up'); setInterval(() => {}, 1000);`;
  const h = await runtime.start(spec([process.execPath, '-e', code], { stopGracePeriodMs: 400 }));
  const lines: string[] = [];
  await new Promise<void>((r) => h.onOutput((_s, l) => (lines.push(l), r())));
  const t0 = Date.now();
  const exit = await h.stop();
  const took = Date.now() - t0;
  assert.equal(exit.exitCode, 137);
  assert.ok(took >= 350, `stopped after ${took} ms, before the grace period`);
  assert.ok(took < 3000, `took ${took} ms`);
  assert.ok(lines.includes('ignoring'));
});

test('stop kills grandchildren, even ones that ignore the stop signal', async () => {
  const script = join(dir, 'spawner.sh');
  writeFileSync(script, '#!/bin/sh\nsh -c \'trap "" TERM; sleep 60\' &\necho "gc $!"\nwait\n');
  chmodSync(script, 0o755);
  const h = await runtime.start(spec([script], { stopGracePeriodMs: 500 }));
  const gc = await new Promise<number>((r) =>
    h.onOutput((_s, l) => {
      const m = /^gc (\d+)/.exec(l);
      if (m) r(Number(m[1]));
    }),
  );
  assert.ok(pidAlive(gc));
  await h.stop();
  await waitUntil('grandchild gone', () => !pidAlive(gc), 3000);
});

test('a group over its memory limit is killed: exit 137, oomKilled', async () => {
  const code = `const a = []; setInterval(() => { a.push(Buffer.alloc(8 << 20, 1)); }, 20);`;
  const h = await runtime.start(
    spec([process.execPath, '-e', code], { memoryLimitBytes: 96 * 1024 * 1024 }),
  );
  const exit = await h.exited;
  assert.equal(exit.exitCode, 137);
  assert.equal(exit.oomKilled, true);
});

test('uid/gid: runs as the postgres user', { timeout: 10_000 }, async () => {
  const { resolveUser } = await import('../../src/runtime/process/user.ts');
  const ids = resolveUser('postgres', 'db');
  assert.notEqual(ids.uid, 0);
  const h = await runtime.start(spec(['id', '-u'], { cwd: '/tmp', ...ids }));
  const lines: string[] = [];
  h.onOutput((_s, l) => lines.push(l));
  assert.equal((await h.exited).exitCode, 0);
  assert.deepEqual(lines, [String(ids.uid)]);
  assert.ok(existsSync('/etc/passwd'));
});
