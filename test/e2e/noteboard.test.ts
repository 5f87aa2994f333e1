// examples/noteboard end to end (needs root: `db` runs as the postgres user): the fixed stack
// boots on a fresh .data, stores notes, reports the app unhealthy while the database is down and
// recovers; the tutorial's compose.broken.yaml reproduces the empty reply.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, httpGet, sandboxFromExample, waitFor, type Sandbox } from '../helpers/e2e.ts';

function noteboard(env: Record<string, string>): Sandbox {
  const box = sandboxFromExample('noteboard', env);
  // The postgres user must be able to reach .data/db inside the (private) temp dir.
  chmodSync(dirname(box.dir), 0o755);
  chmodSync(box.dir, 0o755);
  return box;
}

test('noteboard: first boot works, notes persist, db outage is seen and healed', async () => {
  const port = await freePort();
  const box = noteboard({ NOTEBOARD_PORT: String(port) });
  try {
    box.ok(['up', '-d', '--wait', '--wait-timeout', '90'], { timeoutMs: 100_000 });
    const ps = await box.psNow();
    const state = Object.fromEntries(ps.map((r) => [r.Service, r]));
    assert.equal(state['db']!.Health, 'healthy');
    assert.equal(state['app']!.Health, 'healthy');
    assert.equal(state['migrate']!.State, 'exited');
    assert.equal(state['migrate']!.ExitCode, 0);

    const post = await httpGet(port, '/', {
      method: 'POST',
      body: JSON.stringify({ name: 'ada', message: 'hello' }),
      headers: { 'content-type': 'application/json' },
    });
    assert.ok(post.status < 400, `POST answered ${post.status}: ${post.body}`);
    await httpGet(port, '/', { method: 'POST', body: 'name=bob&message=hi' });
    const list = await httpGet(port, '/', { headers: { accept: 'application/json' } });
    assert.equal(list.status, 200);
    assert.match(list.body, /"ada"/);
    assert.match(list.body, /"hi"/);

    // Database down: the app's healthcheck fails and herd reports it unhealthy.
    const events = box.spawn(['events', '--json']);
    await new Promise((r) => setTimeout(r, 300));
    box.ok(['stop', 'db']);
    await waitFor(
      'app reported unhealthy',
      () => /"service":"app"[^\n]*"health":"unhealthy"/.test(events.output()),
      20_000,
    );
    await events.stop();
    // Database back: the app is healthy again and still has the notes.
    box.ok(['start', 'db']);
    await waitFor(
      'app healthy again and serving',
      async () => {
        const app = (await box.psNow(false)).find((r) => r.Service === 'app');
        if (app?.Health !== 'healthy') return false;
        const r = await httpGet(port, '/', { headers: { accept: 'application/json' } }).catch(
          () => undefined,
        );
        return r?.status === 200 && /"ada"/.test(r.body);
      },
      45_000,
    );
  } finally {
    box.cleanup();
  }
});

/** PostgreSQL binaries whose initdb takes `seconds` longer, as the postgres image's first
 * boot does: longer than herd's balancer holds a connection for a service with no ready replica
 * (5 s), so the app's first-boot migration really fails, as in the tutorial. */
function slowFirstBoot(root: string, seconds: number): string {
  const real = '/usr/lib/postgresql/15/bin';
  const bin = join(root, 'slow-pg-bin');
  mkdirSync(bin, { mode: 0o755 });
  for (const tool of ['postgres', 'pg_isready', 'createdb'])
    symlinkSync(join(real, tool), join(bin, tool));
  writeFileSync(join(bin, 'initdb'), `#!/bin/sh\nsleep ${seconds}\nexec ${real}/initdb "$@"\n`, {
    mode: 0o755,
  });
  return bin;
}

test('noteboard: compose.broken.yaml reproduces the failure of the tutorial', async () => {
  const port = await freePort();
  const box = noteboard({ NOTEBOARD_PORT: String(port) });
  box.env.PG_BIN = slowFirstBoot(dirname(box.dir), 7);
  try {
    box.ok(['-f', 'compose.broken.yaml', 'up', '-d', '--wait', '--wait-timeout', '90'], {
      timeoutMs: 100_000,
    });
    await waitFor(
      'the app serving after its failed first boot',
      () => /Serving on/.test(box.ok(['-f', 'compose.broken.yaml', 'logs', 'app'])),
      60_000,
    );
    const logs = box.ok(['-f', 'compose.broken.yaml', 'logs', 'app']);
    assert.match(logs, /First run, setting up/);
    assert.match(logs, /Migration failed/);
    assert.match(logs, /Already installed, skipping migrations/);
    // GET / gets no page: the handler dies on the missing table and closes the connection. The
    // tutorial's browser sees an empty reply; behind herd's balancer (which retries an idempotent
    // request until its hold time runs out) the client gets a 502 saying no replica answered.
    const reply = await httpGet(port, '/', { timeoutMs: 15_000 }).then(
      (r) => `HTTP ${r.status} ${r.body}`,
      (err: Error) => err.message,
    );
    assert.match(reply, /socket hang up|ECONNRESET|^HTTP 502 /);
    await waitFor('the exception logged', () =>
      /relation "notes" does not exist/.test(box.ok(['-f', 'compose.broken.yaml', 'logs', 'app'])),
    );
  } finally {
    box.herd(['-f', 'compose.broken.yaml', 'down']);
    box.cleanup();
  }
});
