// A foreground `herd up` with a container service: Ctrl-C removes herd's containers and the
// project's network along with its state, so nothing of the run is left in the engine.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { ensureNodeImage, NODE_IMAGE } from '../helpers/docker-images.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import { sandbox, waitFor } from '../helpers/e2e.ts';

test('Ctrl-C on a foreground herd up removes its containers and network', async () => {
  const { docker, socketPath } = await ensureDockerd();
  await ensureNodeImage(docker);
  const project = uniqueProjectName('fgdown');
  const root = mkdtempSync(join(tmpdir(), 'herd-e2e-docker-fg-'));
  const dir = join(root, 'app');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: ${project}
services:
  web:
    image: ${NODE_IMAGE}
    expose: ["8080"]
    stop_grace_period: 2s
`,
  );
  const box = sandbox(root, dir, { DOCKER_HOST: `unix://${socketPath}` });
  const filters = { label: [`com.docker.compose.project=${project}`] };
  const running = async () =>
    (await docker.listContainers({ filters })).filter((c) => c.State === 'running').length;
  const up = box.spawn(['up']);
  try {
    await waitFor('the container running', async () => (await running()) === 1, 60_000);
    assert.equal((await docker.listNetworks({ filters })).length, 1);
    await up.stop();
    assert.equal(up.child.exitCode, 130, up.output());
    assert.deepEqual(await docker.listContainers({ all: true, filters }), []);
    assert.deepEqual(await docker.listNetworks({ filters }), [], 'the network is removed');
  } finally {
    await up.stop();
    box.cleanup();
    for (const c of await docker.listContainers({ all: true, filters }))
      await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
  }
});
