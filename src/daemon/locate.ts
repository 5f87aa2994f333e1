// For CLI verbs: which project the flags name, and a client for its daemon.
import type { Command } from 'commander';
import type { GlobalOptions } from '../cli/main.ts';
import { loadProject } from '../compose/load.ts';
import { isValidProjectName, PROJECT_NAME_RULE } from '../compose/names.ts';
import { HerdError } from '../util/errors.ts';
import { DaemonClient } from './client.ts';
import { pathsFor, type DaemonPaths } from './paths.ts';

/** The project name the global flags select: -p, else COMPOSE_PROJECT_NAME, else what the compose
 * loader decides (`name:`, the folder) — so a verb given -p never needs the compose file. */
export async function resolveProjectName(
  opts: GlobalOptions,
  env: Record<string, string | undefined> = process.env,
): Promise<string> {
  const given = opts.projectName ?? (env.COMPOSE_PROJECT_NAME || undefined);
  if (given !== undefined) {
    if (!isValidProjectName(given))
      throw new HerdError(`invalid project name ${JSON.stringify(given)}: ${PROJECT_NAME_RULE}`);
    return given;
  }
  const project = await loadProject({
    files: opts.file,
    projectDirectory: opts.projectDirectory,
    envFiles: opts.envFile,
    profiles: opts.profile,
  });
  return project.name;
}

export interface Located {
  project: string;
  paths: DaemonPaths;
  client: DaemonClient;
}

export async function locateDaemon(cmd: Command): Promise<Located> {
  const project = await resolveProjectName(cmd.optsWithGlobals<GlobalOptions>());
  const paths = pathsFor(project);
  return { project, paths, client: new DaemonClient(paths.socket, project) };
}
