// DockerRuntime against a real engine: output lines, env, exit codes, graceful stop with a
// grace period, SIGKILL from the host, and a node HTTP server on its 127.0.0.1 port.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import type { Project, Service } from '../../src/compose/model.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import type { DockerReplicaHandle } from '../../src/runtime/docker/handle.ts';
import type { OutputStream, ReplicaSpec } from '../../src/runtime/types.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import {
  BUSYBOX_IMAGE,
  ensureBusyboxImage,
  ensureNodeImage,
  NODE_IMAGE,
} from '../helpers/docker-images.ts';
import { specFor, testProject, testService, uniqueProjectName } from '../helpers/docker-project.ts';

let docker: Dockerode;
const projectName = uniqueProjectName('herdrt');
const runtimes: DockerRuntime[] = [];

function setup(
  service: Service,
  spec: Partial<ReplicaSpec> = {},
): { project: Project; runtime: DockerRuntime; spec: ReplicaSpec } {
  const project = testProject(projectName, [service]);
  const runtime = new DockerRuntime({ docker, project });
  runtimes.push(runtime);
  return { project, runtime, spec: specFor(project, service.name, 1, spec) };
}

function collect(handle: {
  onOutput(l: (s: OutputStream, line: string) => void): void;
}): Array<[OutputStream, string]> {
  const lines: Array<[OutputStream, string]> = [];
  handle.onOutput((stream, line) => lines.push([stream, line]));
  return lines;
}

/** Resolves once a line matching `re` was printed, or fails after `ms`. */
function lineMatching(
  handle: { onOutput(l: (s: OutputStream, line: string) => void): void },
  re: RegExp,
  ms = 10_000,
): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no output line matched ${re} within ${ms} ms`)),
      ms,
    );
    handle.onOutput((_s, line) => {
      if (re.test(line)) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

before(async () => {
  ({ docker } = await ensureDockerd());
  await Promise.all([ensureBusyboxImage(docker), ensureNodeImage(docker)]);
});

after(async () => {
  for (const r of runtimes) r.close();
  await new DockerRuntime({ docker, project: testProject(projectName, []) }).removeProject();
});

describe('DockerRuntime', () => {
  it('runs the command with the env and splits stdout and stderr into lines', async () => {
    const service = testService('echo', {
      image: BUSYBOX_IMAGE,
      command: ['sh', '-c', 'echo "greeting=$GREETING"; echo oops >&2; printf "no newline"'],
      environment: { GREETING: 'hi there' },
    });
    const { runtime, spec } = setup(service);
    const handle = await runtime.start(spec);
    const lines = collect(handle);
    const exit = await handle.exited;
    assert.deepEqual(exit, { exitCode: 0 });
    assert.deepEqual(
      lines.filter(([s]) => s === 'stdout'),
      [
        ['stdout', 'greeting=hi there'],
        ['stdout', 'no newline'],
      ],
    );
    assert.deepEqual(
      lines.filter(([s]) => s === 'stderr'),
      [['stderr', 'oops']],
    );
    assert.match(handle.id, /^[0-9a-f]{64}$/);
  });

  it('labels the container as Compose does and names it <project>-<service>-<n>', async () => {
    const { runtime, spec } = setup(
      testService('labelled', { image: BUSYBOX_IMAGE, command: ['true'] }),
      {
        index: 3,
        name: `${projectName}-labelled-3`,
      },
    );
    const handle = await runtime.start(spec);
    await handle.exited;
    const info = await docker.getContainer(handle.id).inspect();
    assert.equal(info.Name, `/${projectName}-labelled-3`);
    const labels = info.Config.Labels;
    assert.equal(labels['com.docker.compose.project'], projectName);
    assert.equal(labels['com.docker.compose.service'], 'labelled');
    assert.equal(labels['com.docker.compose.container-number'], '3');
    assert.equal(labels['com.docker.compose.oneoff'], 'False');
    assert.equal(info.HostConfig.RestartPolicy?.Name, 'no');
    const listed = await runtime.listContainers();
    assert.ok(
      listed.some(
        (c) => c.name === `${projectName}-labelled-3` && c.service === 'labelled' && c.index === 3,
      ),
    );
  });

  it('reports the exit code of `exit 3`', async () => {
    const { runtime, spec } = setup(
      testService('three', { image: BUSYBOX_IMAGE, command: ['sh', '-c', 'exit 3'] }),
    );
    const handle = await runtime.start(spec);
    assert.equal((await handle.exited).exitCode, 3);
  });

  it('stop() sends the stop signal and the trap runs within the grace period', async () => {
    const service = testService('trapper', {
      image: BUSYBOX_IMAGE,
      command: [
        'sh',
        '-c',
        'trap "echo got TERM; exit 0" TERM; echo ready; while true; do sleep 0.1; done',
      ],
      stopGracePeriodMs: 5000,
    });
    const { runtime, spec } = setup(service);
    const handle = await runtime.start(spec);
    const lines = collect(handle);
    await lineMatching(handle, /^ready$/);
    const t0 = Date.now();
    const exit = await handle.stop();
    assert.equal(exit.exitCode, 0);
    assert.ok(Date.now() - t0 < 4000, 'the trap ended it well before the grace period');
    assert.ok(
      lines.some(([, l]) => l === 'got TERM'),
      JSON.stringify(lines),
    );
  });

  it('stop() kills a container that ignores the signal once the grace period is over', async () => {
    const service = testService('stubborn', {
      image: BUSYBOX_IMAGE,
      command: [
        'sh',
        '-c',
        'trap "echo ignoring" TERM; echo ready; while true; do sleep 0.1; done',
      ],
      stopGracePeriodMs: 1000,
    });
    const { runtime, spec } = setup(service);
    const handle = await runtime.start(spec);
    await lineMatching(handle, /^ready$/);
    const t0 = Date.now();
    const exit = await handle.stop();
    const took = Date.now() - t0;
    assert.equal(exit.exitCode, 137);
    assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
  });

  it('kill -9 of the container process from the host resolves exited with 137', async () => {
    const { runtime, spec } = setup(
      testService('victim', { image: BUSYBOX_IMAGE, command: ['sleep', '60'] }),
    );
    const handle = await runtime.start(spec);
    assert.ok(handle.pid && handle.pid > 1, `pid ${handle.pid}`);
    process.kill(handle.pid, 'SIGKILL');
    assert.equal((await handle.exited).exitCode, 137);
  });

  it('kill(signal) signals the container right away', async () => {
    const service = testService('signalled', {
      image: BUSYBOX_IMAGE,
      command: [
        'sh',
        '-c',
        'trap "echo got USR1; exit 7" USR1; echo ready; while true; do sleep 0.1; done',
      ],
    });
    const { runtime, spec } = setup(service);
    const handle = await runtime.start(spec);
    await lineMatching(handle, /^ready$/);
    handle.kill('SIGUSR1');
    assert.equal((await handle.exited).exitCode, 7);
  });

  it('serves a node HTTP app on an ephemeral 127.0.0.1 port', async () => {
    const service = testService('web', { image: NODE_IMAGE, environment: { PORT: '8080' } });
    const { runtime, spec } = setup(service, { port: 8080 });
    const handle = (await runtime.start(spec)) as DockerReplicaHandle;
    await lineMatching(handle, /^listening on 8080$/);
    assert.ok(handle.address);
    assert.equal(handle.address.host, '127.0.0.1');
    assert.notEqual(handle.address.port, 8080);
    assert.deepEqual(handle.ports['8080/tcp'], handle.address);
    const res = await fetch(`http://127.0.0.1:${handle.address.port}/hello`);
    assert.equal(res.status, 200);
    const info = await docker.getContainer(handle.id).inspect();
    assert.equal(await res.text(), `${info.Config.Hostname} /hello\n`);
    const exit = await handle.stop();
    assert.equal(exit.exitCode, 0, 'the app closed on SIGTERM');
  });

  it('hands back a start error when the command does not exist in the image', async () => {
    const { runtime, spec } = setup(
      testService('nocmd', { image: BUSYBOX_IMAGE, command: ['/no/such/binary'] }),
    );
    const handle = await runtime.start(spec);
    const exit = await handle.exited;
    assert.equal(exit.exitCode, -1);
    assert.match(exit.startError ?? '', /could not start container .*-nocmd-1: .*no such file/i);
  });

  it('replaces a stopped container left with the same name by an earlier run', async () => {
    const { runtime, spec } = setup(
      testService('again', { image: BUSYBOX_IMAGE, command: ['echo', 'run'] }),
    );
    const first = await runtime.start(spec);
    await first.exited;
    const second = await runtime.start(spec);
    assert.equal((await second.exited).exitCode, 0);
    assert.notEqual(first.id, second.id);
    await assert.rejects(docker.getContainer(first.id).inspect(), /no such container/i);
  });
});
