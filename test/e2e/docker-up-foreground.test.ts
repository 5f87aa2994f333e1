// A foreground `herd up` with a container service: Ctrl-C removes herd's containers and the
// project's network along with its state, so nothing of the run is left in the engine.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';
import { waitFor } from '../helpers/e2e.ts';

test('Ctrl-C on a foreground herd up removes its containers and network', async () => {
  const { docker, box, filters, cleanup } = await dockerBox(
    'fgdown',
    (image) => `  web:
    image: ${image}
    expose: ["8080"]
    stop_grace_period: 2s
`,
  );
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
    await cleanup();
  }
});
