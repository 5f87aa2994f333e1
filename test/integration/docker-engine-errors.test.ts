// No engine at the configured address: every entry point says which service needed Docker and
// how to point herd at an engine, instead of a raw socket error.
import assert from 'node:assert/strict';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { connectDocker, dockerClient } from '../../src/runtime/docker/connect.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import { createRuntimes } from '../../src/runtime/choose.ts';
import { HerdError } from '../../src/util/errors.ts';
import { specFor, testProject, testService } from '../helpers/docker-project.ts';
import { tempDir } from '../helpers/tmp.ts';

const dir = tempDir('dead-engine');
const missingSocket = join(dir, 'missing.sock');
// A path that exists but where nothing listens (a stale socket file left by a dead daemon).
const deadSocket = join(dir, 'dead.sock');
writeFileSync(deadSocket, '');

after(() => rmSync(dir, { recursive: true, force: true }));

function pointsAtEngineSettings(err: unknown, address: string): boolean {
  return (
    err instanceof HerdError &&
    err.message.includes(`no Docker engine answered at ${address}`) &&
    err.message.includes('DOCKER_HOST=') &&
    err.message.includes('/var/run/docker.sock')
  );
}

describe('no Docker engine', () => {
  for (const socket of [missingSocket, deadSocket]) {
    it(`connectDocker fails clearly for ${socket.endsWith('dead.sock') ? 'a dead' : 'a missing'} socket`, async () => {
      await assert.rejects(
        connectDocker({
          env: { DOCKER_HOST: `unix://${socket}` },
          neededBy: { service: 'api', what: 'image nginx' },
        }),
        (err: unknown) =>
          pointsAtEngineSettings(err, `unix://${socket}`) &&
          (err as Error).message.startsWith('service "api" (image nginx) needs a Docker engine'),
      );
    });
  }

  it('connectDocker fails clearly for a tcp port on loopback where nothing listens', async () => {
    const net = await import('node:net');
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    await new Promise((r) => server.close(r));
    await assert.rejects(
      connectDocker({ env: { DOCKER_HOST: `tcp://127.0.0.1:${port}` } }),
      (err: unknown) => pointsAtEngineSettings(err, `tcp://127.0.0.1:${port}`),
    );
  });

  it('DockerRuntime.start and prepare name the service when the engine is gone', async () => {
    const address = `unix://${deadSocket}`;
    const project = testProject('herddead', [
      testService('db', { image: 'postgres:16', command: ['postgres'] }),
    ]);
    const runtime = new DockerRuntime({
      docker: dockerClient({ kind: 'unix', socketPath: deadSocket }),
      project,
    });
    const check = (err: unknown) =>
      pointsAtEngineSettings(err, address) &&
      (err as Error).message.startsWith('service "db" (image postgres:16) needs a Docker engine');
    await assert.rejects(runtime.start(specFor(project, 'db')), check);
    await assert.rejects(runtime.prepare(), check);
    runtime.close();
  });

  it('createRuntimes refuses a project with Docker services before anything starts', async () => {
    const project = testProject('herddead', [
      testService('web', { command: ['node', 'app.js'] }),
      testService('db', { image: 'postgres:16' }),
      testService('cache', { image: 'redis:7', command: ['redis-server'] }),
    ]);
    await assert.rejects(
      createRuntimes(project, { env: { DOCKER_HOST: `unix://${missingSocket}` } }),
      (err: unknown) =>
        pointsAtEngineSettings(err, `unix://${missingSocket}`) &&
        (err as Error).message.startsWith(
          'service "db" (image postgres:16; also needed by cache) needs a Docker engine',
        ),
    );
  });

  it('createRuntimes refuses x-herd.runtime docker without an image to run', async () => {
    const web = testService('web', {
      command: ['node', 'app.js'],
      herd: { ...testService('x').herd, runtime: 'docker' },
    });
    await assert.rejects(
      createRuntimes(testProject('herdnoimage', [web]), {
        env: { DOCKER_HOST: `unix://${missingSocket}` },
      }),
      /service "web" has x-herd: \{runtime: docker\} but no image to run: add `image:`/,
    );
  });

  it('createRuntimes needs no engine for a project of processes only', async () => {
    const web = testService('web', { command: ['node', 'app.js'] });
    const runtimes = await createRuntimes(testProject('herdproc', [web]), {
      env: { DOCKER_HOST: `unix://${missingSocket}` },
    });
    // The process runtime, given the project's secret and config files (runtime/files.ts).
    assert.equal(runtimes.forService(web).kind, 'process');
    assert.equal(runtimes.docker, undefined);
    await runtimes.down({ volumes: true });
    await runtimes.close();
  });

  it('rejects a DOCKER_HOST it cannot use', async () => {
    await assert.rejects(
      connectDocker({ env: { DOCKER_HOST: 'ssh://user@host' } }),
      /DOCKER_HOST=ssh:\/\/user@host is not supported/,
    );
    await assert.rejects(
      connectDocker({ env: { DOCKER_HOST: 'tcp://127.0.0.1:2376', DOCKER_TLS_VERIFY: '1' } }),
      /does not speak TLS/,
    );
  });
});
