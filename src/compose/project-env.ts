// The interpolation environment: the shell environment over `.env`, or over the --env-file files
// (which replace .env). As in Compose, `.env` is read twice: first from the folder known before
// the compose files are (--project-directory, the first -f file's folder, else the working
// directory), where it may name the files (COMPOSE_FILE); then from the project folder, once the
// files are found there, its values under the first ones.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { DotenvError, parseDotenv } from './dotenv.ts';
import type { Diagnostics } from './errors.ts';
import { readTextBounded } from './read-bounded.ts';

export class ProjectEnv {
  private readonly shell: Record<string, string> = {};
  private readonly explicit: string[];
  private readonly readDirs = new Set<string>();
  private fromFiles: Record<string, string> = {};

  constructor(
    shell: Record<string, string | undefined>,
    envFiles: string[] | undefined,
    private readonly cwd: string,
    private readonly diag: Diagnostics,
  ) {
    for (const [k, v] of Object.entries(shell)) if (v !== undefined) this.shell[k] = v;
    this.explicit = (envFiles ?? []).map((f) => path.resolve(cwd, f));
  }

  /** The environment once `.env` of `dir` is read (the --env-file files instead, when given). */
  read(dir: string): Record<string, string> {
    if (this.explicit.length > 0) {
      if (this.readDirs.size === 0) for (const f of this.explicit) this.readFile(f, true);
    } else if (!this.readDirs.has(dir)) {
      const dotenv = path.join(dir, '.env');
      if (existsSync(dotenv) && statSync(dotenv).isFile()) this.readFile(dotenv, false);
    }
    this.readDirs.add(dir);
    return { ...this.fromFiles, ...this.shell };
  }

  private readFile(file: string, explicit: boolean): void {
    let text: string;
    try {
      text = readTextBounded(file);
    } catch (err) {
      this.diag.error(
        undefined,
        '',
        `cannot read env file ${file}: ${(err as Error).message}${explicit ? ' (given with --env-file)' : ''}`,
      );
      return;
    }
    try {
      const known = this.fromFiles;
      const parsed = parseDotenv(text, (n) => known[n] ?? this.shell[n]);
      // A later .env (the project folder's) fills in; what an earlier one set stays.
      this.fromFiles = explicit ? { ...known, ...parsed } : { ...parsed, ...known };
    } catch (err) {
      if (!(err instanceof DotenvError)) throw err;
      this.diag.error({ file, line: err.line, col: 1 }, '', err.message);
    }
  }

  /** COMPOSE_FILE as a list of paths (split on COMPOSE_PATH_SEPARATOR, else the OS's list
   * separator), or undefined when it is not set. */
  composeFiles(env: Record<string, string>): string[] | undefined {
    const list = env.COMPOSE_FILE;
    if (list === undefined || list === '') return undefined;
    const sep = env.COMPOSE_PATH_SEPARATOR || path.delimiter;
    return list
      .split(sep)
      .filter((f) => f !== '')
      .map((f) => path.resolve(this.cwd, f));
  }
}
