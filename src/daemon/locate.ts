// For CLI verbs: which project the flags name, and a client for its daemon.
import type { Command } from 'commander';
import { loadProject, type LoadOptions } from '../compose/load.ts';
import { isValidProjectName, PROJECT_NAME_RULE } from '../compose/names.ts';
import { HerdError } from '../util/errors.ts';
import { DaemonClient } from './client.ts';
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
  const project = await loadProject(loadOptionsOf(flags));
  return project.name;
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
