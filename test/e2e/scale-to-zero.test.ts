// Scale to zero through the `herd` binary: a service with `autoscale: { min: 0, idle }` loses
// every replica after the idle window, `ps` shows it idle (not stopped), and the next requests
// are held by the balancer while a fresh replica boots — longer than the default 5 s hold — and
// all answered 200 by it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, sandbox, waitFor } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Boots at once the first time; every later boot (the wake-up) takes 6 s before it listens. */
const APP = `
const fs = require('fs');
const http = require('http');
const later = fs.existsSync('booted');
fs.writeFileSync('booted', '');
const serve = () =>
  http.createServer((req, res) => res.end(process.pid + '\\n')).listen(+process.env.PORT, '127.0.0.1');
setTimeout(serve, later ? 6000 : 0);
process.on('SIGTERM', () => process.exit(0));
`;

test('idle → 0 replicas; the next requests are held and answered 200 by a fresh replica', async () => {
  const web = await freePort();
  const root = tempDir('e2e-zero');
  const dir = join(root, 'p');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), APP);
  writeFileSync(
    join(dir, 'compose.yaml'),
    `name: zero${process.pid}
services:
  web:
    command: [node, app.js]
    ports: ["127.0.0.1:${web}:5000"]
    x-herd:
      autoscale: { min: 0, max: 2, rps: 50, idle: 3s }
`,
  );
  const box = sandbox(root, dir);
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const first = await httpGet(web);
    assert.equal(first.status, 200);
    await waitFor(
      'web scaled to zero',
      async () => (await box.psNow(true)).every((r) => r.State !== 'running'),
      20_000,
    );
    const ps = box.ok(['ps']);
    assert.match(
      ps,
      /web: scaled to zero \(idle\) .* ago, after 3 seconds without a request; the next request starts a replica \(min 0, max 2\)/,
    );
    assert.doesNotMatch(ps, /web-1 .*Up/);

    const started = Date.now();
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => httpGet(web, '/', { timeoutMs: 30_000 })),
    );
    const waited = Date.now() - started;
    assert.deepEqual(
      answers.map((a) => a.status),
      [200, 200, 200, 200, 200],
      'no request lost',
    );
    const pids = new Set(answers.map((a) => a.body));
    assert.equal(pids.size, 1, 'one fresh replica answered them all');
    assert.notEqual([...pids][0], first.body, 'a new replica, not the one scaled away');
    assert.ok(
      waited >= 5500,
      `held while the replica booted (6 s), past the 5 s default: ${waited}`,
    );

    const after = box.ok(['ps']);
    assert.match(
      after,
      /web: 1 wanted \(min 0, max 2\).*last decision .* ago: a request is waiting at the balancer and no replica runs \(scaled to zero\): 0 → 1/,
    );
  } finally {
    box.cleanup();
  }
});
