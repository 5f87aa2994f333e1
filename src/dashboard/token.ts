// The dashboard's access token: a random secret in the state dir, readable by its owner only, kept
// across daemon restarts so an open tab and a printed URL stay valid until `herd down`.
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { closeSync, fstatSync, openSync, readFileSync, writeSync } from 'node:fs';
import { HerdError } from '../util/errors.ts';

/** Reads the token at `path`, creating it (0600, never following a planted file) when absent. */
export function loadOrCreateToken(path: string): string {
  try {
    const fd = openSync(path, 'wx', 0o600);
    try {
      const token = randomBytes(24).toString('base64url');
      writeSync(fd, token);
      return token;
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
  }
  return readOwnToken(path);
}

function readOwnToken(path: string): string {
  const fd = openSync(path, 'r');
  try {
    const st = fstatSync(fd);
    const uid = process.getuid?.();
    if (!st.isFile() || (uid !== undefined && st.uid !== uid) || (st.mode & 0o077) !== 0)
      throw new HerdError(
        `${path} is not a private file of this user (mode ${(st.mode & 0o777).toString(8)}, ` +
          `owner ${st.uid}); remove it and run the command again`,
        'STATE',
      );
    const token = readFileSync(fd, 'utf8').trim();
    if (token.length < 16)
      throw new HerdError(`${path} holds no usable token; remove it and run again`, 'STATE');
    return token;
  } finally {
    closeSync(fd);
  }
}

/** Compares in constant time, so a token cannot be guessed a byte at a time. */
export function sameToken(given: string | undefined, token: string): boolean {
  if (given === undefined) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}
