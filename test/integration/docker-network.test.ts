// The project's shared resources on a real engine: the <project>_default network with service
// names as aliases, the engine's healthchecks, volumes, and removeProject leaving nothing behind.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import type { DockerReplicaHandle } from '../../src/runtime/docker/handle.ts';
import type { OutputStream } from '../../src/runtime/types.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/docker-images.ts';
import { specFor, testProject, testService, uniqueProjectName } from '../helpers/docker-project.ts';
import { tempDir } from '../helpers/tmp.ts';

let docker: Dockerode;
const cleanups: Array<() => Promise<unknown>> = [];

function stdoutOf(handle: {
  onOutput(l: (s: OutputStream, line: string) => void): void;
}): string[] {
  const lines: string[] = [];
  handle.onOutput((stream, line) => stream === 'stdout' && lines.push(line));
  return lines;
}

async function networkExists(name: string): Promise<boolean> {
  const found = await docker.listNetworks({ filters: { name: [name] } });
  return found.some((n) => n.Name === name);
}

before(async () => {
  ({ docker } = await ensureDockerd());
  await ensureBusyboxImage(docker);
});

after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

function runtimeFor(...args: Parameters<typeof testProject>): {
  runtime: DockerRuntime;
  project: ReturnType<typeof testProject>;
} {
  const project = testProject(...args);
  const runtime = new DockerRuntime({ docker, project });
  cleanups.push(async () => {
    runtime.close();
    await runtime.removeProject({ volumes: true });
  });
  return { runtime, project };
}

describe('project network', () => {
  it('lets containers reach each other by service name on <project>_default', async () => {
    const name = uniqueProjectName('herdnet');
    const web = testService('web', {
      image: BUSYBOX_IMAGE,
      command: ['httpd', '-f', '-p', '8080', '-h', '/etc'],
      // httpd as PID 1 ignores SIGTERM: keep the wait for the SIGKILL short.
      stopGracePeriodMs: 1000,
    });
    const client = testService('client', {
      image: BUSYBOX_IMAGE,
      // The server may need a moment to listen: retry for up to ~5 s.
      command: [
        'sh',
        '-c',
        'for i in $(seq 50); do wget -qO- http://web:8080/greeting && exit 0; sleep 0.1; done; exit 1',
      ],
    });
    const { runtime, project } = runtimeFor(name, [web, client]);
    const server = await runtime.start(specFor(project, 'web'));
    const caller = await runtime.start(specFor(project, 'client'));
    const lines = stdoutOf(caller);
    assert.equal((await caller.exited).exitCode, 0);
    assert.deepEqual(lines, ['hello']);

    const net = await docker.getNetwork(`${name}_default`).inspect();
    assert.equal(net.Labels?.['com.docker.compose.project'], name);
    assert.equal(net.Labels?.['com.docker.compose.network'], 'default');
    await server.stop();
  });
});

describe('engine healthcheck', () => {
  it('reports starting, healthy, then unhealthy as the check starts failing', async () => {
    const { runtime, project } = runtimeFor(uniqueProjectName('herdhc'), [
      testService('checked', {
        image: BUSYBOX_IMAGE,
        command: ['sh', '-c', 'touch /tmp/ok; sleep 1.5; rm /tmp/ok; sleep 30'],
        healthcheck: {
          test: { kind: 'shell', command: 'test -f /tmp/ok' },
          intervalMs: 200,
          timeoutMs: 1000,
          retries: 2,
          startPeriodMs: 0,
          startIntervalMs: 0,
        },
        stopGracePeriodMs: 1000,
      }),
    ]);
    const handle = (await runtime.start(specFor(project, 'checked'))) as DockerReplicaHandle;
    const seen: string[] = [];
    const unhealthy = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no unhealthy within 8 s; saw ${seen.join(', ')}`)),
        8000,
      );
      handle.onHealth((status) => {
        seen.push(status);
        if (status === 'unhealthy') {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    await unhealthy;
    const healthyAt = seen.indexOf('healthy');
    assert.ok(healthyAt >= 0 && healthyAt < seen.indexOf('unhealthy'), seen.join(', '));
    const info = await docker.getContainer(handle.id).inspect();
    assert.equal(info.Config.Healthcheck?.Interval, 200_000_000, 'interval passed in nanoseconds');
    assert.deepEqual(info.Config.Healthcheck?.Test, ['CMD-SHELL', 'test -f /tmp/ok']);
    await handle.stop();
  });
});

describe('volumes and limits', () => {
  it('mounts binds relative to the project folder and creates named volumes <project>_<name>', async () => {
    const dir = tempDir('vol');
    cleanups.push(async () => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'message.txt'), 'from the host\n');
    const name = uniqueProjectName('herdvol');
    const { runtime, project } = runtimeFor(
      name,
      [
        testService('writer', {
          image: BUSYBOX_IMAGE,
          command: ['sh', '-c', 'cat /host/message.txt; echo kept > /data/file'],
          volumes: [
            { type: 'bind', source: '.', target: '/host', readOnly: true },
            { type: 'volume', source: 'data', target: '/data', readOnly: false },
          ],
          resources: {
            limits: { memoryBytes: 64 * 1024 * 1024, cpus: 0.5, pids: 50 },
            reservations: {},
          },
        }),
        testService('reader', {
          image: BUSYBOX_IMAGE,
          command: ['cat', '/data/file'],
          volumes: [{ type: 'volume', source: 'data', target: '/data', readOnly: true }],
        }),
      ],
      dir,
    );
    project.volumes.data = { name: 'data', external: false, labels: {} };
    const writer = await runtime.start(specFor(project, 'writer'));
    const written = stdoutOf(writer);
    assert.equal((await writer.exited).exitCode, 0);
    assert.deepEqual(written, ['from the host']);
    const host = (await docker.getContainer(writer.id).inspect()).HostConfig;
    assert.equal(host.Memory, 64 * 1024 * 1024);
    assert.equal(host.NanoCpus, 500_000_000);
    assert.equal(host.PidsLimit, 50);

    const reader = await runtime.start(specFor(project, 'reader'));
    const read = stdoutOf(reader);
    assert.equal((await reader.exited).exitCode, 0);
    assert.deepEqual(read, ['kept']);
    const volume = await docker.getVolume(`${name}_data`).inspect();
    assert.equal(volume.Labels?.['com.docker.compose.volume'], 'data');

    // Without the flag named volumes stay (data survives `down`); with it they go.
    await runtime.removeProject();
    assert.equal((await docker.getVolume(`${name}_data`).inspect()).Name, `${name}_data`);
    await runtime.removeProject({ volumes: true });
    await assert.rejects(docker.getVolume(`${name}_data`).inspect(), /no such volume/i);
  });
});

describe('removeProject', () => {
  it('leaves no container or network of the project behind', async () => {
    const name = uniqueProjectName('herdrm');
    const { runtime, project } = runtimeFor(name, [
      testService('sleeper', { image: BUSYBOX_IMAGE, command: ['sleep', '60'] }),
      testService('done', { image: BUSYBOX_IMAGE, command: ['true'] }),
    ]);
    // Replicas started at once share one network creation and get their own containers.
    const [running] = await Promise.all([
      runtime.start(specFor(project, 'sleeper', 1)),
      runtime.start(specFor(project, 'sleeper', 2)),
    ]);
    await (
      await runtime.start(specFor(project, 'done'))
    ).exited;
    assert.equal((await runtime.listContainers()).length, 3);
    assert.ok(await networkExists(`${name}_default`));

    const removed = await runtime.removeProject();
    assert.deepEqual(removed, { containers: 3, networks: 1, volumes: 0 });
    assert.equal((await running.exited).exitCode, 137);
    assert.deepEqual(await runtime.listContainers(), []);
    const leftovers = await docker.listContainers({
      all: true,
      filters: { label: [`com.docker.compose.project=${name}`] },
    });
    assert.deepEqual(leftovers, []);
    assert.equal(await networkExists(`${name}_default`), false);
  });
});
