// The daemon killed with -9: its replicas keep running as orphans; the next `up -d` stops them and
// brings the stack back to what was recorded (scale set by `herd scale`, services `herd stop`ped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { freePort, HERD, httpGet, pidAlive, sandboxFromExample, waitFor } from '../helpers/e2e.ts';

test('after kill -9 of the daemon, up -d stops the orphans and restores scale and stops', async () => {
  const port = await freePort();
  const box = sandboxFromExample('loadbalance', { WEB_PORT: String(port) });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    box.ok(['scale', 'web=2']);
    box.ok(['stop', 'worker']);
    await waitFor(
      'two running web',
      async () => (await box.psNow(false)).filter((r) => r.Service === 'web').length === 2,
    );
    const before = await box.psNow(false);
    assert.deepEqual(
      before.map((r) => r.Service),
      ['web', 'web'],
    );

    const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    process.kill(state.daemonPid, 'SIGKILL');
    await waitFor('daemon gone', () => !pidAlive(state.daemonPid));
    // The replicas outlive their daemon (own process groups) and still answer on their PORT,
    // but no verb reaches the dead daemon.
    for (const r of before) assert.equal(pidAlive(r.Pid!), true, `${r.Name} died with the daemon`);
    // With the revival wait off, `ps` says at once that the recorded stack has no daemon and
    // what to do (daemon-revive-wait.test.ts covers the wait).
    const ps = spawnSync(process.execPath, [HERD, 'ps'], {
      cwd: box.dir,
      env: { ...box.env, HERD_REVIVE_WAIT: '0' },
      encoding: 'utf8',
    });
    assert.equal(ps.status, 1);
    assert.match(ps.stderr, /no herd daemon running for project loadbalance; its replicas may/);

    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    for (const r of before) assert.equal(pidAlive(r.Pid!), false, `${r.Name} was left running`);
    const after = await box.psNow(false);
    assert.deepEqual(
      after.map((r) => r.Name),
      ['loadbalance-web-1', 'loadbalance-web-2'],
    );
    for (const r of after) {
      assert.equal(r.State, 'running');
      assert.ok(!before.some((b) => b.Pid === r.Pid));
    }
    // The stopped worker is back as stopped: listed by ps -a as exited, not running.
    const workers = (await box.psNow()).filter((r) => r.Service === 'worker');
    assert.deepEqual(
      workers.map((r) => [r.Name, r.State]),
      [['loadbalance-worker-1', 'exited']],
    );
    assert.equal((await httpGet(port)).status, 200);

    // The restored stop is a real one: `start` brings the worker back.
    box.ok(['start', 'worker']);
    await waitFor('worker running', async () =>
      (await box.psNow(false)).some((r) => r.Service === 'worker' && r.State === 'running'),
    );
  } finally {
    box.cleanup();
  }
});
