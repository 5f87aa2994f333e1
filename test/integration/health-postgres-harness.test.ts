// The PostgreSQL harness other tests build on, plus the healthcheck the noteboard example uses.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import pg from 'pg';
import { runProbe } from '../../src/health/probe.ts';
import { startPostgres, systemUser, type TestPostgres } from '../helpers/postgres.ts';

describe('startPostgres', () => {
  let db: TestPostgres;
  before(async () => {
    db = await startPostgres();
  });
  after(() => db.stop());

  it('serves queries on a loopback port', async () => {
    assert.equal(db.host, '127.0.0.1');
    const client = new pg.Client({
      host: db.host,
      port: db.port,
      user: db.user,
      database: 'postgres',
    });
    await client.connect();
    try {
      const r = await client.query<{ one: number; who: string }>(
        'SELECT 1 AS one, current_user AS who',
      );
      assert.deepEqual(r.rows, [{ one: 1, who: 'postgres' }]);
      const fsync = await client.query<{ fsync: string }>('SHOW fsync');
      assert.equal(fsync.rows[0]?.fsync, 'off');
    } finally {
      await client.end();
    }
  });

  it('is healthy per pg_isready run as a CMD-SHELL probe with $PORT in the env', async () => {
    const { uid, gid } = systemUser('postgres');
    const r = await runProbe(
      { kind: 'shell', command: 'pg_isready -h 127.0.0.1 -p $PORT' },
      {
        env: { PATH: '/usr/lib/postgresql/15/bin:/usr/bin:/bin', PORT: String(db.port) },
        cwd: '/',
        timeoutMs: 5000,
        uid,
        gid,
      },
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.match(r.output, /accepting connections/);
  });
});

describe('startPostgres lifecycle', () => {
  it('kill9() takes the server down at once and stop() cleans up after it', async () => {
    const db = await startPostgres();
    assert.ok(existsSync(db.dataDir));
    await db.kill9();
    const client = new pg.Client({ host: db.host, port: db.port, user: db.user });
    await assert.rejects(client.connect(), /ECONNREFUSED/);
    const probe = await runProbe(
      {
        kind: 'exec',
        argv: ['/usr/lib/postgresql/15/bin/pg_isready', '-h', '127.0.0.1', '-p', String(db.port)],
      },
      { env: { PATH: '/usr/bin:/bin' }, cwd: '/', timeoutMs: 5000 },
    );
    assert.equal(probe.exitCode, 2); // pg_isready: no response
    await db.stop();
    assert.equal(existsSync(db.dataDir), false);
  });

  it('runs two clusters side by side on different ports', async () => {
    const [a, b] = await Promise.all([startPostgres(), startPostgres()]);
    try {
      assert.notEqual(a.port, b.port);
      for (const db of [a, b]) {
        const client = new pg.Client({ host: db.host, port: db.port, user: db.user });
        await client.connect();
        const r = await client.query<{ port: string }>("SELECT current_setting('port') AS port");
        assert.equal(Number(r.rows[0]?.port), db.port);
        await client.end();
      }
    } finally {
      await Promise.all([a.stop(), b.stop()]);
    }
  });
});
