import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  defaultReadyTimeout,
  restartOrder,
  rolloutBatches,
  rolloutSettings,
} from '../../src/engine/rollout.ts';
import type { Dependency, Service } from '../../src/compose/model.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const withRollout = (rollout: unknown, over: Partial<Service> = {}) =>
  makeService('web', {
    herd: { lb: { algorithm: 'round_robin' }, healUnhealthy: true, extra: { rollout } },
    ...over,
  });
const exposed = { expose: [{ port: 80, protocol: 'tcp' as const }] };

test('defaults: start-first for services that take traffic, stop-first for the rest', () => {
  assert.deepEqual(rolloutSettings(makeService('web', exposed)), {
    parallelism: 1,
    order: 'start-first',
    readyTimeoutMs: 60_000,
  });
  assert.equal(rolloutSettings(makeService('worker')).order, 'stop-first');
  const range = makeService('web', {
    ports: [{ target: 80, published: { start: 8080, end: 8082 }, protocol: 'tcp' }],
  });
  assert.equal(rolloutSettings(range).order, 'stop-first', 'each replica owns a host port');
});

test('x-herd.rollout is read and checked, naming the service and key', () => {
  assert.deepEqual(
    rolloutSettings(withRollout({ parallelism: 2, order: 'stop-first', ready_timeout: '1m30s' })),
    { parallelism: 2, order: 'stop-first', readyTimeoutMs: 90_000 },
  );
  assert.equal(rolloutSettings(withRollout({ ready_timeout: 5 })).readyTimeoutMs, 5000);
  assert.throws(
    () => rolloutSettings(withRollout('fast')),
    /service "web": x-herd.rollout: expected a mapping/,
  );
  assert.throws(
    () => rolloutSettings(withRollout({ paralellism: 2 })),
    /x-herd.rollout.paralellism: unknown key/,
  );
  assert.throws(
    () => rolloutSettings(withRollout({ parallelism: 1.5 })),
    /parallelism: expected a whole number ≥ 1, got 1.5/,
  );
  assert.throws(
    () => rolloutSettings(withRollout({ ready_timeout: 'soon' })),
    /ready_timeout: expected a duration/,
  );
  const range = {
    ports: [{ target: 80, published: { start: 8080, end: 8081 }, protocol: 'tcp' as const }],
  };
  assert.throws(
    () => rolloutSettings(withRollout({ order: 'start-first' }, range)),
    /use stop-first/,
  );
});

test('the ready timeout leaves room for a healthcheck to pass', () => {
  const check = {
    test: { kind: 'shell' as const, command: 'true' },
    intervalMs: 10_000,
    timeoutMs: 5000,
    retries: 3,
    startPeriodMs: 40_000,
    startIntervalMs: 0,
  };
  assert.equal(defaultReadyTimeout(makeService('db', { healthcheck: check })), 40_000 + 4 * 15_000);
  assert.equal(
    defaultReadyTimeout(
      makeService('db', {
        healthcheck: { ...check, startPeriodMs: 0, intervalMs: 1000, timeoutMs: 1000 },
      }),
    ),
    60_000,
  );
});

test('batches: lowest numbers first, parallelism at a time', () => {
  assert.deepEqual(rolloutBatches([3, 1, 2, 5, 4], 2), [[1, 2], [3, 4], [5]]);
  assert.deepEqual(rolloutBatches([1, 2], 1), [[1], [2]]);
  assert.deepEqual(rolloutBatches([], 3), []);
});

test('restart order: the named services, then restart: true dependants, in dependency order', () => {
  const on = (restart: boolean): Dependency => ({
    condition: 'service_started',
    required: true,
    restart,
  });
  const p = makeProject([
    makeService('web', { dependsOn: { api: on(true) } }),
    makeService('api', { dependsOn: { db: on(true) } }),
    makeService('report', { dependsOn: { db: on(false) } }),
    makeService('db'),
  ]);
  assert.deepEqual(restartOrder(p, ['db']), ['db', 'api', 'web']);
  assert.deepEqual(restartOrder(p, ['web', 'db']), ['db', 'api', 'web']);
  assert.deepEqual(restartOrder(p, ['report']), ['report']);
});
