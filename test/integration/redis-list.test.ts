// The `redis_list` target against a real redis-server (Debian's, on a free loopback port): the
// LLEN client with AUTH, SELECT and its failures, then the engine with real processes scaling a
// worker by the list — up within seconds of a push, back to min once drained and the cooldown
// has passed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { once } from 'node:events';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { readQueues } from '../../src/metrics/queues.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { allocatePort } from '../../src/runtime/ports.ts';
import { listLength } from '../../src/util/redis-llen.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { startRedis } from '../helpers/redis.ts';
import { waitUntil } from '../helpers/wait.ts';

async function listening(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as { port: number }).port;
}

test('listLength: LLEN with AUTH and SELECT, and each failure as a sentence', async () => {
  const redis = await startRedis({ password: 's3cret' });
  const silent = createServer(() => undefined);
  const web = createServer((s) => s.end('HTTP/1.1 400 Bad Request\r\n\r\n'));
  try {
    const at = { host: '127.0.0.1', port: redis.port, password: 's3cret' };
    assert.equal(await listLength(at, 'jobs', 1000), 0, 'a missing list is empty');
    redis.cli('RPUSH', 'jobs', 'a', 'b', 'c');
    redis.cli('-n', '2', 'RPUSH', 'jobs', 'x');
    assert.equal(await listLength(at, 'jobs', 1000), 3);
    assert.equal(await listLength({ ...at, db: 2 }, 'jobs', 1000), 1);
    assert.equal(await listLength({ ...at, username: 'default' }, 'jobs', 1000), 3);
    redis.cli('SET', 'plain', 'v');
    await assert.rejects(listLength(at, 'plain', 1000), /^Error: LLEN: WRONGTYPE/);
    await assert.rejects(
      listLength({ ...at, password: 'wrong' }, 'jobs', 1000),
      /^Error: AUTH: WRONGPASS/,
    );
    await assert.rejects(
      listLength({ host: '127.0.0.1', port: redis.port }, 'jobs', 1000),
      /^Error: LLEN: NOAUTH/,
    );
    const closed = await allocatePort();
    await assert.rejects(
      listLength({ host: '127.0.0.1', port: closed }, 'jobs', 1000),
      new RegExp(`^Error: cannot reach 127.0.0.1:${closed}: ECONNREFUSED$`),
    );
    const quiet = await listening(silent);
    const started = Date.now();
    await assert.rejects(
      listLength({ host: '127.0.0.1', port: quiet }, 'jobs', 300),
      new RegExp(`^Error: no answer from 127.0.0.1:${quiet} within 300 ms$`),
    );
    assert.ok(Date.now() - started < 1500, 'the deadline holds');
    const http = await listening(web);
    await assert.rejects(
      listLength({ host: '127.0.0.1', port: http }, 'jobs', 1000),
      /is not Redis \(answered "HTTP\/1.1 400 Bad Request"\)/,
    );
  } finally {
    silent.close();
    web.close();
    await redis.stop();
  }
});

test('a worker scales by a real Redis list: up within seconds of a push, back to min after the cooldown', async (t) => {
  const redis = await startRedis();
  const worker = makeService('worker', {
    command: nodeEval('setInterval(() => {}, 1000); process.on("SIGTERM", () => process.exit(0))'),
  });
  worker.herd.extra.autoscale = {
    min: 1,
    max: 6,
    cooldown: '2s',
    redis_list: { url: `redis://127.0.0.1:${redis.port}`, list: 'jobs', target: 10 },
  };
  const engine = new Engine(makeProject([worker]), { runtime: processRuntime });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  const running = () =>
    engine.replicas().filter((r) => r.service === 'worker' && r.state === 'running').length;
  try {
    await engine.up();
    engine.startAutoscaler(async () => ({
      requests: {},
      usage: {},
      queues: await readQueues(engine.project, () => ({})),
    }));
    const pushed = Date.now();
    redis.cli('RPUSH', 'jobs', ...Array.from({ length: 35 }, (_, i) => `job-${i}`));
    await waitUntil('4 workers for 35 items', () => running() === 4, 8000);
    const upAfter = Date.now() - pushed;
    assert.equal(engine.desired('worker'), 4);
    const up = events.find((e) => e.type === 'scaled');
    assert.ok(up?.type === 'scaled');
    assert.equal(
      up.autoscale?.reason,
      'redis_list jobs has 35 items, target 10 per replica: 1 → 4',
    );

    redis.cli('DEL', 'jobs');
    const drained = Date.now();
    await waitUntil(
      'back to 1 worker',
      () => running() === 1 && engine.desired('worker') === 1,
      10_000,
    );
    const downAfter = Date.now() - drained;
    assert.ok(downAfter >= 2000, `not before the 2 s cooldown (${downAfter} ms)`);
    t.diagnostic(`scaled up ${upAfter} ms after the push, down ${downAfter} ms after the drain`);

    // Redis gone: the count stays, and once it has lasted 3 readings events say why, once.
    await redis.stop();
    await new Promise((r) => setTimeout(r, 4500));
    assert.equal(engine.desired('worker'), 1);
    const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    assert.deepEqual(notices, [
      `autoscale: cannot read the length of redis list "jobs": cannot reach 127.0.0.1:${redis.port}: ECONNREFUSED; keeping the replica count until it can`,
    ]);
  } finally {
    await engine.shutdown();
    await redis.stop();
  }
});
