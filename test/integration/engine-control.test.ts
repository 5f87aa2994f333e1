// The verbs the daemon drives, with real processes: kill (Docker's semantics), stop (stays
// stopped whatever the restart policy) and up with a crashed daemon's recorded state.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import type { RestartCondition } from '../../src/compose/model.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const sleeper = nodeEval('setInterval(() => {}, 1000)');
const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

function oneService(condition: RestartCondition, scale = 1) {
  return makeProject([makeService('app', { command: sleeper, scale, restart: { condition } })]);
}

for (const condition of ['always', 'unless-stopped'] as RestartCondition[]) {
  test(`kill SIGKILL under restart: ${condition}: exit 137, not restarted (as docker kill)`, async () => {
    const engine = new Engine(oneService(condition, 2), { runtime: processRuntime });
    try {
      await engine.up();
      const pids = engine.replicas().map((r) => r.pid!);
      engine.killServices('SIGKILL', ['app']);
      await waitUntil('both exited', () => engine.replicas().every((r) => r.state === 'exited'));
      await pause(400); // longer than the first backoff delay
      for (const r of engine.replicas()) {
        assert.equal(r.state, 'exited');
        assert.equal(r.lastExit?.exitCode, 137);
        assert.equal(r.reason, 'killed (SIGKILL)');
        assert.equal(r.restarts, 0);
      }
      assert.ok(pids.every((p) => !pidAlive(p)));
      await engine.startServices(['app']);
      await waitUntil('back', () => engine.replicas().every((r) => r.state === 'running'));
    } finally {
      await engine.shutdown();
    }
  });
}

test('kill with another signal: restart: always restarts it, unless-stopped does not', async () => {
  const project = makeProject([
    makeService('always', { command: sleeper, restart: { condition: 'always' } }),
    makeService('unless', { command: sleeper, restart: { condition: 'unless-stopped' } }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up();
    const first = engine.replicas().find((r) => r.service === 'always')!;
    engine.killServices('SIGINT');
    const back = await waitUntil('always restarted', () =>
      engine
        .replicas()
        .find((r) => r.service === 'always' && r.state === 'running' && r.pid !== first.pid),
    );
    assert.equal(back.lastExit?.exitCode, 130);
    assert.equal(back.restarts, 1);
    const unless = await waitUntil('unless exited', () =>
      engine.replicas().find((r) => r.service === 'unless' && r.state === 'exited'),
    );
    assert.equal(unless.lastExit?.exitCode, 130);
    assert.equal(unless.reason, 'stopped');
  } finally {
    await engine.shutdown();
  }
});

test('a stopped service stays stopped whatever its restart policy, until started', async () => {
  const engine = new Engine(oneService('always'), { runtime: processRuntime });
  try {
    await engine.up();
    const pid = engine.replicas()[0]!.pid!;
    await engine.stopServices(['app']);
    assert.equal(engine.replicas()[0]!.state, 'exited');
    assert.equal(engine.replicas()[0]!.reason, 'stopped');
    assert.ok(!pidAlive(pid));
    engine.setScale('app', 2);
    engine.killServices('SIGKILL', ['app']); // nothing alive: nothing to do
    await pause(400);
    assert.deepEqual(
      engine.replicas().map((r) => r.state),
      ['exited'],
      'a scale change on a stopped service starts nothing',
    );
    await engine.startServices(['app']);
    await waitUntil(
      '2 running',
      () => engine.replicas().filter((r) => r.state === 'running').length === 2,
    );
  } finally {
    await engine.shutdown();
  }
});

test('up with recorded scales and stopped services (a daemon coming back)', async () => {
  const dep = { condition: 'service_started' as const, required: true, restart: false };
  const project = makeProject([
    makeService('web', { command: sleeper }),
    makeService('db', { command: sleeper, scale: 2 }),
    makeService('api', { command: sleeper, dependsOn: { db: dep } }),
  ]);
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up(undefined, { scales: { web: 3 }, stopped: ['db'] });
    const by = (svc: string) => engine.replicas().filter((r) => r.service === svc);
    assert.deepEqual(
      by('web').map((r) => r.state),
      ['running', 'running', 'running'],
    );
    assert.deepEqual(
      by('db').map((r) => [r.state, r.reason, r.pid]),
      [
        ['exited', 'stopped', undefined],
        ['exited', 'stopped', undefined],
      ],
    );
    // A dependency the user stopped does not hold its dependants back (as in Compose).
    assert.equal(by('api')[0]!.state, 'running');
    await engine.startServices(['db']);
    await waitUntil('db running', () => by('db').every((r) => r.state === 'running'));
    await assert.rejects(engine.up(undefined, { stopped: ['nope'] }), /no such service: nope/);
    await assert.rejects(engine.up(undefined, { scales: { web: -1 } }), /invalid scale for web/);
  } finally {
    await engine.shutdown();
  }
});
