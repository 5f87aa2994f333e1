// The interpolation environment: the shell environment over `.env` in the project folder,
// or over the --env-file files (which replace .env).
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { DotenvError, parseDotenv } from './dotenv.ts';
import type { Diagnostics } from './errors.ts';

export function buildProjectEnv(
  shell: Record<string, string | undefined>,
  projectDir: string,
  envFiles: string[] | undefined,
  cwd: string,
  diag: Diagnostics,
): Record<string, string> {
  const shellDefined: Record<string, string> = {};
  for (const [k, v] of Object.entries(shell)) if (v !== undefined) shellDefined[k] = v;
  const files = envFiles && envFiles.length > 0 ? envFiles.map((f) => path.resolve(cwd, f)) : [];
  const explicit = files.length > 0;
  if (!explicit) {
    const dotenv = path.join(projectDir, '.env');
    if (existsSync(dotenv)) files.push(dotenv);
  }
  const fromFiles: Record<string, string> = {};
  for (const file of files) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      diag.error(
        undefined,
        '',
        `cannot read env file ${file}: ${(err as Error).message}${explicit ? ' (given with --env-file)' : ''}`,
      );
      continue;
    }
    try {
      const lookup = (n: string) => fromFiles[n] ?? shellDefined[n];
      Object.assign(fromFiles, parseDotenv(text, lookup));
    } catch (err) {
      if (!(err instanceof DotenvError)) throw err;
      diag.error({ file, line: err.line, col: 1 }, '', err.message);
    }
  }
  return { ...fromFiles, ...shellDefined };
}
