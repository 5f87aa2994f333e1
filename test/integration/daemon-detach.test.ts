import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'node:test';
import { DaemonClient, probeSocket } from '../../src/daemon/client.ts';
import { startDetached } from '../../src/daemon/detach.ts';
import { readStat } from '../../src/util/process-identity.ts';
import { daemonPaths } from '../../src/daemon/paths.ts';
import { HerdError } from '../../src/util/errors.ts';
import { tempDir } from '../helpers/tmp.ts';

const child = fileURLToPath(new URL('../helpers/daemon-child.ts', import.meta.url));
const entry = [process.execPath, '--import', 'tsx', child];

describe('detached daemon start', () => {
  it('returns once the detached daemon answers; it runs in its own session', async () => {
    const paths = daemonPaths(join(tempDir('detach'), 'state'));
    const d = await startDetached({ args: [paths.dir, 'ok'], entry, paths, project: 'shop' });
    try {
      assert.equal((await probeSocket(paths.socket))?.pid, d.pid);
      assert.equal(
        readStat(d.pid)?.pgid,
        d.pid,
        'leads its own process group, away from the terminal',
      );
      assert.match(readFileSync(paths.daemonLog, 'utf8'), /daemon ready/);
      await new DaemonClient(paths.socket, 'shop').post('/v1/down', {});
      for (let i = 0; i < 100 && readStat(d.pid); i++) await new Promise((r) => setTimeout(r, 20));
      assert.equal(readStat(d.pid), undefined, 'down ended the daemon');
      assert.equal(
        await d.exited(2000),
        'exit code 0',
        'the start knows its daemon ended, and how',
      );
    } finally {
      try {
        process.kill(d.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('a daemon that finds another one starting hands over to it: the winner is returned', async () => {
    const paths = daemonPaths(join(tempDir('detach'), 'state'));
    const first = await startDetached({ args: [paths.dir, 'ok'], entry, paths, project: 'shop' });
    try {
      assert.equal(first.won, true);
      // The second exits with the CONFLICT refusal ("… is already running …") instead of
      // serving a second copy; the start returns the first one, which holds the stack.
      const second = await startDetached({
        args: [paths.dir, 'ok'],
        entry,
        paths,
        project: 'shop',
      });
      assert.deepEqual({ pid: second.pid, won: second.won }, { pid: first.pid, won: false });
      assert.match(readFileSync(paths.daemonLog, 'utf8'), /herd: .* is already running/);
      assert.equal((await probeSocket(paths.socket))?.pid, first.pid);
      await new DaemonClient(paths.socket, 'shop').post('/v1/down', {});
    } finally {
      try {
        process.kill(first.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
  });

  it('fails with the end of the daemon log when the daemon dies during start-up', async () => {
    const paths = daemonPaths(join(tempDir('detach'), 'state'));
    await assert.rejects(
      startDetached({ args: [paths.dir, 'fail'], entry, paths, project: 'shop' }),
      (e: unknown) => {
        assert.ok(e instanceof HerdError);
        assert.match(e.message, /daemon for project shop stopped during start-up \(exit code 3\)/);
        assert.match(e.message, /port 8080 for service web is already in use/);
        return true;
      },
    );
  });
});
