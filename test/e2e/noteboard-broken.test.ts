// examples/noteboard's compose.broken.yaml end to end (needs root: `db` runs as the postgres
// user): on a fresh .data it reproduces the tutorial's app that dies on boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { freePort, httpGet, noteboardSandbox, waitFor } from '../helpers/e2e.ts';

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
  const box = noteboardSandbox({ NOTEBOARD_PORT: String(port) });
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
