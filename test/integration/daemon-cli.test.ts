// The client verbs end to end against a real daemon socket (served with the transport fake).
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { pathsFor } from '../../src/daemon/paths.ts';
import { prepareDaemon, type DaemonSession } from '../../src/daemon/session.ts';
import {
  replica,
  testProject,
  testService,
  TransportTestEngine,
} from '../helpers/daemon-transport-fake.ts';

const runner = fileURLToPath(new URL('../helpers/daemon-cli-run.ts', import.meta.url));

/** Runs `herd <args>` as a separate process, as a user would; rejects with stderr on failure. */
function herd(...args: string[]): Promise<{ out: string; help: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', runner, ...args], {
      env: process.env,
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
    process.env.HERD_STATE_DIR = join(mkdtempSync(join(tmpdir(), 'herd-cli-')), 'state');
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
        finishedAt: Date.now() - 3000,
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

  it('ps prints the Compose-style table, -a adds exited replicas, -q names only', async () => {
    const { out } = await herd('-p', 'shop', 'ps');
    const lines = out.trim().split('\n');
    assert.match(lines[0]!, /^NAME\s+SERVICE\s+STATUS\s+RESTARTS\s+PORTS/);
    assert.match(
      out,
      /shop-web-1\s+web\s+Up 5 minutes \(healthy\)\s+0\s+0\.0\.0\.0:8080->5000\/tcp/,
    );
    assert.equal(lines.length, 3);
    assert.match(
      (await herd('-p', 'shop', 'ps', '-a')).out,
      /shop-web-2\s+web\s+Exited \(137\) 3 seconds ago/,
    );
    assert.equal((await herd('-p', 'shop', 'ps', '-q', 'db')).out, 'shop-db-1\n');
    const json = (await herd('-p', 'shop', 'ps', '--format', 'json')).out.trim().split('\n');
    assert.equal(JSON.parse(json[0]!).Service, 'web');
    await assert.rejects(
      herd('-p', 'shop', 'ps', 'ghost'),
      /no such service: ghost \(services: web, db\)/,
    );
    await assert.rejects(herd('-p', 'shop', 'ps', '--format', 'yaml'), /expected table or json/);
  });

  it('scale validates locally and at the daemon', async () => {
    assert.equal((await herd('-p', 'shop', 'scale', 'web=3')).out, 'web: 2 -> 3\n');
    await assert.rejects(
      herd('-p', 'shop', 'scale', 'web=-1'),
      /web=-1: "-1" is not a whole number/,
    );
    await assert.rejects(
      herd('-p', 'shop', 'scale', 'web=two', 'db'),
      /"two" is not a whole number.*db: expected SERVICE=N/,
    );
    await assert.rejects(herd('-p', 'shop', 'scale', 'ghost=2'), /no such service: ghost/);
    assert.deepEqual(
      engine.calls.filter((c) => c.startsWith('setScale')),
      ['setScale web 3'],
    );
  });

  it('logs prints stored output with prefixes, or bare with --no-log-prefix', async () => {
    const { out } = await herd('-p', 'shop', 'logs', '--no-color');
    assert.equal(
      out,
      'shop-web-1  | listening on 5000\nshop-db-1   | ready to accept connections\n',
    );
    assert.equal(
      (await herd('-p', 'shop', 'logs', '--no-log-prefix', 'db')).out,
      'ready to accept connections\n',
    );
    await assert.rejects(
      herd('-p', 'shop', 'logs', '--tail', 'x'),
      /--tail x: expected a whole number/,
    );
    await assert.rejects(herd('-p', 'shop', 'logs', '--since', 'soon'), /--since soon/);
  });

  it('stop/start/restart/kill name the services to the daemon', async () => {
    assert.match((await herd('-p', 'shop', 'stop', 'db')).out, /✔ shop-db-1\s+Stopped/);
    await herd('-p', 'shop', 'start', 'db');
    await herd('-p', 'shop', 'restart');
    await herd('-p', 'shop', 'kill', '-s', 'HUP', 'db');
    assert.deepEqual(engine.calls.slice(-4), [
      'stop db',
      'start db',
      'restart *',
      'kill SIGHUP db',
    ]);
  });

  it('port prints the published address', async () => {
    assert.equal((await herd('-p', 'shop', 'port', 'web', '5000')).out, '0.0.0.0:8080\n');
    await assert.rejects(herd('-p', 'shop', 'port', 'web', 'http'), /expected a port number/);
  });

  it('every verb explains itself with an example in --help', async () => {
    for (const verb of [
      'ps',
      'scale',
      'logs',
      'stop',
      'start',
      'restart',
      'kill',
      'down',
      'port',
      'top',
      'events',
    ]) {
      const { help } = await herd(verb, '--help');
      assert.match(help, /Examples?:\n\s+\$ herd /, `${verb} --help has an example`);
    }
  });

  it('verbs for another project say no daemon runs and how to start one', async () => {
    await assert.rejects(
      herd('-p', 'other', 'ps'),
      /no herd daemon running for project other; start it with `herd up -d`/,
    );
    await assert.rejects(herd('-p', 'Bad Name', 'ps'), /invalid project name "Bad Name"/);
  });

  it('down stops the daemon', async () => {
    await herd('-p', 'shop', 'down');
    assert.ok(engine.calls.includes('shutdown'));
    for (let i = 0; i < 50 && !downCalled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.equal(downCalled, true);
  });
});
