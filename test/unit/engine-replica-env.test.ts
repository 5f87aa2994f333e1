import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planReplica, processCommand, envName } from '../../src/runtime/env.ts';
import { makeProject, makeService } from '../helpers/project.ts';

test('PORT, HERD_*, PORT_<target> and the service addresses', async () => {
  const web = makeService('web', {
    command: ['node', 'app.js'],
    environment: { GREETING: 'hi', PATH: '/custom' },
    ports: [{ target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' }],
    expose: [{ port: 9000, protocol: 'tcp' }],
  });
  const project = makeProject([web], { name: 'shop' });
  const { spec, ports } = await planReplica(project, web, 2, {
    baseEnv: { HOME: '/root', PATH: '/usr/bin' },
    serviceAddresses: () => ({ 'api-v2': { host: '127.0.0.1', port: 7001 } }),
  });
  assert.equal(spec.name, 'shop-web-2');
  assert.equal(spec.env.GREETING, 'hi');
  assert.equal(spec.env.PATH, '/custom');
  assert.equal(spec.env.HOME, '/root');
  assert.equal(spec.env.HERD_PROJECT, 'shop');
  assert.equal(spec.env.HERD_SERVICE, 'web');
  assert.equal(spec.env.HERD_REPLICA, '2');
  assert.equal(spec.env.API_V2_SERVICE_HOST, '127.0.0.1');
  assert.equal(spec.env.API_V2_SERVICE_PORT, '7001');
  assert.deepEqual(Object.keys(ports).map(Number), [5000, 9000]);
  assert.equal(spec.env.PORT, String(ports[5000]));
  assert.equal(spec.port, ports[5000]);
  assert.equal(spec.env.PORT_5000, String(ports[5000]));
  assert.equal(spec.env.PORT_9000, String(ports[9000]));
  assert.notEqual(ports[5000], 8080);
  assert.notEqual(ports[5000], ports[9000]);
  assert.equal(spec.cwd, project.workingDir);
});

test('a published range: each replica has a port of the range (bound by the balancer)', async () => {
  const web = makeService('web', {
    command: ['x'],
    ports: [{ target: 80, published: { start: 18080, end: 18082 }, protocol: 'tcp' }],
  });
  const project = makeProject([web]);
  // The balancer owns 18080-18082 (one listener per replica); the replicas get private ports.
  const first = (await planReplica(project, web, 1)).spec.port;
  const third = (await planReplica(project, web, 3)).spec.port;
  for (const p of [first, third]) assert.ok(p !== undefined && (p < 18080 || p > 18082));
  await assert.rejects(
    planReplica(project, web, 4),
    /replica 4 has no host port left in 18080-18082/,
  );
});

test('entrypoint + command; an image without either cannot run as a process', () => {
  assert.deepEqual(processCommand(makeService('a', { entrypoint: ['tini', '--'] })), [
    'tini',
    '--',
  ]);
  assert.deepEqual(
    processCommand(makeService('a', { entrypoint: ['sh', '-c'], command: ['echo hi'] })),
    ['sh', '-c', 'echo hi'],
  );
  assert.throws(() => processCommand(makeService('db', { image: 'redis:7' })), /add `command:`/);
  assert.throws(() => processCommand(makeService('x')), /has nothing to run/);
});

test("user: postgres sets uid/gid and that user's HOME", async () => {
  const db = makeService('db', { command: ['postgres'], user: 'postgres' });
  const { spec } = await planReplica(makeProject([db]), db, 1, { baseEnv: { HOME: '/root' } });
  assert.ok(spec.uid !== undefined && spec.uid > 0);
  assert.equal(spec.env.USER, 'postgres');
  assert.notEqual(spec.env.HOME, '/root');
  await assert.rejects(
    planReplica(
      makeProject([db]),
      makeService('db', { command: ['x'], user: 'no-such-user-herd' }),
      1,
    ),
    /user "no-such-user-herd" does not exist/,
  );
});

test('env names follow Kubernetes: upper case, dashes to underscores', () => {
  assert.equal(envName('my-api.v2'), 'MY_API_V2');
});
