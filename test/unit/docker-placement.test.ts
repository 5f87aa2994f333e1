// Which runtime a service gets, and what a container replica is told (PORT, service addresses).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runtimeKind } from '../../src/compose/runtime-kind.ts';
import { planReplica } from '../../src/runtime/env.ts';
import { containerCreateOptions } from '../../src/runtime/docker/create-options.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const herd = (runtime?: 'process' | 'docker') => ({
  ...makeService('x').herd,
  ...(runtime ? { runtime } : {}),
});

test('image or build runs in Docker, command alone as a process, x-herd.runtime forces', () => {
  assert.equal(runtimeKind(makeService('a', { command: ['node'] })), 'process');
  assert.equal(runtimeKind(makeService('a', { image: 'redis:7' })), 'docker');
  assert.equal(runtimeKind(makeService('a', { image: 'redis:7', command: ['x'] })), 'docker');
  assert.equal(
    runtimeKind(makeService('a', { build: { context: '/tmp', args: {} } as never })),
    'docker',
  );
  assert.equal(
    runtimeKind(makeService('a', { image: 'redis:7', command: ['x'], herd: herd('process') })),
    'process',
  );
  assert.equal(runtimeKind(makeService('a', { command: ['x'], herd: herd('docker') })), 'docker');
});

test('a container listens on its target port and reaches services on the project network', async () => {
  const web = makeService('web', {
    image: 'shop/web',
    environment: { GREETING: 'hi' },
    ports: [{ target: 8000, published: { start: 80, end: 80 }, protocol: 'tcp' }],
    expose: [{ port: 9000, protocol: 'tcp' }],
  });
  const db = makeService('db-main', {
    image: 'postgres:16',
    expose: [{ port: 5432, protocol: 'tcp' }],
  });
  const api = makeService('api', {
    command: ['node', 'api.js'],
    ports: [{ target: 3000, published: { start: 7000, end: 7000 }, protocol: 'tcp' }],
  });
  const local = makeService('local', { command: ['x'], expose: [{ port: 4000, protocol: 'tcp' }] });
  const project = makeProject([web, db, api, local], { name: 'shop' });
  const { spec, ports } = await planReplica(project, web, 2, {
    allowImageDefault: true,
    baseEnv: { HOME: '/root', PATH: '/usr/bin' },
    serviceAddresses: () => ({ db: { host: '127.0.0.1', port: 1 } }),
  });
  assert.equal(spec.env.PORT, '8000');
  assert.equal(spec.env.PORT_9000, '9000');
  assert.equal(spec.port, 8000);
  assert.equal(spec.env.GREETING, 'hi');
  assert.equal(spec.env.HOME, undefined, "herd's own environment stays out of the container");
  assert.equal(spec.env.PATH, undefined);
  assert.equal(spec.env.DB_MAIN_SERVICE_HOST, 'db-main');
  assert.equal(spec.env.DB_MAIN_SERVICE_PORT, '5432');
  assert.equal(spec.env.WEB_SERVICE_HOST, 'web');
  assert.equal(spec.env.API_SERVICE_HOST, 'host.docker.internal');
  assert.equal(spec.env.API_SERVICE_PORT, '7000');
  assert.equal(
    spec.env.LOCAL_SERVICE_HOST,
    undefined,
    'loopback-only: unreachable from a container',
  );
  assert.equal(spec.env.HERD_REPLICA, '2');
  // Host side: fresh loopback ports, never the published one (that is the balancer's).
  assert.deepEqual(spec.hostPorts, ports);
  assert.ok(ports[8000] !== 80 && ports[8000]! > 0 && ports[9000]! > 0);

  const create = containerCreateOptions({ project, service: web, spec, image: 'shop/web' });
  assert.deepEqual(create.HostConfig?.PortBindings?.['8000/tcp'], [
    { HostIp: '127.0.0.1', HostPort: String(ports[8000]) },
  ]);
  assert.deepEqual(create.HostConfig?.ExtraHosts, ['host.docker.internal:host-gateway']);
  assert.equal(create.Cmd, undefined, "no command: the image's own");
});

test('the config hash ignores host ports but not the definition', async () => {
  const web = makeService('web', { image: 'w', expose: [{ port: 80, protocol: 'tcp' }] });
  const project = makeProject([web]);
  const hash = async (service = web, name?: string) => {
    const { spec } = await planReplica(project, service, 1, { allowImageDefault: true });
    if (name) spec.name = name;
    return containerCreateOptions({ project, service, spec, image: 'w' }).Labels?.[
      'dev.herd.config-hash'
    ];
  };
  const first = await hash();
  assert.match(first ?? '', /^[0-9a-f]{64}$/);
  assert.equal(await hash(), first);
  assert.equal(await hash(web, `${project.name}-web-1-next`), first, "a rollout's successor");
  assert.notEqual(await hash({ ...web, environment: { V: '2' } }), first);
});
