// depends_on with real processes: ordering, one-shots, health, failures, restart: true.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import type { Dependency, DependencyCondition } from '../../src/compose/model.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { waitUntil } from '../helpers/wait.ts';

const sleeper = nodeEval('setInterval(() => {}, 1000)');
const dep = (condition: DependencyCondition, over: Partial<Dependency> = {}): Dependency => ({
  condition,
  required: true,
  restart: false,
  ...over,
});

function stateLog(engine: Engine): string[] {
  const log: string[] = [];
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'replica') log.push(`${e.replica.service}:${e.replica.state}`);
  });
  return log;
}

test('service_started: the dependant starts only once the dependency runs', async () => {
  const engine = new Engine(
    makeProject([
      makeService('web', { command: sleeper, dependsOn: { db: dep('service_started') } }),
      makeService('db', { command: sleeper, scale: 2 }),
    ]),
    { runtime: processRuntime },
  );
  const log = stateLog(engine);
  try {
    await engine.up(['web']);
    assert.ok(engine.replicas().every((r) => r.state === 'running'));
    assert.equal(engine.replicas().length, 3);
    const webStart = log.indexOf('web:starting');
    const dbRunning = log.lastIndexOf('db:running');
    assert.ok(webStart > dbRunning, log.join(' '));
  } finally {
    await engine.shutdown();
  }
  // Shutdown stops dependants first.
  const stops = log.filter((l) => l.endsWith(':stopping'));
  assert.equal(stops[0], 'web:stopping');
  assert.ok(log.indexOf('db:stopping') > log.indexOf('web:exited'), log.join(' '));
});

test('service_completed_successfully: waits for the one-shot to exit 0', async () => {
  const engine = new Engine(
    makeProject([
      makeService('migrate', { command: nodeEval('setTimeout(() => process.exit(0), 300)') }),
      makeService('app', {
        command: sleeper,
        dependsOn: { migrate: dep('service_completed_successfully') },
      }),
    ]),
    { runtime: processRuntime },
  );
  const log = stateLog(engine);
  try {
    const up = engine.up(['app']);
    await waitUntil('migrate running', () =>
      engine.replicas().find((r) => r.service === 'migrate' && r.state === 'running'),
    );
    const app = engine.replicas().find((r) => r.service === 'app');
    assert.equal(app?.state, 'waiting');
    assert.equal(app?.reason, 'waiting for migrate (service_completed_successfully)');
    await up;
    assert.ok(log.indexOf('app:starting') > log.indexOf('migrate:exited'), log.join(' '));
  } finally {
    await engine.shutdown();
  }
});

test('a failed one-shot fails its dependants with the exit code in the reason', async () => {
  const engine = new Engine(
    makeProject([
      makeService('migrate', { command: nodeEval('process.exit(3)') }),
      makeService('app', {
        command: sleeper,
        dependsOn: { migrate: dep('service_completed_successfully') },
      }),
      makeService('front', { command: sleeper, dependsOn: { app: dep('service_started') } }),
    ]),
    { runtime: processRuntime },
  );
  try {
    await engine.up();
    const app = engine.replicas().find((r) => r.service === 'app')!;
    assert.equal(app.state, 'exited');
    assert.equal(app.reason, 'dependency migrate did not complete successfully: exit 3');
    assert.equal(app.pid, undefined);
    const front = engine.replicas().find((r) => r.service === 'front')!;
    assert.equal(front.state, 'exited');
    assert.match(front.reason ?? '', /^dependency app failed: /);
  } finally {
    await engine.shutdown();
  }
});

test('service_healthy: the dependant waits until every replica is healthy', async () => {
  const engine = new Engine(
    makeProject([
      makeService('db', {
        command: nodeEval(
          'setTimeout(() => require("fs").writeFileSync("ready-" + process.env.HERD_REPLICA, ""), 600); setInterval(() => {}, 1000)',
        ),
        scale: 2,
        healthcheck: {
          test: { kind: 'shell', command: 'test -f ready-$HERD_REPLICA' },
          intervalMs: 200,
          timeoutMs: 2000,
          retries: 3,
          startPeriodMs: 0,
          startIntervalMs: 100,
        },
      }),
      makeService('api', { command: sleeper, dependsOn: { db: dep('service_healthy') } }),
    ]),
    { runtime: processRuntime },
  );
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  try {
    const up = engine.up();
    await waitUntil(
      'db running',
      () =>
        engine.replicas().filter((r) => r.service === 'db' && r.state === 'running').length === 2,
    );
    const api = engine.replicas().find((r) => r.service === 'api')!;
    assert.equal(api.state, 'waiting');
    assert.equal(api.reason, 'waiting for db (service_healthy)');
    await up;
    const healthyAt = events
      .filter((e) => e.type === 'ready' && e.replica.service === 'db')
      .map((e) => e.at);
    assert.equal(healthyAt.length, 2);
    const apiStart = events.find(
      (e) => e.type === 'replica' && e.replica.service === 'api' && e.replica.state === 'starting',
    )!;
    assert.ok(apiStart.at >= Math.max(...healthyAt));
    assert.ok(
      engine
        .replicas()
        .filter((r) => r.service === 'db')
        .every((r) => r.health === 'healthy'),
    );
  } finally {
    await engine.shutdown();
  }
});

test('an unhealthy replica is taken out and restarted per its policy', async () => {
  const engine = new Engine(
    makeProject([
      makeService('web', {
        command: sleeper,
        restart: { condition: 'always' },
        healthcheck: {
          test: { kind: 'exec', argv: ['false'] },
          intervalMs: 100,
          timeoutMs: 1000,
          retries: 2,
          startPeriodMs: 0,
          startIntervalMs: 100,
        },
      }),
    ]),
    { runtime: processRuntime },
  );
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  try {
    await engine.up();
    await waitUntil('restarted', () => engine.replicas()[0]!.restarts >= 1, 8000);
    assert.ok(
      events.some(
        (e) => e.type === 'notice' && /web-1 is unhealthy, restarting it/.test(e.message),
      ),
    );
    assert.ok(!events.some((e) => e.type === 'ready'));
  } finally {
    await engine.shutdown();
  }
});

test('restart: true restarts dependants when herd restarts the dependency', async () => {
  const engine = new Engine(
    makeProject([
      makeService('db', { command: sleeper, restart: { condition: 'always' } }),
      makeService('app', {
        command: sleeper,
        dependsOn: { db: dep('service_started', { restart: true }) },
      }),
    ]),
    { runtime: processRuntime },
  );
  try {
    await engine.up();
    const appPid = engine.replicas().find((r) => r.service === 'app')!.pid;
    const db = engine.replicas().find((r) => r.service === 'db')!;
    process.kill(db.pid!, 'SIGKILL');
    const app = await waitUntil('app restarted', () =>
      engine
        .replicas()
        .find((r) => r.service === 'app' && r.state === 'running' && r.pid !== appPid),
    );
    assert.ok(app.pid);
    const db2 = engine.replicas().find((r) => r.service === 'db')!;
    assert.equal(db2.state, 'running');
  } finally {
    await engine.shutdown();
  }
});

test('service_healthy on a dependency without healthcheck fails clearly', async () => {
  const engine = new Engine(
    makeProject([
      makeService('db', { command: sleeper }),
      makeService('api', { command: sleeper, dependsOn: { db: dep('service_healthy') } }),
    ]),
    { runtime: processRuntime },
  );
  try {
    await engine.up();
    const api = engine.replicas().find((r) => r.service === 'api')!;
    assert.equal(api.state, 'exited');
    assert.match(api.reason ?? '', /db has no healthcheck/);
  } finally {
    await engine.shutdown();
  }
});
