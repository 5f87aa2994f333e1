// Which project name a set of compose files gave, remembered so that a verb (`ps`, `logs`, …)
// learns it without loading the YAML parser and parsing the files again: about a fifth of a
// verb's own time. An entry holds only for the same files with the same contents in the same
// project folder, and only for a name that follows from them alone (Merged.nameLiteral): no -p,
// no COMPOSE_PROJECT_NAME, no interpolation. Anything else, or a cache file that is not the
// user's own, is a miss.
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { isValidProjectName } from '../compose/names.ts';
import { checkOwnFile, checkStateDir, makePrivateDir } from './dir-trust.ts';

/** Entries kept: the projects a user works in; the oldest go first. */
const MAX_ENTRIES = 64;

interface Entry {
  key: string;
  name: string;
}

/** `$XDG_CACHE_HOME/herd`, else `~/.cache/herd` (a relative XDG_CACHE_HOME is ignored, as the XDG
 * spec says). */
export function nameCacheDir(env: Record<string, string | undefined> = process.env): string {
  const xdg = env.XDG_CACHE_HOME;
  const base = xdg && isAbsolute(xdg) ? xdg : join(env.HOME || homedir(), '.cache');
  return join(base, 'herd');
}

/** The compose files this reads for a key; bigger ones are left to the loader (which refuses
 * files over 8 MiB anyway). */
const MAX_KEYED_BYTES = 1 << 20;

/** What identifies the inputs of a name: the project folder, the files' paths and their
 * contents (modification times are too coarse: two writes within a clock tick share one).
 * Undefined when a file cannot be read or is large (the load that follows says why). */
export function nameKey(projectDir: string, files: readonly string[]): string | undefined {
  const hash = createHash('sha256').update(JSON.stringify([projectDir, files]));
  try {
    for (const f of files) {
      if (statSync(f).size > MAX_KEYED_BYTES) return undefined;
      hash.update('\0').update(readFileSync(f));
    }
  } catch {
    return undefined;
  }
  return hash.digest('hex');
}

function readEntries(dir: string): Entry[] {
  const file = join(dir, 'project-names.json');
  try {
    checkStateDir(dir);
    if (!checkOwnFile(file, 'file')) return [];
    const parsed: unknown = JSON.parse(readFileSync(file, 'utf8'));
    if (!Array.isArray(parsed)) return [];
    return parsed.filter(
      (e): e is Entry =>
        typeof e === 'object' &&
        e !== null &&
        typeof (e as Entry).key === 'string' &&
        typeof (e as Entry).name === 'string' &&
        isValidProjectName((e as Entry).name),
    );
  } catch {
    return []; // not ours, unreadable or malformed: as if empty
  }
}

/** The name remembered for `key`, if any. */
export function cachedName(key: string, dir = nameCacheDir()): string | undefined {
  return readEntries(dir).find((e) => e.key === key)?.name;
}

/** Remembers `name` for `key`; a cache that cannot be written (full disk, not ours) is skipped:
 * the next verb loads the files again. */
export function rememberName(key: string, name: string, dir = nameCacheDir()): void {
  const entries = [{ key, name }, ...readEntries(dir).filter((e) => e.key !== key)];
  const tmp = join(dir, `.project-names.${randomBytes(6).toString('hex')}`);
  try {
    makePrivateDir(dir);
    writeFileSync(tmp, JSON.stringify(entries.slice(0, MAX_ENTRIES)), { mode: 0o600 });
    renameSync(tmp, join(dir, 'project-names.json'));
  } catch {
    rmSync(tmp, { force: true });
  }
}
