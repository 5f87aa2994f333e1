// examples/noteboard's compose.broken.yaml end to end (needs root: `db` runs as the postgres
// user): on a fresh .data it reproduces the tutorial's app that dies on boot.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, noteboardSandbox, waitFor } from '../helpers/e2e.ts';

test('noteboard: compose.broken.yaml reproduces the failure of the tutorial', async () => {
  const port = await freePort();
  // As the example's README runs it: a first boot of the database slower than herd's balancer
  // holds a connection for a service with no ready replica (5 s), as the postgres image's is, so
  // the app's first-boot migration really fails, as in the tutorial (a fast initdb hides the race).
  const box = noteboardSandbox({ NOTEBOARD_PORT: String(port), NOTEBOARD_INIT_DELAY: '7' });
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
    // request until its hold time runs out) the client gets the 502 the README shows.
    const reply = await httpGet(port, '/', { timeoutMs: 15_000 }).then(
      (r) => `HTTP ${r.status} ${r.body}`,
      (err: Error) => err.message,
    );
    assert.equal(reply, 'HTTP 502 no replica of service "app" could be reached\n');
    await waitFor('the exception logged', () =>
      /relation "notes" does not exist/.test(box.ok(['-f', 'compose.broken.yaml', 'logs', 'app'])),
    );
  } finally {
    box.herd(['-f', 'compose.broken.yaml', 'down']);
    box.cleanup();
  }
});
