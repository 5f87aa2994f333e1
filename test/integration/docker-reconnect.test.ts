// Broken connections to a real engine: herd talks to it through a unix-socket proxy in this file
// that can cut the connection carrying a pending request (the events stream, a container's wait)
// and refuse new ones, as when the engine or a socket in between drops a long poll.
import assert from 'node:assert/strict';
import net from 'node:net';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import Dockerode from 'dockerode';
import type { Service } from '../../src/compose/model.ts';
import { DockerReplicaHandle, type WaitRetryPolicy } from '../../src/runtime/docker/handle.ts';
import { HealthFeed } from '../../src/runtime/docker/health-feed.ts';
import { projectLabels } from '../../src/runtime/docker/labels.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import type { ExitInfo } from '../../src/runtime/types.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/docker-images.ts';
import { specFor, testProject, testService, uniqueProjectName } from '../helpers/docker-project.ts';
import { tempDir } from '../helpers/tmp.ts';

/** Forwards a unix socket to the engine's, remembering each connection's latest request line. */
class EngineProxy {
  readonly socketPath: string;
  /** Every request line seen (`GET /events?...`), in order, with whether it was refused. */
  readonly requests: Array<{ line: string; refused: boolean }> = [];
  /** Requests whose line matches are cut off as soon as they are sent. */
  refuse: RegExp | undefined;
  private readonly conns = new Set<{ client: net.Socket; engine: net.Socket; pending: string }>();
  private readonly server: net.Server;

  constructor(engineSocket: string, name: string) {
    this.socketPath = join(tempDir(`proxy-${name}`), 'engine.sock');
    this.server = net.createServer((client) => {
      const engine = net.connect(engineSocket);
      const conn = { client, engine, pending: '' };
      this.conns.add(conn);
      client.on('data', (chunk: Buffer) => {
        const m = /^(?:GET|POST|PUT|DELETE|HEAD) \S+/m.exec(chunk.toString('latin1'));
        if (m) {
          conn.pending = m[0];
          const refused = this.refuse?.test(m[0]) ?? false;
          this.requests.push({ line: m[0], refused });
          if (refused) {
            client.destroy();
            engine.destroy();
            return;
          }
        }
        engine.write(chunk);
      });
      engine.on('data', (chunk: Buffer) => client.write(chunk));
      const drop = () => {
        this.conns.delete(conn);
        client.destroy();
        engine.destroy();
      };
      client.on('close', drop);
      engine.on('close', drop);
      client.on('error', () => {});
      engine.on('error', () => {});
    });
  }

  listen(): Promise<void> {
    return new Promise((resolve) => this.server.listen(this.socketPath, resolve));
  }

  /** Cuts every open connection whose latest request matches; returns how many. */
  cut(match: RegExp): number {
    let n = 0;
    for (const conn of [...this.conns]) {
      if (!match.test(conn.pending)) continue;
      conn.client.destroy();
      conn.engine.destroy();
      n++;
    }
    return n;
  }

  count(match: RegExp, refused?: boolean): number {
    return this.requests.filter(
      (r) => match.test(r.line) && (refused === undefined || r.refused === refused),
    ).length;
  }

  close(): void {
    for (const conn of this.conns) {
      conn.client.destroy();
      conn.engine.destroy();
    }
    this.server.close();
  }
}

let docker: Dockerode;
let proxy: EngineProxy;
/** The engine as herd sees it: through the proxy. */
let proxied: Dockerode;
const projectName = uniqueProjectName('herdrc');
const cleanups: Array<() => unknown> = [];

before(async () => {
  const engine = await ensureDockerd();
  docker = engine.docker;
  await ensureBusyboxImage(docker);
  proxy = new EngineProxy(engine.socketPath, projectName);
  await proxy.listen();
  proxied = new Dockerode({ socketPath: proxy.socketPath });
});

after(async () => {
  for (const cleanup of cleanups) await cleanup();
  proxy.close();
  await new DockerRuntime({ docker, project: testProject(projectName, []) }).removeProject();
});

function runtimeWith(service: Service): DockerRuntime {
  const runtime = new DockerRuntime({
    docker: proxied,
    project: testProject(projectName, [service]),
  });
  cleanups.push(() => runtime.close());
  return runtime;
}

async function until(what: string, check: () => boolean | Promise<boolean>, ms = 10_000) {
  const deadline = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not within ${ms} ms`);
    await sleep(50);
  }
}

/** Runs `cmd` in the container through the engine directly (not through the proxy). With
 * `endsContainer`, the command makes the container's main process exit, which may SIGKILL the
 * exec before it is reaped (137): the caller proves the effect by the container's exit instead. */
async function execIn(id: string, cmd: string[], endsContainer = false): Promise<void> {
  const exec = await docker.getContainer(id).exec({ Cmd: cmd });
  const stream = (await exec.start({})) as unknown as Readable;
  stream.resume();
  await finished(stream);
  let info = await exec.inspect();
  await until(`${cmd.join(' ')} finished`, async () => !(info = await exec.inspect()).Running);
  if (!endsContainer) assert.equal(info.ExitCode, 0, cmd.join(' '));
}

async function healthOf(id: string): Promise<string | undefined> {
  return (await docker.getContainer(id).inspect()).State.Health?.Status;
}

function settles<T>(p: Promise<T>): { value: T | undefined; done: boolean } {
  const state: { value: T | undefined; done: boolean } = { value: undefined, done: false };
  void p.then((v) => Object.assign(state, { value: v, done: true }));
  return state;
}

describe('health feed', () => {
  it('reopens a dropped events stream and reports the change made while it was down', async () => {
    const checked = testService('checked', {
      image: BUSYBOX_IMAGE,
      command: ['sh', '-c', 'touch /tmp/ok; exec sleep 300'],
      healthcheck: {
        test: { kind: 'shell', command: 'test -f /tmp/ok' },
        intervalMs: 200,
        timeoutMs: 1000,
        retries: 1,
        startPeriodMs: 0,
        startIntervalMs: 0,
      },
      stopGracePeriodMs: 1000,
    });
    const runtime = runtimeWith(checked);
    const handle = (await runtime.start(
      specFor(testProject(projectName, [checked]), 'checked'),
    )) as DockerReplicaHandle;
    const seen: string[] = [];
    handle.onHealth((status) => seen.push(status));
    await until('healthy reported', () => seen.at(-1) === 'healthy');

    // The stream drops and cannot be reopened for a while: meanwhile the check starts failing.
    const events = /\/events\b/;
    proxy.refuse = events;
    assert.equal(proxy.cut(events), 1, 'one events stream was open');
    await execIn(handle.id, ['rm', '/tmp/ok']);
    await until('engine says unhealthy', async () => (await healthOf(handle.id)) === 'unhealthy');
    await until('feed retried by itself', () => proxy.count(events, true) >= 2);
    assert.equal(
      seen.at(-1),
      'healthy',
      `nothing can arrive while refused; saw ${seen.join(', ')}`,
    );

    // Reachable again: the reopened feed reads the status it missed.
    proxy.refuse = undefined;
    await until('unhealthy reported', () => seen.at(-1) === 'unhealthy');
    assert.ok(proxy.count(events, false) >= 2, 'the stream was reopened');

    // And later changes arrive over the reopened stream.
    await execIn(handle.id, ['touch', '/tmp/ok']);
    await until('healthy again', () => seen.at(-1) === 'healthy');
    await handle.stop();
  });
});

describe('waiting for the exit', () => {
  const waiter = testService('waiter', {
    image: BUSYBOX_IMAGE,
    command: ['sh', '-c', 'while [ ! -f /tmp/done ]; do sleep 0.1; done; exit 7'],
    stopGracePeriodMs: 1000,
  });

  it('waits again when the wait request breaks while the container runs', async () => {
    const runtime = runtimeWith(waiter);
    const handle = (await runtime.start(
      specFor(testProject(projectName, [waiter]), 'waiter'),
    )) as DockerReplicaHandle;
    const wait = new RegExp(`/containers/${handle.id}/wait`);
    await until('wait request pending', () => proxy.count(wait) === 1);
    const exit = settles(handle.exited);
    assert.equal(proxy.cut(wait), 1);

    await until('wait asked again', () => proxy.count(wait) === 2);
    // Longer than the output drain that used to end in "lost track".
    await sleep(1500);
    assert.equal(exit.done, false, `exited settled: ${JSON.stringify(exit.value)}`);
    assert.equal((await docker.getContainer(handle.id).inspect()).State.Running, true);

    await execIn(handle.id, ['touch', '/tmp/done'], true);
    await until('exited settled', () => exit.done);
    assert.deepEqual(exit.value, { exitCode: 7 });
  });

  /** A handle made as the runtime makes one, with a shorter retry policy. */
  async function directHandle(waitRetry: WaitRetryPolicy): Promise<DockerReplicaHandle> {
    const created = await docker.createContainer({
      Image: BUSYBOX_IMAGE,
      Cmd: ['sleep', '300'],
      Labels: projectLabels(projectName),
    });
    const container = proxied.getContainer(created.id);
    const output = (await container.attach({
      stream: true,
      stdout: true,
      stderr: true,
    })) as unknown as Readable;
    await container.start();
    const health = new HealthFeed(proxied, projectName);
    cleanups.push(() => health.close());
    return new DockerReplicaHandle({
      docker: proxied,
      container,
      id: created.id,
      ports: {},
      output,
      stopGracePeriodMs: 1000,
      health,
      waitRetry,
    });
  }

  it('reports lost track once the engine stays unreachable through the retries', async () => {
    const handle = await directHandle({ retries: 3, firstDelayMs: 50, maxDelayMs: 200 });
    const wait = new RegExp(`/containers/${handle.id}/wait`);
    await until('wait request pending', () => proxy.count(wait) === 1);
    proxy.refuse = /./;
    try {
      assert.equal(proxy.cut(wait), 1);
      const exit = (await Promise.race([
        handle.exited,
        sleep(10_000).then(() => assert.fail('exited did not settle')),
      ])) as ExitInfo;
      assert.equal(exit.exitCode, -1);
      assert.match(exit.startError ?? '', /^lost track of container [0-9a-f]{12}: /);
      // 1 wait, then per retry an inspect and a wait, all refused but the first.
      assert.ok(proxy.count(wait, true) >= 3, `${proxy.count(wait, true)} waits refused`);
    } finally {
      proxy.refuse = undefined;
    }
    assert.equal((await docker.getContainer(handle.id).inspect()).State.Running, true);
  });

  it('reports lost track when the container is gone while the wait is broken', async () => {
    // Retries for several seconds, far longer than the removal takes.
    const handle = await directHandle({ retries: 30, firstDelayMs: 50, maxDelayMs: 200 });
    const wait = new RegExp(`/containers/${handle.id}/wait`);
    await until('wait request pending', () => proxy.count(wait) === 1);
    // Nothing gets through while the container is removed behind herd's back (so herd never sees
    // it stopped), then only the waits keep failing and inspect finds it gone.
    proxy.refuse = /./;
    try {
      assert.equal(proxy.cut(wait), 1);
      await until('wait retried', () => proxy.count(wait, true) >= 1);
      const exit = settles(handle.exited);
      await docker.getContainer(handle.id).remove({ force: true });
      assert.equal(exit.done, false);
      proxy.refuse = wait;
      await until('exited settled', () => exit.done);
      assert.equal(exit.value?.exitCode, -1);
      assert.match(exit.value?.startError ?? '', /lost track of container .*no such container/i);
    } finally {
      proxy.refuse = undefined;
    }
  });
});
