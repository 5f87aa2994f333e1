// The Docker runtime behind herd's engine and balancer, against a real dockerd: the same compose
// file runs containers, requests spread over them through one port, a container killed from the
// host or scaled away loses no request, a Docker healthcheck gates a dependant, and `down`
// leaves nothing behind.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import { allocatePort } from '../../src/runtime/ports.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import {
  BUSYBOX_IMAGE,
  ensureBusyboxImage,
  ensureNodeImage,
  NODE_IMAGE,
} from '../helpers/docker-images.ts';
import { uniqueProjectName } from '../helpers/docker-project.ts';
import { getText, loadCompose, loadLoop, startStack, type Stack } from '../helpers/docker-stack.ts';
import { replica, waitUntil } from '../helpers/wait.ts';

const projectName = uniqueProjectName('herdeng');
let docker: Dockerode;
let socketPath: string;
let webPort: number;
let stack: Stack | undefined;

/** hostname (the container id's first 12 characters) → replica name, for running containers. */
async function hostnames(): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const c of (await stack!.runtimes.docker!.listContainers()).filter(
    (c) => c.state === 'running',
  )) {
    out.set(c.id.slice(0, 12), c.name);
  }
  return out;
}

async function hostnamesOf(service: string): Promise<string[]> {
  const all = await stack!.runtimes.docker!.listContainers();
  return all.filter((c) => c.service === service).map((c) => c.id.slice(0, 12));
}

function readyWeb(n: number) {
  return () => {
    const web = stack!.engine.replicas().filter((r) => r.service === 'web');
    return web.length === n && web.every((r) => r.state === 'running') && web;
  };
}

before(async () => {
  ({ docker, socketPath } = await ensureDockerd());
  await Promise.all([ensureBusyboxImage(docker), ensureNodeImage(docker)]);
  webPort = await allocatePort();
  const project = await loadCompose(`
name: ${projectName}
services:
  web:
    image: ${NODE_IMAGE}
    ports: ["127.0.0.1:${webPort}:8080"]
    scale: 3
    restart: always
    stop_grace_period: 2s
  worker:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo started port=$$PORT; while true; do echo tick; sleep 1; done"]
    restart: always
    stop_grace_period: 1s
  db:
    image: ${NODE_IMAGE}
    expose: ["8080"]
    healthcheck:
      # Only true inside the container (the app file is not on the host): proves the engine's
      # own health status is what herd follows.
      test: ["CMD", "sh", "-c", "test -f /app/app.mjs && wget -q -O /dev/null http://127.0.0.1:$$PORT/"]
      interval: 500ms
      retries: 2
  api:
    image: ${BUSYBOX_IMAGE}
    command: ["sh", "-c", "trap 'exit 0' TERM; echo db=$$DB_SERVICE_HOST:$$DB_SERVICE_PORT; wget -q -O - http://$$DB_SERVICE_HOST:$$DB_SERVICE_PORT/from-api; while true; do sleep 1; done"]
    stop_grace_period: 1s
    depends_on:
      db: {condition: service_healthy}
  client:
    # A local process in the same project: it reaches the container through herd's balancer.
    command: ["node", "-e", "const a = process.env.DB_SERVICE_HOST + ':' + process.env.DB_SERVICE_PORT; fetch('http://' + a + '/from-process').then((r) => r.text()).then((t) => console.log(a + ' ' + t.trim()))"]
    depends_on:
      db: {condition: service_healthy}
`);
  stack = await startStack(project, socketPath);
});

after(async () => {
  if (!stack) return;
  await stack.engine.shutdown().catch(() => undefined);
  await stack.proxy.close();
  await stack.runtimes.down({ volumes: true });
  await stack.runtimes.close();
});

describe('Docker runtime behind the engine and the balancer', () => {
  it('starts three web containers that serve through one balanced port, spread over all three', async () => {
    await waitUntil('three running web replicas', readyWeb(3), 15_000);
    const names = await hostnames();
    const seen = new Map<string, number>();
    for (let i = 0; i < 30; i++) {
      const body = await getText(webPort, `/r${i}`);
      const [host, path] = body.trim().split(' ');
      assert.equal(path, `/r${i}`);
      const name = names.get(host ?? '') ?? `unknown ${host}`;
      assert.ok(name.startsWith(`${projectName}-web-`), `answered by ${host} (${name})`);
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    assert.deepEqual(
      [...seen.keys()].sort(),
      [1, 2, 3].map((i) => `${projectName}-web-${i}`),
    );
    // The balancer forwards to 127.0.0.1 host ports Docker published for the containers.
    for (const r of stack!.engine.replicas().filter((r) => r.service === 'web')) {
      assert.equal(r.host, '127.0.0.1');
      assert.ok(r.ports[8080] && r.ports[8080] !== 8080, JSON.stringify(r.ports));
    }
  });

  it('a container sees PORT as its target port and reaches other services by name', async () => {
    const api = await waitUntil(
      'the api output',
      () => stack!.output('api-1').length >= 2 && stack!.output('api-1'),
      15_000,
    );
    assert.equal(api[0], 'db=db:8080');
    assert.match(api[1] ?? '', /^[0-9a-f]{12} \/from-api$/);
    assert.equal(stack!.output('worker-1')[0], 'started port=');
  });

  it('a local process of the same project reaches a container through the balancer', async () => {
    const [line] = await waitUntil(
      'the client output',
      () => stack!.output('client-1').length > 0 && stack!.output('client-1'),
      10_000,
    );
    const db = stack!.proxy.serviceAddresses().db!;
    assert.equal(line, `127.0.0.1:${db.port} ${(await hostnamesOf('db'))[0]} /from-process`);
  });

  it('a dependant waits for the Docker healthcheck (service_healthy)', async () => {
    const db = replica(stack!.engine, 'db-1');
    const api = replica(stack!.engine, 'api-1');
    assert.equal(db?.health, 'healthy');
    assert.equal(api?.state, 'running');
    const dbReady = stack!.events.find((e) => e.type === 'ready' && e.replica.service === 'db');
    assert.ok(dbReady && api?.startedAt !== undefined && api.startedAt >= dbReady.at);
    const [dbContainer] = (await stack!.runtimes.docker!.listContainers()).filter(
      (c) => c.service === 'db',
    );
    const info = await docker.getContainer(dbContainer!.id).inspect();
    assert.equal(info.State.Health?.Status, 'healthy');
  });

  it('kill -9 of a container process from the host loses no request; herd restarts it', async () => {
    await waitUntil('three running web replicas', readyWeb(3), 15_000);
    const before = replica(stack!.engine, 'web-2')!;
    const [victim] = (await stack!.runtimes.docker!.listContainers()).filter(
      (c) => c.name === `${projectName}-web-2`,
    );
    const pid = (await docker.getContainer(victim!.id).inspect()).State.Pid;
    assert.ok(pid > 1);
    const load = loadLoop(webPort);
    await new Promise((r) => setTimeout(r, 300));
    process.kill(pid, 'SIGKILL');
    await waitUntil(
      'web-2 restarted and ready',
      () => {
        const r = replica(stack!.engine, 'web-2');
        return r && r.restarts === before.restarts + 1 && r.state === 'running' && r;
      },
      15_000,
    );
    await new Promise((r) => setTimeout(r, 500));
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.join('\n'));
    assert.ok(result.ok > 20, `only ${result.ok} requests`);
    const [after] = (await stack!.runtimes.docker!.listContainers()).filter(
      (c) => c.name === `${projectName}-web-2` && c.state === 'running',
    );
    assert.ok(after && after.id !== victim!.id, 'a new container replaced the killed one');
  });

  it('setScale up and down under load loses no request', async () => {
    const load = loadLoop(webPort);
    stack!.engine.setScale('web', 5);
    await waitUntil('five running web replicas', readyWeb(5), 20_000);
    // A running container is not yet serving: its app still starts (a second or more under
    // load), and herd takes it as ready at once (the published port answers through
    // docker-proxy). Scale down only once all five have answered, not after a fixed pause.
    await waitUntil(
      'answers from all five web replicas',
      () => load.result.byHost.size >= 5,
      15_000,
    );
    stack!.engine.setScale('web', 2);
    await waitUntil('two web replicas left', readyWeb(2), 20_000);
    const result = await load.stop();
    assert.equal(result.failed, 0, result.errors.join('\n'));
    assert.ok(result.byHost.size >= 4, `answers came from ${[...result.byHost.keys()].join(', ')}`);
    // Scaled-away containers are removed, as Compose does.
    const web = (await stack!.runtimes.docker!.listContainers()).filter((c) => c.service === 'web');
    assert.deepEqual(
      web.map((c) => `${c.index} ${c.state}`),
      ['1 running', '2 running'],
    );
  });

  it('a worker container runs with no port published', async () => {
    await waitUntil('worker ticks', () => stack!.output('worker-1').includes('tick'), 5000);
    const [worker] = (await stack!.runtimes.docker!.listContainers()).filter(
      (c) => c.service === 'worker',
    );
    const info = await docker.getContainer(worker!.id).inspect();
    assert.equal(info.State.Running, true);
    assert.deepEqual(Object.keys(info.NetworkSettings.Ports ?? {}), []);
  });

  it('shutdown and down leave no container or network behind', async () => {
    await stack!.engine.shutdown();
    await stack!.proxy.close();
    await stack!.runtimes.down({ volumes: true });
    const filters = { label: [`com.docker.compose.project=${projectName}`] };
    assert.deepEqual(await docker.listContainers({ all: true, filters }), []);
    assert.deepEqual(await docker.listNetworks({ filters }), []);
    await stack!.runtimes.close();
    stack = undefined;
  });
});
