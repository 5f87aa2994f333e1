// `herd systemd` end to end: the unit the binary prints, read as systemd reads it, starts a real
// stack when its ExecStart= argv runs as systemd would run it (its WorkingDirectory=, only its
// Environment=), and its ExecStop= argv stops it. Paths with a space and a % on purpose.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { HERD, pidAlive } from '../helpers/e2e.ts';
import { environment, execArgv, parseUnit, specifiers, values } from '../helpers/systemd-syntax.ts';
import { tempDir } from '../helpers/tmp.ts';

const COMPOSE = `
services:
  tick:
    command: ["node", "-e", "console.log(process.env.WHO); setInterval(() => 0, 500)"]
    environment:
      WHO: \${WHO}
    restart: unless-stopped
`;

function run(argv: string[], cwd: string, env: NodeJS.ProcessEnv) {
  const r = spawnSync(argv[0]!, argv.slice(1), { cwd, env, encoding: 'utf8', timeout: 90_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('the printed unit starts the stack with ExecStart= and stops it with ExecStop=', () => {
  const root = tempDir('e2e-systemd');
  const dir = join(root, 'my stack %1');
  mkdirSync(dir);
  writeFileSync(join(dir, 'compose.yaml'), COMPOSE);
  // An env file outside the project folder, named relative to where `herd systemd` runs.
  writeFileSync(join(root, 'boot.env'), 'WHO=booted\n');
  const stateDir = join(root, 'state dir');
  // What the test run needs in every process it starts (its temp dir, its leak marker).
  const harness = {
    HOME: process.env.HOME,
    TMPDIR: process.env.TMPDIR,
    HERD_TEST_RUN: process.env.HERD_TEST_RUN,
    NO_COLOR: '1',
  };
  const shellEnv: NodeJS.ProcessEnv = { ...process.env, HERD_STATE_DIR: stateDir, NO_COLOR: '1' };
  delete shellEnv.COMPOSE_PROJECT_NAME;
  let unitEnv: NodeJS.ProcessEnv = shellEnv;
  try {
    const printed = run(
      [
        process.execPath,
        HERD,
        '-f',
        'my stack %1/compose.yaml',
        '--env-file',
        'boot.env',
        '-p',
        'sysd',
        'systemd',
        '--name',
        'boot-sysd',
      ],
      root,
      shellEnv,
    );
    assert.equal(printed.status, 0, printed.stderr);
    assert.match(printed.stdout, /^# boot-sysd\.service: /);
    const unit = parseUnit(printed.stdout);
    const cwd = specifiers(values(unit, 'Service', 'WorkingDirectory')[0]!);
    assert.equal(cwd, dir);
    unitEnv = { ...environment(values(unit, 'Service', 'Environment')), ...harness };
    assert.equal(unitEnv.HERD_STATE_DIR, stateDir);
    const [start] = values(unit, 'Service', 'ExecStart').map(execArgv);
    const [stop] = values(unit, 'Service', 'ExecStop').map(execArgv);
    assert.deepEqual(start!.slice(2), [
      '-f',
      join(dir, 'compose.yaml'),
      '-p',
      'sysd',
      '--env-file',
      join(root, 'boot.env'),
      'up',
      '-d',
      '--wait',
    ]);

    const up = run(start!, cwd, unitEnv);
    assert.equal(up.status, 0, `${up.stdout}${up.stderr}`);
    const ps = run([process.execPath, HERD, '-p', 'sysd', 'ps', '--format', 'json'], root, unitEnv);
    assert.equal(ps.status, 0, ps.stderr);
    const rows = ps.stdout
      .split('\n')
      .filter((l) => l.trim())
      .map((l) => JSON.parse(l) as { Name: string; State: string; Pid: number });
    assert.deepEqual(
      rows.map((r) => [r.Name, r.State]),
      [['sysd-tick-1', 'running']],
    );
    // The env file given relative to another folder was found: the replica saw its variable.
    const logs = run(
      [process.execPath, HERD, '-p', 'sysd', 'logs', '--no-log-prefix'],
      root,
      unitEnv,
    );
    assert.match(logs.stdout, /^booted$/m);

    const down = run(stop!, cwd, unitEnv);
    assert.equal(down.status, 0, `${down.stdout}${down.stderr}`);
    assert.match(down.stdout, /sysd-tick-1\s+Removed/);
    assert.equal(pidAlive(rows[0]!.Pid), false);
    // Nothing left running: ps lists nothing (and does not wait for a daemon: none is recorded).
    const after = run([process.execPath, HERD, '-p', 'sysd', 'ps', '-q'], root, unitEnv);
    assert.deepEqual([after.status, after.stdout, after.stderr], [0, '', '']);
  } finally {
    run([process.execPath, HERD, '-p', 'sysd', 'down'], root, unitEnv);
  }
});

test('herd systemd refuses a bad --name and a project it cannot load', () => {
  const root = tempDir('e2e-systemd-bad');
  writeFileSync(join(root, 'compose.yaml'), COMPOSE);
  const env = { ...process.env, HERD_STATE_DIR: join(root, 'state') };
  const bad = run([process.execPath, HERD, 'systemd', '--name', 'a b'], root, env);
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--name a b: a unit name is letters, digits/);
  const none = run([process.execPath, HERD, '-f', 'missing.yaml', 'systemd'], root, env);
  assert.equal(none.status, 1);
  assert.match(none.stderr, /missing\.yaml/);
});
