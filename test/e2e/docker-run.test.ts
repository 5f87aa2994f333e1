// `herd run` of Docker services (issue 15): a one-off container as `docker compose run` makes one,
// through the binary, against the test engine.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';
import { NODE_IMAGE } from '../helpers/docker-images.ts';
import { freePort, httpGet, inTerminal, waitFor } from '../helpers/e2e.ts';

const IDLE = `["node", "-e", "setInterval(() => {}, 1000)"]`;

test('run: a one-off container of a Docker service, as docker compose run makes one', async () => {
  const { docker, project, box, filters, cleanup } = await dockerBox(
    'run',
    (image) => `  db:
    image: ${image}
    command: ${IDLE}
    stop_grace_period: 1s
  web:
    image: ${image}
    command: ${IDLE}
    depends_on: [db]
    working_dir: /tmp
    environment:
      GREETING: hi
    stop_grace_period: 1s
  built:
    build: ./img
    command: ${IDLE}
`,
  );
  const builtTag = `${project}-built`;
  const containers = async () =>
    (await docker.listContainers({ all: true, filters })).map((c) => ({
      name: c.Names[0]!.slice(1),
      state: c.State,
      labels: c.Labels,
    }));
  try {
    mkdirSync(join(box.dir, 'img'));
    writeFileSync(join(box.dir, 'img', 'Dockerfile'), `FROM ${NODE_IMAGE}\nENV MARK=built\n`);
    // db is started first (the daemon's `up -d --wait db`), and reachable by name from the one-off.
    const lookup = `require('dns').lookup('db', (e) => { console.log(process.env.HERD_SERVICE, e ? 'no db' : 'db'); process.exit(4); })`;
    const first = box.herd(['run', '--rm', '-T', 'web', 'node', '-e', lookup], {
      timeoutMs: 90_000,
    });
    assert.equal(first.status, 4, first.stderr);
    assert.equal(first.stdout, 'web db\n');
    assert.deepEqual(
      (await containers()).map((c) => [c.name, c.state]),
      [[`${project}-db-1`, 'running']],
    );

    const rm = box.herd(['run', '--rm', '-T', 'web', 'sh', '-c', 'echo $HERD_SERVICE; exit 4']);
    assert.equal(rm.status, 4, rm.stderr);
    assert.equal(rm.stdout, 'web\n');
    assert.equal((await containers()).length, 1);

    // Without --rm it stays, exited, named and labelled as Compose's one-offs are.
    const kept = box.ok([
      'run',
      '-T',
      '-e',
      'X=y',
      'web',
      'sh',
      '-c',
      'echo $X $HERD_REPLICA; pwd',
    ]);
    const id = /^y run-([0-9a-f]{8})\n\/tmp\n$/.exec(kept)?.[1];
    assert.ok(id, kept);
    const run = (await containers()).find((c) => c.name === `${project}-web-run-${id}`);
    assert.equal(run?.state, 'exited');
    assert.equal(run.labels['com.docker.compose.oneoff'], 'True');
    assert.equal(run.labels['com.docker.compose.service'], 'web');
    assert.equal(run.labels['dev.herd.project'], project);
    const info = await docker.getContainer(`${project}-web-run-${id}`).inspect();
    assert.deepEqual(info.HostConfig.PortBindings ?? {}, {});

    // --entrypoint replaces the entrypoint; with no CMD the service's command goes too.
    assert.equal(
      box.ok(['run', '--rm', '-T', '--no-deps', '--entrypoint', 'sh -c', 'web', 'echo $GREETING']),
      'hi\n',
    );
    // (with the service's command as arguments, $0 would be `node`)
    assert.equal(box.ok(['run', '--rm', '-T', '--entrypoint', "sh -c 'echo $0'", 'web']), 'sh\n');
    // A terminal when stdin is one, unless -T.
    const isTty = `sh -c 'test -t 0 && test -t 1 && echo tty || echo notty'`;
    // (\r\n from the container's terminal, the outer one adds a \r: the same on screen)
    assert.match(inTerminal(box, `run --rm --no-deps web ${isTty}`), /^tty\r+\n$/);
    assert.equal(inTerminal(box, `run --rm --no-deps -T web ${isTty}`), 'notty\r\n');

    // -u runs it as another user, as `docker compose run -u` does.
    const ids = `console.log(process.getuid() + ':' + process.getgid())`;
    assert.equal(
      box.ok(['run', '--rm', '-T', '--no-deps', '-u', '1234:5678', 'web', 'node', '-e', ids]),
      '1234:5678\n',
    );

    const missing = box.herd(['run', '--rm', '-T', '--entrypoint', 'nope', 'web']);
    assert.equal(missing.status, 1);
    assert.match(missing.stderr, /could not start the one-off container .*-web-run-.*"nope"/);

    // A build: service not built yet is built first, as `up` would.
    await docker
      .getImage(builtTag)
      .remove({ force: true })
      .catch(() => undefined);
    const built = box.herd(['run', '--rm', '-T', 'built', 'sh', '-c', 'echo $MARK'], {
      timeoutMs: 120_000,
    });
    assert.equal(built.status, 0, built.stderr);
    assert.equal(built.stdout, 'built\n');
    await docker.getImage(builtTag).inspect();
    assert.equal((await containers()).length, 2);

    // -d starts it and prints its name (--name's), and returns while it runs.
    const nightly = `${project}-nightly`;
    assert.equal(box.ok(['run', '-d', '--no-deps', '--name', nightly, 'web']), `${nightly}\n`);
    const detached = (await containers()).find((c) => c.name === nightly);
    assert.equal(detached?.state, 'running');
    assert.equal(detached.labels['com.docker.compose.oneoff'], 'True');
    const taken = box.herd(['run', '-d', '--no-deps', '--name', nightly, 'web']);
    assert.equal(taken.status, 1);
    assert.match(
      taken.stderr,
      new RegExp(`could not create container ${nightly}: .*already in use`),
    );

    // -v mounts (a relative source is the project folder's); -p publishes a port on the host.
    writeFileSync(join(box.dir, 'note.txt'), 'from the host\n');
    const readNote = `process.stdout.write(require('fs').readFileSync('/data/note.txt', 'utf8'))`;
    assert.equal(
      box.ok([
        'run',
        '--rm',
        '-T',
        '--no-deps',
        '-v',
        './note.txt:/data/note.txt:ro',
        'web',
        'node',
        '-e',
        readNote,
      ]),
      'from the host\n',
    );
    const badPort = box.herd(['run', '--rm', '-T', '-p', '80:abc', 'web', 'true']);
    assert.equal(badPort.status, 1);
    assert.match(badPort.stderr, /^herd: --publish 80:abc: /);
    const hostPort = await freePort();
    const serve = `require('http').createServer((q, r) => r.end('one-off')).listen(8080)`;
    box.ok([
      'run',
      '-d',
      '--no-deps',
      '--name',
      `${project}-served`,
      '-p',
      `127.0.0.1:${hostPort}:8080`,
      'web',
      'node',
      '-e',
      serve,
    ]);
    await waitFor(
      'the detached one-off to answer on the port -p published',
      async () => (await httpGet(hostPort).catch(() => undefined))?.body === 'one-off',
      20_000,
    );

    // `down` takes the kept one-off with the replicas, as Compose's does.
    box.ok(['down'], { timeoutMs: 60_000 });
    assert.deepEqual(await containers(), []);
  } finally {
    await cleanup();
    await docker
      .getImage(builtTag)
      .remove({ force: true })
      .catch(() => undefined);
  }
});
