// Issue 15's verbs for Docker services: build, pull, images and exec (the engine's exec) through the
// binary, against the test engine.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { inTerminal } from '../helpers/e2e.ts';
import { dockerBox } from '../helpers/docker-box.ts';
import { NODE_IMAGE } from '../helpers/docker-images.ts';
import { tinyRegistry } from '../helpers/tiny-registry.ts';

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
    // A terminal's stdin gets the container a TTY, unless -T.
    const isTty = `sh -c 'test -t 0 && test -t 1 && echo tty || echo notty'`;
    assert.match(inTerminal(box, `exec web ${isTty}`), /^tty\r+\n$/);
    assert.match(inTerminal(box, `exec -T web ${isTty}`), /^notty\r+\n$/);
  } finally {
    await cleanup();
    await docker
      .getImage(builtTag)
      .remove({ force: true })
      .catch(() => undefined);
  }
});

test("pull fetches the services' images from their registry; --ignore-buildable skips built ones", async () => {
  const reg = await tinyRegistry('herd-test/pulled', '1');
  const { docker, box, cleanup } = await dockerBox(
    'pull',
    () => `  app:
    image: ${reg.image}
    command: ["/hello"]
  mine:
    image: ${reg.host}/herd-test/not-there:1
    build: ./img
  gone:
    image: ${reg.host}/herd-test/gone:1
  local:
    command: ["true"]
`,
  );
  try {
    mkdirSync(join(box.dir, 'img'));
    writeFileSync(join(box.dir, 'img', 'Dockerfile'), `FROM ${NODE_IMAGE}\n`);
    await docker
      .getImage(reg.image)
      .remove({ force: true })
      .catch(() => undefined);

    // run, not herd: the registry answers from this process, which must not be blocked
    const pulled = await box.run(['pull', '--ignore-buildable', 'app', 'mine', 'local']);
    assert.equal(pulled.status, 0, pulled.stderr);
    assert.equal(pulled.stdout, ` ✔ app pulled ${reg.image}\n`);
    const info = await docker.getImage(reg.image).inspect();
    assert.equal(info.Config.Labels?.['dev.herd.test'], 'pulled');
    assert.ok(
      reg.requests.some((r) => /^(GET|HEAD) \/v2\/herd-test\/pulled\/manifests\/1$/.test(r)) &&
        reg.requests.some((r) => r.startsWith('GET /v2/herd-test/pulled/blobs/')),
      reg.requests.join('\n'),
    );
    assert.ok(!reg.requests.some((r) => r.includes('not-there')), reg.requests.join('\n'));
    assert.equal(box.ok(['images', '-q', 'app']), `${info.Id}\n`);

    const gone = await box.run(['pull', 'gone']);
    assert.equal(gone.status, 1);
    assert.match(gone.stderr, new RegExp(`pulling image ${reg.host}/herd-test/gone:1 failed`));
  } finally {
    await cleanup();
    await reg.close();
    await docker
      .getImage(reg.image)
      .remove({ force: true })
      .catch(() => undefined);
  }
});
