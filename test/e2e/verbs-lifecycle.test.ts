// kill, restart, stop and start from the binary, against one detached stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, pidAlive, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { makeVerbsBox } from '../helpers/verbs-stack.ts';

const makeBox = (port: number): Sandbox => makeVerbsBox('verbs-life', port);

test('kill -s, kill, restart under load, stop and start', async () => {
  const port = await freePort();
  const box = makeBox(port);
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    // kill -s HUP reaches the app; kill (SIGKILL) makes it restart.
    box.ok(['kill', '-s', 'HUP', 'web']);
    await waitFor('SIGHUP logged', () => /web-1 got SIGHUP/.test(box.ok(['logs', 'web'])), 5000);
    // kill (SIGKILL, as `docker kill`) is a manual stop: the worker stays down until started.
    const workerPid = (await box.psNow(false)).find((r) => r.Service === 'worker')!.Pid!;
    box.ok(['kill', 'worker']);
    await waitFor('worker killed', async () => {
      const w = (await box.psNow()).find((r) => r.Service === 'worker');
      return w && w.State === 'exited' && w.ExitCode === 137;
    });
    assert.equal(pidAlive(workerPid), false);
    box.ok(['start', 'worker']);
    await waitFor('worker running again', async () =>
      (await box.psNow(false)).some((r) => r.Service === 'worker' && r.State === 'running'),
    );

    // restart keeps serving: requests during the restart all succeed.
    const before = box
      .ps(false)
      .filter((r) => r.Service === 'web')
      .map((r) => r.Pid);
    const failures: string[] = [];
    let sent = 0;
    let loop = true;
    const client = (async () => {
      const end = Date.now() + 20_000;
      while (loop && Date.now() < end) {
        sent++;
        const r = await httpGet(port).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`.trim());
      }
    })();
    const restarted = await box.run(['restart', 'web']);
    loop = false;
    assert.equal(restarted.status, 0, restarted.stderr);
    await client;
    const after = (await box.psNow(false)).filter((r) => r.Service === 'web');
    assert.equal(after.length, 2);
    for (const r of after) assert.ok(!before.includes(r.Pid), `${r.Name} was not restarted`);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed during restart`);

    // stop / start one service
    box.ok(['stop', 'worker']);
    const w = (await box.psNow()).find((r) => r.Service === 'worker')!;
    assert.equal(w.State, 'exited');
    box.ok(['start', 'worker']);
    await waitFor('worker running again', async () =>
      (await box.psNow(false)).some((r) => r.Service === 'worker' && r.State === 'running'),
    );
  } finally {
    box.cleanup();
  }
});
