// `herd pause`/`unpause`/`rm` for Docker services through the binary: the engine's own pause
// (the container is Paused in `docker inspect`), and rm removes an exited container from the
// engine as Compose's rm does.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';

const IDLE = `["node", "-e", "setInterval(() => {}, 1000)"]`;

test('pause and unpause a container service; rm removes an exited container', async () => {
  const { docker, box, filters, cleanup } = await dockerBox(
    'pauserm',
    (image) => `  web:
    image: ${image}
    command: ${IDLE}
    stop_grace_period: 1s
  job:
    image: ${image}
    command: ["node", "-e", "process.exit(3)"]
    restart: "no"
`,
  );
  const state = async (service: string) => {
    const [c] = await docker.listContainers({
      all: true,
      filters: { label: [...filters.label, `com.docker.compose.service=${service}`] },
    });
    return c && (await docker.getContainer(c.Id).inspect()).State;
  };
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '60', 'web'], { timeoutMs: 90_000 });
    assert.match(box.ok(['pause', 'web']), /Paused/);
    assert.equal((await state('web'))?.Paused, true);
    assert.deepEqual(
      box.ps(false).map((r) => [r.Service, r.State]),
      [['web', 'paused']],
    );
    assert.match(box.ok(['unpause', 'web']), /Unpaused/);
    assert.equal((await state('web'))?.Paused, false);
    assert.deepEqual(
      box.ps(false).map((r) => [r.Service, r.State]),
      [['web', 'running']],
    );

    box.ok(['up', '-d', 'job'], { timeoutMs: 90_000 });
    assert.equal(box.herd(['wait', 'job'], { timeoutMs: 60_000 }).status, 3);
    assert.equal((await state('job'))?.Running, false);
    assert.match(box.ok(['rm', 'job']), /-job-1 +Removed/);
    assert.equal(await state('job'), undefined);
    assert.deepEqual(
      box.ps(true).map((r) => r.Service),
      ['web'],
    );
  } finally {
    await cleanup();
  }
});
