import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { chmodSync, existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { PsResponse, ScaleResponse, TopResponse } from '../../src/daemon/api-types.ts';
import { DaemonClient, probeSocket } from '../../src/daemon/client.ts';
import { daemonPaths, type DaemonPaths } from '../../src/daemon/paths.ts';
import { DaemonServer } from '../../src/daemon/server.ts';
import { prepareDaemon, type DaemonSession } from '../../src/daemon/session.ts';
import { emptyState, readState, writeState } from '../../src/daemon/state-file.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import type { LogEntry } from '../../src/logs/record.ts';
import { HerdError } from '../../src/util/errors.ts';
import {
  replica,
  testProject,
  testService,
  TransportTestEngine,
} from '../helpers/daemon-transport-fake.ts';
import { tempDir } from '../helpers/tmp.ts';

const PEER = 'herd-test-peer';

/** A second, unprivileged user for the permission test (created once if missing). */
function peerUser(): { uid: number; gid: number } {
  if (spawnSync('id', ['-u', PEER]).status !== 0) {
    const r = spawnSync('useradd', [
      '--system',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      PEER,
    ]);
    assert.equal(r.status, 0, `useradd failed: ${r.stderr}`);
  }
  const uid = Number(spawnSync('id', ['-u', PEER]).stdout.toString());
  const gid = Number(spawnSync('id', ['-g', PEER]).stdout.toString());
  return { uid, gid };
}

/** Tries to connect to `socket` as another user; returns the error code or 'connected'. */
async function connectAs(user: { uid: number; gid: number }, socket: string): Promise<string> {
  const script = `require('net').connect(${JSON.stringify(socket)})
    .on('connect', () => { console.log('connected'); process.exit(0); })
    .on('error', (e) => { console.log(e.code); process.exit(0); });`;
  const child = spawn(process.execPath, ['-e', script], { uid: user.uid, gid: user.gid, cwd: '/' });
  let out = '';
  child.stdout.on('data', (d) => (out += d));
  await once(child, 'exit');
  return out.trim();
}

describe('daemon control API over a unix socket', () => {
  let base: string;
  let paths: DaemonPaths;
  let session: DaemonSession;
  let engine: TransportTestEngine;
  let client: DaemonClient;
  let sleeper: ChildProcess;
  let downCalled: { volumes: boolean } | undefined;
  // What `down` saw: the engine's calls when removal began, and whether it had ended.
  let removal: { calls: string[]; volumes: boolean; done: boolean } | undefined;
  const project = testProject('shop', [
    testService('web', {
      scale: 2,
      ports: [{ target: 5000, published: { start: 8080, end: 8080 }, protocol: 'tcp' }],
    }),
    testService('db'),
  ]);

  before(async () => {
    base = tempDir('daemon');
    chmodSync(base, 0o755); // let the peer user reach the state dir's parent
    const dir = join(base, 'state');
    mkdirSync(dir, { mode: 0o755 }); // looser than allowed: the daemon must tighten it
    chmodSync(dir, 0o755);
    paths = daemonPaths(dir);
    sleeper = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
    engine = new TransportTestEngine();
    engine.list = [
      replica('shop', 'web', 1, { pid: sleeper.pid, ports: { 5000: 41000 } }),
      replica('shop', 'web', 2, {
        state: 'backoff',
        lastExit: { exitCode: 1 },
        finishedAt: Date.now(),
      }),
      replica('shop', 'db', 1, { state: 'waiting', reason: 'db healthy' }),
    ];
    session = await prepareDaemon(project, { paths });
    await session.serve(engine, {
      removeResources: async ({ volumes }) => {
        removal = { calls: [...engine.calls], volumes, done: false };
        await new Promise((r) => setTimeout(r, 150));
        removal.done = true;
      },
      onDown: (o) => (downCalled = o),
      reload: async () => testProject('shop', [testService('web'), testService('cache')]),
      logPollMs: 20,
    });
    client = new DaemonClient(paths.socket, 'shop');
  });

  after(async () => {
    await session.close();
    try {
      process.kill(sleeper.pid!, 'SIGKILL');
    } catch {
      // already killed by a test
    }
  });

  it('makes the dir 0700 and the socket 0600', () => {
    assert.equal(statSync(paths.dir).mode & 0o777, 0o700);
    const st = statSync(paths.socket);
    assert.ok(st.isSocket());
    assert.equal(st.mode & 0o777, 0o600);
  });

  it("refuses another user's connection (dir 0700, and socket 0600 on its own)", async () => {
    const peer = peerUser();
    assert.equal(await connectAs(peer, paths.socket), 'EACCES');
    // Even with a traversable dir, the socket's own mode keeps the other user out.
    chmodSync(paths.dir, 0o755);
    try {
      assert.equal(await connectAs(peer, paths.socket), 'EACCES');
    } finally {
      chmodSync(paths.dir, 0o700);
    }
    // The owner still connects: the refusal is about the user, not a broken socket.
    assert.equal((await client.get<{ pid: number }>('/v1/ping')).pid, process.pid);
  });

  it('ps returns services, replicas and CPU/memory of live replicas', async () => {
    const ps = await client.get<PsResponse>('/v1/ps');
    assert.equal(ps.project, 'shop');
    assert.deepEqual(
      ps.services.map((s) => [s.name, s.scale]),
      [
        ['web', 2],
        ['db', 1],
      ],
    );
    assert.deepEqual(
      ps.replicas.map((r) => r.name),
      ['shop-web-1', 'shop-web-2', 'shop-db-1'],
    );
    const live = ps.replicas[0]!;
    assert.ok((live.memBytes ?? 0) > 0, 'RSS of the sleep process');
    assert.equal(typeof live.cpuPercent, 'number');
    assert.equal(ps.replicas[1]!.memBytes, undefined);
  });

  it('scale validates and records the override', async () => {
    await assert.rejects(client.post('/v1/scale', { nope: 2 }), /no such service: nope/);
    await assert.rejects(client.post('/v1/scale', { web: -1 }), /whole number/);
    await assert.rejects(client.post('/v1/scale', { web: 1.5 }), /whole number/);
    assert.equal(engine.calls.filter((c) => c.startsWith('setScale')).length, 0);
    const r = await client.post<ScaleResponse>('/v1/scale', { web: 4 });
    assert.deepEqual(r.scaled, [{ service: 'web', from: 2, to: 4 }]);
    assert.ok(engine.calls.includes('setScale web 4'));
    const state = JSON.parse(readFileSync(paths.stateFile, 'utf8'));
    assert.equal(state.scale.web, 4);
    assert.equal(state.daemonPid, process.pid);
  });

  it('records live replicas with pid and start time in the state file', () => {
    const state = JSON.parse(readFileSync(paths.stateFile, 'utf8'));
    const rec = state.replicas.find((r: { name: string }) => r.name === 'shop-web-1');
    assert.equal(rec.pid, sleeper.pid);
    assert.ok(Number.isInteger(rec.startTime) && rec.startTime > 0);
  });

  it('stop/start/restart pass services through and validate them', async () => {
    await client.post('/v1/stop', { services: ['db'] });
    assert.deepEqual(JSON.parse(readFileSync(paths.stateFile, 'utf8')).stopped, ['db']);
    await client.post('/v1/start', { services: ['db'] });
    await client.post('/v1/restart', {});
    await assert.rejects(
      client.post('/v1/stop', { services: ['ghost'] }),
      /no such service: ghost/,
    );
    assert.deepEqual(
      engine.calls.filter((c) => /^(stop|start|restart) /.test(c)),
      ['stop db', 'start db', 'restart *'],
    );
    assert.deepEqual(JSON.parse(readFileSync(paths.stateFile, 'utf8')).stopped, []);
  });

  it('streams logs: history with tail, then followed lines', async () => {
    const out = (name: string, line: string, service = 'web'): EngineEvent => ({
      type: 'output',
      at: Date.now(),
      service,
      name,
      stream: 'stdout',
      line,
    });
    engine.emitEvent(out('shop-web-1', 'one'));
    engine.emitEvent(out('shop-web-1', 'two'));
    engine.emitEvent(out('shop-db-1', 'db line', 'db'));
    const all: LogEntry[] = [];
    await client.stream<LogEntry>('/v1/logs?tail=1&services=web', (e) => all.push(e));
    assert.deepEqual(
      all.map((e) => e.line),
      ['two'],
    );

    const followed: string[] = [];
    const ac = new AbortController();
    const done = client.stream<LogEntry>(
      '/v1/logs?follow=1&tail=0&services=web',
      (e) => {
        followed.push(e.line);
        if (followed.length === 2) ac.abort();
      },
      ac.signal,
    );
    await new Promise((r) => setTimeout(r, 50));
    engine.emitEvent(out('shop-web-1', 'three'));
    engine.emitEvent(out('shop-web-2', 'four'));
    await done;
    assert.deepEqual(followed, ['three', 'four']);
  });

  it('streams engine events (not output lines)', async () => {
    const got: EngineEvent[] = [];
    const ac = new AbortController();
    const done = client.stream<EngineEvent>(
      '/v1/events',
      (e) => {
        got.push(e);
        ac.abort();
      },
      ac.signal,
    );
    await new Promise((r) => setTimeout(r, 50));
    engine.emitEvent({
      type: 'output',
      at: 1,
      service: 'web',
      name: 'x',
      stream: 'stdout',
      line: 'no',
    });
    engine.emitEvent({ type: 'scaled', at: 2, service: 'web', from: 2, to: 4 });
    await done;
    assert.deepEqual(got, [{ type: 'scaled', at: 2, service: 'web', from: 2, to: 4 }]);
  });

  it('port answers the published address, or the replica port', async () => {
    assert.deepEqual(await client.get('/v1/port?service=web&port=5000'), {
      address: '0.0.0.0:8080',
    });
    await assert.rejects(
      client.get('/v1/port?service=web&port=6000'),
      /no host port for web 6000\/tcp/,
    );
    await assert.rejects(client.get('/v1/port?service=ghost&port=1'), /no such service/);
  });

  it("errors carry their code to the client's HerdError, so callers never match message text", async () => {
    const codeOf = (p: Promise<unknown>) =>
      p.then(
        () => 'resolved',
        (e: unknown) => (e instanceof HerdError ? e.code : `not a HerdError: ${String(e)}`),
      );
    assert.equal(await codeOf(client.get('/v1/port?service=web&port=6000')), 'NO_HOST_PORT');
    assert.equal(await codeOf(client.get('/v1/port?service=ghost&port=1')), 'NO_SUCH_SERVICE');
    assert.equal(await codeOf(client.post('/v1/scale', { web: -1 })), 'INVALID_ARGUMENT');
    const other = new DaemonClient(paths.socket, 'other');
    assert.equal(await codeOf(other.get('/v1/ps')), 'CONFLICT');
  });

  it('top lists the processes of each live replica', async () => {
    const top = await client.get<TopResponse>('/v1/top');
    const web = top.replicas.find((r) => r.name === 'shop-web-1');
    assert.deepEqual(
      web?.processes.map((p) => p.pid),
      [sleeper.pid],
    );
    assert.match(web!.processes[0]!.command, /sleep 60/);
  });

  it('kill sends the signal and rejects unknown signals', async () => {
    await assert.rejects(client.post('/v1/kill', { signal: 'SIGNOPE' }), /unknown signal/);
    const exited = once(sleeper, 'exit');
    await client.post('/v1/kill', { services: ['web'], signal: 'TERM' });
    const [, signal] = await exited;
    assert.equal(signal, 'SIGTERM');
    assert.ok(engine.calls.includes('kill SIGTERM web'));
    // The stop signal is a manual stop, as with `docker kill`: a later daemon keeps web down.
    assert.deepEqual(readState(paths.stateFile)?.stopped, ['web']);
  });

  it('apply re-reads the project and hands it to the engine', async () => {
    const r = await client.post<{ services: string[] }>('/v1/apply');
    assert.deepEqual(r.services, ['web', 'cache']);
    assert.ok(engine.calls.includes('apply web,cache'));
  });

  it('unknown endpoints and bad bodies get clear errors', async () => {
    await assert.rejects(client.get('/v1/nope'), /no such endpoint: GET \/v1\/nope/);
    await assert.rejects(client.post('/v1/scale', [1, 2]), /expected/);
  });

  it('a second daemon for the same project is refused while this one runs', async () => {
    await assert.rejects(prepareDaemon(project, { paths }), /already running \(pid \d+\)/);
  });

  it("a second server that fails to bind leaves the running daemon's socket in place", async () => {
    const second = new DaemonServer({ project, engine, paths, logs: session.logs });
    await assert.rejects(second.listen(), /already running/);
    await second.close();
    assert.ok(existsSync(paths.socket), 'the socket of the running daemon is still there');
    assert.ok((await client.get<PsResponse>('/v1/ps')).replicas.length > 0);
  });

  it('down shuts the engine down, removes resources, answers, then tells the daemon to exit', async () => {
    const down = client.post('/v1/down', { volumes: true });
    // While it runs (the removal takes 150 ms), nothing new may start.
    await new Promise((r) => setTimeout(r, 50));
    await assert.rejects(client.post('/v1/scale', { web: 3 }), /is shutting down \(herd down\)/);
    await down;
    assert.ok(engine.calls.includes('shutdown'));
    assert.ok(removal?.calls.includes('shutdown'), 'resources go after the engine stopped');
    assert.deepEqual(
      { volumes: removal?.volumes, done: removal?.done },
      { volumes: true, done: true },
      'the answer waited for the removal',
    );
    for (let i = 0; i < 50 && !downCalled; i++) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(downCalled, { volumes: true });
  });
});

describe('daemon client without a daemon', () => {
  it('says no daemon runs and how to start one', async () => {
    const dir = tempDir('nodaemon');
    const client = new DaemonClient(join(dir, 'herd.sock'), 'shop');
    await assert.rejects(client.get('/v1/ps'), (e: unknown) => {
      assert.ok(e instanceof HerdError);
      assert.match(
        e.message,
        /no herd daemon running for project shop; start it with `herd up -d`/,
      );
      return true;
    });
  });

  it('a daemon that accepts but does not answer is not taken for dead', async () => {
    const dir = tempDir('hung');
    const paths = daemonPaths(dir);
    // Stands for a daemon stopped with SIGSTOP: the kernel accepts, nobody answers.
    const hung = createServer(() => {});
    await new Promise<void>((r) => hung.listen(paths.socket, r));
    try {
      await assert.rejects(probeSocket(paths.socket, 300), /did not answer within 0\.3 s/);
      await assert.rejects(
        prepareDaemon(testProject('shop', [testService('web')]), { paths }),
        /a herd daemon holds .*herd\.sock but did not answer/,
      );
      assert.ok(existsSync(paths.socket), 'its socket was left alone');
    } finally {
      hung.close();
    }
  });

  it('says a killed daemon left its socket, leaves the file, and the next daemon takes the path', async () => {
    const dir = tempDir('stale');
    const paths = daemonPaths(dir);
    // A real listener killed with SIGKILL leaves its socket file behind.
    const child = spawn(process.execPath, [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(paths.socket)}, () => console.log('up'))`,
    ]);
    await once(child.stdout!, 'data');
    child.kill('SIGKILL');
    await once(child, 'exit');
    assert.ok(existsSync(paths.socket));
    const client = new DaemonClient(paths.socket, 'shop');
    await assert.rejects(
      client.get('/v1/ps'),
      /no herd daemon running for project shop \(its socket is left from a daemon that was killed\); start it with `herd up -d`/,
    );
    // A client never removes it: a daemon starting now may have just bound a fresh one there.
    assert.ok(existsSync(paths.socket));
    const session = await prepareDaemon(testProject('shop', [testService('web')]), { paths });
    try {
      await session.serve(new TransportTestEngine(), { logPollMs: 20 });
      assert.deepEqual((await client.get<PsResponse>('/v1/ps')).replicas, []);
    } finally {
      await session.close();
    }
  });
});

describe('daemon session and the previous daemon’s records', () => {
  const project = testProject('shop', [testService('web'), testService('db')]);
  const recorded = (dir: string) => {
    const paths = daemonPaths(dir);
    mkdirSync(dir, { recursive: true });
    writeState(paths.stateFile, {
      ...emptyState('shop'),
      scale: { web: 4, gone: 2 },
      stopped: ['db', 'gone'],
    });
    return paths;
  };

  it('by default starts from the compose file, as `up` does in Compose', async () => {
    const paths = recorded(join(tempDir('keep'), 'state'));
    const engine = new TransportTestEngine();
    const session = await prepareDaemon(project, { paths });
    try {
      assert.deepEqual(session.previous?.scale, { web: 4, gone: 2 });
      await session.serve(engine);
      assert.deepEqual(engine.calls, []);
      assert.deepEqual(readState(paths.stateFile)?.scale, {});
    } finally {
      await session.close();
    }
  });

  it('with keepRecorded re-applies scale overrides of services that still exist', async () => {
    const paths = recorded(join(tempDir('keep'), 'state'));
    const engine = new TransportTestEngine();
    const session = await prepareDaemon(project, { paths });
    try {
      await session.serve(engine, { keepRecorded: true });
      assert.deepEqual(engine.calls, ['setScale web 4']);
      const state = readState(paths.stateFile);
      assert.deepEqual(state?.scale, { web: 4 });
      assert.deepEqual(state?.stopped, ['db']);
    } finally {
      await session.close();
    }
  });

  it('a corrupt state file stops the start with a clear error', async () => {
    const dir = join(tempDir('corrupt'), 'state');
    mkdirSync(dir);
    writeFileSync(join(dir, 'state.json'), '{ not json');
    await assert.rejects(
      prepareDaemon(project, { paths: daemonPaths(dir) }),
      /state file .*state\.json is corrupt .*remove it if no replicas of this project are running/,
    );
  });
});
