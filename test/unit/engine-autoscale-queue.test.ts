// The `redis_list` target on the real engine, the in-memory runtime and a fake clock: the list's
// length is what the test says, so each count below is ceil(length / target) under the HPA's
// tolerance, step limit, bounds and cooldown; a list that cannot be read is said in events once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { LoadSample } from '../../src/engine/autoscaler.ts';
import { recommendQueue } from '../../src/engine/autoscaler-queue.ts';
import { memoryEngine } from '../helpers/memory-engine.ts';
import { settle, until } from '../helpers/memory-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const URL = 'redis://127.0.0.1:6379';

/** A service `worker` scaled by the length of list `jobs`, which the test sets. */
async function queueHarness(autoscale: Record<string, unknown>, scale = 1) {
  const worker = makeService('worker', { command: ['work'], scale });
  worker.herd.extra.autoscale = {
    redis_list: { url: URL, list: 'jobs', target: 10 },
    ...autoscale,
  };
  const { clock, runtime, engine, events } = memoryEngine(makeProject([worker]));
  const load: LoadSample = { requests: {}, usage: {}, queues: {} };
  await engine.up();
  engine.startAutoscaler(() => load);
  return {
    engine,
    events,
    desired: () => engine.desired('worker'),
    running: () => runtime.running('worker').length,
    setLength: (length: number) => (load.queues!.worker = { length }),
    setError: (error: string) => (load.queues!.worker = { error }),
    run: async (seconds: number) => {
      for (let i = 0; i < seconds; i++) {
        clock.advance(1000);
        await settle();
      }
    },
    scaled: () =>
      events.flatMap((e) => (e.type === 'scaled' ? [[e.from, e.to, e.autoscale?.reason]] : [])),
    notices: () => events.flatMap((e) => (e.type === 'notice' ? [e.message] : [])),
  };
}

test('redis_list: ceil(length / target) at once, with the reason on the event and in ps', async () => {
  const h = await queueHarness({ min: 1, max: 8, cooldown: '30s' });
  h.setLength(42);
  await h.run(2);
  assert.equal(h.desired(), 5, 'ceil(42 / 10)');
  const [[from, to, reason]] = h.scaled() as [[number, number, string]];
  assert.deepEqual([from, to], [1, 5]);
  assert.equal(reason, 'redis_list jobs has 42 items, target 10 per replica: 1 → 5');
  await until(() => h.running() === 5, 'five workers');
  const status = h.engine.autoscaling()[0]!;
  assert.deepEqual(status.readings, [
    { metric: 'redis_list', target: 10, value: 42, measured: 1, missing: 0 },
  ]);
  const scaled = h.events.find((e) => e.type === 'scaled');
  assert.ok(scaled?.type === 'scaled');
  assert.deepEqual(
    [scaled.autoscale?.metric, scaled.autoscale?.value, scaled.autoscale?.target],
    ['redis_list', 42, 10],
  );
});

test('redis_list: a long queue goes up by the HPA step (+4 or double per 15 s) to max, no further', async () => {
  const h = await queueHarness({ min: 1, max: 8, cooldown: '30s' });
  h.setLength(500);
  await h.run(2);
  assert.equal(h.desired(), 5, '1 + 4 in the first 15 s');
  await h.run(10);
  assert.equal(h.desired(), 5);
  await h.run(6);
  assert.equal(h.desired(), 8, 'then up to max 8, not the 50 the list asks for');
  assert.match(
    String(h.scaled().at(-1)![2]),
    /has 500 items, target 10 per replica, capped at max 8: 5 → 8/,
  );
  await h.run(20);
  assert.equal(h.desired(), 8);
});

test('redis_list: within the 10 % tolerance of the current count nothing moves', async () => {
  const h = await queueHarness({ min: 1, max: 8, cooldown: '30s' }, 4);
  h.setLength(42); // 4 × 10 × 1.05: inside the tolerance, though ceil(4.2) = 5
  await h.run(5);
  assert.equal(h.desired(), 4);
  h.setLength(45); // 12.5 % over → 5
  await h.run(2);
  assert.equal(h.desired(), 5);
});

test('redis_list: once drained, back to min only after the cooldown', async () => {
  const h = await queueHarness({ min: 1, max: 8, cooldown: '10s' });
  h.setLength(30);
  await h.run(2);
  assert.equal(h.desired(), 3);
  h.setLength(0);
  await h.run(9);
  assert.equal(h.desired(), 3, 'empty for less than the cooldown');
  await h.run(3);
  assert.equal(h.desired(), 1);
  assert.equal(
    h.scaled().at(-1)![2],
    'redis_list jobs has 0 items, target 10 per replica, kept at min 1: 3 → 1',
  );
  await until(() => h.running() === 1, 'one worker left');
});

test('redis_list: an unreadable list keeps the count, is said once, and again when it reads', async () => {
  const h = await queueHarness({ min: 1, max: 8, cooldown: '5s' }, 3);
  // Two failed readings (a Redis still starting, or restarting) are not news.
  h.setError('cannot reach 127.0.0.1:6379: ECONNREFUSED');
  await h.run(2);
  h.setLength(30);
  await h.run(1);
  assert.deepEqual(h.notices(), []);
  h.setError('cannot reach 127.0.0.1:6379: ECONNREFUSED');
  await h.run(2);
  assert.deepEqual(h.notices(), []);
  await h.run(8);
  assert.equal(h.desired(), 3, 'no measurement: no scale-down either');
  assert.deepEqual(h.notices(), [
    'autoscale: cannot read the length of redis list "jobs": cannot reach 127.0.0.1:6379: ECONNREFUSED; keeping the replica count until it can',
  ]);
  assert.deepEqual(h.engine.autoscaling()[0]!.readings, [
    { metric: 'redis_list', target: 10, value: 0, measured: 0, missing: 0 },
  ]);
  h.setError('no answer from 127.0.0.1:6379 within 800 ms');
  await h.run(3);
  assert.equal(h.notices().length, 2, 'a new cause is said too');
  h.setLength(70);
  await h.run(2);
  assert.equal(h.notices().at(-1), 'autoscale: reading redis list "jobs" again (70 items)');
  assert.equal(h.desired(), 7);
  assert.equal(h.notices().length, 3);
});

test('recommendQueue: the HPA rule for a total with an average-value target', () => {
  const r = { metric: 'redis_list', target: 10, value: 0, measured: 1, missing: 0 };
  assert.equal(recommendQueue(3, r), 0, 'an empty list asks for none; min applies after');
  assert.equal(recommendQueue(1, { ...r, value: 1 }), 1);
  assert.equal(recommendQueue(1, { ...r, value: 11 }), 2);
  assert.equal(recommendQueue(0, { ...r, value: 1 }), 1, 'from zero: any item asks for one');
  assert.equal(recommendQueue(2, { ...r, value: 21 }), 2, '5 % over two replicas');
  assert.equal(recommendQueue(2, { ...r, measured: 0, value: 999 }), 2, 'not read');
});
