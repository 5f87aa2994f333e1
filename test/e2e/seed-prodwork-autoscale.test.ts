// Seed 000's workers scaled by their queue through the `herd` command (examples/prodwork, its
// worker autoscaled on the length of Redis list `jobs`, 10 per worker, redis's address filled in
// by herd): an idle stack settles at min, 60 queued jobs bring more workers within seconds, and
// once the queue is drained it goes back to min after the cooldown — with every job done.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, sandboxFromExample, waitFor, type Sandbox } from '../helpers/e2e.ts';

async function workers(box: Sandbox): Promise<number> {
  const ps = await box.psNow(false);
  return ps.filter((r) => r.Service === 'worker' && r.State === 'running').length;
}

test('prodwork: the worker scales by the jobs queue, up within seconds and back to min', async (t) => {
  const port = await freePort();
  const box = sandboxFromExample('prodwork', {
    PRODUCER_PORT: String(port),
    WORK_MS: '500',
    WORKER_COOLDOWN: '3s',
  });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const watch = box.spawn(['events']);
    assert.equal(await workers(box), 3, 'scale: 3 is where it starts');
    await waitFor(
      'an empty queue brings it to min 1',
      async () => (await workers(box)) === 1,
      20_000,
    );

    const posted = Date.now();
    const r = await httpGet(port, '/jobs', {
      method: 'POST',
      body: JSON.stringify({ count: 60 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(r.status, 201);
    // 60 jobs at 10 per worker ask for 6; the HPA's step allows 1 + 4 at once.
    await waitFor('5 workers', async () => (await workers(box)) >= 5, 10_000);
    const upAfter = Date.now() - posted;
    const drained = await waitFor(
      'all 60 jobs done',
      async () => {
        const s = JSON.parse((await httpGet(port, '/stats')).body) as { done: number };
        return s.done === 60 && Date.now();
      },
      60_000,
    );
    await waitFor('back to 1 worker', async () => (await workers(box)) === 1, 20_000);
    t.diagnostic(
      `5 workers ${upAfter} ms after the jobs, 1 again ${Date.now() - drained} ms after the last`,
    );

    await watch.stop();
    const events = watch.output();
    assert.match(
      events,
      /service autoscale worker \(from=1, to=5, metric=redis_list, value=\d+, target=10, reason=redis_list jobs has \d+ items, target 10 per replica, at most double or \+4 replicas per 15 s: 1 → 5\)/,
    );
    // Scale-in follows the highest recommendation of the cooldown window, so it may come down in
    // one step or several (5 → 3 → 1, or 5 → 3 → 2 → 1, as samples age out of the window): each
    // step goes down (the queue's emptiness is asserted below, in ps).
    const scaleIns = [
      ...events.matchAll(/service autoscale worker \(from=(\d+), to=(\d+), metric=redis_list,/g),
    ]
      .map((m) => ({ from: Number(m[1]), to: Number(m[2]) }))
      .filter((d) => d.to < d.from);
    assert.ok(scaleIns.length > 0, events);
    const last = events
      .split('\n')
      .filter((l) => l.includes('service autoscale worker'))
      .at(-1);
    // The last decision brings it back to 1; a job may still sit in the queue at that moment (low
    // is below the target, not empty), so its value is any count; ps below shows the queue empty.
    assert.match(last ?? '', /\(from=\d, to=1, metric=redis_list, value=\d+,/);
    assert.match(
      box.ok(['ps']),
      /worker: 1 wanted \(min 1, max 8\); redis_list 0 items \(target 10 per replica\)/,
    );
  } finally {
    box.cleanup();
  }
});
