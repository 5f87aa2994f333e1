// One daemon per project at a time: a Linux abstract unix socket, which the kernel releases when
// its process dies (nothing is ever stale, unlike a PID or lock file). Its name derives from a
// random key in the state dir, so another user can neither guess it nor hold it to block us.
import { randomBytes, createHash } from 'node:crypto';
import { closeSync, constants, openSync, readFileSync, writeSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { HerdError } from '../util/errors.ts';
import { checkOwnFile } from './dir-trust.ts';

export interface DaemonLock {
  release(): void;
}

export const KEY_FILE = 'daemon.key';

/** The key file's content: created 0600 (never through a planted link) when missing. */
function readKey(stateDir: string): Buffer {
  const file = path.join(stateDir, KEY_FILE);
  if (!checkOwnFile(file, 'file')) {
    try {
      const fd = openSync(
        file,
        constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW,
        0o600,
      );
      try {
        writeSync(fd, randomBytes(32).toString('hex') + '\n');
      } finally {
        closeSync(fd);
      }
    } catch (err) {
      // Another daemon starting at the same moment created it: read theirs.
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
    checkOwnFile(file, 'file');
  }
  const key = readFileSync(file, 'utf8').trim();
  if (!/^[0-9a-f]{64}$/.test(key))
    throw new HerdError(
      `the daemon lock key ${file} is damaged; remove it and run the command again`,
      'STATE',
    );
  return Buffer.from(key, 'hex');
}

/** Takes the project's daemon lock, or throws CONFLICT when another process holds it. */
export async function acquireDaemonLock(stateDir: string, project: string): Promise<DaemonLock> {
  if (process.platform !== 'linux') return { release: () => {} };
  const name = createHash('sha256').update(readKey(stateDir)).digest('hex').slice(0, 40);
  const server = net.createServer((sock) => sock.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EADDRINUSE') return reject(err);
      reject(
        new HerdError(
          `a herd daemon for project ${project} is already running or starting (another one holds its lock); ` +
            'use `herd ps` to see it or `herd down` to stop it',
          'CONFLICT',
        ),
      );
    });
    server.listen(`\0herd-daemon-${name}`, () => resolve());
  });
  // The lock alone never keeps the daemon running.
  server.unref();
  let held = true;
  return {
    release: () => {
      if (!held) return;
      held = false;
      server.close();
    },
  };
}
