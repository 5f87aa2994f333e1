import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkAutoscale, parseAutoscale } from '../../src/compose/autoscale.ts';
import { isHerdError } from '../../src/util/errors.ts';

const problems = (raw: unknown) =>
  checkAutoscale(raw).problems.map((p) => `${p.key ?? ''}: ${p.message}`);

describe('x-herd.autoscale', () => {
  it('reads bounds, targets and timings', () => {
    assert.deepEqual(checkAutoscale({ min: 2, max: 10, cpu: 70 }).value, {
      min: 2,
      max: 10,
      cpu: 70,
    });
    assert.deepEqual(checkAutoscale({ max: 4, rps: 50, cooldown: '5s', window: 10 }).value, {
      min: 1,
      max: 4,
      rps: 50,
      cooldownMs: 5000,
      windowMs: 10_000,
    });
    assert.deepEqual(
      checkAutoscale({
        min: 0,
        max: 8,
        idle: '10m',
        redis_list: { url: 'redis://127.0.0.1', list: 'jobs', target: 10 },
      }).value,
      {
        min: 0,
        max: 8,
        idleMs: 600_000,
        redisList: { url: 'redis://127.0.0.1', list: 'jobs', target: 10 },
      },
    );
    assert.equal(checkAutoscale(undefined).value, undefined);
    assert.deepEqual(checkAutoscale(null).problems, []);
  });

  it('refuses bad bounds, targets and durations, naming the key', () => {
    assert.deepEqual(problems({ min: 3, max: 2, cpu: 70 }), [
      'max: must be at least min (3), got 2',
    ]);
    assert.deepEqual(problems({ min: -1, max: 2, cpu: 70 }), [
      'min: expected a whole number ≥ 0, got -1',
    ]);
    assert.deepEqual(problems({ min: 1, cpu: 70 }), [
      'max: is required: the most replicas autoscaling may run',
    ]);
    assert.deepEqual(problems({ max: 2, cpu: 0 }), ['cpu: expected a number > 0, got 0']);
    assert.deepEqual(problems({ max: 2, rps: '50' }), ['rps: expected a number > 0, got "50"']);
    assert.deepEqual(problems({ max: 2 }), [
      ': needs a target to scale on: cpu (%), memory (%), rps (per replica) or redis_list',
    ]);
    assert.deepEqual(problems({ max: 2, cpu: 50, cooldown: 'soon' }), [
      'cooldown: expected a duration such as 30s or 5m, got "soon"',
    ]);
    assert.deepEqual(problems({ max: 2, cpu: 50, idle: '1m' }), [
      'idle: only applies with min: 0 (scale to zero), but min is 1',
    ]);
    assert.match(
      problems({ max: 2, cpu: 50, cpus: 1 })[0] ?? '',
      /^cpus: unknown key \(did you mean `cpu`\?\)/,
    );
    assert.deepEqual(problems('fast'), [
      ': expected a mapping such as { min: 1, max: 4, cpu: 70 }, got "fast"',
    ]);
    assert.deepEqual(problems({ max: 2, redis_list: { url: 'redis://127.0.0.1', target: 0 } }), [
      'redis_list.list: expected a non-empty string, got undefined',
      'redis_list.target: expected a number > 0, got 0',
    ]);
  });

  it('throws one COMPOSE_INVALID error naming the service and every bad key', () => {
    assert.throws(
      () => parseAutoscale('web', { min: 5, max: 2, cpu: -1 }),
      (err: unknown) =>
        isHerdError(err, 'COMPOSE_INVALID') &&
        err.message ===
          'service "web": x-herd.autoscale.max: must be at least min (5), got 2\n' +
            'service "web": x-herd.autoscale.cpu: expected a number > 0, got -1',
    );
  });
});
