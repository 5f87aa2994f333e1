// examples/noteboard piece by piece, started the way herd starts replicas (env from the loaded
// compose file, PORT, DB_SERVICE_HOST/PORT, `user: postgres`), and watched by a real
// HealthMonitor running the file's own healthcheck. The run through herd itself is an e2e test.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { loadProject } from '../../src/compose/load.ts';
import type { Project, Service } from '../../src/compose/model.ts';
import { realClock } from '../../src/util/clock.ts';
import { HealthMonitor } from '../../src/health/monitor.ts';
import { runProbe } from '../../src/health/probe.ts';
import { NOTEBOARD_DIR, run, type Running } from '../helpers/noteboard.ts';
import { freePort, systemUser } from '../helpers/postgres.ts';
import { tempDir } from '../helpers/tmp.ts';

const baseEnv: Record<string, string> = {};
for (const [k, v] of Object.entries(process.env)) if (v !== undefined) baseEnv[k] = v;

let root: string;
const started: Running[] = [];
before(() => {
  root = tempDir('noteboard');
  chmodSync(root, 0o755); // the postgres user must reach its folder inside
});
after(() => {
  for (const r of started) r.kill();
  rmSync(root, { recursive: true, force: true });
});

function service(project: Project, name: string): Service {
  const s = project.services[name];
  assert.ok(s, `service ${name} in ${project.composeFiles.join(', ')}`);
  return s;
}

/** The env herd gives a replica, minus what only the engine knows. */
function replicaEnv(svc: Service, extra: Record<string, string>): Record<string, string> {
  return { ...baseEnv, ...svc.environment, ...extra };
}

function start(argv: string[], env: Record<string, string>, asPostgres = false): Running {
  const r = run(argv, env, { asPostgres });
  started.push(r);
  return r;
}

/** Runs db-prep then db from `project` in fresh folders; resolves once the file's own
 * healthcheck, run by a HealthMonitor, reports healthy. */
async function startDb(project: Project, dir: string, port: number) {
  const prep = service(project, 'db-prep');
  const prepRun = start(prep.command ?? [], replicaEnv(prep, { NOTEBOARD_DB_DIR: dir }));
  assert.equal(await prepRun.exited, 0, prepRun.output());

  const db = service(project, 'db');
  assert.equal(db.user, 'postgres');
  const env = replicaEnv(db, { PORT: String(port), NOTEBOARD_DB_DIR: dir });
  const server = start(db.command ?? [], env, true);
  const check = db.healthcheck;
  assert.ok(check?.test, 'db has a healthcheck');
  const test = check.test;
  const { uid, gid } = systemUser('postgres');
  const healthy = new Promise<void>((resolve, reject) => {
    const monitor = new HealthMonitor(check, {
      clock: realClock,
      run: (signal) =>
        runProbe(test, { env, cwd: NOTEBOARD_DIR, timeoutMs: check.timeoutMs, uid, gid, signal }),
      onChange: (status, last) => {
        monitor.stop();
        if (status === 'healthy') resolve();
        else reject(new Error(`db turned ${status}: ${last.output}\n${server.output()}`));
      },
    });
    monitor.start();
    void server.exited.then((code) => {
      monitor.stop();
      reject(new Error(`db exited ${code}:\n${server.output()}`));
    });
  });
  await healthy;
  return server;
}

function get(port: number, path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, headers }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function post(port: number, body: string, type: string) {
  const res = await fetch(`http://127.0.0.1:${port}/`, {
    method: 'POST',
    body,
    headers: { 'content-type': type },
    redirect: 'manual',
  });
  return { status: res.status, body: await res.text(), location: res.headers.get('location') };
}

describe('noteboard, fixed order (compose.yaml): db healthy -> migrate -> app', () => {
  it('serves and stores notes', async () => {
    const project = await loadProject({ cwd: NOTEBOARD_DIR, files: ['compose.yaml'], env: {} });
    assert.deepEqual(
      Object.fromEntries(
        Object.entries(service(project, 'app').dependsOn).map(([k, d]) => [k, d.condition]),
      ),
      { db: 'service_healthy', migrate: 'service_completed_successfully' },
    );
    const dbPort = await freePort();
    await startDb(project, join(root, 'fixed-db'), dbPort);
    const dbAddr = { DB_SERVICE_HOST: '127.0.0.1', DB_SERVICE_PORT: String(dbPort) };

    const migrateSvc = service(project, 'migrate');
    const migrate = start(migrateSvc.command ?? [], replicaEnv(migrateSvc, dbAddr));
    assert.equal(await migrate.exited, 0, migrate.output());
    assert.match(migrate.output(), /Migration done on app@127\.0\.0\.1/);

    const appSvc = service(project, 'app');
    const appPort = await freePort();
    const stateDir = join(root, 'fixed-state');
    const app = start(
      appSvc.command ?? [],
      replicaEnv(appSvc, { ...dbAddr, PORT: String(appPort), NOTEBOARD_STATE_DIR: stateDir }),
    );
    await app.waitFor(/Serving on 127\.0\.0\.1:\d+/);
    assert.ok(existsSync(join(stateDir, 'installed')));

    const form = await post(
      appPort,
      'name=ada&message=hello+%3Cworld%3E',
      'application/x-www-form-urlencoded',
    );
    assert.deepEqual([form.status, form.location], [303, '/']);
    const json = await post(
      appPort,
      JSON.stringify({ name: 'bob', message: 'hi' }),
      'application/json',
    );
    assert.equal(json.status, 201);
    assert.equal(JSON.parse(json.body).name, 'bob');

    const list = await get(appPort, '/', { accept: 'application/json' });
    assert.equal(list.status, 200);
    const notes = JSON.parse(list.body) as { name: string; message: string }[];
    assert.deepEqual(
      notes.map((n) => [n.name, n.message]),
      [
        ['bob', 'hi'],
        ['ada', 'hello <world>'],
      ],
    );
    const page = await get(appPort, '/');
    assert.match(page.body, /<strong>ada<\/strong>: hello &lt;world&gt;/);
    assert.equal((await get(appPort, '/health')).status, 200);

    const bad = await post(appPort, JSON.stringify({ name: 'x' }), 'application/json');
    assert.deepEqual([bad.status, bad.body], [400, '"message" is required\n']);

    app.child.kill('SIGTERM');
    assert.equal(await app.exited, 0);
  });
});

describe('noteboard, broken order (compose.broken.yaml): app boots before db', () => {
  it('reproduces the tutorial: migration skipped forever, requests get an empty reply', async () => {
    const project = await loadProject({
      cwd: NOTEBOARD_DIR,
      files: ['compose.broken.yaml'],
      env: {},
    });
    const appSvc = service(project, 'app');
    assert.deepEqual(appSvc.dependsOn, {});
    assert.equal(project.services.migrate, undefined);

    const dbPort = await freePort();
    const appPort = await freePort();
    const stateDir = join(root, 'broken-state');
    const env = replicaEnv(appSvc, {
      DB_SERVICE_HOST: '127.0.0.1',
      DB_SERVICE_PORT: String(dbPort),
      PORT: String(appPort),
      NOTEBOARD_STATE_DIR: stateDir,
    });

    // First boot: nothing listens on the db port yet.
    const first = start(appSvc.command ?? [], env);
    assert.equal(await first.exited, 1);
    assert.match(
      first.output(),
      /First run, setting up\.\.\.\nMigration failed: connect ECONNREFUSED/,
    );
    assert.ok(existsSync(join(stateDir, 'installed')), 'the state file was left behind');

    // restart: unless-stopped brings it back while the db is still down.
    const second = start(appSvc.command ?? [], env);
    assert.equal(await second.exited, 1);
    assert.match(second.output(), /Already installed, skipping migrations\nDatabase not ready/);

    await startDb(project, join(root, 'broken-db'), dbPort);
    const third = start(appSvc.command ?? [], env);
    await third.waitFor(/Serving on/);
    assert.match(third.output(), /^Already installed, skipping migrations\n/);

    // Looks alive (its /health only checks SELECT 1) but every page fails with an empty reply.
    assert.equal((await get(appPort, '/health')).status, 200);
    await assert.rejects(get(appPort, '/'), /socket hang up/);
    await third.waitFor(
      /Exception occurred during processing of request .*relation "notes" does not exist/,
    );

    third.child.kill('SIGTERM');
    assert.equal(await third.exited, 0);
  });
});
