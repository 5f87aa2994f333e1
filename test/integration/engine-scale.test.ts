// The engine with real processes: scaling, per-replica ports, scale-down order, draining.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { makeProject, makeService } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const exampleDir = fileURLToPath(new URL('../../examples/loadbalance/', import.meta.url));

function webService(scale: number) {
  return makeService('web', {
    command: [process.execPath, 'app.js'],
    workingDir: exampleDir,
    scale,
    restart: { condition: 'unless-stopped' },
    ports: [{ target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' }],
  });
}

async function get(port: number): Promise<string> {
  const res = await fetch(`http://127.0.0.1:${port}/`);
  return res.text();
}

test('scale 3: three processes, each answering HTTP on its own PORT', async () => {
  const project = makeProject([webService(3)]);
  const engine = new Engine(project, { runtime: processRuntime });
  try {
    await engine.up();
    const running = await waitUntil('3 ready', () => {
      const r = engine.replicas().filter((x) => x.state === 'running');
      return r.length === 3 && r;
    });
    assert.deepEqual(
      running.map((r) => r.name),
      [1, 2, 3].map((i) => `${project.name}-web-${i}`),
    );
    assert.equal(new Set(running.map((r) => r.pid)).size, 3);
    assert.equal(new Set(running.map((r) => r.port)).size, 3);
    for (const r of running) {
      assert.equal(r.ports[5000], r.port);
      const body = await waitUntil('answer', () => get(r.port!).catch(() => undefined));
      assert.equal(body, `Hello from ${project.name}-web-${r.index} (pid ${r.pid})\n`);
    }
  } finally {
    await engine.shutdown();
  }
  assert.ok(engine.replicas().every((r) => r.state === 'exited'));
});

test('setScale 3 → 1 → 2 removes the highest numbers first, draining before the stop', async () => {
  const project = makeProject([webService(3)]);
  const engine = new Engine(project, { runtime: processRuntime });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  const drained: string[] = [];
  engine.setDrainer(async (replica) => {
    drained.push(replica.name);
    // While draining, the replica is still running (in-flight requests may finish).
    assert.equal(engine.replicas().find((r) => r.name === replica.name)?.state, 'running');
  });
  try {
    await engine.up();
    // Only replicas in the pool (ready: listening on their port) are drained.
    await waitUntil('3 ready', () => engine.replicas().filter((r) => r.ready).length === 3);
    const pids = engine.replicas().map((r) => r.pid!);
    engine.setScale('web', 1);
    await waitUntil('1 left', () => engine.replicas().length === 1);
    assert.equal(engine.replicas()[0]!.index, 1);
    assert.equal(engine.replicas()[0]!.pid, pids[0]);
    assert.deepEqual(drained.sort(), [`${project.name}-web-2`, `${project.name}-web-3`]);
    await waitUntil('old pids gone', () => !pidAlive(pids[1]!) && !pidAlive(pids[2]!));
    const unready = events.filter((e) => e.type === 'unready').map((e) => e.replica.index);
    assert.deepEqual(unready.sort(), [2, 3]);
    assert.ok(events.some((e) => e.type === 'scaled' && e.from === 3 && e.to === 1));
    engine.setScale('web', 2);
    await waitUntil(
      '2 running',
      () => engine.replicas().filter((r) => r.state === 'running').length === 2,
    );
    assert.deepEqual(
      engine.replicas().map((r) => r.index),
      [1, 2],
    );
  } finally {
    await engine.shutdown();
  }
});

test('setScale refuses unknown services and bad counts', () => {
  const engine = new Engine(makeProject([webService(1)]), { runtime: processRuntime });
  assert.throws(() => engine.setScale('nope', 1), /no such service: nope/);
  assert.throws(() => engine.setScale('web', -1), /invalid scale/);
  assert.throws(() => engine.setScale('web', 1.5), /invalid scale/);
});

test('a replica that dies while being drained for scale-down is simply removed', async () => {
  const project = makeProject([webService(2)]);
  const engine = new Engine(project, { runtime: processRuntime });
  const notices: string[] = [];
  engine.on('event', (e) => e.type === 'notice' && notices.push(e.message));
  let release!: () => void;
  const draining = new Promise<void>((r) => (release = r));
  let drainStarted = false;
  engine.setDrainer(async () => {
    drainStarted = true;
    await draining;
  });
  try {
    await engine.up();
    await waitUntil('2 ready', () => engine.replicas().filter((r) => r.ready).length === 2);
    const victim = engine.replicas()[1]!;
    engine.setScale('web', 1);
    await waitUntil('drain started', () => drainStarted);
    process.kill(victim.pid!, 'SIGKILL');
    await waitUntil('removed', () => engine.replicas().length === 1);
    release();
    assert.equal(engine.replicas()[0]!.index, 1);
    assert.deepEqual(notices, []);
  } finally {
    release();
    await engine.shutdown();
  }
});
