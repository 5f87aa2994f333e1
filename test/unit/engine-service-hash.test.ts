import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planApply, serviceHash, stableJson } from '../../src/engine/service-hash.ts';
import type { Service } from '../../src/compose/model.ts';
import { makeProject, makeService } from '../helpers/project.ts';

test('stable JSON sorts keys at every level and keeps array order', () => {
  assert.equal(stableJson({ b: 1, a: { d: [2, 1], c: null } }), '{"a":{"c":null,"d":[2,1]},"b":1}');
  assert.equal(stableJson({ a: undefined, b: 1 }), '{"b":1}');
});

test('the hash ignores key order, scale and the rollout settings; sees everything else', () => {
  const base = makeService('web', { command: ['node', 'app.js'], environment: { A: '1', B: '2' } });
  const reordered = Object.fromEntries(Object.entries(base).reverse()) as unknown as Service;
  assert.equal(serviceHash(reordered), serviceHash(base));
  assert.equal(serviceHash({ ...base, environment: { B: '2', A: '1' } }), serviceHash(base));
  assert.equal(serviceHash({ ...base, scale: 5 }), serviceHash(base));
  const herd = (extra: Record<string, unknown>) => ({ ...base, herd: { ...base.herd, extra } });
  assert.equal(
    serviceHash(herd({ rollout: { parallelism: 2 }, autoscale: { max: 4 } })),
    serviceHash(base),
  );
  assert.notEqual(serviceHash({ ...base, environment: { A: '1', B: '3' } }), serviceHash(base));
  assert.notEqual(serviceHash({ ...base, command: ['node', 'app2.js'] }), serviceHash(base));
  assert.notEqual(serviceHash({ ...base, command: ['app.js', 'node'] }), serviceHash(base));
  assert.notEqual(serviceHash(herd({ other: 1 })), serviceHash(base));
});

test('planApply sorts services into added, removed, changed and unchanged', () => {
  const v1 = makeProject([makeService('a'), makeService('b'), makeService('c', { scale: 1 })]);
  const v2 = makeProject([
    makeService('a'),
    makeService('b', { command: ['x'] }),
    makeService('c', { scale: 3 }),
    makeService('d'),
  ]);
  assert.deepEqual(planApply(v1, v2), {
    added: ['d'],
    removed: [],
    changed: ['b'],
    unchanged: ['a', 'c'],
  });
  assert.deepEqual(planApply(v2, v1), {
    added: [],
    removed: ['d'],
    changed: ['b'],
    unchanged: ['a', 'c'],
  });
});
