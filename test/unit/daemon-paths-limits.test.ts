// The state dir's edge cases: a socket path longer than the kernel takes, a folder that cannot be
// made (which once hung `herd up -d` forever).
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkSocketPath,
  daemonPaths,
  ensurePrivateDir,
  pathsFor,
  SOCKET_PATH_MAX,
} from '../../src/daemon/paths.ts';
import { tempDir } from '../helpers/tmp.ts';

const PATHS = fileURLToPath(new URL('../../src/daemon/paths.ts', import.meta.url));

/** A dir whose socket path is exactly `bytes` long. */
const dirForSocket = (bytes: number): string =>
  '/' + 'd'.repeat(bytes - '/'.length - '/herd.sock'.length);

describe('daemon paths limits', () => {
  it('takes a socket path up to the kernel limit and refuses a longer one, saying what to do', () => {
    if (process.platform === 'linux') assert.equal(SOCKET_PATH_MAX, 107);
    assert.equal(daemonPaths(dirForSocket(SOCKET_PATH_MAX)).socket.length, SOCKET_PATH_MAX);
    const long = dirForSocket(SOCKET_PATH_MAX + 1);
    assert.throws(
      () => daemonPaths(long),
      (err: Error) => {
        assert.equal(err.name, 'HerdError');
        assert.ok(err.message.includes(join(long, 'herd.sock')), err.message);
        assert.match(
          err.message,
          new RegExp(
            `is ${SOCKET_PATH_MAX + 1} bytes long, over the limit of ${SOCKET_PATH_MAX} bytes .*` +
              'set HERD_STATE_DIR to a shorter folder.*shorter project name with -p',
          ),
        );
        return true;
      },
    );
    // Computed paths check it too, whichever way the dir was found; bytes count, not characters.
    assert.throws(() => pathsFor('shop', { HERD_STATE_DIR: long }), /over the limit/);
    assert.throws(
      () => pathsFor('p'.repeat(60), { HOME: '/home/' + 'h'.repeat(30) }),
      /over the limit/,
    );
    assert.throws(() => checkSocketPath('/' + 'é'.repeat(60)), /is 121 bytes long/);
  });

  it('fails clearly, not forever, where the state dir cannot be made', () => {
    if (!existsSync('/proc/self')) return;
    // In a child: the old recursive mkdir looped on ENOENT without end, which no test timeout
    // can interrupt in this process.
    const script = `
      const { ensurePrivateDir } = await import(${JSON.stringify(PATHS)});
      for (const dir of ['/proc/x', '/proc/x/y/z']) {
        try { ensurePrivateDir(dir); console.log('made ' + dir); }
        catch (err) { console.log(err.name + ': ' + err.message); }
      }`;
    const r = spawnSync(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '-e', script],
      {
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    assert.equal(r.signal, null, 'ensurePrivateDir hung');
    const lines = r.stdout.trim().split('\n');
    assert.equal(lines.length, 2, r.stdout + r.stderr);
    for (const [i, dir] of ['/proc/x', '/proc/x/y/z'].entries())
      assert.equal(
        lines[i],
        `HerdError: cannot prepare state dir ${dir}: no such file or directory (ENOENT) ` +
          'at mkdir /proc/x; set HERD_STATE_DIR to a writable folder',
      );
  });

  it('still makes every missing folder above the state dir, 0700', () => {
    const base = tempDir('paths');
    const dir = join(base, 'a', 'b', 'c');
    ensurePrivateDir(dir);
    ensurePrivateDir(dir); // again: already there
    assert.deepEqual(readdirSync(join(base, 'a', 'b')), ['c']);
  });
});
