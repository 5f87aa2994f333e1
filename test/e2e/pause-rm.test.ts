// `herd pause`/`unpause` and `herd rm` through the binary: a paused replica is frozen (its
// process makes no progress), leaves the balancer at once, is neither health-killed nor restarted,
// and comes back on unpause; rm forgets exited replicas and refuses running ones without -s.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, httpGet, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

// Writes the time to tick-<replica> every 100 ms: a frozen replica's file stops changing.
const APP = `const http = require('http');
const fs = require('fs');
const tick = 'tick-' + process.env.HERD_REPLICA;
setInterval(() => fs.writeFileSync(tick, String(Date.now())), 100);
const s = http.createServer((req, res) => res.end(process.env.HERD_SERVICE + '-' + process.env.HERD_REPLICA));
s.listen(+process.env.PORT, '127.0.0.1');
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

function box(name: string, port: number): Sandbox {
  const dir = join(tempDir(`pause-${name}`), name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(
    join(dir, 'compose.yaml'),
    `services:
  web:
    command: ["node", "app.js"]
    ports: ["127.0.0.1:${port}:5000"]
    stop_grace_period: 2s
    healthcheck:
      test: ["CMD-SHELL", "curl -sf -m 1 http://127.0.0.1:$$PORT/ >/dev/null"]
      interval: 500ms
      timeout: 1s
      retries: 1
      start_interval: 200ms
    deploy:
      replicas: 2
  job:
    command: ["sh", "-c", "exit 5"]
    restart: "no"
`,
  );
  writeFileSync(join(dir, 'app.js'), APP);
  return sandbox(join(dir, '..'), dir);
}

const tickOf = (b: Sandbox, replica: number): number =>
  Number(readFileSync(join(b.dir, `tick-${replica}`), 'utf8'));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test('pause freezes the replicas and takes them out of the balancer; unpause brings them back', async () => {
  const port = await freePort();
  const b = box('pz', port);
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '60', 'web']);
    const events = b.spawn(['events', '--json']);
    await sleep(500);
    assert.equal(b.ok(['pause', 'web']), ' ✔ pz-web-1  Paused\n ✔ pz-web-2  Paused\n');
    // out of the balancer at once, with the reason
    await waitFor(
      'two unready events',
      () => events.output().split('"reason":"paused"').length === 3,
      5000,
    );
    const rows = b.ps(false);
    assert.deepEqual(
      rows.map((r) => [r.Name, r.State]),
      [
        ['pz-web-1', 'paused'],
        ['pz-web-2', 'paused'],
      ],
    );
    assert.ok(
      rows.every((r) => /^Up .* \(Paused\)$/.test(r.Status)),
      rows.map((r) => r.Status).join(),
    );
    // frozen: no progress, and 3 s of failed healthchecks would have restarted it were it watched
    const before = [tickOf(b, 1), tickOf(b, 2)];
    await sleep(3000);
    assert.deepEqual([tickOf(b, 1), tickOf(b, 2)], before);
    const still = b.ps(false);
    assert.deepEqual(
      still.map((r) => [r.State, r.Restarts, r.Pid]),
      rows.map((r) => ['paused', 0, r.Pid]),
    );
    // pausing again: nothing to pause
    const again = b.herd(['pause', 'web']);
    assert.equal(again.status, 1);
    assert.match(again.stderr, /no running replica to pause in web/);

    assert.equal(b.ok(['unpause']), ' ✔ pz-web-1  Unpaused\n ✔ pz-web-2  Unpaused\n');
    await waitFor(
      'both replicas ready again',
      () => events.output().split('"type":"ready"').length >= 3,
      15_000,
    );
    assert.ok(tickOf(b, 1) > before[0]! || (await sleep(300), tickOf(b, 1) > before[0]!));
    const seen = new Set<string>();
    for (let i = 0; i < 10; i++) seen.add((await httpGet(port)).body);
    assert.deepEqual([...seen].sort(), ['web-1', 'web-2']);
    assert.ok(b.ps(false).every((r) => r.State === 'running' && r.Restarts === 0));
    await events.stop();
    // a paused replica stops gracefully (unpaused first), not after its grace period's SIGKILL
    b.ok(['pause', 'web']);
    b.ok(['stop', 'web']);
    assert.deepEqual(
      b.ps(true).map((r) => [r.Name, r.ExitCode]),
      [
        ['pz-web-1', 0],
        ['pz-web-2', 0],
      ],
    );
  } finally {
    b.cleanup();
  }
});

test('rm forgets exited replicas, refuses running ones without -s, and -s stops them first', async () => {
  const b = box('rmv', await freePort());
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '60', 'web']);
    b.ok(['up', '-d', 'job']);
    assert.equal(b.herd(['wait', 'job'], { timeoutMs: 30_000 }).status, 5);
    const refused = b.herd(['rm', 'web']);
    assert.equal(refused.status, 1);
    assert.match(
      refused.stderr,
      /cannot remove running replicas: rmv-web-1, rmv-web-2 .*herd rm -s/,
    );
    // without services: the exited job goes, running web is left alone
    assert.equal(b.ok(['rm', '-f']), ' ✔ rmv-job-1  Removed\n');
    assert.deepEqual(
      b.ps(true).map((r) => r.Name),
      ['rmv-web-1', 'rmv-web-2'],
    );
    assert.equal(b.ok(['rm', '-s', '-f', 'web']), ' ✔ rmv-web-1  Removed\n ✔ rmv-web-2  Removed\n');
    assert.deepEqual(b.ps(true), []);
    assert.equal(b.ok(['rm']), 'No stopped replicas\n');
    // nothing started them again; `start` does
    b.ok(['start', 'web']);
    assert.deepEqual(
      b.ps(false).map((r) => r.Name),
      ['rmv-web-1', 'rmv-web-2'],
    );
    assert.match(b.herd(['rm', 'nope']).stderr, /no such service: nope/);
  } finally {
    b.cleanup();
  }
});

test('pause, unpause and rm have --help with an example', () => {
  const b = box('hlp', 1);
  try {
    for (const verb of ['pause', 'unpause', 'rm'])
      assert.match(b.ok([verb, '--help']), new RegExp(`Examples?:\\n\\s+\\$ herd ${verb}`), verb);
  } finally {
    b.cleanup();
  }
});
