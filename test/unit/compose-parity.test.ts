// Loader rules taken from Compose's documented behaviour (the Compose specification and
// compose-go's loader tests): the project name in interpolation, COMPOSE_FILE from .env,
// undefined references, extends across files, include, and env files of unselected services.
import assert from 'node:assert/strict';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, it } from 'node:test';
import { ComposeError } from '../../src/compose/errors.ts';
import { loadProject, type LoadOptions } from '../../src/compose/load.ts';
import { tempDir } from '../helpers/tmp.ts';

async function project(files: Record<string, string>): Promise<string> {
  const dir = tempDir('parity');
  for (const [name, text] of Object.entries(files)) {
    await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
    await writeFile(path.join(dir, name), text);
  }
  return dir;
}

async function problems(opts: LoadOptions): Promise<string[]> {
  try {
    await loadProject(opts);
  } catch (err) {
    assert.ok(err instanceof ComposeError, `expected ComposeError, got ${String(err)}`);
    return err.problems.map((p) =>
      [p.pos ? `${p.pos.file}:${p.pos.line}:${p.pos.col}` : '', p.path, p.message].join(' | '),
    );
  }
  return assert.fail('expected the load to fail');
}

const web = 'services:\n  web:\n    command: ["node", "app.js"]\n';

describe('COMPOSE_PROJECT_NAME in interpolation', () => {
  const file = web + '    environment:\n      P: "${COMPOSE_PROJECT_NAME}-x"\n';

  it('is the folder name when nothing else names the project', async () => {
    const dir = await project({ 'compose.yaml': file });
    const p = await loadProject({ cwd: dir, env: {} });
    assert.equal(p.services.web?.environment.P, `${p.name}-x`);
    assert.equal(
      p.name,
      path
        .basename(dir)
        .toLowerCase()
        .replace(/[^a-z0-9_-]/g, ''),
    );
    assert.deepEqual(p.warnings, []);
  });

  it('is the top-level name:, -p, or COMPOSE_PROJECT_NAME from .env', async () => {
    const dir = await project({ 'compose.yaml': 'name: fromfile\n' + file });
    assert.equal(
      (await loadProject({ cwd: dir, env: {} })).services.web?.environment.P,
      'fromfile-x',
    );
    const p = await loadProject({ cwd: dir, env: {}, projectName: 'flag' });
    assert.equal(p.services.web?.environment.P, 'flag-x');
    await writeFile(path.join(dir, '.env'), 'COMPOSE_PROJECT_NAME=dotenv\n');
    const q = await loadProject({ cwd: dir, env: {} });
    assert.equal(q.name, 'dotenv');
    assert.equal(q.services.web?.environment.P, 'dotenv-x');
  });

  it('the name: itself is interpolated from the environment', async () => {
    const dir = await project({ 'compose.yaml': 'name: "app-${STAGE}"\n' + file });
    const p = await loadProject({ cwd: dir, env: { STAGE: 'prod' } });
    assert.equal(p.name, 'app-prod');
    assert.equal(p.services.web?.environment.P, 'app-prod-x');
  });
});

describe('COMPOSE_FILE in .env', () => {
  const files = {
    'compose.yaml': 'services:\n  decoy:\n    command: ["node", "d.js"]\n',
    'a.yaml': web + '    environment:\n      A: "1"\n',
    'b.yaml': 'services:\n  web:\n    environment:\n      B: "2"\n  worker:\n    command: ["w"]\n',
  };

  it('selects and merges the files it lists, instead of compose.yaml', async () => {
    const dir = await project({ ...files, '.env': 'COMPOSE_FILE=a.yaml:b.yaml\n' });
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(Object.keys(p.services), ['web', 'worker']);
    assert.deepEqual(p.services.web?.environment, { A: '1', B: '2' });
    assert.deepEqual(p.composeFiles, [path.join(dir, 'a.yaml'), path.join(dir, 'b.yaml')]);
  });

  it('splits on COMPOSE_PATH_SEPARATOR; the shell wins over .env; -f over both', async () => {
    const dir = await project({
      ...files,
      '.env': 'COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=a.yaml;b.yaml\n',
    });
    assert.deepEqual(Object.keys((await loadProject({ cwd: dir, env: {} })).services), [
      'web',
      'worker',
    ]);
    const shell = await loadProject({ cwd: dir, env: { COMPOSE_FILE: 'a.yaml' } });
    assert.deepEqual(Object.keys(shell.services), ['web']);
    const flag = await loadProject({ cwd: dir, env: {}, files: ['compose.yaml'] });
    assert.deepEqual(Object.keys(flag.services), ['decoy']);
  });
});

describe('undefined references', () => {
  it('a named volume, secret, config or network not declared at the top level is an error', async () => {
    const dir = await project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    volumes: ["data:/data", "./src:/src", "/abs:/abs", "/anon"]',
        '    secrets: [token, {source: key}]',
        '    configs: [conf]',
        '    networks: [front, default]',
        'secrets:',
        '  key: {file: ./key}',
        '',
      ].join('\n'),
    });
    assert.deepEqual(await problems({ cwd: dir, env: {} }), [
      'compose.yaml:4:15 | services.web.volumes[0] | service "web" refers to undefined volume "data": declare it under the top-level `volumes:`',
      'compose.yaml:5:15 | services.web.secrets[0] | service "web" refers to undefined secret "token": declare it under the top-level `secrets:`',
      'compose.yaml:6:15 | services.web.configs[0] | service "web" refers to undefined config "conf": declare it under the top-level `configs:`',
      'compose.yaml:7:16 | services.web.networks[0] | service "web" refers to undefined network "front": declare it under the top-level `networks:`',
    ]);
  });

  it('long-syntax volumes and network maps are checked too; declared ones pass', async () => {
    const bad = await project({
      'compose.yaml':
        web +
        '    volumes:\n      - {type: volume, source: cache, target: /c}\n    networks:\n      back: {}\n',
    });
    const lines = await problems({ cwd: bad, env: {} });
    assert.equal(lines.length, 2);
    assert.match(lines[0] ?? '', /^compose\.yaml:5:9 \| .*undefined volume "cache"/);
    assert.match(
      lines[1] ?? '',
      /^compose\.yaml:7:7 \| services\.web\.networks\.back \| .*undefined network "back"/,
    );
    const good = await project({
      'compose.yaml':
        web +
        '    volumes:\n      - {type: volume, source: cache, target: /c}\n    networks:\n      back: {}\n' +
        'volumes:\n  cache:\nnetworks:\n  back:\n',
    });
    await loadProject({ cwd: good, env: {} });
  });

  it('":/data" (an empty source) is invalid, as Compose says', async () => {
    const dir = await project({ 'compose.yaml': web + '    volumes: [":/data"]\n' });
    assert.deepEqual(await problems({ cwd: dir, env: {} }), [
      'compose.yaml:4:15 | services.web.volumes[0] | invalid volume ":/data": empty section between colons',
    ]);
  });
});

describe('extends from another file', () => {
  it('keeps depends_on, and the dependency must exist in the project', async () => {
    const base =
      'services:\n  base:\n    command: ["node", "b.js"]\n    depends_on: [db]\n  db:\n    command: ["db"]\n';
    const dir = await project({
      'common/base.yaml': base,
      'compose.yaml': 'services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n',
    });
    const lines = await problems({ cwd: dir, env: {} });
    assert.equal(lines.length, 1);
    assert.match(
      lines[0] ?? '',
      /base\.yaml:4:18 \| services\.web\.depends_on\.db \| depends on service "db" is not defined/,
    );
    await writeFile(
      path.join(dir, 'compose.yaml'),
      'services:\n  web:\n    extends: {file: common/base.yaml, service: base}\n  db:\n    command: ["db"]\n',
    );
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(Object.keys(p.services.web?.dependsOn ?? {}), ['db']);
  });
});

describe('include', () => {
  it('short syntax: the included services join, their paths relative to their own folder', async () => {
    const dir = await project({
      'compose.yaml': 'include:\n  - lib/db.yaml\n' + web + '    depends_on: [db]\n',
      'lib/db.yaml':
        'services:\n  db:\n    command: ["db"]\n    env_file: db.env\n    working_dir: .\n    volumes: ["./data:/data"]\n',
      'lib/db.env': 'DB=yes\n',
    });
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(Object.keys(p.services).sort(), ['db', 'web']);
    assert.equal(p.services.db?.environment.DB, 'yes');
    assert.equal(p.services.db?.volumes[0]?.source, path.join(dir, 'lib', 'data'));
    // A process from the included application runs in that application's folder.
    assert.equal(p.services.db?.workingDir, path.join(dir, 'lib'));
    assert.equal(p.services.web?.workingDir, undefined);
  });

  it('long syntax: project_directory, env_file (the including environment wins), overrides', async () => {
    const dir = await project({
      'compose.yaml': [
        'include:',
        '  - path: [sub/compose.yaml, sub/override.yaml]',
        '    project_directory: sub',
        '    env_file: inc.env',
        'services: {}',
        '',
      ].join('\n'),
      'inc.env': 'TAG=fromfile\nOTHER=fromfile\n',
      'sub/compose.yaml':
        'services:\n  api:\n    command: ["api", "${TAG}", "${OTHER}", "${COMPOSE_PROJECT_NAME}"]\n',
      'sub/override.yaml': 'services:\n  api:\n    environment: {O: "1"}\n',
    });
    const p = await loadProject({ cwd: dir, env: { OTHER: 'shell' }, projectName: 'proj' });
    assert.deepEqual(p.services.api?.command, ['api', 'fromfile', 'shell', 'proj']);
    assert.deepEqual(p.services.api?.environment, { O: '1' });
    assert.equal(p.services.api?.workingDir, path.join(dir, 'sub'));
  });

  it('the included .env is the default env file; conflicts and cycles are errors', async () => {
    const dir = await project({
      'compose.yaml': 'include: [sub/compose.yaml]\n' + web,
      'sub/.env': 'X=fromsubdotenv\n',
      'sub/compose.yaml': 'services:\n  api:\n    command: ["api", "$X"]\n',
    });
    const p = await loadProject({ cwd: dir, env: {} });
    assert.deepEqual(p.services.api?.command, ['api', 'fromsubdotenv']);
    await writeFile(path.join(dir, 'sub/compose.yaml'), web.replace('app.js', 'other.js'));
    const conflict = await problems({ cwd: dir, env: {} });
    assert.match(
      conflict[0] ?? '',
      /services\.web \| conflicts with the service of that name in the included .*sub\/compose\.yaml/,
    );
    await writeFile(
      path.join(dir, 'sub/compose.yaml'),
      'include: [../compose.yaml]\nservices: {}\n',
    );
    const cycle = await problems({ cwd: dir, env: {} });
    assert.match(
      cycle[0] ?? '',
      /include \| include cycle: compose\.yaml -> sub\/compose\.yaml -> compose\.yaml/,
    );
  });
});

describe('env files of services that were not asked for', () => {
  it('a missing env_file of another service does not fail a load of the named ones', async () => {
    const dir = await project({
      'compose.yaml': web + '  other:\n    command: ["o"]\n    env_file: missing.env\n',
    });
    const p = await loadProject({ cwd: dir, env: {}, enableServices: ['web'] });
    assert.ok(p.services.web);
    const all = await problems({ cwd: dir, env: {} });
    assert.match(all[0] ?? '', /services\.other\.env_file \| env file .*missing\.env not found/);
    await assert.rejects(
      loadProject({ cwd: dir, env: {}, enableServices: ['other'] }),
      /missing\.env/,
    );
  });
});

describe('secrets, configs and networks', () => {
  const file = [
    'services:',
    '  web:',
    '    image: nginx',
    '    secrets: [token, {source: key, target: api_key, mode: 0440, uid: "7"}]',
    '    configs: [conf, {source: inline, target: /etc/app.conf}]',
    '    networks:',
    '      front: {aliases: [www]}',
    'secrets:',
    '  token: {file: ./token.txt}',
    '  key: {environment: API_KEY}',
    'configs:',
    '  conf: {file: conf.ini}',
    '  inline: {content: "p=${COMPOSE_PROJECT_NAME}"}',
    'networks:',
    '  front: {internal: true}',
    '  ext: {external: true}',
    '',
  ].join('\n');

  it('reads sources, targets (/run/secrets/<name>, /<name>), modes and network aliases', async () => {
    const dir = await project({ 'compose.yaml': file });
    const p = await loadProject({ cwd: dir, env: { API_KEY: 'k' }, projectName: 'shop' });
    assert.deepEqual(p.services.web?.secrets, [
      { source: 'token', target: '/run/secrets/token' },
      { source: 'key', target: '/run/secrets/api_key', uid: '7', mode: 0o440 },
    ]);
    assert.deepEqual(p.services.web?.configs, [
      { source: 'conf', target: '/conf' },
      { source: 'inline', target: '/etc/app.conf' },
    ]);
    assert.deepEqual(p.secrets?.token, { external: false, file: path.join(dir, 'token.txt') });
    // The environment's value is there for the runtime, but not printed or serialized.
    assert.equal(p.secrets?.key?.content, 'k');
    assert.equal(JSON.stringify(p.secrets?.key), '{"external":false,"environment":"API_KEY"}');
    assert.equal(p.configs?.inline?.content, 'p=shop');
    assert.deepEqual(p.services.web?.networks, { front: { aliases: ['www'] } });
    assert.deepEqual(p.networks?.front, {
      name: 'shop_front',
      external: false,
      internal: true,
      labels: {},
    });
    assert.equal(p.networks?.ext?.name, 'ext');
    assert.equal(p.networks?.default?.name, 'shop_default');
  });

  it('an unset environment source, a missing source and an external secret are errors', async () => {
    const dir = await project({
      'compose.yaml': [
        'services:',
        '  web:',
        '    image: nginx',
        '    secrets: [a, c]',
        'secrets:',
        '  a: {environment: NOPE}',
        '  b: {}',
        '  c: {external: true}',
        '',
      ].join('\n'),
    });
    assert.deepEqual(await problems({ cwd: dir, env: {} }), [
      'compose.yaml:6:20 | secrets.a.environment | variable NOPE is not set',
      'compose.yaml:7:6 | secrets.b | needs a source: file or environment',
      ' | services.web.secrets | secret "c" is external (kept by Docker Swarm, which herd does not run); give it a `file:` or `environment:` source',
    ]);
  });
});

describe('files named by the compose file are read bounded', () => {
  it('an env_file or an include naming /dev/zero is an error, not a read without end', async () => {
    const dir = await project({
      'compose.yaml': 'include: [/dev/zero]\n' + web + '    env_file: /dev/zero\n',
    });
    const lines = await problems({ cwd: dir, env: {} });
    assert.deepEqual(lines, [
      ' |  | cannot read compose file /dev/zero: /dev/zero is larger than 8 MiB; herd does not read it',
    ]);
    await writeFile(path.join(dir, 'compose.yaml'), web + '    env_file: /dev/zero\n');
    assert.deepEqual(await problems({ cwd: dir, env: {} }), [
      'compose.yaml:4:15 | services.web.env_file | cannot read env file /dev/zero: /dev/zero is larger than 8 MiB; herd does not read it',
    ]);
  });
});
