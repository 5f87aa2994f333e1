// For CLI verbs: which project the flags name, and a client for its daemon.
import type { Command } from 'commander';
import { projectInputs, type LoadOptions, type ProjectInputs } from '../compose/inputs.ts';
import { isValidProjectName, PROJECT_NAME_RULE } from '../compose/names.ts';
import { HerdError } from '../util/errors.ts';
import { DaemonClient } from './client.ts';
import { cachedName, nameCacheDir, nameKey, rememberName } from './name-cache.ts';
import { pathsFor, type DaemonPaths } from './paths.ts';
import { reviveWaitMs } from './revive.ts';

/** The global flags that pick the project and its compose files, as `docker compose` spells them
 * (commander's names). Defined here, not in src/cli, because the daemon side resolves them. */
export interface ProjectFlags {
  file?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFile?: string[];
  profile?: string[];
}

/** The loader's options for what the flags name. */
export function loadOptionsOf(flags: ProjectFlags): LoadOptions {
  return {
    files: flags.file,
    projectName: flags.projectName,
    projectDirectory: flags.projectDirectory,
    envFiles: flags.envFile,
    profiles: flags.profile,
  };
}

/** The project name the global flags select: -p, else COMPOSE_PROJECT_NAME, else what the compose
 * loader decides (`name:`, the folder) — so a verb given -p never needs the compose file. */
export async function resolveProjectName(
  flags: ProjectFlags,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const given = flags.projectName ?? (env.COMPOSE_PROJECT_NAME || undefined);
  if (given !== undefined) {
    if (!isValidProjectName(given))
      throw new HerdError(
        `invalid project name ${JSON.stringify(given)}: ${PROJECT_NAME_RULE}`,
        'INVALID_ARGUMENT',
      );
    return given;
  }
  const opts = { ...loadOptionsOf(flags), env };
  const quick = quickProjectName(opts);
  if (quick.name !== undefined) return quick.name;
  let literal = false;
  // Loaded only now: the loader and its YAML parser are most of what a verb would load for this.
  const { loadProject } = await import('../compose/load.ts');
  const project = await loadProject({ ...opts, onName: (_n, isLiteral) => (literal = isLiteral) });
  // Keyed by the files as read before the load: one edited meanwhile does not match.
  if (literal && quick.key !== undefined) rememberName(quick.key, project.name, quick.dir);
  return project.name;
}

/** The name without parsing the files where it can be known: COMPOSE_PROJECT_NAME in the
 * project's `.env`, or a name remembered for these very files (name-cache.ts); else the key
 * to remember it by once the files are loaded. Any doubt (no file found, a bad `.env`) leaves it
 * to the loader, which says what is wrong. */
function quickProjectName(opts: LoadOptions): { name?: string; key?: string; dir?: string } {
  let inputs: ProjectInputs;
  try {
    inputs = projectInputs(opts);
  } catch {
    return {};
  }
  if (inputs.diag.errors.length > 0) return {};
  const fromEnv = inputs.env.COMPOSE_PROJECT_NAME;
  if (fromEnv) return isValidProjectName(fromEnv) ? { name: fromEnv } : {};
  const key = nameKey(inputs.projectDir, inputs.files);
  const dir = nameCacheDir(opts.env);
  return { name: key === undefined ? undefined : cachedName(key, dir), key, dir };
}

export interface Located {
  project: string;
  paths: DaemonPaths;
  client: DaemonClient;
}

/** The project the flags select and a client for its daemon. Every verb comes through here, so
 * here its client learns to wait for a daemon that is being revived (revive.ts). */
export async function locateDaemon(cmd: Command): Promise<Located> {
  const reviveWait = reviveWaitMs();
  const project = await resolveProjectName(cmd.optsWithGlobals<ProjectFlags>());
  const paths = pathsFor(project);
  return {
    project,
    paths,
    client: new DaemonClient(paths.socket, project, { reviveWaitMs: reviveWait }),
  };
}
