// Re-applying a changed compose file to a running engine, with real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import type { Project, Service } from '../../src/compose/model.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const app = nodeEval(
  'console.log("color=" + process.env.COLOR); process.on("SIGTERM", () => process.exit(0)); setInterval(() => {}, 1000)',
);
const dep = { condition: 'service_started' as const, required: true, restart: false };

test('apply: added, removed, changed and unchanged services; scale follows the file unless overridden', async () => {
  const v1 = makeProject([
    makeService('same', { command: app }),
    makeService('changed', { command: app, environment: { COLOR: 'blue' }, scale: 2 }),
    makeService('gone', { command: app }),
    makeService('rescaled', { command: app }),
    makeService('pinned', { command: app }),
  ]);
  const v2: Project = {
    ...v1,
    services: {
      // Same definition, keys in another order: still unchanged.
      same: Object.fromEntries(
        Object.entries(makeService('same', { command: app })).reverse(),
      ) as unknown as Service,
      changed: makeService('changed', { command: app, environment: { COLOR: 'green' }, scale: 2 }),
      rescaled: makeService('rescaled', { command: app, scale: 2 }),
      pinned: makeService('pinned', { command: app, scale: 3 }),
      added: makeService('added', { command: app, dependsOn: { same: dep } }),
    },
  };
  const engine = new Engine(v1, { runtime: processRuntime });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  const by = (svc: string) => engine.replicas().filter((r) => r.service === svc);
  const changedOutput = () =>
    events
      .filter((e) => e.type === 'output' && e.service === 'changed')
      .map((e) => e.type === 'output' && e.line);
  try {
    await engine.up();
    engine.setScale('pinned', 2); // `herd scale` since the file was read: kept
    await waitUntil(
      'pinned 2',
      () => by('pinned').filter((r) => r.state === 'running').length === 2,
    );
    // up() returns once the replicas run, not once they have printed: a color=blue line printed
    // late would be taken for the new definition's output below. Both are in before the reset.
    await waitUntil('color=blue from both old replicas', () => changedOutput().length === 2);
    const before = Object.fromEntries(engine.replicas().map((r) => [r.name, r.pid!]));
    const gonePid = by('gone')[0]!.pid!;
    events.length = 0;

    await engine.apply(v2);

    assert.equal(by('same')[0]!.pid, before[`${v1.name}-same-1`], 'unchanged service untouched');
    assert.deepEqual(by('gone'), []);
    assert.ok(!pidAlive(gonePid));
    const changed = by('changed');
    assert.equal(changed.length, 2);
    for (const r of changed) {
      assert.equal(r.state, 'running');
      assert.notEqual(r.pid, before[r.name]);
    }
    const colors = await waitUntil('new output', () => {
      const lines = changedOutput();
      return lines.length >= 2 && lines;
    });
    assert.deepEqual(colors, ['color=green', 'color=green']);
    assert.equal(by('added')[0]!.state, 'running');
    await waitUntil(
      'rescaled to 2',
      () => by('rescaled').filter((r) => r.state === 'running').length === 2,
    );
    assert.equal(by('pinned').length, 2, 'the herd scale override survives apply');
    assert.deepEqual(
      events.filter((e) => e.type === 'scaled').map((e) => e.type === 'scaled' && e.service),
      ['rescaled'],
    );
  } finally {
    await engine.shutdown();
  }
});

test('apply refuses a file that cannot run, before touching anything', async () => {
  const v1 = makeProject([makeService('web', { command: app })]);
  const engine = new Engine(v1, { runtime: processRuntime });
  try {
    await engine.up();
    const pid = engine.replicas()[0]!.pid;
    const broken: Project = {
      ...v1,
      services: { web: makeService('web', { command: undefined }) },
    };
    await assert.rejects(engine.apply(broken), /service "web" has nothing to run/);
    await assert.rejects(engine.apply({ ...v1, name: 'other' }), /project name changed/);
    assert.equal(engine.replicas()[0]!.pid, pid);
    assert.equal(engine.project, v1);
  } finally {
    await engine.shutdown();
  }
});
