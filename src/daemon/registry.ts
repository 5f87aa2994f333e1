// Where `herd ls` finds projects: each daemon, as it starts, records its state dir in a registry
// under the user's herd state folder ($XDG_STATE_HOME/herd/.registry, else
// ~/.local/state/herd/.registry), so a project with a HERD_STATE_DIR of its own is found too.
// One small file per state dir, removed when its daemon ends (or by `herd ls` when no daemon
// answers there any more, after a kill -9).
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { stateDirFor } from './paths.ts';
import { pidExists } from '../util/process-identity.ts';

export interface RegistryEntry {
  project: string;
  stateDir: string;
  configFiles: string[];
  /** The daemon that wrote it: an entry whose daemon is dead (kill -9) is dropped. */
  pid?: number;
}

/** `…/state/herd`: the folder of the default state dirs, which also holds the registry. A name
 * starting with a dot can never be a project's (project names start with a letter or digit). */
export function herdStateHome(env: Record<string, string | undefined> = process.env): string {
  return dirname(stateDirFor('x', { ...env, HERD_STATE_DIR: undefined }));
}

function registryDir(env: Record<string, string | undefined>): string {
  return join(herdStateHome(env), '.registry');
}

function entryFile(dir: string, stateDir: string): string {
  return join(dir, `${createHash('sha256').update(stateDir).digest('hex').slice(0, 20)}.json`);
}

/** Records a starting daemon. Best effort: a registry that cannot be written only hides the
 * project from `herd ls` run with another HERD_STATE_DIR. */
export function registerProject(
  entry: RegistryEntry,
  env: Record<string, string | undefined> = process.env,
): void {
  const dir = registryDir(env);
  // Twice: another daemon may remove the folder, found empty, between our mkdir and write.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const record = { ...entry, pid: entry.pid ?? process.pid };
      writeFileSync(entryFile(dir, entry.stateDir), JSON.stringify(record) + '\n', { mode: 0o600 });
      dropDead(dir);
      return;
    } catch {
      // read-only home, …: the daemon runs all the same, `herd ls` just does not see it elsewhere
    }
  }
}

/** Every registered project, and every default state dir under the herd state folder. */
export function registeredProjects(
  env: Record<string, string | undefined> = process.env,
): RegistryEntry[] {
  const dir = registryDir(env);
  const found: RegistryEntry[] = [];
  for (const name of list(dir)) {
    try {
      const e = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RegistryEntry;
      if (typeof e.stateDir === 'string' && typeof e.project === 'string') found.push(e);
    } catch {
      // half-written or foreign: skip
    }
  }
  return found;
}

/** Removes a state dir's entry (its daemon ended, or no daemon answers there any more), and the
 * registry folder once it is empty, so herd leaves nothing behind in the state folder. */
export function forgetStateDir(
  stateDir: string,
  env: Record<string, string | undefined> = process.env,
): void {
  const dir = registryDir(env);
  rmSync(entryFile(dir, stateDir), { force: true });
  dropDead(dir);
  try {
    rmdirSync(dir);
  } catch {
    // other projects' entries are still in it (or it is gone already)
  }
}

/** The default state dirs (`…/state/herd/<project>`) that exist. */
export function defaultStateDirs(env: Record<string, string | undefined> = process.env): string[] {
  const home = herdStateHome(env);
  return list(home)
    .filter((n) => !n.startsWith('.'))
    .map((n) => join(home, n));
}

/** Removes the entries of daemons that died without removing their own. */
function dropDead(dir: string): void {
  for (const name of list(dir)) {
    try {
      const e = JSON.parse(readFileSync(join(dir, name), 'utf8')) as RegistryEntry;
      if (typeof e.pid === 'number' && !pidExists(e.pid)) rmSync(join(dir, name), { force: true });
    } catch {
      // being written, or gone already
    }
  }
}

function list(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}
