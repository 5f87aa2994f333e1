// The autoscaler's decisions, driven through the real engine on the in-memory runtime and a fake
// clock: the load is what the test says it is, so every number below is the HPA's rule at work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Service } from '../../src/compose/model.ts';
import type { LoadSample } from '../../src/engine/autoscaler.ts';
import { recommend, stabilize } from '../../src/engine/autoscaler-decide.ts';
import { memoryEngine } from '../helpers/memory-engine.ts';
import { settle, until } from '../helpers/memory-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const expose = [{ port: 5000, protocol: 'tcp' }] as Service['expose'];

/** A service `web` autoscaled with `autoscale`, and a load the test sets. */
async function harness(autoscale: Record<string, unknown>, over: Partial<Service> = {}) {
  const web = makeService('web', { command: ['app'], expose, ...over });
  web.herd.extra.autoscale = autoscale;
  const project = makeProject([web]);
  const { clock, runtime, engine, events } = memoryEngine(project);
  const load: LoadSample = { requests: { web: 0 }, usage: {} };
  /** Requests per second through the balancer from now on. */
  let rps = 0;
  /** CPU per live replica, in % of a core. */
  let cpu = 0;
  await engine.up();
  engine.startAutoscaler(() => load);
  const name = (n: number) => `${project.name}-web-${n}`;
  const ready = () => engine.replicas().filter((r) => r.ready && r.state === 'running').length;
  /** Moves the clock one second at a time, the load growing as set. */
  const run = async (seconds: number) => {
    for (let i = 0; i < seconds; i++) {
      load.requests.web = (load.requests.web ?? 0) + rps;
      for (const r of runtime.running('web')) {
        const u = (load.usage[r.spec.name] ??= { cpuSeconds: 0, memoryBytes: 0 });
        u.cpuSeconds += cpu / 100;
      }
      clock.advance(1000);
      await settle();
    }
  };
  const scaled = () =>
    events.flatMap((e) => (e.type === 'scaled' ? [[e.from, e.to, e.autoscale?.reason]] : []));
  return {
    clock,
    runtime,
    engine,
    events,
    run,
    ready,
    name,
    scaled,
    desired: () => engine.desired('web'),
    setRps: (n: number) => (rps = n),
    setCpu: (n: number) => (cpu = n),
    setMemory: (replica: string, bytes: number) =>
      ((load.usage[replica] ??= { cpuSeconds: 0, memoryBytes: 0 }).memoryBytes = bytes),
  };
}

test('rps above the target scales up at once, bounded by max, with the reason on the event', async () => {
  const h = await harness({ min: 1, max: 4, rps: 50, cooldown: '5s' });
  h.setRps(300);
  await h.run(2);
  assert.equal(h.desired(), 4);
  const [[from, to, reason]] = h.scaled() as [[number, number, string]];
  assert.deepEqual([from, to], [1, 4]);
  assert.match(
    reason,
    /rps 300 req\/s per ready replica \(1 ready\), target 50 req\/s, capped at max 4: 1 → 4/,
  );
  await until(() => h.ready() === 4, '4 ready replicas');
  await h.run(20);
  assert.equal(h.desired(), 4, 'never above max under sustained load');
  const status = h.engine.autoscaling()[0]!;
  assert.deepEqual([status.min, status.max, status.desired, status.last?.to], [1, 4, 4, 4]);
});

test('within the 10 % tolerance nothing changes; beyond it the HPA formula applies', async () => {
  const h = await harness({ min: 1, max: 10, rps: 50, cooldown: '5s' }, { scale: 2 });
  h.setRps(109); // 54.5 per replica: 9 % over the target
  await h.run(10);
  assert.equal(h.desired(), 2);
  assert.deepEqual(h.scaled(), []);
  h.setRps(115); // 57.5 per replica: 15 % over → ceil(2 × 1.15) = 3
  await h.run(5);
  assert.equal(h.desired(), 3);
});

test('scale-up is bounded per 15 s step: at most double or +4', async () => {
  const h = await harness({ min: 1, max: 20, rps: 10, cooldown: '5m' });
  h.setRps(1000);
  await h.run(2);
  assert.equal(h.desired(), 5, '1 + 4');
  assert.match(String(h.scaled()[0]![2]), /at most double or \+4 replicas per 15 s/);
  await until(() => h.ready() === 5, 'five ready');
  await h.run(10);
  assert.equal(h.desired(), 5, 'still inside the first 15 s');
  await h.run(6);
  assert.equal(h.desired(), 10, 'the next period: double 5');
});

test('scale-down waits until the metric stayed low for the cooldown, then goes to min', async () => {
  const h = await harness({ min: 1, max: 4, rps: 50, cooldown: '10s', window: '2s' });
  h.setRps(300);
  await h.run(2);
  await until(() => h.ready() === 4, '4 ready');
  await h.run(3);
  h.setRps(0);
  await h.run(9);
  assert.equal(h.desired(), 4, 'low for less than the 10 s cooldown');
  // Down to the highest recommendation of the last 10 s: the window's average fell in steps.
  await h.run(10);
  assert.equal(h.desired(), 1);
  const downs = h.scaled().filter(([from, to]) => (to as number) < (from as number));
  assert.ok(downs.length >= 1);
  assert.equal(downs.at(-1)![1], 1);
  assert.match(String(downs[0]![2]), /low for the 10 s cooldown: 4 → [1-3]/);
});

test('replicas that are not ready are not capacity, and do not cause a scale-down', async () => {
  const h = await harness({ min: 1, max: 4, rps: 50, cooldown: '2s' });
  h.runtime.script('web', { listensLater: true }, { listensLater: true }, { listensLater: true });
  h.setRps(300);
  await h.run(2);
  assert.equal(h.desired(), 4);
  // Three replicas still starting: 300 req/s on the one ready replica would ask for 6, the
  // starting ones count as idle going up (300 / 4 = 75 > 50: stay at the max) and as at the
  // target going down, so the count holds while they start.
  h.setRps(100);
  await h.run(10);
  assert.equal(h.ready(), 1);
  assert.equal(h.desired(), 4, 'no scale-down while 3 replicas are not ready');
  for (const r of h.runtime.running('web')) r.listen();
  await until(() => h.ready() === 4, 'all ready');
  await h.run(6);
  assert.equal(h.desired(), 2, '100 req/s over 4 ready replicas → ceil(4 × 0.5) = 2');
});

test('herd scale by hand holds for the cooldown, then the autoscaler takes over again', async () => {
  const h = await harness({ min: 1, max: 4, rps: 50, cooldown: '5s' });
  await h.run(2);
  h.engine.setScale('web', 3);
  await h.run(3);
  assert.equal(h.desired(), 3);
  await h.run(4);
  assert.equal(h.desired(), 1);
});

test('cpu: average % of a core (or of the cpus limit) per ready replica', async () => {
  const h = await harness(
    { min: 1, max: 6, cpu: 50, cooldown: '5s' },
    {
      resources: { limits: { cpus: 0.5 }, reservations: {} },
    },
  );
  h.setCpu(40); // 40 % of a core is 80 % of the 0.5 limit → ceil(1 × 80 / 50) = 2
  await h.run(3);
  assert.equal(h.desired(), 2);
  assert.match(String(h.scaled()[0]![2]), /cpu 80 % per ready replica/);
});

test('memory: average % of the memory limit per ready replica', async () => {
  const h = await harness(
    { min: 1, max: 6, memory: 50, cooldown: '5s' },
    { resources: { limits: { memoryBytes: 100 * 2 ** 20 }, reservations: {} } },
  );
  await h.run(1);
  for (const r of h.runtime.running('web')) h.setMemory(r.spec.name, 90 * 2 ** 20); // 90 % of the limit → ceil(1 × 90 / 50) = 2
  await h.run(2);
  assert.equal(h.desired(), 2);
  assert.match(String(h.scaled()[0]![2]), /memory 90 % per ready replica \(1 ready\), target 50 %/);
});

test('the decision rule on its own: missing replicas and the stabilization window', () => {
  const r = { metric: 'rps', target: 50, value: 100, measured: 2, missing: 0 };
  assert.equal(recommend(2, r), 4);
  assert.equal(recommend(2, { ...r, value: 54 }), 2, 'inside the tolerance');
  // One ready replica at 100 and one starting: going up, the starting one counts as idle.
  assert.equal(recommend(2, { ...r, measured: 1, missing: 1 }), 2, '(100 + 0) / 2 = 50: at target');
  // Going down, it counts as at the target: (20 + 50) / 2 = 35 → ceil(2 × 0.7) = 2.
  assert.equal(recommend(2, { ...r, value: 20, measured: 1, missing: 1 }), 2);
  const b = { min: 1, max: 10, cooldownMs: 5000 };
  const recs = [
    { at: 1000, replicas: 6 },
    { at: 4000, replicas: 2 },
  ];
  assert.deepEqual(stabilize(5000, 6, recs, [], b), { replicas: 6, limit: 'cooldown' });
  assert.deepEqual(stabilize(6500, 6, recs, [], b), { replicas: 2, limit: undefined });
  assert.deepEqual(stabilize(6500, 1, [{ at: 6500, replicas: 30 }], [], b), {
    replicas: 5,
    limit: 'step',
  });
});
