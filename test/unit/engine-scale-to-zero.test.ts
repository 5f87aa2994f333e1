// Scale to zero (`autoscale: { min: 0, idle }`): the real engine on the in-memory runtime and a
// fake clock, the balancer's counters being what the test says; a real Balancer for the notice
// that wakes a service; the loader for the rule that min 0 needs idle.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Service } from '../../src/compose/model.ts';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import { scaleToZeroHold } from '../../src/engine/autoscaler-idle.ts';
import type { LoadSample } from '../../src/engine/autoscaler.ts';
import { Balancer } from '../../src/proxy/balancer.ts';
import { ReplicaCounters } from '../../src/proxy/counters.ts';
import { memoryEngine } from '../helpers/memory-engine.ts';
import { settle, until } from '../helpers/memory-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';
import { tempDir } from '../helpers/tmp.ts';

const IDLE = { min: 0, max: 3, rps: 50, idle: '10s', cooldown: '5s' };

/** `api`, scaled to zero after 10 s without a request; `sample` is what the balancer counted. */
async function stack(autoscale: Record<string, unknown> = IDLE) {
  const api = makeService('api', {
    command: ['app'],
    expose: [{ port: 5000, protocol: 'tcp' }] as Service['expose'],
  });
  api.herd.extra.autoscale = autoscale;
  const { clock, runtime, engine, events } = memoryEngine(makeProject([api]));
  const sample: Required<Pick<LoadSample, 'requests' | 'usage' | 'inFlight'>> = {
    requests: { api: 0 },
    usage: {},
    inFlight: { api: 0 },
  };
  await engine.up();
  engine.startAutoscaler(() => sample);
  const seconds = async (n: number, perSecond = 0) => {
    for (let i = 0; i < n; i++) {
      sample.requests.api! += perSecond;
      clock.advance(1000);
      await settle();
    }
  };
  const live = () => runtime.running('api').length;
  const decisions = () =>
    events.flatMap((e) => (e.type === 'scaled' && e.autoscale ? [e.autoscale] : []));
  return { engine, runtime, sample, seconds, live, decisions, clock };
}

test('no request for the idle window stops every replica; the service is idle, not stopped', async () => {
  const s = await stack();
  await until(() => s.live() === 1, 'one replica');
  await s.seconds(9);
  assert.equal(s.engine.desired('api'), 1, 'idle for 9 s of 10');
  await s.seconds(2);
  assert.equal(s.engine.desired('api'), 0);
  await until(() => s.live() === 0, 'no replica left');
  const last = s.decisions().at(-1)!;
  assert.deepEqual([last.from, last.to, last.metric], [1, 0, 'idle']);
  assert.match(last.reason, /no request for 1\d s \(idle: 10 s\), scaled to zero/);
  const status = s.engine.autoscaling()[0]!;
  assert.equal(status.desired, 0);
  assert.ok(status.idle?.zeroSince !== undefined, 'ps shows it scaled to zero');
  assert.equal(status.idle.idleMs, 10_000);
  // It stays at zero: neither the HPA's rule nor the min brings it back without a request.
  await s.seconds(30);
  assert.equal(s.engine.desired('api'), 0);
  assert.equal(s.live(), 0);
});

test('traffic, or a request still in flight, keeps it up; the HPA rule alone never goes to zero', async () => {
  const s = await stack();
  await s.seconds(30, 1); // 1 req/s: far under the 50 req/s target, low for the cooldown
  assert.equal(s.engine.desired('api'), 1, 'the rps rule stops at 1');
  s.sample.inFlight.api = 1; // one long request: the counter does not move, but it is not idle
  await s.seconds(20);
  assert.equal(s.engine.desired('api'), 1);
  s.sample.inFlight.api = 0;
  await s.seconds(11);
  assert.equal(s.engine.desired('api'), 0);
});

test('a held request wakes it at once, and the idle window starts again', async () => {
  const s = await stack();
  await s.seconds(11);
  await until(() => s.live() === 0, 'scaled to zero');
  s.engine.wake('api');
  assert.equal(s.engine.desired('api'), 1, 'no waiting for the next sample');
  await until(
    () => s.engine.replicas().some((r) => r.ready && r.state === 'running'),
    'a ready replica',
  );
  const woke = s.decisions().at(-1)!;
  assert.deepEqual([woke.from, woke.to, woke.metric], [0, 1, 'request']);
  assert.match(woke.reason, /a request is waiting at the balancer .*: 0 → 1/);
  assert.equal(s.engine.autoscaling()[0]!.idle?.zeroSince, undefined);
  s.engine.wake('api'); // a second notice while it runs changes nothing
  assert.equal(s.decisions().length, 2);
  await s.seconds(9, 2);
  await s.seconds(9);
  assert.equal(s.engine.desired('api'), 1, 'idle 9 s since the last request');
  await s.seconds(2);
  assert.equal(s.engine.desired('api'), 0);
});

test('a replica still booting after a wake is not idle: the held requests wait for it', async () => {
  const s = await stack();
  await s.seconds(11);
  await until(() => s.live() === 0, 'scaled to zero');
  s.runtime.script('api', { listensLater: true });
  s.engine.wake('api');
  await s.seconds(25);
  assert.equal(s.engine.desired('api'), 1, 'kept while it boots, well past the idle window');
  for (const r of s.runtime.running('api')) r.listen();
  await until(() => s.engine.replicas().some((r) => r.ready), 'ready');
  await s.seconds(9);
  assert.equal(s.engine.desired('api'), 1, 'idle counts from when it could serve');
  await s.seconds(2);
  assert.equal(s.engine.desired('api'), 0);
});

test('a request that comes while the last replica is being stopped still gets one', async () => {
  const s = await stack();
  await s.seconds(10);
  s.clock.advance(1000); // the sample that scales to zero, without letting the stop finish
  await Promise.resolve();
  assert.equal(s.engine.desired('api'), 0);
  s.engine.wake('api');
  assert.equal(s.engine.desired('api'), 1);
  await s.seconds(3);
  await until(
    () => s.engine.replicas().some((r) => r.ready && r.state === 'running'),
    'a ready replica after the stop',
  );
  assert.equal(s.live(), 1);
});

test('wake does nothing for a service that does not scale to zero', async () => {
  const s = await stack({ min: 1, max: 3, rps: 50 });
  await s.seconds(2);
  s.engine.setScale('api', 0);
  s.engine.wake('api');
  assert.equal(s.engine.desired('api'), 0);
});

test('a scale by hand restarts the idle window', async () => {
  const s = await stack();
  await s.seconds(11);
  assert.equal(s.engine.desired('api'), 0);
  s.engine.setScale('api', 2);
  await s.seconds(5);
  assert.equal(s.engine.desired('api'), 2, 'not taken straight back to zero');
  await s.seconds(6);
  assert.equal(s.engine.desired('api'), 0);
});

test('the balancer tells of a request held for an empty pool at once, and again at most each second', () => {
  const told: string[] = [];
  const b = new Balancer({
    service: 'api',
    lb: { algorithm: 'round_robin' },
    onHold: (svc) => told.push(svc),
  });
  const got: (string | undefined)[] = [];
  b.waitForMember(10_000, (m) => got.push(m?.id));
  b.waitForMember(10_000, (m) => got.push(m?.id));
  assert.deepEqual(told, ['api'], 'one notice for two held requests');
  b.add('api-1', '127.0.0.1', 1, new ReplicaCounters('api-1', 'api'));
  assert.deepEqual(got, ['api-1', 'api-1'], 'both held requests go to the new replica');
  b.remove('api-1');
  b.waitForMember(10_000, () => undefined);
  assert.deepEqual(told, ['api', 'api'], 'empty again: told again at once');
  b.add('api-2', '127.0.0.1', 2, new ReplicaCounters('api-2', 'api'));
  b.waitForMember(1, () => undefined);
  assert.equal(told.length, 2, 'a pool with a member (all tried) says nothing');
});

test('the balancer says it again each second while a request waits in an empty pool', async () => {
  const told: number[] = [];
  const b = new Balancer({
    service: 'api',
    lb: { algorithm: 'round_robin' },
    onHold: () => told.push(Date.now()),
  });
  let answered = false;
  b.waitForMember(5_000, () => (answered = true));
  await new Promise((r) => setTimeout(r, 1_150));
  assert.equal(told.length, 2, 'a lost notice is sent again');
  b.add('api-1', '127.0.0.1', 1, new ReplicaCounters('api-1', 'api'));
  assert.ok(answered);
  await new Promise((r) => setTimeout(r, 1_100));
  assert.equal(told.length, 2, 'nothing more once the request went to a replica');
});

test('the balancer holds requests for a scale-to-zero service up to its ready timeout', async () => {
  const a = makeService('api', { command: ['app'] });
  a.herd.extra.autoscale = IDLE;
  assert.equal(scaleToZeroHold(a), 60_000, 'the default ready timeout');
  a.herd.extra.rollout = { ready_timeout: '90s' };
  assert.equal(scaleToZeroHold(a), 90_000);
  a.herd.extra.autoscale = { min: 1, max: 3, rps: 50 };
  assert.equal(scaleToZeroHold(a), undefined, 'other services keep the default hold');
});

test('min: 0 without idle is an error at load, with file:line:col', async () => {
  const dir = tempDir('zero');
  await writeFile(
    path.join(dir, 'compose.yaml'),
    [
      'services:',
      '  api:',
      '    command: x',
      '    x-herd:',
      '      autoscale:',
      '        min: 0',
      '        max: 3',
      '        rps: 50',
      '',
    ].join('\n'),
  );
  const err = await loadProject({ cwd: dir, env: {} }).then(
    () => assert.fail('expected the load to fail'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof ComposeError, String(err));
  assert.match(
    err.message,
    /compose\.yaml:6:\d+: services\.api\.x-herd\.autoscale\.min: min: 0 \(scale to zero\) needs idle/,
  );
  await writeFile(
    path.join(dir, 'compose.yaml'),
    'services:\n  api:\n    command: x\n    ports: ["8080:5000"]\n    x-herd: { autoscale: { min: 0, max: 3, rps: 50, idle: 10m } }\n',
  );
  const p = await loadProject({ cwd: dir, env: {} });
  assert.deepEqual(p.warnings, [], 'idle is supported: no warning');
});
