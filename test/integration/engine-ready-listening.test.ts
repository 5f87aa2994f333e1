// Ready means listening: a replica of a service with ports/expose and no healthcheck joins the
// balancer only once its port accepts connections; workers stay ready as soon as they run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { acceptsConnections } from '../../src/engine/listening.ts';
import { NOT_LISTENING_NOTICE_MS } from '../../src/engine/starter.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { waitUntil } from '../helpers/wait.ts';

const LATE_LISTENER = `
setTimeout(() => require('net').createServer((s) => s.end()).listen(Number(process.env.PORT), '127.0.0.1'), 600);
process.on('SIGTERM', () => process.exit(0));
`;
const NEVER_LISTENS = `setInterval(() => {}, 1000); process.on('SIGTERM', () => process.exit(0));`;

test('a replica with expose is ready only once its port accepts connections', async () => {
  const engine = new Engine(
    makeProject([
      makeService('web', {
        command: nodeEval(LATE_LISTENER),
        expose: [{ port: 5000, protocol: 'tcp' }],
      }),
    ]),
    { runtime: processRuntime },
  );
  let runningAt: number | undefined;
  let readyAt: number | undefined;
  const probes: Promise<boolean>[] = [];
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'replica' && e.replica.state === 'running') runningAt ??= Date.now();
    if (e.type === 'ready') {
      readyAt = Date.now();
      // At the moment the balancer would add it, a connection must succeed.
      probes.push(acceptsConnections(e.replica.host, e.replica.port!));
    }
  });
  try {
    await engine.up();
    const r = engine.replicas()[0]!;
    assert.equal(r.state, 'running', 'up() resolves on running, as before');
    assert.notEqual(r.ready, true);
    await waitUntil('ready', () => readyAt !== undefined, 10_000);
    assert.ok(readyAt! - runningAt! >= 400, `ready ${readyAt! - runningAt!} ms after running`);
    assert.deepEqual(await Promise.all(probes), [true]);
    assert.equal(engine.replicas()[0]!.ready, true);
  } finally {
    await engine.shutdown();
  }
});

test('a worker (no ports, no expose) is ready as soon as it runs', async () => {
  const engine = new Engine(
    makeProject([makeService('worker', { command: nodeEval(NEVER_LISTENS) })]),
    {
      runtime: processRuntime,
    },
  );
  const order: string[] = [];
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'replica') order.push(e.replica.state);
    if (e.type === 'ready') order.push('ready');
  });
  try {
    await engine.up();
    await waitUntil('ready', () => order.includes('ready'));
    assert.equal(order[order.indexOf('running') + 1], 'ready');
  } finally {
    await engine.shutdown();
  }
});

test('FakeClock: a replica that never listens never becomes ready; herd says so after 30 s', async () => {
  const clock = new FakeClock();
  const engine = new Engine(
    makeProject([
      makeService('web', {
        command: nodeEval(NEVER_LISTENS),
        expose: [{ port: 5000, protocol: 'tcp' }],
      }),
    ]),
    { runtime: processRuntime, clock },
  );
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  try {
    await engine.up();
    const r = engine.replicas()[0]!;
    assert.equal(r.state, 'running');
    clock.advance(NOT_LISTENING_NOTICE_MS - 1);
    assert.ok(!events.some((e) => e.type === 'notice'));
    clock.advance(1);
    const notices = events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    assert.deepEqual(notices, [`web-1 is running but not listening on 127.0.0.1:${r.port} yet`]);
    // Polling goes on well past any deadline, and never makes it ready.
    for (let i = 0; i < 20; i++) {
      await new Promise((res) => setTimeout(res, 5));
      clock.advance(60_000);
    }
    assert.ok(!events.some((e) => e.type === 'ready'));
    assert.equal(engine.replicas()[0]!.state, 'running');
  } finally {
    await engine.shutdown();
  }
});
