// `herd up` as a user runs it: a real compose file, the real binary, Ctrl-C at the end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { pidAlive, waitUntil } from '../helpers/wait.ts';
import { tempDir } from '../helpers/tmp.ts';

const herd = fileURLToPath(new URL('../../bin/herd.js', import.meta.url));

/** The environment of a herd run in `dir`: its state stays in the project's temp dir. */
function envFor(dir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  return { ...process.env, HERD_STATE_DIR: join(dir, '.state'), ...extra };
}

/** Runs `herd ARGS` to completion in `dir`. */
function herdIn(dir: string, args: string[], opts: Omit<SpawnSyncOptions, 'encoding'> = {}) {
  const options = { cwd: dir, env: envFor(dir), ...opts, encoding: 'utf8' as const };
  return spawnSync(process.execPath, [herd, ...args], options);
}

const app = `
const http = require('node:http');
const s = http.createServer((q, r) => r.end('hi from ' + process.env.HERD_REPLICA + ' pid ' + process.pid));
s.listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening ' + process.env.PORT + ' pid ' + process.pid));
process.on('SIGTERM', () => { console.log('bye'); s.close(); process.exit(0); });
`;

function project(compose: string): string {
  const dir = tempDir('e2e-up');
  writeFileSync(join(dir, 'app.js'), app);
  writeFileSync(join(dir, 'compose.yaml'), compose);
  return dir;
}

test('herd up runs, prefixes output, serves HTTP, and stops gracefully on Ctrl-C', async () => {
  const dir = project(`
name: e2eup
services:
  init:
    command: ["node", "-e", "console.log('migrated')"]
  web:
    command: ["node", "app.js"]
    depends_on:
      init: {condition: service_completed_successfully}
`);
  const env = envFor(dir, { NO_COLOR: '1' });
  const child = spawn(process.execPath, [herd, 'up', '--scale', 'web=2'], { cwd: dir, env });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const listening = await waitUntil(
      'two web replicas listening',
      () => {
        const m = [...out.matchAll(/^web-(\d)\s+\| listening (\d+) pid (\d+)$/gm)];
        return m.length === 2 && m;
      },
      15_000,
    );
    assert.match(out, /^init-1\s+\| migrated$/m);
    // Output order: the one-shot finished before web started.
    assert.ok(out.indexOf('migrated') < out.indexOf('listening'));
    for (const m of listening) {
      const body = await (await fetch(`http://127.0.0.1:${m[2]}/`)).text();
      assert.equal(body, `hi from ${m[1]} pid ${m[3]}`);
    }
    child.kill('SIGINT');
    const code = await exited;
    assert.equal(code, 130);
    assert.match(out, /Gracefully stopping/);
    assert.equal(out.match(/^web-\d\s+\| bye$/gm)?.length, 2);
    for (const m of listening) assert.equal(pidAlive(Number(m[3])), false);
    // As with Compose's stopped containers, the output stays readable after Ctrl-C…
    const logs = herdIn(dir, ['logs', 'web'], { env });
    assert.equal(logs.status, 0, logs.stderr);
    assert.equal(logs.stdout.match(/^web-\d\s+\| bye$/gm)?.length, 2, logs.stdout);
    // …until `down` removes what herd kept.
    assert.equal(herdIn(dir, ['down'], { env }).status, 0);
    assert.equal(existsSync(join(dir, '.state')), false);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('herd up --scale with an unknown service or a bad count is a clear error', () => {
  const dir = project(`
services:
  web:
    command: ["node", "app.js"]
`);
  const bad = herdIn(dir, ['up', '--scale', 'nope=2']);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /^herd: --scale nope=2: no such service "nope" \(services: web\)/);
  const neg = herdIn(dir, ['up', '--scale', 'web=-1']);
  assert.equal(neg.status, 1);
  assert.match(neg.stderr, /--scale web=-1: "-1" is not a whole number/);
});

test('herd up refuses an image-only service without a Docker engine, saying what to do', () => {
  const dir = project(`
services:
  db:
    image: postgres:16
`);
  const r = herdIn(dir, ['up'], {
    // An engine that is surely not there, whatever this machine runs.
    env: envFor(dir, { DOCKER_HOST: `unix://${join(dir, 'no-docker.sock')}` }),
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /service "db" \(image postgres:16\) needs a Docker engine/);
  assert.match(r.stderr, /DOCKER_HOST=/);
});

test('a second Ctrl-C kills at once, without waiting for the grace period', async () => {
  const dir = project(`
services:
  stubborn:
    command: ["node", "-e", "process.on('SIGTERM', () => console.log('ignored')); console.log('up ' + process.pid); setInterval(() => {}, 1000)"]
    stop_grace_period: 60s
`);
  const child = spawn(process.execPath, [herd, 'up'], {
    cwd: dir,
    env: envFor(dir, { NO_COLOR: '1' }),
  });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    const pid = Number(
      (await waitUntil('up', () => /\| up (\d+)/.exec(out) ?? undefined, 15_000))[1],
    );
    child.kill('SIGINT');
    await waitUntil('first signal seen', () => out.includes('ignored'), 5000);
    const t0 = Date.now();
    child.kill('SIGINT');
    assert.equal(await exited, 130);
    assert.ok(Date.now() - t0 < 5000);
    await waitUntil('replica killed', () => !pidAlive(pid), 3000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('herd up returns 0 once every replica has exited for good', () => {
  const dir = project(`
services:
  once:
    command: ["node", "-e", "console.log('done')"]
`);
  const r = herdIn(dir, ['up', '--no-color'], {
    timeout: 20_000,
  });
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^once-1\s+\| done$/m);
  assert.match(r.stdout, /once-1 exited with code 0/);
});

test('Ctrl-C while a dependant still waits for a healthy dependency ends herd up', async () => {
  const dir = project(`
services:
  db:
    command: ["node", "-e", "console.log('db up'); setInterval(() => {}, 1000)"]
    healthcheck:
      test: ["CMD", "false"]
      interval: 1s
      retries: 100
  api:
    command: ["node", "app.js"]
    depends_on:
      db: {condition: service_healthy}
`);
  const child = spawn(process.execPath, [herd, 'up'], { cwd: dir, env: envFor(dir) });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  child.stderr.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitUntil('db started', () => out.includes('db up'), 15_000);
    child.kill('SIGTERM');
    assert.equal(await exited, 0, out);
    assert.doesNotMatch(out, /listening/);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});

test('--abort-on-container-exit stops everything and exits with that code', () => {
  const dir = project(`
services:
  web:
    command: ["node", "app.js"]
  job:
    command: ["node", "-e", "setTimeout(() => process.exit(3), 1500)"]
`);
  const r = herdIn(dir, ['up', '--abort-on-container-exit', '--no-color'], {
    timeout: 20_000,
  });
  assert.equal(r.status, 3, r.stdout + r.stderr);
  assert.match(r.stdout, /Aborting on container exit/);
  assert.match(r.stdout, /^web-1\s+\| bye$/m);
});

test('a foreground herd up whose output reader goes away stops its replicas, as on SIGHUP', async () => {
  const dir = project(`
name: e2epipe
services:
  ticker:
    command: ["node", "-e", "console.log('pid ' + process.pid); setInterval(() => console.log('tick'), 100)"]
`);
  const env = envFor(dir, { NO_COLOR: '1' });
  const child = spawn(process.execPath, [herd, 'up'], { cwd: dir, env });
  let err = '';
  child.stderr.on('data', (d) => (err += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    let out = '';
    const pid = await new Promise<number>((resolve) =>
      child.stdout.on('data', (d) => {
        out += d;
        const m = /pid (\d+)/.exec(out);
        if (m) resolve(Number(m[1]));
      }),
    );
    child.stdout.destroy(); // `herd up | head -1`: the reader is gone, the next write fails
    await exited;
    assert.doesNotMatch(err, /unexpected error|EPIPE|EIO/);
    await waitUntil('the replica stopped', () => !pidAlive(pid), 10_000);
  } finally {
    if (child.exitCode === null) child.kill('SIGKILL');
  }
});
