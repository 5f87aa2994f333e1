// A verb that finds no daemon but a recorded stack waits for the daemon to come back (the proxy
// revives it, and a `herd up -d` 1.5 s after the kill would too), says so, and then answers. With
// nobody to revive it, it gives up after the wait; with nothing recorded it answers at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  HERD,
  pidAlive,
  proxyPrimaryOf,
  waitFor,
  type Result,
  type Sandbox,
} from '../helpers/e2e.ts';
import { tinyBox } from '../helpers/tiny-stack.ts';

function herdWith(box: Sandbox, env: Record<string, string>, args: string[]): Result {
  const r = spawnSync(process.execPath, [HERD, ...args], {
    cwd: box.dir,
    env: { ...box.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function daemonPid(box: Sandbox): number {
  return (
    JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as { daemonPid: number }
  ).daemonPid;
}

test('ps after kill -9 of the daemon waits for its revival, says so, then lists the stack', async () => {
  const box = tinyBox('revive');
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const dead = daemonPid(box);
    // The proxy would start the daemon again within ~250 ms, before `ps` says it waits: it is
    // held, so the revival is the `herd up -d` 1.5 s after the kill (the proxy, let go then,
    // may race it: one of the two wins the lock and the other applies to it).
    const primary = proxyPrimaryOf(box.stateDir);
    process.kill(primary, 'SIGSTOP');
    process.kill(dead, 'SIGKILL');
    const ps = box.run(['ps', '--format', 'json']);
    const revival = new Promise((r) => setTimeout(r, 1500)).then(() => {
      process.kill(primary, 'SIGCONT');
      return box.run(['up', '-d']);
    });
    const listed = await ps;
    const up = await revival;
    assert.equal(up.status, 0, up.stderr);
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(
      listed.stderr,
      'herd: the daemon of project revive is not running; waiting up to 10 s for it to come back…\n',
    );
    const rows = listed.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { Name: string; State: string });
    assert.deepEqual(
      rows.map((r) => [r.Name, r.State]),
      [['revive-tick-1', 'running']],
    );
    assert.equal(pidAlive(dead), false);

    // `down` returns once the daemon (this revived one, which closes its adopted replicas' log
    // tails and its proxy after answering) has exited: nothing of the stack runs after it.
    const revived = daemonPid(box);
    box.ok(['down']);
    assert.equal(pidAlive(revived), false, 'the daemon still ran when `herd down` returned');
  } finally {
    box.cleanup();
  }
});

test('a recorded stack nobody revives: the verb gives up after the wait, or at once with 0', async () => {
  const box = tinyBox('norevive');
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    // The daemon and its proxy both gone (stopped first, so neither restarts the other).
    const dead = daemonPid(box);
    const proxy = proxyPrimaryOf(box.stateDir);
    process.kill(dead, 'SIGSTOP');
    process.kill(-proxy, 'SIGSTOP');
    process.kill(dead, 'SIGKILL');
    process.kill(-proxy, 'SIGKILL');
    await waitFor('daemon gone', () => !pidAlive(dead));

    const t0 = Date.now();
    const r = herdWith(box, { HERD_REVIVE_WAIT: '1' }, ['scale', 'tick=2']);
    const took = Date.now() - t0;
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stderr, /waiting up to 1 s for it to come back…\n/);
    assert.match(
      r.stderr,
      /no herd daemon running for project norevive \(none came back within 1 s\)/,
    );
    assert.ok(took >= 1000, `gave up after ${took} ms`);

    // The wait turned off: the recorded stack is reported at once, with what to do.
    const now = herdWith(box, { HERD_REVIVE_WAIT: '0' }, ['ps']);
    assert.equal(now.status, 1);
    assert.match(now.stderr, /no herd daemon running for project norevive; its replicas may still/);
    assert.match(now.stderr, /`herd up -d` adopts the running replicas/);
    assert.doesNotMatch(now.stderr, /waiting/);
    // …and a bad value is a clear error.
    const bad = herdWith(box, { HERD_REVIVE_WAIT: 'soon' }, ['ps']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /HERD_REVIVE_WAIT=soon: expected the seconds to wait/);
  } finally {
    box.cleanup();
  }
});

test('nothing recorded: ps answers at once with an empty list, scale fails at once', () => {
  const box = tinyBox('never');
  try {
    const t0 = Date.now();
    const ps = box.herd(['ps', '--format', 'json']);
    assert.equal(ps.status, 0);
    assert.equal(ps.stdout, '');
    assert.equal(ps.stderr, '');
    const scale = box.herd(['scale', 'tick=2']);
    assert.equal(scale.status, 1);
    assert.match(scale.stderr, /no herd daemon running for project never; start it with/);
    assert.doesNotMatch(scale.stderr, /waiting/);
    // Two herd processes: well under the 10 s a wait would take, even on a loaded machine.
    assert.ok(Date.now() - t0 < 8000, `took ${Date.now() - t0} ms`);
  } finally {
    box.cleanup();
  }
});
