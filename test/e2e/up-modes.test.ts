// `herd up` in its modes: the foreground up serves the control API too; --wait fails clearly on
// a replica that exits or a healthcheck that never passes (and the daemon keeps running); `up`
// against a running daemon applies the file's changes and scales.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { freePort, httpGet, pidAlive, sandbox, waitFor, type Sandbox } from '../helpers/e2e.ts';
import { tempDir } from '../helpers/tmp.ts';

const app = `
const http = require('node:http');
const s = http.createServer((q, r) => r.end((process.env.GREETING || 'hi') + ' from ' + process.env.HERD_REPLICA));
s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening'));
process.on('SIGTERM', () => s.close(() => process.exit(0)));
`;

function box(compose: string, env: Record<string, string> = {}): Sandbox {
  const root = tempDir('e2e-modes');
  const dir = join(root, 'modes');
  mkdirSync(dir);
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'compose.yaml'), compose);
  return sandbox(root, dir, env);
}

test('a foreground herd up answers ps and scale, and herd down ends it', async () => {
  const port = await freePort();
  const b = box(
    `
name: fg
services:
  web:
    command: ["node", "app.js"]
    ports: ["${port}:5000"]
`,
  );
  const up = b.spawn(['up']);
  try {
    await waitFor('web listening', () => /web-1\s+\| listening/.test(up.output()), 15_000);
    await waitFor('the control API', async () => (await b.psNow(false)).length === 1);
    const r = await b.run(['scale', 'web=2']);
    assert.equal(r.status, 0, r.stderr);
    await waitFor('second replica in the foreground output', () =>
      /web-2\s+\| listening/.test(up.output()),
    );
    assert.deepEqual((await b.run(['ps', '-q'])).stdout.trim().split('\n'), [
      'fg-web-1',
      'fg-web-2',
    ]);
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await httpGet(port)).body);
    assert.deepEqual([...bodies].sort(), ['hi from 1', 'hi from 2']);
    const pids = (await b.psNow(false)).map((x) => x.Pid!);
    const down = await b.run(['down']);
    assert.equal(down.status, 0, down.stderr);
    await waitFor('the foreground up ended', () => up.child.exitCode !== null, 10_000);
    assert.equal(up.child.exitCode, 0);
    for (const pid of pids) assert.equal(pidAlive(pid), false);
  } finally {
    await up.stop();
    b.cleanup();
  }
});

test('up --wait names a replica that failed or timed out; the daemon keeps running', async () => {
  const b = box(`
name: waits
services:
  job:
    command: ["node", "-e", "process.exit(3)"]
  typo:
    command: ["herd-no-such-command", "--serve"]
    restart: always
  slow:
    command: ["node", "-e", "setInterval(() => {}, 1000)"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 100
`);
  try {
    const failed = b.herd(['up', '-d', '--wait', '--wait-timeout', '20', 'job']);
    assert.equal(failed.status, 1);
    assert.match(failed.stderr, /not every service came up: job-1 exited with code 3/);
    b.ok(['down']);

    // A command that cannot start fails --wait at its first attempt, with the reason, although
    // restart: always would try it again (Compose fails on the start error too).
    const t1 = Date.now();
    const typo = b.herd(['up', '-d', '--wait', '--wait-timeout', '60', 'typo']);
    assert.equal(typo.status, 1);
    assert.match(
      typo.stderr,
      /not every service came up: typo-1 could not start: command not found: herd-no-such-command/,
    );
    assert.ok(Date.now() - t1 < 20_000, `took ${Date.now() - t1} ms`);
    b.ok(['down']);

    const t0 = Date.now();
    const slow = b.herd(['up', '--wait', '--wait-timeout', '2', 'slow']);
    assert.equal(slow.status, 1);
    assert.match(slow.stderr, /timed out after 2 s waiting for the stack to be ready: slow-1 is/);
    assert.ok(Date.now() - t0 < 15_000);
    // Like Compose: the stack stays up for a look at what went wrong.
    assert.equal((await b.psNow(false))[0]?.State, 'running');

    const bad = b.herd(['up', '-d', '--wait-timeout', '5']);
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /--wait-timeout only applies with --wait/);
  } finally {
    b.cleanup();
  }
});

test('up against a running daemon applies a changed file and --scale', async () => {
  const port = await freePort();
  const compose = (greeting: string) => `
name: apply
services:
  web:
    command: ["node", "app.js"]
    environment: {GREETING: ${greeting}}
    ports: ["${port}:5000"]
  other:
    command: ["node", "-e", "setInterval(() => {}, 1000)"]
`;
  const b = box(compose('hello'));
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const otherPid = (await b.psNow(false)).find((r) => r.Service === 'other')!.Pid;
    assert.equal((await httpGet(port)).body, 'hello from 1');
    writeFileSync(join(b.dir, 'compose.yaml'), compose('bonjour'));
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30', '--scale', 'web=2']);
    const rows = await b.psNow(false);
    assert.equal(rows.filter((r) => r.Service === 'web').length, 2);
    // The unchanged service was left alone.
    assert.equal(rows.find((r) => r.Service === 'other')!.Pid, otherPid);
    const bodies = new Set<string>();
    for (let i = 0; i < 4; i++) bodies.add((await httpGet(port)).body);
    assert.deepEqual([...bodies].sort(), ['bonjour from 1', 'bonjour from 2']);
  } finally {
    b.cleanup();
  }
});

test("up against a running daemon applies the caller's file and environment, ports included", async () => {
  const [first, second, api] = [await freePort(), await freePort(), await freePort()];
  const compose = (extra = '') => `
name: apply-env
services:
  web:
    command: ["node", "app.js"]
    environment: {GREETING: "\${GREETING:-hello}"}
    ports: ["\${WEB_PORT}:5000"]
${extra}`;
  const b = box(compose(), { WEB_PORT: String(first) });
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    assert.equal((await httpGet(first)).body, 'hello from 1');
    // A new shell environment and a new service: the daemon must see what this `up` loaded, not
    // re-read the file with the environment it was started with.
    b.env.GREETING = 'bonjour';
    b.env.WEB_PORT = String(second);
    writeFileSync(
      join(b.dir, 'compose.yaml'),
      compose(`  api:
    command: ["node", "app.js"]
    ports: ["${api}:5000"]
`),
    );
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    assert.equal((await httpGet(second)).body, 'bonjour from 1');
    assert.match((await httpGet(api)).body, / from 1$/);
    // The port the file no longer publishes is closed.
    await assert.rejects(httpGet(first), /ECONNREFUSED/);
    const ports = b.ok(['port', 'web', '5000']).trim();
    assert.equal(ports, `0.0.0.0:${second}`);
  } finally {
    b.cleanup();
  }
});

test('stop -t and down -t replace the grace period of a service that ignores SIGTERM', async () => {
  const b = box(`
name: timeouts
services:
  stubborn:
    command: ["node", "-e", "process.on('SIGTERM', () => console.log('ignoring SIGTERM')); setInterval(() => {}, 1000)"]
    scale: 2
    stop_grace_period: 60s
`);
  try {
    b.ok(['up', '-d', '--wait', '--wait-timeout', '30']);
    const bad = b.herd(['stop', '-t', 'soon']);
    assert.notEqual(bad.status, 0);
    assert.match(bad.stderr, /--timeout soon: expected a whole number of seconds/);
    const pid = (await b.psNow(false)).find((r) => r.Name === 'timeouts-stubborn-1')!.Pid!;
    let t0 = Date.now();
    b.ok(['stop', '-t', '1', 'stubborn'], { timeoutMs: 30_000 });
    const stopped = Date.now() - t0;
    assert.ok(stopped >= 900 && stopped < 15_000, `stop -t 1 took ${stopped} ms`);
    assert.equal(pidAlive(pid), false);
    assert.match(b.ok(['logs', 'stubborn']), /ignoring SIGTERM/);
    assert.ok((await b.psNow()).every((r) => r.State === 'exited' && r.ExitCode === 137));

    b.ok(['start']);
    await waitFor(
      'running again',
      async () => (await b.psNow(false)).filter((r) => r.State === 'running').length === 2,
    );
    t0 = Date.now();
    b.ok(['down', '-t', '0'], { timeoutMs: 30_000 });
    assert.ok(Date.now() - t0 < 15_000, `down -t 0 took ${Date.now() - t0} ms`);
  } finally {
    b.cleanup();
  }
});

test('up -d whose daemon fails after it answered (a metrics port in use) says why', async () => {
  const taken = createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const busy = (taken.address() as AddressInfo).port;
  const b = box(
    `name: modesfail
x-herd:
  metrics: { listen: "127.0.0.1:${busy}" }
services:
  web:
    command: ["node", "app.js"]
    ports: ["${await freePort()}:8000"]
`,
  );
  try {
    const up = b.herd(['up', '-d']);
    assert.notEqual(up.status, 0, up.stdout);
    assert.match(up.stderr, /stopped during start-up/);
    assert.match(up.stderr, new RegExp(`127\\.0\\.0\\.1:${busy}.*EADDRINUSE|EADDRINUSE.*${busy}`));
    assert.doesNotMatch(up.stderr, /no herd daemon running/);
  } finally {
    b.cleanup();
    taken.close();
  }
});
