// The daemon in front of the real Engine and process runtime: what `herd up -d` will run.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PsResponse } from '../../src/daemon/api-types.ts';
import { DaemonClient } from '../../src/daemon/client.ts';
import { isSameProcess, readStat } from '../../src/util/process-identity.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { prepareDaemon, type DaemonSession } from '../../src/daemon/session.ts';
import { readState } from '../../src/daemon/state-file.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { LogEntry } from '../../src/logs/record.ts';
import { cgroups } from '../../src/runtime/process/cgroups.ts';
import { processRuntime } from '../../src/runtime/process/process-runtime.ts';
import { testProject, testService } from '../helpers/daemon-transport-fake.ts';
import { tempDir } from '../helpers/tmp.ts';

const APP = `console.log('hello from ' + process.env.PORT); setInterval(() => {}, 1000);`;

async function until<T>(what: string, get: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await get();
    if (ok(v)) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe('daemon with the real engine', () => {
  const project = testProject('real', [
    testService('app', { command: [process.execPath, '-e', APP], stopGracePeriodMs: 2000 }),
  ]);
  const paths = daemonPaths(join(tempDir('real'), 'state'));
  const engine = new Engine(project, { runtime: processRuntime });
  const client = new DaemonClient(paths.socket, 'real');
  let session: DaemonSession;
  const ps = () => client.get<PsResponse>('/v1/ps');
  const running = (p: PsResponse) => p.replicas.filter((r) => r.state === 'running');

  before(async () => {
    session = await prepareDaemon(project, { paths });
    await session.serve(engine);
    await engine.up();
  });

  after(async () => {
    await engine.shutdown();
    await session.close({ removeAll: true });
  });

  it("the process runtime's warnings are listed by ps, not only written to the daemon's log", async () => {
    const said = 'no writable cgroup has the pids controller (said by this test)';
    cgroups.warnOnce(said, 'test:pids');
    assert.ok((await ps()).warnings?.includes(said), 'ps lists it');
  });

  it('ps shows the running replica with its pid and memory', async () => {
    const p = await until('1 running', ps, (p) => running(p).length === 1);
    const r = running(p)[0]!;
    assert.equal(r.name, 'real-app-1');
    assert.ok(r.pid && r.memBytes && r.memBytes > 1024 * 1024);
  });

  it('scale starts a second replica, whose output reaches the log store', async () => {
    await client.post('/v1/scale', { app: 2 });
    await until('2 running', ps, (p) => running(p).length === 2);
    const lines = await until(
      'both replicas logged',
      async () => {
        const got: LogEntry[] = [];
        await client.stream<LogEntry>('/v1/logs', (e) => got.push(e));
        return got;
      },
      (got) => new Set(got.map((e) => e.name)).size === 2,
    );
    assert.ok(lines.every((e) => /^hello from \d+$/.test(e.line)));
    // Both replicas are recorded with pid + start time for orphan cleanup.
    const recorded = readState(paths.stateFile)!.replicas;
    assert.deepEqual(recorded.map((r) => r.name).sort(), ['real-app-1', 'real-app-2']);
    assert.ok(recorded.every((r) => isSameProcess(r.pid, r.startTime)));
  });

  it('kill signals the replica group; it exits as Compose reports it', async () => {
    await client.post('/v1/kill', { services: ['app'], signal: 'SIGKILL' });
    const p = await until('exited', ps, (p) => p.replicas.every((r) => r.state === 'exited'));
    assert.ok(p.replicas.every((r) => r.lastExit?.exitCode === 137));
    assert.deepEqual(readState(paths.stateFile)!.replicas, [], 'dead replicas are not recorded');
  });

  it('a new daemon stops the replicas a dead daemon left behind', async () => {
    await client.post('/v1/start', { services: ['app'] });
    const p = await until('2 running again', ps, (p) => running(p).length === 2);
    const pids = running(p).map((r) => r.pid!);
    // As if the daemon had been killed: it stops answering, its records stay.
    await session.close();
    const next = await prepareDaemon(project, { paths, orphanGraceMs: 2000 });
    try {
      assert.deepEqual(next.orphans.stopped.sort(), ['real-app-1', 'real-app-2']);
      // Dead: gone, or a zombie until this test process (their parent here) reaps it.
      for (const pid of pids)
        assert.ok([undefined, 'Z'].includes(readStat(pid)?.state), `pid ${pid}`);
    } finally {
      session = next; // closed by after()
    }
  });
});
