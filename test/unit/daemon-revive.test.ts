// The wait for a daemon being revived (src/daemon/revive.ts): it happens only when the state dir
// records a stack (state.json, or a proxy still answering on proxy.sock), with real files and
// real unix sockets.
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { DaemonClient } from '../../src/daemon/client.ts';
import {
  awaitRevival,
  DaemonNotRevived,
  recordedStack,
  reviveWaitMs,
} from '../../src/daemon/revive.ts';
import { writeState, emptyState } from '../../src/daemon/state-file.ts';
import { isHerdError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

function stateDir(): string {
  const dir = join(tempDir('revive'), 'state');
  mkdirSync(dir, { mode: 0o700 });
  chmodSync(dir, 0o700);
  return dir;
}

const servers: (Server | HttpServer)[] = [];
after(() => {
  for (const s of servers) s.close();
});

async function listen<S extends Server | HttpServer>(server: S, path: string): Promise<S> {
  servers.push(server);
  await new Promise<void>((r) => server.listen(path, r));
  return server;
}

/** What a kill -9 leaves: the socket file of a listener that is gone (a child process listens,
 * then is killed, so nothing unlinks the file). */
async function staleSocket(path: string): Promise<void> {
  const child = spawn(
    process.execPath,
    [
      '-e',
      `require('net').createServer().listen(${JSON.stringify(path)}, () => console.log('up'))`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  await once(child.stdout, 'data');
  child.kill('SIGKILL');
  await once(child, 'exit');
  assert.ok(existsSync(path));
}

/** A daemon stand-in: answers every request with `{"ok":true}`. */
function daemonAt(socket: string): Promise<HttpServer> {
  return listen(
    createHttpServer((_req, res) => {
      res.setHeader('content-type', 'application/json');
      res.end('{"ok":true}');
    }),
    socket,
  );
}

/** awaitRevival on `dir` for up to 5 s: what it returned, said, and how long it took. */
async function waitIn(dir: string): Promise<{ back: boolean; said: string[]; took: number }> {
  const said: string[] = [];
  const t0 = Date.now();
  const back = await awaitRevival({
    dir,
    socket: join(dir, 'herd.sock'),
    project: 'p',
    waitMs: 5000,
    say: (l) => said.push(l),
  });
  return { back, said, took: Date.now() - t0 };
}

describe('reviveWaitMs', () => {
  it('defaults to 10 s, reads seconds, 0 turns it off', () => {
    assert.equal(reviveWaitMs({}), 10_000);
    assert.equal(reviveWaitMs({ HERD_REVIVE_WAIT: '' }), 10_000);
    assert.equal(reviveWaitMs({ HERD_REVIVE_WAIT: '3' }), 3000);
    assert.equal(reviveWaitMs({ HERD_REVIVE_WAIT: '0.5' }), 500);
    assert.equal(reviveWaitMs({ HERD_REVIVE_WAIT: '0' }), 0);
  });

  it('refuses what is not a number of seconds', () => {
    for (const bad of ['abc', '-1', '1s', '1e3', '99999']) {
      assert.throws(
        () => reviveWaitMs({ HERD_REVIVE_WAIT: bad }),
        (err: unknown) =>
          isHerdError(err, 'INVALID_ARGUMENT') && err.message.includes(`HERD_REVIVE_WAIT=${bad}`),
        bad,
      );
    }
  });
});

describe('recordedStack', () => {
  it('is nothing in an empty or missing state dir', async () => {
    const dir = stateDir();
    assert.equal(recordedStack(dir), undefined);
    assert.equal(recordedStack(join(dir, 'missing')), undefined);
  });

  it('is the state file when state.json is there, even a corrupt one', async () => {
    const dir = stateDir();
    writeState(join(dir, 'state.json'), { ...emptyState('p'), daemonPid: 1 });
    assert.equal(recordedStack(dir), 'state file');
    writeFileSync(join(dir, 'state.json'), '{not json', { mode: 0o600 });
    assert.equal(recordedStack(dir), 'state file');
  });

  it('is the proxy when proxy.sock accepts a connection, not when it is a dead socket', async () => {
    const dir = stateDir();
    let connections = 0;
    const proxy = await listen(
      createServer(() => connections++),
      join(dir, 'proxy.sock'),
    );
    assert.equal(recordedStack(dir), 'proxy');
    // Never by connecting: the proxy takes any connection for its daemon's.
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(connections, 0);
    await new Promise((r) => proxy.close(r));
    // A socket file nobody listens on any more (a killed proxy) records nothing.
    await staleSocket(join(dir, 'proxy.sock'));
    assert.equal(recordedStack(dir), undefined);
  });
});

describe('awaitRevival', () => {
  it('returns false at once when nothing is recorded, and says nothing', async () => {
    const { back, said, took } = await waitIn(stateDir());
    assert.equal(back, false);
    assert.deepEqual(said, []);
    assert.ok(took < 500, `took ${took} ms`);
  });

  it('says once that it waits, then returns when the daemon socket answers', async () => {
    const dir = stateDir();
    writeState(join(dir, 'state.json'), emptyState('p'));
    const later = new Promise<void>((r) => setTimeout(r, 700)).then(() =>
      daemonAt(join(dir, 'herd.sock')),
    );
    const { back, said, took } = await waitIn(dir);
    await later;
    assert.equal(back, true);
    assert.ok(took >= 650 && took < 2000, `took ${took} ms`);
    assert.deepEqual(said, [
      'herd: the daemon of project p is not running; waiting up to 5 s for it to come back…\n',
    ]);
  });

  it('stops waiting, quietly, when the record goes (the daemon answered `herd down`)', async () => {
    const dir = stateDir();
    writeState(join(dir, 'state.json'), emptyState('p'));
    setTimeout(() => rmSync(join(dir, 'state.json')), 100);
    const { back, said, took } = await waitIn(dir);
    assert.equal(back, false);
    assert.deepEqual(said, []);
    assert.ok(took < 1000, `took ${took} ms`);
  });

  it('gives up after the wait with what to do; 0 gives up at once', async () => {
    const dir = stateDir();
    await listen(createServer(), join(dir, 'proxy.sock'));
    const w = { dir, socket: join(dir, 'herd.sock'), project: 'p', say: () => undefined };
    const t0 = Date.now();
    await assert.rejects(awaitRevival({ ...w, waitMs: 400 }), (err: unknown) => {
      assert.ok(err instanceof DaemonNotRevived);
      assert.equal(err.code, 'NO_DAEMON');
      assert.match(err.message, /none came back within 0\.4 s/);
      assert.match(err.message, /`herd up -d` adopts the running replicas/);
      return true;
    });
    const took = Date.now() - t0;
    assert.ok(took >= 380 && took < 1500, `took ${took} ms`);
    const t1 = Date.now();
    await assert.rejects(awaitRevival({ ...w, waitMs: 0 }), DaemonNotRevived);
    assert.ok(Date.now() - t1 < 300);
  });
});

describe('DaemonClient with a revival wait', () => {
  it('waits for a daemon that comes back and sends its request to it', async () => {
    const dir = stateDir();
    writeState(join(dir, 'state.json'), emptyState('p'));
    const socket = join(dir, 'herd.sock');
    // What a killed daemon leaves: a socket file nobody listens on. The client must not remove
    // it while it waits (the new daemon replaces it).
    await staleSocket(socket);
    const later = new Promise<void>((r) => setTimeout(r, 500)).then(async () => {
      assert.ok(existsSync(socket), 'the waiting client removed the socket file');
      rmSync(socket);
      await daemonAt(socket);
    });
    const client = new DaemonClient(socket, 'p', { reviveWaitMs: 5000 });
    const reply = await client.get<{ ok: boolean }>('/v1/anything');
    await later;
    assert.deepEqual(reply, { ok: true });
  });

  it('fails at once with the old error when nothing is recorded', async () => {
    const dir = stateDir();
    const client = new DaemonClient(join(dir, 'herd.sock'), 'p', { reviveWaitMs: 5000 });
    const t0 = Date.now();
    await assert.rejects(client.get('/v1/ps'), (err: unknown) => {
      assert.ok(isHerdError(err, 'NO_DAEMON') && !(err instanceof DaemonNotRevived));
      assert.match(err.message, /no herd daemon running for project p; start it with/);
      return true;
    });
    assert.ok(Date.now() - t0 < 500);
  });

  it('does not wait without the option (the daemon and its helpers use it so)', async () => {
    const dir = stateDir();
    writeState(join(dir, 'state.json'), emptyState('p'));
    const client = new DaemonClient(join(dir, 'herd.sock'), 'p');
    await assert.rejects(
      client.get('/v1/ps'),
      (err: unknown) => isHerdError(err, 'NO_DAEMON') && !(err instanceof DaemonNotRevived),
    );
  });
});
