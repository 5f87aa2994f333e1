// The client verbs end to end against a real daemon socket (served with the transport fake).
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pathsFor } from '../../src/daemon/paths.ts';
import { LogStore } from '../../src/logs/store.ts';
import { prepareDaemon, type DaemonSession } from '../../src/daemon/session.ts';
import {
  replica,
  testProject,
  testService,
  TransportTestEngine,
} from '../helpers/daemon-transport-fake.ts';
import { tempDir } from '../helpers/tmp.ts';

const runner = fileURLToPath(new URL('../helpers/daemon-cli-run.ts', import.meta.url));

/** Runs `herd <args>` as a separate process, as a user would; rejects with stderr on failure. */
function herd(...args: string[]): Promise<{ out: string; help: string }> {
  return herdWith({}, ...args);
}

function herdWith(
  env: Record<string, string | undefined>,
  ...args: string[]
): Promise<{ out: string; help: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      env: { ...process.env, ...env },
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('exit', (code) =>
      code === 0 ? resolve({ out, help: out }) : reject(new Error(`exit ${code}: ${err}`)),
    );
  });
}

describe('herd client verbs against a daemon', () => {
  let session: DaemonSession;
  const engine = new TransportTestEngine();
  let downCalled = false;
  const savedStateDir = process.env.HERD_STATE_DIR;

  before(async () => {
    process.env.HERD_STATE_DIR = join(tempDir('cli'), 'state');
    const project = testProject('shop', [
      testService('web', {
        scale: 2,
        ports: [{ target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' }],
      }),
      testService('db'),
    ]);
    engine.list = [
      replica('shop', 'web', 1, { startedAt: Date.now() - 5 * 60_000, health: 'healthy' }),
      replica('shop', 'web', 2, {
        state: 'exited',
        lastExit: { exitCode: 137 },
        finishedAt: Date.now() - 3 * 60_000,
      }),
      replica('shop', 'db', 1),
    ];
    session = await prepareDaemon(project, { paths: pathsFor('shop') });
    await session.serve(engine, { onDown: () => (downCalled = true) });
    session.logs.append('shop-web-1', { t: 1, stream: 'stdout', line: 'listening on 5000' });
    session.logs.append('shop-db-1', {
      t: 2,
      stream: 'stderr',
      line: 'ready to accept connections',
    });
  });

  after(async () => {
    await session.close();
    process.env.HERD_STATE_DIR = savedStateDir;
  });

  // Each call is a separate process (~1 s under load), so independent calls run together and
  // argument checks that never reach the daemon are left to the unit tests.
  it('ps prints the Compose-style table, -a adds exited replicas, -q names only', async () => {
    const [table, all, quiet, json] = await Promise.all([
      herd('-p', 'shop', 'ps'),
      herd('-p', 'shop', 'ps', '-a'),
      herd('-p', 'shop', 'ps', '-q', 'db'),
      herd('-p', 'shop', 'ps', '--format', 'json'),
    ]);
    const lines = table.out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+SERVICE\s+STATUS\s+RESTARTS\s+PORTS\s+PID\s+CPU %\s+MEM$/);
    assert.match(
      table.out,
      /shop-web-1\s+web\s+Up 5 minutes \(healthy\)\s+0\s+0\.0\.0\.0:8080->5000\/tcp/,
    );
    assert.equal(lines.length, 3, 'the exited replica is hidden without -a');
    assert.match(all.out, /shop-web-2\s+web\s+Exited \(137\) 3 minutes ago/);
    assert.equal(quiet.out, 'shop-db-1\n');
    assert.equal(JSON.parse(json.out.trim().split('\n')[0]!).Service, 'web');
  });

  it('scale reaches the daemon, which rejects unknown services', async () => {
    const [ok, unknown] = await Promise.allSettled([
      herd('-p', 'shop', 'scale', 'web=3'),
      herd('-p', 'shop', 'scale', 'ghost=2'),
    ]);
    assert.equal(ok.status === 'fulfilled' && ok.value.out, 'web: 2 -> 3\n');
    assert.match(String(unknown.status === 'rejected' && unknown.reason), /no such service: ghost/);
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('setScale')),
      ['setScale web 3'],
    );
  });

  it('logs prints stored output with prefixes, or bare with --no-log-prefix', async () => {
    const [prefixed, bare] = await Promise.all([
      herd('-p', 'shop', 'logs', '--no-color'),
      herd('-p', 'shop', 'logs', '--no-log-prefix', 'db'),
    ]);
    assert.equal(
      prefixed.out,
      'web-1  | listening on 5000\ndb-1   | ready to accept connections\n',
    );
    assert.equal(bare.out, 'ready to accept connections\n');
  });

  it('stop and kill name the services and signal to the daemon; port answers', async () => {
    const [stop, , port] = await Promise.all([
      herd('-p', 'shop', 'stop', 'db'),
      herd('-p', 'shop', 'kill', '-s', 'HUP', 'db'),
      herd('-p', 'shop', 'port', 'web', '5000'),
    ]);
    assert.match(stop.out, /✔ shop-db-1\s+Stopped/);
    assert.ok(engine.calls.includes('stop db'));
    assert.ok(engine.calls.includes('kill SIGHUP db'));
    assert.equal(port.out, '0.0.0.0:8080\n');
  });

  it('verbs for another project say no daemon runs and how to start one', async () => {
    const elsewhere = {
      HERD_STATE_DIR: undefined,
      XDG_STATE_HOME: tempDir('xdg'),
    };
    const [none, shared] = await Promise.allSettled([
      herdWith(elsewhere, '-p', 'other', 'scale', 'web=2'),
      // A shared HERD_STATE_DIR must not let one project's verbs act on another's daemon.
      herd('-p', 'other', 'ps'),
    ]);
    assert.match(
      String(none.status === 'rejected' && none.reason),
      /no herd daemon running for project other; start it with `herd up -d`/,
    );
    assert.match(
      String(shared.status === 'rejected' && shared.reason),
      /runs project shop, not other/,
    );
  });

  it('logs reads the stored files when the daemon is gone', async () => {
    const xdg = tempDir('xdg');
    const store = new LogStore(join(xdg, 'herd', 'gone', 'logs'), 'gone');
    store.append('gone-api-1', { t: 1, stream: 'stdout', line: 'last words' });
    store.append('gone-api-10', { t: 2, stream: 'stdout', line: 'aligned' });
    store.close();
    const { out } = await herdWith(
      { HERD_STATE_DIR: undefined, XDG_STATE_HOME: xdg },
      '-p',
      'gone',
      'logs',
    );
    assert.equal(out, 'api-1   | last words\napi-10  | aligned\n');
  });

  it('down stops the daemon', async () => {
    await herd('-p', 'shop', 'down');
    assert.ok(engine.calls.includes('shutdown'));
    for (let i = 0; i < 50 && !downCalled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(downCalled, true);
  });
});
