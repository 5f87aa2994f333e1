// Where a load starts: the compose files (`-f`, else COMPOSE_FILE, else found in the folder or
// its parents), the project folder and the interpolation environment (shell over `.env`). Apart
// from load.ts so that a verb can learn these without loading the YAML parser (name-cache.ts).
import path from 'node:path';
import { Diagnostics } from './errors.ts';
import { findComposeFiles } from './find.ts';
import { ProjectEnv } from './project-env.ts';

export interface LoadOptions {
  files?: string[];
  projectName?: string;
  projectDirectory?: string;
  envFiles?: string[];
  profiles?: string[];
  enableServices?: string[];
  cwd?: string;
  env?: Record<string, string | undefined>;
  /** Told the project's name once it is known; `literal`: it follows from the files' text and
   * the project folder alone (Merged.nameLiteral). */
  onName?: (name: string, literal: boolean) => void;
}

export interface ProjectInputs {
  cwd: string;
  files: string[];
  projectDir: string;
  diag: Diagnostics;
  env: Record<string, string>;
}

/** Throws a ComposeError when no compose file is found; other problems (a bad `.env`) are in
 * `diag`. */
export function projectInputs(opts: LoadOptions): ProjectInputs {
  const cwd = path.resolve(opts.cwd ?? process.cwd());
  const diag = new Diagnostics();
  const given = opts.files && opts.files.length > 0 ? opts.files : undefined;
  const projectDirectory = opts.projectDirectory && path.resolve(cwd, opts.projectDirectory);
  // As in Compose, the .env of the folder known before the files are may name them (COMPOSE_FILE,
  // the shell's winning); the project folder's .env is read too once the files are found.
  const envs = new ProjectEnv(opts.env ?? process.env, opts.envFiles, cwd, diag);
  const firstDir = projectDirectory || (given ? path.dirname(path.resolve(cwd, given[0]!)) : cwd);
  const early = envs.read(firstDir);
  const files = findComposeFiles(given ?? envs.composeFiles(early), cwd);
  const projectDir = projectDirectory || path.dirname(files[0] as string);
  return { cwd, files, projectDir, diag, env: envs.read(projectDir) };
}
