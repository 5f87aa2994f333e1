// Restart policies and backoff, with real processes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import { FakeClock } from '../../src/util/clock.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import type { RestartCondition } from '../../src/compose/model.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { waitUntil } from '../helpers/wait.ts';

const sleeper = nodeEval('setInterval(() => {}, 1000)');

for (const condition of ['always', 'unless-stopped', 'on-failure'] as RestartCondition[]) {
  test(`kill -9 under restart: ${condition} brings the replica back`, async () => {
    const engine = new Engine(
      makeProject([makeService('app', { command: sleeper, restart: { condition } })]),
      { runtime: processRuntime },
    );
    try {
      await engine.up();
      const first = await waitUntil('running', () =>
        engine.replicas().find((r) => r.state === 'running'),
      );
      process.kill(first.pid!, 'SIGKILL');
      const back = await waitUntil('restarted', () =>
        engine.replicas().find((r) => r.state === 'running' && r.pid !== first.pid),
      );
      assert.equal(back.restarts, 1);
      assert.equal(back.lastExit?.exitCode, 137);
    } finally {
      await engine.shutdown();
    }
  });
}

test('kill -9 under restart: no leaves it down, with the reason', async () => {
  const engine = new Engine(makeProject([makeService('app', { command: sleeper })]), {
    runtime: processRuntime,
  });
  try {
    await engine.up();
    const first = await waitUntil('running', () =>
      engine.replicas().find((r) => r.state === 'running'),
    );
    process.kill(first.pid!, 'SIGKILL');
    const down = await waitUntil('exited', () =>
      engine.replicas().find((r) => r.state === 'exited'),
    );
    assert.equal(down.reason, 'exit 137 (SIGKILL) (restart: no)');
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(engine.replicas()[0]!.state, 'exited');
    assert.equal(engine.replicas()[0]!.restarts, 0);
  } finally {
    await engine.shutdown();
  }
});

test('a crash loop backs off: the gaps between starts grow', async () => {
  const engine = new Engine(
    makeProject([
      makeService('crash', {
        command: nodeEval('process.exit(1)'),
        restart: { condition: 'always' },
      }),
    ]),
    { runtime: processRuntime },
  );
  const starts: number[] = [];
  const exits: number[] = [];
  const notices: string[] = [];
  let last: string | undefined;
  engine.on('event', (e) => {
    if (e.type === 'replica' && e.replica.state !== last) {
      last = e.replica.state;
      if (last === 'running') starts.push(Date.now());
      if (last === 'backoff') exits.push(Date.now());
    }
    if (e.type === 'notice') notices.push(e.message);
  });
  try {
    await engine.up();
    await waitUntil('5 starts', () => starts.length >= 5, 10_000);
  } finally {
    await engine.shutdown();
  }
  // From each exit to the next start: the delays 100, 200, 400, 800 ms plus a spawn. Not from
  // start to start, which adds each run of node, and that swings by a second on a loaded machine.
  const gaps = exits.slice(0, 4).map((t, i) => starts[i + 1]! - t);
  assert.ok(gaps[3]! > gaps[0]! + 400, `gaps did not grow: ${gaps.join(', ')}`);
  assert.ok(gaps[3]! >= 800, `gaps: ${gaps.join(', ')}`);
  assert.equal(notices[0], 'crash-1 exited with code 1, restarting in 100ms (restart: always)');
  assert.equal(notices[1], 'crash-1 exited with code 1, restarting in 200ms (restart: always)');
});

test('FakeClock: nothing restarts before the backoff delay; on-failure:2 gives up', async () => {
  const clock = new FakeClock();
  const engine = new Engine(
    makeProject([
      makeService('crash', {
        command: nodeEval('process.exit(3)'),
        restart: { condition: 'on-failure', maxAttempts: 2 },
      }),
    ]),
    { runtime: processRuntime, clock },
  );
  const state = () => engine.replicas()[0]!;
  try {
    await engine.up();
    await waitUntil('backoff 1', () => state().state === 'backoff');
    assert.equal(state().reason, 'exit 3, restarting in 100ms');
    clock.advance(99);
    assert.equal(state().state, 'backoff');
    clock.advance(1);
    await waitUntil('backoff 2', () => state().state === 'backoff' && state().restarts === 1);
    assert.equal(state().reason, 'exit 3, restarting in 200ms');
    clock.advance(200);
    await waitUntil('gave up', () => state().state === 'exited');
    assert.equal(state().reason, 'gave up after 2 restarts: exit 3');
    assert.equal(state().restarts, 2);
    assert.equal(clock.pending(), 0);
  } finally {
    await engine.shutdown();
  }
});

test('command not found: clear reason, herd keeps supervising the rest', async () => {
  const events: EngineEvent[] = [];
  const engine = new Engine(
    makeProject([
      makeService('typo', { command: ['herd-no-such-binary', '--x'] }),
      makeService('ok', { command: sleeper }),
    ]),
    { runtime: processRuntime },
  );
  engine.on('event', (e) => events.push(e));
  try {
    await engine.up();
    const typo = await waitUntil('typo exited', () =>
      engine.replicas().find((r) => r.service === 'typo' && r.state === 'exited'),
    );
    assert.match(
      typo.reason ?? '',
      /^command not found: herd-no-such-binary \(PATH=.*\) \(restart: no\)$/,
    );
    assert.equal(typo.lastExit?.exitCode, 127);
    assert.ok(!events.some((e) => e.type === 'ready' && e.replica.service === 'typo'));
    assert.ok(engine.replicas().some((r) => r.service === 'ok' && r.state === 'running'));
  } finally {
    await engine.shutdown();
  }
});

test('memory limit: the replica is killed with 137, oomKilled, then the policy applies', async () => {
  const engine = new Engine(
    makeProject([
      makeService('hog', {
        command: nodeEval('const a = []; setInterval(() => a.push(Buffer.alloc(8 << 20, 1)), 20)'),
        resources: { limits: { memoryBytes: 96 << 20 }, reservations: {} },
        restart: { condition: 'no' },
      }),
    ]),
    { runtime: processRuntime },
  );
  try {
    await engine.up();
    const r = await waitUntil(
      'oom',
      () => engine.replicas().find((x) => x.state === 'exited'),
      10_000,
    );
    assert.equal(r.lastExit?.exitCode, 137);
    assert.equal(r.lastExit?.oomKilled, true);
    assert.match(r.reason ?? '', /memory limit exceeded/);
  } finally {
    await engine.shutdown();
  }
});

test('image without command is refused at up with what to do', async () => {
  const engine = new Engine(makeProject([makeService('db', { image: 'postgres:16' })]), {
    runtime: processRuntime,
  });
  await assert.rejects(
    engine.up(),
    /has image "postgres:16" but no command.*add `command:`.*x-herd: \{runtime: docker\}/,
  );
});

test('user: postgres runs the replica with that uid', async () => {
  const engine = new Engine(
    makeProject([
      makeService('whoami', { command: ['id', '-un'], user: 'postgres', workingDir: '/tmp' }),
    ]),
    { runtime: processRuntime },
  );
  const lines: string[] = [];
  engine.on('event', (e) => e.type === 'output' && lines.push(e.line));
  try {
    await engine.up();
    await waitUntil('exited', () => engine.replicas()[0]?.state === 'exited');
    assert.deepEqual(lines, ['postgres']);
    assert.equal(engine.replicas()[0]!.lastExit?.exitCode, 0);
  } finally {
    await engine.shutdown();
  }
});

test('FakeClock: window and delay of deploy.restart_policy', async () => {
  const clock = new FakeClock();
  const engine = new Engine(
    makeProject([
      makeService('svc', {
        command: sleeper,
        restart: { condition: 'on-failure', maxAttempts: 1, windowMs: 5000, delayMs: 2000 },
      }),
    ]),
    { runtime: processRuntime, clock },
  );
  const r = () => engine.replicas()[0]!;
  const crash = async (restartsBefore: number) => {
    const running = await waitUntil(
      'running',
      () => r().state === 'running' && r().restarts === restartsBefore && r(),
    );
    process.kill(running.pid!, 'SIGKILL');
    await waitUntil('exit seen', () => r().state !== 'running' && r());
  };
  try {
    await engine.up();
    await crash(0);
    assert.equal(r().state, 'backoff');
    assert.equal(r().reason, 'exit 137 (SIGKILL), restarting in 2s');
    clock.advance(2000);
    // Stays up for the window: that restart succeeded and does not count against max_attempts.
    await waitUntil('running again', () => r().state === 'running');
    clock.advance(5000);
    await crash(1);
    assert.equal(r().state, 'backoff');
    assert.equal(r().reason, 'exit 137 (SIGKILL), restarting in 4s');
    clock.advance(4000);
    // Dies again at once: now the one allowed attempt is used up.
    await crash(2);
    assert.equal(r().state, 'exited');
    assert.equal(r().reason, 'gave up after 1 restart: exit 137 (SIGKILL)');
  } finally {
    await engine.shutdown();
  }
});
