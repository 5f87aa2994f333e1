// Issue 15's verbs for Docker services: build, images and exec (the engine's exec) through the
// binary, against the test engine.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';
import { NODE_IMAGE } from '../helpers/docker-images.ts';

const IDLE = `["node", "-e", "setInterval(() => {}, 1000)"]`;

test('build, images and exec for container services', async () => {
  const { docker, project, box, cleanup } = await dockerBox(
    'cliverbs',
    (image) => `  web:
    image: ${image}
    command: ${IDLE}
    scale: 2
    stop_grace_period: 1s
  built:
    build: ./img
    command: ${IDLE}
    stop_grace_period: 1s
`,
  );
  const builtTag = `${project}-built`;
  try {
    mkdirSync(join(box.dir, 'img'));
    writeFileSync(
      join(box.dir, 'img', 'Dockerfile'),
      `FROM ${NODE_IMAGE}\nLABEL dev.herd.test=cli\n`,
    );

    assert.equal(box.ok(['build'], { timeoutMs: 120_000 }), ` ✔ built built ${builtTag}\n`);
    const built = await docker.getImage(builtTag).inspect();
    assert.equal(built.Config.Labels?.['dev.herd.test'], 'cli');

    const images = JSON.parse(box.ok(['images', '--format', 'json'])) as {
      Service: string;
      ID: string;
    }[];
    assert.deepEqual(
      images.map((i) => i.Service),
      ['web', 'built'],
    );
    assert.equal(images[1]!.ID, built.Id);
    assert.equal(box.ok(['images', '-q', 'built']), `${built.Id}\n`);

    box.ok(['up', '-d', '--wait', '--wait-timeout', '60'], { timeoutMs: 90_000 });
    assert.equal(box.ok(['exec', '-T', 'web', 'sh', '-c', 'echo $HERD_REPLICA']), '1\n');
    assert.equal(
      box.ok(['exec', '-T', '--index', '2', 'web', 'sh', '-c', 'echo $HERD_REPLICA']),
      '2\n',
    );
    assert.equal(
      box.ok(['exec', '-T', '-e', 'X=y', '-w', '/tmp', 'built', 'sh', '-c', 'echo $X; pwd']),
      'y\n/tmp\n',
    );
    assert.equal(box.herd(['exec', '-T', 'web', 'sh', '-c', 'exit 3']).status, 3);
  } finally {
    await cleanup();
    await docker
      .getImage(builtTag)
      .remove({ force: true })
      .catch(() => undefined);
  }
});
