import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { resolveProjectName } from '../../src/daemon/locate.ts';
import { ensurePrivateDir, stateDirFor } from '../../src/daemon/paths.ts';
import { tempDir } from '../helpers/tmp.ts';

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

  it('creates the dir 0700 and tightens a looser existing one', () => {
    const base = tempDir('paths');
    const fresh = join(base, 'a', 'b');
    ensurePrivateDir(fresh);
    assert.equal(statSync(fresh).mode & 0o777, 0o700);
    const loose = join(base, 'loose');
    mkdirSync(loose);
    chmodSync(loose, 0o777);
    ensurePrivateDir(loose);
    assert.equal(statSync(loose).mode & 0o777, 0o700);
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
