// Issue 6: ps, logs, top, events and port answer for Docker containers as they do for processes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { dockerBox } from '../helpers/docker-box.ts';
import { freePort, waitFor, scaledEventsDuring } from '../helpers/e2e.ts';

// Docker runs the check inside the container; the image has node but no curl.
const HEALTH = `fetch('http://127.0.0.1:8080/').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))`;

test('ps, port, logs, top, events and down for a scaled container service', async () => {
  const port = await freePort();
  const { docker, project, box, filters, cleanup } = await dockerBox(
    'verbs',
    (image) => `  web:
    image: ${image}
    ports: ["127.0.0.1:${port}:8080"]
    scale: 2
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD", "node", "-e", ${JSON.stringify(HEALTH)}]
      interval: 1s
      timeout: 3s
      retries: 3
`,
  );
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '40'], { timeoutMs: 60_000 });

    const rows = box.ps().filter((r) => r.Service === 'web');
    assert.deepEqual(
      rows.map((r) => `${r.Name} ${r.State} ${r.Health}`),
      [1, 2].map((i) => `${project}-web-${i} running healthy`),
    );
    for (const r of rows) {
      assert.match(r.Status, /^Up .*\(healthy\)/, r.Status);
      // The pid herd shows is the container's main process as the engine reports it (a host pid).
      const state = (await docker.getContainer(r.Name).inspect()).State;
      assert.equal(r.Pid, state.Pid, `${r.Name} pid`);
      assert.equal(state.Health?.Status, 'healthy', `${r.Name}: Docker ran the healthcheck`);
    }

    assert.equal(box.ok(['port', 'web', '8080']).trim(), `127.0.0.1:${port}`);

    const logs = box.ok(['logs', 'web']);
    assert.match(logs, /^web-1\s+\| listening on 8080$/m, logs);
    assert.match(logs, /^web-2\s+\| listening on 8080$/m, logs);

    const top = box.ok(['top', 'web']);
    // Each replica's section lists its main process with a pid and a resident size.
    for (const r of rows) {
      const line = new RegExp(
        `^${r.Name}\\n.*\\n\\d+\\s+${r.Pid}\\s+\\d+\\s+\\S+\\s+[\\d.]+[KMG]iB\\s+.*node /app/app\\.mjs$`,
        'm',
      );
      assert.match(top, line, top);
    }

    assert.deepEqual(await scaledEventsDuring(box, 'web=3'), [{ service: 'web', from: 2, to: 3 }]);

    // ps's State is already `running` while the engine is still starting a replica (Status
    // `Starting`, no pid), so wait for it to be up with a pid.
    const third = await waitFor(
      'web-3 up with a pid',
      async () =>
        (await box.psNow(false)).find(
          (r) => r.Index === 3 && r.Pid !== null && r.Status.startsWith('Up'),
        ),
      20_000,
    );
    assert.equal(third.Pid, (await docker.getContainer(third.Name).inspect()).State.Pid);
    assert.equal((await docker.listContainers({ filters })).length, 3);

    box.ok(['down'], { timeoutMs: 60_000 });
    assert.deepEqual(await docker.listContainers({ all: true, filters }), []);
    assert.deepEqual(await docker.listNetworks({ filters }), []);
  } finally {
    await cleanup();
  }
});
