// `herd systemd`'s unit text: it parses as systemd's INI syntax, its command lines split back into
// exactly the arguments herd meant (spaces, quotes, backslashes, % and $ in paths), and
// systemd-analyze verify (the real parser) accepts it without a warning.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execLine, systemdUnit, systemdWord } from '../../src/cli/commands/systemd.ts';
import { isHerdError } from '../../src/util/errors.ts';
import { environment, execArgv, parseUnit, specifiers, values } from '../helpers/systemd-syntax.ts';
import { tempDir } from '../helpers/tmp.ts';

const TRICKY = [
  '/usr/bin/node',
  '/home/a b/herd.js',
  'plain',
  'with "double" quotes',
  "with 'single' quotes",
  'back\\slash\\',
  '100% done %n %%',
  '$HOME ${PATH} $$ $',
  ';',
  '',
  'ünïcode ✔',
  '-leading-dash',
  '@at',
];

describe('systemd quoting', () => {
  it('an ExecStart line splits back into the same arguments', () => {
    assert.deepEqual(execArgv(execLine(TRICKY)), TRICKY);
  });

  it('plain arguments stay bare; others are quoted', () => {
    assert.equal(
      execLine(['/usr/bin/node', '-p', 'shop', 'up', '-d']),
      '/usr/bin/node -p shop up -d',
    );
    assert.equal(systemdWord('/a b/c'), '"/a b/c"');
    assert.equal(systemdWord('50%'), '50%%');
    assert.equal(systemdWord('$x'), '$$x');
    assert.equal(systemdWord('$x', { env: true }), '$x');
  });

  it('an Environment= value with spaces, quotes and % reads back as set', () => {
    const value = 'HERD_STATE_DIR=/tmp/a b/"x" 100% $y \\z';
    assert.deepEqual(environment([systemdWord(value, { env: true })]), {
      HERD_STATE_DIR: '/tmp/a b/"x" 100% $y \\z',
    });
  });

  it('refuses a control character, which no unit line can hold', () => {
    for (const bad of ['a\nb', 'tab\there', '\x7f'])
      assert.throws(
        () => systemdWord(bad),
        (err: unknown) =>
          isHerdError(err, 'INVALID_ARGUMENT') && /control character/.test(err.message),
      );
  });
});

describe('systemdUnit', () => {
  const dir = join(tempDir('systemd'), 'my stack 100%');
  mkdirSync(dir);
  const compose = join(dir, 'compose.yaml');
  writeFileSync(compose, 'services: {}\n');
  const text = systemdUnit({
    project: 'shop',
    workingDir: dir,
    args: ['-f', compose, '-p', 'shop', '--profile', 'web'],
    unitName: 'herd-shop.service',
    env: { PATH: '/usr/bin:/bin', HERD_STATE_DIR: '/tmp/state dir', HOME: '/root' },
  });
  const unit = parseUnit(text);

  it('has the sections and settings of a boot-time user unit', () => {
    assert.deepEqual([...unit.keys()], ['Unit', 'Service', 'Install']);
    assert.deepEqual(values(unit, 'Unit', 'Description'), ['herd stack shop']);
    assert.deepEqual(values(unit, 'Unit', 'After'), ['network-online.target']);
    assert.deepEqual(values(unit, 'Service', 'Type'), ['oneshot']);
    assert.deepEqual(values(unit, 'Service', 'RemainAfterExit'), ['yes']);
    assert.deepEqual(values(unit, 'Install', 'WantedBy'), ['default.target']);
    assert.deepEqual(values(unit, 'Service', 'WorkingDirectory').map(specifiers), [dir]);
    // Only the variables that matter, not the whole environment.
    assert.deepEqual(environment(values(unit, 'Service', 'Environment')), {
      HERD_STATE_DIR: '/tmp/state dir',
      PATH: '/usr/bin:/bin',
    });
    assert.match(
      text,
      /^# +systemctl --user daemon-reload && systemctl --user enable --now herd-shop\.service$/m,
    );
    assert.match(text, /^# +loginctl enable-linger/m);
  });

  it('runs `up -d --wait` and `down` with the same arguments, node and herd absolute', () => {
    const start = values(unit, 'Service', 'ExecStart').map(execArgv);
    const stop = values(unit, 'Service', 'ExecStop').map(execArgv);
    const head = [process.execPath, start[0]![1]!, '-f', compose, '-p', 'shop', '--profile', 'web'];
    assert.match(head[1]!, /^\/.*\/bin\/herd\.js$/);
    assert.deepEqual(start, [[...head, 'up', '-d', '--wait']]);
    assert.deepEqual(stop, [[...head, 'down']]);
  });

  it('passes systemd-analyze verify without a word', () => {
    const file = join(tempDir('systemd-unit'), 'herd-shop.service');
    writeFileSync(file, text);
    const r = spawnSync('systemd-analyze', ['verify', '--man=no', file], { encoding: 'utf8' });
    assert.equal(r.error, undefined, 'systemd-analyze is missing (Debian package systemd)');
    assert.equal(r.stderr + r.stdout, '');
    assert.equal(r.status, 0);
  });
});
