// The engine end to end over the in-memory runtime and a fake clock: restart, backoff, health,
// dependencies, scaling, stops, kills and rollouts, with no process and no sleeping.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ReplicaInfo } from '../../src/engine/events.ts';
import type { Project, Service } from '../../src/compose/model.ts';
import { memoryEngine } from '../helpers/memory-engine.ts';
import { settle, until } from '../helpers/memory-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';

const cmd = ['app'];
/** A service that takes traffic: restarted start-first. */
const expose: Service['expose'] = [{ port: 5000, protocol: 'tcp' }] as Service['expose'];
const check = {
  test: { kind: 'exec' as const, argv: ['probe'] },
  intervalMs: 1000,
  timeoutMs: 1000,
  retries: 1,
  startPeriodMs: 0,
  startIntervalMs: 0,
};

function harness(services: Service[]) {
  const project = makeProject(services);
  const { clock, runtime, engine, events } = memoryEngine(project);
  const replica = (svc: string, n = 1): ReplicaInfo => {
    const found = engine.replicas().find((r) => r.name === `${project.name}-${svc}-${n}`);
    if (!found) throw new Error(`no replica ${svc}-${n}`);
    return found;
  };
  const mem = (svc: string, n = 1) => runtime.replica(`${project.name}-${svc}-${n}`);
  const notices = () => events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
  return { clock, runtime, project, engine, events, replica, mem, notices };
}

test('up starts every replica; a crash backs off 100 ms, then 200 ms, and restarts', async () => {
  const h = harness([
    makeService('web', { command: cmd, scale: 2, restart: { condition: 'always' } }),
  ]);
  await h.engine.up();
  assert.deepEqual(
    h.engine.replicas().map((r) => [r.state, r.ready]),
    [
      ['running', true],
      ['running', true],
    ],
  );
  h.mem('web', 2).exit(1);
  await until(() => h.replica('web', 2).state === 'backoff', 'web-2 backs off');
  assert.match(h.replica('web', 2).reason ?? '', /exit 1, restarting in 100ms/);
  h.clock.advance(99);
  assert.equal(h.replica('web', 2).state, 'backoff');
  h.clock.advance(1);
  await until(() => h.replica('web', 2).state === 'running', 'web-2 restarted');
  assert.equal(h.replica('web', 2).restarts, 1);
  h.mem('web', 2).exit(1);
  await until(() => h.replica('web', 2).state === 'backoff', 'web-2 backs off again');
  assert.match(h.replica('web', 2).reason ?? '', /restarting in 200ms/);
  assert.equal(h.runtime.running('web').length, 1, 'web-1 untouched');
  await h.engine.shutdown();
});

test('an OOM kill is reported as such and restarted under on-failure', async () => {
  const h = harness([makeService('web', { command: cmd, restart: { condition: 'on-failure' } })]);
  await h.engine.up();
  h.mem('web').oomKill();
  await until(() => h.replica('web').state === 'backoff', 'backoff after OOM');
  assert.equal(h.replica('web').lastExit?.oomKilled, true);
  assert.ok(h.notices().some((m) => /exited with code 137 \(out of memory\)/.test(m)));
  await h.engine.shutdown();
});

test('a replica that cannot start is retried per policy, and restart: no leaves it exited', async () => {
  const h = harness([makeService('web', { command: cmd })]);
  h.runtime.script('web', { startError: 'app: command not found' });
  await h.engine.up();
  assert.equal(h.replica('web').state, 'exited');
  assert.match(h.replica('web').reason ?? '', /command not found/);
  assert.ok(h.notices().some((m) => /could not start: app: command not found/.test(m)));
});

test('a slow start stopped midway is stopped once it has started', async () => {
  const h = harness([makeService('web', { command: cmd })]);
  h.runtime.script('web', { startDelayMs: 5000 });
  const up = h.engine.up();
  await until(() => h.clock.pending() > 0, 'start under way');
  const stop = h.engine.stopServices(['web']);
  h.clock.advance(5000);
  await stop;
  await up;
  assert.equal(h.replica('web').state, 'exited');
  assert.equal(h.replica('web').reason, 'stopped');
  assert.equal(h.runtime.running().length, 0);
});

test('health: ready only when healthy; unhealthy leaves the pool and is restarted', async () => {
  const h = harness([
    makeService('web', { command: cmd, healthcheck: check, restart: { condition: 'always' } }),
  ]);
  await h.engine.up();
  assert.equal(h.replica('web').ready, false);
  assert.equal(h.replica('web').health, 'starting');
  h.mem('web').health?.('healthy');
  assert.equal(h.replica('web').ready, true);
  const first = h.mem('web');
  first.health?.('unhealthy', 'HTTP 500');
  assert.equal(h.replica('web').ready, false);
  await until(() => !first.running, 'the unhealthy replica is stopped');
  assert.deepEqual(first.signals, ['SIGTERM']);
  await until(() => h.replica('web').state === 'backoff', 'backoff');
  h.clock.advance(100);
  await until(() => h.replica('web').state === 'running', 'restarted');
  assert.equal(h.replica('web').restarts, 1);
  assert.ok(h.notices().some((m) => /web-1 is unhealthy, restarting it/.test(m)));
  await h.engine.shutdown();
});

test('depends_on service_healthy: the dependant waits for its dependency to be healthy', async () => {
  const dep = { condition: 'service_healthy' as const, required: true, restart: false };
  const h = harness([
    makeService('db', { command: cmd, healthcheck: check }),
    makeService('web', { command: cmd, dependsOn: { db: dep } }),
  ]);
  const up = h.engine.up();
  await until(() => h.replica('db').state === 'running', 'db running');
  await settle();
  assert.equal(h.replica('web').state, 'waiting');
  assert.equal(h.replica('web').reason, 'waiting for db (service_healthy)');
  h.mem('db').health?.('healthy');
  await up;
  assert.equal(h.replica('web').state, 'running');
  await h.engine.shutdown();
  const order = h.events.flatMap((e) =>
    e.type === 'replica' && e.replica.state === 'exited' ? [e.replica.service] : [],
  );
  assert.deepEqual(order, ['web', 'db'], 'dependants stop first');
});

test('service_completed_successfully: a failed one-shot fails its dependant', async () => {
  const dep = {
    condition: 'service_completed_successfully' as const,
    required: true,
    restart: false,
  };
  const h = harness([
    makeService('migrate', { command: cmd }),
    makeService('web', { command: cmd, dependsOn: { migrate: dep } }),
  ]);
  const up = h.engine.up();
  await until(() => h.replica('migrate').state === 'running', 'migrate runs');
  h.mem('migrate').exit(2);
  await up;
  assert.equal(h.replica('web').state, 'exited');
  assert.match(
    h.replica('web').reason ?? '',
    /dependency migrate did not complete successfully: exit 2/,
  );
});

test('scale: up adds replicas, down drains and removes the highest numbers', async () => {
  const h = harness([makeService('web', { command: cmd, restart: { condition: 'always' } })]);
  const drained: string[] = [];
  h.engine.setDrainer(async (r) => void drained.push(r.name));
  await h.engine.up();
  h.engine.setScale('web', 3);
  await until(() => h.runtime.running('web').length === 3, 'three running');
  h.engine.setScale('web', 1);
  await until(() => h.engine.replicas().length === 1, 'back to one');
  assert.deepEqual(drained.sort(), [`${h.project.name}-web-2`, `${h.project.name}-web-3`]);
  assert.equal(h.replica('web').index, 1);
  assert.equal(h.runtime.running('web').length, 1);
  assert.throws(() => h.engine.setScale('web', -1), /invalid scale/);
  assert.throws(
    () => h.engine.setScale('nope', 1),
    (e: unknown) => (e as { code?: string }).code === 'NO_SUCH_SERVICE',
  );
  await h.engine.shutdown();
});

test('a stopped service stays down after a crash; herd kill SIGKILL is a manual stop', async () => {
  const h = harness([
    makeService('a', { command: cmd, restart: { condition: 'always' } }),
    makeService('b', { command: cmd, restart: { condition: 'always' } }),
  ]);
  await h.engine.up();
  await h.engine.stopServices(['a']);
  assert.equal(h.replica('a').reason, 'stopped');
  h.engine.killServices('SIGKILL', ['b']);
  await until(() => h.replica('b').state === 'exited', 'b killed');
  assert.equal(h.replica('b').reason, 'killed (SIGKILL)');
  h.clock.advance(60_000);
  await settle();
  assert.equal(h.runtime.running().length, 0, 'nothing restarted');
  await h.engine.startServices(['b']);
  await until(() => h.replica('b').state === 'running', 'b started again');
  await h.engine.shutdown();
});

test('a stop waits out the grace period, then SIGKILLs a replica that ignores its signal', async () => {
  const h = harness([makeService('web', { command: cmd, stopGracePeriodMs: 3000 })]);
  h.runtime.script('web', { ignoresStop: true });
  await h.engine.up();
  const replica = h.mem('web');
  const stop = h.engine.stopServices();
  await settle();
  assert.ok(replica.running);
  h.clock.advance(3000);
  await stop;
  assert.deepEqual(replica.signals, ['SIGTERM', 'SIGKILL']);
});

test('a service with ports is ready only once it listens', async () => {
  const h = harness([
    makeService('web', {
      command: cmd,
      expose: [{ port: 5000, protocol: 'tcp' }] as Service['expose'],
    }),
  ]);
  h.runtime.script('web', { listensLater: true });
  await h.engine.up();
  await settle();
  assert.equal(h.replica('web').ready, false);
  h.mem('web').listen();
  await until(() => h.replica('web').ready === true, 'ready once listening');
  await h.engine.shutdown();
});

/** web, healthy, in a start-first rolling restart whose successor has just started. */
async function restartingHealthyWeb() {
  const h = harness([makeService('web', { command: cmd, healthcheck: check, expose })]);
  const up = h.engine.up();
  await until(() => h.runtime.running().length === 1, 'web runs');
  h.mem('web').health?.('healthy');
  await up;
  const old = h.mem('web');
  const restart = h.engine.restartServices(['web']);
  await until(() => h.runtime.running().length === 2, 'successor started');
  return { h, old, restart };
}

test('rolling restart, start-first: the successor takes the slot over once ready', async () => {
  const { h, old, restart } = await restartingHealthyWeb();
  const next = h.runtime.replica(`${h.project.name}-web-1-next`);
  assert.ok(old.running, 'the old one serves until its successor is ready');
  next.health?.('healthy');
  await restart;
  assert.ok(!old.running);
  assert.equal(h.replica('web').pid, next.pid);
  assert.equal(h.engine.replicas().length, 1);
  await h.engine.shutdown();
});

test('rolling restart: a replacement that crashes stops the rollout and keeps the old replica', async () => {
  const { h, old, restart } = await restartingHealthyWeb();
  h.runtime.replica(`${h.project.name}-web-1-next`).exit(1);
  await assert.rejects(restart, (e: unknown) => (e as { code?: string }).code === 'ROLLOUT_FAILED');
  assert.ok(old.running);
  await until(() => h.engine.replicas().length === 1, 'successor dropped');
  assert.equal(h.replica('web').pid, old.pid);
  await h.engine.shutdown();
});

test('apply: a changed definition restarts the service, a removed one is stopped', async () => {
  const h = harness([
    makeService('web', { command: cmd, environment: { COLOR: 'blue' } }),
    makeService('old', { command: cmd }),
  ]);
  await h.engine.up();
  const next: Project = {
    ...h.project,
    services: { web: makeService('web', { command: cmd, environment: { COLOR: 'green' } }) },
  };
  await h.engine.apply(next);
  assert.equal(h.runtime.running().length, 1);
  assert.equal(h.runtime.running()[0]!.spec.env.COLOR, 'green');
  assert.deepEqual(
    h.engine.replicas().map((r) => r.service),
    ['web'],
  );
  await h.engine.shutdown();
});

test('a replica left running by an earlier herd is adopted, not started again', async () => {
  const h = harness([makeService('web', { command: cmd })]);
  const earlier = await h.runtime.start({
    ...baseSpec(h.project.name),
    name: `${h.project.name}-web-1`,
  });
  h.runtime.leftRunning.set(`${h.project.name}-web-1`, earlier as never);
  await h.engine.up();
  assert.equal(h.replica('web').pid, earlier.pid);
  assert.equal(h.replica('web').reason, 'adopted: it was already running');
  await h.engine.shutdown();
});

function baseSpec(project: string) {
  return {
    project,
    service: 'web',
    index: 1,
    name: '',
    command: cmd,
    env: {},
    cwd: '/',
    stopSignal: 'SIGTERM' as const,
    stopGracePeriodMs: 1000,
  };
}

test('deploy.restart_policy waits its fixed delay between attempts and stops at max_attempts', async () => {
  const restart = {
    condition: 'on-failure' as const,
    delayMs: 2000,
    fixedDelay: true,
    maxAttempts: 2,
  };
  const h = harness([makeService('web', { command: cmd, restart })]);
  await h.engine.up();
  for (let attempt = 1; attempt <= 2; attempt++) {
    h.mem('web').exit(1);
    await until(() => h.replica('web').state === 'backoff', `backoff ${attempt}`);
    assert.match(h.replica('web').reason ?? '', /restarting in 2s/, 'the delay never doubles');
    h.clock.advance(1999);
    assert.equal(h.replica('web').state, 'backoff');
    h.clock.advance(1);
    await until(() => h.replica('web').state === 'running', `restart ${attempt}`);
  }
  h.mem('web').exit(1);
  await until(() => h.replica('web').state === 'exited', 'gave up');
  assert.match(h.replica('web').reason ?? '', /gave up after 2 restarts/);
  assert.equal(h.runtime.started.length, 3);
});

test('deploy.restart_policy window: a restart that stayed up for the window succeeded and does not count', async () => {
  const restart = {
    condition: 'on-failure' as const,
    delayMs: 1000,
    fixedDelay: true,
    maxAttempts: 1,
    windowMs: 10_000,
  };
  const h = harness([makeService('web', { command: cmd, restart })]);
  await h.engine.up();
  const crashAfter = async (upMs: number, label: string) => {
    h.clock.advance(upMs);
    h.mem('web').exit(1);
    await until(() => ['backoff', 'exited'].includes(h.replica('web').state), label);
  };
  // The first restart (the one max_attempts allows).
  await crashAfter(50, 'first crash');
  assert.equal(h.replica('web').state, 'backoff');
  h.clock.advance(1000);
  await until(() => h.replica('web').state === 'running', 'restart 1');
  // It ran for the whole window: that restart succeeded, so this crash is restarted again.
  await crashAfter(10_000, 'crash after the window');
  assert.equal(h.replica('web').state, 'backoff', h.replica('web').reason);
  assert.match(h.replica('web').reason ?? '', /restarting in 1s/);
  h.clock.advance(1000);
  await until(() => h.replica('web').state === 'running', 'restart 2');
  // Down again before the window ended: that restart failed and used up max_attempts.
  await crashAfter(9_999, 'crash within the window');
  assert.equal(h.replica('web').state, 'exited');
  assert.match(h.replica('web').reason ?? '', /gave up after 1 restart: exit 1/);
  assert.equal(h.runtime.started.length, 3);
  await h.engine.shutdown();
});
