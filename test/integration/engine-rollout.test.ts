// Rolling restarts with real processes: start-first for services that take traffic (successor
// ready before the old one is drained and signalled, never fewer ready replicas than the scale),
// stop-first otherwise, failures that keep the old replica, and restart: true dependants.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import type { Healthcheck } from '../../src/compose/model.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

// Answers /health with 200, or 500 from its second generation on when BAD_AFTER_FIRST is set
// (a counter file in the working directory says which start this is).
const APP = `
const fs = require('fs');
let n = 0;
try { n = Number(fs.readFileSync('starts-' + process.env.HERD_REPLICA, 'utf8')); } catch {}
fs.writeFileSync('starts-' + process.env.HERD_REPLICA, String(n + 1));
const bad = process.env.BAD_AFTER_FIRST === '1' && n > 0;
require('http').createServer((q, s) => { s.statusCode = q.url === '/health' && bad ? 500 : 200; s.end('ok'); })
  .listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => process.exit(0));
`;

const PROBE = `require('http').get('http://127.0.0.1:' + process.env.PORT + '/health', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))`;

const health = (over: Partial<Healthcheck> = {}): Healthcheck => ({
  test: { kind: 'exec', argv: nodeEval(PROBE) },
  intervalMs: 100,
  timeoutMs: 2000,
  retries: 2,
  startPeriodMs: 0,
  startIntervalMs: 100,
  ...over,
});

function webService(scale: number, over: Parameters<typeof makeService>[1] = {}) {
  return makeService('web', {
    command: nodeEval(APP),
    scale,
    restart: { condition: 'unless-stopped' },
    expose: [{ port: 5000, protocol: 'tcp' }],
    healthcheck: health(),
    ...over,
  });
}

/** Replica names currently ready, from the ready/unready events. */
function readyTracker(engine: Engine) {
  const ready = new Set<string>();
  let min = Infinity;
  let tracking = false;
  engine.on('event', (e) => {
    if (e.type === 'ready') ready.add(e.replica.name);
    if (e.type === 'unready') ready.delete(e.replica.name);
    if (tracking) min = Math.min(min, ready.size);
  });
  return {
    get size() {
      return ready.size;
    },
    start: () => ((tracking = true), (min = ready.size)),
    get min() {
      return min;
    },
  };
}

test('start-first: each successor is ready before the old replica is drained and signalled', async () => {
  const project = makeProject([webService(3)]);
  const engine = new Engine(project, { runtime: processRuntime });
  const log: string[] = [];
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'ready') log.push(`ready ${e.replica.name}`);
    if (e.type === 'replica' && e.replica.state === 'stopping')
      log.push(`stopping ${e.replica.name} ${e.replica.pid}`);
    if (e.type === 'replica' && e.replica.state === 'starting')
      log.push(`starting ${e.replica.name}`);
  });
  engine.setDrainer(async (r) => {
    log.push(`drain ${r.name}`);
    await new Promise((res) => setTimeout(res, 100));
    log.push(`drained ${r.name}`);
  });
  const ready = readyTracker(engine);
  try {
    await engine.up();
    await waitUntil('3 ready', () => ready.size === 3);
    const before = engine.replicas();
    ready.start();
    await engine.restartServices(['web']);
    assert.equal(ready.min, 3, 'fewer ready replicas than the scale at some moment');

    const after = engine.replicas();
    assert.deepEqual(
      after.map((r) => [r.name, r.state, r.health]),
      [1, 2, 3].map((i) => [`${project.name}-web-${i}`, 'running', 'healthy']),
    );
    for (const [i, old] of before.entries()) {
      const name = old.name;
      const at = (line: string) => {
        const k = log.indexOf(line);
        assert.ok(k >= 0, `missing "${line}" in:\n${log.join('\n')}`);
        return k;
      };
      const successorReady = at(`ready ${name}-next`);
      const drain = at(`drain ${name}`);
      const drained = at(`drained ${name}`);
      const signalled = at(`stopping ${name} ${old.pid}`);
      assert.ok(successorReady < drain && drain < drained && drained < signalled, log.join('\n'));
      assert.notEqual(after[i]!.pid, old.pid);
      assert.ok(!pidAlive(old.pid!) || (await waitUntil('old gone', () => !pidAlive(old.pid!))));
      // One at a time: the next successor starts only after this replica was replaced.
      const nextStart = before[i + 1] ? at(`starting ${before[i + 1]!.name}-next`) : Infinity;
      assert.ok(signalled < nextStart, log.join('\n'));
    }
  } finally {
    await engine.shutdown();
  }
});

test('a replacement that turns unhealthy leaves the old replica serving, and the call rejects', async () => {
  const project = makeProject([webService(1, { environment: { BAD_AFTER_FIRST: '1' } })]);
  const engine = new Engine(project, { runtime: processRuntime });
  const stopped: string[] = [];
  engine.on('event', (e) => {
    if (e.type === 'replica' && e.replica.state === 'stopping') stopped.push(e.replica.name);
  });
  try {
    await engine.up();
    const old = await waitUntil('healthy', () =>
      engine.replicas().find((r) => r.health === 'healthy'),
    );
    await assert.rejects(
      engine.restartServices(['web']),
      /could not restart web-1 of web: its replacement is unhealthy.*web-1 keeps running as before/s,
    );
    await waitUntil('successor gone', () => engine.replicas().length === 1);
    const now = engine.replicas()[0]!;
    assert.equal(now.name, `${project.name}-web-1`);
    assert.equal(now.pid, old.pid);
    assert.equal(now.state, 'running');
    assert.equal(now.health, 'healthy');
    assert.deepEqual(stopped, [`${project.name}-web-1-next`]);
  } finally {
    await engine.shutdown();
  }
});

test('a replacement that never gets ready times out after x-herd.rollout.ready_timeout', async () => {
  const project = makeProject([
    webService(1, {
      environment: { BAD_AFTER_FIRST: '1' },
      // Failures inside the start period do not count: the successor stays "starting".
      healthcheck: health({ startPeriodMs: 60_000 }),
      herd: {
        lb: { algorithm: 'round_robin' },
        healUnhealthy: true,
        extra: { rollout: { ready_timeout: '800ms' } },
      },
    }),
  ]);
  // The first generation must get healthy despite the long start period: a success ends it.
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up();
    const old = await waitUntil('healthy', () =>
      engine.replicas().find((r) => r.health === 'healthy'),
    );
    const t0 = Date.now();
    await assert.rejects(
      engine.restartServices(['web']),
      /its replacement did not become ready within 800ms/,
    );
    assert.ok(Date.now() - t0 >= 750);
    await waitUntil('successor gone', () => engine.replicas().length === 1);
    assert.equal(engine.replicas()[0]!.pid, old.pid);
  } finally {
    await engine.shutdown();
  }
});

test('stop-first for a worker; restart: true dependants follow their dependency', async () => {
  const sleeper = nodeEval(
    'process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)',
  );
  const project = makeProject([
    makeService('worker', { command: sleeper, scale: 2 }),
    makeService('follower', {
      command: sleeper,
      dependsOn: { worker: { condition: 'service_started', required: true, restart: true } },
    }),
    makeService('bystander', { command: sleeper }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  const log: string[] = [];
  engine.on('event', (e) => {
    if (e.type === 'replica' && ['stopping', 'running'].includes(e.replica.state))
      log.push(`${e.replica.state} ${e.replica.name}`);
  });
  try {
    await engine.up();
    const pid = (name: string) => engine.replicas().find((r) => r.name.endsWith(name))?.pid;
    const before = {
      w1: pid('worker-1'),
      w2: pid('worker-2'),
      f: pid('follower-1'),
      b: pid('bystander-1'),
    };
    log.length = 0;
    await engine.restartServices(['worker']);
    const n = (s: string) => `${project.name}-${s}`;
    assert.deepEqual(log, [
      `stopping ${n('worker-1')}`,
      `running ${n('worker-1')}`,
      `stopping ${n('worker-2')}`,
      `running ${n('worker-2')}`,
      `stopping ${n('follower-1')}`,
      `running ${n('follower-1')}`,
    ]);
    assert.notEqual(pid('worker-1'), before.w1);
    assert.notEqual(pid('worker-2'), before.w2);
    assert.notEqual(pid('follower-1'), before.f);
    assert.equal(pid('bystander-1'), before.b);
  } finally {
    await engine.shutdown();
  }
});

test('x-herd.rollout: parallelism 2 restarts two replicas at once; bad settings are refused', async () => {
  const rollout = { parallelism: 2, order: 'start-first' };
  const project = makeProject([
    webService(2, {
      healthcheck: undefined,
      herd: { lb: { algorithm: 'round_robin' }, healUnhealthy: true, extra: { rollout } },
    }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  const log: string[] = [];
  engine.on('event', (e) => {
    if (e.type === 'replica' && ['starting', 'removed'].includes(e.replica.state))
      log.push(`${e.replica.state} ${e.replica.name.slice(project.name.length + 1)}`);
  });
  try {
    await engine.up();
    log.length = 0;
    await engine.restartServices();
    // Both successors start before either old replica is gone.
    assert.deepEqual(log.slice(0, 2).sort(), ['starting web-1-next', 'starting web-2-next']);
    assert.equal(engine.replicas().length, 2);
  } finally {
    await engine.shutdown();
  }
  const bad = (extra: Record<string, unknown>) =>
    makeProject([
      webService(1, { herd: { lb: { algorithm: 'round_robin' }, healUnhealthy: true, extra } }),
    ]);
  assert.throws(
    () => new Engine(bad({ rollout: { order: 'sideways' } }), { runtime: processRuntime }),
    /service "web": x-herd.rollout.order: expected "start-first" or "stop-first", got "sideways"/,
  );
  assert.throws(
    () => new Engine(bad({ rollout: { parallelism: 0 } }), { runtime: processRuntime }),
    /x-herd.rollout.parallelism: expected a whole number ≥ 1, got 0/,
  );
});

test('restart of a stopped service starts it, as docker compose restart does', async () => {
  const project = makeProject([
    makeService('job', { command: nodeEval('setInterval(() => {}, 1000)') }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up();
    await engine.stopServices(['job']);
    assert.equal(engine.replicas()[0]!.state, 'exited');
    await engine.restartServices(['job']);
    await waitUntil('running', () => engine.replicas()[0]!.state === 'running');
    assert.equal(engine.replicas()[0]!.reason, undefined);
  } finally {
    await engine.shutdown();
  }
});

test('stopping a service during its rolling restart stops the successor too', async () => {
  const project = makeProject([
    webService(1, {
      environment: { BAD_AFTER_FIRST: '1' },
      healthcheck: health({ startPeriodMs: 60_000 }),
    }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up();
    await waitUntil('healthy', () => engine.replicas().find((r) => r.health === 'healthy'));
    const restart = engine.restartServices(['web']);
    // It may reject before stopServices resolves: handled here, asserted below.
    restart.catch(() => undefined);
    const next = await waitUntil('successor running', () =>
      engine.replicas().find((r) => r.name.endsWith('-next') && r.state === 'running'),
    );
    await engine.stopServices(['web']);
    await assert.rejects(restart, /restart of web-1 was interrupted: web was stopped/);
    await waitUntil('successor gone', () => engine.replicas().length === 1);
    assert.deepEqual(
      engine.replicas().map((r) => [r.name, r.state, r.reason]),
      [[`${project.name}-web-1`, 'exited', 'stopped']],
    );
    assert.ok(await waitUntil('successor process gone', () => !pidAlive(next.pid!)));
  } finally {
    await engine.shutdown();
  }
});
