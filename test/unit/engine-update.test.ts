// Updates as deploy.update_config says (engine/update.ts), on the in-memory runtime and a fake
// clock: monitor, failure actions (rollback, pause, continue), max_failure_ratio, parallelism and
// delay, `herd rollback` by hand; and the keys' load-time checks with file:line:col.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject } from '../../src/compose/load.ts';
import type { Service } from '../../src/compose/model.ts';
import type { UpdateConfig } from '../../src/compose/update-config.ts';
import type { UpdateState } from '../../src/engine/events.ts';
import { memoryEngine } from '../helpers/memory-engine.ts';
import { type FakeClock, settle, until } from '../helpers/memory-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';
import { tempDir } from '../helpers/tmp.ts';

function web(version: string, scale: number, updateConfig?: UpdateConfig): Service {
  return makeService('web', {
    command: ['app'],
    environment: { VERSION: version },
    scale,
    restart: { condition: 'always' },
    ...(updateConfig ? { updateConfig } : {}),
  });
}

function harness(first: Service) {
  const project = makeProject([first]);
  const { clock, runtime, engine, events } = memoryEngine(project);
  const versions = () =>
    runtime
      .running('web')
      .map((r) => r.spec.env.VERSION)
      .sort();
  const states = () =>
    events.flatMap((e): UpdateState[] => (e.type === 'update' ? [e.update.state] : []));
  const next = (s: Service) => ({ ...project, services: { web: s } });
  /** The running replica of the new definition, by its VERSION. */
  const runningAt = (version: string) =>
    runtime.running('web').filter((r) => r.spec.env.VERSION === version);
  return { clock, runtime, engine, events, versions, states, next, runningAt };
}

/** Fake time passes, then the engine's promise chains run. */
async function tick(h: { clock: FakeClock }, ms: number): Promise<void> {
  h.clock.advance(ms);
  await settle();
}

const rollback: UpdateConfig = { failureAction: 'rollback', monitorMs: 5000, order: 'start-first' };

test('a new replica that exits within monitor rolls the update back; the others never change', async () => {
  const h = harness(web('v1', 2, rollback));
  await h.engine.up();
  const before = h.runtime.running('web').map((r) => r.pid);
  const applied = h.engine.apply(h.next(web('v2', 2, rollback)));
  const outcome = applied.then(
    () => assert.fail('the update should fail'),
    (err: unknown) => err as Error & { code?: string },
  );
  await until(() => h.runningAt('v2').length === 1, 'web-1 replaced by v2');
  await until(() => h.runtime.running('web').length === 2, 'the old web-1 stopped');
  h.clock.advance(1000);
  assert.deepEqual(h.versions(), ['v1', 'v2'], 'web-2 waits for web-1 to pass its monitor');
  const v2 = h.runningAt('v2')[0]!;
  v2.print('v2: cannot read config');
  v2.exit(1);
  await until(() => h.runningAt('v1').length === 2, 'web-1 back on v1');
  // Answered once v1 is back; the rollback's own monitor (Swarm's default 5 s) goes on.
  const err = await outcome;
  assert.equal(err.code, 'ROLLED_BACK');
  assert.match(
    err.message,
    /rolled back to the previous definition: web-1's new replica exited within the 5s monitor \(exit 1\)/,
  );
  assert.match(err.message, /\| v2: cannot read config/);
  assert.ok(
    before.includes(
      h
        .runningAt('v1')
        .map((r) => r.pid)
        .find((p) => p === before[1])!,
    ),
  );
  assert.equal(
    h.runtime.started.filter((r) => r.spec.env.VERSION === 'v2').length,
    1,
    'web-2 never got v2',
  );
  assert.deepEqual(h.states(), ['updating', 'rolling back', 'rolling back']);
  await tick(h, 5000);
  await until(() => h.states().at(-1) === 'rolled back', 'the rollback passed its monitor');
  assert.equal(h.engine.project.services.web!.environment.VERSION, 'v1', 'v1 is live again');
  // A crash from now on restarts onto the live definition.
  h.runningAt('v1')[0]!.exit(1);
  await settle();
  h.clock.advance(1000);
  await until(() => h.runningAt('v1').length === 2, 'restarted onto v1');
  const [record] = h.engine.definitionRecords();
  assert.equal(record!.live.environment.VERSION, 'v1');
  assert.equal(record!.previous!.environment.VERSION, 'v2');
  await h.engine.shutdown();
});

test('pause leaves the replicas as they are; `herd rollback` goes back by hand', async () => {
  const pause: UpdateConfig = { monitorMs: 2000 };
  const h = harness(web('v1', 2, pause));
  await h.engine.up();
  const applied = h.engine.apply(h.next(web('v2', 2, pause))).catch((e: unknown) => e as Error);
  await until(() => h.runningAt('v2').length === 1, 'web-1 on v2 (stop-first)');
  h.clock.advance(500);
  h.runningAt('v2')[0]!.exit(3);
  const err = (await applied) as Error & { code?: string };
  assert.equal(err.code, 'ROLLOUT_FAILED');
  assert.match(
    err.message,
    /the update of web paused: web-1's new replica exited within the 2s monitor \(exit 3\)/,
  );
  assert.deepEqual(h.states(), ['updating', 'paused']);
  assert.equal(h.engine.updates()[0]!.state, 'paused');
  h.clock.advance(100); // web-1 restarts, still on the live (new) definition
  await until(() => h.runningAt('v2').length === 1, 'web-1 restarted on v2');
  assert.equal(h.runningAt('v1').length, 1, 'web-2 untouched');

  const back = h.engine.rollbackService('web');
  await until(() => h.runningAt('v1').length === 2, 'both on v1');
  h.clock.advance(5000);
  await back;
  assert.equal(h.engine.updates()[0]!.state, 'rolled back');
  await assert.rejects(h.engine.rollbackService('nope'), /no such service/);
  await h.engine.shutdown();
});

test('batches of parallelism, delay apart, each monitored first', async () => {
  const cfg: UpdateConfig = { parallelism: 2, delayMs: 10_000, monitorMs: 1000 };
  const h = harness(web('v1', 3, cfg));
  await h.engine.up();
  const applied = h.engine.apply(h.next(web('v2', 3, cfg)));
  await until(() => h.runningAt('v2').length === 2, 'first batch of two');
  await tick(h, 1000);
  await tick(h, 9999);
  assert.equal(h.runningAt('v2').length, 2, 'the delay runs after the monitor');
  await tick(h, 1);
  await until(() => h.runningAt('v2').length === 3, 'last batch');
  h.clock.advance(1000);
  await applied;
  assert.deepEqual(h.states(), ['updating', 'completed']);
  await h.engine.shutdown();
});

test('failures up to max_failure_ratio are tolerated; the update completes and says so', async () => {
  const cfg: UpdateConfig = { failureAction: 'rollback', maxFailureRatio: 0.5, monitorMs: 1000 };
  const h = harness(web('v1', 2, cfg));
  await h.engine.up();
  const applied = h.engine.apply(h.next(web('v2', 2, cfg)));
  await until(() => h.runningAt('v2').length === 1, 'web-1 on v2');
  h.runningAt('v2')[0]!.exit(1); // 1 of 2 failed: 0.5 is not over 0.5
  await settle();
  await tick(h, 1000);
  await until(() => h.runningAt('v2').length === 2, 'web-2 updated too');
  await tick(h, 1000);
  await applied;
  const last = h.engine.updates()[0]!;
  assert.equal(last.state, 'completed');
  assert.match(
    last.message ?? '',
    /1 of 2 new replicas failed \(web-1's new replica exited within the 1s monitor/,
  );
  await h.engine.shutdown();
});

test('continue: a failure past max_failure_ratio does not stop the update; it completes and says so', async () => {
  const cfg: UpdateConfig = { failureAction: 'continue', monitorMs: 1000 };
  const h = harness(web('v1', 2, cfg));
  await h.engine.up();
  const applied = h.engine.apply(h.next(web('v2', 2, cfg)));
  await until(() => h.runningAt('v2').length === 1, 'web-1 on v2');
  h.runningAt('v2')[0]!.exit(1); // 1 of 2 failed: over the ratio of 0, and the update goes on
  await settle();
  await tick(h, 1000);
  await until(() => h.runningAt('v2').length === 2, 'web-2 updated too');
  await tick(h, 1000);
  await applied;
  assert.deepEqual(h.states(), ['updating', 'completed']);
  assert.match(
    h.engine.updates()[0]!.message ?? '',
    /1 of 2 new replicas failed \(web-1's new replica exited within the 1s monitor/,
  );
  assert.equal(h.engine.project.services.web!.environment.VERSION, 'v2', 'v2 stays live');
  await h.engine.shutdown();
});

async function loadErrors(deploy: string): Promise<string[]> {
  const dir = tempDir('upd');
  await writeFile(
    path.join(dir, 'compose.yaml'),
    `services:\n  web:\n    command: ["app"]\n    deploy:\n${deploy}`,
  );
  try {
    await loadProject({ cwd: dir, env: {} });
  } catch (err) {
    assert.ok(err instanceof ComposeError, String(err));
    return err.message.split('\n').map((l) => l.trim());
  }
  return assert.fail('expected the load to fail');
}

test('bad update_config/rollback_config values are load errors at file:line:col', async () => {
  const lines = await loadErrors(
    [
      '      update_config:',
      '        delay: soon',
      '        monitor: [5s]',
      '        max_failure_ratio: 1.5',
      '        failure_action: retry',
      '        order: random',
      '        parallelism: -1',
      '      rollback_config:',
      '        failure_action: rollback',
      '        max_failure_ratio: "-0.1"',
      '',
    ].join('\n'),
  );
  const at = 'compose.yaml';
  for (const want of [
    `${at}:6:16: services.web.deploy.update_config.delay: expected a duration such as 30s or 1m30s, got "soon"`,
    `${at}:7:18: services.web.deploy.update_config.monitor: expected a duration`,
    `${at}:8:28: services.web.deploy.update_config.max_failure_ratio: expected a number from 0 to 1`,
    `${at}:9:25: services.web.deploy.update_config.failure_action: expected "pause", "continue" or "rollback", got "retry"`,
    `${at}:10:16: services.web.deploy.update_config.order: expected "start-first" or "stop-first", got "random"`,
    `${at}:11:22: services.web.deploy.update_config.parallelism: expected a whole number ≥ 0`,
    `${at}:13:25: services.web.deploy.rollback_config.failure_action: expected "pause" or "continue", got "rollback"`,
    `${at}:14:28: services.web.deploy.rollback_config.max_failure_ratio: expected a number from 0 to 1`,
  ])
    assert.ok(
      lines.some((l) => l.startsWith(want)),
      `missing: ${want}\nin:\n${lines.join('\n')}`,
    );
});

test('good values load, and only the keys written are kept', async () => {
  const dir = tempDir('upd-ok');
  await writeFile(
    path.join(dir, 'compose.yaml'),
    'services:\n  web:\n    command: ["app"]\n    deploy:\n      update_config: { failure_action: rollback, monitor: 5s, order: start-first, max_failure_ratio: 0.25, delay: 1m }\n      rollback_config: { parallelism: 0 }\n',
  );
  const project = await loadProject({ cwd: dir, env: {} });
  const svc = project.services.web!;
  assert.deepEqual(svc.updateConfig, {
    delayMs: 60_000,
    monitorMs: 5000,
    failureAction: 'rollback',
    maxFailureRatio: 0.25,
    order: 'start-first',
  });
  assert.deepEqual(svc.rollbackConfig, { parallelism: 0 });
  assert.ok(!project.warnings.some((w) => /update_config/.test(w)), project.warnings.join('\n'));
});

test('herd restart follows update_config too; with nothing to roll back to, a failure pauses', async () => {
  const h = harness(web('v1', 2, rollback));
  await h.engine.up();
  const before = h.runtime.running('web').map((r) => r.pid);
  const restarted = h.engine.restartServices(['web']).catch((e: unknown) => e as Error);
  await until(
    () => h.runtime.running('web').length === 2 && h.runtime.started.length === 3,
    'web-1 replaced',
  );
  h.runtime.started[2]!.exit(1);
  const err = (await restarted) as Error & { code?: string };
  assert.equal(err.code, 'ROLLOUT_FAILED');
  assert.match(
    err.message,
    /the restart of web paused: web-1's new replica exited within the 5s monitor/,
  );
  assert.deepEqual(h.states(), ['updating', 'paused']);
  assert.ok(
    h.runtime.running('web').some((r) => r.pid === before[1]),
    'web-2 not restarted',
  );
  await h.engine.shutdown();
});

test('a new replica that dies while the old one drains is a failure, and the update rolls back', async () => {
  const h = harness(web('v1', 2, rollback));
  h.runtime.script('web', { ignoresStop: true });
  await h.engine.up();
  const applied = h.engine.apply(h.next(web('v2', 2, rollback))).catch((e: unknown) => e as Error);
  await until(() => h.runningAt('v2').length === 1, 'web-1 has a v2 successor');
  await settle();
  h.runningAt('v2')[0]!.exit(1); // the old web-1 ignores its SIGTERM: still draining
  await tick(h, 2000); // its grace period ends: SIGKILL
  await until(() => h.runningAt('v1').length === 2, 'web-1 back on v1');
  const err = (await applied) as Error & { code?: string };
  assert.equal(err.code, 'ROLLED_BACK', err.message);
  assert.match(err.message, /web-1's new replica exited before it took over \(exit 1\)/);
  await h.engine.shutdown();
});
