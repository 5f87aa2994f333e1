import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dependencyDepths, dependencyOrder } from '../../src/engine/deps.ts';
import { gateFor, type DependencyView } from '../../src/engine/gate.ts';
import type { Dependency } from '../../src/compose/model.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const on = (required = true): Dependency => ({
  condition: 'service_started',
  required,
  restart: false,
});

test('dependencies come first; only what the named services need', () => {
  const p = makeProject([
    makeService('web', { dependsOn: { api: on(), cache: on() } }),
    makeService('api', { dependsOn: { db: on() } }),
    makeService('db'),
    makeService('cache'),
    makeService('other'),
  ]);
  assert.deepEqual(dependencyOrder(p, ['web']), ['db', 'api', 'cache', 'web']);
  const depth = dependencyDepths(p, dependencyOrder(p, Object.keys(p.services)));
  assert.deepEqual(Object.fromEntries(depth), { db: 0, api: 1, cache: 0, web: 2, other: 0 });
});

test('a cycle is a clear error naming the path', () => {
  const p = makeProject([
    makeService('a', { dependsOn: { b: on() } }),
    makeService('b', { dependsOn: { a: on() } }),
  ]);
  assert.throws(() => dependencyOrder(p, ['a']), /dependency cycle: a → b → a/);
});

test('unknown services: a clear error; a missing optional dependency is skipped', () => {
  const p = makeProject([
    makeService('a', { dependsOn: { gone: on(false) } }),
    makeService('b', { dependsOn: { nope: on() } }),
  ]);
  assert.deepEqual(dependencyOrder(p, ['a']), ['a']);
  assert.throws(
    () => dependencyOrder(p, ['b']),
    /service "b" depends on "nope", which is not defined/,
  );
  assert.throws(() => dependencyOrder(p, ['zzz']), /no such service: zzz/);
});

test('an optional dependency that failed lets the dependant start, and says why', () => {
  const db = makeService('db');
  const web = makeService('web', {
    dependsOn: { db: { condition: 'service_started', required: false, restart: false } },
  });
  const failed: DependencyView = {
    service: db,
    desired: 1,
    active: true,
    slots: new Map([
      [
        1,
        {
          everStarted: false,
          info: {
            project: 'p',
            service: 'db',
            index: 1,
            name: 'p-db-1',
            state: 'exited',
            health: 'none',
            host: '127.0.0.1',
            ports: {},
            restarts: 0,
            lastExit: { exitCode: 127, startError: 'command not found: postgres' },
          },
        },
      ],
    ]),
  };
  assert.deepEqual(
    gateFor(web, () => failed),
    { kind: 'ok', without: ['dependency db failed: command not found: postgres'] },
  );
  const required = makeService('web', { dependsOn: { db: on() } });
  assert.equal(gateFor(required, () => failed).kind, 'fail');
});
