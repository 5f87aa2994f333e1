// A container is ready when its app listens inside it, not when Docker's userland proxy accepts
// on the published host port: docker-proxy accepts at once and only then finds nothing listening
// in the container. herd probes the container's own address (CI saw replicas of a slow-starting
// build join the pool early and their requests all go to the others).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocatePort } from '../../src/runtime/ports.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { ensureNodeImage, NODE_IMAGE } from '../helpers/docker-images.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import { getText, loadCompose, startStack } from '../helpers/docker-stack.ts';
import { waitUntil } from '../helpers/wait.ts';

const BIND_DELAY_MS = 3000;

test('a container whose app binds late joins the pool only once the app listens', async () => {
  const { docker, socketPath } = await ensureDockerd();
  await ensureNodeImage(docker);
  const hostPort = await allocatePort();
  const project = await loadCompose(`
name: ${uniqueProjectName('herdready')}
services:
  web:
    image: ${NODE_IMAGE}
    command:
      - node
      - -e
      - "setTimeout(() => require('http').createServer((q, s) => s.end('late')).listen(8080), ${BIND_DELAY_MS})"
    ports: ["127.0.0.1:${hostPort}:8080"]
    stop_grace_period: 1s
`);
  const stack = await startStack(project, socketPath, 60_000);
  try {
    const started = stack.events.find((e) => e.type === 'replica' && e.replica.state === 'running');
    // up() returns once the replica runs; readiness follows when its app listens.
    const ready = await waitUntil(
      'the replica is ready',
      () => stack.events.find((e) => e.type === 'ready'),
      20_000,
    );
    assert.ok(started, 'the replica ran');
    assert.ok(
      ready.at - started.at >= BIND_DELAY_MS - 500,
      `ready ${ready.at - started.at} ms after it started, before its app listened`,
    );
    assert.equal(await getText(hostPort), 'late');
  } finally {
    await stack.engine.shutdown();
    await stack.proxy.close();
    await stack.runtimes.down({ volumes: true });
    await stack.runtimes.close();
  }
});
