// The engine's use of Runtime.adopt: a replica already running when the engine starts (as a
// container left by a daemon before its restart) is taken over instead of started again, and
// supervised like any other: health checks, readiness, stop.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { planReplica } from '../../src/runtime/env.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import type { ReplicaHandle, ReplicaSpec, Runtime } from '../../src/runtime/types.ts';
import { makeProject, makeService, nodeEval } from '../helpers/project.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';

const SERVER = `require('http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1'); process.on('SIGTERM', () => process.exit(0));`;
const PROBE = `require('http').get('http://127.0.0.1:' + process.env.PORT + '/', (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on('error', () => process.exit(1))`;

/** The process runtime, plus adopt(): hands out replicas the test started beforehand. */
class RuntimeWithLeftovers implements Runtime {
  readonly kind = 'process' as const;
  readonly adoptCalls: string[] = [];
  readonly startCalls: string[] = [];
  constructor(private readonly leftovers: Map<string, ReplicaHandle>) {}
  start(spec: ReplicaSpec): Promise<ReplicaHandle> {
    this.startCalls.push(spec.name);
    return processRuntime.start(spec);
  }
  async adopt(spec: ReplicaSpec): Promise<ReplicaHandle | undefined> {
    this.adoptCalls.push(spec.name);
    const h = this.leftovers.get(spec.name);
    this.leftovers.delete(spec.name);
    return h;
  }
}

test('a replica found running is adopted, health-checked on its own port, and stopped as usual', async () => {
  const service = makeService('web', {
    command: nodeEval(SERVER),
    scale: 2,
    expose: [{ port: 80, protocol: 'tcp' }],
    healthcheck: {
      test: { kind: 'exec', argv: nodeEval(PROBE) },
      intervalMs: 100,
      timeoutMs: 2000,
      retries: 2,
      startPeriodMs: 0,
      startIntervalMs: 100,
    },
  });
  const project = makeProject([service]);
  // What an earlier herd left running: replica 1, listening on a port of its own.
  const { spec } = await planReplica(project, service, 1);
  const leftover = await processRuntime.start(spec);
  const runtime = new RuntimeWithLeftovers(new Map([[spec.name, leftover]]));
  const engine = new Engine(project, { runtime });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  try {
    await engine.up();
    const ready = await waitUntil('both ready', () => {
      const r = events.flatMap((e) => (e.type === 'ready' ? [e.replica] : []));
      return r.length === 2 && r;
    });
    const one = ready.find((r) => r.index === 1)!;
    assert.equal(one.pid, leftover.pid);
    assert.equal(one.port, spec.port, 'the adopted replica keeps the port it listens on');
    assert.equal(one.health, 'healthy');
    assert.deepEqual(runtime.adoptCalls, [`${project.name}-web-1`, `${project.name}-web-2`]);
    assert.deepEqual(runtime.startCalls, [`${project.name}-web-2`]);
    assert.ok(
      events.some(
        (e) => e.type === 'notice' && e.message === 'web-1 was already running: adopted it',
      ),
    );
    // Only a slot's first start in the engine's life asks: later starts do not adopt.
    engine.setScale('web', 1);
    await waitUntil('scaled down', () => engine.replicas().length === 1);
    engine.setScale('web', 2);
    await waitUntil(
      '2 running',
      () => engine.replicas().filter((r) => r.state === 'running').length === 2,
    );
    assert.equal(runtime.adoptCalls.length, 2);
    assert.equal(runtime.startCalls.length, 2);
  } finally {
    await engine.shutdown();
  }
  assert.equal(engine.replicas()[0]!.lastExit?.exitCode, 0);
  assert.ok(!pidAlive(leftover.pid!));
});
