// Whether herd may trust its state dir and what is in it, as ssh, tmux and Docker judge their own:
// the control socket and state.json in there decide which daemon the CLI talks to and which
// processes `down` kills, so the dir must be the user's alone. A dir someone else owns, or can
// write to, is refused with what to do; herd never takes it over (a chmod would keep their owner).
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { HerdError } from '../util/errors.ts';

/** The uid herd runs as; undefined where the platform has none (then nothing is checked). */
export function currentUid(): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined;
}

/** `nobody (uid 65534)`, from /etc/passwd when it names the uid. */
export function ownerName(uid: number): string {
  try {
    for (const line of readFileSync('/etc/passwd', 'utf8').split('\n')) {
      const [name, , id] = line.split(':');
      if (name && Number(id) === uid) return `${name} (uid ${uid})`;
    }
  } catch {
    // no passwd file: the number alone
  }
  return `uid ${uid}`;
}

const octal = (mode: number) => '0' + (mode & 0o7777).toString(8).padStart(3, '0');

function refuse(what: string, path: string, st: Stats, why: string, fix: string): HerdError {
  return new HerdError(
    `refusing ${what} ${path}: ${why} (owner ${ownerName(st.uid)}, mode ${octal(st.mode)}); ` +
      `another user could replace herd's socket or state there and take over this project. ${fix}`,
    'STATE',
  );
}

const FIX_DIR =
  'Remove it, or set HERD_STATE_DIR to a folder that you own and only you can write to ' +
  '(herd creates a missing one with mode 0700)';

/** Throws unless `st` (from lstat) is a real dir owned by `uid` that nobody else can write. */
function checkOwnDir(path: string, st: Stats, uid: number): void {
  if (st.isSymbolicLink())
    throw refuse(
      'state dir',
      path,
      st,
      'it is a symbolic link (herd never follows one there)',
      FIX_DIR,
    );
  if (!st.isDirectory())
    throw new HerdError(
      `cannot prepare state dir ${path}: it or a folder above it exists but is not a directory; ` +
        'set HERD_STATE_DIR to a writable folder',
      'STATE',
    );
  if (st.uid !== uid)
    throw refuse('state dir', path, st, 'it is not owned by you (unsafe ownership)', FIX_DIR);
  if ((st.mode & 0o022) !== 0)
    throw refuse(
      'state dir',
      path,
      st,
      'it is writable by other users (unsafe permissions)',
      FIX_DIR,
    );
}

/** A folder above the state dir: owned by root or the user, and if others may write to it, only
 * with the sticky bit (as /tmp), so nobody can rename the state dir away and plant another. */
function checkAncestor(path: string, uid: number): void {
  let st: Stats;
  try {
    st = statSync(path);
  } catch {
    return; // not there (yet): it will be created by herd and checked as its own
  }
  const sticky = (st.mode & 0o1000) !== 0;
  if (st.uid !== 0 && st.uid !== uid)
    throw refuse('state dir under', path, st, 'that folder is owned by another user', FIX_DIR);
  if ((st.mode & 0o022) !== 0 && !sticky)
    throw refuse(
      'state dir under',
      path,
      st,
      'that folder is writable by other users and not sticky',
      FIX_DIR,
    );
}

export interface PrivateDirOptions {
  /** Folders above `dir` that are herd's own (`…/state/herd`): checked like the dir itself. */
  herdParents?: string[];
  /** Tests: runs right after a mkdir, where a racing attacker would swap in a symlink. */
  afterMkdir?: (dir: string) => void;
}

/** Creates `dir` (and missing parents) 0700, or accepts an existing one, verifying with lstat
 * after every mkdir — a symlink planted between the mkdir and the check is refused, never
 * followed. An own dir that others may read (0755) is tightened to 0700. */
export function makePrivateDir(dir: string, opts: PrivateDirOptions = {}): void {
  const uid = currentUid();
  const target = resolve(dir);
  const own = new Set([target, ...(opts.herdParents ?? []).map((p) => resolve(p))]);
  const chain: string[] = [];
  for (let d = target; ; d = dirname(d)) {
    chain.unshift(d);
    if (dirname(d) === d) break;
  }
  for (const d of chain) {
    let created = false;
    try {
      mkdirSync(d, { mode: 0o700 });
      created = true;
      opts.afterMkdir?.(d);
    } catch (err) {
      // EEXIST, or EACCES/EROFS on a folder that is there already (`/home`, a read-only `/`).
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' && !exists(d)) throw err;
    }
    if (uid === undefined) continue;
    if (created || own.has(d)) checkOwnDir(d, lstatSync(d), uid);
    else checkAncestor(d, uid);
  }
  // Verified a real dir of ours above: tightening it cannot follow a planted link.
  if (uid !== undefined && (lstatSync(target).mode & 0o077) !== 0) chmodSync(target, 0o700);
}

function exists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
}

/** Throws unless an existing `dir` is a real dir the user owns that nobody else can write; a
 * missing one is fine (nothing of herd's is there). For clients, which never create it. */
export function checkStateDir(dir: string): void {
  const uid = currentUid();
  if (uid === undefined) return;
  let st: Stats;
  try {
    st = lstatSync(dir);
  } catch {
    return;
  }
  checkOwnDir(dir, st, uid);
}

/** Throws unless `file` (a socket or state.json in the state dir) is the user's own and of the
 * expected kind; returns false when it does not exist. */
export function checkOwnFile(file: string, kind: 'socket' | 'file'): boolean {
  let st: Stats;
  try {
    st = lstatSync(file);
  } catch {
    return false;
  }
  const uid = currentUid();
  const what = kind === 'socket' ? "herd's control socket" : 'state file';
  const fix = 'Remove it if it is not yours, then run the command again';
  if (kind === 'socket' ? !st.isSocket() : !st.isFile())
    throw refuse(
      what,
      file,
      st,
      `it is not a ${kind === 'socket' ? 'socket' : 'regular file'}`,
      fix,
    );
  if (uid !== undefined && st.uid !== uid)
    throw refuse(what, file, st, 'it is not owned by you (unsafe ownership)', fix);
  if (uid !== undefined && kind === 'file' && (st.mode & 0o022) !== 0)
    throw refuse(what, file, st, 'it is writable by other users (unsafe permissions)', fix);
  return true;
}
