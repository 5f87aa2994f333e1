// kill, restart, stop and start from the binary, against one detached stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, httpGet, pidAlive, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';

const app = `
const http = require('node:http');
const who = 'web-' + process.env.HERD_REPLICA;
const s = http.createServer((q, r) => r.end(who + ' pid ' + process.pid));
s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log(who + ' listening'));
process.on('SIGTERM', () => { console.log(who + ' bye'); s.close(() => process.exit(0)); });
process.on('SIGHUP', () => console.log(who + ' got SIGHUP'));
`;

const compose = `
name: verbs-life
services:
  web:
    command: ["node", "app.js"]
    scale: 2
    restart: unless-stopped
    stop_grace_period: 3s
    ports: ["\${WEB_PORT}:5000"]
    # Ready means answering: a replacement gets traffic only once it listens.
    healthcheck:
      test: ["CMD", "node", "-e", "require('net').connect(+process.env.PORT, '127.0.0.1').on('connect', () => process.exit(0)).on('error', () => process.exit(1))"]
      interval: 5s
      start_period: 10s
      start_interval: 200ms
  worker:
    command: ["node", "-e", "let n = 0; setInterval(() => console.log('tick ' + ++n), 200)"]
    restart: unless-stopped
`;

function makeBox(port: number): Sandbox {
  const root = mkdtempSync(join(tmpdir(), 'herd-e2e-verbs-life-'));
  const dir = join(root, 'verbs');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'compose.yaml'), compose);
  return sandbox(root, dir, { WEB_PORT: String(port) });
}

test('kill -s, kill, restart under load, stop and start', async () => {
  const port = await freePort();
  const box = makeBox(port);
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    // kill -s HUP reaches the app; kill (SIGKILL) makes it restart.
    box.ok(['kill', '-s', 'HUP', 'web']);
    await waitFor('SIGHUP logged', () => /web-1 got SIGHUP/.test(box.ok(['logs', 'web'])), 5000);
    // kill (SIGKILL, as `docker kill`) is a manual stop: the worker stays down until started.
    const workerPid = (await box.psNow(false)).find((r) => r.Service === 'worker')!.Pid!;
    box.ok(['kill', 'worker']);
    await waitFor('worker killed', async () => {
      const w = (await box.psNow()).find((r) => r.Service === 'worker');
      return w && w.State === 'exited' && w.ExitCode === 137;
    });
    assert.equal(pidAlive(workerPid), false);
    box.ok(['start', 'worker']);
    await waitFor('worker running again', async () =>
      (await box.psNow(false)).some((r) => r.Service === 'worker' && r.State === 'running'),
    );

    // restart keeps serving: requests during the restart all succeed.
    const before = box
      .ps(false)
      .filter((r) => r.Service === 'web')
      .map((r) => r.Pid);
    const failures: string[] = [];
    let sent = 0;
    let loop = true;
    const client = (async () => {
      const end = Date.now() + 20_000;
      while (loop && Date.now() < end) {
        sent++;
        const r = await httpGet(port).catch((e: Error) => ({ status: 0, body: e.message }));
        if (r.status !== 200) failures.push(`${r.status} ${r.body}`.trim());
      }
    })();
    const restarted = await box.run(['restart', 'web']);
    loop = false;
    assert.equal(restarted.status, 0, restarted.stderr);
    await client;
    const after = (await box.psNow(false)).filter((r) => r.Service === 'web');
    assert.equal(after.length, 2);
    for (const r of after) assert.ok(!before.includes(r.Pid), `${r.Name} was not restarted`);
    assert.deepEqual(failures, [], `${failures.length} of ${sent} requests failed during restart`);

    // stop / start one service
    box.ok(['stop', 'worker']);
    const w = (await box.psNow()).find((r) => r.Service === 'worker')!;
    assert.equal(w.State, 'exited');
    box.ok(['start', 'worker']);
    await waitFor('worker running again', async () =>
      (await box.psNow(false)).some((r) => r.Service === 'worker' && r.State === 'running'),
    );
  } finally {
    box.cleanup();
  }
});
