// Seed 004 ("Composing Docker Environments: Scaling I"), as a user types it, with real
// containers: a service built from a Dockerfile with a fixed host port, `up -d`, then
// `scale web=5`. Compose fails with "port is already allocated"; herd's balancer owns the port and
// every container gets its own loopback port, so all five serve through it. `ps` shows the
// containers and `down` leaves no container or network behind.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { ensureNodeImage, NODE_IMAGE } from '../helpers/docker-images.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import { freePort, httpGet, sandbox, waitFor } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const SERVER = `
import http from 'node:http';
const name = process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA;
http
  .createServer((req, res) => res.end('served by ' + name + '\\n'))
  .listen(Number(process.env.PORT), '0.0.0.0', () => console.log(name + ' listening on ' + process.env.PORT));
process.on('SIGTERM', () => process.exit(0));
`;

test('seed 004: a built service with a fixed host port scales to five behind one port', async () => {
  const { docker, socketPath } = await ensureDockerd();
  // The base image is local: no registry is reachable from CI.
  await ensureNodeImage(docker);
  const project = uniqueProjectName('seedfour');
  const port = await freePort();
  const root = tempDir('e2e-seed004');
  const dir = join(root, 'app');
  mkdirSync(dir);
  writeFileSync(join(dir, 'server.mjs'), SERVER);
  writeFileSync(
    join(dir, 'Dockerfile'),
    `FROM ${NODE_IMAGE}\nCOPY server.mjs /app/server.mjs\nCMD ["node", "/app/server.mjs"]\n`,
  );
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: ${project}
services:
  web:
    build: .
    ports: ["\${P}:8000"]
    restart: unless-stopped
    stop_grace_period: 2s
`,
  );
  const box = sandbox(root, dir, { P: String(port), DOCKER_HOST: `unix://${socketPath}` });
  const filters = { label: [`com.docker.compose.project=${project}`] };
  try {
    const up = box.herd(['up', '-d'], { timeoutMs: 90_000 });
    assert.equal(up.status, 0, `${up.stdout}\n${up.stderr}`);
    // the build's progress is shown while up -d waits for the daemon, each line with its service
    assert.match(up.stderr, /web: .*COPY server\.mjs \/app\/server\.mjs/, up.stderr);
    const scaled = box.herd(['scale', 'web=5']);
    assert.equal(scaled.status, 0, `${scaled.stdout}\n${scaled.stderr}`);
    assert.doesNotMatch(scaled.stdout + scaled.stderr, /already allocated|in use/i);

    // herd shows a replica whose container is still being started as running (as Compose
    // does); wait until all five are ready (their app accepts connections inside the container:
    // docker-proxy accepts on the host port before that) and the engine has them running too.
    const rows = await waitFor(
      'five ready web containers',
      async () => {
        const web = box.ps().filter((r) => r.Service === 'web' && r.State === 'running' && r.Ready);
        const running = await docker.listContainers({ filters });
        return web.length === 5 && running.length === 5 && web;
      },
      30_000,
    );
    assert.deepEqual(
      rows.map((r) => r.Name).sort(),
      [1, 2, 3, 4, 5].map((i) => `${project}-web-${i}`),
    );
    const containers = await docker.listContainers({ filters });
    assert.deepEqual(
      containers.map((c) => c.Names[0]).sort(),
      [1, 2, 3, 4, 5].map((i) => `/${project}-web-${i}`),
    );
    assert.ok(
      containers.every((c) => c.Image === `${project}-web`),
      'built from the Dockerfile',
    );

    // All five answer through the one published port.
    const served = new Set<string>();
    for (let i = 0; i < 25 && served.size < 5; i++) {
      const r = await httpGet(port);
      assert.equal(r.status, 200, r.body);
      served.add(r.body.trim());
    }
    assert.deepEqual(
      [...served].sort(),
      [1, 2, 3, 4, 5].map((i) => `served by web-${i}`),
    );

    const down = box.herd(['down'], { timeoutMs: 60_000 });
    assert.equal(down.status, 0, `${down.stdout}\n${down.stderr}`);
    assert.deepEqual(await docker.listContainers({ all: true, filters }), []);
    assert.deepEqual(await docker.listNetworks({ filters }), []);
  } finally {
    box.cleanup();
    await Promise.all(
      (await docker.listContainers({ all: true, filters })).map((c) =>
        docker.getContainer(c.Id).remove({ force: true }),
      ),
    );
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
    await docker
      .getImage(`${project}-web`)
      .remove({ force: true })
      .catch(() => undefined);
  }
});

test('no Docker engine: up names the service and DOCKER_HOST, and starts nothing', () => {
  const root = tempDir('e2e-nodocker');
  const dir = join(root, 'app');
  mkdirSync(dir);
  const marker = join(root, 'api-ran');
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: nodocker
services:
  api:
    command: ["node", "-e", "require('fs').writeFileSync(process.env.MARKER, 'x'); setInterval(() => {}, 1000)"]
    environment: {MARKER: "${marker}"}
  web:
    build: .
`,
  );
  const box = sandbox(root, dir, { DOCKER_HOST: `unix://${join(root, 'no-docker.sock')}` });
  try {
    const up = box.herd(['up', '-d']);
    assert.notEqual(up.status, 0);
    assert.match(up.stderr, /service "web" \(build\) needs a Docker engine/);
    assert.match(up.stderr, /DOCKER_HOST=unix:\/\/\/path\/to\/docker\.sock/);
    assert.equal(existsSync(marker), false, 'the process service was not started either');
  } finally {
    box.cleanup();
  }
});
