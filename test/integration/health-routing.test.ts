// Healthchecks with real processes and real shell probes: start_period keeps early failures from
// counting, and an unhealthy replica leaves herd's real balancer at once, is restarted (or, with
// `x-herd: {healUnhealthy: false}`, kept running), and rejoins once its probe passes again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Engine } from '../../src/engine/engine.ts';
import type { Healthcheck, Project, Service } from '../../src/compose/model.ts';
import type { EngineEvent, HealthStatus } from '../../src/engine/events.ts';
import { createProxy } from '../../src/proxy/index.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { freePort } from '../helpers/backends.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const INTERVAL_MS = 200;
const RETRIES = 2;
// Probe spawn time and scheduling on a busy 2-core machine, on top of retries × interval.
const SLACK_MS = 1800;
const OUT_OF_ROTATION_MS = RETRIES * INTERVAL_MS + SLACK_MS;

function check(command: string, over: Partial<Healthcheck> = {}): Healthcheck {
  return {
    test: { kind: 'shell', command },
    intervalMs: INTERVAL_MS,
    // Generous: a probe that times out on a loaded machine would fail a healthy replica.
    timeoutMs: 3000,
    retries: RETRIES,
    startPeriodMs: 0,
    startIntervalMs: INTERVAL_MS,
    ...over,
  };
}

/** Health values a service's replica 1 went through, in order, without repeats. */
function healthLog(engine: Engine): Record<string, { health: HealthStatus; at: number }[]> {
  const log: Record<string, { health: HealthStatus; at: number }[]> = {};
  engine.on('event', (e: EngineEvent) => {
    if (e.type !== 'replica' || e.replica.index !== 1) return;
    const list = (log[e.replica.service] ??= []);
    if (list.at(-1)?.health !== e.replica.health) list.push({ health: e.replica.health, at: e.at });
  });
  return log;
}

test('start_period: failing probes during it do not count; without it the replica goes unhealthy', async () => {
  const READY_AFTER_MS = 1500;
  // The probe passes only once the replica has written its file, ~1.5 s after it started.
  const app = nodeEval(`
    setTimeout(() => require('fs').writeFileSync('ready-' + process.env.HERD_SERVICE, ''), ${READY_AFTER_MS});
    setInterval(() => {}, 1000);
    process.on('SIGTERM', () => process.exit(0));
  `);
  const probe = 'test -f "ready-$HERD_SERVICE"';
  const project = makeProject([
    makeService('graced', {
      command: app,
      healthcheck: check(probe, { retries: 1, startPeriodMs: 3000 }),
    }),
    makeService('eager', { command: app, healthcheck: check(probe, { retries: 1 }) }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  const log = healthLog(engine);
  let gracedWhenEagerFailed: HealthStatus | undefined;
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'replica' && e.replica.service === 'eager' && e.replica.health === 'unhealthy') {
      gracedWhenEagerFailed ??= engine.replicas().find((r) => r.service === 'graced')?.health;
    }
  });
  try {
    await engine.up();
    await waitUntil(
      'both services healthy',
      () => engine.replicas().every((r) => r.health === 'healthy'),
      8000,
    );
    const graced = log.graced!.map((h) => h.health);
    const eager = log.eager!.map((h) => h.health);
    assert.deepEqual(graced.slice(-2), ['starting', 'healthy'], graced.join(' → '));
    assert.ok(!graced.includes('unhealthy'), `graced: ${graced.join(' → ')}`);
    // The twin proves the probe really failed early: start_period is what made the difference.
    assert.deepEqual(eager.slice(-3), ['starting', 'unhealthy', 'healthy'], eager.join(' → '));
    assert.equal(gracedWhenEagerFailed, 'starting');
    const startedAt = engine.replicas().find((r) => r.service === 'graced')!.startedAt!;
    const healthyAt = log.graced!.at(-1)!.at;
    assert.ok(
      healthyAt - startedAt >= READY_AFTER_MS - 200,
      `healthy after ${healthyAt - startedAt} ms, before its probe could pass`,
    );
  } finally {
    await engine.shutdown();
  }
});

// Answers "<replica> <pid>"; each answer takes a few ms so requests are in flight at any time.
const WEB = nodeEval(`
  const srv = require('http')
    .createServer((q, s) => setTimeout(() => s.end(process.env.HERD_REPLICA + ' ' + process.pid), 5))
    .listen(Number(process.env.PORT), '127.0.0.1');
  process.on('SIGTERM', () => {
    srv.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 300).unref();
  });
`);

async function webProject(over: Partial<Service> = {}): Promise<{ project: Project; url: string }> {
  const published = await freePort();
  const project = makeProject([
    makeService('web', {
      command: WEB,
      scale: 2,
      restart: { condition: 'always' },
      ports: [
        {
          target: 8080,
          published: { start: published, end: published },
          hostIp: '127.0.0.1',
          protocol: 'tcp',
        },
      ],
      healthcheck: check('test ! -f "unhealthy-$HERD_REPLICA"'),
      ...over,
    }),
  ]);
  return { project, url: `http://127.0.0.1:${published}/` };
}

interface Answer {
  replica: string;
  pid: number;
  sentAt: number;
}

/** Clients requesting `url` back to back until stop() (or 30 s, whatever happens). */
function load(url: string, clients = 2) {
  const answers: Answer[] = [];
  const failures: string[] = [];
  let done = false;
  const deadline = Date.now() + 30_000;
  const client = async () => {
    while (!done && Date.now() < deadline) {
      const sentAt = Date.now();
      try {
        const res = await fetch(url, { signal: AbortSignal.timeout(5000) });
        const body = (await res.text()).trim();
        const [replica, pid] = body.split(' ');
        if (res.status !== 200 || !replica || !pid) failures.push(`${res.status} ${body}`);
        else answers.push({ replica, pid: Number(pid), sentAt });
      } catch (err) {
        failures.push(`${sentAt}-${Date.now()} ${String((err as Error).cause ?? err)}`);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const running = Array.from({ length: clients }, client);
  return {
    answers,
    failures,
    from: (replica: string, since = 0) =>
      answers.filter((a) => a.replica === replica && a.sentAt >= since),
    stop: async () => {
      done = true;
      await Promise.all(running);
    },
  };
}

/** Whether a replica answers on its own port. */
async function answersDirectly(port: number | undefined): Promise<boolean> {
  if (port === undefined) return false;
  try {
    return (await fetch(`http://127.0.0.1:${port}/`, { signal: AbortSignal.timeout(1000) })).ok;
  } catch {
    return false;
  }
}

const sleepUntil = (t: number) => new Promise((r) => setTimeout(r, Math.max(0, t - Date.now())));

const web = (engine: Engine, index: number) =>
  engine.replicas().find((r) => r.service === 'web' && r.index === index);

/** Engine, balancer and load on a published port, both replicas answering; cleaned up after. */
async function withWeb(
  over: Partial<Service>,
  body: (ctx: {
    engine: Engine;
    project: Project;
    traffic: ReturnType<typeof load>;
    unreadyAt: (name: string) => number | undefined;
    /** What happened to the pool, for failure messages. */
    timeline: () => string;
  }) => Promise<void>,
): Promise<void> {
  const { project, url } = await webProject(over);
  const proxy = createProxy(project);
  await proxy.listen();
  const engine = new Engine(project, { runtime: processRuntime });
  proxy.attach(engine);
  const unready = new Map<string, number>();
  const events: string[] = [];
  engine.on('event', (e: EngineEvent) => {
    if (e.type === 'unready' && !unready.has(e.replica.name)) unready.set(e.replica.name, e.at);
    if (e.type === 'ready' || e.type === 'unready')
      events.push(`${e.at} ${e.type} ${e.replica.name} ${e.type === 'unready' ? e.reason : ''}`);
  });
  const timeline = () => events.join('\n');
  let traffic: ReturnType<typeof load> | undefined;
  try {
    await engine.up();
    await waitUntil('both replicas healthy', () => web(engine, 1)?.ready && web(engine, 2)?.ready);
    // The probe only checks a flag file, so "healthy" can come before the app listens (node starts
    // slowly on a busy machine): requests sent then would wait out their timeout. The load starts
    // once both answer on their own ports.
    await waitUntil('both replicas listening', async () => {
      const answers = await Promise.all([1, 2].map((i) => answersDirectly(web(engine, i)?.port)));
      return answers.every(Boolean);
    });
    traffic = load(url);
    const t = traffic;
    await waitUntil('answers from both replicas', () => t.from('1').length && t.from('2').length);
    await body({ engine, project, traffic, unreadyAt: (name) => unready.get(name), timeline });
  } finally {
    await traffic?.stop();
    await engine.shutdown();
    await proxy.close();
  }
}

test('an unhealthy replica leaves the balancer at once, is restarted, and rejoins when healthy', async () => {
  await withWeb({}, async ({ engine, project, traffic, unreadyAt, timeline }) => {
    const one = web(engine, 1)!;
    const before = web(engine, 2)!;
    const flag = join(project.workingDir, 'unhealthy-2');
    const flippedAt = Date.now();
    writeFileSync(flag, '');

    const gone = await waitUntil('web-2 unready', () => unreadyAt(before.name), 5000);
    // The probes herd ran are kept for `ps --format json` (HealthLog), as Docker keeps them.
    const log = before.healthLog ?? [];
    assert.ok(log.length > 0 && log.every((p) => p.exitCode === 0), JSON.stringify(log));
    assert.ok(
      gone - flippedAt <= OUT_OF_ROTATION_MS,
      `web-2 left the pool ${gone - flippedAt} ms after turning unhealthy`,
    );
    const restarted = await waitUntil(
      'web-2 restarted with a new pid',
      () => {
        const r = web(engine, 2);
        return r?.pid !== undefined && r.pid !== before.pid && r.state === 'running' && r;
      },
      8000,
    );
    assert.ok(restarted.restarts >= 1, `restarts: ${restarted.restarts}`);
    assert.equal(pidAlive(before.pid!), false, 'the unhealthy process was stopped');
    // Keep traffic going past the deadline while the flag still makes every web-2 unhealthy.
    const cutoff = flippedAt + OUT_OF_ROTATION_MS;
    await sleepUntil(cutoff + 300);
    assert.deepEqual(traffic.from('2', cutoff), [], 'web-2 answered while unhealthy');
    assert.ok(traffic.from('1', cutoff).length > 0, 'web-1 kept serving');

    rmSync(flag);
    await waitUntil(
      'a restarted web-2 answers through the balancer',
      () => traffic.from('2').some((a) => a.pid !== before.pid),
      8000,
    );
    await traffic.stop();
    assert.deepEqual(traffic.failures, [], timeline());
    const after = web(engine, 1)!;
    assert.equal(after.pid, one.pid, 'web-1 was left alone');
    assert.equal(after.restarts, 0);
  });
});

test('healUnhealthy: false keeps an unhealthy replica running, out of rotation until healthy', async () => {
  const herd = { ...makeService('web').herd, healUnhealthy: false };
  await withWeb({ herd }, async ({ engine, project, traffic, unreadyAt, timeline }) => {
    const before = web(engine, 2)!;
    const flag = join(project.workingDir, 'unhealthy-2');
    const flippedAt = Date.now();
    writeFileSync(flag, '');

    const gone = await waitUntil('web-2 unready', () => unreadyAt(before.name), 5000);
    assert.ok(gone - flippedAt <= OUT_OF_ROTATION_MS, `left the pool after ${gone - flippedAt} ms`);
    assert.equal(web(engine, 2)?.health, 'unhealthy');
    // Several more failing probes: long enough for a restart to have happened if herd did one.
    const cutoff = flippedAt + OUT_OF_ROTATION_MS;
    await sleepUntil(cutoff + 5 * INTERVAL_MS);
    const still = web(engine, 2)!;
    assert.equal(still.pid, before.pid, 'same process');
    assert.equal(still.state, 'running');
    assert.equal(still.health, 'unhealthy');
    assert.equal(still.restarts, 0);
    assert.ok(pidAlive(before.pid!));
    assert.deepEqual(traffic.from('2', cutoff), [], 'web-2 answered while unhealthy');
    assert.ok(traffic.from('1', cutoff).length > 0, 'web-1 kept serving');

    rmSync(flag);
    const back = Date.now();
    await waitUntil('web-2 answers again', () => traffic.from('2', back).length > 0, 5000);
    assert.ok(traffic.from('2', back).every((a) => a.pid === before.pid));
    await traffic.stop();
    assert.deepEqual(traffic.failures, [], timeline());
  });
});

test('restart: on-failure heals too: an unhealthy replica that exits 0 on SIGTERM comes back', async () => {
  await withWeb(
    { restart: { condition: 'on-failure' } },
    async ({ engine, project, traffic, timeline }) => {
      const before = web(engine, 2)!;
      writeFileSync(join(project.workingDir, 'unhealthy-2'), '');
      await waitUntil('web-2 stopped as unhealthy', () => !pidAlive(before.pid!), 8000);
      rmSync(join(project.workingDir, 'unhealthy-2'));
      const after = await waitUntil(
        'web-2 restarted and healthy',
        () => {
          const r = web(engine, 2);
          return r?.pid !== before.pid && r?.health === 'healthy' && r;
        },
        8000,
      );
      assert.equal(after.restarts, 1);
      assert.equal(after.lastExit?.exitCode, 0, 'the app exited 0 on SIGTERM');
      const back = Date.now();
      await waitUntil('web-2 answers again', () => traffic.from('2', back).length > 0, 5000);
      await traffic.stop();
      assert.deepEqual(traffic.failures, [], timeline());
    },
  );
});
