import assert from 'node:assert/strict';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  rmdirSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveProjectName } from '../../src/daemon/locate.ts';
import { checkOwnFile } from '../../src/daemon/dir-trust.ts';
import { checkSocketPath, ensurePrivateDir, stateDirFor } from '../../src/daemon/paths.ts';
import { tempDir } from '../helpers/tmp.ts';

/** The uid the system calls nobody: the "other user" of these tests (they run as root in CI). */
const NOBODY = 65534;

describe('daemon state dir', () => {
  it('resolves HERD_STATE_DIR, then XDG_STATE_HOME/herd/<project>, then ~/.local/state', () => {
    assert.equal(
      stateDirFor('shop', { HERD_STATE_DIR: '/s', XDG_STATE_HOME: '/x', HOME: '/h' }),
      '/s',
    );
    assert.equal(stateDirFor('shop', { XDG_STATE_HOME: '/x', HOME: '/h' }), '/x/herd/shop');
    assert.equal(stateDirFor('shop', { HOME: '/h' }), '/h/.local/state/herd/shop');
    // The XDG spec says a relative XDG_STATE_HOME is invalid and must be ignored.
    assert.equal(
      stateDirFor('shop', { XDG_STATE_HOME: 'rel', HOME: '/h' }),
      '/h/.local/state/herd/shop',
    );
  });

  it('creates the dir 0700 and tightens an own one that others may read', () => {
    const base = tempDir('paths');
    const fresh = join(base, 'a', 'b');
    ensurePrivateDir(fresh);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    assert.equal(statSync(join(base, 'a')).mode & 0o777, 0o700, 'a parent herd made is 0700 too');
    const readable = join(base, 'readable');
    mkdirSync(readable);
    chmodSync(readable, 0o755);
    ensurePrivateDir(readable);
    assert.equal(statSync(readable).mode & 0o777, 0o700);
  });

  it('refuses an own dir that others can write to, and leaves it as it is', () => {
    const loose = join(tempDir('paths'), 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    assert.throws(
      () => ensurePrivateDir(loose),
      /refusing state dir .*loose: it is writable by other users \(unsafe permissions\) \(owner .*, mode 0777\); .*set HERD_STATE_DIR/,
    );
    assert.equal(statSync(loose).mode & 0o777, 0o777);
  });

  it('refuses a dir owned by another user (nobody, 0777): herd never takes it over', () => {
    const foreign = join(tempDir('paths'), 'foreign');
    mkdirSync(foreign);
    chmodSync(foreign, 0o777);
    chownSync(foreign, NOBODY, NOBODY);
    assert.throws(
      () => ensurePrivateDir(foreign),
      /refusing state dir .*foreign: it is not owned by you \(unsafe ownership\) \(owner nobody \(uid 65534\), mode 0777\)/,
    );
    assert.equal(lstatSync(foreign).uid, NOBODY, 'still theirs');
    // …and a state dir inside a folder another user owns.
    assert.throws(
      () => ensurePrivateDir(join(foreign, 'state')),
      /refusing state dir under .*foreign: that folder is owned by another user/,
    );
  });

  it('refuses a state dir that is a symbolic link, even to a dir of its own', () => {
    const base = tempDir('paths');
    mkdirSync(join(base, 'real'), { mode: 0o700 });
    symlinkSync(join(base, 'real'), join(base, 'link'));
    assert.throws(() => ensurePrivateDir(join(base, 'link')), /it is a symbolic link/);
  });

  it('refuses a dir replaced by a symlink between its mkdir and the check (a race)', () => {
    const base = tempDir('paths');
    const elsewhere = join(base, 'attacker');
    mkdirSync(elsewhere, { mode: 0o700 });
    const dir = join(base, 'state');
    assert.throws(
      () =>
        ensurePrivateDir(dir, {
          // What a racing attacker does right after herd's mkdir.
          afterMkdir: (made) => {
            if (made !== dir) return;
            rmdirSync(made);
            symlinkSync(elsewhere, made);
          },
        }),
      /refusing state dir .*state: it is a symbolic link/,
    );
    assert.deepEqual(readdirSync(elsewhere), [], 'nothing was written through the link');
  });

  it("clients refuse a socket or state file that is not the user's own", () => {
    const dir = join(tempDir('paths'), 's');
    ensurePrivateDir(dir);
    const file = join(dir, 'state.json');
    writeFileSync(file, '{}');
    chownSync(file, NOBODY, NOBODY);
    assert.throws(
      () => checkOwnFile(file, 'file'),
      /refusing state file .*: it is not owned by you/,
    );
    assert.throws(
      () => checkOwnFile(file, 'socket'),
      /refusing herd's control socket .*: it is not a socket/,
    );
    assert.equal(checkOwnFile(join(dir, 'missing'), 'file'), false);
  });

  it('the socket-path hint never suggests a fresh name in /tmp', () => {
    assert.throws(
      () => checkSocketPath('/x/'.padEnd(200, 'y') + '/herd.sock'),
      (err: Error) =>
        !/HERD_STATE_DIR=\/tmp/.test(err.message) && /XDG_RUNTIME_DIR/.test(err.message),
    );
  });

  it('says clearly when the state dir cannot be made', () => {
    const base = tempDir('paths');
    writeFileSync(join(base, 'file'), '');
    assert.throws(
      () => ensurePrivateDir(join(base, 'file')),
      /cannot prepare state dir .*file: it or a folder above it exists but is not a directory; set HERD_STATE_DIR/,
    );
    assert.throws(
      () => ensurePrivateDir(join(base, 'file', 'sub')),
      /cannot prepare state dir .*sub: it or a folder above it exists but is not a directory/,
    );
  });

  it('takes the project from -p or COMPOSE_PROJECT_NAME without reading a compose file', async () => {
    assert.equal(await resolveProjectName({ projectName: 'shop' }, {}), 'shop');
    assert.equal(await resolveProjectName({}, { COMPOSE_PROJECT_NAME: 'env-name' }), 'env-name');
    await assert.rejects(
      resolveProjectName({ projectName: 'Bad Name' }, {}),
      /invalid project name "Bad Name"/,
    );
  });
});
