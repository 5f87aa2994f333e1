// examples/noteboard end to end (needs root: `db` runs as the postgres user): the fixed stack
// boots on a fresh .data, stores notes, reports the app unhealthy while the database is down and
// recovers. noteboard-broken.test.ts runs the tutorial's compose.broken.yaml.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, httpGet, noteboardSandbox, pidAlive, waitFor } from '../helpers/e2e.ts';

test('noteboard: first boot works, notes persist, a killed PostgreSQL is seen and healed', async () => {
  const port = await freePort();
  const box = noteboardSandbox({ NOTEBOARD_PORT: String(port) });
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

    // PostgreSQL killed (SIGKILL to the server and its backends, as `docker kill` does; a manual
    // stop, so herd leaves it down): the app's healthcheck fails and herd reports it unhealthy.
    const events = box.spawn(['events', '--json']);
    await new Promise((r) => setTimeout(r, 300));
    const dbPid = (await box.psNow(false)).find((r) => r.Service === 'db')!.Pid!;
    box.ok(['kill', 'db']);
    await waitFor('PostgreSQL gone', () => !pidAlive(dbPid), 10_000);
    await waitFor(
      'app reported unhealthy',
      () => /"service":"app"[^\n]*"health":"unhealthy"/.test(events.output()),
      20_000,
    );
    await events.stop();
    // Database back (crash recovery on the same data): the app is healthy again, notes intact.
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
