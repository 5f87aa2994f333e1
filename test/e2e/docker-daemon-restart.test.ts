// A herd daemon killed with SIGKILL leaves its containers running and its proxy serving: the proxy
// starts the daemon again, which adopts them (same container ids, no request lost meanwhile), and
// `herd up -d` then changes nothing. With the proxy killed too, `down` still removes everything.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';
import {
  freePort,
  httpGet,
  pidAlive,
  proxyPrimaryOf,
  requestLoop,
  waitFor,
} from '../helpers/e2e.ts';

test('the daemon killed -9 comes back by itself and adopts its running containers; no request fails', async () => {
  const port = await freePort();
  const { docker, project, box, filters, cleanup } = await dockerBox(
    'restart',
    (image) => `  web:
    image: ${image}
    ports: ["127.0.0.1:${port}:8080"]
    scale: 2
    restart: unless-stopped
    stop_grace_period: 2s
`,
  );
  const ids = async () =>
    (await docker.listContainers({ all: true, filters }))
      .map((c) => `${c.Names[0]} ${c.State} ${c.Id}`)
      .sort();
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '60'], { timeoutMs: 90_000 });
    const before = await ids();
    assert.equal(before.length, 2);
    const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    const load = requestLoop(port);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(state.daemonPid, 'SIGKILL');
    await waitFor('the daemon gone', () => !pidAlive(state.daemonPid), 5000);
    await waitFor(
      'a new daemon with both containers running',
      async () => {
        const rows = await box.psNow(false).catch(() => []);
        return rows.filter((r) => r.State === 'running').length === 2;
      },
      30_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    await load.stop();
    assert.equal(load.counts.failed, 0, load.counts.errors.join('; '));
    assert.deepEqual(await ids(), before, 'adopted, not recreated');

    box.ok(['up', '-d'], { timeoutMs: 60_000 });
    assert.deepEqual(await ids(), before, 'up -d made no second copy');
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
    await cleanup();
  }
});

test('down after the daemon and its proxy were killed removes the containers and network', async () => {
  const { docker, project, box, filters, cleanup } = await dockerBox(
    'killdown',
    (image) => `  web:
    image: ${image}
    expose: ["8080"]
    stop_grace_period: 2s
`,
  );
  const containers = async () => (await docker.listContainers({ all: true, filters })).length;
  const networks = async () => (await docker.listNetworks({ filters })).map((n) => n.Name);
  try {
    box.ok(['up', '-d'], { timeoutMs: 60_000 });
    assert.equal(await containers(), 1);
    assert.deepEqual(await networks(), [`${project}_default`]);
    const state = JSON.parse(readFileSync(join(box.stateDir, 'state.json'), 'utf8')) as {
      daemonPid: number;
    };
    // The whole herd dies: the proxy (held first, so it cannot start the daemon again) too.
    const primary = proxyPrimaryOf(box.stateDir);
    process.kill(primary, 'SIGSTOP');
    process.kill(state.daemonPid, 'SIGKILL');
    process.kill(-primary, 'SIGKILL');
    await waitFor('the daemon gone', () => !pidAlive(state.daemonPid) && !pidAlive(primary), 5000);

    const out = box.ok(['down'], { timeoutMs: 60_000 });
    assert.match(out, /1 container\(s\) of .* Removed/);
    assert.equal(await containers(), 0, 'the containers are removed');
    assert.deepEqual(await networks(), [], 'the network is removed');
    assert.ok(!existsSync(join(box.stateDir, 'state.json')), 'the state is forgotten');
  } finally {
    await cleanup();
  }
});
