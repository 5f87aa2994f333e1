// Locates the compose file(s) the way Compose does: -f files, else the standard names in the folder.
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { ComposeError } from './errors.ts';

export const DEFAULT_FILENAMES = [
  'compose.yaml',
  'compose.yml',
  'docker-compose.yaml',
  'docker-compose.yml',
];

/** Absolute compose file paths in merge order. */
export function findComposeFiles(files: string[] | undefined, cwd: string): string[] {
  if (files && files.length > 0) {
    const abs = files.map((f) => path.resolve(cwd, f));
    const missing = abs.filter((f) => !existsSync(f) || !statSync(f).isFile());
    if (missing.length > 0) {
      throw new ComposeError(
        missing.map((f) => ({ path: '', message: `compose file not found: ${f}` })),
      );
    }
    return abs;
  }
  // Like Compose: look in the working directory, then its parents; pick up the matching override file.
  for (let dir = cwd; ; dir = path.dirname(dir)) {
    for (const name of DEFAULT_FILENAMES) {
      const candidate = path.join(dir, name);
      if (!isFile(candidate)) continue;
      const ext = path.extname(name);
      const override = path.join(dir, `${path.basename(name, ext)}.override${ext}`);
      return isFile(override) ? [candidate, override] : [candidate];
    }
    if (path.dirname(dir) === dir) break;
  }
  throw new ComposeError([
    {
      path: '',
      message: `no compose file found in ${cwd} or its parents (looked for ${DEFAULT_FILENAMES.join(', ')}); pass one with -f`,
    },
  ]);
}

function isFile(p: string): boolean {
  return existsSync(p) && statSync(p).isFile();
}
