// The daemon killed with -9: its replicas keep running, its proxy starts it again, and the new
// daemon adopts them and keeps what was recorded (scale set by `herd scale`, services `herd stop`ped).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, pidAlive, sandboxFromExample, waitFor } from '../helpers/e2e.ts';

test('after kill -9 of the daemon, it comes back by itself with its replicas and the recorded scale and stops', async () => {
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
    // The replicas outlive their daemon (own process groups), and its proxy starts it again:
    // no `herd up` needed, the same replicas adopted.
    for (const r of before) assert.equal(pidAlive(r.Pid!), true, `${r.Name} died with the daemon`);
    const after = await waitFor(
      'the daemon back with the same replicas',
      async () => {
        const rows = await box.psNow(false).catch(() => undefined);
        const pids = rows?.map((r) => r.Pid).join();
        return pids === before.map((r) => r.Pid).join() && rows;
      },
      15_000,
    );
    assert.deepEqual(
      after.map((r) => [r.Name, r.State]),
      [
        ['loadbalance-web-1', 'running'],
        ['loadbalance-web-2', 'running'],
      ],
    );
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
