// Durations past Node's timer limit (~24.8 days) must wait, not fire after 1 ms.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessRuntime } from '../../src/runtime/process/process-runtime.ts';
import type { ReplicaHandle, ReplicaSpec } from '../../src/runtime/types.ts';
import { runProbe } from '../../src/health/probe.ts';
import { DaemonClient } from '../../src/daemon/client.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { prepareDaemon, type DaemonSession } from '../../src/daemon/session.ts';
import { testProject, testService, TransportTestEngine } from '../helpers/daemon-transport-fake.ts';
import { pidAlive, waitUntil } from '../helpers/wait.ts';
import { tempDir } from '../helpers/tmp.ts';

const DAY = 24 * 3600 * 1000;
const env = { PATH: process.env.PATH ?? '/usr/bin:/bin' };
let dir: string;
before(() => (dir = tempDir('timers')));
after(() => rmSync(dir, { recursive: true, force: true }));

function spec(over: Partial<ReplicaSpec> = {}): ReplicaSpec {
  return {
    project: 'p',
    service: 's',
    index: 1,
    name: 'p-s-1',
    // Ignores SIGTERM: only the SIGKILL after the grace period ends it.
    command: ['sh', '-c', 'trap "" TERM; echo ready; exec sleep 60'],
    env,
    cwd: dir,
    stopSignal: 'SIGTERM',
    stopGracePeriodMs: 2000,
    ...over,
  };
}

async function started(over: Partial<ReplicaSpec> = {}): Promise<ReplicaHandle> {
  const h = await new ProcessRuntime().start(spec(over));
  const lines: string[] = [];
  h.onOutput((_s, l) => lines.push(l));
  await waitUntil('the trap to be set', () => lines.includes('ready'));
  return h;
}

/** Stops `h` with a huge grace; it must still be alive 300 ms later. */
async function assertWaits(h: ReplicaHandle, graceMs?: number): Promise<void> {
  const pid = h.pid!;
  let exited = false;
  void h.exited.then(() => (exited = true));
  const stopping = h.stop(graceMs);
  try {
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(exited, false, 'SIGKILLed long before the grace period ended');
    assert.ok(pidAlive(pid));
  } finally {
    h.kill('SIGKILL');
    await stopping;
  }
}

describe('huge durations are clamped, not overflowed', () => {
  it('stop with a 30-day grace (herd stop -t) does not SIGKILL at once', async () => {
    await assertWaits(await started(), 30 * DAY);
  });

  it('stop_grace_period: 30d does not SIGKILL at once', async () => {
    await assertWaits(await started({ stopGracePeriodMs: 30 * DAY }));
  });

  it('a healthcheck timeout of 9999h does not time the probe out at once', async () => {
    const r = await runProbe(
      { kind: 'exec', argv: ['sh', '-c', 'sleep 0.2; echo ok'] },
      { env, cwd: dir, timeoutMs: 9999 * 3600 * 1000 },
    );
    assert.equal(r.exitCode, 0, r.output);
    assert.equal(r.output, 'ok\n');
  });
});

describe('daemon stop/restart/down timeout', () => {
  let session: DaemonSession;
  let engine: TransportTestEngine;
  let client: DaemonClient;

  before(async () => {
    const paths = daemonPaths(join(dir, 'state'));
    engine = new TransportTestEngine();
    session = await prepareDaemon(testProject('shop', [testService('web')]), { paths });
    await session.serve(engine, {});
    client = new DaemonClient(paths.socket, 'shop');
  });
  after(() => session.close());

  it('rejects a timeout beyond what a timer can wait', async () => {
    for (const verb of ['stop', 'restart', 'down'])
      await assert.rejects(
        client.post(`/v1/${verb}`, { timeout: 2_147_484 }),
        /timeout must be at most 2147483 seconds/,
      );
    assert.deepEqual(engine.calls, []);
    await client.post('/v1/stop', { timeout: 2_147_483 });
    assert.deepEqual(engine.calls, ['stop *']);
  });
});
