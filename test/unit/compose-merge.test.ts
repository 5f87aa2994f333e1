import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { loadProject } from '../../src/compose/load.ts';
import { isValidProjectName, normalizeProjectName } from '../../src/compose/names.ts';
import { tempDir } from '../helpers/tmp.ts';

const fixtures = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'compose',
);

describe('merging files', () => {
  it('merges the override file with Compose rules', async () => {
    const dir = path.join(fixtures, 'merge');
    // No -f: compose.yaml and compose.override.yaml are both picked up, as Compose does.
    const p = await loadProject({ cwd: dir, env: {}, profiles: [] });
    assert.deepEqual(p.composeFiles, [
      path.join(dir, 'compose.yaml'),
      path.join(dir, 'compose.override.yaml'),
    ]);
    const web = p.services.web;
    assert.ok(web);
    assert.deepEqual(web.command, ['npm', 'start'], 'command replaces');
    assert.deepEqual(
      web.ports.map((x) => `${x.published?.start ?? ''}:${x.target}`),
      ['8000:8000', ':9000', '8443:443'],
      'ports append, duplicates dropped',
    );
    assert.deepEqual(
      web.expose.map((e) => e.port),
      [3000, 3001],
      'expose appends',
    );
    assert.deepEqual(
      web.environment,
      { A: 'base', B: 'override', C: 'added' },
      'list and map merge by key',
    );
    assert.deepEqual(web.labels, { tier: 'front', debug: '1' });
    assert.deepEqual(
      web.healthcheck?.test,
      { kind: 'shell', command: 'curl localhost' },
      'healthcheck.test replaces',
    );
    assert.equal(web.healthcheck?.intervalMs, 10000, 'other healthcheck keys merge');
    assert.deepEqual(
      web.volumes.map((v) => `${path.relative(dir, v.source ?? '')}:${v.target}`),
      ['b:/data', 'logs:/logs'],
      'volumes merge by target',
    );
    assert.deepEqual(Object.keys(web.dependsOn), ['db', 'cache'], 'depends_on list and map merge');
    assert.deepEqual(web.restart, { condition: 'always' });
    assert.equal(p.services.db?.image, 'postgres:16');
    assert.deepEqual(p.services.db?.profiles, [], '!reset clears profiles');
    assert.equal(p.services.db?.herd.lb.algorithm, 'least_conn', 'mappings merge');
    assert.equal(p.name, 'merged');
  });

  it('-f files merge in the given order', async () => {
    const dir = path.join(fixtures, 'merge');
    const p = await loadProject({
      cwd: dir,
      env: {},
      files: ['compose.override.yaml', 'compose.yaml'],
      profiles: ['db'],
    });
    assert.deepEqual(p.services.web?.command, ['node', 'server.js']);
    assert.equal(p.services.db?.image, 'postgres');
    assert.deepEqual(p.services.db?.profiles, ['db']);
  });

  it('COMPOSE_FILE stands in for -f', async () => {
    const dir = path.join(fixtures, 'merge');
    const p = await loadProject({
      cwd: dir,
      env: { COMPOSE_FILE: 'compose.yaml' },
      profiles: ['db'],
    });
    assert.deepEqual(p.composeFiles, [path.join(dir, 'compose.yaml')]);
    assert.deepEqual(p.services.web?.command, ['node', 'server.js']);
  });
});

describe('merge details', () => {
  it('entrypoint replaces, other lists append, !override replaces whole values', async () => {
    const dir = tempDir('merge');
    await writeFile(
      path.join(dir, 'a.yaml'),
      'services:\n  s:\n    image: x\n    entrypoint: [a, b]\n    profiles: [p1]\n    dns: [1.1.1.1]\n    ports: ["80:80"]\n    environment: {A: "1", B: "2"}\n',
    );
    await writeFile(
      path.join(dir, 'b.yaml'),
      'services:\n  s:\n    entrypoint: [c]\n    profiles: [p2]\n    dns: [8.8.8.8, 1.1.1.1]\n    ports: !override ["81:81"]\n    environment: !override {C: "3"}\n',
    );
    const p = await loadProject({
      cwd: dir,
      env: {},
      files: ['a.yaml', 'b.yaml'],
      profiles: ['p1'],
    });
    const s = p.services.s;
    assert.deepEqual(s?.entrypoint, ['c']);
    assert.deepEqual(s?.profiles, ['p1', 'p2']);
    assert.deepEqual(
      s?.ports.map((x) => x.target),
      [81],
    );
    assert.deepEqual(s?.environment, { C: '3' });
    assert.ok(p.warnings.some((w) => w.includes('`dns`')));
  });
});

describe('extends', () => {
  it('same file and file: forms', async () => {
    const p = await loadProject({ cwd: path.join(fixtures, 'extends'), env: {} });
    assert.deepEqual(p.services.app?.environment, { LEVEL: 'base', EXTRA: '1' });
    assert.deepEqual(p.services.app?.command, ['run']);
    assert.equal(p.services.app?.image, 'base');
    assert.deepEqual(p.services.remote?.command, ['work', '--fast']);
    assert.deepEqual(p.services.remote?.restart, { condition: 'on-failure', maxAttempts: 3 });
    assert.deepEqual(p.services.remote?.environment, { ROLE: 'worker' });
  });

  it('relative paths of a service from another folder stay relative to that folder', async () => {
    const dir = path.join(fixtures, 'extends');
    const p = await loadProject({ cwd: dir, env: {} });
    const tool = p.services.tool;
    assert.deepEqual(tool?.environment, { TOOL: 'from-sub' });
    assert.equal(tool?.build?.context, path.join(dir, 'sub'));
    assert.equal(tool?.volumes[0]?.source, path.join(dir, 'sub', 'cache'));
  });

  it('an extends cycle and an unknown base are errors', async () => {
    const dir = tempDir('ext');
    await writeFile(
      path.join(dir, 'compose.yaml'),
      'services:\n  a:\n    extends: b\n  b:\n    extends: a\n  c:\n    extends: nope\n',
    );
    await assert.rejects(loadProject({ cwd: dir, env: {} }), (err: Error) => {
      assert.match(
        err.message,
        /compose\.yaml:3:5: services\.a\.extends: extends cycle: a -> b -> a/,
      );
      assert.match(
        err.message,
        /compose\.yaml:7:14: services\.c\.extends: extends unknown service "nope"/,
      );
      return true;
    });
  });
});

describe('project name', () => {
  async function dirNamed(name: string, body = 'services: {}\n'): Promise<string> {
    const dir = path.join(tempDir('name'), name);
    await mkdir(dir);
    await writeFile(path.join(dir, 'compose.yaml'), body);
    return dir;
  }

  it('normalizes the folder name', async () => {
    assert.equal(
      (await loadProject({ cwd: await dirNamed('My.App Folder'), env: {} })).name,
      'myappfolder',
    );
    assert.equal((await loadProject({ cwd: await dirNamed('_Under'), env: {} })).name, 'under');
    assert.equal(normalizeProjectName('-x_Y-1'), 'x_y-1');
  });

  it('precedence: -p, COMPOSE_PROJECT_NAME, name:, folder', async () => {
    const dir = await dirNamed('folder', 'name: fromfile\nservices: {}\n');
    assert.equal((await loadProject({ cwd: dir, env: {} })).name, 'fromfile');
    assert.equal(
      (await loadProject({ cwd: dir, env: { COMPOSE_PROJECT_NAME: 'fromenv' } })).name,
      'fromenv',
    );
    assert.equal(
      (
        await loadProject({
          cwd: dir,
          env: { COMPOSE_PROJECT_NAME: 'fromenv' },
          projectName: 'flag',
        })
      ).name,
      'flag',
    );
    await writeFile(path.join(dir, '.env'), 'COMPOSE_PROJECT_NAME=dotenv\n');
    assert.equal((await loadProject({ cwd: dir, env: {} })).name, 'dotenv');
  });

  it('an explicit invalid name is an error', async () => {
    const dir = await dirNamed('ok', 'name: Bad\nservices: {}\n');
    await assert.rejects(
      loadProject({ cwd: dir, env: {}, projectName: 'Bad Name' }),
      /invalid project name "Bad Name" given with -p/,
    );
    await assert.rejects(
      loadProject({ cwd: dir, env: {} }),
      /compose\.yaml:1:7: name: invalid project name "Bad"/,
    );
    assert.equal(isValidProjectName('a-b_c1'), true);
    assert.equal(isValidProjectName('-a'), false);
  });

  it('finds the compose file in a parent folder', async () => {
    const dir = await dirNamed('parent');
    const child = path.join(dir, 'sub', 'deeper');
    await mkdir(child, { recursive: true });
    const p = await loadProject({ cwd: child, env: {} });
    assert.equal(p.workingDir, dir);
    assert.equal(p.name, 'parent');
  });
});

describe('profiles', () => {
  const body = [
    'services:',
    '  web:',
    '    image: x',
    '  debug:',
    '    image: x',
    '    profiles: [dev]',
    '  admin:',
    '    image: x',
    '    profiles: [ops, dev]',
    '    depends_on: [tools]',
    '  tools:',
    '    image: x',
    '    profiles: [tools]',
  ].join('\n');
  async function names(opts: {
    profiles?: string[];
    enableServices?: string[];
    env?: Record<string, string>;
  }): Promise<string[]> {
    const dir = tempDir('prof');
    await writeFile(path.join(dir, 'compose.yaml'), body);
    return Object.keys((await loadProject({ cwd: dir, env: opts.env ?? {}, ...opts })).services);
  }

  it('services with profiles are off by default', async () => {
    assert.deepEqual(await names({}), ['web']);
  });
  it('enabled by --profile, COMPOSE_PROFILES or *', async () => {
    assert.deepEqual(await names({ profiles: ['dev', 'tools'] }), [
      'web',
      'debug',
      'admin',
      'tools',
    ]);
    assert.deepEqual(await names({ env: { COMPOSE_PROFILES: 'dev, tools' } }), [
      'web',
      'debug',
      'admin',
      'tools',
    ]);
    assert.deepEqual(await names({ profiles: ['*'] }), ['web', 'debug', 'admin', 'tools']);
  });
  it('a dependency disabled by its profile is a clear error', async () => {
    await assert.rejects(
      names({ profiles: ['ops'] }),
      /compose\.yaml:10:18: services\.admin\.depends_on\.tools: depends on service "tools" is disabled by its profiles \(tools\); enable one with --profile/,
    );
  });
  it('naming a service enables it and its dependencies', async () => {
    assert.deepEqual(await names({ enableServices: ['admin'] }), ['web', 'admin', 'tools']);
    await assert.rejects(names({ enableServices: ['nope'] }), /no such service: nope/);
  });
});
