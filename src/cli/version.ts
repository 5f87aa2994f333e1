// herd's version: package.json's, read at run time (the same path from src/cli and dist/cli).
import { readFileSync } from 'node:fs';

/** The global flags that print the version, as `docker compose` has them. */
export const VERSION_FLAGS = ['-v', '--version'];

export function herdVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `herd --version` / `herd version`: "herd version 0.1.0", as Compose says "Docker Compose
 * version v2.x". */
export function printVersionLine(): void {
  process.stdout.write(`herd version ${herdVersion()}\n`);
}
