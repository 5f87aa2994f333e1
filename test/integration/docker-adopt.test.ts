// A herd that dies leaves its containers running; the next herd for the same project adopts the
// ones created from the same definition and image (same container ids, served through its own
// balancer) and replaces the ones that no longer match.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type Dockerode from 'dockerode';
import { planReplica } from '../../src/runtime/env.ts';
import { allocatePort } from '../../src/runtime/ports.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import {
  BUSYBOX_IMAGE,
  ensureBusyboxImage,
  ensureNodeImage,
  NODE_IMAGE,
} from '../helpers/docker-images.ts';
import { testProject, testService, uniqueProjectName } from '../helpers/docker-project.ts';
import {
  getText,
  loadComposeDir,
  startStack,
  writeCompose,
  type Stack,
} from '../helpers/docker-stack.ts';
import { waitUntil } from '../helpers/wait.ts';

const CHILD = join(
  dirname(fileURLToPath(import.meta.url)),
  '..',
  'helpers',
  'docker-stack-child.ts',
);
const projectName = uniqueProjectName('herdadopt');
let docker: Dockerode;
let socketPath: string;
let webPort: number;
let dir: string;
let stack: Stack | undefined;
const children: ChildProcess[] = [];

function compose(version: string): string {
  return `
name: ${projectName}
services:
  web:
    image: ${NODE_IMAGE}
    ports: ["127.0.0.1:${webPort}:8080"]
    environment: {VERSION: "${version}"}
    scale: 2
    restart: always
    stop_grace_period: 2s
`;
}

/** Runs a herd for the compose folder in a child process until `ready`, then SIGKILLs it. */
async function runAndKillHerd(): Promise<string[]> {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD, dir, socketPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`child herd not ready in 40 s:\n${out}`)),
      40_000,
    );
    child.stdout!.on('data', () => {
      if (/^ready$/m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`child herd exited with ${code}:\n${out}`));
    });
  });
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGKILL');
  await exited;
  return out.split('\n');
}

async function webContainers(): Promise<Map<string, string>> {
  const list = await docker.listContainers({
    all: true,
    filters: { label: [`com.docker.compose.project=${projectName}`] },
  });
  return new Map(list.map((c) => [c.Names[0]!.slice(1), `${c.State} ${c.Id}`]));
}

before(async () => {
  ({ docker, socketPath } = await ensureDockerd());
  await Promise.all([ensureNodeImage(docker), ensureBusyboxImage(docker)]);
  webPort = await allocatePort();
  dir = writeCompose(compose('1'));
});

after(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  if (stack) {
    await stack.engine.shutdown().catch(() => undefined);
    await stack.proxy.close();
    await stack.runtimes.close();
  }
  await new DockerRuntime({ docker, project: testProject(projectName, []) }).removeProject({
    volumes: true,
  });
});

describe('adopting the containers of a herd that died', () => {
  let first: Map<string, string>;

  it('a herd killed with SIGKILL leaves its containers running', async () => {
    await runAndKillHerd();
    first = await webContainers();
    assert.deepEqual([...first.keys()].sort(), [`${projectName}-web-1`, `${projectName}-web-2`]);
    for (const v of first.values()) assert.match(v, /^running /);
  });

  it('a herd with a changed definition replaces them instead of adopting', async () => {
    writeCompose(compose('2'), {}, dir);
    await runAndKillHerd();
    const second = await webContainers();
    assert.deepEqual([...second.keys()].sort(), [...first.keys()].sort());
    for (const [name, v] of second) {
      assert.match(v, /^running /);
      assert.notEqual(v, first.get(name), `${name} was recreated`);
    }
    first = second;
    // Each one serves on its loopback port with the herd that made it gone (once the app in it
    // listens: `ready` only says the containers started).
    for (const v of second.values()) {
      const info = await docker.getContainer(v.split(' ')[1]!).inspect();
      const hostPort = Number(info.NetworkSettings.Ports['8080/tcp']?.[0]?.HostPort);
      const body = await waitUntil(
        `${info.Name} answering on ${hostPort}`,
        () => getText(hostPort, '/direct').catch(() => undefined),
        10_000,
      );
      assert.equal(body, `${info.Config.Hostname} /direct\n`);
    }
  });

  it('the next herd adopts the matching containers (same ids) and balances over them', async () => {
    stack = await startStack(await loadComposeDir(dir), socketPath);
    assert.deepEqual(await webContainers(), first, 'the same containers, still running');
    const notices = stack.events.flatMap((e) => (e.type === 'notice' ? [e.message] : []));
    assert.ok(notices.includes('web-1 was already running: adopted it'), notices.join('\n'));
    assert.ok(notices.includes('web-2 was already running: adopted it'), notices.join('\n'));
    const hosts = new Set<string>();
    for (let i = 0; i < 10; i++) hosts.add((await getText(webPort, '/')).split(' ')[0]!);
    const expected = [...first.values()].map((v) => v.split(' ')[1]!.slice(0, 12)).sort();
    assert.deepEqual(
      [...hosts].sort(),
      expected,
      JSON.stringify({ replicas: stack.engine.replicas(), stats: stack.proxy.stats() }),
    );
    // Output follows from the adoption on: the stop prints through the new herd.
    await stack.engine.stopServices(['web']);
    const lines = stack.events.flatMap((e) => (e.type === 'output' ? [e.line] : []));
    assert.ok(lines.includes('SIGTERM, closing'), lines.join('\n'));
  });

  it('a stopped container is removed, not adopted', async () => {
    const service = testService('once', { image: BUSYBOX_IMAGE, command: ['true'] });
    const project = testProject(projectName, [service]);
    const runtime = new DockerRuntime({ docker, project });
    const { spec } = await planReplica(project, service, 1, { allowImageDefault: true });
    assert.equal(await runtime.adopt(spec), undefined, 'nothing to adopt yet');
    const handle = await runtime.start(spec);
    await handle.exited;
    assert.equal(await runtime.adopt(spec), undefined);
    await assert.rejects(docker.getContainer(handle.id).inspect(), /no such container/i);
    runtime.close();
  });
});
