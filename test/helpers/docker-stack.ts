// A whole herd stack in the test process, as `herd up` wires it: a compose file loaded from
// disk, the runtimes (Docker for image/build services), the balancer and the engine — plus a
// bounded load loop that counts every request through the balancer.
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { loadProject } from '../../src/compose/load.ts';
import type { Project } from '../../src/compose/model.ts';
import { Engine } from '../../src/engine/engine.ts';
import type { EngineEvent } from '../../src/engine/events.ts';
import { createProxy, type Proxy } from '../../src/proxy/index.ts';
import { createRuntimes, type Runtimes } from '../../src/runtime/choose.ts';
import { tempDir } from './tmp.ts';

/** Writes `yaml` as compose.yaml (and `files` next to it) in `dir`, default a fresh folder. */
export function writeCompose(
  yaml: string,
  files: Record<string, string> = {},
  dir = tempDir('docker-stack'),
): string {
  writeFileSync(join(dir, 'compose.yaml'), yaml);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

/** Loads the compose.yaml of `dir` as herd does. */
export function loadComposeDir(dir: string): Promise<Project> {
  return loadProject({ cwd: dir, env: {} });
}

/** Writes `yaml` as compose.yaml in a fresh folder and loads it as herd does. */
export function loadCompose(yaml: string, files: Record<string, string> = {}): Promise<Project> {
  return loadComposeDir(writeCompose(yaml, files));
}

export interface Stack {
  project: Project;
  runtimes: Runtimes;
  proxy: Proxy;
  engine: Engine;
  events: EngineEvent[];
  /** Output lines of one replica (`web-1`), as the engine reported them. */
  output(replica: string): string[];
}

/** Starts `project` as `herd up` does. `socketPath` is the Docker engine's socket; a project of
 * local processes only needs none. */
export async function startStack(
  project: Project,
  socketPath?: string,
  upTimeoutMs = 30_000,
): Promise<Stack> {
  const runtimes = await createRuntimes(
    project,
    socketPath === undefined ? {} : { env: { DOCKER_HOST: `unix://${socketPath}` } },
  );
  const proxy = createProxy(project, { warn: () => {} });
  await proxy.listen();
  const engine = new Engine(project, {
    runtime: (s) => runtimes.forService(s),
    serviceAddresses: () => proxy.serviceAddresses(),
  });
  const events: EngineEvent[] = [];
  engine.on('event', (e) => events.push(e));
  proxy.attach(engine);
  // up() waits for dependencies' conditions: bound it, and say which replica hung.
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const states = engine.replicas().map((r) => `${r.name}: ${r.state} ${r.reason ?? ''}`);
      reject(new Error(`engine.up() not done after ${upTimeoutMs} ms:\n${states.join('\n')}`));
    }, upTimeoutMs);
  });
  try {
    await Promise.race([engine.up(), timeout]);
  } catch (err) {
    await engine.shutdown().catch(() => undefined);
    await proxy.close();
    await runtimes.down({ volumes: true });
    await runtimes.close();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return {
    project,
    runtimes,
    proxy,
    engine,
    events,
    output: (replica) =>
      events.flatMap((e) =>
        e.type === 'output' && e.name === `${project.name}-${replica}` ? [e.line] : [],
      ),
  };
}

/** One GET through 127.0.0.1:port; resolves with the body or rejects with what went wrong. */
export function getText(port: number, path = '/', timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, timeout: timeoutMs }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () =>
        res.statusCode === 200
          ? resolve(body)
          : reject(new Error(`HTTP ${res.statusCode}: ${body.trim()}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end();
  });
}

export interface LoadResult {
  ok: number;
  failed: number;
  errors: string[];
  /** Answers per first word of the body (the container's hostname). */
  byHost: Map<string, number>;
}

/** `workers` sequential GET loops against 127.0.0.1:port until stop() or `maxMs` passed. */
export function loadLoop(
  port: number,
  workers = 4,
  maxMs = 20_000,
): { stop(): Promise<LoadResult>; readonly result: LoadResult } {
  const result: LoadResult = { ok: 0, failed: 0, errors: [], byHost: new Map() };
  const deadline = Date.now() + maxMs;
  let running = true;
  const loops = Array.from({ length: workers }, async () => {
    while (running && Date.now() < deadline) {
      try {
        const body = await getText(port, '/load');
        result.ok++;
        const host = body.split(' ')[0] ?? '';
        result.byHost.set(host, (result.byHost.get(host) ?? 0) + 1);
      } catch (err) {
        result.failed++;
        if (result.errors.length < 10) result.errors.push((err as Error).message);
      }
    }
  });
  return {
    /** The counts so far, live while the loop runs. */
    result,
    async stop() {
      running = false;
      await Promise.all(loops);
      return result;
    },
  };
}
