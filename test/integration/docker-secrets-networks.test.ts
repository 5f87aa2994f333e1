// Secrets, configs and networks from a compose file, on a real engine: a `file:` secret is at
// /run/secrets/<name> (read-only), an `environment:` secret and a `content:` config are copied to
// their targets with their modes, declared networks are created (internal ones too) and joined
// with their aliases, and a service outside a network cannot reach it.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type Dockerode from 'dockerode';
import { loadProject } from '../../src/compose/load.ts';
import type { Project } from '../../src/compose/model.ts';
import { DockerRuntime } from '../../src/runtime/docker/runtime.ts';
import type { OutputStream, ReplicaHandle } from '../../src/runtime/types.ts';
import { ensureDockerd } from '../helpers/dockerd.ts';
import { BUSYBOX_IMAGE, ensureBusyboxImage } from '../helpers/docker-images.ts';
import { specFor, uniqueProjectName } from '../helpers/docker-project.ts';
import { tempDir } from '../helpers/tmp.ts';

let docker: Dockerode;
const cleanups: Array<() => Promise<unknown>> = [];

before(async () => {
  ({ docker } = await ensureDockerd());
  await ensureBusyboxImage(docker);
});

after(async () => {
  for (const cleanup of cleanups) await cleanup();
});

async function load(compose: string, files: Record<string, string> = {}): Promise<Project> {
  const dir = tempDir('dsec');
  writeFileSync(join(dir, 'compose.yaml'), compose);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return loadProject({ cwd: dir, env: { API_KEY: 'from-the-environment' } });
}

function runtimeFor(project: Project): DockerRuntime {
  const runtime = new DockerRuntime({ docker, project });
  cleanups.push(async () => {
    runtime.close();
    await runtime.removeProject({ volumes: true });
  });
  return runtime;
}

async function output(handle: ReplicaHandle): Promise<{ code: number; lines: string[] }> {
  const lines: string[] = [];
  handle.onOutput((s: OutputStream, l: string) => lines.push(`${s === 'stderr' ? '! ' : ''}${l}`));
  const { exitCode, startError } = await handle.exited;
  assert.equal(startError, undefined);
  return { code: exitCode, lines };
}

describe('secrets and configs in containers', () => {
  it('are files at /run/secrets/<name> and at the config targets, with their modes', async () => {
    const name = uniqueProjectName('herdsec');
    const project = await load(
      [
        `name: ${name}`,
        'services:',
        '  app:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    command:',
        '      - sh',
        '      - -c',
        '      - >-',
        '        cat /run/secrets/token /run/secrets/api_key /etc/app.conf /settings &&',
        '        stat -c "%a %u" /run/secrets/api_key /etc/app.conf &&',
        '        ((echo x > /run/secrets/token) 2>/dev/null && echo writable || echo read-only)',
        '    secrets: [token, {source: key, target: api_key, mode: 0440, uid: "7"}]',
        '    configs: [{source: inline, target: /etc/app.conf}, settings]',
        'secrets:',
        '  token: {file: ./token.txt}',
        '  key: {environment: API_KEY}',
        'configs:',
        '  inline: {content: "project ${COMPOSE_PROJECT_NAME}"}',
        '  settings: {file: ./settings.ini}',
        '',
      ].join('\n'),
      { 'token.txt': 'tok-123\n', 'settings.ini': 'a=1\n' },
    );
    const runtime = runtimeFor(project);
    const { code, lines } = await output(await runtime.start(specFor(project, 'app')));
    assert.equal(code, 0, lines.join('\n'));
    assert.deepEqual(lines, [
      'tok-123',
      `from-the-environmentproject ${name}a=1`,
      '440 7',
      '444 0',
      'read-only',
    ]);
  });
});

describe('networks in containers', () => {
  it('joins the declared networks with their aliases; others cannot reach them', async () => {
    const name = uniqueProjectName('herdnets');
    const project = await load(
      [
        `name: ${name}`,
        'services:',
        '  db:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    command: ["httpd", "-f", "-p", "8080", "-h", "/etc"]',
        '    stop_grace_period: 1s',
        '    networks:',
        '      back: {aliases: [database]}',
        '  api:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    command: ["sh", "-c", "for i in $$(seq 50); do wget -qO- http://database:8080/greeting && exit 0; sleep 0.1; done; exit 1"]',
        '    networks: [back, front]',
        '  outsider:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    command: ["sh", "-c", "wget -T 2 -qO- http://database:8080/greeting && exit 0; exit 3"]',
        'networks:',
        '  back: {internal: true}',
        '  front:',
        '',
      ].join('\n'),
    );
    const runtime = runtimeFor(project);
    await runtime.start(specFor(project, 'db'));
    const api = await output(await runtime.start(specFor(project, 'api')));
    assert.equal(api.code, 0, api.lines.join('\n'));
    assert.deepEqual(api.lines, ['hello']);
    const outsider = await output(await runtime.start(specFor(project, 'outsider')));
    assert.equal(outsider.code, 3, outsider.lines.join('\n'));

    const back = await docker.getNetwork(`${name}_back`).inspect();
    assert.equal(back.Internal, true);
    assert.equal(back.Labels?.['com.docker.compose.network'], 'back');
    const apiInfo = await docker.getContainer(`${name}-api-1`).inspect();
    assert.deepEqual(Object.keys(apiInfo.NetworkSettings.Networks).sort(), [
      `${name}_back`,
      `${name}_front`,
    ]);
    const outsiderInfo = await docker.getContainer(`${name}-outsider-1`).inspect();
    assert.deepEqual(Object.keys(outsiderInfo.NetworkSettings.Networks), [`${name}_default`]);
  });

  it('an external network must exist, and is named by its key', async () => {
    const name = uniqueProjectName('herdext');
    const project = await load(
      [
        `name: ${name}`,
        'services:',
        '  app:',
        `    image: ${BUSYBOX_IMAGE}`,
        '    command: ["true"]',
        '    networks: [shared]',
        'networks:',
        `  shared: {external: true, name: ${name}-shared}`,
        '',
      ].join('\n'),
    );
    const runtime = runtimeFor(project);
    await assert.rejects(
      runtime.start(specFor(project, 'app')),
      new RegExp(
        `network "shared" is declared external, but Docker network ${name}-shared does not exist`,
      ),
    );
  });
});
