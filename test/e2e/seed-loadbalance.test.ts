// Seed 000's loadbalance story, as a user types it: up -d --scale web=2, kill -9 a replica under
// load, scale to five, stop, up again, down — against examples/loadbalance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import {
  freePort,
  httpGet,
  pidAlive,
  recordedPids,
  sandboxFromExample,
  waitFor,
} from '../helpers/e2e.ts';

const whoAnswered = (body: string) => /Hello from (\S+) \(pid (\d+)\)/.exec(body)?.[1];

test('loadbalance: balance, survive kill -9 under load, scale live, stop, up, down', async () => {
  const port = await freePort();
  const box = sandboxFromExample('loadbalance', { WEB_PORT: String(port) });
  try {
    box.ok(['up', '-d', '--scale', 'web=2', '--wait', '--wait-timeout', '30']);
    const web = (await box.psNow()).filter((r) => r.Service === 'web');
    assert.equal(web.length, 2);
    assert.ok(web.every((r) => r.State === 'running' && r.Health === 'healthy'));

    // Round robin: consecutive requests alternate between the two replicas.
    const seen: string[] = [];
    for (let i = 0; i < 6; i++) seen.push(whoAnswered((await httpGet(port)).body) ?? '?');
    assert.deepEqual(new Set(seen), new Set(['loadbalance-web-1', 'loadbalance-web-2']));
    for (let i = 1; i < seen.length; i++) assert.notEqual(seen[i], seen[i - 1]);
    // ps counts what the balancer sent each replica (3 each; health probes bypass it).
    const counted = box.ps(false).filter((r) => r.Service === 'web');
    assert.deepEqual(
      counted.map((r) => r.Requests),
      [3, 3],
    );
    assert.ok(!box.ps(false).find((r) => r.Service === 'worker')!.Requests);

    // kill -9 one replica while a client keeps sending: no request fails.
    const victim = web.find((r) => r.Name === 'loadbalance-web-2')!;
    let failures = 0;
    let sent = 0;
    let loop = true;
    const client = (async () => {
      const end = Date.now() + 15_000; // bounded even if the test body throws
      while (loop && Date.now() < end) {
        sent++;
        const r = await httpGet(port).catch(() => ({ status: 0, body: '' }));
        if (r.status !== 200) failures++;
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    process.kill(victim.Pid!, 'SIGKILL');
    const back = await waitFor(
      'web-2 restarted and healthy',
      async () => {
        const r = (await box.psNow()).find((x) => x.Name === 'loadbalance-web-2');
        return r && r.Restarts === 1 && r.Health === 'healthy' && r.Pid !== victim.Pid && r;
      },
      20_000,
    );
    await new Promise((r) => setTimeout(r, 300));
    loop = false;
    await client;
    assert.ok(sent > 20, `the client loop sent only ${sent} requests`);
    assert.equal(failures, 0, `${failures} of ${sent} requests failed around the kill`);
    assert.equal(pidAlive(victim.Pid!), false);
    assert.equal(back.State, 'running');

    // Scale to five: all five answer, with no reload of anything.
    box.ok(['scale', 'web=5']);
    await waitFor(
      'five healthy web replicas',
      async () =>
        (await box.psNow()).filter((r) => r.Service === 'web' && r.Health === 'healthy').length ===
        5,
      20_000,
    );
    const names = new Set<string>();
    for (let i = 0; i < 15; i++) names.add(whoAnswered((await httpGet(port)).body) ?? '?');
    assert.deepEqual(
      [...names].sort(),
      [1, 2, 3, 4, 5].map((i) => `loadbalance-web-${i}`),
    );

    // stop: everything exits and stays exited; the balancer has no one to send to.
    const beforeStop = (await box.psNow()).map((r) => r.Pid!);
    box.ok(['stop']);
    const stopped = await box.psNow();
    assert.ok(stopped.length >= 6);
    assert.ok(
      stopped.every((r) => r.State === 'exited'),
      JSON.stringify(stopped),
    );
    assert.deepEqual(await box.psNow(false), []);
    for (const pid of beforeStop) assert.equal(pidAlive(pid), false);
    // Held for the balancer's hold time (5 s: a replica may be restarting), then a 503.
    const answer = await httpGet(port, '/', { timeoutMs: 8000 });
    assert.equal(answer.status, 503, answer.body);
    assert.match(answer.body, /service "web" has no ready replica/);

    // up -d brings the stack back (the recorded scale of 5 included).
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const again = await box.psNow(false);
    assert.equal(again.filter((r) => r.Service === 'web').length, 5);
    assert.equal((await httpGet(port)).status, 200);

    // down: no process left, state dir gone.
    const pids = recordedPids(box.stateDir);
    assert.ok(pids.length >= 6);
    box.ok(['down']);
    await waitFor('every recorded process gone', () => pids.every((p) => !pidAlive(p)), 10_000);
    assert.equal(existsSync(box.stateDir), false);
  } finally {
    box.cleanup();
  }
});
