// Seed 000's worker story (examples/prodwork): 30 jobs, three workers, one killed with -9 in the
// middle of the queue — every job is still done, and the logs show the work spread out.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, pidAlive, sandboxFromExample, waitFor } from '../helpers/e2e.ts';

interface Stats {
  queued: number;
  processing: number;
  done: number;
  processed: number;
}

test('prodwork: 30 jobs survive a worker killed with -9 mid-queue', async () => {
  const port = await freePort();
  const box = sandboxFromExample('prodwork', { PRODUCER_PORT: String(port), WORK_MS: '250' });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const ps = await box.psNow(false);
    assert.deepEqual(ps.map((r) => r.Service).sort(), [
      'producer',
      'redis',
      'worker',
      'worker',
      'worker',
    ]);
    assert.equal(ps.find((r) => r.Service === 'redis')!.Health, 'healthy');

    const form = await httpGet(port, '/');
    assert.match(form.body, /<form method="post" action="\/jobs">/);
    const bad = await httpGet(port, '/jobs', { method: 'POST', body: 'count=lots' });
    assert.equal(bad.status, 400);

    const stats = async () => JSON.parse((await httpGet(port, '/stats')).body) as Stats;
    // Half by form, half by JSON, as a user and a script would.
    const a = await httpGet(port, '/jobs', {
      method: 'POST',
      body: 'count=15',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    const b = await httpGet(port, '/jobs', {
      method: 'POST',
      body: JSON.stringify({ count: 15 }),
      headers: { 'content-type': 'application/json' },
    });
    assert.equal(a.status, 201);
    assert.equal(b.status, 201);

    // Kill worker-2 while it holds a job (its processing list is not empty).
    await waitFor('a few jobs done', async () => (await stats()).done >= 3, 10_000);
    const victim = (await box.psNow(false)).find((r) => r.Name === 'prodwork-worker-2')!;
    process.kill(victim.Pid!, 'SIGKILL');
    const mid = await stats();
    assert.ok(mid.done < 30, `the queue was already drained (${JSON.stringify(mid)})`);

    const end = await waitFor(
      'all 30 jobs done and nothing left queued or in progress',
      async () => {
        const s = await stats();
        return s.done === 30 && s.queued === 0 && s.processing === 0 && s;
      },
      30_000,
    );
    assert.ok(end.processed >= 30);
    assert.equal(pidAlive(victim.Pid!), false);
    const w2 = await waitFor('worker-2 back', async () => {
      const r = (await box.psNow(false)).find((x) => x.Name === 'prodwork-worker-2');
      return r && r.Restarts >= 1 && r.State === 'running' && r;
    });
    assert.notEqual(w2.Pid, victim.Pid);

    const logs = box.ok(['logs', 'worker']);
    const byWorker = new Map<string, Set<number>>();
    for (const m of logs.matchAll(/(worker-\d) processed job (\d+)/g)) {
      const set = byWorker.get(m[1]!) ?? new Set<number>();
      set.add(Number(m[2]));
      byWorker.set(m[1]!, set);
    }
    assert.ok(byWorker.size >= 2, `jobs were not spread: ${[...byWorker.keys()].join(', ')}`);
    const seen = new Set([...byWorker.values()].flatMap((s) => [...s]));
    assert.equal(seen.size, 30);
  } finally {
    box.cleanup();
  }
});
