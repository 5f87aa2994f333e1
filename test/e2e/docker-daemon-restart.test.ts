// A herd daemon killed with SIGKILL leaves its containers running; `herd up -d` again adopts
// them (same container ids, still serving through the new balancer) instead of recreating them.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { ensureNodeImage, NODE_IMAGE } from '../helpers/docker-images.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import { freePort, httpGet, pidAlive, sandbox, waitFor } from '../helpers/e2e.ts';

test('up -d after the daemon was killed adopts the running containers', async () => {
  const { docker, socketPath } = await ensureDockerd();
  await ensureNodeImage(docker);
  const project = uniqueProjectName('restart');
  const port = await freePort();
  const root = mkdtempSync(join(tmpdir(), 'herd-e2e-docker-restart-'));
  const dir = join(root, 'app');
  mkdirSync(dir);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: ${project}
services:
  web:
    image: ${NODE_IMAGE}
    ports: ["127.0.0.1:${port}:8080"]
    scale: 2
    restart: unless-stopped
    stop_grace_period: 2s
`,
  );
  const box = sandbox(root, dir, { DOCKER_HOST: `unix://${socketPath}` });
  const filters = { label: [`com.docker.compose.project=${project}`] };
  const ids = async () =>
    (await docker.listContainers({ all: true, filters }))
      .map((c) => `${c.Names[0]} ${c.State} ${c.Id}`)
      .sort();
  try {
    box.ok(['up', '-d'], { timeoutMs: 60_000 });
    const before = await ids();
    assert.equal(before.length, 2);
    const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    process.kill(state.daemonPid, 'SIGKILL');
    await waitFor('the daemon gone', () => !pidAlive(state.daemonPid), 5000);
    assert.deepEqual(await ids(), before, 'the containers outlive the daemon');

    box.ok(['up', '-d'], { timeoutMs: 60_000 });
    assert.deepEqual(await ids(), before, 'adopted, not recreated');
    const rows = box.ps().filter((r) => r.Service === 'web');
    assert.deepEqual(
      rows.map((r) => `${r.Name} ${r.State}`),
      [1, 2].map((i) => `${project}-web-${i} running`),
    );
    const seen = new Set<string>();
    for (let i = 0; i < 20 && seen.size < 2; i++) {
      const r = await waitFor('an answer', () => httpGet(port).catch(() => undefined), 5000);
      assert.equal(r.status, 200, r.body);
      seen.add(r.body.split(' ')[0]!);
    }
    assert.deepEqual([...seen].sort(), before.map((l) => l.split(' ')[2]!.slice(0, 12)).sort());
    box.ok(['down'], { timeoutMs: 60_000 });
    // `down` answers only once the daemon removed the containers and the network.
    assert.deepEqual(await ids(), []);
    assert.deepEqual(await docker.listNetworks({ filters }), []);
  } finally {
    box.cleanup();
    for (const c of await docker.listContainers({ all: true, filters }))
      await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
  }
});

test('down after the daemon was killed removes its containers and network', async () => {
  const { docker, socketPath } = await ensureDockerd();
  await ensureNodeImage(docker);
  const project = uniqueProjectName('killdown');
  const root = mkdtempSync(join(tmpdir(), 'herd-e2e-docker-killdown-'));
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
  const containers = async () => (await docker.listContainers({ all: true, filters })).length;
  const networks = async () => (await docker.listNetworks({ filters })).map((n) => n.Name);
  try {
    box.ok(['up', '-d'], { timeoutMs: 60_000 });
    assert.equal(await containers(), 1);
    assert.deepEqual(await networks(), [`${project}_default`]);
    const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    process.kill(state.daemonPid, 'SIGKILL');
    await waitFor('the daemon gone', () => !pidAlive(state.daemonPid), 5000);

    const out = box.ok(['down'], { timeoutMs: 60_000 });
    assert.match(out, /1 container\(s\) of .* Removed/);
    assert.equal(await containers(), 0, 'the containers are removed');
    assert.deepEqual(await networks(), [], 'the network is removed');
    assert.ok(!existsSync(join(box.stateDir, 'state.json')), 'the state is forgotten');
  } finally {
    box.cleanup();
    for (const c of await docker.listContainers({ all: true, filters }))
      await docker.getContainer(c.Id).remove({ force: true });
    for (const n of await docker.listNetworks({ filters })) await docker.getNetwork(n.Id).remove();
  }
});
